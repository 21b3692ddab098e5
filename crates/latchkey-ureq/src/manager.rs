//! [`TokenManager`]: a valid access token for however many threads ask, with exactly one
//! renewal in flight.

use std::fmt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use latchkey::bearer::{self, Origins};
use latchkey::{
    AccessToken, Error, Lifecycle, MemoryStore, NextStep, Request, Response, TokenSet, TokenStore,
    TransportError, TransportErrorKind,
};

use crate::Transport;

type OnRefresh = Box<dyn Fn(&TokenSet) + Send + Sync>;

/// Hands out a valid access token to any number of threads, renewing it when needed with
/// exactly one request in flight; saves every new token set before handing it out; sends
/// bearer-authenticated requests.
///
/// Cheap to clone (clones share one state); `Send + Sync`. The renewal policy (refresh skew,
/// refresh token or client credentials, backoff) is the core's [`Lifecycle`]; time is the
/// [`Transport`]'s clock.
///
/// ```text
/// access_token() ──► token good for longer than the skew? ──yes──► the token (no I/O)
///                         │ no
///                         ▼
///       a renewal under way? ──yes──► wait for it: its token, or its error
///                         │ no
///                         ▼
///   this thread renews: backoff ─► send ─► store.save ─► on_refresh ─► publish ─► wake all
/// ```
///
/// # Errors and retries
///
/// A failed renewal is reported to every thread that waited for it; the next call tries
/// again, after the lifecycle's backoff (doubling with each failure in a row). A refresh token
/// the server refuses (`invalid_grant`) becomes [`Error::Reauthorize`], for every waiter and
/// every later call, until [`set_tokens`](Self::set_tokens) hands in tokens from a new
/// authorization. A thread that panics while renewing (in a store or an `on_refresh`
/// callback) does not wedge the others: a waiting thread takes over (with whatever the store
/// saved before the panic), and gives up with an error only if that renewal is abandoned too.
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
    finished: Condvar,
}

