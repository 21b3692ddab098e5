#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use latchkey::drive::{
    Action, Clock, DevicePolling, Drive, Headers, SendDriver, TransportSettings,
};
use latchkey::{
    DevicePoll, Error, Exchange, Request, Response, RetryPolicy, TokenSet, TransportError,
    TransportErrorKind,
};

mod manager;

pub use latchkey::{DeviceWait, MemoryStore, StoreError, TokenStore};
#[cfg(feature = "file-store")]
pub use latchkey_store::FileStore;
pub use manager::{TokenManager, TokenManagerBuilder};

/// Sends latchkey exchanges over reqwest, async: the core's drivers decide every step (see
/// [`latchkey::drive`]); this type sends, sleeps, and enforces the cap and the timeouts.
///
/// Cheap to clone (the client and its connection pool are shared); `Send + Sync`; every
/// future it returns is `Send`. Needs a tokio runtime to send.
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
    /// When the TLS backend cannot be initialised, as `reqwest::Client::new` does; see
    /// [`TransportBuilder::try_build`].
    #[must_use]
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// Starts configuring a transport.
    pub fn builder() -> TransportBuilder {
        TransportBuilder::default()
    }

    /// The time by this transport's clock: responses are stamped with it, and token
    /// managers decide by it.
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
        let driver = SendDriver::once(request.clone(), &self.settings);
        self.run(driver).await
    }

    /// Polls the token endpoint until the user approves the device, as the core's
    /// [`DevicePolling`] says (the interval, `slow_down`, expiry). Dropping the future
    /// stops polling.
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
    /// [`Error::Server`] (`access_denied`, `expired_token`, ...); [`Error::Transport`].
    pub async fn poll_device(&self, poll: DevicePoll) -> Result<TokenSet, Error> {
        self.run(DevicePolling::new(poll, &self.settings)).await
    }

    /// [`poll_device`](Self::poll_device), calling `on_wait` before every poll and about
    /// once a second while waiting.
    ///
    /// # Errors
    ///
    /// As [`poll_device`](Self::poll_device).
    pub async fn poll_device_with(
        &self,
        poll: DevicePoll,
        on_wait: impl FnMut(DeviceWait) + Send,
    ) -> Result<TokenSet, Error> {
        let driver = DevicePolling::with_progress(poll, &self.settings, on_wait);
        self.run(driver).await
    }

    /// Runs any core driver to its end on this transport's clock: the one loop every
    /// method above is.
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
            let message = format!("cannot build the request to {host}: invalid header");
            TransportError::new(TransportErrorKind::Other, message).final_failure()
        })?;
        let mut response = self
            .client
            .execute(outgoing)
            .await
            .map_err(|e| from_reqwest(e, &host, false))?;

        answered.store(true, Ordering::Relaxed);
        let status = response.status().as_u16();
        let wire = response.headers().iter();
        let headers = Headers::from_wire(wire.map(|(n, v)| (n.as_str(), v.as_bytes())));
        let announced = response.content_length();
        if let Some(length) = announced.filter(|length| *length > cap) {
            let message = format!("{host} announced {length} bytes");
            return Err(TransportError::too_large(cap, message));
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
                let message = format!("{host} sent more; the rest was not read");
                return Err(TransportError::too_large(cap, message));
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

    /// Builds the HTTP client from a caller's builder (its proxy, TLS or pool settings). It
    /// gets `redirect(Policy::none())` and this transport's connect timeout whatever it
    /// said before. A built [`reqwest::Client`] is not accepted: its redirect policy can be
    /// neither inspected nor overridden, so it might carry secrets on to a `Location`.
    pub fn client_builder(mut self, builder: reqwest::ClientBuilder) -> Self {
        self.client_builder = Some(builder);
        self
    }

    /// Builds the transport.
    ///
    /// # Errors
    ///
    /// An [`Error::Transport`] when reqwest cannot build its client (for example, the TLS
    /// backend fails to initialise).
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
    /// When reqwest cannot build its client; use [`try_build`](Self::try_build) to handle
    /// that.
    pub fn build(self) -> Transport {
        match self.try_build() {
            Ok(transport) => transport,
            Err(e) => panic!("latchkey-reqwest: {e}"),
        }
    }
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
}
