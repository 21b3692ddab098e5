//! [`TokenManager`]: a valid access token for however many threads ask, with exactly one
//! renewal in flight.

use std::fmt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use latchkey::manage::bearer::{self, Origins};
use latchkey::manage::{
    Landing, Poll, Renewal, RenewalMachine, Ticket, Waited, Work, initial_tokens,
};
use latchkey::{
    AccessToken, Error, Lifecycle, MemoryStore, Request, Response, TokenSet, TokenStore,
};

use crate::Transport;

type OnRefresh = Box<dyn Fn(&TokenSet) + Send + Sync>;

/// Hands out a valid access token to any number of threads, renewing it when needed with
/// exactly one request in flight; saves every new token set before handing it out; sends
/// bearer-authenticated requests.
///
/// Cheap to clone (clones share one state); `Send + Sync`. Every decision is the core's
/// [`RenewalMachine`] (policy from the [`Lifecycle`]: refresh skew, refresh token or client
/// credentials, backoff); this type is a `Mutex` and a `Condvar` around it. Time is the
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
    store: Arc<dyn TokenStore>,
    on_refresh: Option<OnRefresh>,
    origins: Origins,
    machine: Mutex<RenewalMachine>,
    landed: Condvar,
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
                landed: Condvar::new(),
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
    pub fn set_tokens(&self, tokens: TokenSet) -> Result<(), Error> {
        let inner = &*self.inner;
        let mut machine = inner.lock();
        loop {
            match machine.replace(tokens.clone(), inner.transport.now()) {
                Ok(renewal) => {
                    drop(machine);
                    return inner.renew(renewal).map(drop);
                }
                Err(ticket) => machine = inner.wait_for(machine, ticket).0,
            }
        }
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
    pub fn execute(&self, request: &Request) -> Result<Response, Error> {
        self.inner.origins.check(&request.url)?;
        let mut retried = false;
        loop {
            let token = self.obtain(false)?;
            let response = self
                .inner
                .transport
                .execute(&bearer::authorized(request, &token))?;
            if retried || !bearer::token_rejected(&response) {
                return Ok(response);
            }
            self.invalidate(&token);
            retried = true;
        }
    }

    fn obtain(&self, force: bool) -> Result<AccessToken, Error> {
        let inner = &*self.inner;
        let mut machine = inner.lock();
        loop {
            match machine.poll(inner.transport.now(), force)? {
                Poll::Use(token) => return Ok(token),
                Poll::Start(renewal) => {
                    drop(machine);
                    return inner.renew(renewal);
                }
                Poll::Wait(ticket) => match inner.wait_for(machine, ticket) {
                    (_, Some(outcome)) => return outcome,
                    (again, None) => machine = again,
                },
            }
        }
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, RenewalMachine> {
        self.machine.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until renewal `ticket` ends: its outcome, or `None` to poll again.
    fn wait_for<'a>(
        &self,
        mut machine: MutexGuard<'a, RenewalMachine>,
        ticket: Ticket,
    ) -> (
        MutexGuard<'a, RenewalMachine>,
        Option<Result<AccessToken, Error>>,
    ) {
        loop {
            match machine.waited(ticket) {
                Waited::Pending => {
                    machine = self
                        .landed
                        .wait(machine)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                Waited::Done(outcome) => return (machine, Some(outcome)),
                _ => return (machine, None),
            }
        }
    }

    /// Carries out `renewal` as the one renewal in flight, no lock held while it sends or
    /// saves; every waiter is woken when it ends, even by a panic.
    fn renew(&self, renewal: Renewal) -> Result<AccessToken, Error> {
        let mut flight = Flight {
            inner: self,
            ticket: renewal.ticket,
            landed: false,
        };
        if !renewal.delay.is_zero() {
            std::thread::sleep(renewal.delay);
        }
        let fetched = match renewal.work {
            Work::Fetch(step) => self.transport.send(step),
            Work::Save(tokens) => Ok(tokens),
        };
        let landing = self
            .lock()
            .fetched(renewal.ticket, fetched, self.transport.now());
        let outcome = match landing {
            Landing::Save(tokens) => {
                let saved = self.store.save(&tokens);
                if let (Ok(()), Some(on_refresh)) = (&saved, &self.on_refresh) {
                    on_refresh(&tokens);
                }
                self.lock()
                    .saved(renewal.ticket, saved, self.transport.now())
            }
            Landing::Done(outcome) => outcome,
        };
        flight.landed = true;
        self.landed.notify_all();
        outcome
    }
}

/// The renewal in flight. Dropped before it landed (a panic in a store or callback), it
/// tells the machine with whatever the store saved, and wakes every waiter to take over.
struct Flight<'a> {
    inner: &'a Inner,
    ticket: Ticket,
    landed: bool,
}

impl Drop for Flight<'_> {
    fn drop(&mut self) {
        if self.landed {
            return;
        }
        let stored = self.inner.store.load().ok().flatten();
        self.inner.lock().abandoned(self.ticket, stored);
        self.inner.landed.notify_all();
    }
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
