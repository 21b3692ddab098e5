//! [`TokenKeeper`]: what every token manager holds, whatever its way of waiting.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use arc_swap::ArcSwapOption;
use std::time::SystemTime;

use crate::drive::http::Request;
use crate::error::{Error, StoreError};
use crate::manage::bearer::{self, Authorized, Origins};
use crate::manage::lifecycle::Lifecycle;
use crate::manage::renewal::{Landing, Leased, Poll, RenewalMachine, Ticket, Work};
use crate::manage::store::{Lease, MemoryStore, TokenStore, initial_tokens};
use crate::observe;
use crate::secret::AccessToken;
use crate::token::TokenSet;

/// A callback told of every new token set once it is saved.
type OnRefresh = Box<dyn Fn(&TokenSet) + Send + Sync>;

/// The access token the machine would hand out as is, and until when (see
/// [`RenewalMachine::usable_until`]).
type Usable = (AccessToken, Option<SystemTime>);

/// One grant's [`RenewalMachine`] behind a lock, with its store, its `on_refresh` hook and
/// the origins its access token may go to. An adapter's token manager is a `TokenKeeper`
/// plus its way of waiting (a `Condvar`, a tokio `watch`) and of sending.
///
/// The fresh-token path takes no lock and writes nothing shared: what the machine would hand
/// out as is sits in an `arc_swap` cell (a read is a few thread-local operations, however
/// many threads read at once), published again whenever the keeper reports to the machine ([`fetched`](Self::fetched), [`saved`](Self::saved),
/// [`abandoned`](Self::abandoned), [`invalidate`](Self::invalidate)).
pub struct TokenKeeper {
    usable: ArcSwapOption<Usable>,
    machine: Mutex<RenewalMachine>,
    store: Arc<dyn TokenStore>,
    on_refresh: Option<OnRefresh>,
    origins: Origins,
    /// The client's DPoP key (shared with the client: an adopted key shows here too).
    #[cfg(feature = "oidc")]
    dpop: Option<crate::Dpop>,
}

impl TokenKeeper {
    /// A keeper of `lifecycle`'s grant with an empty [`MemoryStore`] and no origins.
    #[must_use]
    pub fn new(lifecycle: Lifecycle) -> Self {
        Self {
            #[cfg(feature = "oidc")]
            dpop: lifecycle.client().dpop().cloned(),
            usable: ArcSwapOption::empty(),
            machine: Mutex::new(RenewalMachine::new(lifecycle, None)),
            store: Arc::new(MemoryStore::new()),
            on_refresh: None,
            origins: Origins::new(),
        }
    }

    /// Says which client certificate the manager's transport presents
    /// ([`RenewalMachine::with_client_certificate`]): a token bound to another is refused.
    #[must_use]
    pub fn with_client_certificate(
        self,
        certificate: Option<crate::mtls::CertificateThumbprint>,
    ) -> Self {
        {
            let mut machine = self.lock();
            machine.set_client_certificate(certificate);
            self.publish(&machine);
        }
        self
    }

    /// The machine, locked (a poisoned lock is taken over: the machine's state is
    /// consistent between calls). Report renewals through the keeper's own methods, which
    /// keep the fresh-token path in step.
    pub fn lock(&self) -> MutexGuard<'_, RenewalMachine> {
        self.machine.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// What to do for an access token at `now` ([`RenewalMachine::poll`]), the fresh token
    /// first without locking the machine.
    ///
    /// # Errors
    ///
    /// As [`RenewalMachine::poll`].
    pub fn poll(&self, now: SystemTime, force: bool) -> Result<Poll, Error> {
        if !force {
            if let Some((token, until)) = self.usable.load().as_deref() {
                if until.is_none_or(|until| now < until) {
                    return Ok(Poll::Use(token.clone()));
                }
            }
        }
        self.lock().poll(now, force)
    }

