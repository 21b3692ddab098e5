//! [`TokenManager`]: a valid access token for however many tasks ask, with exactly one
//! renewal in flight.

use std::sync::Arc;

use latchkey::manage::bearer;
use latchkey::manage::{
    Landing, Poll, Renewal, Ticket, TokenKeeper, TokenKeeperBuilder, Waited, Work,
};
use latchkey::{
    AccessToken, Error, Lifecycle, Request, Response, StoreError, TokenSet, TokenStore,
};
use tokio::sync::watch;

use crate::Transport;

/// Hands out a valid access token to any number of tasks, renewing it when needed with
/// exactly one request in flight; saves every new token set before handing it out; sends
/// bearer-authenticated requests.
///
/// Cheap to clone (clones share one state); `Send + Sync`; every future it returns is
/// `Send`. Every decision is the core's [`RenewalMachine`](latchkey::manage::RenewalMachine) (see [`latchkey::manage`]: single
/// flight, backoff, save before use, `invalid_grant` → [`Error::Reauthorize`], takeover of a
/// renewal whose task died); this type is a `Mutex` and a `watch` around it. Time is the
/// [`Transport`]'s clock. Needs a tokio runtime.
///
/// ```text
/// access_token() ──► machine.poll ──► Use(token)      (no I/O, no await)
///                              ├──► Wait(ticket)    await its landing: its outcome
///                              └──► Start(renewal)  tokio::spawn: backoff, send, save,
///                                                   on_refresh, then wake everyone
/// ```
///
/// # Cancellation
///
/// The renewal runs in a task of its own, so a caller that is cancelled, even the one that
/// started it, cancels nothing but its own wait: the only copy of a rotated refresh token
/// is never cut off halfway. If the task itself dies, every waiter wakes and one takes over
/// from what the store saved.
#[derive(Clone, Debug)]
pub struct TokenManager {
    inner: Arc<Inner>,
}

/// Configures a [`TokenManager`]. Created by [`TokenManager::builder`].
#[must_use]
#[derive(Debug)]
pub struct TokenManagerBuilder {
    transport: Transport,
    lifecycle: Lifecycle,
    keeper: TokenKeeperBuilder,
}

#[derive(Debug)]
struct Inner {
    transport: Transport,
    keeper: TokenKeeper,
    /// Bumped whenever a renewal ends, however it ends.
    landed: watch::Sender<u64>,
}

impl TokenManager {
    /// A manager with an empty [`MemoryStore`](latchkey::MemoryStore): for client
    /// credentials, whose first call gets the first token.
    #[must_use]
    pub fn new(transport: Transport, lifecycle: Lifecycle) -> Self {
        Self::from_parts(transport, TokenKeeper::new(lifecycle))
    }

    /// Starts configuring a manager that renews with `lifecycle` over `transport`.
    pub fn builder(transport: Transport, lifecycle: Lifecycle) -> TokenManagerBuilder {
        TokenManagerBuilder {
            transport,
            lifecycle,
            keeper: TokenKeeper::builder(),
        }
    }

