//! [`TokenManager`]: a valid access token for however many tasks ask, with exactly one
//! renewal in flight.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use latchkey::bearer::{self, Origins};
use latchkey::{
    AccessToken, Error, Lifecycle, MemoryStore, NextStep, Request, Response, StoreError, TokenSet,
    TokenStore, TransportError, TransportErrorKind,
};
use tokio::sync::watch;

use crate::Transport;

type OnRefresh = Box<dyn Fn(&TokenSet) + Send + Sync>;

/// What every task waiting for one renewal gets.
type Outcome = Result<AccessToken, Error>;

/// Hands out a valid access token to any number of tasks, renewing it when needed with
/// exactly one request in flight; saves every new token set before handing it out; sends
/// bearer-authenticated requests.
///
/// Cheap to clone (clones share one state); `Send + Sync`; every future it returns is
/// `Send`. The renewal policy (refresh skew, refresh token or client credentials, backoff)
/// is the core's [`Lifecycle`]; time is the [`Transport`]'s clock. Needs a tokio runtime.
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
    lifecycle: Lifecycle,
    store: Arc<dyn TokenStore>,
    on_refresh: Option<OnRefresh>,
    origins: Origins,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    tokens: Option<TokenSet>,
    /// A resource server rejected the current access token: renew even if it looks valid.
    rejected: bool,
    /// The current token set is not in the store yet (the store failed): save it before
    /// handing it out.
    unsaved: bool,
    /// The renewal under way, if any.
    flight: Option<Flight>,
    /// Renewals started so far.
    started: u64,
    /// Failed renewals in a row, and when the next one may start.
    failures: u32,
    retry_at: Option<Instant>,
    /// Set when only a new authorization can help (`invalid_grant`).
    reauthorize: Option<Error>,
}

/// The renewal under way: its number and where its outcome will appear.
struct Flight {
    id: u64,
    outcome: watch::Receiver<Option<Outcome>>,
}

/// What one renewal does.
enum Renewal {
    Refresh(latchkey::Refresh),
    ClientCredentials(latchkey::ClientCredentials),
    /// Save the current (unsaved) token set again.
    Save(TokenSet),
    /// Save token sets handed in by the application.
    Replace(TokenSet),
}

/// How a renewal ended.
enum Renewed {
    /// New tokens, in the store.
    Saved(TokenSet),
    /// New tokens the store refused: kept in memory, saved again on the next call.
    Unsaved(TokenSet, Error),
    /// No new tokens.
    Failed(Error),
}

