//! The send driver: one network step's attempts, every decision between them made here.
//!
//! ```text
//!            ┌────────────── SendDriver::next(now) ──────────────┐
//!  start ──► │ URL refused? ─────────────────────────► Done(Err) │
//!            │ Send(request, cap stamped) ──► adapter ──► received(answer, now)
//!            │   3xx ─────────────────────────────────► Done(Err(Redirect))
//!            │   2xx ─► exchange.supplement(answer)? ─► Send it once, then
//!            │          (the JWK set an ID token needs)   Done(exchange.response(answer))
//!            │       ────────────────────────► Done(exchange.response(..))
//!            │   400/401 use_dpop_nonce with a DPoP-Nonce, first time:
//!            │     Send again at once with the nonce (DPoP steps only)
//!            │   429/5xx, timeout, refused connection:           │
//!            │     retry allowed (RetryMode, RetryPolicy)? ─► Sleep(d), then Send again
//!            │     else ───────────────── Done(exchange.response(..) or Err)
//!            └───────────────────────────────────────────────────┘
//! ```

use std::time::{Duration, SystemTime};

use crate::drive::exchange::Exchange;
use crate::drive::http::{Request, Response, RetryMode, TransportSettings};
use crate::drive::retry::{Failure, RetryDecision};
use crate::error::{Error, TransportError, TransportErrorKind};
use crate::observe::Step;
use crate::url::{Url, host_port};

/// What a driver wants done next.
#[must_use = "an action does nothing until the adapter performs it"]
#[derive(Debug)]
pub enum Action<T> {
    /// Send this request once (no redirects followed; the body read up to the request's
    /// `max_response_bytes`), then hand the answer to [`Drive::received`].
    Send(Request),
    /// Wait this long, then ask again.
    Sleep(Duration),
    /// Finished: the step's outcome.
    Done(Result<T, Error>),
}

/// A value that drives network steps: it says what to do next and takes what came back.
/// Adapters run any `Drive` with the same loop (see the [module docs](crate::drive)).
pub trait Drive {
    /// What the driven step yields.
    type Output;

    /// What to do next, at `now` (the adapter's clock; retries and waits are measured on it).
    fn next(&mut self, now: SystemTime) -> Action<Self::Output>;

    /// The answer to the last [`Action::Send`]: the response whatever its status, or the
    /// transport's failure.
    fn received(&mut self, answer: Result<Response, TransportError>, now: SystemTime);
}

/// Drives one [`Exchange`] through its attempts: checks its URL, stamps the response cap,
/// reports a redirect as an error, retries as the request's [`RetryMode`](crate::RetryMode)
/// and the [`RetryPolicy`](crate::RetryPolicy) allow (honouring `Retry-After`), and hands
/// the final answer to [`Exchange::response`].
#[derive(Debug)]
pub struct SendDriver<E: Exchange> {
    exchange: Option<E>,
    settings: TransportSettings,
    phase: Phase<E::Output>,
    attempts: u32,
    started: Option<SystemTime>,
    /// Where the request in flight goes, for error messages, and when it may be sent again.
    target: Option<Url>,
    mode: RetryMode,
    jitter: Option<u64>,
    /// The `tracing` span of this step (nothing without the `tracing` feature).
    step: Step,
    /// The answer held while the exchange's [`supplement`](Exchange::supplement) request is
    /// out (at most one per step).
    held: Option<Response>,
    supplement_sent: bool,
    /// Whether the one `use_dpop_nonce` retry was made.
    #[cfg_attr(not(feature = "oidc"), allow(dead_code))]
    nonce_retried: bool,
}

/// Where the driver stands.
#[derive(Debug)]
enum Phase<T> {
    /// The next call sends (again).
    Ready,
    /// A request is out; `received` comes next.
    InFlight,
    /// Wait this long, then send again.
    Backoff(Duration),
    /// The outcome, handed out by the next call.
    Finished(Result<T, Error>),
    /// The outcome was handed out.
    Over,
    /// The exchange needs this request answered before it reads the held answer.
    Supplement(Request),
    /// The supplement request is out; `received` comes next.
    SupplementInFlight,
}

impl<E: Exchange> SendDriver<E> {
    /// Drives `exchange` with these settings (retry policy, response cap, whether plain
    /// `http` may go beyond loopback).
    pub fn new(exchange: E, settings: &TransportSettings) -> Self {
        Self {
            exchange: Some(exchange),
            settings: *settings,
            phase: Phase::Ready,
            attempts: 0,
            started: None,
            target: None,
            mode: RetryMode::ConnectFailureOnly,
            jitter: None,
            step: Step::new::<E>(),
            held: None,
            supplement_sent: false,
            nonce_retried: false,
        }
    }

