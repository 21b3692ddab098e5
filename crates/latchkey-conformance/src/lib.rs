//! # latchkey-conformance: one suite, every adapter
//!
//! The cases in [`cases`] drive every flow and dialect, and every fault the adapters must
//! handle, against [`latchkey_mock`] on loopback. They are written once, generic over a
//! [`Driver`], and stamped out for each adapter by the macro in `tests/conformance.rs`:
//!
//! - [`Ureq`]: `latchkey_ureq::Transport`, called directly;
//! - [`Reqwest`]: `latchkey_reqwest::Transport`, whose `send` future is moved into
//!   `tokio::spawn` (which proves it is `Send + 'static`) on a current-thread runtime.
//!
//! Every case runs in a [`Session`], which formats every exchange, request, response, output
//! and error that passes through it (`Debug`, `Display` and the whole `source()` chain) and,
//! when the case ends, asserts that none of that text contains a secret the case registered:
//! client secrets, codes, PKCE verifiers, access and refresh tokens.
//!
//! Nothing here leaves loopback: the only non-loopback URL used (`http://example.invalid/`)
//! must be refused before any DNS lookup.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::fmt::Debug;
use std::sync::Mutex;
use std::time::Duration;

use latchkey::{Error, Exchange, Request, Response, RetryPolicy, TokenSet};

pub mod cases;

/// How a case wants its transport configured.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// The transport's response size cap.
    pub max_response_bytes: u64,
    /// The connect timeout.
    pub connect_timeout: Duration,
    /// The overall timeout of one attempt.
    pub timeout: Duration,
    /// The retry policy.
    pub retry_policy: RetryPolicy,
}

impl Default for Settings {
    /// The adapters' defaults, with faster retries so the suite stays quick: 20 ms base delay,
    /// at most 3 s per wait and 10 s in all.
    fn default() -> Self {
        Self {
            max_response_bytes: 1024 * 1024,
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(10),
            retry_policy: fast_retries(),
        }
    }
}

/// [`RetryPolicy::default`] with a 20 ms base delay: four attempts, waits of 10–20, 20–40 and
/// 40–80 ms unless the server says otherwise.
#[must_use]
pub fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .base_delay(Duration::from_millis(20))
        .max_delay(Duration::from_secs(3))
        .max_total(Duration::from_secs(10))
}

/// An adapter, seen the same way from every case.
pub trait Driver: Sized {
    /// The adapter's name, for messages.
    const NAME: &'static str;

    /// A transport with these settings.
    fn new(settings: Settings) -> Self;

    /// `Transport::send`.
    ///
    /// # Errors
    ///
    /// What the adapter returns.
    fn send<E>(&self, exchange: E) -> Result<E::Output, Error>
    where
        E: Exchange + Send + 'static,
        E::Output: Send + 'static;

    /// `Transport::execute`.
    ///
    /// # Errors
    ///
    /// What the adapter returns.
    fn execute(&self, request: &Request) -> Result<Response, Error>;
}

/// The blocking adapter, `latchkey_ureq::Transport`.
#[derive(Debug)]
pub struct Ureq(latchkey_ureq::Transport);

impl Driver for Ureq {
    const NAME: &'static str = "ureq";

    fn new(settings: Settings) -> Self {
        Self(
            latchkey_ureq::Transport::builder()
                .max_response_bytes(settings.max_response_bytes)
                .connect_timeout(settings.connect_timeout)
                .timeout(settings.timeout)
                .retry_policy(settings.retry_policy)
                .build(),
        )
    }

    fn send<E>(&self, exchange: E) -> Result<E::Output, Error>
    where
        E: Exchange + Send + 'static,
        E::Output: Send + 'static,
    {
        self.0.send(exchange)
    }

    fn execute(&self, request: &Request) -> Result<Response, Error> {
        self.0.execute(request)
    }
}

/// The async adapter, `latchkey_reqwest::Transport`, on a current-thread tokio runtime.
#[derive(Debug)]
pub struct Reqwest {
    transport: latchkey_reqwest::Transport,
    runtime: tokio::runtime::Runtime,
}

impl Driver for Reqwest {
    const NAME: &'static str = "reqwest";

