//! # latchkey-ureq: the blocking adapter
//!
//! [`latchkey`] describes every OAuth 2.0 network step as an [`Exchange`]; this crate carries
//! those steps over [ureq](https://docs.rs/ureq) 3, blocking the calling thread.
//! [`Transport::send`] asks the exchange for its request, sends it, and hands the answer back:
//!
//! ```text
//! exchange.request() ──► Transport: check URL ─► send ─► no redirects, size cap, timeouts
//!                                    ▲                         │
//!                                    └── sleep ◄── retry? ◄────┤ (the core decides)
//! exchange.response(Response) ◄──────────────────────────────┘
//! ```
//!
//! ## Quickstart
//!
//! ```
//! # use latchkey_mock::{MockClient, MockServer};
//! # let server = MockServer::builder().client(MockClient::new("my-app").secret("s3cret")).start();
//! # let token_endpoint = server.token_endpoint();
//! use latchkey::Client;
//! use latchkey_ureq::Transport;
//!
//! let client = Client::builder("my-app")
//!     .client_secret("s3cret")
//!     .token_endpoint(token_endpoint) // e.g. "https://auth.example.com/oauth/token"
//!     .build()?;
//!
//! let transport = Transport::new();
//! let tokens = transport.send(client.client_credentials()?.scope("read"))?;
//! assert!(!tokens.access_token().expose_secret().is_empty());
//! # Ok::<(), latchkey::Error>(())
//! ```
//!
//! ## What the transport enforces
//!
//! The core decides, the transport carries out. On every request, by default:
//!
//! - **No redirects.** A 3xx answer is an [`Error::Transport`] of kind
//!   [`Redirect`](TransportErrorKind::Redirect); nothing is sent to its `Location`, so a code,
//!   a secret or a token is never forwarded to another host. (The core marks every OAuth
//!   request `follow_redirects = false`; this transport follows none either way.) This
//!   holds for a caller's own [`ureq::Agent`] too: the safety settings are applied again on
//!   each request.
//! - **A size cap** on the response body: the smaller of
//!   [`TransportBuilder::max_response_bytes`] (1 MiB by default) and the request's own
//!   `max_response_bytes`. A larger `Content-Length` is refused at once; any other body is
//!   read incrementally and dropped as soon as it passes the cap
//!   ([`TooLarge`](TransportErrorKind::TooLarge)).
//! - **Timeouts**: 10 s for the DNS lookup and 10 s to connect (TCP and TLS), 30 s in all,
//!   lookup and body included ([`Timeout`](TransportErrorKind::Timeout)).
//! - **Only `https`**, or `http` to a loopback host, unless
//!   [`allow_insecure_http`](TransportBuilder::allow_insecure_http) is set. A refused URL is
//!   refused before any DNS lookup.
//! - **Retries only where safe**, as [`RetryPolicy::decide`] says: client credentials and
//!   userinfo are sent again after a timeout, a dropped connection, 429, 502, 503 or 504
//!   (honouring `Retry-After`); an authorization code or a refresh token only when connecting
//!   failed, so it certainly never reached the server.
//!
//! HTTP error statuses (4xx, 5xx) are not transport errors: they go to
//! [`Exchange::response`], which turns them into the server's own OAuth error. Every response
//! header is passed through (`WWW-Authenticate`, `Retry-After`, `DPoP-Nonce`...). Error
//! messages name the host, never a request body, an `Authorization` header or a query string.
//!
//! ## Token manager
//!
//! [`TokenManager`] keeps one grant's tokens and hands out a valid access token to every
//! thread that asks, renewing it (refresh token, or client credentials again) when it is
//! within the [`Lifecycle`](latchkey::Lifecycle)'s skew of its expiry:
//!
//! - **Exactly one renewal in flight**, however many threads call
//!   [`access_token`](TokenManager::access_token) at once; the others wait and share its token
//!   or its error. A failed renewal is retried by the next call, after a backoff;
//!   `invalid_grant` becomes [`Error::Reauthorize`].
//! - **Saved before use**: every new token set goes to the [`TokenStore`] ([`MemoryStore`] by
//!   default, or the atomic, mode-0600 `FileStore` of the `file-store` feature) and then to
//!   `on_refresh`, before any caller gets the new access token, so a rotated refresh token
//!   is never only in memory.
//! - **Bearer requests**: [`execute`](TokenManager::execute) sends a [`Request`] with
//!   `Authorization: Bearer`, only to the configured origins, never through a redirect, and
//!   after a `401` with `error="invalid_token"` renews once and retries once.
//! - **Panic-safe**: a thread that panics while renewing (in a store or callback) wakes the
//!   waiters with an error; the next call renews again.
//!
//! ```
//! # use latchkey_mock::{MockClient, MockServer};
//! # let server = MockServer::builder().client(MockClient::new("svc").secret("s3cret")).start();
//! use latchkey::{Client, Lifecycle, Method, Request, RetryMode, TokenSource, Url};
//! use latchkey_ureq::{TokenManager, Transport};
//!
//! let client = Client::builder("svc")
//!     .client_secret("s3cret")
//!     .token_endpoint(server.token_endpoint())
//!     .build()?;
//! let source = TokenSource::ClientCredentials { scope: "read".into(), params: Vec::new() };
//! let manager = TokenManager::builder(Transport::new(), Lifecycle::new(client, source))
//!     .resource_origin(server.url()) // e.g. "https://api.example.com"
//!     .build()?;
//!
//! // Fetched once, then reused until 60 s before it expires.
//! let token = manager.access_token()?;
//! assert_eq!(manager.access_token()?.expose_secret(), token.expose_secret());
//!
//! let url = Url::parse(&server.userinfo_endpoint()).expect("a URL");
//! let response = manager.execute(&Request::new(Method::Get, url, RetryMode::Idempotent))?;
//! assert_eq!(response.status, 200);
//! # Ok::<(), latchkey::Error>(())
//! ```
//!
//! ## Features
//!
//! - `rustls` (default): TLS through rustls with the webpki roots (ureq's default).
//! - `native-tls`: the platform's TLS library; use with `default-features = false`.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

