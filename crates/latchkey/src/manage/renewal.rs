//! The renewal machine: one grant's token state, with at most one renewal in flight.
//!
//! A token manager keeps a `RenewalMachine` behind a lock and drives it; the machine decides
//! everything and does no I/O. Time comes in as `now` on every call, so expiry and backoff
//! run on one clock, and a test moves both without sleeping.
//!
//! ```text
//!  poll(now, force) ──► Use(token)                 the token is good: no I/O
//!                   ├─► Wait(ticket) ──► waited(ticket): Pending | Done(outcome) | Again
//!                   └─► Start(renewal) ─► sleep renewal.delay (backoff)
//!                                         send the step (or take the tokens to save)
//!                                         fetched(ticket, tokens, now) ─► Done(error)
//!                                                                      └► Save(tokens)
//!                                         store.save(tokens), on_refresh
//!                                         saved(ticket, result, now) ─► the access token
//!  the renewer died ──► abandoned(ticket, what the store holds): waiters take over
//! ```
//!
//! The order "save the rotated refresh token, then hand out the access token" is the
//! machine's: no access token from a renewal is handed out before [`saved`] reports the
//! save, and a token set the store refused is saved again before it is used.
//!
//! [`saved`]: RenewalMachine::saved

use std::time::{Duration, SystemTime};

use crate::drive::exchange::Exchange;
use crate::drive::http::{Request, Response};
use crate::error::{Error, StoreError, TransportError, TransportErrorKind};
use crate::flow::client_credentials::ClientCredentials;
use crate::flow::refresh::Refresh;
use crate::manage::lifecycle::{Lifecycle, NextStep};
use crate::mtls::CertificateThumbprint;
use crate::secret::{AccessToken, RefreshToken};
use crate::token::TokenSet;

/// Names one renewal: waiters hold it to learn that renewal's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ticket(u64);

/// What [`RenewalMachine::poll`] says to do.
#[must_use = "a poll says what the caller must do next"]
#[derive(Debug)]
pub enum Poll {
    /// Use this access token.
    Use(AccessToken),
    /// A renewal is under way: wait for it (see [`RenewalMachine::waited`]).
    Wait(Ticket),
    /// Carry out this renewal; everyone else waits for it.
    Start(Renewal),
}

/// A renewal to carry out: sleep [`delay`](Self::delay), do the [`work`](Self::work), then
/// report with [`RenewalMachine::fetched`].
#[derive(Debug)]
#[non_exhaustive]
pub struct Renewal {
    /// The renewal's ticket, for every report about it.
    pub ticket: Ticket,
    /// The backoff after earlier failures: wait this long first.
    pub delay: Duration,
    /// What to do.
    pub work: Work,
}

/// The work of one renewal.
#[derive(Debug)]
pub enum Work {
    /// Send this step; its tokens (or its error) go to [`RenewalMachine::fetched`].
    Fetch(RenewalStep),
    /// Nothing to fetch: these tokens, handed in by a new authorization, only need saving;
    /// pass them straight to [`RenewalMachine::fetched`].
    Save(TokenSet),
    /// These tokens were refused by the store before: take the lease and read the store
    /// first ([`RenewalMachine::leased`]), so that they never overwrite a newer set another
    /// process saved meanwhile.
    Resave(TokenSet),
}

/// The step that renews a grant: a refresh, or the client credentials grant again. An
/// [`Exchange`] like any other, so an adapter sends it with its `send`.
#[derive(Debug)]
pub enum RenewalStep {
    /// Refresh with the refresh token.
    Refresh(Refresh),
    /// Ask for a new token with the client's credentials.
    ClientCredentials(ClientCredentials),
}

impl Exchange for RenewalStep {
    type Output = TokenSet;

    fn request(&self) -> Result<Request, Error> {
        match self {
            Self::Refresh(step) => step.request(),
            Self::ClientCredentials(step) => step.request(),
        }
    }

    fn request_at(&self, now: SystemTime) -> Result<Request, Error> {
        match self {
            Self::Refresh(step) => step.request_at(now),
            Self::ClientCredentials(step) => step.request_at(now),
        }
    }

    #[cfg(feature = "oidc")]
    fn dpop(&self) -> Option<&crate::Dpop> {
        match self {
            Self::Refresh(step) => step.dpop(),
            Self::ClientCredentials(step) => step.dpop(),
        }
    }

