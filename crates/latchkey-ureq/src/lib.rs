#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

use std::io::{self, Read};
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

/// latchkey's settings on a ureq configuration builder (an agent's or a request's): no
/// redirects, statuses as answers, the timeouts. ureq's connect phase starts after the DNS
/// lookup, so the connect timeout bounds the lookup and then the connection, TLS included.
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

pub use latchkey::{DeviceWait, MemoryStore, StoreError, TokenStore};
#[cfg(feature = "file-store")]
pub use latchkey_store::FileStore;
pub use manager::{TokenManager, TokenManagerBuilder};

/// Sends latchkey exchanges over ureq, blocking: the core's drivers decide every step (see
/// [`latchkey::drive`]); this type sends, sleeps, and enforces the cap and the timeouts.
/// Cheap to clone (the agent and its pool are shared); `Send + Sync`.
#[derive(Clone, Debug)]
pub struct Transport {
    agent: ureq::Agent,
    /// True for the transport's own agent, built with the safety settings; a caller's agent
    /// gets them again on every request.
    agent_configured: bool,
    /// The client certificate and trusted roots (mutual TLS) to set on each request of a
    /// caller's agent; the transport's own agent has them already.
    #[cfg(feature = "rustls")]
    request_tls: Option<ureq::tls::TlsConfig>,
    settings: TransportSettings,
    clock: Clock,
}

/// Configures a [`Transport`]. Created by [`Transport::builder`].
#[must_use]
#[derive(Debug, Default)]
pub struct TransportBuilder {
    agent: Option<ureq::Agent>,
    settings: TransportSettings,
    clock: Clock,
    /// The client certificate (mutual TLS; see the `tls` module).
    #[cfg(feature = "rustls")]
    identity: Option<latchkey::ClientIdentity>,
    /// The certificate authorities trusted instead of the default roots.
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
    #[must_use]
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// Starts configuring a transport.
    pub fn builder() -> TransportBuilder {
        TransportBuilder::default()
    }

    /// The agent this transport sends through (its connection pool, its configuration).
    #[must_use]
    pub fn agent(&self) -> &ureq::Agent {
        &self.agent
    }

    /// The time by this transport's clock, which responses and token managers go by.
    #[must_use]
    pub fn now(&self) -> SystemTime {
        self.clock.now()
    }

    /// Sends `exchange`'s request through the core's [`SendDriver`] (URL rule, retries,
    /// `Retry-After`, redirects refused) and feeds the answer to [`Exchange::response`].
    /// Blocks the calling thread, waits between attempts included.
    ///
    /// # Errors
    ///
    /// [`Error::Transport`] when no usable answer arrived, else what
    /// [`Exchange::response`] returns ([`Error::Server`], [`Error::Response`]).
    pub fn send<E: Exchange>(&self, exchange: E) -> Result<E::Output, Error> {
        self.run(SendDriver::new(exchange, &self.settings))
    }

    /// Sends one request once, every safety setting applied; a 4xx or 5xx answer is `Ok`.
    ///
    /// # Errors
    ///
    /// [`Error::Transport`] when no usable answer arrived.
    pub fn execute(&self, request: &Request) -> Result<Response, Error> {
        self.run(SendDriver::once(request.clone(), &self.settings))
    }

    /// Polls the token endpoint until the user approves the device, as the core's
    /// [`DevicePolling`] says (the interval, `slow_down`, expiry); see the
    /// [crate docs](crate#device-authorization).
    ///
    /// # Errors
    ///
    /// [`Error::Server`] (`access_denied`, `expired_token`, ...); [`Error::Transport`].
    pub fn poll_device(&self, poll: DevicePoll) -> Result<TokenSet, Error> {
        self.run(DevicePolling::new(poll, &self.settings))
    }

    /// [`poll_device`](Self::poll_device), calling `on_wait` before each poll and each second.
    ///
    /// # Errors
    ///
    /// As [`poll_device`](Self::poll_device).
    pub fn poll_device_with(
        &self,
        poll: DevicePoll,
        on_wait: impl FnMut(DeviceWait),
    ) -> Result<TokenSet, Error> {
        self.run(DevicePolling::with_progress(poll, &self.settings, on_wait))
    }

    /// Runs any core driver to its end on this transport's clock: the loop behind them all.
    ///
    /// # Errors
    ///
    /// What the driver finishes with.
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
        let (url, cap) = (&request.url, BodyCap::of(request, &self.settings));
        let mut builder = ureq::http::Request::builder()
            .method(request.method.as_str())
            .uri(url.as_str());
        for (name, value) in request.headers.iter() {
            builder = builder.header(name, value);
        }
        // Neither the URL nor header values go into the message: they may hold secrets.
        let http_request = builder
            .body(request.body.as_slice())
            .map_err(|_| TransportError::unbuildable(&latchkey::host_port(url)))?;
        // A request-level configuration copies the whole agent configuration: only a
        // caller's agent needs one.
        let http_request = if self.agent_configured {
            http_request
        } else {
            let config =
                safety_settings!(self.agent.configure_request(http_request), self.settings);
            #[cfg(feature = "rustls")]
            let config = match &self.request_tls {
                Some(tls) => config.tls_config(tls.clone()),
                None => config,
            };
            config.build()
        };
        let response = self
            .agent
            .run(http_request)
            .map_err(|e| from_ureq(e, url))?;
        let status = response.status().as_u16();
        let wire = response.headers().iter();
        let headers = Headers::from_wire(wire.map(|(n, v)| (n.as_str(), v.as_bytes())));
        let announced = headers
            .get("content-length")
            .and_then(|l| l.trim().parse().ok());
        let mut body = cap.buffer(announced, url)?;
        let reader = response.into_body().into_reader();
        let mut reader = reader.take(cap.bytes().saturating_add(1));
        reader
            .read_to_end(&mut body)
            .map_err(|e| from_read(e, url))?;
        cap.check(body.len(), url)?;
        let response = Response::new(status, headers, body, self.now());
        Ok(response.with_client_certificate(self.settings.client_certificate_for(url)))
    }
}

