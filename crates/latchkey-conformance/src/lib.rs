//! # latchkey-conformance: one suite, every adapter
//!
//! The cases in [`cases`] drive every flow and dialect, and every fault the adapters must
//! handle, against [`latchkey_mock`] on loopback. They are written once, generic over a
//! [`Driver`], and stamped out for each adapter by the macro in `tests/conformance.rs`:
//!
//! - [`Ureq`]: `latchkey_ureq::Transport` and `TokenManager`, called directly (many callers at
//!   once are threads);
//! - [`Reqwest`]: `latchkey_reqwest::Transport` and `TokenManager`, whose futures are moved
//!   into `tokio::spawn` (which proves them `Send + 'static`) on a current-thread runtime
//!   (many callers at once are tasks).
//!
//! Besides the flows and faults of one exchange, the cases cover the token managers over real
//! HTTP (bearer requests, the save before any caller gets a token), the protocols past
//! RFC 6749 (discovery, device polling, revocation and introspection, PAR, token exchange and
//! resource indicators), and the traits every transport and manager has. The managers'
//! decisions themselves are tested once, on virtual time, in the core.
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
use std::sync::{Barrier, Mutex};
use std::thread;
use std::time::Duration;

use latchkey::manage::{ManagedTransport, TokenManagerBuilder};
use latchkey::{
    AccessToken, DevicePoll, DeviceWait, Error, Exchange, Lifecycle, Request, Response,
    RetryPolicy, TokenSet,
};

pub mod cases;
pub mod fixture;
pub mod fleet;
pub mod fleet_tasks;

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

/// What one of many callers asking at once got: `None` when the caller panicked.
pub type Outcome = Option<Result<AccessToken, Error>>;

/// An adapter, seen the same way from every case.
pub trait Driver: Sized {
    /// The adapter's name, for messages.
    const NAME: &'static str;

    /// The adapter's `Transport`: every one is cheap to clone, `Debug`, `Send + Sync`, has a
    /// default, and manages tokens.
    type Transport: ManagedTransport<Manager = Self::Manager>
        + Clone
        + Debug
        + Default
        + Send
        + Sync
        + 'static;

    /// The adapter's `TokenManager`: cheap to clone, `Debug`, `Send + Sync`.
    type Manager: Clone + Debug + Send + Sync + 'static;

    /// `TransportBuilder::try_build` with these settings.
    ///
    /// # Errors
    ///
    /// What the adapter returns.
    fn build(settings: Settings) -> Result<Self::Transport, Error>;

    /// A driver whose transport has these settings.
    fn new(settings: Settings) -> Self;

    /// The driver's transport.
    fn transport(&self) -> &Self::Transport;

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

    /// `Transport::poll_device`.
    ///
    /// # Errors
    ///
    /// What the adapter returns.
    fn poll_device(&self, poll: DevicePoll) -> Result<TokenSet, Error>;

    /// `Transport::poll_device_with`.
    ///
    /// # Errors
    ///
    /// What the adapter returns.
    fn poll_device_with<F>(&self, poll: DevicePoll, on_wait: F) -> Result<TokenSet, Error>
    where
        F: FnMut(DeviceWait) + Send + 'static;

    /// `TokenManager::access_token`, from `callers` threads or tasks at once.
    fn access_tokens(&self, manager: &Self::Manager, callers: usize) -> Vec<Outcome>;

    /// `TokenManager::execute`.
    ///
    /// # Errors
    ///
    /// What the adapter returns.
    fn execute_bearer(&self, manager: &Self::Manager, request: &Request)
    -> Result<Response, Error>;

    /// `TokenManager::set_tokens`.
    ///
    /// # Errors
    ///
    /// What the adapter returns.
    fn set_tokens(&self, manager: &Self::Manager, tokens: TokenSet) -> Result<(), Error>;

    /// `TokenManager::tokens`.
    fn tokens(manager: &Self::Manager) -> Option<TokenSet>;
}

/// The transport builder's settings, for either adapter.
macro_rules! configure {
    ($builder:expr, $settings:expr) => {
        $builder
            .max_response_bytes($settings.max_response_bytes)
            .connect_timeout($settings.connect_timeout)
            .timeout($settings.timeout)
            .retry_policy($settings.retry_policy)
    };
}

