//! # latchkey-reqwest: the async adapter
//!
//! [`latchkey`] describes every OAuth 2.0 network step as an [`Exchange`]; this crate carries
//! those steps over [reqwest](https://docs.rs/reqwest) on tokio. [`Transport::send`] asks the
//! exchange for its request, sends it, and hands the answer back:
//!
//! ```text
//! exchange.request() ──► Transport: check URL ─► send ─► no redirects, size cap, timeouts
//!                                    ▲                         │
//!                                    └── sleep ◄── retry? ◄────┤ (the core decides)
//! exchange.response(Response) ◄──────────────────────────────┘
//! ```
//!
//! It is method for method the same as `latchkey-ureq`'s blocking transport, with `async`
//! [`send`](Transport::send) and [`execute`](Transport::execute). Their futures are `Send`,
//! so they can run in `tokio::spawn` and in axum handlers.
//!
//! ## Quickstart
//!
//! ```
//! # use latchkey_mock::{MockClient, MockServer};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), latchkey::Error> {
//! # let server = MockServer::builder().client(MockClient::new("my-app").secret("s3cret")).start();
//! # let token_endpoint = server.token_endpoint();
//! use latchkey::Client;
//! use latchkey_reqwest::Transport;
//!
//! let client = Client::builder("my-app")
//!     .client_secret("s3cret")
//!     .token_endpoint(token_endpoint) // e.g. "https://auth.example.com/oauth/token"
//!     .build()?;
//!
//! let transport = Transport::new();
//! let tokens = transport.send(client.client_credentials()?.scope("read")).await?;
//! assert!(!tokens.access_token().expose_secret().is_empty());
//! # Ok(())
//! # }
//! ```
//!
//! ## What the transport enforces
//!
//! The core decides, the transport carries out. On every request, by default:
//!
//! - **No redirects.** A 3xx answer is an [`Error::Transport`] of kind
//!   [`Redirect`](TransportErrorKind::Redirect); nothing is sent to its `Location`, so a code,
//!   a secret or a token is never forwarded to another host. (The core marks every OAuth
//!   request `follow_redirects = false`; this transport follows none either way.) A
//!   caller's own [`reqwest::ClientBuilder`] gets `redirect(Policy::none())` before it is
//!   built (see [`TransportBuilder::client_builder`]).
//! - **A size cap** on the response body: the smaller of
//!   [`TransportBuilder::max_response_bytes`] (1 MiB by default) and the request's own
//!   `max_response_bytes`. A larger `Content-Length` is refused at once; any other body is
//!   read chunk by chunk and dropped as soon as it passes the cap
//!   ([`TooLarge`](TransportErrorKind::TooLarge)).
//! - **Timeouts**: 10 s to connect, 30 s in all, body included
//!   ([`Timeout`](TransportErrorKind::Timeout)).
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
//! messages name the host, never a request body, an `Authorization` header or a URL.
//!
//! ## Token manager
//!
//! [`TokenManager`] keeps one grant's tokens and hands out a valid access token to every
//! task that asks, renewing it (refresh token, or client credentials again) when it is
//! within the [`Lifecycle`](latchkey::Lifecycle)'s skew of its expiry:
//!
//! - **Exactly one renewal in flight**, however many tasks call
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
//! - **Cancellation-safe**: the renewal runs in a task of its own; a caller that is dropped
//!   cancels only its wait, and a renewal task that dies is taken over by the next caller.
//!
//! ```
//! # use latchkey_mock::{MockClient, MockServer};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), latchkey::Error> {
//! # let server = MockServer::builder().client(MockClient::new("svc").secret("s3cret")).start();
//! use latchkey::{Client, Lifecycle, Method, Request, RetryMode, TokenSource, Url};
//! use latchkey_reqwest::{TokenManager, Transport};
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
//! let token = manager.access_token().await?;
//! assert_eq!(manager.access_token().await?.expose_secret(), token.expose_secret());
//!
//! let url = Url::parse(&server.userinfo_endpoint()).expect("a URL");
//! let response = manager.execute(&Request::new(Method::Get, url, RetryMode::Idempotent)).await?;
//! assert_eq!(response.status, 200);
//! # Ok(())
//! # }
//! ```
//!
//! ## Features
//!
//! - `rustls` (default): TLS through rustls, reqwest 0.13's own flavour (aws-lc-rs with the
//!   platform verifier). reqwest 0.13 no longer has a ring/webpki-roots flavour; its
//!   `rustls-no-provider` would make this crate install a process-wide crypto provider,
//!   which can break an application's own `install_default()`.
//! - `native-tls`: the platform's TLS library; use with `default-features = false`.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use latchkey::drive::{Action, DevicePolling, Drive, Headers, SendDriver};
use latchkey::{
    DevicePoll, Error, Exchange, Request, Response, RetryPolicy, TokenSet, TransportError,
    TransportErrorKind,
};