    fn response(self, response: Response) -> Result<TokenSet, Error> {
        match self {
            Self::Refresh(step) => step.response(response),
            Self::ClientCredentials(step) => step.response(response),
        }
    }

    // A refresh answer may carry an ID token signed with a key the client has not fetched
    // yet: the JWK set fetch goes through too.
    fn supplement(&self, response: &Response) -> Option<Request> {
        match self {
            Self::Refresh(step) => step.supplement(response),
            Self::ClientCredentials(step) => step.supplement(response),
        }
    }

    fn supplemented(&mut self, answer: Result<Response, TransportError>, now: SystemTime) {
        match self {
            Self::Refresh(step) => step.supplemented(answer, now),
            Self::ClientCredentials(step) => step.supplemented(answer, now),
        }
    }
}

/// What [`RenewalMachine::fetched`] and [`RenewalMachine::saved`] say to do.
#[must_use = "a landing says what the renewer must do next"]
#[derive(Debug)]
pub enum Landing {
    /// Save these tokens to the store (then call `on_refresh`, if any), and report with
    /// [`RenewalMachine::saved`].
    Save(TokenSet),
    /// The store could not be reached for a moment ([`StoreError::is_transient`]) and these
    /// tokens exist nowhere else: keep the lease, wait `after`, save them again and report
    /// with [`RenewalMachine::saved`] (see [`Lifecycle::save_retry`]).
    SaveAgain {
        /// The tokens to save.
        tokens: TokenSet,
        /// How long to wait first.
        after: Duration,
    },
    /// The renewal is over with this outcome, already published to every waiter: wake them.
    Done(Result<AccessToken, Error>),
}

impl Landing {
    /// The tokens to save next and how long to wait first, or the renewal's outcome: one
    /// loop of the renewer's `match landing.next() { Ok((tokens, after)) => save, Err(done) }`
    /// serves both saves.
    ///
    /// # Errors
    ///
    /// The renewal's outcome (itself a `Result`) when nothing is left to save.
    pub fn into_save(self) -> Result<(TokenSet, Duration), Result<AccessToken, Error>> {
        match self {
            Self::Save(tokens) => Ok((tokens, Duration::ZERO)),
            Self::SaveAgain { tokens, after } => Ok((tokens, after)),
            Self::Done(outcome) => Err(outcome),
        }
    }
}

/// What [`RenewalMachine::leased`] says once the renewal holds the store's lease.
#[must_use = "the renewal must go on as this says"]
#[derive(Debug)]
pub enum Leased {
    /// Send this step (the one the renewal started with, or one built from a token set
    /// another process saved meanwhile), then report with [`RenewalMachine::fetched`].
    Fetch(RenewalStep),
    /// Save these tokens (the store still holds what they were made from): report them
    /// with [`RenewalMachine::fetched`] as for [`Work::Save`].
    Save(TokenSet),
    /// Nothing to send: another process renewed meanwhile and its tokens are in use now (or
    /// only a new authorization can help). The renewal is over with this outcome.
    Done(Result<AccessToken, Error>),
}

/// What a waiter learns from [`RenewalMachine::waited`].
#[derive(Debug)]
pub enum Waited {
    /// The renewal is still under way: keep waiting.
    Pending,
    /// The renewal ended with this outcome.
    Done(Result<AccessToken, Error>),
    /// That renewal is gone (abandoned, or long superseded): poll again.
    Again,
}

/// How a finished renewal ended.
#[derive(Clone, Debug)]
enum Ended {
    Landed(Result<AccessToken, Error>),
    Abandoned,
}

/// The first wait before saving again through a passing store failure; it doubles up to
/// [`SAVE_RETRY_MAX`].
const SAVE_RETRY_FIRST: Duration = Duration::from_millis(100);

/// The longest wait between saves through a passing store failure.
const SAVE_RETRY_MAX: Duration = Duration::from_secs(2);

/// The renewal in flight.
#[derive(Debug)]
struct Flight {
    ticket: Ticket,
    /// The tokens being saved, once fetched.
    saving: Option<TokenSet>,
    /// When saving them first failed for a passing reason, and how many saves failed since.
    save_failed: Option<(SystemTime, u32)>,
}