use std::fmt;
use std::io::{self, Read};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use latchkey::drive::{Action, DevicePolling, Drive, Headers, SendDriver};
use latchkey::{
    DevicePoll, Error, Exchange, Request, Response, RetryPolicy, TokenSet, TransportError,
    TransportErrorKind,
};

mod manager;

/// latchkey's settings on a ureq configuration builder (an agent's or a request's: the two
/// builders are different types): no redirects, statuses as answers, the timeouts. All of
/// them are ureq's stable configuration.
///
/// ureq's connect phase starts after the DNS lookup, so the connect timeout bounds the lookup
/// (`timeout_resolve`) and then the connection itself, TLS included (`timeout_connect`); the
/// overall timeout (`timeout_global`) bounds the whole attempt, lookup and body included.
macro_rules! safety_settings {
    ($builder:expr, $settings:expr) => {
        $builder
            .max_redirects(0)
            .max_redirects_will_error(false)
            .save_redirect_history(false)
            .http_status_as_error(false)
            .timeout_resolve(Some($settings.connect_timeout))
            .timeout_connect(Some($settings.connect_timeout))
            .timeout_global(Some($settings.timeout))
    };
}

pub use latchkey::{MemoryStore, StoreError, TokenStore};
#[cfg(feature = "file-store")]
pub use latchkey_store::FileStore;
pub use manager::{TokenManager, TokenManagerBuilder};

/// Sends latchkey exchanges over ureq: blocking, no redirects, a response size cap, timeouts
/// and safe retries.
///
/// Cheap to clone (the agent and its connection pool are shared); `Send + Sync`.
#[derive(Clone)]
pub struct Transport {
    agent: ureq::Agent,
    /// True for the transport's own agent, built with the safety settings: its requests need
    /// no per-request configuration. A caller's agent gets them again on every request.
    agent_configured: bool,
    settings: Settings,
    clock: Clock,
}

/// Configures a [`Transport`]. Created by [`Transport::builder`].
#[must_use]
pub struct TransportBuilder {
    agent: Option<ureq::Agent>,
    settings: Settings,
    clock: Option<Clock>,
}

impl fmt::Debug for TransportBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportBuilder")
            .field("agent", &self.agent)
            .field("settings", &self.settings)
            .field("clock", &self.clock.as_ref().map(|_| "custom"))
            .finish()
    }
}

/// The wall clock the transport stamps responses with (and token managers decide by).
type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

fn system_clock() -> Clock {
    Arc::new(SystemTime::now)
}

/// The safety settings, applied to every request (defined in the core, shared by both
/// adapters).
type Settings = latchkey::drive::TransportSettings;

impl Default for Transport {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Transport {
    /// A transport with the safe defaults: no redirects, 1 MiB response cap, 10 s connect
    /// timeout, 30 s overall timeout, `https` only (or `http` to loopback),
    /// [`RetryPolicy::default`].
    #[must_use]
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// Starts configuring a transport.
    pub fn builder() -> TransportBuilder {
        TransportBuilder {
            agent: None,
            settings: Settings::default(),
            clock: None,
        }
    }