/// The blocking adapter, `latchkey_ureq`.
#[derive(Debug)]
pub struct Ureq(latchkey_ureq::Transport);

impl Driver for Ureq {
    const NAME: &'static str = "ureq";
    type Transport = latchkey_ureq::Transport;
    type Manager = latchkey_ureq::TokenManager;

    fn build(settings: Settings) -> Result<Self::Transport, Error> {
        configure!(latchkey_ureq::Transport::builder(), settings).try_build()
    }

    fn new(settings: Settings) -> Self {
        Self(configure!(latchkey_ureq::Transport::builder(), settings).build())
    }

    fn transport(&self) -> &Self::Transport {
        &self.0
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

    fn poll_device(&self, poll: DevicePoll) -> Result<TokenSet, Error> {
        self.0.poll_device(poll)
    }

    fn poll_device_with<F>(&self, poll: DevicePoll, on_wait: F) -> Result<TokenSet, Error>
    where
        F: FnMut(DeviceWait) + Send + 'static,
    {
        self.0.poll_device_with(poll, on_wait)
    }

    fn access_tokens(&self, manager: &Self::Manager, callers: usize) -> Vec<Outcome> {
        let barrier = Barrier::new(callers);
        thread::scope(|scope| {
            let threads: Vec<_> = (0..callers)
                .map(|_| {
                    scope.spawn(|| {
                        barrier.wait();
                        manager.access_token()
                    })
                })
                .collect();
            threads.into_iter().map(|t| t.join().ok()).collect()
        })
    }

    fn execute_bearer(
        &self,
        manager: &Self::Manager,
        request: &Request,
    ) -> Result<Response, Error> {
        manager.execute(request)
    }

    fn set_tokens(&self, manager: &Self::Manager, tokens: TokenSet) -> Result<(), Error> {
        manager.set_tokens(tokens)
    }

    fn tokens(manager: &Self::Manager) -> Option<TokenSet> {
        manager.tokens()
    }
}

/// The async adapter, `latchkey_reqwest`, on a current-thread tokio runtime.
#[derive(Debug)]
pub struct Reqwest {
    transport: latchkey_reqwest::Transport,
    runtime: tokio::runtime::Runtime,
}

impl Reqwest {
    /// Runs `future` in a task of its own: `tokio::spawn` only accepts a `Send + 'static`
    /// future, so this is the proof that the adapter's futures are.
    fn spawned<T: Send + 'static>(&self, future: impl Future<Output = T> + Send + 'static) -> T {
        self.runtime
            .block_on(async move { tokio::spawn(future).await })
            .expect("the task panicked")
    }
}

impl Driver for Reqwest {
    const NAME: &'static str = "reqwest";
    type Transport = latchkey_reqwest::Transport;
    type Manager = latchkey_reqwest::TokenManager;

    fn build(settings: Settings) -> Result<Self::Transport, Error> {
        configure!(latchkey_reqwest::Transport::builder(), settings).try_build()
    }

