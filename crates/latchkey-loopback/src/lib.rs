//! The loopback login of [RFC 8252](https://www.rfc-editor.org/rfc/rfc8252) (OAuth 2.0 for
//! native apps), as a library.
//!
//! A native app cannot keep a client secret and has no web server, so it signs the user in
//! through the system browser and receives the redirect on a port of its own on the loopback
//! interface ([§7.3](https://www.rfc-editor.org/rfc/rfc8252#section-7.3)). A [`Loopback`]:
//!
//! 1. binds `127.0.0.1:0` (a free port; or a port or a whole loopback redirect URI you give)
//!    and builds the redirect URI, `http://127.0.0.1:<port>/callback`;
//! 2. opens the authorization URL in the system browser ([`Browser::System`], which honours
//!    the `BROWSER` variable on Unix), in a program you name ([`Browser::Command`]), or only
//!    prints it ([`Browser::PrintOnly`]);
//! 3. accepts exactly one callback, the one whose `state` is the one the flow sent (compared
//!    in constant time), and answers the browser with a small page saying how it went;
//!    anything else (`/favicon.ico`, another path, another state) gets a page of its own and
//!    the wait goes on;
//! 4. ends the wait with the server's error when the redirect carries one (`access_denied`
//!    when the user declined), and gives up after a timeout ([`Error::TimedOut`]).
//!
//! ```text
//!   app ──bind──▶ Loopback ──redirect_uri──▶ Client / authorization request
//!   app ──open(url)──▶ browser ──▶ authorization server ──302──▶ browser
//!   browser ──GET /callback?code=…&state=…──▶ Loopback ──state checked──▶ CodeExchange
//! ```
//!
//! The core crate [`latchkey`] parses the callback and checks it; this crate is the socket,
//! the browser and the pages around it. There is a blocking API ([`Loopback::code`],
//! [`Loopback::wait_with`]) and, with the default `tokio` feature, an async one
//! ([`Loopback::code_async`], [`Loopback::wait_with_async`]): dropping its future stops
//! listening and frees the port.
//!
//! # Example
//!
//! ```no_run
//! use latchkey::Client;
//! use latchkey_loopback::{Browser, Loopback};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let loopback = Loopback::builder().browser(Browser::PrintOnly).bind()?;
//! let client = Client::builder("my-native-app")
//!     .authorization_endpoint("https://login.example.com/authorize")
//!     .token_endpoint("https://login.example.com/token")
//!     .redirect_uri(loopback.redirect_uri())
//!     .build()?;
//! let (url, pending) = client.authorization_code().scope("openid").build()?;
//! loopback.open(url.as_str())?;
//! let exchange = loopback.code(pending, &client)?;
//! // Send `exchange` with an adapter (latchkey-ureq, latchkey-reqwest) for the tokens.
//! # drop(exchange);
//! # Ok(())
//! # }
//! ```
//!
//! # Security
//!
//! * Only loopback addresses are bound (`127.0.0.1`, `[::1]`, or `localhost` as
//!   `127.0.0.1`); a redirect URI on any other host is refused ([`Error::RedirectUri`]).
//! * Nothing here prints or logs a code, a state or a token. [`Browser::PrintOnly`] prints the
//!   authorization URL you hand it, which carries the state by design (RFC 6749 §4.1.1), and
//!   nothing else. The `Debug` of every value hides what the callback carried.
//! * Every page escapes what it reflects, and is sent with `Cache-Control: no-store`,
//!   `Referrer-Policy: no-referrer` and `X-Content-Type-Options: nosniff`.
//! * A request head is read under a size cap and a read timeout, with a bounded number of
//!   connections at a time, so a stray client cannot hold the listener.
//! * An error redirect *without* a state also ends the wait (some servers omit the state on
//!   errors, and the user needs to see why the login failed); a request with neither the
//!   state nor an error is ignored.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