mod manager;

pub use latchkey::{MemoryStore, StoreError, TokenStore};
#[cfg(feature = "file-store")]
pub use latchkey_store::FileStore;
pub use manager::{TokenManager, TokenManagerBuilder};

/// Sends latchkey exchanges over reqwest: async, no redirects, a response size cap, timeouts
/// and safe retries.
///
/// Cheap to clone (the client and its connection pool are shared); `Send + Sync`. Needs a
/// tokio runtime to send.
#[derive(Clone)]
pub struct Transport {
    client: reqwest::Client,
    settings: Settings,
    clock: Clock,
}

/// Configures a [`Transport`]. Created by [`Transport::builder`].
#[must_use]
pub struct TransportBuilder {
    client_builder: Option<reqwest::ClientBuilder>,
    settings: Settings,
    clock: Option<Clock>,
}

impl fmt::Debug for TransportBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportBuilder")
            .field("client_builder", &self.client_builder)
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
    ///
    /// # Panics
    ///
    /// When the TLS backend cannot be initialised, as `reqwest::Client::new` does; see
    /// [`TransportBuilder::try_build`].
    #[must_use]
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// Starts configuring a transport.
    pub fn builder() -> TransportBuilder {
        TransportBuilder {
            client_builder: None,
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
    /// Waits between attempts with `tokio::time::sleep`. The future is `Send`.
    ///
    /// # Errors
    ///
    /// [`Error::Transport`] when no usable answer arrived (refused URL, connection failure,
    /// timeout, redirect, oversized body), else whatever [`Exchange::response`] returns: the
    /// server's OAuth error ([`Error::Server`]) or an unusable answer ([`Error::Response`]).
    pub async fn send<E>(&self, exchange: E) -> Result<E::Output, Error>
    where
        E: Exchange + Send,
        E::Output: Send,
    {
        self.run(SendDriver::new(exchange, &self.settings)).await
    }

    /// Sends one request once: no retry, but every safety setting applied (URL check, no
    /// redirects, size cap, timeouts). A 4xx or 5xx answer is an `Ok` [`Response`].
    ///
    /// # Errors
    ///
    /// [`Error::Transport`] when no usable answer arrived.
    pub async fn execute(&self, request: &Request) -> Result<Response, Error> {
        self.run(SendDriver::once(request.clone(), &self.settings))
            .await
    }

    /// Polls the token endpoint until the user approves the device: waits as
    /// [`DevicePoll::wait`](latchkey::DevicePoll::wait) says (the interval, 5 s more after
    /// each `slow_down`) with `tokio::time::sleep`, sends each poll like
    /// [`send`](Self::send), and stops when the device code expires. Dropping the future
    /// stops polling. The future is `Send`.
    ///
    /// ```no_run
    /// # async fn demo(client: latchkey::Client) -> Result<(), latchkey::Error> {
    /// let transport = latchkey_reqwest::Transport::new();
    /// let auth = transport.send(client.device_authorization()?.scope("read")).await?;
    /// println!("Open {} and enter {}", auth.verification_uri, auth.user_code);
    /// let tokens = transport.poll_device(auth.poller(&client)?).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Server`] with `access_denied` (the user said no), `expired_token` (from the
    /// server, or with no HTTP status when the code ran out here before the user acted) or
    /// any other code the server sent; [`Error::Transport`] when a poll got no usable answer.
    pub async fn poll_device(&self, poll: DevicePoll) -> Result<TokenSet, Error> {
        self.run(DevicePolling::new(poll, &self.settings)).await
    }

    /// [`poll_device`](Self::poll_device) with a hook called before every poll and about once
    /// a second while waiting, for a live countdown.
    ///
    /// # Errors
    ///
    /// As for [`poll_device`](Self::poll_device).
    pub async fn poll_device_with(
        &self,
        poll: DevicePoll,
        on_wait: impl FnMut(DeviceWait) + Send,
    ) -> Result<TokenSet, Error> {
        self.run(DevicePolling::with_progress(poll, &self.settings, on_wait))
            .await
    }

    /// Runs a core driver to its end: performs each [`Action`] it asks for, on this
    /// transport's clock. Every flow above is this loop around a driver.
    ///
    /// # Errors
    ///
    /// Whatever the driver finishes with.
    pub async fn run<D>(&self, mut driver: D) -> Result<D::Output, Error>
    where
        D: Drive + Send,
        D::Output: Send,
    {
        loop {
            match driver.next(self.now()) {
                Action::Send(request) => {
                    let answer = self.attempt(&request).await;
                    driver.received(answer, self.now());
                }
                Action::Sleep(wait) => tokio::time::sleep(wait).await,
                Action::Done(outcome) => return outcome,
            }
        }
    }

    /// One attempt within the overall timeout.
    ///
    /// The timeout is a `tokio` timer around the attempt rather than reqwest's own `timeout`,
    /// which costs two more allocations per request (a boxed timer, and a boxed wrapper
    /// around the response body) for the same deadline: connecting, sending, the headers and
    /// the body, all within [`TransportBuilder::timeout`].
    async fn attempt(&self, request: &Request) -> Result<Response, TransportError> {
        let answered = AtomicBool::new(false);
        match tokio::time::timeout(
            self.settings.timeout,
            self.attempt_untimed(request, &answered),
        )
        .await
        {
            Ok(result) => result,
            Err(_elapsed) => Err(timed_out(
                request,
                answered.load(Ordering::Relaxed),
                self.settings.timeout,
            )),
        }
    }

    /// One attempt: send, refuse redirects, read the body up to the cap. `answered` is set
    /// once the response headers are in.
    async fn attempt_untimed(
        &self,
        request: &Request,
        answered: &AtomicBool,
    ) -> Result<Response, TransportError> {
        let host = latchkey::host_port(&request.url);
        let cap = request
            .max_response_bytes
            .unwrap_or(self.settings.max_response_bytes);
        // Neither the URL nor header values go into the message: they may hold secrets.
        let outgoing = to_reqwest(request).ok_or_else(|| {
            TransportError::new(
                TransportErrorKind::Other,
                format!("cannot build the request to {host}: invalid method, URL or header"),
            )
            .final_failure()
        })?;
        let mut response = self
            .client
            .execute(outgoing)
            .await
            .map_err(|e| from_reqwest(e, &host, false))?;

        answered.store(true, Ordering::Relaxed);
        let status = response.status().as_u16();
        let headers = copy_headers(response.headers());
        let announced = response.content_length();
        if let Some(length) = announced.filter(|length| *length > cap) {
            return Err(too_large(cap, format!("{host} announced {length} bytes")));
        }
        // Sized by the announced length, which is within the cap.
        let mut body = Vec::with_capacity(
            announced
                .and_then(|length| usize::try_from(length).ok())
                .unwrap_or(0),
        );
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| from_reqwest(e, &host, true))?
        {
            let total = u64::try_from(body.len().saturating_add(chunk.len())).unwrap_or(u64::MAX);
            if total > cap {
                return Err(too_large(
                    cap,
                    format!("{host} sent more; the rest was not read"),
                ));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Response::new(status, headers, body, self.now()))
    }
}

/// The request as reqwest's, or `None` when its method or a header is not valid HTTP.
///
/// The body and every header value are copied into one buffer that they then share: reqwest
/// keeps a copy of each request (for its own protocol-level retries), and copies of shared
/// bytes are reference counts, where copies of separately allocated values would each
/// allocate again. `Authorization` is marked sensitive (kept out of HTTP/2 header tables and
/// of `Debug`).
fn to_reqwest(request: &Request) -> Option<reqwest::Request> {
    use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};

    let method = reqwest::Method::from_bytes(request.method.as_str().as_bytes()).ok()?;
    let url = request.url.clone();
    let body_len = request.body.len();
    let values_len: usize = request.headers.iter().map(|(_, value)| value.len()).sum();
    let mut buffer = Vec::with_capacity(body_len.saturating_add(values_len));
    buffer.extend_from_slice(&request.body);
    for (_, value) in request.headers.iter() {
        buffer.extend_from_slice(value.as_bytes());
    }
    let buffer = bytes::Bytes::from(buffer);

    // Room for what reqwest and hyper add (`Host`, `Content-Length`, a default `Accept`)
    // without growing the table.
    let mut headers = HeaderMap::with_capacity(request.headers.len() + 3);
    let mut start = body_len;
    for (name, value) in request.headers.iter() {
        let end = start + value.len();
        let name = HeaderName::from_bytes(name.as_bytes()).ok()?;
        let mut value = HeaderValue::from_maybe_shared(buffer.slice(start..end)).ok()?;
        if name == AUTHORIZATION {
            value.set_sensitive(true);
        }
        headers.append(name, value);
        start = end;
    }
    let mut outgoing = reqwest::Request::new(method, url);
    *outgoing.headers_mut() = headers;
    *outgoing.body_mut() = Some(buffer.slice(..body_len).into());
    Some(outgoing)
}