impl TransportBuilder {
    /// Caps every response body (default 1 MiB); a request's own, lower cap wins.
    pub fn max_response_bytes(mut self, bytes: u64) -> Self {
        self.settings.max_response_bytes = bytes;
        self
    }

    /// The longest wait for the DNS lookup, and again for the connection (default 10 s).
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

    /// Sends through a caller-built agent (its pool, proxy or TLS settings). The safety
    /// settings are applied again to every request, so it can neither follow a redirect
    /// nor hide the server's error; its middleware, connector and resolver are the caller's.
    pub fn agent(mut self, agent: ureq::Agent) -> Self {
        self.agent = Some(agent);
        self
    }

    /// Builds the transport, reading the same as with `latchkey-reqwest`.
    ///
    /// # Errors
    ///
    /// [`ConfigError::ClientCertificate`](latchkey::ConfigError::ClientCertificate) when
    /// ureq cannot take the client certificate's key; nothing else (ureq agents cannot fail
    /// to build).
    pub fn try_build(self) -> Result<Transport, Error> {
        #[cfg(feature = "rustls")]
        let tls = self.tls_config()?;
        let agent_configured = self.agent.is_none();
        let agent = self.agent.unwrap_or_else(|| {
            let config = safety_settings!(ureq::Agent::config_builder(), self.settings);
            #[cfg(feature = "rustls")]
            let config = match &tls {
                Some(tls) => config.tls_config(tls.clone()),
                None => config,
            };
            config.build().new_agent()
        });
        Ok(Transport {
            agent,
            agent_configured,
            #[cfg(feature = "rustls")]
            request_tls: tls.filter(|_| !agent_configured),
            settings: self.settings,
            clock: self.clock,
        })
    }

    /// Builds the transport.
    ///
    /// # Panics
    ///
    /// When [`try_build`](Self::try_build) fails: never without a client certificate, and
    /// not for one read by [`ClientIdentity::from_pem`](latchkey::ClientIdentity::from_pem).
    pub fn build(self) -> Transport {
        self.try_build()
            .unwrap_or_else(|e| panic!("latchkey-ureq: {e}"))
    }
}

/// Classifies a failure before the response headers arrived. Only a failure to connect
/// means the request certainly never reached the server.
fn from_ureq(error: ureq::Error, url: &latchkey::Url) -> TransportError {
    use TransportErrorKind::{Connect, InsecureUrl, Other, Timeout};
    use ureq::Error as U;
    let (kind, reach) = match &error {
        U::HostNotFound
        | U::ConnectionFailed
        | U::ConnectProxyFailed(_)
        | U::InvalidProxyUrl
        | U::Tls(_)
        | U::TlsRequired => (Connect, Reach::NotSent),
        #[cfg(feature = "rustls")]
        U::Rustls(_) => (Connect, Reach::NotSent),
        U::Io(e) if is_connect_error(e.kind()) => (Connect, Reach::NotSent),
        U::Io(e) if e.kind() == io::ErrorKind::TimedOut => (Timeout, Reach::MaybeSent),
        U::Timeout(ureq::Timeout::Resolve | ureq::Timeout::Connect) => (Timeout, Reach::NotSent),
        U::Timeout(_) => (Timeout, Reach::MaybeSent),
        U::RequireHttpsOnly(_) => (InsecureUrl, Reach::Final),
        U::BadUri(_) | U::Http(_) => (Other, Reach::Final),
        _ => (Other, Reach::MaybeSent),
    };
    let host = latchkey::host_port(url);
    let out = TransportError::new(kind, format!("{host}: {}", describe(&error))).reached(reach);
    match generic_text(&error) {
        Some(_) => out,
        None => out.with_source(error),
    }
}

/// Classifies a failure while reading the body: the server has answered, so the request
/// reached it.
fn from_read(error: io::Error, url: &latchkey::Url) -> TransportError {
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
    let reason = inner.map_or_else(|| error.to_string(), describe);
    let host = latchkey::host_port(url);
    TransportError::new(kind, format!("{host}: reading the response body: {reason}"))
}

/// True for the connection-setup failures of `std::net`: nothing was sent.
fn is_connect_error(kind: io::ErrorKind) -> bool {
    use io::ErrorKind::{AddrNotAvailable, ConnectionRefused, HostUnreachable, NetworkUnreachable};
    matches!(
        kind,
        ConnectionRefused | AddrNotAvailable | NetworkUnreachable | HostUnreachable
    )
}

/// A ureq error as text that holds no URL.
fn describe(error: &ureq::Error) -> String {
    generic_text(error).map_or_else(|| error.to_string(), str::to_owned)
}

/// What to say instead of the text of a ureq error that may repeat a URL or a proxy address
/// (and so a query string or proxy credentials); such an error is not kept as the source.
fn generic_text(error: &ureq::Error) -> Option<&'static str> {
    match error {
        ureq::Error::BadUri(_) => Some("invalid URL"),
        ureq::Error::RequireHttpsOnly(_) => Some("the agent allows https only"),
        ureq::Error::ConnectProxyFailed(_) => Some("the proxy refused CONNECT"),
        ureq::Error::Http(_) => Some("invalid request"),
        _ => None,
    }
}
