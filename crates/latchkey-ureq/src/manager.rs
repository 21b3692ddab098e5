//! [`TokenManager`]: a valid access token for however many threads ask, with exactly one
//! renewal in flight.

use std::sync::{Arc, Condvar, MutexGuard, PoisonError};

use latchkey::drive::SendDriver;
use latchkey::manage::bearer;
use latchkey::manage::{
    Leased, ManagedTransport, Poll, Renewal, RenewalMachine, Ticket, TokenKeeper, Waited, Work,
};
use latchkey::{AccessToken, Error, Lifecycle, Request, Response, TokenSet};

use crate::Transport;

/// Hands out a valid access token to any number of threads with exactly one renewal in
/// flight, saves every new token set before handing it out, and sends bearer requests (see
/// the [crate docs](crate#token-manager)). Every decision is the core's
/// [`RenewalMachine`]; this is a `Mutex` and a `Condvar` around it, on the [`Transport`]'s
/// clock. Cheap to clone (clones share one state); `Send + Sync`.
#[derive(Clone, Debug)]
pub struct TokenManager {
    inner: Arc<Inner>,
}

/// Configures a [`TokenManager`]. Created by [`TokenManager::builder`].
pub type TokenManagerBuilder = latchkey::manage::TokenManagerBuilder<Transport>;

/// A renewal's outcome for a waiter, or `None` to poll again.
type Outcome = Option<Result<AccessToken, Error>>;

#[derive(Debug)]
struct Inner {
    transport: Transport,
    keeper: TokenKeeper,
    landed: Condvar,
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
    /// needed; one renewal request however many threads call at once.
    ///
    /// # Errors
    ///
    /// [`Error::Reauthorize`] when only a new authorization can help; [`Error::Store`] when
    /// the new token set could not be saved;
    /// [`ConfigError::CertificateBound`](latchkey::ConfigError::CertificateBound) when the
    /// token is bound to a client certificate the transport does not present (mutual TLS,
    /// see [`latchkey::mtls`]; nothing is sent); else what the renewal met.
    pub fn access_token(&self) -> Result<AccessToken, Error> {
        self.obtain(false)
    }

    /// Renews now even if the token looks valid (or joins a renewal under way).
    ///
    /// # Errors
    ///
    /// As [`access_token`](Self::access_token).
    pub fn force_refresh(&self) -> Result<AccessToken, Error> {
        self.obtain(true)
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
    pub fn set_tokens(&self, tokens: TokenSet) -> Result<(), Error> {
        let inner = &*self.inner;
        let mut machine = inner.keeper.lock();
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
    /// `error="invalid_token"`, renews once and sends once more.
    ///
    /// # Errors
    ///
    /// [`ConfigError::ForeignOrigin`](latchkey::ConfigError::ForeignOrigin) for another
    /// origin; what [`access_token`](Self::access_token) returns; [`Error::Transport`].
    pub fn execute(&self, request: &Request) -> Result<Response, Error> {
        self.inner.keeper.origins().check(&request.url)?;
        let mut retried = false;
        loop {
            let token = self.obtain(false)?;
            let authorized = self.inner.keeper.authorized(request, &token);
            let once = SendDriver::once(authorized, &self.inner.transport.settings);
            let response = self.inner.transport.run(once)?;
            if retried || !bearer::token_rejected(&response) {
                return Ok(response);
            }
            self.invalidate(&token);
            retried = true;
        }
    }

    fn obtain(&self, force: bool) -> Result<AccessToken, Error> {
        let inner = &*self.inner;
        loop {
            let ticket = match inner.keeper.poll(inner.transport.now(), force)? {
                Poll::Use(token) => return Ok(token),
                Poll::Start(renewal) => return inner.renew(renewal),
                Poll::Wait(ticket) => ticket,
            };
            if let (_, Some(outcome)) = inner.wait_for(inner.keeper.lock(), ticket) {
                return outcome;
            }
        }
    }
}

impl Inner {
    /// Waits until renewal `ticket` ends: its outcome, or `None` to poll again.
    fn wait_for<'a>(
        &self,
        mut machine: MutexGuard<'a, RenewalMachine>,
        ticket: Ticket,
    ) -> (MutexGuard<'a, RenewalMachine>, Outcome) {
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

    /// Carries out `renewal` with no lock held; wakes every waiter when it ends, even by a
    /// panic (then the machine hears it was abandoned).
    fn renew(&self, renewal: Renewal) -> Result<AccessToken, Error> {
        let mut flight = Flight {
            inner: self,
            ticket: renewal.ticket,
            landed: false,
        };
        if !renewal.delay.is_zero() {
            std::thread::sleep(renewal.delay);
        }
        let (ticket, now) = (renewal.ticket, || self.transport.now());
        // A refresh holds the store's lease (other processes) until its tokens are saved.
        let outcome = match renewal.work {
            Work::Save(tokens) => self.land(ticket, Ok(tokens)),
            work => match self.keeper.lease(ticket, work, now) {
                Ok((_lease, Leased::Fetch(step))) => self.land(ticket, self.transport.send(step)),
                Ok((_lease, Leased::Save(tokens))) => self.land(ticket, Ok(tokens)),
                Ok((_lease, Leased::Done(outcome))) => outcome,
                Err(error) => self.land(ticket, Err(error)),
            },
        };
        flight.landed = true;
        self.landed.notify_all();
        outcome
    }
}

impl Inner {
    /// Reports what renewal `ticket` fetched; saves fresh tokens before anyone gets them.
    /// Saves again, after a pause, while the store cannot be reached for a moment.
    fn land(&self, ticket: Ticket, fetched: Result<TokenSet, Error>) -> Result<AccessToken, Error> {
        let mut landing = self.keeper.fetched(ticket, fetched, self.transport.now());
        loop {
            let (tokens, after) = match landing.into_save() {
                Ok(save) => save,
                Err(outcome) => return outcome,
            };
            std::thread::sleep(after);
            let saved = self.keeper.store().save(&tokens);
            landing = self
                .keeper
                .saved(ticket, &tokens, saved, self.transport.now());
        }
    }
}

/// The renewal in flight; dropped unlanded (a panic in a store or callback), it reports the
/// renewal abandoned and wakes every waiter to take over.
struct Flight<'a> {
    inner: &'a Inner,
    ticket: Ticket,
    landed: bool,
}

impl Drop for Flight<'_> {
    fn drop(&mut self) {
        if !self.landed {
            self.inner.keeper.abandoned(self.ticket);
            self.inner.landed.notify_all();
        }
    }
}

impl ManagedTransport for Transport {
    type Manager = TokenManager;

    fn manage(self, keeper: TokenKeeper) -> TokenManager {
        let (transport, landed) = (self, Condvar::new());
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