    fn new(settings: Settings) -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let transport = configure!(latchkey_reqwest::Transport::builder(), settings).build();
        Self { transport, runtime }
    }

    fn transport(&self) -> &Self::Transport {
        &self.transport
    }

    fn send<E>(&self, exchange: E) -> Result<E::Output, Error>
    where
        E: Exchange + Send + 'static,
        E::Output: Send + 'static,
    {
        let transport = self.transport.clone();
        self.spawned(async move { transport.send(exchange).await })
    }

    fn execute(&self, request: &Request) -> Result<Response, Error> {
        self.runtime.block_on(self.transport.execute(request))
    }

    fn poll_device(&self, poll: DevicePoll) -> Result<TokenSet, Error> {
        let transport = self.transport.clone();
        self.spawned(async move { transport.poll_device(poll).await })
    }

    fn poll_device_with<F>(&self, poll: DevicePoll, on_wait: F) -> Result<TokenSet, Error>
    where
        F: FnMut(DeviceWait) + Send + 'static,
    {
        let transport = self.transport.clone();
        self.spawned(async move { transport.poll_device_with(poll, on_wait).await })
    }

    fn access_tokens(&self, manager: &Self::Manager, callers: usize) -> Vec<Outcome> {
        self.runtime.block_on(async {
            let tasks: Vec<_> = (0..callers)
                .map(|_| {
                    let manager = manager.clone();
                    tokio::spawn(async move { manager.access_token().await })
                })
                .collect();
            let mut outcomes = Vec::with_capacity(callers);
            for task in tasks {
                outcomes.push(task.await.ok());
            }
            outcomes
        })
    }

    fn execute_bearer(
        &self,
        manager: &Self::Manager,
        request: &Request,
    ) -> Result<Response, Error> {
        let (manager, request) = (manager.clone(), request.clone());
        self.spawned(async move { manager.execute(&request).await })
    }

    fn set_tokens(&self, manager: &Self::Manager, tokens: TokenSet) -> Result<(), Error> {
        self.runtime.block_on(manager.set_tokens(tokens))
    }

    fn tokens(manager: &Self::Manager) -> Option<TokenSet> {
        manager.tokens()
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

    /// The driver.
    pub fn driver(&self) -> &D {
        &self.driver
    }

    /// Starts configuring a token manager over this session's transport.
    pub fn manage(&self, lifecycle: Lifecycle) -> TokenManagerBuilder<D::Transport> {
        TokenManagerBuilder::new(self.driver.transport().clone(), lifecycle)
    }

    /// One caller's `access_token`, recording the outcome.
    ///
    /// # Errors
    ///
    /// What the adapter returns.
    pub fn access_token(&self, manager: &D::Manager) -> Result<AccessToken, Error> {
        let mut outcomes = self.access_tokens(manager, 1);
        outcomes.pop().flatten().expect("the caller did not panic")
    }

    /// `callers` callers' `access_token` at once, recording the outcomes and registering
    /// every token handed out as a secret.
    pub fn access_tokens(&self, manager: &D::Manager, callers: usize) -> Vec<Outcome> {
        let outcomes = self.driver.access_tokens(manager, callers);
        for outcome in outcomes.iter().flatten() {
            if let Ok(token) = outcome {
                self.secret(token.expose_secret());
            }
            self.note_result(outcome);
        }
        self.note_manager(manager);
        outcomes
    }

    /// The manager's `execute`, recording the request and the outcome.
    ///
    /// # Errors
    ///
    /// What the adapter returns.
    pub fn execute_bearer(
        &self,
        manager: &D::Manager,
        request: &Request,
    ) -> Result<Response, Error> {
        self.note(format!("{request:?}"));
        let result = self.driver.execute_bearer(manager, request);
        self.note_result(&result);
        self.note_manager(manager);
        result
    }

    /// The manager's `set_tokens`, registering the tokens as secrets.
    ///
    /// # Errors
    ///
    /// What the adapter returns.
    pub fn set_tokens(&self, manager: &D::Manager, tokens: TokenSet) -> Result<(), Error> {
        self.tokens(&tokens);
        let result = self.driver.set_tokens(manager, tokens);
        self.note_result(&result);
        self.note_manager(manager);
        result
    }

    /// The manager's current token set, registered as secrets.
    pub fn current(&self, manager: &D::Manager) -> Option<TokenSet> {
        let tokens = D::tokens(manager);
        if let Some(tokens) = &tokens {
            self.tokens(tokens);
        }
        tokens
    }

    /// Polls the token endpoint for a device, recording the outcome.
    ///
    /// # Errors
    ///
    /// What the adapter returns.
    pub fn poll_device(&self, poll: DevicePoll) -> Result<TokenSet, Error> {
        self.note(format!("{poll:?}"));
        let result = self.driver.poll_device(poll);
        self.note_polled(&result);
        result
    }

    /// Polls the token endpoint for a device with a progress hook, recording the outcome.
    ///
    /// # Errors
    ///
    /// What the adapter returns.
    pub fn poll_device_with<F>(&self, poll: DevicePoll, on_wait: F) -> Result<TokenSet, Error>
    where
        F: FnMut(DeviceWait) + Send + 'static,
    {
        self.note(format!("{poll:?}"));
        let result = self.driver.poll_device_with(poll, on_wait);
        self.note_polled(&result);
        result
    }

    fn note_polled(&self, result: &Result<TokenSet, Error>) {
        if let Ok(tokens) = result {
            self.tokens(tokens);
        }
        self.note_result(result);
    }

    /// Records the manager's `Debug` (the current tokens are registered first).
    fn note_manager(&self, manager: &D::Manager) {
        let _ = self.current(manager);
        self.note(format!("{manager:?}"));
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
        if !thread::panicking() {
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