mod blocking;
mod browser;
mod error;
mod page;
mod session;
#[cfg(feature = "tokio")]
mod with_tokio;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::time::Duration;

use latchkey::{Client, CodeExchange, PendingAuthorization, State, Url};

pub use browser::Browser;
pub use error::Error;

use session::Session;

/// How long [`Loopback`] waits for the redirect unless told otherwise: five minutes.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// The path of the redirect URI unless told otherwise.
pub const DEFAULT_PATH: &str = "/callback";

/// Longest request head (request line and header fields) read from one connection.
pub const MAX_REQUEST_HEAD: usize = 16 * 1024;

/// Where the authorization response is in the redirect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Mode {
    /// In the query: the authorization code flow (the default).
    #[default]
    Query,
    /// In the fragment: the implicit flow. The browser keeps a fragment to itself, so the
    /// redirect path serves a page whose script sends the fragment to the redirect path plus
    /// `/fragment`, where it is accepted as if it had been the query.
    Fragment,
}

/// Settings for a [`Loopback`], before it binds.
#[derive(Debug, Clone)]
#[must_use = "call bind() to start listening"]
pub struct Builder {
    redirect_uri: Option<String>,
    port: u16,
    path: String,
    mode: Mode,
    timeout: Duration,
    browser: Browser,
}

impl Default for Builder {
    fn default() -> Self {
        Self {
            redirect_uri: None,
            port: 0,
            path: DEFAULT_PATH.to_owned(),
            mode: Mode::Query,
            timeout: DEFAULT_TIMEOUT,
            browser: Browser::System,
        }
    }
}

impl Builder {
    /// Listens on this port of `127.0.0.1` (for a server that only accepts a registered
    /// port); 0, the default, picks a free one.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// The path of the redirect URI (default [`DEFAULT_PATH`]). It must start with `/` and
    /// have no query or fragment.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// A whole redirect URI to listen for, in place of [`port`](Self::port) and
    /// [`path`](Self::path): `http://` on `127.0.0.1`, `[::1]` (or another loopback address)
    /// or `localhost` (listened for on `127.0.0.1`), without a fragment. A port of 0 (or
    /// none) picks a free port, and the redirect URI then names it.
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uri = Some(uri.into());
        self
    }

    /// Where the authorization response is (default [`Mode::Query`]).
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// How long a wait lasts before [`Error::TimedOut`] (default [`DEFAULT_TIMEOUT`]),
    /// counted from the start of the wait.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How [`Loopback::open`] shows the authorization URL (default [`Browser::System`]).
    pub fn browser(mut self, browser: Browser) -> Self {
        self.browser = browser;
        self
    }

    /// Binds the listener.
    ///
    /// # Errors
    ///
    /// [`Error::RedirectUri`] for a redirect URI or path this listener cannot serve (not
    /// `http://`, not on a loopback host, with a fragment); [`Error::Bind`] when the address
    /// cannot be bound (the port is taken).
    pub fn bind(self) -> Result<Loopback, Error> {
        let mut uri = match &self.redirect_uri {
            Some(uri) => latchkey::parse_url(uri).map_err(|e| Error::RedirectUri(e.to_string()))?,
            None => {
                if !self.path.starts_with('/') || self.path.contains(['?', '#']) {
                    return Err(Error::RedirectUri(
                        "the path must start with / and have no query or fragment".into(),
                    ));
                }
                latchkey::parse_url(&format!("http://127.0.0.1:{}{}", self.port, self.path))
                    .map_err(|e| Error::RedirectUri(e.to_string()))?
            }
        };
        if uri.scheme() != "http" || uri.fragment().is_some() {
            return Err(Error::RedirectUri(
                "a loopback redirect URI is http:// and has no fragment".into(),
            ));
        }
        let Some(ip) = loopback_ip(&uri) else {
            return Err(Error::RedirectUri(
                "a loopback redirect URI is on 127.0.0.1, [::1] or localhost".into(),
            ));
        };
        let port = uri.port_or_known_default().unwrap_or(80);
        let addr = SocketAddr::new(ip, port);
        let listener = TcpListener::bind(addr).map_err(|e| Error::Bind {
            addr,
            source: e.into(),
        })?;
        let bound = listener.local_addr().map_err(Error::listener)?;
        if port == 0 {
            uri.set_port(Some(bound.port()))
                .map_err(|()| Error::RedirectUri("cannot set the port".into()))?;
        }
        Ok(Loopback {
            listener,
            local_addr: bound,
            redirect_uri: uri,
            mode: self.mode,
            timeout: self.timeout,
            browser: self.browser,
            tick: None,
        })
    }
}

