//! A user logged in at a mock that rotates refresh tokens, a clock the test moves and a store
//! that logs: what the token manager cases use, and what each adapter's own tests (its
//! stress test, its HTTP client's settings) use too.
//!
//! The adapters do not depend on this crate, so their tests include this file by its path:
//! it uses nothing but `std`, `latchkey` and `latchkey-mock`.

use std::fmt::Debug;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use latchkey::manage::{ManagedTransport, TokenManagerBuilder};
use latchkey::{
    AccessToken, Client, CodeExchange, Error, Lifecycle, StoreError, TokenSet, TokenSource,
    TokenStore, TransportErrorKind, Url,
};
use latchkey_mock::{Fault, MockClient, MockServer, ResponseStyle};

/// The client secret of the mock's `app`.
pub const SECRET: &str = "manager-secret-5e1f0c";

/// Where the mock sends the user back to (never contacted).
pub const REDIRECT: &str = "https://app.example/callback";

/// A mock whose confidential client `app` gets Clerk-style answers (a refresh token every
/// time) and rotates refresh tokens; it records requests.
#[must_use]
pub fn rotating_server() -> MockServer {
    MockServer::builder()
        .client(
            MockClient::new("app")
                .secret(SECRET)
                .response_style(ResponseStyle::Clerk)
                .rotate_refresh_tokens(true),
        )
        .record_requests(true)
        .start()
}

/// The client for [`rotating_server`]'s `app`.
///
/// # Panics
///
/// When the mock's endpoints are not valid URLs.
#[must_use]
pub fn client(server: &MockServer) -> Client {
    Client::builder("app")
        .client_secret(SECRET)
        .authorization_endpoint(server.authorization_endpoint())
        .token_endpoint(server.token_endpoint())
        .userinfo_endpoint(server.userinfo_endpoint())
        .redirect_uri(REDIRECT)
        .build()
        .expect("the mock's client")
}

/// A user's grant at [`rotating_server`], renewed after failures within 50–200 ms.
#[must_use]
pub fn lifecycle(server: &MockServer) -> Lifecycle {
    Lifecycle::new(client(server), TokenSource::User)
        .backoff(Duration::from_millis(50), Duration::from_millis(200))
}

/// The user approves `app` at the mock: the code exchange to send.
///
/// # Panics
///
/// When the mock does not send the user back with a code.
pub fn authorization(server: &MockServer) -> CodeExchange {
    let client = client(server);
    let (url, pending) = client.authorization_code().build().expect("a request");
    pending
        .callback(&client, &visit(url.as_str()))
        .expect("a callback with a code")
}

/// `GET url` as a browser starts it, over a bare loopback connection (no HTTP client, so
/// that it behaves the same under every adapter): the `Location` of the redirect it answers.
///
/// # Panics
///
/// When the answer is not a redirect with a `Location`.
#[must_use]
pub fn visit(url: &str) -> String {
    let url = Url::parse(url).expect("an absolute URL");
    let host = url.host_str().expect("a host");
    let port = url.port_or_known_default().expect("a port");
    let mut target = url.path().to_owned();
    if let Some(query) = url.query() {
        target.push('?');
        target.push_str(query);
    }
    let mut stream = TcpStream::connect((host, port)).expect("the mock is listening");
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
    )
    .expect("the request is written");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("an answer");
    let head = answer.split("\r\n\r\n").next().unwrap_or_default();
    let mut lines = head.lines();
    let status = lines.next().unwrap_or_default();
    assert!(status.contains(" 302 "), "not a redirect: {status}");
    lines
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("location")
                .then(|| value.trim().to_owned())
        })
        .expect("a Location header")
}

/// Checks that `outcome` is the transport refusing a redirect with `status`, and that the
/// redirect's `target` saw nothing.
///
/// # Panics
///
/// When it is not so.
pub fn assert_redirect_refused<T: Debug>(
    outcome: Result<T, Error>,
    status: u16,
    target: &MockServer,
) {
    match outcome {
        Err(Error::Transport(e)) => {
            assert_eq!(e.kind(), TransportErrorKind::Redirect { status });
        }
        other => panic!("expected a refused redirect, got {other:?}"),
    }
    let contacted = target.requests();
    assert!(
        contacted.is_empty(),
        "the target was contacted: {contacted:?}"
    );
}

/// Wall-clock time plus an offset the test moves; a transport reads it through
/// [`source`](Self::source).
#[derive(Clone, Debug, Default)]
pub struct TestClock(Arc<AtomicI64>);

impl TestClock {
    /// Moves the clock forward.
    ///
    /// # Panics
    ///
    /// On an absurd duration.
    pub fn advance(&self, by: Duration) {
        let secs = i64::try_from(by.as_secs()).expect("a sane duration");
        self.0.fetch_add(secs, Ordering::SeqCst);
    }

    /// The time by this clock.
    #[must_use]
    pub fn now(&self) -> SystemTime {
        let offset = self.0.load(Ordering::SeqCst);
        let now = SystemTime::now();
        let by = Duration::from_secs(offset.unsigned_abs());
        if offset >= 0 { now + by } else { now - by }
    }