    /// Takes the store's renewal lease for renewal `ticket`'s `work` (waiting at most the
    /// lifecycle's lease wait for another process), reads the store again and asks the
    /// machine how to go on ([`RenewalMachine::leased`]). Hold the lease until the new
    /// tokens are saved; when the answer is [`Leased::Done`], it is already released.
    /// Blocks on the store (releasing too): an async adapter calls it on a blocking thread,
    /// and drops the lease there.
    ///
    /// # Errors
    ///
    /// [`Error::Store`] when the lease cannot be taken or the store cannot be read: report it
    /// with [`fetched`](Self::fetched) as the renewal's failure.
    pub fn lease(
        &self,
        ticket: Ticket,
        work: Work,
        now: impl Fn() -> SystemTime,
    ) -> Result<(Lease, Leased), Error> {
        let wait = self.lock().lifecycle().lease_wait_time();
        let asked = now();
        let lease = self.store.lease(wait).inspect_err(|e| {
            observe::renewal("lease not taken", e);
        })?;
        let waited = now().duration_since(asked).unwrap_or_default();
        observe::renewal("lease taken", &format_args!("after {waited:?}"));
        let stored = self.store.load()?;
        let mut machine = self.lock();
        let leased = machine.leased(ticket, work, stored, now());
        self.publish(&machine);
        drop(machine);
        match &leased {
            Leased::Fetch(_) => observe::renewal("renewing", &"the store holds no newer set"),
            Leased::Save(_) => observe::renewal("saving", &"the unsaved set is still the newest"),
            Leased::Done(Ok(_)) => observe::renewal("renewed", &"by another process"),
            Leased::Done(Err(e)) => observe::renewal("renewal failed", e),
        }
        // Nothing left to do under the lease: released here, on the caller's blocking thread.
        let lease = match leased {
            Leased::Done(_) => {
                drop(lease);
                Lease::unshared()
            }
            _ => lease,
        };
        Ok((lease, leased))
    }

    /// Reports what renewal `ticket` fetched ([`RenewalMachine::fetched`]).
    pub fn fetched(
        &self,
        ticket: Ticket,
        tokens: Result<TokenSet, Error>,
        now: SystemTime,
    ) -> Landing {
        let mut machine = self.lock();
        let landing = machine.fetched(ticket, tokens, now);
        self.publish(&machine);
        if let Landing::Done(Err(e)) = &landing {
            observe::renewal("renewal failed", e);
        }
        landing
    }

    /// Publishes what the machine would hand out as is, for [`poll`](Self::poll).
    fn publish(&self, machine: &RenewalMachine) {
        self.usable.store(machine.usable_until().map(Arc::new));
    }

    /// The store.
    #[must_use]
    pub fn store(&self) -> &Arc<dyn TokenStore> {
        &self.store
    }

    /// The origins the access token may be sent to.
    #[must_use]
    pub fn origins(&self) -> &Origins {
        &self.origins
    }

    /// The client's DPoP key and nonces, when it proves possession of a key: what another
    /// HTTP stack (a tower layer, a middleware) signs its resource requests' proofs with.
    #[cfg(feature = "oidc")]
    #[must_use]
    pub fn dpop(&self) -> Option<&crate::Dpop> {
        self.dpop.as_ref()
    }

    /// `request` carrying `token` as the grant's tokens need: `DPoP` with a proof when the
    /// client proves possession of a key ([`ClientBuilder::dpop`](crate::ClientBuilder::dpop)),
    /// else `Bearer`. Checks nothing: call [`Origins::check`] on the request first.
    pub fn authorized(&self, request: &Request, token: &AccessToken) -> Authorized {
        #[cfg(feature = "oidc")]
        return bearer::authorized_with(request, token, self.dpop.as_ref());
        #[cfg(not(feature = "oidc"))]
        Authorized::Bearer(bearer::authorized(request, token))
    }

    /// The current token set.
    #[must_use]
    pub fn tokens(&self) -> Option<TokenSet> {
        self.lock().tokens().cloned()
    }

    /// See [`RenewalMachine::invalidate`].
    pub fn invalidate(&self, rejected: &AccessToken) {
        let mut machine = self.lock();
        machine.invalidate(rejected);
        self.publish(&machine);
    }

    /// Reports the store's answer for `tokens` of renewal `ticket`: tells `on_refresh` of
    /// saved tokens first, then the machine ([`RenewalMachine::saved`]): done, or save again.
    pub fn saved(
        &self,
        ticket: Ticket,
        tokens: &TokenSet,
        result: Result<(), StoreError>,
        now: SystemTime,
    ) -> Landing {
        if let (Ok(()), Some(on_refresh)) = (&result, &self.on_refresh) {
            on_refresh(tokens);
        }
        let mut machine = self.lock();
        let landing = machine.saved(ticket, result, now);
        self.publish(&machine);
        match &landing {
            Landing::SaveAgain { after, .. } => {
                observe::renewal(
                    "store unreachable, saving again",
                    &format_args!("in {after:?}"),
                );
            }
            Landing::Done(Ok(_)) => observe::renewal("renewed", &"saved"),
            Landing::Done(Err(e)) => observe::renewal("renewal failed", e),
            Landing::Save(_) => {}
        }
        landing
    }

    /// The renewer of `ticket` died: tells the machine, with what the store holds now.
    pub fn abandoned(&self, ticket: Ticket) {
        let stored = self.store.load().ok().flatten();
        let mut machine = self.lock();
        machine.abandoned(ticket, stored);
        self.publish(&machine);
    }
}

