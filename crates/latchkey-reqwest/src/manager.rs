//! [`TokenManager`]: a valid access token for however many tasks ask, with exactly one
//! renewal in flight.

use std::sync::Arc;

use latchkey::drive::SendDriver;
use latchkey::manage::bearer;
use latchkey::manage::{
    Leased, ManagedTransport, Poll, Renewal, Ticket, TokenKeeper, Waited, Work,
};
use latchkey::{
    AccessToken, Error, Lifecycle, Request, Response, StoreError, TokenSet, TokenStore,
};
use tokio::sync::watch;

use crate::Transport;

/// A valid access token for any number of tasks, one renewal in flight, saved before use
/// ([crate docs](crate#token-manager)): the core's `RenewalMachine` with a `watch`, on the
/// [`Transport`]'s clock. Cheap to clone; `Send + Sync`; its futures are `Send`. The renewal
/// runs in a task of its own, so a cancelled caller cancels only its own wait.
#[derive(Clone, Debug)]
pub struct TokenManager {
    inner: Arc<Inner>,
}

/// Configures a [`TokenManager`]. Created by [`TokenManager::builder`].
pub type TokenManagerBuilder = latchkey::manage::TokenManagerBuilder<Transport>;

#[derive(Debug)]
struct Inner {
    transport: Transport,
    keeper: TokenKeeper,
    /// Bumped whenever a renewal ends, however it ends.
    landed: watch::Sender<u64>,
}

impl TokenManager {
    /// A manager with an empty [`MemoryStore`](latchkey::MemoryStore), for client credentials.
    #[must_use]
    pub fn new(transport: Transport, lifecycle: Lifecycle) -> Self {
        let certificate = transport.client_certificate();
        transport.manage(TokenKeeper::new(lifecycle).with_client_certificate(certificate))
    }

    /// Starts configuring a manager that renews with `lifecycle` over `transport`.
    pub fn builder(transport: Transport, lifecycle: Lifecycle) -> TokenManagerBuilder {
        TokenManagerBuilder::new(transport, lifecycle)
    }

    /// An access token that does not expire within the lifecycle's skew, renewed first when
    /// needed; one renewal request however many tasks call at once.
    ///
    /// # Errors
    ///
    /// [`Error::Reauthorize`] when only a new authorization can help; [`Error::Store`] when
    /// the new token set could not be saved;
    /// [`ConfigError::CertificateBound`](latchkey::ConfigError::CertificateBound) when the
    /// token is bound to a client certificate the transport does not present (mutual TLS,
    /// see [`latchkey::mtls`]; nothing is sent); else what the renewal met.
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

    /// Marks `rejected` as refused by a resource server: the next call renews (once).
    pub fn invalidate(&self, rejected: &AccessToken) {
        self.inner.keeper.invalidate(rejected);
    }

    /// The current token set, if any.
    #[must_use]
    pub fn tokens(&self) -> Option<TokenSet> {
        self.inner.keeper.tokens()
    }

    /// Replaces the tokens (after a new authorization), once a renewal under way is over.
    ///
    /// # Errors
    ///
    /// [`Error::Store`] when the store refused them (current anyway, saved again next call).
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

    /// The client's DPoP key and nonces, when it has one (see
    /// [`ClientBuilder::dpop`](latchkey::ClientBuilder::dpop)): the access tokens are then
    /// DPoP-bound, and every request that carries one needs a proof signed with it.
    #[must_use]
    pub fn dpop(&self) -> Option<&latchkey::Dpop> {
        self.inner.keeper.dpop()
    }

    /// Sends `request` once with the access token, only to the origins given to
    /// [`TokenManagerBuilder::resource_origin`]: `Authorization: Bearer`, or, when the
    /// client has a DPoP key, `Authorization: DPoP` with a fresh proof (and, when the
    /// resource server asks for a nonce, once more with it). After a `401` with
    /// `error="invalid_token"`, renews once and sends once more. The future is `Send`.
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
            let authorized = self.inner.keeper.authorized(request, &token);
            let once = SendDriver::once(authorized, &self.inner.transport.settings);
            let response = self.inner.transport.run(once).await?;
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
            let ticket = match self.inner.keeper.poll(now, force)? {
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

    /// Reports what renewal `ticket` fetched; saves fresh tokens before anyone gets them
    /// (again, after a pause, while the store cannot be reached for a moment).
    async fn land(&self, ticket: Ticket, fetched: Result<TokenSet, Error>) {
        let (keeper, now) = (&self.keeper, || self.transport.now());
        let mut landing = keeper.fetched(ticket, fetched, now());
        while let Ok((tokens, after)) = landing.into_save() {
            if !after.is_zero() {
                tokio::time::sleep(after).await;
            }
            let (store, saving) = (Arc::clone(keeper.store()), tokens.clone());
            let saved = blocking(move || store.save(&saving)).await;
            landing = keeper.saved(ticket, &tokens, saved, now());
        }
    }
}

/// Runs store I/O on the blocking pool (a file store syncs to disk; a lease may wait).
async fn blocking<T, E>(call: impl FnOnce() -> Result<T, E> + Send + 'static) -> Result<T, E>
where
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    let failed = || StoreError::new("the store call was cancelled or panicked").into();
    tokio::task::spawn_blocking(call)
        .await
        .unwrap_or_else(|_| Err(failed()))
}

/// The renewal task's hold on its renewal; dropped unlanded (the task or its runtime died),
/// it reports the renewal abandoned and wakes every waiter to take over.
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
        let (ticket, leasing) = (self.ticket, Arc::clone(&inner));
        let lease = move |work| {
            leasing
                .keeper
                .lease(ticket, work, || leasing.transport.now())
        };
        // The lease, if any, is held until the tokens are saved.
        let (fetched, lease) = match renewal.work {
            Work::Save(tokens) => (Ok(tokens), None),
            work => match blocking(move || lease(work)).await {
                Ok((held, Leased::Fetch(step))) => (inner.transport.send(step).await, Some(held)),
                Ok((held, Leased::Save(tokens))) => (Ok(tokens), Some(held)),
                Ok((_, Leased::Done(_))) => return self.wake(),
                Err(error) => (Err(error), None),
            },
        };
        inner.land(ticket, fetched).await;
        // Releasing is a round trip to a shared store: not on a runtime worker.
        tokio::task::spawn_blocking(move || drop(lease));
        self.wake();
    }

    fn wake(&mut self) {
        self.landed = true;
        self.inner.landed.send_modify(|n| *n = n.wrapping_add(1));
    }
}

impl Drop for Flight {
    fn drop(&mut self) {
        if !self.landed {
            self.inner.keeper.abandoned(self.ticket);
            self.wake();
        }
    }
}

impl ManagedTransport for Transport {
    type Manager = TokenManager;

    fn manage(self, keeper: TokenKeeper) -> TokenManager {
        let (transport, landed) = (self, watch::Sender::new(0));
        let inner = Arc::new(Inner {
            transport,
            keeper,
            landed,
        });
        TokenManager { inner }
    }

    /// The certificate this transport presents: a certificate-bound token (see
    /// [`latchkey::mtls`]) is handed out only when it is the one the token is bound to.
    fn client_certificate(&self) -> Option<latchkey::CertificateThumbprint> {
        self.settings.client_certificate
    }
}