    /// The clock as a transport builder takes it.
    pub fn source(&self) -> impl Fn() -> SystemTime + Send + Sync + 'static {
        let clock = self.clone();
        move || clock.now()
    }
}

/// A store that logs every call in order (with whatever the test notes in between) and
/// holds the last token set saved.
#[derive(Debug, Default)]
pub struct Recorder {
    log: Mutex<Vec<String>>,
    held: Mutex<Option<TokenSet>>,
}

impl Recorder {
    /// Adds an entry to the log.
    pub fn note(&self, entry: String) {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(entry);
    }

    /// The log so far.
    #[must_use]
    pub fn log(&self) -> Vec<String> {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The last token set saved.
    #[must_use]
    pub fn held(&self) -> Option<TokenSet> {
        self.held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl TokenStore for Recorder {
    fn load(&self) -> Result<Option<TokenSet>, StoreError> {
        self.note("load".into());
        Ok(self.held())
    }

    fn save(&self, tokens: &TokenSet) -> Result<(), StoreError> {
        *self.held.lock().unwrap_or_else(PoisonError::into_inner) = Some(tokens.clone());
        self.note(format!("saved {}", tokens.access_token().expose_secret()));
        Ok(())
    }
}

/// A logged-in user at a [`rotating_server`] whose access token is about to run out: the
/// stress tests' setting. Build the manager with [`manage`](Self::manage), check that the
/// token is still [`fresh`](Self::fresh), [`pass`](Self::pass) the expiry, have every caller
/// ask at once, and check that [`one_refresh`](Self::one_refresh) served them all.
#[derive(Debug)]
pub struct Expiry {
    /// The mock.
    pub server: MockServer,
    /// The clock the transport must read.
    pub clock: TestClock,
    /// The manager's store.
    pub store: Arc<Recorder>,
}

impl Default for Expiry {
    fn default() -> Self {
        Self::new()
    }
}

impl Expiry {
    /// A [`rotating_server`], a clock at the wall-clock time and an empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::at(rotating_server())
    }

    /// The same at `server`, which must have [`rotating_server`]'s `app`, rotating or not.
    #[must_use]
    pub fn at(server: MockServer) -> Self {
        Self {
            server,
            clock: TestClock::default(),
            store: Arc::default(),
        }
    }

    /// The user's code exchange (see [`authorization`]).
    pub fn authorization(&self) -> CodeExchange {
        authorization(&self.server)
    }

    /// The manager of the user's `first` tokens over `transport`, saving to [`store`](Self::store).
    ///
    /// # Panics
    ///
    /// When the manager cannot be built.
    pub fn manage<T: ManagedTransport>(&self, transport: T, first: &TokenSet) -> T::Manager {
        let manager = TokenManagerBuilder::new(transport, lifecycle(&self.server))
            .tokens(first.clone())
            .store(Arc::clone(&self.store))
            .build()
            .expect("a manager");
        self.server.clear_requests();
        manager
    }

    /// Checks that the manager handed out the `first` access token as it is, asking nobody.
    ///
    /// # Panics
    ///
    /// When it did not.
    pub fn fresh(&self, first: &TokenSet, handed: &AccessToken) {
        assert_eq!(handed.expose_secret(), first.access_token().expose_secret());
        assert_eq!(self.server.request_count("/token"), 0);
    }

    /// An hour passes, on the clock and at the mock; the next refresh takes 100 ms, so that
    /// every caller piles up behind it.
    pub fn pass(&self) {
        self.clock.advance(Duration::from_secs(3600));
        self.server.expire_all_access_tokens();
        let slow = Fault::Delay(Duration::from_millis(100));
        self.server.inject("/token", slow, 1);
    }

    /// Checks that one refresh at the mock served every caller with one new, live access
    /// token, that the store holds it with the rotated refresh token, that the old refresh
    /// token is dead, and that it all took less than 10 s.
    ///
    /// # Panics
    ///
    /// When any of that is not so.
    pub fn one_refresh(&self, first: &TokenSet, handed: &[AccessToken], took: Duration) {
        let server = &self.server;
        assert_eq!(server.request_count("/token"), 1);
        assert_eq!(server.refresh_count(), 1);
        let new = handed[0].expose_secret();
        assert_ne!(new, first.access_token().expose_secret());
        assert!(handed.iter().all(|token| token.expose_secret() == new));
        assert!(server.access_token_active(new));
        let held = self.store.held().expect("saved tokens");
        assert_eq!(held.access_token().expose_secret(), new);
        let old = first
            .refresh_token()
            .expect("a refresh token")
            .expose_secret();
        let rotated = held.refresh_token().expect("a rotated refresh token");
        assert_ne!(rotated.expose_secret(), old);
        assert!(server.refresh_token_active(rotated.expose_secret()));
        assert!(!server.refresh_token_active(old));
        eprintln!("{} callers, 1 refresh, {took:?}", handed.len());
        assert!(took < Duration::from_secs(10), "{took:?}");
    }
}