    fn from_parts(transport: Transport, keeper: TokenKeeper) -> Self {
        let landed = watch::Sender::new(0);
        let inner = Inner {
            transport,
            keeper,
            landed,
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    /// An access token that does not expire within the lifecycle's skew, renewed first when
    /// needed; one renewal request however many tasks call at once.
    ///
    /// # Errors
    ///
    /// [`Error::Reauthorize`] when only a new authorization can help; [`Error::Store`] when
    /// the new token set could not be saved; else what the renewal met.
    pub async fn access_token(&self) -> Result<AccessToken, Error> {
        self.obtain(false).await
    }

    /// Renews now even if the token looks valid (or joins a renewal under way).
    ///
    /// # Errors
    ///
    /// As [`access_token`](Self::access_token).
    pub async fn force_refresh(&self) -> Result<AccessToken, Error> {
        self.obtain(true).await
    }

    /// Marks `rejected` as refused by a resource server: the next call renews. Reports
    /// about a token already replaced are ignored.
    pub fn invalidate(&self, rejected: &AccessToken) {
        self.inner.keeper.invalidate(rejected);
    }

    /// The current token set, if any.
    #[must_use]
    pub fn tokens(&self) -> Option<TokenSet> {
        self.inner.keeper.tokens()
    }

    /// Replaces the tokens (after a new authorization): waits for a renewal under way, then
    /// saves `tokens` and makes them current.
    ///
    /// # Errors
    ///
    /// [`Error::Store`] when the store refused them (they are current anyway, and saved
    /// again on the next call).
    pub async fn set_tokens(&self, tokens: TokenSet) -> Result<(), Error> {
        loop {
            let now = self.inner.transport.now();
            let replaced = self.inner.keeper.lock().replace(tokens.clone(), now);
            let (ticket, mine) = match replaced {
                Ok(renewal) => (self.inner.start(renewal), true),
                Err(ticket) => (ticket, false),
            };
            match self.inner.wait_for(ticket).await {
                Some(outcome) if mine => return outcome.map(drop),
                _ => {}
            }
        }
    }

    /// Sends `request` with `Authorization: Bearer`, once, through [`Transport::execute`];
    /// after a `401` with `error="invalid_token"`, renews once and sends once more. Only to
    /// the origins given to [`TokenManagerBuilder::resource_origin`]; never through a
    /// redirect. The future is `Send`.
    ///
    /// # Errors
    ///
    /// [`ConfigError::ForeignOrigin`](latchkey::ConfigError::ForeignOrigin) for another
    /// origin; what [`access_token`](Self::access_token) returns; [`Error::Transport`].
    pub async fn execute(&self, request: &Request) -> Result<Response, Error> {
        self.inner.keeper.origins().check(&request.url)?;
        let mut retried = false;
        loop {
            let token = self.obtain(false).await?;
            let authorized = bearer::authorized(request, &token);
            let response = self.inner.transport.execute(&authorized).await?;
            if retried || !bearer::token_rejected(&response) {
                return Ok(response);
            }
            self.invalidate(&token);
            retried = true;
        }
    }

    async fn obtain(&self, force: bool) -> Result<AccessToken, Error> {
        loop {
            let now = self.inner.transport.now();
            let polled = self.inner.keeper.lock().poll(now, force)?;
            let ticket = match polled {
                Poll::Use(token) => return Ok(token),
                Poll::Start(renewal) => self.inner.start(renewal),
                Poll::Wait(ticket) => ticket,
            };
            if let Some(outcome) = self.inner.wait_for(ticket).await {
                return outcome;
            }
        }
    }
}

impl Inner {
    /// Runs `renewal` in a task of its own, so that no caller going away cuts it off.
    fn start(self: &Arc<Self>, renewal: Renewal) -> Ticket {
        let ticket = renewal.ticket;
        let flight = Flight {
            inner: Arc::clone(self),
            ticket,
            landed: false,
        };
        tokio::spawn(flight.fly(renewal));
        ticket
    }

    /// Waits until renewal `ticket` ends: its outcome, or `None` to poll again.
    async fn wait_for(&self, ticket: Ticket) -> Option<Result<AccessToken, Error>> {
        // Subscribed before looking, so a landing in between is not missed.
        let mut landed = self.landed.subscribe();
        loop {
            match self.keeper.lock().waited(ticket) {
                Waited::Pending => {}
                Waited::Done(outcome) => return Some(outcome),
                _ => return None,
            }
            if landed.changed().await.is_err() {
                return None;
            }
        }
    }

    /// Saves on the blocking pool (a file store syncs to disk).
    async fn save(&self, tokens: &TokenSet) -> Result<(), StoreError> {
        let store = Arc::clone(self.keeper.store());
        let saving = tokens.clone();
        tokio::task::spawn_blocking(move || store.save(&saving))
            .await
            .unwrap_or_else(|_| Err(StoreError::new("the save was cancelled or panicked")))
    }
}

/// The renewal task's hold on its renewal; dropped unlanded (the task was dropped, its
/// runtime shut down, a store or callback panicked), it reports the renewal abandoned and
/// wakes every waiter to take over.
struct Flight {
    inner: Arc<Inner>,
    ticket: Ticket,
    landed: bool,
}

impl Flight {
    async fn fly(mut self, renewal: Renewal) {
        let inner = Arc::clone(&self.inner);
        if !renewal.delay.is_zero() {
            tokio::time::sleep(renewal.delay).await;
        }
        let fetched = match renewal.work {
            Work::Fetch(step) => inner.transport.send(step).await,
            Work::Save(tokens) => Ok(tokens),
        };
        let now = inner.transport.now();
        let landing = inner.keeper.lock().fetched(self.ticket, fetched, now);
        if let Landing::Save(tokens) = landing {
            let saved = inner.save(&tokens).await;
            let now = inner.transport.now();
            let _ = inner.keeper.saved(self.ticket, &tokens, saved, now);
        }
        self.landed = true;
        inner.landed.send_modify(|n| *n = n.wrapping_add(1));
    }
}

impl Drop for Flight {
    fn drop(&mut self) {
        if !self.landed {
            self.inner.keeper.abandoned(self.ticket);
            self.inner.landed.send_modify(|n| *n = n.wrapping_add(1));
        }
    }
}

impl TokenManagerBuilder {
    /// Loads and saves the token set here (default: a new
    /// [`MemoryStore`](latchkey::MemoryStore)). `save` runs on tokio's blocking pool.
    pub fn store(mut self, store: impl TokenStore + 'static) -> Self {
        self.keeper = self.keeper.store(store);
        self
    }

    /// Starts with these tokens instead of what the store holds; saved by
    /// [`build`](Self::build).
    pub fn tokens(mut self, tokens: TokenSet) -> Self {
        self.keeper = self.keeper.tokens(tokens);
        self
    }

    /// Calls `on_refresh` with every new token set once saved, before any task gets its
    /// access token. It runs in the renewal task: keep it short and non-blocking.
    pub fn on_refresh(mut self, on_refresh: impl Fn(&TokenSet) + Send + Sync + 'static) -> Self {
        self.keeper = self.keeper.on_refresh(on_refresh);
        self
    }

    /// Allows [`TokenManager::execute`] to send the token to the origin of `url`;
    /// repeatable. Without any, `execute` sends nothing.
    pub fn resource_origin(mut self, url: impl Into<String>) -> Self {
        self.keeper = self.keeper.resource_origin(url);
        self
    }

    /// Builds the manager: saves the given tokens, or else loads the store. Blocks on the
    /// store (call it before serving, or from `spawn_blocking` for a slow store).
    ///
    /// # Errors
    ///
    /// As [`TokenKeeperBuilder::build`].
    pub fn build(self) -> Result<TokenManager, Error> {
        let keeper = self.keeper.build(self.lifecycle)?;
        Ok(TokenManager::from_parts(self.transport, keeper))
    }
}