    fn new(settings: Settings) -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let transport = latchkey_reqwest::Transport::builder()
            .max_response_bytes(settings.max_response_bytes)
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.timeout)
            .retry_policy(settings.retry_policy)
            .build();
        Self { transport, runtime }
    }

    fn send<E>(&self, exchange: E) -> Result<E::Output, Error>
    where
        E: Exchange + Send + 'static,
        E::Output: Send + 'static,
    {
        let transport = self.transport.clone();
        // `tokio::spawn` only accepts a `Send + 'static` future: this line is the proof.
        let task = async move { transport.send(exchange).await };
        self.runtime
            .block_on(async move { tokio::spawn(task).await })
            .expect("the send task panicked")
    }

    fn execute(&self, request: &Request) -> Result<Response, Error> {
        self.runtime.block_on(self.transport.execute(request))
    }
}

/// A driver plus a record of everything formatted during one case, checked for secrets when
/// the case ends.
#[derive(Debug)]
pub struct Session<D: Driver> {
    driver: D,
    text: Mutex<Vec<String>>,
    secrets: Mutex<Vec<String>>,
}

impl<D: Driver> Session<D> {
    /// A session with the default [`Settings`].
    #[must_use]
    pub fn new() -> Self {
        Self::with(Settings::default())
    }

    /// A session whose transport has these settings.
    #[must_use]
    pub fn with(settings: Settings) -> Self {
        Self {
            driver: D::new(settings),
            text: Mutex::new(Vec::new()),
            secrets: Mutex::new(Vec::new()),
        }
    }

    /// Sends an exchange, recording its `Debug`, its request's `Debug` and the outcome.
    ///
    /// # Errors
    ///
    /// What the adapter returns.
    pub fn send<E>(&self, exchange: E) -> Result<E::Output, Error>
    where
        E: Exchange + Debug + Send + 'static,
        E::Output: Debug + Send + 'static,
    {
        self.note(format!("{exchange:?}"));
        self.note(format!("{:?}", exchange.request()));
        let result = self.driver.send(exchange);
        self.note_result(&result);
        result
    }

    /// Executes one request, recording it and the outcome.
    ///
    /// # Errors
    ///
    /// What the adapter returns.
    pub fn execute(&self, request: &Request) -> Result<Response, Error> {
        self.note(format!("{request:?}"));
        let result = self.driver.execute(request);
        self.note_result(&result);
        result
    }

    /// Records any text that must not contain a secret.
    pub fn note(&self, text: String) {
        self.text
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(text);
    }

    /// Registers a secret that no recorded text may contain.
    pub fn secret(&self, secret: &str) {
        assert!(
            secret.len() >= 8,
            "too short to be a useful secret: {secret}"
        );
        self.secrets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(secret.to_owned());
    }

    /// Registers the access and refresh tokens of a token set.
    pub fn tokens(&self, tokens: &TokenSet) {
        self.secret(tokens.access_token().expose_secret());
        if let Some(refresh) = tokens.refresh_token() {
            self.secret(refresh.expose_secret());
        }
    }

    fn note_result<T: Debug>(&self, result: &Result<T, Error>) {
        match result {
            Ok(output) => self.note(format!("{output:?}")),
            Err(error) => {
                self.note(format!("{error:?}"));
                self.note(format!("{error}"));
                self.note(chain(error));
            }
        }
    }

    /// Asserts that no recorded text contains a registered secret. Also runs on drop.
    ///
    /// # Panics
    ///
    /// When one does.
    pub fn check_secrets(&self) {
        let text = self.text.lock().unwrap_or_else(|e| e.into_inner());
        let secrets = self.secrets.lock().unwrap_or_else(|e| e.into_inner());
        for secret in secrets.iter() {
            for line in text.iter() {
                assert!(
                    !line.contains(secret.as_str()),
                    "[{}] a secret was formatted: {line}",
                    D::NAME
                );
            }
        }
    }
}

impl<D: Driver> Default for Session<D> {
    fn default() -> Self {
        Self::new()
    }
}

impl<D: Driver> Drop for Session<D> {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.check_secrets();
        }
    }
}

/// An error's `Display` followed by every `source()`'s, as error reporters print them.
#[must_use]
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(" <- ");
        text.push_str(&inner.to_string());
        text.push_str(&format!(" {inner:?}"));
        source = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "a secret was formatted")]
    fn the_scan_catches_a_leak() {
        let session = Session::<Ureq>::new();
        session.secret("hunter2-hunter2");
        session.note("token=hunter2-hunter2".to_owned());
        session.check_secrets();
    }
}
