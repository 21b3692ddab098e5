//! [`MockServerBuilder`]: one configuration for the in-memory [`Mock`] and the socket
//! [`MockServer`].

use std::io;

use crate::client::MockClient;
use crate::clock::{Clock, MockClock};
use crate::router::Mock;
use crate::server::MockServer;
use crate::shared::state::{Config, State};
use crate::user::MockUser;

/// The base URL of a [`Mock`] built without a socket.
pub const DEFAULT_BASE_URL: &str = "http://mock.invalid";

/// Configures a [`Mock`] ([`build`](Self::build)) or a [`MockServer`]
/// ([`start`](Self::start)).
#[derive(Debug, Default)]
pub struct MockServerBuilder {
    clients: Vec<MockClient>,
    user: MockUser,
    record_requests: Option<bool>,
    config: Config,
    clock: Clock,
    base_url: Option<String>,
}

impl MockServerBuilder {
    /// Registers a client.
    #[must_use]
    pub fn client(mut self, client: MockClient) -> Self {
        self.clients.push(client);
        self
    }

    /// The user every authorization is granted for (see [`MockUser`]).
    #[must_use]
    pub fn user(mut self, user: MockUser) -> Self {
        self.user = user;
        self
    }

    /// Whether to keep every request for [`Mock::requests`] (default `true`). Turn it off
    /// for long benchmarks; [`Mock::request_count`] keeps counting either way.
    #[must_use]
    pub fn record_requests(mut self, record: bool) -> Self {
        self.record_requests = Some(record);
        self
    }

    /// Gives the issuer identifier a path, e.g. `/tenant/1`: the issuer becomes
    /// `http://127.0.0.1:PORT/tenant/1`, its RFC 8414 metadata moves to
    /// `/.well-known/oauth-authorization-server/tenant/1` (the path-insertion rule, §3.1) and its
    /// OpenID metadata to `/tenant/1/.well-known/openid-configuration`. The endpoints stay where
    /// they are.
    #[must_use]
    pub fn issuer_path(mut self, path: impl Into<String>) -> Self {
        let path = path.into();
        let path = path.trim_end_matches('/');
        self.config.issuer_path = if path.is_empty() || path.starts_with('/') {
            path.to_owned()
        } else {
            format!("/{path}")
        };
        self
    }

    /// Whether authorization responses carry `iss` (RFC 9207) and the metadata says so with
    /// `authorization_response_iss_parameter_supported` (default `true`).
    #[must_use]
    pub fn issuer_parameter(mut self, send: bool) -> Self {
        self.config.issuer_parameter = send;
        self
    }

    /// Accepts only pushed authorization requests (RFC 9126 §5): `/authorize` without a
    /// `request_uri` redirects back with `invalid_request`, and the metadata says
    /// `require_pushed_authorization_requests` (default `false`).
    #[must_use]
    pub fn require_pushed_authorization_requests(mut self, require: bool) -> Self {
        self.config.require_par = require;
        self
    }

    /// The device flow's polling `interval` in seconds (default 5). A poll that comes sooner
    /// gets `slow_down`, and the interval grows by 5 s (RFC 8628 §3.5).
    #[must_use]
    pub fn device_interval(mut self, seconds: u64) -> Self {
        self.config.device_interval = seconds;
        self
    }

    /// Whether DPoP proofs must carry the server's nonce from the start (default `false`;
    /// see [`Mock::require_dpop_nonce`], which switches it later).
    #[must_use]
    pub fn dpop_nonce_required(mut self, require: bool) -> Self {
        self.config.dpop_nonce_required = require;
        self
    }

    /// How long device and user codes live, in seconds (default 600).
    #[must_use]
    pub fn device_code_expires_in(mut self, seconds: u64) -> Self {
        self.config.device_expires_in = seconds;
        self
    }

    /// Lets a single-page app served from these origins (e.g. `http://127.0.0.1:8080`,
    /// scheme, host and port, no trailing `/`) call the server from a browser (CORS): a
    /// preflight (`OPTIONS` with `Access-Control-Request-Method`) from one of them gets `204`
    /// with the methods (`GET`, `POST`) and headers (`Authorization`, `Content-Type`, `DPoP`)
    /// allowed, from any other origin `403`; every other answer to a request from one of
    /// them carries `Access-Control-Allow-Origin` and exposes `Retry-After`,
    /// `WWW-Authenticate` and `DPoP-Nonce`. Preflights are recorded but reach no endpoint and
    /// use up no armed fault. Default: no origin, no CORS header, `OPTIONS` not special.
    #[must_use]
    pub fn cors_origins<I, S>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config.cors_origins.extend(
            origins
                .into_iter()
                .map(|o| o.into().trim_end_matches('/').to_owned()),
        );
        self
    }

    /// The clock everything time-dependent reads: the lifetimes of codes, tokens, pushed
    /// requests and device codes, the device polling interval, `created_at` and
    /// introspection's `iat` and `exp`. The default is the system clock; with a
    /// [`MockClock`] a test moves time by hand instead of sleeping, over HTTP or in memory.
    #[must_use]
    pub fn clock(mut self, clock: MockClock) -> Self {
        self.clock = Clock::Manual(clock);
        self
    }

    /// The base URL a [`Mock`] from [`build`](Self::build) puts in its issuer, metadata and
    /// `verification_uri` (default [`DEFAULT_BASE_URL`]; a trailing `/` is dropped). A server
    /// from [`start`](Self::start) always uses the address it listens on.
    #[must_use]
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into().trim_end_matches('/').to_owned());
        self
    }

    /// The authorization server without a socket, answering requests in memory with
    /// [`Mock::route`].
    pub fn build(mut self) -> Mock {
        let base = self
            .base_url
            .take()
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        self.build_at(base)
    }

    fn build_at(self, base: String) -> Mock {
        let state = State::new(base, self.config, self.clients, self.user);
        Mock::new(state, self.clock, self.record_requests.unwrap_or(true))
    }

    /// Starts the server.
    ///
    /// # Panics
    ///
    /// If no loopback port can be bound or the background thread cannot start; see
    /// [`try_start`](Self::try_start).
    pub fn start(self) -> MockServer {
        self.try_start()
            .unwrap_or_else(|e| panic!("latchkey-mock: cannot start the server: {e}"))
    }

    /// Starts the server: binds `127.0.0.1:0` and serves from a tokio runtime on a dedicated
    /// background thread, so it works the same from synchronous code and from inside any
    /// async runtime.
    ///
    /// # Errors
    ///
    /// If no loopback port can be bound or the runtime or thread cannot be created.
    pub fn try_start(self) -> io::Result<MockServer> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
        let url = format!("http://{}", listener.local_addr()?);
        MockServer::serve(listener, self.build_at(url))
    }
}

// The entry points live here, next to the builder they return, so that neither the router
// nor the server has to import the builder.
impl Mock {
    /// A builder for an in-memory mock ([`MockServerBuilder::build`]) or a server.
    pub fn builder() -> MockServerBuilder {
        MockServerBuilder::default()
    }
}

impl MockServer {
    /// Starts a server with no clients registered (add them with [`Mock::add_client`]).
    ///
    /// # Panics
    ///
    /// See [`MockServerBuilder::start`].
    pub fn start() -> Self {
        Self::builder().start()
    }

    /// A builder for a server with clients and a user set up front.
    pub fn builder() -> MockServerBuilder {
        MockServerBuilder::default()
    }
}