/// Every response header, in order (invalid UTF-8 replaced; common names not copied).
fn copy_headers(map: &reqwest::header::HeaderMap) -> Headers {
    let mut headers = Headers::new();
    headers.reserve(map.len());
    for (name, value) in map {
        headers.append_from_wire(name.as_str(), value.as_bytes());
    }
    headers
}

impl TransportBuilder {
    /// Caps every response body at this many bytes (default 1 MiB). A request's own, lower
    /// `max_response_bytes` wins.
    pub fn max_response_bytes(mut self, bytes: u64) -> Self {
        self.settings.max_response_bytes = bytes;
        self
    }

    /// The longest wait for a connection, DNS and TLS included (default 10 s).
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

    /// Builds the HTTP client from a caller's builder, for its proxy, TLS or pool settings.
    ///
    /// The builder gets `redirect(Policy::none())` and this transport's connect timeout
    /// before it is built, whatever it said before; the transport's overall timeout is
    /// applied around every attempt (a `timeout` of the builder's own applies as well). A built
    /// [`reqwest::Client`] is not accepted: its redirect policy can be neither inspected nor
    /// overridden per request, so a client that follows redirects would send codes, secrets
    /// and tokens on to wherever a `Location` header points.
    pub fn client_builder(mut self, builder: reqwest::ClientBuilder) -> Self {
        self.client_builder = Some(builder);
        self
    }