/// One grant's token state and its renewals: the current token set, the renewal in flight,
/// the last outcome for its waiters, backoff after failures, and whether only a new
/// authorization can help. See the [module docs](crate::manage).
#[derive(Debug)]
pub struct RenewalMachine {
    lifecycle: Lifecycle,
    tokens: Option<TokenSet>,
    /// A resource server refused the current access token: renew even if it looks valid.
    rejected: bool,
    /// The current token set is not in the store yet: save it before handing it out.
    unsaved: bool,
    /// While `unsaved`: what the store held when the unsaved set was made from it.
    base: Option<TokenSet>,
    flight: Option<Flight>,
    issued: u64,
    /// The last renewal that ended, and how.
    last: Option<(Ticket, Ended)>,
    /// Renewals abandoned in a row (their renewer died).
    abandoned: u32,
    /// Failed renewals in a row, and when the next may start.
    failures: u32,
    retry_at: Option<SystemTime>,
    /// Set when only a new authorization can help (`invalid_grant`, no refresh token).
    reauthorize: Option<Error>,
    /// The client certificate the manager's transport presents: a token bound to another
    /// (or to one when this is `None`) is never handed out (see [`crate::mtls`]).
    certificate: Option<CertificateThumbprint>,
}

impl RenewalMachine {
    /// A machine renewing as `lifecycle` says, starting from `tokens` (loaded from the store,
    /// or fresh from an authorization).
    #[must_use]
    pub fn new(lifecycle: Lifecycle, tokens: Option<TokenSet>) -> Self {
        adopt_dpop_key(&lifecycle, tokens.as_ref());
        Self {
            lifecycle,
            tokens,
            rejected: false,
            unsaved: false,
            base: None,
            flight: None,
            issued: 0,
            last: None,
            abandoned: 0,
            failures: 0,
            retry_at: None,
            reauthorize: None,
            certificate: None,
        }
    }

    /// Says which client certificate the manager's transport presents (mutual TLS,
    /// [`TransportSettings::client_certificate`](crate::drive::TransportSettings)). A token
    /// set bound to another certificate, or bound to one when the transport presents none,
    /// is never handed out: [`poll`](Self::poll) and the renewal outcomes answer
    /// [`ConfigError::CertificateBound`](crate::ConfigError::CertificateBound) instead, and
    /// nothing is sent. Tokens bound to nothing are handed out whatever the transport.
    #[must_use]
    pub fn with_client_certificate(mut self, certificate: Option<CertificateThumbprint>) -> Self {
        self.set_client_certificate(certificate);
        self
    }

    /// As [`with_client_certificate`](Self::with_client_certificate), in place.
    pub(crate) fn set_client_certificate(&mut self, certificate: Option<CertificateThumbprint>) {
        self.certificate = certificate;
    }

    /// Whether `tokens` may go over this manager's transport.
    fn check_binding(&self, tokens: &TokenSet) -> Result<(), Error> {
        crate::mtls::check_binding(tokens.certificate_binding(), self.certificate.as_ref())
    }

    /// The renewal policy.
    #[must_use]
    pub fn lifecycle(&self) -> &Lifecycle {
        &self.lifecycle
    }

    /// The current token set.
    #[must_use]
    pub fn tokens(&self) -> Option<&TokenSet> {
        self.tokens.as_ref()
    }

    /// True while a renewal is in flight.
    #[must_use]
    pub fn is_renewing(&self) -> bool {
        self.flight.is_some()
    }

    /// Failed renewals in a row.
    #[must_use]
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// What to do for an access token at `now`. `force` renews even a token that looks
    /// valid (joining a renewal already under way instead of starting another).
    ///
    /// # Errors
    ///
    /// [`Error::Reauthorize`] when only a new authorization can help (no tokens, no refresh
    /// token, or an earlier `invalid_grant`); a [`ConfigError`](crate::ConfigError) when the
    /// client cannot make the renewal request.
    pub fn poll(&mut self, now: SystemTime, force: bool) -> Result<Poll, Error> {
        if let Some(token) = self.usable(now, force) {
            return Ok(Poll::Use(token.clone()));
        }
        if let Some(tokens) = &self.tokens {
            // Neither used nor renewed here: a refresh token bound with it is no use either.
            self.check_binding(tokens)?;
        }
        if let Some(flight) = &self.flight {
            return Ok(Poll::Wait(flight.ticket));
        }
        if let Some(error) = &self.reauthorize {
            return Err(error.clone());
        }
        let work = match &self.tokens {
            Some(tokens) if self.unsaved => Work::Resave(tokens.clone()),
            tokens => {
                let force = force || self.rejected;
                match self.lifecycle.next_step(tokens.as_ref(), now, force)? {
                    NextStep::UseToken(token) => return Ok(Poll::Use(token)),
                    NextStep::Refresh(step) => Work::Fetch(RenewalStep::Refresh(step)),
                    NextStep::ClientCredentials(step) => {
                        Work::Fetch(RenewalStep::ClientCredentials(step))
                    }
                    NextStep::Reauthorize => {
                        return Err(self.lifecycle.reauthorize_error(tokens.as_ref()));
                    }
                }
            }
        };
        Ok(Poll::Start(self.start(work, now)))
    }