    /// The current time by this transport's clock ([`SystemTime::now`] unless
    /// [`TransportBuilder::clock`] set another). Responses are stamped with it, so token
    /// lifetimes and a [`TokenManager`]'s decisions use the same time.
    #[must_use]
    pub fn now(&self) -> SystemTime {
        (self.clock)()
    }

    /// Sends `exchange`'s request, retrying where its [`RetryMode`](latchkey::RetryMode) and
    /// the retry policy allow, and feeds the answer to [`Exchange::response`].
    ///
    /// Blocks the calling thread, including while it waits between attempts.
    ///
    /// # Errors
    ///
    /// [`Error::Transport`] when no usable answer arrived (refused URL, connection failure,
    /// timeout, redirect, oversized body), else whatever [`Exchange::response`] returns: the
    /// server's OAuth error ([`Error::Server`]) or an unusable answer ([`Error::Response`]).
    pub fn send<E: Exchange>(&self, exchange: E) -> Result<E::Output, Error> {
        self.run(SendDriver::new(exchange, &self.settings))
    }

    /// Sends one request once: no retry, but every safety setting applied (URL check, no
    /// redirects, size cap, timeouts). A 4xx or 5xx answer is an `Ok` [`Response`].
    ///
    /// # Errors
    ///
    /// [`Error::Transport`] when no usable answer arrived.
    pub fn execute(&self, request: &Request) -> Result<Response, Error> {
        self.run(SendDriver::once(request.clone(), &self.settings))
    }

    /// Polls the token endpoint until the user approves the device, blocking the calling
    /// thread: waits as [`DevicePoll::wait`](latchkey::DevicePoll::wait) says (the interval,
    /// 5 s more after each `slow_down`), sends each poll like [`send`](Self::send), and
    /// stops when the device code expires.
    ///
    /// ```no_run
    /// # fn demo(client: latchkey::Client) -> Result<(), latchkey::Error> {
    /// let transport = latchkey_ureq::Transport::new();
    /// let auth = transport.send(client.device_authorization()?.scope("read"))?;
    /// println!("Open {} and enter {}", auth.verification_uri, auth.user_code);
    /// let tokens = transport.poll_device(auth.poller(&client)?)?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Server`] with `access_denied` (the user said no), `expired_token` (from the
    /// server, or with no HTTP status when the code ran out here before the user acted) or
    /// any other code the server sent; [`Error::Transport`] when a poll got no usable answer.
    pub fn poll_device(&self, poll: DevicePoll) -> Result<TokenSet, Error> {
        self.run(DevicePolling::new(poll, &self.settings))
    }

    /// [`poll_device`](Self::poll_device) with a hook called before every poll and about once
    /// a second while waiting, for a live countdown.
    ///
    /// # Errors
    ///
    /// As for [`poll_device`](Self::poll_device).
    pub fn poll_device_with(
        &self,
        poll: DevicePoll,
        on_wait: impl FnMut(DeviceWait),
    ) -> Result<TokenSet, Error> {
        self.run(DevicePolling::with_progress(poll, &self.settings, on_wait))
    }

    /// Runs a core driver to its end: performs each [`Action`] it asks for, on this
    /// transport's clock. Every flow above is this loop around a driver.
    ///
    /// # Errors
    ///
    /// Whatever the driver finishes with.
    pub fn run<D: Drive>(&self, mut driver: D) -> Result<D::Output, Error> {
        loop {
            match driver.next(self.now()) {
                Action::Send(request) => driver.received(self.attempt(&request), self.now()),
                Action::Sleep(wait) => std::thread::sleep(wait),
                Action::Done(outcome) => return outcome,
            }
        }
    }