    /// Builds the transport.
    ///
    /// # Errors
    ///
    /// An [`Error::Transport`] of kind [`Other`](TransportErrorKind::Other) when reqwest
    /// cannot build its client (for example, the TLS backend fails to initialise).
    pub fn try_build(self) -> Result<Transport, Error> {
        let builder = self.client_builder.unwrap_or_else(reqwest::Client::builder);
        // The overall timeout is applied around each attempt (see `Transport::attempt`).
        let client = builder
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(self.settings.connect_timeout)
            .build()
            .map_err(|e| {
                TransportError::new(TransportErrorKind::Other, "cannot build the HTTP client")
                    .with_source(e.without_url())
            })?;
        Ok(Transport {
            client,
            settings: self.settings,
            clock: self.clock.unwrap_or_else(system_clock),
        })
    }

    /// Builds the transport.
    ///
    /// # Panics
    ///
    /// When reqwest cannot build its client, as `reqwest::Client::new` does; use
    /// [`try_build`](Self::try_build) to handle that.
    pub fn build(self) -> Transport {
        match self.try_build() {
            Ok(transport) => transport,
            Err(e) => panic!("latchkey-reqwest: {e}"),
        }
    }
}

/// A body over the cap: never worth sending again.
fn too_large(limit: u64, message: String) -> TransportError {
    TransportError::new(TransportErrorKind::TooLarge { limit }, message)
}

/// The overall timeout ran out. The request may have reached the server.
fn timed_out(request: &Request, reading_body: bool, timeout: Duration) -> TransportError {
    let what = if reading_body {
        "reading the response body"
    } else {
        "waiting for the answer"
    };
    TransportError::new(
        TransportErrorKind::Timeout,
        format!(
            "{}: {what}: timed out after {timeout:?}",
            latchkey::host_port(&request.url)
        ),
    )
}

