#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use latchkey::drive::{
    Action, BodyCap, Clock, DevicePolling, Drive, Headers, Reach, SendDriver, TransportSettings,
};
use latchkey::{
    DevicePoll, Error, Exchange, Request, Response, RetryPolicy, TokenSet, TransportError,
    TransportErrorKind,
};

mod manager;
#[cfg(feature = "rustls")]
mod tls;

pub use latchkey::{DeviceWait, MemoryStore, StoreError, TokenStore};
#[cfg(feature = "file-store")]
pub use latchkey_store::FileStore;
pub use manager::{TokenManager, TokenManagerBuilder};

/// Sends latchkey exchanges over reqwest, async: the core's drivers decide every step (see
/// [`latchkey::drive`]); this type sends, sleeps, and enforces the cap and the timeouts.
/// Cheap to clone (the pool is shared); `Send + Sync`; its futures are `Send`; needs tokio.
#[derive(Clone, Debug)]
pub struct Transport {
    client: reqwest::Client,
    settings: TransportSettings,
    clock: Clock,
}

/// Configures a [`Transport`]. Created by [`Transport::builder`].
#[must_use]
#[derive(Debug, Default)]
pub struct TransportBuilder {
    client_builder: Option<reqwest::ClientBuilder>,
    settings: TransportSettings,
    clock: Clock,
    /// The client certificate (mutual TLS; see the `tls` module).
    #[cfg(feature = "rustls")]
    identity: Option<latchkey::ClientIdentity>,
    /// The certificate authorities trusted instead of the platform's roots.
    #[cfg(feature = "rustls")]
    roots: Option<latchkey::CaCertificates>,
}

impl Default for Transport {
    fn default() -> Self {
        Self::new()
    }
}

impl Transport {
    /// A transport with the safe defaults ([`TransportSettings::default`]): no redirects,
    /// 1 MiB response cap, 10 s to connect, 30 s in all, `https` only (or `http` to
    /// loopback), [`RetryPolicy::default`].
    ///
    /// # Panics
    ///
    /// When TLS cannot be initialised, as `reqwest::Client::new` does.
    #[must_use]
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// Starts configuring a transport.
    pub fn builder() -> TransportBuilder {
        TransportBuilder::default()
    }

    /// The time by this transport's clock, which responses and token managers go by.
    #[must_use]
    pub fn now(&self) -> SystemTime {
        self.clock.now()
    }

    /// Sends `exchange`'s request through the core's [`SendDriver`] (URL rule, retries,
    /// `Retry-After`, redirects refused) and feeds the answer to [`Exchange::response`].
    /// Waits between attempts with `tokio::time::sleep`.
    ///
    /// # Errors
    ///
    /// [`Error::Transport`] when no usable answer arrived, else what
    /// [`Exchange::response`] returns ([`Error::Server`], [`Error::Response`]).
    pub async fn send<E>(&self, exchange: E) -> Result<E::Output, Error>
    where
        E: Exchange + Send,
        E::Output: Send,
    {
        self.run(SendDriver::new(exchange, &self.settings)).await
    }

    /// Sends one request once, every safety setting applied; a 4xx or 5xx answer is `Ok`.
    ///
    /// # Errors
    ///
    /// [`Error::Transport`] when no usable answer arrived.
    pub async fn execute(&self, request: &Request) -> Result<Response, Error> {
        self.run(SendDriver::once(request.clone(), &self.settings))
            .await
    }

    /// Polls the token endpoint until the user approves the device, as the core's
    /// [`DevicePolling`] says (the interval, `slow_down`, expiry); see the
    /// [crate docs](crate#device-authorization). Dropping the future stops polling.
    ///
    /// # Errors
    ///
    /// [`Error::Server`] (`access_denied`, `expired_token`, ...); [`Error::Transport`].
    pub async fn poll_device(&self, poll: DevicePoll) -> Result<TokenSet, Error> {
        self.run(DevicePolling::new(poll, &self.settings)).await
    }

    /// [`poll_device`](Self::poll_device), calling `on_wait` before each poll and each second.
    ///
    /// # Errors
    ///
    /// As [`poll_device`](Self::poll_device).
    pub async fn poll_device_with(
        &self,
        poll: DevicePoll,
        on_wait: impl FnMut(DeviceWait) + Send,
    ) -> Result<TokenSet, Error> {
        let polling = DevicePolling::with_progress(poll, &self.settings, on_wait);
        self.run(polling).await
    }

    /// Runs any core driver to its end on this transport's clock: the loop behind them all.
    ///
    /// # Errors
    ///
    /// What the driver finishes with.
    pub async fn run<D>(&self, mut driver: D) -> Result<D::Output, Error>
    where
        D: Drive + Send,
        D::Output: Send,
    {
        loop {
            match driver.next(self.now()) {
                Action::Send(request) => driver.received(self.attempt(&request).await, self.now()),
                Action::Sleep(wait) => tokio::time::sleep(wait).await,
                Action::Done(outcome) => return outcome,
            }
        }
    }

    /// One attempt within the overall timeout: a `tokio` timer rather than reqwest's own
    /// `timeout`, which costs two more allocations per request for the same deadline.
    async fn attempt(&self, request: &Request) -> Result<Response, TransportError> {
        let (answered, timeout) = (AtomicBool::new(false), self.settings.timeout);
        let attempt = tokio::time::timeout(timeout, self.attempt_untimed(request, &answered));
        attempt.await.unwrap_or_else(|_elapsed| {
            Err(timed_out(
                request,
                answered.load(Ordering::Relaxed),
                timeout,
            ))
        })
    }