    /// The access token if it can be handed out as is: fast, allocation-free, and the same
    /// answer [`poll`](Self::poll) gives first.
    #[must_use]
    pub fn usable(&self, now: SystemTime, force: bool) -> Option<&AccessToken> {
        if self.reauthorize.is_some() || self.unsaved {
            return None;
        }
        let tokens = self.tokens.as_ref()?;
        self.check_binding(tokens).ok()?;
        self.lifecycle
            .usable(Some(tokens), now, force || self.rejected)
    }

    /// The access token that [`usable`](Self::usable) hands out, and until when: `None` for
    /// none; a `None` deadline for a token whose expiry is unknown. What a lock-free fast
    /// path may cache until the machine changes again.
    #[must_use]
    pub fn usable_until(&self) -> Option<(AccessToken, Option<SystemTime>)> {
        if self.reauthorize.is_some() || self.unsaved || self.rejected {
            return None;
        }
        let tokens = self.tokens.as_ref()?;
        self.check_binding(tokens).ok()?;
        let until = match tokens.expires_at() {
            Some(at) => Some(at.checked_sub(self.lifecycle.refresh_skew())?),
            None => None,
        };
        Some((tokens.access_token().clone(), until))
    }

    /// Replaces the tokens (after a new authorization): `Ok` with the renewal that saves
    /// them, or `Err` with the ticket of a renewal under way to wait for first (then call
    /// again). Clears an earlier `invalid_grant` and the backoff.
    ///
    /// # Errors
    ///
    /// The ticket of the renewal in flight.
    pub fn replace(&mut self, tokens: TokenSet, now: SystemTime) -> Result<Renewal, Ticket> {
        if let Some(flight) = &self.flight {
            return Err(flight.ticket);
        }
        self.reauthorize = None;
        self.failures = 0;
        self.retry_at = None;
        adopt_dpop_key(&self.lifecycle, Some(&tokens));
        Ok(self.start(Work::Save(tokens), now))
    }

    /// Marks `rejected` as refused by a resource server (a 401 with `invalid_token`): the
    /// next poll renews. A token that was already replaced is ignored, so many callers
    /// reporting the same 401 cause one renewal.
    pub fn invalidate(&mut self, rejected: &AccessToken) {
        if self
            .tokens
            .as_ref()
            .is_some_and(|t| t.access_token().expose_secret() == rejected.expose_secret())
        {
            self.rejected = true;
        }
    }

    /// The renewal `ticket` holds the store's lease and read `stored` from the store; `work`
    /// is the renewal's [`Work`].
    ///
    /// - A refresh ([`Work::Fetch`]): when the store holds the set the renewal started from
    ///   (or nothing), the step goes out as planned. When another process saved a different
    ///   one meanwhile, presenting our refresh token would reuse a rotated one: a usable
    ///   stored set is adopted as is (it is in the store already), and an expired one is
    ///   renewed from its own refresh token instead.
    /// - Tokens the store refused before ([`Work::Resave`]): saved when the store still holds
    ///   what they were made from; else the store's set is followed as above.
    pub fn leased(
        &mut self,
        ticket: Ticket,
        work: Work,
        stored: Option<TokenSet>,
        now: SystemTime,
    ) -> Leased {
        if self.flight.as_ref().is_none_or(|f| f.ticket != ticket) {
            return Leased::Done(Err(stale()));
        }
        let stored = match work {
            Work::Save(tokens) => return Leased::Save(tokens),
            Work::Fetch(step) => match stored {
                Some(stored) if !same_tokens(self.tokens.as_ref(), &stored) => stored,
                _ => return Leased::Fetch(step),
            },
            Work::Resave(tokens) => match stored {
                Some(stored) if !same_tokens(self.base.as_ref(), &stored) => stored,
                _ => return Leased::Save(tokens),
            },
        };
        self.follow(ticket, stored, now)
    }