    /// Drives `exchange` with one attempt and no retry, whatever the policy says.
    pub fn once(exchange: E, settings: &TransportSettings) -> Self {
        let mut settings = *settings;
        settings.retry_policy = crate::RetryPolicy::never();
        Self::new(exchange, &settings)
    }

    /// Uses `jitter` as the random part of every backoff instead of drawing one from the
    /// operating system: for tests that want exact waits.
    #[must_use]
    pub fn with_jitter(mut self, jitter: u64) -> Self {
        self.jitter = Some(jitter);
        self
    }

    /// Attempts made so far.
    #[must_use]
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    fn finish(&mut self, outcome: Result<E::Output, Error>) {
        self.step
            .finished(outcome.as_ref().map(drop).map_err(|e| e as _));
        self.phase = Phase::Finished(outcome);
    }

    fn respond(&mut self, response: Response) {
        if !self.supplement_sent {
            if let Some(request) = self
                .exchange
                .as_ref()
                .and_then(|exchange| exchange.supplement(&response))
            {
                self.supplement_sent = true;
                self.step.supplement(&request);
                self.held = Some(response);
                self.phase = Phase::Supplement(request);
                return;
            }
        }
        match self.exchange.take() {
            Some(exchange) => self.finish(exchange.response(response)),
            None => self.finish(Err(misuse())),
        }
    }

    /// How long to wait before sending again after `failure`, or `None` to give up.
    fn retry_delay(&self, failure: Failure<'_>, now: SystemTime) -> Option<Duration> {
        let elapsed = self
            .started
            .and_then(|started| now.duration_since(started).ok())
            .unwrap_or_default();
        let jitter = self.jitter.unwrap_or_else(|| fresh_jitter(now));
        match self.settings.retry_policy.decide(
            self.mode,
            self.attempts,
            elapsed,
            failure,
            now,
            jitter,
        ) {
            RetryDecision::RetryAfter(delay) => Some(delay),
            RetryDecision::GiveUp => None,
        }
    }

    /// Hands the supplement's answer to the exchange, then reads the held answer: the outcome
    /// is ready for the next call.
    fn resume(&mut self, answer: Result<Response, TransportError>, now: SystemTime) {
        if let Some(exchange) = self.exchange.as_mut() {
            exchange.supplemented(answer, now);
        }
        match self.held.take() {
            Some(held) => self.respond(held),
            None => self.finish(Err(misuse())),
        }
    }

    /// Remembers the answer's `DPoP-Nonce` (a DPoP step), and when the server asked for a
    /// nonce for the first time in this step, readies the one retry: true then.
    #[cfg(feature = "oidc")]
    fn dpop_nonce_retry(&mut self, response: &Response) -> bool {
        let (Some(dpop), Some(target)) = (
            self.exchange.as_ref().and_then(Exchange::dpop),
            self.target.as_ref(),
        ) else {
            return false;
        };
        dpop.remember(target, response);
        if self.nonce_retried || !crate::dpop::asks_for_nonce(response) {
            return false;
        }
        // The server refused the proof before acting on the request (RFC 9449 §8: a code
        // is not consumed), so even a step that is never retried is sent once more; only
        // once, so two servers disagreeing cannot loop.
        self.nonce_retried = true;
        self.step.retry(Duration::ZERO, &"use_dpop_nonce");
        self.phase = Phase::Ready;
        true
    }

    fn target(&self) -> String {
        self.target.as_ref().map(host_port).unwrap_or_default()
    }
}

impl<E: Exchange> Drive for SendDriver<E> {
    type Output = E::Output;