#[derive(Default)]
struct State {
    tokens: Option<TokenSet>,
    /// A resource server rejected the current access token: renew even if it looks valid.
    rejected: bool,
    /// The current token set is not in the store yet (the store failed): save it before
    /// handing it out.
    unsaved: bool,
    /// A renewal is under way.
    renewing: bool,
    /// Renewals started so far; the one under way has this number.
    started: u64,
    /// The number of the last renewal that finished, and its error if it failed.
    finished: u64,
    last_error: Option<Error>,
    /// The last renewal that finished was abandoned (its thread panicked).
    last_abandoned: bool,
    /// Failed renewals in a row, and when the next one may start.
    failures: u32,
    retry_at: Option<Instant>,
    /// Set when only a new authorization can help (`invalid_grant`).
    reauthorize: Option<Error>,
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
                finished: Condvar::new(),
            }),
        }
    }

    /// Returns an access token that does not expire within the lifecycle's skew, renewing
    /// first when needed. However many threads call at once, one renewal request is sent;
    /// the others wait for it and share its token or its error.
    ///
    /// # Errors
    ///
    /// [`Error::Reauthorize`] when only a new authorization can help (no tokens, no refresh
    /// token, or `invalid_grant`); [`Error::Store`] when the new token set could not be
    /// saved; else whatever the renewal met (the server's error, a transport error).
    pub fn access_token(&self) -> Result<AccessToken, Error> {
        self.obtain(false)
    }

    /// Renews now, even if the current token looks valid, and returns the new token. If a
    /// renewal is already under way, waits for it and returns its token instead of sending
    /// another.
    ///
    /// # Errors
    ///
    /// As [`access_token`](Self::access_token).
    pub fn force_refresh(&self) -> Result<AccessToken, Error> {
        self.obtain(true)
    }

    /// Marks `rejected` as refused by a resource server (a 401 with `invalid_token`): the
    /// next [`access_token`](Self::access_token) renews even though it has not expired. A
    /// token that was already replaced is ignored, so many threads reporting the same 401
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
    pub fn set_tokens(&self, tokens: TokenSet) -> Result<(), Error> {
        let mut state = self.inner.lock();
        while state.renewing {
            state = self.inner.wait(state);
        }
        state.reauthorize = None;
        state.failures = 0;
        state.retry_at = None;
        self.inner.lead(state, Renewal::Replace(tokens)).map(|_| ())
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
    /// it): it is an [`Error::Transport`] of kind [`Redirect`](TransportErrorKind::Redirect).
    ///
    /// # Errors
    ///
    /// [`ConfigError::ForeignOrigin`](latchkey::ConfigError::ForeignOrigin) for another
    /// origin; whatever [`access_token`](Self::access_token) returns; [`Error::Transport`]
    /// when no usable answer arrived.
    pub fn execute(&self, request: &Request) -> Result<Response, Error> {
        self.inner.origins.check(&request.url)?;
        let token = self.access_token()?;
        let response = self.send_with(request, &token)?;
        if !bearer::token_rejected(&response) {
            return Ok(response);
        }
        self.invalidate(&token);
        let token = self.access_token()?;
        self.send_with(request, &token)
    }

    fn send_with(&self, request: &Request, token: &AccessToken) -> Result<Response, Error> {
        let mut request = request.clone();
        bearer::authorize(&mut request, token);
        self.inner.transport.execute(&request)
    }

    fn obtain(&self, force: bool) -> Result<AccessToken, Error> {
        let inner = &*self.inner;
        let mut force = force;
        let mut abandoned = 0;
        let mut state = inner.lock();
        loop {
            if let Some(error) = &state.reauthorize {
                return Err(error.clone());
            }
            let now = inner.transport.now();
            if !state.unsaved {
                let force = force || state.rejected;
                if let Some(token) = inner.lifecycle.usable(state.tokens.as_ref(), now, force) {
                    return Ok(token.clone());
                }
            }
            if state.renewing {
                // Wait for the renewal under way and share its outcome.
                let ticket = state.started;
                while state.finished < ticket {
                    state = inner.wait(state);
                }
                if state.finished == ticket {
                    if state.last_abandoned {
                        // Take over, but do not chase a renewal that keeps dying.
                        abandoned += 1;
                        if abandoned > 1 {
                            return Err(abandoned_error());
                        }
                        continue;
                    }
                    if let Some(error) = &state.last_error {
                        return Err(error.clone());
                    }
                }
                // That renewal's token is as fresh as a forced one.
                force = false;
                continue;
            }
            let renewal = match &state.tokens {
                Some(tokens) if state.unsaved => Renewal::Save(tokens.clone()),
                tokens => {
                    let force = force || state.rejected;
                    match inner.lifecycle.next_step(tokens.as_ref(), now, force)? {
                        NextStep::UseToken(token) => return Ok(token),
                        NextStep::Refresh(step) => Renewal::Refresh(step),
                        NextStep::ClientCredentials(step) => Renewal::ClientCredentials(step),
                        _ => return Err(inner.lifecycle.reauthorize_error(tokens.as_ref())),
                    }
                }
            };
            return inner.lead(state, renewal);
        }
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait<'a>(&self, guard: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.finished
            .wait(guard)
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Carries out `renewal` as the one renewal in flight, and publishes its outcome to
    /// every waiter.
    fn lead(
        &self,
        mut state: MutexGuard<'_, State>,
        renewal: Renewal,
    ) -> Result<AccessToken, Error> {
        state.renewing = true;
        state.started += 1;
        let backoff = state
            .retry_at
            .map(|at| at.saturating_duration_since(Instant::now()));
        let flight = Flight {
            inner: self,
            ticket: state.started,
            landed: false,
        };
        drop(state);
        if let Some(backoff) = backoff.filter(|b| !b.is_zero()) {
            std::thread::sleep(backoff);
        }
        let renewed = self.renew(renewal);
        flight.land(renewed)
    }

    /// Sends, saves and announces; no lock held.
    fn renew(&self, renewal: Renewal) -> Renewed {
        let tokens = match renewal {
            Renewal::Refresh(step) => self.transport.send(step),
            Renewal::ClientCredentials(step) => self.transport.send(step),
            Renewal::Save(tokens) | Renewal::Replace(tokens) => Ok(tokens),
        };
        match tokens {
            Ok(tokens) => self.persist(tokens),
            Err(error) => Renewed::Failed(self.lifecycle.renewal_failed(error)),
        }
    }

    /// Saves before anything else sees the tokens, then tells `on_refresh`.
    fn persist(&self, tokens: TokenSet) -> Renewed {
        if let Err(error) = self.store.save(&tokens) {
            return Renewed::Unsaved(tokens, error.into());
        }
        if let Some(on_refresh) = &self.on_refresh {
            on_refresh(&tokens);
        }
        Renewed::Saved(tokens)
    }
}

/// The renewal in flight. Landing it publishes the outcome; dropping it unlanded (a panic in
/// a store or callback) still wakes every waiter, with an error, so nobody waits forever.
struct Flight<'a> {
    inner: &'a Inner,
    ticket: u64,
    landed: bool,
}

impl Flight<'_> {
    fn land(mut self, renewed: Renewed) -> Result<AccessToken, Error> {
        self.landed = true;
        let inner = self.inner;
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
        state.last_error = result.as_ref().err().cloned();
        state.last_abandoned = false;
        state.renewing = false;
        state.finished = self.ticket;
        drop(state);
        inner.finished.notify_all();
        result
    }
}

impl Drop for Flight<'_> {
    fn drop(&mut self) {
        if self.landed {
            return;
        }
        // Whatever was saved before the panic is the newest token set there is.
        let saved = self.inner.store.load().ok().flatten();
        let mut state = self.inner.lock();
        if let Some(saved) = saved {
            state.tokens = Some(saved);
            state.unsaved = false;
        }
        state.last_error = None;
        state.last_abandoned = true;
        state.renewing = false;
        state.finished = self.ticket;
        drop(state);
        self.inner.finished.notify_all();
    }
}

/// What a caller gets when renewal after renewal is abandoned.
fn abandoned_error() -> Error {
    TransportError::new(
        TransportErrorKind::Other,
        "the token renewal was abandoned twice (its thread panicked)",
    )
    .into()
}

impl TokenManagerBuilder {
    /// Loads and saves the token set here (default: a new [`MemoryStore`]). Pass an
    /// `Arc<S>` to keep a handle on the store.
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
    /// any thread gets its access token: for applications that persist tokens elsewhere.
    /// It runs on the renewing thread while the others wait, so keep it short, and do not
    /// ask this manager for a token from it (that would wait for itself).
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
    /// loads the store.
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
                store.save(&tokens).map_err(Error::from)?;
                Some(tokens)
            }
            None => store.load().map_err(Error::from)?,
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
            .field("renewing", &state.renewing)
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