    /// Goes on from `stored`, a token set another process saved: adopted when usable, else
    /// renewed from its own refresh token (or, without one, a new authorization).
    fn follow(&mut self, ticket: Ticket, stored: TokenSet, now: SystemTime) -> Leased {
        let usable = self.lifecycle.usable(Some(&stored), now, false).cloned();
        adopt_dpop_key(&self.lifecycle, Some(&stored));
        let binding = self.check_binding(&stored);
        self.tokens = Some(stored);
        self.rejected = false;
        self.unsaved = false;
        self.base = None;
        if let Err(error) = binding {
            return Leased::Done(self.end(ticket, Err(error), now));
        }
        if let Some(token) = usable {
            self.failures = 0;
            self.retry_at = None;
            return Leased::Done(self.end(ticket, Ok(token), now));
        }
        let tokens = self.tokens.as_ref();
        match self.lifecycle.next_step(tokens, now, false) {
            Ok(NextStep::Refresh(step)) => Leased::Fetch(RenewalStep::Refresh(step)),
            Ok(NextStep::ClientCredentials(step)) => {
                Leased::Fetch(RenewalStep::ClientCredentials(step))
            }
            Ok(NextStep::UseToken(token)) => Leased::Done(self.end(ticket, Ok(token), now)),
            Ok(NextStep::Reauthorize) => {
                let error = self.lifecycle.reauthorize_error(tokens);
                Leased::Done(self.end(ticket, Err(error), now))
            }
            Err(error) => Leased::Done(self.end(ticket, Err(error), now)),
        }
    }

    /// The renewal `ticket` fetched `tokens` (or failed to). Fresh tokens must be saved
    /// before anyone sees them; a failure ends the renewal (`invalid_grant` from a refresh
    /// becomes [`Error::Reauthorize`], for every later call too) and sets the backoff.
    pub fn fetched(
        &mut self,
        ticket: Ticket,
        tokens: Result<TokenSet, Error>,
        now: SystemTime,
    ) -> Landing {
        let Some(flight) = self.flight.as_mut().filter(|f| f.ticket == ticket) else {
            return Landing::Done(Err(stale()));
        };
        match tokens {
            Ok(tokens) => {
                flight.saving = Some(tokens.clone());
                Landing::Save(tokens)
            }
            Err(error) => {
                let error = self.lifecycle.renewal_failed(error);
                Landing::Done(self.end(ticket, Err(error), now))
            }
        }
    }

    /// The store's answer for the tokens of renewal `ticket`. Saved: they become current
    /// and their access token is the outcome. A passing failure
    /// ([`StoreError::is_transient`]) within the lifecycle's
    /// [save retry](Lifecycle::save_retry): [`Landing::SaveAgain`], the tokens still unseen.
    /// Refused otherwise: they become current anyway, but are saved again before any use, and
    /// the store's error is the outcome.
    ///
    /// A ticket that is not in flight, or fetched nothing, gets `Done` with an error.
    pub fn saved(
        &mut self,
        ticket: Ticket,
        result: Result<(), StoreError>,
        now: SystemTime,
    ) -> Landing {
        let budget = self.lifecycle.save_retry_time();
        let Some(flight) = self.flight.as_mut().filter(|f| f.ticket == ticket) else {
            return Landing::Done(Err(stale()));
        };
        let Some(tokens) = flight.saving.take() else {
            return Landing::Done(Err(stale()));
        };
        if let Err(error) = &result {
            let (since, failed) = flight.save_failed.get_or_insert((now, 0));
            let after = SAVE_RETRY_FIRST
                .saturating_mul(1 << (*failed).min(5))
                .min(SAVE_RETRY_MAX);
            let within = now.duration_since(*since).unwrap_or_default() + after <= budget;
            if error.is_transient() && within {
                *failed += 1;
                flight.saving = Some(tokens.clone());
                return Landing::SaveAgain { tokens, after };
            }
        }
        let token = tokens.access_token().clone();
        let binding = self.check_binding(&tokens);
        let previous = self.tokens.replace(tokens);
        self.rejected = false;
        if result.is_err() && !self.unsaved {
            // What the store still holds: the set the unsaved one was made from.
            self.base = previous;
        }
        self.unsaved = result.is_err();
        if !self.unsaved {
            self.base = None;
        }
        Landing::Done(match result {
            Ok(()) => {
                self.failures = 0;
                self.retry_at = None;
                self.end(ticket, binding.map(|()| token), now)
            }
            Err(error) => self.end(ticket, Err(error.into()), now),
        })
    }