impl TokenManager {
    /// A manager with an empty [`MemoryStore`]: for client credentials, whose first call
    /// gets the first token. Equivalent to `TokenManager::builder(transport,
    /// lifecycle).build()`.
    #[must_use]
    pub fn new(transport: Transport, lifecycle: Lifecycle) -> Self {
        Self::from_parts(
            transport,
            lifecycle,
            Arc::new(MemoryStore::new()),
            None,
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
        lifecycle: Lifecycle,
        store: Arc<dyn TokenStore>,
        tokens: Option<TokenSet>,
        on_refresh: Option<OnRefresh>,
        origins: Origins,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                transport,
                lifecycle,
                store,
                on_refresh,
                origins,
                state: Mutex::new(State {
                    tokens,
                    ..State::default()
                }),
            }),
        }
    }

    /// Returns an access token that does not expire within the lifecycle's skew, renewing
    /// first when needed. However many tasks call at once, one renewal request is sent; the
    /// others await it and share its token or its error.
    ///
    /// # Errors
    ///
    /// [`Error::Reauthorize`] when only a new authorization can help (no tokens, no refresh
    /// token, or `invalid_grant`); [`Error::Store`] when the new token set could not be
    /// saved; else whatever the renewal met (the server's error, a transport error).
    pub async fn access_token(&self) -> Result<AccessToken, Error> {
        self.run(Want::Token { force: false }).await
    }

    /// Renews now, even if the current token looks valid, and returns the new token. If a
    /// renewal is already under way, awaits it and returns its token instead of sending
    /// another.
    ///
    /// # Errors
    ///
    /// As [`access_token`](Self::access_token).
    pub async fn force_refresh(&self) -> Result<AccessToken, Error> {
        self.run(Want::Token { force: true }).await
    }

    /// Marks `rejected` as refused by a resource server (a 401 with `invalid_token`): the
    /// next [`access_token`](Self::access_token) renews even though it has not expired. A
    /// token that was already replaced is ignored, so many tasks reporting the same 401
    /// cause one renewal.
    pub fn invalidate(&self, rejected: &AccessToken) {
        let mut state = self.inner.lock();
        if state
            .tokens
            .as_ref()
            .is_some_and(|t| t.access_token().expose_secret() == rejected.expose_secret())
        {
            state.rejected = true;
        }
    }

    /// The current token set, if any (for display or for an application's own storage).
    #[must_use]
    pub fn tokens(&self) -> Option<TokenSet> {
        self.inner.lock().tokens.clone()
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
        self.run(Want::Replace(tokens)).await.map(|_| ())
    }

    /// Sends `request` to a resource server with `Authorization: Bearer <access token>`,
    /// once, through [`Transport::execute`] (no redirects followed, size cap, timeouts). On a
    /// `401` whose `WWW-Authenticate` says `Bearer error="invalid_token"`, renews the token
    /// once and sends the request once more; any other answer, 4xx and 5xx included, is
    /// returned as is.
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
        let token = self.access_token().await?;
        let response = self.send_with(request, &token).await?;
        if !bearer::token_rejected(&response) {
            return Ok(response);
        }
        self.invalidate(&token);
        let token = self.access_token().await?;
        self.send_with(request, &token).await
    }

    async fn send_with(&self, request: &Request, token: &AccessToken) -> Result<Response, Error> {
        let mut request = request.clone();
        bearer::authorize(&mut request, token);
        self.inner.transport.execute(&request).await
    }

    async fn run(&self, want: Want) -> Result<AccessToken, Error> {
        let mut abandoned = 0;
        loop {
            let (mine, mut outcome) = match self.inner.decide(&want)? {
                Next::Use(token) => return Ok(token),
                Next::Join(outcome) => (false, outcome),
                Next::Started(outcome) => (true, outcome),
            };
            // `None` until the renewal lands; a closed channel without an outcome means its
            // task died, and the next round takes over.
            let landed = outcome
                .wait_for(Option::is_some)
                .await
                .ok()
                .and_then(|outcome| outcome.clone());
            match (landed, &want) {
                (Some(outcome), Want::Token { .. }) => return outcome,
                // Someone else's renewal finished: now replace.
                (Some(_), Want::Replace(_)) if !mine => {}
                (Some(outcome), Want::Replace(_)) => return outcome,
                // Take over, but do not chase a renewal that keeps dying.
                (None, _) => {
                    abandoned += 1;
                    if abandoned > 1 {
                        return Err(TransportError::new(
                            TransportErrorKind::Other,
                            "the token renewal was abandoned twice (its task died)",
                        )
                        .into());
                    }
                }
            }
        }
    }
}

/// What a caller wants.
enum Want {
    Token { force: bool },
    Replace(TokenSet),
}

/// What a caller does next.
enum Next {
    Use(AccessToken),
    Join(watch::Receiver<Option<Outcome>>),
    Started(watch::Receiver<Option<Outcome>>),
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Under the lock, without awaiting: use the token, join the renewal under way, or start
    /// one.
    fn decide(self: &Arc<Self>, want: &Want) -> Result<Next, Error> {
        let mut state = self.lock();
        if let Some(flight) = &state.flight {
            if let Want::Token { force } = want {
                if let Some(token) = self.usable(&state, *force) {
                    return Ok(Next::Use(token));
                }
            }
            return Ok(Next::Join(flight.outcome.clone()));
        }
        let renewal = match want {
            Want::Replace(tokens) => {
                state.reauthorize = None;
                state.failures = 0;
                state.retry_at = None;
                Renewal::Replace(tokens.clone())
            }
            Want::Token { force } => {
                if let Some(token) = self.usable(&state, *force) {
                    return Ok(Next::Use(token));
                }
                if let Some(error) = &state.reauthorize {
                    return Err(error.clone());
                }
                match &state.tokens {
                    Some(tokens) if state.unsaved => Renewal::Save(tokens.clone()),
                    tokens => {
                        let now = self.transport.now();
                        let force = *force || state.rejected;
                        match self.lifecycle.next_step(tokens.as_ref(), now, force)? {
                            NextStep::UseToken(token) => return Ok(Next::Use(token)),
                            NextStep::Refresh(step) => Renewal::Refresh(step),
                            NextStep::ClientCredentials(step) => Renewal::ClientCredentials(step),
                            _ => return Err(self.lifecycle.reauthorize_error(tokens.as_ref())),
                        }
                    }
                }
            }
        };
        state.started += 1;
        let id = state.started;
        let (sender, outcome) = watch::channel(None);
        state.flight = Some(Flight {
            id,
            outcome: outcome.clone(),
        });
        let backoff = state.retry_at.map_or(Duration::ZERO, |at| {
            at.saturating_duration_since(Instant::now())
        });
        drop(state);
        let landing = Landing {
            inner: Arc::clone(self),
            id,
            sender: Some(sender),
        };
        tokio::spawn(landing.fly(renewal, backoff));
        Ok(Next::Started(outcome))
    }