    /// One attempt: send, read the body up to the cap the request carries. Every status,
    /// 3xx included, is an answer for the driver to judge.
    fn attempt(&self, request: &Request) -> Result<Response, TransportError> {
        let host = latchkey::host_port(&request.url);
        let cap = request
            .max_response_bytes
            .unwrap_or(self.settings.max_response_bytes);
        let mut builder = ureq::http::Request::builder()
            .method(request.method.as_str())
            .uri(request.url.as_str());
        for (name, value) in request.headers.iter() {
            builder = builder.header(name, value);
        }
        // Neither the URL nor header values go into the message: they may hold secrets.
        let http_request = builder.body(request.body.as_slice()).map_err(|_| {
            TransportError::new(
                TransportErrorKind::Other,
                format!("cannot build the request to {host}: invalid method, URL or header"),
            )
            .final_failure()
        })?;
        // A request-level configuration is a copy of the whole agent configuration, stored in
        // the request's extensions: only a caller's agent needs one.
        let http_request = if self.agent_configured {
            http_request
        } else {
            safety_settings!(self.agent.configure_request(http_request), self.settings).build()
        };
        let response = self
            .agent
            .run(http_request)
            .map_err(|e| from_ureq(e, &host))?;
        let status = response.status().as_u16();
        let headers = copy_headers(response.headers());
        let announced = content_length(&headers);
        if let Some(length) = announced.filter(|length| *length > cap) {
            return Err(too_large(cap, format!("{host} announced {length} bytes")));
        }
        // Sized by the announced length, which is within the cap.
        let mut body = Vec::with_capacity(
            announced
                .and_then(|length| usize::try_from(length).ok())
                .unwrap_or(0),
        );
        response
            .into_body()
            .into_reader()
            .take(cap.saturating_add(1))
            .read_to_end(&mut body)
            .map_err(|e| from_read(e, &host))?;
        if u64::try_from(body.len()).unwrap_or(u64::MAX) > cap {
            return Err(too_large(
                cap,
                format!("{host} sent more; the rest was not read"),
            ));
        }
        Ok(Response::new(status, headers, body, self.now()))
    }
}

impl TransportBuilder {
    /// Caps every response body at this many bytes (default 1 MiB). A request's own, lower
    /// `max_response_bytes` wins.
    pub fn max_response_bytes(mut self, bytes: u64) -> Self {
        self.settings.max_response_bytes = bytes;
        self
    }

    /// The longest wait for the DNS lookup, and again for the connection itself, TLS
    /// included (default 10 s). Both also count towards [`timeout`](Self::timeout).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.settings.connect_timeout = timeout;
        self
    }

    /// The longest time one attempt may take, from connecting to the last body byte
    /// (default 30 s). Waits between retries are bounded by the retry policy instead.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.settings.timeout = timeout;
        self
    }

    /// Allows plain `http://` to hosts other than loopback (default `false`). Only for tests
    /// and closed networks: codes, secrets and tokens then travel in clear text.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.settings.allow_insecure_http = allow;
        self
    }

    /// How [`Transport::send`] retries (default [`RetryPolicy::default`]; use
    /// [`RetryPolicy::never`] to send each request once).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.settings.retry_policy = policy;
        self
    }

    /// Reads the time from `clock` instead of [`SystemTime::now`]: responses are stamped
    /// with it (so token lifetimes count from it) and a [`TokenManager`] decides by it. For
    /// tests that move time across an expiry without sleeping.
    pub fn clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Sends through a caller-built agent, for its connection pool, proxy or TLS settings.
    ///
    /// The safety settings are applied again to every request through ureq's per-request
    /// configuration (no redirects, 4xx/5xx as answers rather than errors, this transport's
    /// timeouts), so an agent configured otherwise can neither follow a redirect nor hide the
    /// server's error. The agent's middleware, if any, still runs: it is the caller's code,
    /// and so are the connector and resolver of an agent built with ureq's low-level parts.
    pub fn agent(mut self, agent: ureq::Agent) -> Self {
        self.agent = Some(agent);
        self
    }

    /// Builds the transport, like [`build`](Self::build).
    ///
    /// # Errors
    ///
    /// Never with ureq, whose agents cannot fail to build; it is here so that code reads the
    /// same with `latchkey-reqwest`, where building the HTTP client can fail.
    pub fn try_build(self) -> Result<Transport, Error> {
        Ok(self.build())
    }

    /// Builds the transport.
    pub fn build(self) -> Transport {
        let agent_configured = self.agent.is_none();
        // The same settings a caller's agent gets on every request (`Transport::attempt`),
        // set once on the agent: its requests need no configuration of their own.
        let agent = self.agent.unwrap_or_else(|| {
            safety_settings!(ureq::Agent::config_builder(), self.settings)
                .build()
                .new_agent()
        });
        Transport {
            agent,
            agent_configured,
            settings: self.settings,
            clock: self.clock.unwrap_or_else(system_clock),
        }
    }
}

/// A body over the cap: never worth sending again.
fn too_large(limit: u64, message: String) -> TransportError {
    TransportError::new(TransportErrorKind::TooLarge { limit }, message)
}