    /// The renewer of `ticket` died before it reported (a panic, a cancelled task).
    /// `stored` is what the store holds now, the newest token set there is. Waiters are
    /// told to poll again, and one of them takes over; if the renewal it takes over dies
    /// too, its waiters get an error instead of chasing renewals that keep dying.
    pub fn abandoned(&mut self, ticket: Ticket, stored: Option<TokenSet>) {
        if self.flight.as_ref().is_none_or(|f| f.ticket != ticket) {
            return;
        }
        self.flight = None;
        if let Some(stored) = stored {
            adopt_dpop_key(&self.lifecycle, Some(&stored));
            self.tokens = Some(stored);
            self.unsaved = false;
        }
        self.abandoned = self.abandoned.saturating_add(1);
        self.last = Some((ticket, Ended::Abandoned));
    }

    /// What a waiter for `ticket` learns now.
    #[must_use]
    pub fn waited(&self, ticket: Ticket) -> Waited {
        if self.flight.as_ref().is_some_and(|f| f.ticket == ticket) {
            return Waited::Pending;
        }
        match &self.last {
            Some((last, Ended::Landed(outcome))) if *last == ticket => {
                Waited::Done(outcome.clone())
            }
            Some((last, Ended::Abandoned)) if *last == ticket && self.abandoned > 1 => {
                Waited::Done(Err(abandoned_twice()))
            }
            _ => Waited::Again,
        }
    }

    fn start(&mut self, work: Work, now: SystemTime) -> Renewal {
        self.issued += 1;
        let ticket = Ticket(self.issued);
        self.flight = Some(Flight {
            ticket,
            saving: None,
            save_failed: None,
        });
        let delay = self
            .retry_at
            .and_then(|at| at.duration_since(now).ok())
            .unwrap_or_default();
        Renewal {
            ticket,
            delay,
            work,
        }
    }

    fn end(
        &mut self,
        ticket: Ticket,
        outcome: Result<AccessToken, Error>,
        now: SystemTime,
    ) -> Result<AccessToken, Error> {
        if let Err(error) = &outcome {
            if error.is_reauthorization_required() {
                self.reauthorize = Some(error.clone());
            }
            self.failures = self.failures.saturating_add(1);
            self.retry_at = Some(now + self.lifecycle.retry_delay(self.failures));
        }
        self.flight = None;
        self.abandoned = 0;
        self.last = Some((ticket, Ended::Landed(outcome.clone())));
        outcome
    }
}

/// True when `stored` holds the same access and refresh tokens as `mine`.
fn same_tokens(mine: Option<&TokenSet>, stored: &TokenSet) -> bool {
    mine.is_some_and(|mine| {
        mine.access_token().expose_secret() == stored.access_token().expose_secret()
            && mine.refresh_token().map(RefreshToken::expose_secret)
                == stored.refresh_token().map(RefreshToken::expose_secret)
    })
}

/// A report about a renewal that is not in flight.
fn stale() -> Error {
    TransportError::new(
        TransportErrorKind::Other,
        "a report about a token renewal that is not in flight",
    )
    .final_failure()
    .into()
}

/// What waiters get when renewal after renewal is abandoned.
fn abandoned_twice() -> Error {
    TransportError::new(
        TransportErrorKind::Other,
        "the token renewal was abandoned twice (its renewer died)",
    )
    .final_failure()
    .into()
}

/// Makes the client's DPoP key the one `tokens` are bound to, when they carry one
/// ([`TokenSet::dpop_key`]): tokens another process saved (or an earlier run) can only be
/// refreshed and used with their own key.
fn adopt_dpop_key(lifecycle: &Lifecycle, tokens: Option<&TokenSet>) {
    #[cfg(feature = "oidc")]
    if let (Some(dpop), Some(key)) = (
        lifecycle.client().dpop(),
        tokens.and_then(TokenSet::dpop_key),
    ) {
        if dpop.adopt(key) {
            crate::observe::renewal(
                "DPoP key adopted",
                &"the one the stored tokens are bound to",
            );
        }
    }
    let _ = (lifecycle, tokens);
}

#[cfg(test)]
mod tests;