    /// One attempt: send, refuse redirects, read the body up to the cap. `answered` is set
    /// once the response headers are in.
    async fn attempt_untimed(
        &self,
        request: &Request,
        answered: &AtomicBool,
    ) -> Result<Response, TransportError> {
        let (url, cap) = (&request.url, BodyCap::of(request, &self.settings));
        // Neither the URL nor header values go into the message: they may hold secrets.
        let outgoing = to_reqwest(request)
            .ok_or_else(|| TransportError::unbuildable(&latchkey::host_port(url)))?;
        let mut response = self
            .client
            .execute(outgoing)
            .await
            .map_err(|e| from_reqwest(e, url, false))?;
        answered.store(true, Ordering::Relaxed);
        let status = response.status().as_u16();
        let wire = response.headers().iter();
        let headers = Headers::from_wire(wire.map(|(n, v)| (n.as_str(), v.as_bytes())));
        let mut body = cap.buffer(response.content_length(), url)?;
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| from_reqwest(e, url, true))?
        {
            cap.check(body.len().saturating_add(chunk.len()), url)?;
            body.extend_from_slice(&chunk);
        }
        let response = Response::new(status, headers, body, self.now());
        Ok(response.with_client_certificate(self.settings.client_certificate_for(url)))
    }
}

/// The request as reqwest's, or `None` when its method or a header is not valid HTTP. The
/// body and the header values share one buffer (reqwest copies each request, and copies of
/// shared bytes are reference counts); `Authorization` is marked sensitive.
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

impl TransportBuilder {
    /// Caps every response body (default 1 MiB); a request's own, lower cap wins.
    pub fn max_response_bytes(mut self, bytes: u64) -> Self {
        self.settings.max_response_bytes = bytes;
        self
    }

    /// The longest wait for a connection, DNS and TLS included (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.settings.connect_timeout = timeout;
        self
    }

    /// The longest one attempt may take, body included (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.settings.timeout = timeout;
        self
    }

    /// Allows plain `http://` to hosts other than loopback (default `false`): only for tests
    /// and closed networks.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.settings.allow_insecure_http = allow;
        self
    }

    /// How [`Transport::send`] retries (default [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.settings.retry_policy = policy;
        self
    }

    /// Reads the time from `clock` instead of [`SystemTime::now`] (responses, token
    /// lifetimes, backoff and token managers all follow it): for tests.
    pub fn clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Clock::new(clock);
        self
    }

    /// Builds the HTTP client from a caller's builder (proxy, TLS, pool), with
    /// `redirect(Policy::none())` and this connect timeout. A built client is not accepted:
    /// its redirect policy could carry secrets on to a `Location`.
    pub fn client_builder(mut self, builder: reqwest::ClientBuilder) -> Self {
        self.client_builder = Some(builder);
        self
    }

    /// Builds the transport.
    ///
    /// # Errors
    ///
    /// An [`Error::Transport`] when reqwest cannot build its client (say, TLS fails);
    /// [`ConfigError::ClientCertificate`](latchkey::ConfigError::ClientCertificate) when it
    /// refuses the client certificate or a CA certificate.
    pub fn try_build(self) -> Result<Transport, Error> {
        let builder = self.client_builder.unwrap_or_else(reqwest::Client::builder);
        #[cfg(feature = "rustls")]
        let builder = tls::configure(builder, self.identity.as_ref(), self.roots.as_ref())?;
        // The overall timeout is applied around each attempt (see `Transport::attempt`).
        let client = builder
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(self.settings.connect_timeout)
            .build()
            .map_err(|e| {
                TransportError::new(TransportErrorKind::Other, "cannot build the HTTP client")
                    .with_source(e.without_url())
            })?;
        let (settings, clock) = (self.settings, self.clock);
        Ok(Transport {
            client,
            settings,
            clock,
        })
    }

    /// Builds the transport.
    ///
    /// # Panics
    ///
    /// When reqwest cannot build its client (see [`try_build`](Self::try_build)).
    pub fn build(self) -> Transport {
        self.try_build()
            .unwrap_or_else(|e| panic!("latchkey-reqwest: {e}"))
    }
}

/// The overall timeout ran out. The request may have reached the server.
fn timed_out(request: &Request, reading_body: bool, timeout: Duration) -> TransportError {
    let host = latchkey::host_port(&request.url);
    let what = if reading_body {
        "reading the body"
    } else {
        "waiting for the answer"
    };
    let message = format!("{host}: {what}: timed out after {timeout:?}");
    TransportError::new(TransportErrorKind::Timeout, message)
}

/// Classifies a reqwest failure. Only a failure to connect means the request certainly
/// never reached the server; anything while reading the body comes after the server
/// answered.
fn from_reqwest(error: reqwest::Error, url: &latchkey::Url, reading_body: bool) -> TransportError {
    use Reach::{Final, MaybeSent, NotSent};
    use TransportErrorKind::{Connect, Other, Timeout};
    let timeout_or = |kind| if error.is_timeout() { Timeout } else { kind };
    let (kind, reach, what) = if reading_body {
        (timeout_or(Other), MaybeSent, "reading the response body")
    } else if error.is_builder() {
        (Other, Final, "building the request")
    } else if error.is_connect() {
        (timeout_or(Connect), NotSent, "connecting")
    } else {
        (timeout_or(Other), MaybeSent, "sending the request")
    };
    // Without its URL, the error's text names no path or query.
    let host = latchkey::host_port(url);
    TransportError::new(kind, format!("{host}: {what}"))
        .reached(reach)
        .with_source_chain(error.without_url())
}