/// Classifies a failure before the response headers arrived. Only a failure to connect
/// means the request certainly never reached the server.
fn from_ureq(error: ureq::Error, host: &str) -> TransportError {
    use TransportErrorKind::{Connect, InsecureUrl, Other, Timeout};
    use ureq::Error as U;
    let (kind, never_sent, last) = match &error {
        U::HostNotFound
        | U::ConnectionFailed
        | U::ConnectProxyFailed(_)
        | U::InvalidProxyUrl
        | U::Tls(_)
        | U::TlsRequired => (Connect, true, false),
        #[cfg(feature = "rustls")]
        U::Rustls(_) => (Connect, true, false),
        U::Io(e) if is_connect_error(e.kind()) => (Connect, true, false),
        U::Io(e) if e.kind() == io::ErrorKind::TimedOut => (Timeout, false, false),
        U::Timeout(ureq::Timeout::Resolve | ureq::Timeout::Connect) => (Timeout, true, false),
        U::Timeout(_) => (Timeout, false, false),
        U::RequireHttpsOnly(_) => (InsecureUrl, false, true),
        U::BadUri(_) | U::Http(_) => (Other, false, true),
        _ => (Other, false, false),
    };
    let mut out = TransportError::new(kind, format!("{host}: {}", describe(&error)));
    if never_sent {
        out = out.never_sent();
    }
    if last {
        out = out.final_failure();
    }
    if !carries_text(&error) {
        out = out.with_source(error);
    }
    out
}

/// Classifies a failure while reading the body: the server has answered, so the request
/// reached it.
fn from_read(error: io::Error, host: &str) -> TransportError {
    let inner = error
        .get_ref()
        .and_then(|e| e.downcast_ref::<ureq::Error>());
    let timed_out =
        error.kind() == io::ErrorKind::TimedOut || matches!(inner, Some(ureq::Error::Timeout(_)));
    let kind = if timed_out {
        TransportErrorKind::Timeout
    } else {
        TransportErrorKind::Other
    };
    let reason = match inner {
        Some(inner) => describe(inner),
        None => error.to_string(),
    };
    TransportError::new(kind, format!("{host}: reading the response body: {reason}"))
}

/// True for the connection-setup failures of `std::net`: nothing was sent.
fn is_connect_error(kind: io::ErrorKind) -> bool {
    matches!(
        kind,
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::AddrNotAvailable
            | io::ErrorKind::NetworkUnreachable
            | io::ErrorKind::HostUnreachable
    )
}

/// True for ureq errors whose text may repeat a URL or a proxy address (and so a query string
/// or proxy credentials); those are described generically and not kept as the source.
fn carries_text(error: &ureq::Error) -> bool {
    matches!(
        error,
        ureq::Error::BadUri(_)
            | ureq::Error::RequireHttpsOnly(_)
            | ureq::Error::ConnectProxyFailed(_)
            | ureq::Error::Http(_)
    )
}

/// A ureq error as text that holds no URL.
fn describe(error: &ureq::Error) -> String {
    match error {
        ureq::Error::BadUri(_) => "invalid URL".to_owned(),
        ureq::Error::RequireHttpsOnly(_) => "the agent allows https only".to_owned(),
        ureq::Error::ConnectProxyFailed(_) => "the proxy refused CONNECT".to_owned(),
        ureq::Error::Http(_) => "invalid request".to_owned(),
        other => other.to_string(),
    }
}

/// Every response header, in order (invalid UTF-8 replaced; common names not copied).
fn copy_headers(map: &ureq::http::HeaderMap) -> Headers {
    let mut headers = Headers::new();
    headers.reserve(map.len());
    for (name, value) in map {
        headers.append_from_wire(name.as_str(), value.as_bytes());
    }
    headers
}

/// The `Content-Length` announced, if it is a number.
fn content_length(headers: &Headers) -> Option<u64> {
    headers.get("content-length")?.trim().parse().ok()
}

pub use latchkey::DeviceWait;

#[cfg(test)]
mod tests {
    use super::*;

    /// The transport's own agent carries every safety setting itself (its requests get no
    /// per-request configuration), with the builder's timeouts.
    #[test]
    fn the_default_agent_is_built_with_the_safety_settings() {
        let transport = Transport::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(7))
            .build();
        assert!(transport.agent_configured);
        let config = transport.agent.config();
        assert_eq!(config.max_redirects(), 0);
        assert!(!config.max_redirects_will_error());
        assert!(!config.save_redirect_history());
        assert!(!config.http_status_as_error());
        let timeouts = config.timeouts();
        assert_eq!(timeouts.resolve, Some(Duration::from_secs(3)));
        assert_eq!(timeouts.connect, Some(Duration::from_secs(3)));
        assert_eq!(timeouts.global, Some(Duration::from_secs(7)));

        let caller = Transport::builder()
            .agent(ureq::Agent::new_with_defaults())
            .build();
        assert!(!caller.agent_configured);
    }
}