    /// The current access token, if it can be used as is.
    fn usable(&self, state: &State, force: bool) -> Option<AccessToken> {
        if state.reauthorize.is_some() || state.unsaved {
            return None;
        }
        let now = self.transport.now();
        self.lifecycle
            .usable(state.tokens.as_ref(), now, force || state.rejected)
            .cloned()
    }

    /// Saves before anything else sees the tokens (on the blocking pool: a file store
    /// syncs to disk), then tells `on_refresh`.
    async fn persist(&self, tokens: TokenSet) -> Renewed {
        let store = Arc::clone(&self.store);
        let saving = tokens.clone();
        let saved = tokio::task::spawn_blocking(move || store.save(&saving))
            .await
            .unwrap_or_else(|_| Err(StoreError::new("the save was cancelled or panicked")));
        if let Err(error) = saved {
            return Renewed::Unsaved(tokens, error.into());
        }
        if let Some(on_refresh) = &self.on_refresh {
            on_refresh(&tokens);
        }
        Renewed::Saved(tokens)
    }
}

/// The renewal task's hold on its flight. Landing publishes the outcome; dropped unlanded
/// (the task was dropped mid-flight or panicked), it clears the flight first and then
/// closes the channel, so every waiter wakes and the next caller takes over.
struct Landing {
    inner: Arc<Inner>,
    id: u64,
    sender: Option<watch::Sender<Option<Outcome>>>,
}

impl Landing {
    async fn fly(mut self, renewal: Renewal, backoff: Duration) {
        if !backoff.is_zero() {
            tokio::time::sleep(backoff).await;
        }
        let inner = Arc::clone(&self.inner);
        let fetched = match renewal {
            Renewal::Refresh(step) => inner.transport.send(step).await,
            Renewal::ClientCredentials(step) => inner.transport.send(step).await,
            Renewal::Save(tokens) | Renewal::Replace(tokens) => Ok(tokens),
        };
        let renewed = match fetched {
            Ok(tokens) => inner.persist(tokens).await,
            Err(error) => Renewed::Failed(inner.lifecycle.renewal_failed(error)),
        };
        let outcome = self.land(renewed);
        if let Some(sender) = self.sender.take() {
            sender.send_replace(Some(outcome));
        }
    }

    fn land(&self, renewed: Renewed) -> Outcome {
        let inner = &self.inner;
        let mut state = inner.lock();
        let result = match renewed {
            Renewed::Saved(tokens) => {
                let token = tokens.access_token().clone();
                state.tokens = Some(tokens);
                state.rejected = false;
                state.unsaved = false;
                state.failures = 0;
                state.retry_at = None;
                Ok(token)
            }
            Renewed::Unsaved(tokens, error) => {
                state.tokens = Some(tokens);
                state.rejected = false;
                state.unsaved = true;
                Err(error)
            }
            Renewed::Failed(error) => {
                if error.is_reauthorization_required() {
                    state.reauthorize = Some(error.clone());
                }
                Err(error)
            }
        };
        if result.is_err() {
            state.failures = state.failures.saturating_add(1);
            state.retry_at = Some(Instant::now() + inner.lifecycle.retry_delay(state.failures));
        }
        if state.flight.as_ref().is_some_and(|f| f.id == self.id) {
            state.flight = None;
        }
        result
    }
}

impl Drop for Landing {
    fn drop(&mut self) {
        if self.sender.is_none() {
            return;
        }
        // Whatever was saved before the task died is the newest token set there is.
        let saved = self.inner.store.load().ok().flatten();
        let mut state = self.inner.lock();
        if let Some(saved) = saved {
            state.tokens = Some(saved);
            state.unsaved = false;
        }
        if state.flight.as_ref().is_some_and(|f| f.id == self.id) {
            state.flight = None;
        }
        // The sender drops after this: waiters wake to a closed channel and take over.
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
        let mut origins = Origins::new();
        for origin in &self.origins {
            origins = origins.allow(origin)?;
        }
        let store = self.store.unwrap_or_else(|| Arc::new(MemoryStore::new()));
        let tokens = match self.tokens {
            Some(tokens) => {
                store.save(&tokens)?;
                Some(tokens)
            }
            None => store.load()?,
        };
        Ok(TokenManager::from_parts(
            self.transport,
            self.lifecycle,
            store,
            tokens,
            self.on_refresh,
            origins,
        ))
    }
}

impl fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.lock();
        f.debug_struct("TokenManager")
            .field("has_tokens", &state.tokens.is_some())
            .field("renewing", &state.flight.is_some())
            .field("failures", &state.failures)
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