/// The address to listen on for a redirect URI on a loopback host: its IP address (a
/// loopback one), or 127.0.0.1 for `localhost`. `None` for any other host.
fn loopback_ip(uri: &Url) -> Option<IpAddr> {
    let host = uri.host_str()?;
    if host.eq_ignore_ascii_case("localhost") {
        return Some(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    // An IP address (an IPv6 one in brackets); a domain name does not parse as one.
    let ip: IpAddr = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
        .parse()
        .ok()?;
    ip.is_loopback().then_some(ip)
}

/// What [`Loopback::on_tick`] calls about every second with the time left.
type Tick = Box<dyn FnMut(Duration) + Send>;

/// A bound loopback listener, ready to receive the one redirect of a login.
///
/// Made by [`Loopback::bind`] or [`Loopback::builder`]; consumed by a wait, so one listener
/// serves one login.
#[must_use = "a Loopback listens only while it waits"]
pub struct Loopback {
    listener: TcpListener,
    local_addr: SocketAddr,
    redirect_uri: Url,
    mode: Mode,
    timeout: Duration,
    browser: Browser,
    tick: Option<Tick>,
}

impl fmt::Debug for Loopback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Loopback")
            .field("local_addr", &self.local_addr)
            .field("redirect_uri", &self.redirect_uri.as_str())
            .field("mode", &self.mode)
            .field("timeout", &self.timeout)
            .field("browser", &self.browser)
            .field("on_tick", &self.tick.is_some())
            .finish()
    }
}

impl Loopback {
    /// Binds `127.0.0.1:0` with the default settings: a free port, the path
    /// [`DEFAULT_PATH`], [`Mode::Query`], [`DEFAULT_TIMEOUT`], [`Browser::System`].
    ///
    /// # Errors
    ///
    /// As for [`Builder::bind`].
    pub fn bind() -> Result<Self, Error> {
        Builder::default().bind()
    }

    /// Settings for a listener other than the default one.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// The redirect URI to send with the authorization request, with the real port.
    #[must_use]
    pub fn redirect_uri(&self) -> &str {
        self.redirect_uri.as_str()
    }

    /// The address the listener is bound to.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// How long a wait lasts before it gives up.
    #[must_use]
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Calls `tick` with the time left when a wait starts and about every second while it
    /// goes on (to show a countdown).
    pub fn on_tick(mut self, tick: impl FnMut(Duration) + Send + 'static) -> Self {
        self.tick = Some(Box::new(tick));
        self
    }

    /// Shows the authorization URL as the [`Browser`] setting says: opens it in the system
    /// browser or the named program, or prints it on stderr.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidUrl`] for a URL that is not `http://` or `https://`;
    /// [`Error::Browser`] when no browser could be started (print the URL for the user
    /// then: the wait works all the same).
    pub fn open(&self, url: &str) -> Result<(), Error> {
        self.browser.open(url)
    }