/// Classifies a reqwest failure. Only a failure to connect means the request certainly
/// never reached the server; anything while reading the body comes after the server
/// answered.
fn from_reqwest(error: reqwest::Error, host: &str, reading_body: bool) -> TransportError {
    use TransportErrorKind::{Connect, Other, Timeout};
    let (kind, what) = if reading_body {
        let kind = if error.is_timeout() { Timeout } else { Other };
        (kind, "reading the response body")
    } else if error.is_builder() {
        (Other, "building the request")
    } else if error.is_connect() {
        let kind = if error.is_timeout() { Timeout } else { Connect };
        (kind, "connecting")
    } else if error.is_timeout() {
        (Timeout, "waiting for the answer")
    } else {
        (Other, "sending the request")
    };
    let never_sent = !reading_body && error.is_connect();
    let final_failure = !reading_body && error.is_builder();
    // Without its URL, the error's text names no path or query.
    let error = error.without_url();
    let mut out = TransportError::new(kind, format!("{host}: {what}: {}", chain(&error)));
    if never_sent {
        out = out.never_sent();
    }
    if final_failure {
        out = out.final_failure();
    }
    out.with_source(error)
}

/// An error and its sources as one line (reqwest's own text says little without them).
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        let inner_text = inner.to_string();
        if !text.contains(&inner_text) {
            text.push_str(": ");
            text.push_str(&inner_text);
        }
        source = inner.source();
    }
    text
}

pub use latchkey::DeviceWait;

#[cfg(test)]
mod tests {
    use latchkey::{Method, RetryMode, Url};

    use super::*;

    fn request() -> Request {
        let url = Url::parse("https://auth.example.com/token?x=1").expect("url");
        let mut request = Request::new(Method::Post, url, RetryMode::Idempotent);
        request.headers.append("authorization", "Basic YTpi");
        request
            .headers
            .append("content-type", "application/x-www-form-urlencoded");
        request.headers.append("x-twice", "1");
        request.headers.append("x-twice", "2");
        request.body = b"grant_type=client_credentials".to_vec();
        request
    }

    #[test]
    fn the_reqwest_request_carries_every_header_and_the_body() {
        let outgoing = to_reqwest(&request()).expect("valid");
        assert_eq!(outgoing.method(), reqwest::Method::POST);
        assert_eq!(
            outgoing.url().as_str(),
            "https://auth.example.com/token?x=1"
        );
        let headers = outgoing.headers();
        assert_eq!(headers.len(), 4);
        assert_eq!(headers["authorization"], "Basic YTpi");
        assert!(headers["authorization"].is_sensitive());
        assert_eq!(headers["content-type"], "application/x-www-form-urlencoded");
        assert!(!headers["content-type"].is_sensitive());
        let twice: Vec<_> = headers.get_all("x-twice").iter().collect();
        assert_eq!(twice, ["1", "2"]);
        let body = outgoing.body().and_then(reqwest::Body::as_bytes);
        assert_eq!(body, Some(&b"grant_type=client_credentials"[..]));
    }

    #[test]
    fn an_invalid_header_builds_no_request() {
        let mut bad_value = request();
        bad_value.headers.append("x-bad", "a\r\nb");
        assert!(to_reqwest(&bad_value).is_none());
        let mut bad_name = request();
        bad_name.headers.append("bad name", "v");
        assert!(to_reqwest(&bad_name).is_none());
    }

    #[test]
    fn copied_headers_keep_order_and_replace_invalid_utf8() {
        use reqwest::header::{HeaderMap, HeaderValue};
        let mut map = HeaderMap::new();
        map.append("content-type", HeaderValue::from_static("application/json"));
        map.append(
            "x-raw",
            HeaderValue::from_bytes(b"caf\xc3\xa9 \xff").expect("obs-text"),
        );
        let headers = copy_headers(&map);
        let fields: Vec<_> = headers.iter().collect();
        assert_eq!(
            fields,
            [
                ("content-type", "application/json"),
                ("x-raw", "café \u{fffd}")
            ]
        );
    }
}