    fn next(&mut self, now: SystemTime) -> Action<E::Output> {
        match std::mem::replace(&mut self.phase, Phase::Over) {
            Phase::Finished(outcome) => Action::Done(outcome),
            Phase::Backoff(delay) => {
                self.phase = Phase::Ready;
                Action::Sleep(delay)
            }
            Phase::InFlight | Phase::SupplementInFlight => Action::Done(Err(misuse())),
            Phase::Over => Action::Done(Err(misuse())),
            Phase::Supplement(mut request) => {
                // Sent once, under the same URL rule and cap as any request; if it cannot
                // go, the held answer is read with the keys at hand.
                if let Err(refused) = request.check_url_security(self.settings.allow_insecure_http)
                {
                    let refused = match refused {
                        Error::Transport(e) => e,
                        other => {
                            TransportError::new(TransportErrorKind::InsecureUrl, other.to_string())
                                .final_failure()
                        }
                    };
                    self.resume(Err(refused), now);
                    return self.next(now);
                }
                let cap = request
                    .max_response_bytes
                    .map_or(self.settings.max_response_bytes, |own| {
                        own.min(self.settings.max_response_bytes)
                    });
                request.max_response_bytes = Some(cap);
                self.phase = Phase::SupplementInFlight;
                Action::Send(request)
            }
            Phase::Ready => {
                let Some(exchange) = &self.exchange else {
                    return Action::Done(Err(misuse()));
                };
                let mut request = match exchange.request_at(now) {
                    Ok(request) => request,
                    Err(error) => return Action::Done(Err(error)),
                };
                if let Err(error) = request.check_url_security(self.settings.allow_insecure_http) {
                    return Action::Done(Err(error));
                }
                let cap = request
                    .max_response_bytes
                    .map_or(self.settings.max_response_bytes, |own| {
                        own.min(self.settings.max_response_bytes)
                    });
                request.max_response_bytes = Some(cap);
                #[cfg(feature = "oidc")]
                if let Some(dpop) = exchange.dpop() {
                    match dpop_proof(dpop, &request, now) {
                        Ok(proof) => request.headers.insert("DPoP", proof),
                        Err(error) => return Action::Done(Err(error)),
                    }
                }
                self.started.get_or_insert(now);
                self.attempts = self.attempts.saturating_add(1);
                if self.target.as_ref() != Some(&request.url) {
                    self.target = Some(request.url.clone());
                }
                self.mode = request.retry;
                self.phase = Phase::InFlight;
                self.step.sending(&request, self.attempts);
                Action::Send(request)
            }
        }
    }

    fn received(&mut self, answer: Result<Response, TransportError>, now: SystemTime) {
        if matches!(self.phase, Phase::SupplementInFlight) {
            self.resume(answer, now);
            return;
        }
        if !matches!(self.phase, Phase::InFlight) {
            self.finish(Err(misuse()));
            return;
        }
        if let Ok(response) = &answer {
            self.step.answered(response.status);
            #[cfg(feature = "oidc")]
            if self.dpop_nonce_retry(response) {
                return;
            }
        }
        match answer {
            Ok(response) if (300..400).contains(&response.status) => {
                let location = response.headers.get("location");
                let error = TransportError::redirect(response.status, &self.target(), location);
                self.finish(Err(error.into()));
            }
            Ok(response) if response.is_success() => self.respond(response),
            Ok(response) => {
                let failure = Failure::Status {
                    status: response.status,
                    retry_after: response.headers.get("retry-after"),
                };
                match self.retry_delay(failure, now) {
                    Some(delay) => {
                        self.step
                            .retry(delay, &format_args!("HTTP {}", response.status));
                        self.phase = Phase::Backoff(delay);
                    }
                    None => self.respond(response),
                }
            }
            Err(error) => {
                let failure = if !error.is_retryable() {
                    None
                } else if error.may_have_been_sent() {
                    Some(Failure::Transport)
                } else {
                    Some(Failure::Connect)
                };
                match failure.and_then(|failure| self.retry_delay(failure, now)) {
                    Some(delay) => {
                        self.step.retry(delay, &error);
                        self.phase = Phase::Backoff(delay);
                    }
                    None => self.finish(Err(error.into())),
                }
            }
        }
    }
}

/// The `DPoP` proof for one attempt of `request` at `now`: `ath` from its
/// `Authorization: DPoP <token>`, if any.
#[cfg(feature = "oidc")]
fn dpop_proof(dpop: &crate::Dpop, request: &Request, now: SystemTime) -> Result<String, Error> {
    let token = request
        .headers
        .get("authorization")
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("DPoP"))
        .map(|(_, token)| token.trim());
    dpop.proof(&request.method, &request.url, now, token)
}

/// The error for a driver used out of order (asked again after it finished, or told of an
/// answer to a request it did not send).
fn misuse() -> Error {
    TransportError::new(
        TransportErrorKind::Other,
        "the send driver was used out of order (after Done, or received() without Send)",
    )
    .final_failure()
    .into()
}

/// A random number to spread the retries of many clients apart: from the operating system
/// when it is available, else the clock's nanoseconds.
fn fresh_jitter(now: SystemTime) -> u64 {
    #[cfg(feature = "os-rng")]
    {
        let mut bytes = [0u8; 8];
        if crate::random::fill(&mut bytes).is_ok() {
            return u64::from_le_bytes(bytes);
        }
    }
    now.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| u64::from(d.subsec_nanos()))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
