//! [`TokenManager`]: a valid access token for however many tasks ask, with exactly one
//! renewal in flight.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use latchkey::manage::bearer::{self, Origins};
use latchkey::manage::{
    Landing, Poll, Renewal, RenewalMachine, Ticket, Waited, Work, initial_tokens,
};
use latchkey::{
    AccessToken, Error, Lifecycle, MemoryStore, Request, Response, StoreError, TokenSet, TokenStore,
};
use tokio::sync::watch;

use crate::Transport;

type OnRefresh = Box<dyn Fn(&TokenSet) + Send + Sync>;

/// Hands out a valid access token to any number of tasks, renewing it when needed with
/// exactly one request in flight; saves every new token set before handing it out; sends
/// bearer-authenticated requests.
///
/// Cheap to clone (clones share one state); `Send + Sync`; every future it returns is
/// `Send`. Every decision is the core's [`RenewalMachine`] (policy from the [`Lifecycle`]:
/// refresh skew, refresh token or client credentials, backoff); this type is a `Mutex` and a
/// wake-up around it. Time is the [`Transport`]'s clock. Needs a tokio runtime.
///
/// ```text
/// access_token() ──► token good for longer than the skew? ──yes──► the token (no I/O, no await)
///                         │ no
///                         ▼
///       a renewal under way? ──yes──► await it: its token, or its error
///                         │ no
///                         ▼
///   tokio::spawn(renewal): backoff ─► send ─► store.save ─► on_refresh ─► publish to all
/// ```
///
/// # Cancellation
///
/// The renewal runs in a task of its own, so a caller that is cancelled (dropped, timed
/// out, aborted), even the one that started the renewal, cancels nothing but its own wait:
/// the request, and with refresh token rotation the only copy of the new refresh token, is
/// never cut off halfway by a caller going away. If the renewal task itself dies (its
/// runtime shuts down, or a store or `on_refresh` callback panics), every waiter is woken
/// and takes over, starting from whatever the store saved; a call gives up with an error
/// only if the renewal it took over dies too.
///
/// # Errors and retries
///
/// A failed renewal is reported to every task that waited for it; the next call tries
/// again, after the lifecycle's backoff (doubling with each failure in a row). A refresh token
/// the server refuses (`invalid_grant`) becomes [`Error::Reauthorize`], for every waiter and
/// every later call, until [`set_tokens`](Self::set_tokens) hands in tokens from a new
/// authorization.
#[derive(Clone)]
pub struct TokenManager {
    inner: Arc<Inner>,
}

/// Configures a [`TokenManager`]. Created by [`TokenManager::builder`].
#[must_use]
pub struct TokenManagerBuilder {
    transport: Transport,
    lifecycle: Lifecycle,
    store: Option<Arc<dyn TokenStore>>,
    tokens: Option<TokenSet>,
    on_refresh: Option<OnRefresh>,
    origins: Vec<String>,
}

struct Inner {
    transport: Transport,
    store: Arc<dyn TokenStore>,
    on_refresh: Option<OnRefresh>,
    origins: Origins,
    machine: Mutex<RenewalMachine>,
    /// Bumped whenever a renewal ends, however it ends.
    landed: watch::Sender<u64>,
}

impl TokenManager {
    /// A manager with an empty [`MemoryStore`]: for client credentials, whose first call
    /// gets the first token. Equivalent to `TokenManager::builder(transport,
    /// lifecycle).build()`.
    #[must_use]
    pub fn new(transport: Transport, lifecycle: Lifecycle) -> Self {
        Self::from_parts(
            transport,
            RenewalMachine::new(lifecycle, None),
            Arc::new(MemoryStore::new()),
            None,
            Origins::new(),
        )
    }

    /// Starts configuring a manager that renews with `lifecycle` over `transport`.
    pub fn builder(transport: Transport, lifecycle: Lifecycle) -> TokenManagerBuilder {
        TokenManagerBuilder {
            transport,
            lifecycle,
            store: None,
            tokens: None,
            on_refresh: None,
            origins: Vec::new(),
        }
    }