    /// Waits for the callback of the authorization code flow `pending` started, and turns it
    /// into the code exchange (the core's [`PendingAuthorization::callback`]: state, `iss`,
    /// the error form, the code). Blocks the calling thread.
    ///
    /// # Errors
    ///
    /// [`Error::Authorization`] with the server's error when the redirect carries one, or
    /// with what the core refused in the callback; [`Error::TimedOut`] when nothing
    /// arrived in time; [`Error::Listener`] when the listener failed.
    pub fn code(
        self,
        pending: PendingAuthorization,
        client: &Client,
    ) -> Result<CodeExchange, Error> {
        let state = pending.state().clone();
        self.wait_with(&state, |params| pending.callback(client, params))
    }

    /// Waits for the one callback that carries `state`, hands its parameters (the query, or
    /// for [`Mode::Fragment`] the fragment the relay page sent) to `accept`, answers the
    /// browser with a page saying how that went, and returns what `accept` returned. Blocks
    /// the calling thread.
    ///
    /// `accept` is called at most once, and never for an error redirect: that ends the wait
    /// with [`Error::Authorization`] holding the server's error.
    ///
    /// # Errors
    ///
    /// As for [`code`](Self::code), with what `accept` returned as [`Error::Authorization`].
    pub fn wait_with<T>(
        self,
        state: &State,
        accept: impl FnOnce(&str) -> Result<T, latchkey::Error>,
    ) -> Result<T, Error> {
        let session = Session::new(state, self.mode, &self.redirect_uri, accept);
        blocking::run(
            self.listener,
            session,
            self.timeout,
            self.tick,
            &self.redirect_uri,
        )
    }

    /// The async [`code`](Self::code): dropping the future stops listening and frees the
    /// port. Needs a tokio runtime with its I/O and time drivers.
    ///
    /// # Errors
    ///
    /// As for [`code`](Self::code).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn login() -> Result<(), Box<dyn std::error::Error>> {
    /// use latchkey::Client;
    /// use latchkey_loopback::{Error, Loopback};
    ///
    /// let loopback = Loopback::bind()?;
    /// let client = Client::builder("my-native-app")
    ///     .authorization_endpoint("https://login.example.com/authorize")
    ///     .token_endpoint("https://login.example.com/token")
    ///     .redirect_uri(loopback.redirect_uri())
    ///     .build()?;
    /// let (url, pending) = client.authorization_code().scope("openid").build()?;
    /// loopback.open(url.as_str())?;
    /// let exchange = match loopback.code_async(pending, &client).await {
    ///     Ok(exchange) => exchange,
    ///     // access_denied, or a callback the flow refused
    ///     Err(Error::Authorization(e)) => return Err(e.into()),
    ///     // timed out, the listener failed
    ///     Err(other) => return Err(other.into()),
    /// };
    /// // Send `exchange` with latchkey-reqwest's Transport for the tokens.
    /// # drop(exchange);
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "tokio")]
    pub async fn code_async(
        self,
        pending: PendingAuthorization,
        client: &Client,
    ) -> Result<CodeExchange, Error> {
        let state = pending.state().clone();
        self.wait_with_async(&state, |params| pending.callback(client, params))
            .await
    }

    /// The async [`wait_with`](Self::wait_with): dropping the future stops listening and
    /// frees the port. Needs a tokio runtime with its I/O and time drivers.
    ///
    /// # Errors
    ///
    /// As for [`wait_with`](Self::wait_with).
    #[cfg(feature = "tokio")]
    pub async fn wait_with_async<T>(
        self,
        state: &State,
        accept: impl FnOnce(&str) -> Result<T, latchkey::Error>,
    ) -> Result<T, Error> {
        let session = Session::new(state, self.mode, &self.redirect_uri, accept);
        with_tokio::run(
            self.listener,
            session,
            self.timeout,
            self.tick,
            &self.redirect_uri,
        )
        .await
    }
}

/// How often a wait calls its tick.
const TICK: Duration = Duration::from_secs(1);
/// How long one connection may take to send its request head, or to take the answer.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections read at the same time; more are closed at once.
const MAX_CONNECTIONS: usize = 32;