impl fmt::Debug for TokenKeeper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let machine = self.lock();
        f.debug_struct("TokenKeeper")
            .field("has_tokens", &machine.tokens().is_some())
            .field("renewing", &machine.is_renewing())
            .field("failures", &machine.failures())
            .field("origins", &self.origins)
            .finish_non_exhaustive()
    }
}

/// A transport that token managers can be built around: each adapter's `Transport`.
pub trait ManagedTransport: Sized {
    /// The adapter's token manager.
    type Manager;

    /// The manager of `keeper`'s grant, renewing over this transport.
    fn manage(self, keeper: TokenKeeper) -> Self::Manager;

    /// The thumbprint of the client certificate this transport presents (mutual TLS):
    /// certificate-bound tokens are handed out only when it matches (see [`crate::mtls`]).
    /// Default: none.
    fn client_certificate(&self) -> Option<crate::mtls::CertificateThumbprint> {
        None
    }
}

/// Configures a token manager: its transport and lifecycle, the store, the first tokens, the
/// `on_refresh` hook and the resource origins. Each adapter's `TokenManagerBuilder` is this
/// type over its `Transport`, created by its `TokenManager::builder`.
#[must_use]
pub struct TokenManagerBuilder<T> {
    transport: T,
    lifecycle: Lifecycle,
    store: Option<Arc<dyn TokenStore>>,
    tokens: Option<TokenSet>,
    on_refresh: Option<OnRefresh>,
    origins: Vec<String>,
}

impl<T> TokenManagerBuilder<T> {
    /// A manager renewing with `lifecycle` over `transport`.
    pub fn new(transport: T, lifecycle: Lifecycle) -> Self {
        Self {
            transport,
            lifecycle,
            store: None,
            tokens: None,
            on_refresh: None,
            origins: Vec::new(),
        }
    }

    /// Loads and saves the token set here (default: a new [`MemoryStore`]). Pass an
    /// `Arc<S>` to keep a handle on the store.
    pub fn store(mut self, store: impl TokenStore + 'static) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// Starts with these tokens (from an authorization flow) instead of what the store
    /// holds; saved to the store by [`build`](Self::build).
    pub fn tokens(mut self, tokens: TokenSet) -> Self {
        self.tokens = Some(tokens);
        self
    }

    /// Calls `on_refresh` with every new token set once the store has saved it and before
    /// anyone gets its access token: for applications that persist tokens elsewhere. It
    /// runs where the renewal runs (the renewing thread, or the renewal task) while the
    /// others wait: keep it short, and do not ask the manager for a token from it.
    pub fn on_refresh(mut self, on_refresh: impl Fn(&TokenSet) + Send + Sync + 'static) -> Self {
        self.on_refresh = Some(Box::new(on_refresh));
        self
    }

    /// Allows the manager's `execute` to send the access token to the origin (scheme, host,
    /// port) of `url`; repeatable. Without any, `execute` sends nothing.
    pub fn resource_origin(mut self, url: impl Into<String>) -> Self {
        self.origins.push(url.into());
        self
    }
}

impl<T: ManagedTransport> TokenManagerBuilder<T> {
    /// Builds the manager: saves the tokens given to [`tokens`](Self::tokens), or else
    /// loads the store (blocking on it).
    ///
    /// # Errors
    ///
    /// [`Error::Store`] when the store cannot be read or the tokens cannot be saved;
    /// [`ConfigError::InvalidUrl`](crate::ConfigError::InvalidUrl) for a resource origin
    /// that is not an absolute `http(s)` URL.
    pub fn build(self) -> Result<T::Manager, Error> {
        let origins = Origins::from_urls(&self.origins)?;
        let store = self.store.unwrap_or_else(|| Arc::new(MemoryStore::new()));
        let tokens = initial_tokens(store.as_ref(), self.tokens)?;
        #[cfg(feature = "oidc")]
        let dpop = self.lifecycle.client().dpop().cloned();
        let machine = RenewalMachine::new(self.lifecycle, tokens)
            .with_client_certificate(self.transport.client_certificate());
        let keeper = TokenKeeper {
            #[cfg(feature = "oidc")]
            dpop,
            usable: ArcSwapOption::from(machine.usable_until().map(Arc::new)),
            machine: Mutex::new(machine),
            store,
            on_refresh: self.on_refresh,
            origins,
        };
        Ok(self.transport.manage(keeper))
    }
}

impl<T: fmt::Debug> fmt::Debug for TokenManagerBuilder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenManagerBuilder")
            .field("transport", &self.transport)
            .field("lifecycle", &self.lifecycle)
            .field("has_tokens", &self.tokens.is_some())
            .field("origins", &self.origins)
            .finish_non_exhaustive()
    }
}