    fn from_parts(
        transport: Transport,
        machine: RenewalMachine,
        store: Arc<dyn TokenStore>,
        on_refresh: Option<OnRefresh>,
        origins: Origins,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                transport,
                store,
                on_refresh,
                origins,
                machine: Mutex::new(machine),
                landed: watch::Sender::new(0),
            }),
        }
    }

    /// Returns an access token that does not expire within the lifecycle's skew, renewing
    /// first when needed. However many tasks call at once, one renewal request is sent; the
    /// others wait for it and share its token or its error. The fresh-token path takes a
    /// lock and never awaits.
    ///
    /// # Errors
    ///
    /// [`Error::Reauthorize`] when only a new authorization can help (no tokens, no refresh
    /// token, or `invalid_grant`); [`Error::Store`] when the new token set could not be
    /// saved; else whatever the renewal met (the server's error, a transport error).
    pub async fn access_token(&self) -> Result<AccessToken, Error> {
        self.obtain(false).await
    }

    /// Renews now, even if the current token looks valid, and returns the new token. If a
    /// renewal is already under way, waits for it and returns its token instead of starting
    /// another.
    ///
    /// # Errors
    ///
    /// As [`access_token`](Self::access_token).
    pub async fn force_refresh(&self) -> Result<AccessToken, Error> {
        self.obtain(true).await
    }

    /// Marks `rejected` as refused by a resource server (a 401 with `invalid_token`): the
    /// next [`access_token`](Self::access_token) renews even though it has not expired. A
    /// token that was already replaced is ignored, so many tasks reporting the same 401
    /// cause one renewal.
    pub fn invalidate(&self, rejected: &AccessToken) {
        self.inner.lock().invalidate(rejected);
    }

    /// The current token set, if any (for display or for an application's own storage).
    #[must_use]
    pub fn tokens(&self) -> Option<TokenSet> {
        self.inner.lock().tokens().cloned()
    }

    /// Replaces the tokens (after a new authorization, typically following
    /// [`Error::Reauthorize`]): waits for a renewal under way, saves `tokens` to the store
    /// and makes them current.
    ///
    /// # Errors
    ///
    /// [`Error::Store`] when the store refused them; they are current anyway and saved
    /// again on the next call.
    pub async fn set_tokens(&self, tokens: TokenSet) -> Result<(), Error> {
        loop {
            let replaced = self
                .inner
                .lock()
                .replace(tokens.clone(), self.inner.transport.now());
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

    /// Sends `request` to a resource server with `Authorization: Bearer <access token>`,
    /// once, through [`Transport::execute`] (no redirects followed, size cap, timeouts). On a
    /// `401` whose `WWW-Authenticate` says `Bearer error="invalid_token"`, renews the token
    /// once and sends the request once more; any other answer, 4xx and 5xx included, is
    /// returned as is. The future is `Send`.
    ///
    /// The token is only ever sent to the origins given to
    /// [`TokenManagerBuilder::resource_origin`]; a request for any other origin is refused
    /// before anything is sent. A redirect is never followed (the token would travel with
    /// it): it is an [`Error::Transport`] of kind
    /// [`Redirect`](latchkey::TransportErrorKind::Redirect).
    ///
    /// # Errors
    ///
    /// [`ConfigError::ForeignOrigin`](latchkey::ConfigError::ForeignOrigin) for another
    /// origin; whatever [`access_token`](Self::access_token) returns; [`Error::Transport`]
    /// when no usable answer arrived.
    pub async fn execute(&self, request: &Request) -> Result<Response, Error> {
        self.inner.origins.check(&request.url)?;
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
            let polled = self.inner.lock().poll(self.inner.transport.now(), force)?;
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
    fn lock(&self) -> MutexGuard<'_, RenewalMachine> {
        self.machine.lock().unwrap_or_else(PoisonError::into_inner)
    }

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
            match self.lock().waited(ticket) {
                Waited::Pending => {}
                Waited::Done(outcome) => return Some(outcome),
                _ => return None,
            }
            if landed.changed().await.is_err() {
                return None;
            }
        }
    }

    /// Saves on the blocking pool (a file store syncs to disk), then tells `on_refresh`.
    async fn save(&self, tokens: TokenSet) -> Result<(), StoreError> {
        let store = Arc::clone(&self.store);
        let saving = tokens.clone();
        let saved = tokio::task::spawn_blocking(move || store.save(&saving))
            .await
            .unwrap_or_else(|_| Err(StoreError::new("the save was cancelled or panicked")));
        if let (Ok(()), Some(on_refresh)) = (&saved, &self.on_refresh) {
            on_refresh(&tokens);
        }
        saved
    }
}

/// The renewal task's hold on its renewal. Dropped before it landed (the task was dropped
/// mid-flight, its runtime shut down, or a store or callback panicked), it tells the
/// machine with whatever the store saved, and wakes every waiter to take over.
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
        let landing = inner
            .lock()
            .fetched(self.ticket, fetched, inner.transport.now());
        if let Landing::Save(tokens) = landing {
            let saved = inner.save(tokens).await;
            let _ = inner
                .lock()
                .saved(self.ticket, saved, inner.transport.now());
        }
        self.landed = true;
        inner.landed.send_modify(|n| *n = n.wrapping_add(1));
    }
}

impl Drop for Flight {
    fn drop(&mut self) {
        if self.landed {
            return;
        }
        let stored = self.inner.store.load().ok().flatten();
        self.inner.lock().abandoned(self.ticket, stored);
        self.inner.landed.send_modify(|n| *n = n.wrapping_add(1));
    }
}

impl TokenManagerBuilder {
    /// Loads and saves the token set here (default: a new [`MemoryStore`]). Pass an
    /// `Arc<S>` to keep a handle on the store. `save` runs on tokio's blocking pool.
    pub fn store(mut self, store: impl TokenStore + 'static) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// Starts with these tokens (from an authorization flow) instead of what the store
    /// holds; they are saved to the store by [`build`](Self::build).
    pub fn tokens(mut self, tokens: TokenSet) -> Self {
        self.tokens = Some(tokens);
        self
    }

    /// Calls `on_refresh` with every new token set once the store has saved it and before
    /// any task gets its access token: for applications that persist tokens elsewhere. It
    /// runs in the renewal task while the others wait, so keep it short and non-blocking.
    pub fn on_refresh(mut self, on_refresh: impl Fn(&TokenSet) + Send + Sync + 'static) -> Self {
        self.on_refresh = Some(Box::new(on_refresh));
        self
    }

    /// Allows [`TokenManager::execute`] to send the access token to the origin (scheme,
    /// host, port) of `url`; repeatable. Without any, `execute` sends nothing.
    pub fn resource_origin(mut self, url: impl Into<String>) -> Self {
        self.origins.push(url.into());
        self
    }

    /// Builds the manager: saves the tokens given to [`tokens`](Self::tokens), or else
    /// loads the store. Blocks on the store (call it before serving, or from
    /// `spawn_blocking` for a slow store).
    ///
    /// # Errors
    ///
    /// [`Error::Store`] when the store cannot be read or the given tokens cannot be saved;
    /// [`ConfigError::InvalidUrl`](latchkey::ConfigError::InvalidUrl) for a resource origin
    /// that is not an absolute `http(s)` URL.
    pub fn build(self) -> Result<TokenManager, Error> {
        let origins = Origins::from_urls(&self.origins)?;
        let store = self.store.unwrap_or_else(|| Arc::new(MemoryStore::new()));
        let tokens = initial_tokens(store.as_ref(), self.tokens)?;
        Ok(TokenManager::from_parts(
            self.transport,
            RenewalMachine::new(self.lifecycle, tokens),
            store,
            self.on_refresh,
            origins,
        ))
    }
}

impl fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let machine = self.inner.lock();
        f.debug_struct("TokenManager")
            .field("has_tokens", &machine.tokens().is_some())
            .field("renewing", &machine.is_renewing())
            .field("failures", &machine.failures())
            .field("origins", &self.inner.origins)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for TokenManagerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenManagerBuilder")
            .field("lifecycle", &self.lifecycle)
            .field("has_tokens", &self.tokens.is_some())
            .field("origins", &self.origins)
            .finish_non_exhaustive()
    }
}
