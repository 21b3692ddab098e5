//! The token managers over real HTTP: bearer requests, the save before any caller gets a
//! token, reauthorization, a renewer that panics, and what every manager is. Their decisions
//! are tested on virtual time in the core (`latchkey::manage`'s renewal tests); these check
//! that each adapter carries them out.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use latchkey::{
    ConfigError, Error, Method, ReauthorizeError, Request, RetryMode, TokenSet, TransportErrorKind,
    Url,
};
use latchkey_mock::{Fault, MockServer};

use super::authorize;
use crate::fixture::{Recorder, SECRET, client, lifecycle, rotating_server};
use crate::{Driver, Session};

/// The user logs in at `server` (a [`rotating_server`]); the tokens are registered as secrets.
fn login<D: Driver>(s: &Session<D>, server: &MockServer) -> TokenSet {
    s.secret(SECRET);
    let client = client(server);
    let exchange = authorize(s, &client, client.authorization_code());
    let tokens = s.send(exchange).unwrap();
    s.tokens(&tokens);
    tokens
}

/// `tokens` as the manager's clock sees them: due for renewal now.
fn due(tokens: &TokenSet) -> TokenSet {
    tokens.clone().with_expires_at(Some(SystemTime::now()))
}

/// `GET /userinfo` at `server`.
fn userinfo(server: &MockServer) -> Request {
    let url = Url::parse(&server.userinfo_endpoint()).unwrap();
    Request::new(Method::Get, url, RetryMode::Idempotent)
}

/// A manager of a fresh login that may send its token to `server`'s origin; the mock's
/// record starts after the login.
fn bearer_manager<D: Driver>(s: &Session<D>, server: &MockServer) -> (D::Manager, TokenSet) {
    let first = login(s, server);
    let manager = s
        .manage(lifecycle(server))
        .tokens(first.clone())
        .resource_origin(server.url())
        .build()
        .unwrap();
    server.clear_requests();
    (manager, first)
}

/// The `Authorization` header of every request the mock saw at `path`, in order.
fn authorizations(server: &MockServer, path: &str) -> Vec<String> {
    server
        .requests_to(path)
        .iter()
        .map(|r| r.header("authorization").unwrap_or_default().to_owned())
        .collect()
}

fn bearer(tokens: &TokenSet) -> String {
    format!("Bearer {}", tokens.access_token().expose_secret())
}

/// The manager's `execute` sends the access token as `Authorization: Bearer`.
pub fn manager_execute_sends_the_bearer_token<D: Driver>() {
    let server = rotating_server();
    let s = Session::<D>::new();
    let (manager, first) = bearer_manager(&s, &server);
    let response = s.execute_bearer(&manager, &userinfo(&server)).unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(authorizations(&server, "/userinfo"), [bearer(&first)]);
}

/// A `401` with `invalid_token` (the server expired the token; the manager's clock says it
/// is good): one renewal, and the request sent once more with the new token.
pub fn manager_execute_renews_once_and_retries_once_after_invalid_token<D: Driver>() {
    let server = rotating_server();
    let s = Session::<D>::new();
    let (manager, first) = bearer_manager(&s, &server);
    server.expire_all_access_tokens();
    let response = s.execute_bearer(&manager, &userinfo(&server)).unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(server.refresh_count(), 1);
    let renewed = s.current(&manager).unwrap();
    assert_eq!(
        authorizations(&server, "/userinfo"),
        [bearer(&first), bearer(&renewed)]
    );
}

/// When the renewed token is refused too, the second `401` is the answer: no loop.
pub fn manager_execute_retries_only_once<D: Driver>() {
    let server = Arc::new(rotating_server());
    let s = Session::<D>::new();
    let first = login(&s, &server);
    let mock = Arc::clone(&server);
    // Every new token is dead on arrival.
    let manager = s
        .manage(lifecycle(&server))
        .tokens(first)
        .resource_origin(server.url())
        .on_refresh(move |_| mock.expire_all_access_tokens())
        .build()
        .unwrap();
    server.clear_requests();
    server.expire_all_access_tokens();
    let response = s.execute_bearer(&manager, &userinfo(&server)).unwrap();
    assert_eq!(response.status, 401);
    assert!(latchkey::manage::bearer::token_rejected(&response));
    assert_eq!(server.request_count("/userinfo"), 2);
    assert_eq!(server.refresh_count(), 1);
}

/// Any other answer, a `401` without `invalid_token` or a `503`, comes back as it is, with
/// no renewal and no second request.
pub fn manager_execute_returns_other_answers_as_they_are<D: Driver>() {
    let server = rotating_server();
    let s = Session::<D>::new();
    let (manager, _) = bearer_manager(&s, &server);
    let login_required = r#"{"error":"login_required"}"#;
    server.inject(
        "/userinfo",
        Fault::body(401, "application/json", login_required),
        1,
    );
    let response = s.execute_bearer(&manager, &userinfo(&server)).unwrap();
    assert_eq!(response.status, 401);
    server.inject("/userinfo", Fault::status(503), 1);
    let response = s.execute_bearer(&manager, &userinfo(&server)).unwrap();
    assert_eq!(response.status, 503);
    assert_eq!(server.request_count("/userinfo"), 2);
    assert_eq!(server.refresh_count(), 0);
}

/// The token goes only to the origins the manager was given: the same host on another port
/// is refused before anything is sent, and a manager given none sends nothing.
pub fn manager_execute_never_sends_the_token_to_another_origin<D: Driver>() {
    let server = rotating_server();
    let other = MockServer::start();
    let s = Session::<D>::new();
    let (manager, _) = bearer_manager(&s, &server);
    match s.execute_bearer(&manager, &userinfo(&other)) {
        Err(Error::Config(ConfigError::ForeignOrigin(origin))) => {
            assert_eq!(origin, other.url());
        }
        other => panic!("{other:?}"),
    }
    assert!(other.requests().is_empty());
    assert_eq!(server.request_count("/token"), 0);
    let lonely = s.manage(lifecycle(&server)).build().unwrap();
    assert!(matches!(
        s.execute_bearer(&lonely, &userinfo(&server)),
        Err(Error::Config(ConfigError::ForeignOrigin(_)))
    ));
    assert_eq!(server.request_count("/userinfo"), 0);
}

/// A redirect is an error, even for a request that asks to follow it: the token never
/// reaches the `Location`.
pub fn manager_execute_never_follows_a_redirect_with_the_token<D: Driver>() {
    let server = rotating_server();
    let other = MockServer::start();
    let s = Session::<D>::new();
    let (manager, _) = bearer_manager(&s, &server);
    let elsewhere = Fault::redirect(302, other.userinfo_endpoint());
    server.inject("/userinfo", elsewhere, 1);
    let mut request = userinfo(&server);
    request.follow_redirects = true;
    match s.execute_bearer(&manager, &request) {
        Err(Error::Transport(e)) => {
            assert_eq!(e.kind(), TransportErrorKind::Redirect { status: 302 });
        }
        other => panic!("{other:?}"),
    }
    assert!(other.requests().is_empty());
}

/// Many callers need a renewal at once: the store saves the rotated tokens, then
/// `on_refresh` hears of them, then the first caller gets the new token; one refresh.
pub fn the_store_is_written_before_any_caller_gets_the_token<D: Driver>() {
    let server = rotating_server();
    let s = Session::<D>::new();
    let first = login(&s, &server);
    let store = Arc::new(Recorder::default());
    let recorder = Arc::clone(&store);
    let manager = s
        .manage(lifecycle(&server))
        .tokens(due(&first))
        .store(Arc::clone(&store))
        .on_refresh(move |tokens| {
            let new = tokens.access_token().expose_secret();
            recorder.note(format!("on_refresh {new}"));
        })
        .build()
        .unwrap();
    server.inject("/token", Fault::Delay(Duration::from_millis(50)), 1);
    let outcomes = s.access_tokens(&manager, 20);
    for outcome in &outcomes {
        let token = outcome.as_ref().expect("no caller panicked").as_ref();
        store.note(format!("returned {}", token.unwrap().expose_secret()));
    }
    let log = store.log();
    let new = s.current(&manager).unwrap();
    let new = new.access_token().expose_secret();
    assert_ne!(new, first.access_token().expose_secret());
    let at = |entry: String| log.iter().position(|e| *e == entry).unwrap();
    let saved = at(format!("saved {new}"));
    let announced = at(format!("on_refresh {new}"));
    let first_return = log.iter().position(|e| e.starts_with("returned")).unwrap();
    assert!(saved < announced && announced < first_return, "{log:?}");
    let count = |prefix: &str| log.iter().filter(|e| e.starts_with(prefix)).count();
    assert_eq!(count("saved"), 2, "the login, then the refresh: {log:?}");
    assert_eq!(count(&format!("returned {new}")), 20, "{log:?}");
    assert_eq!(server.refresh_count(), 1);
}

/// The renewer panics in `on_refresh`, after the store saved the rotated tokens: no caller
/// is left waiting, every one that returns has the saved token (only the caller whose thread
/// ran the renewal may see the panic), and nothing is refreshed twice.
pub fn a_panicking_renewer_wedges_nobody<D: Driver>() {
    let server = rotating_server();
    let s = Session::<D>::new();
    let first = login(&s, &server);
    let store = Arc::new(Recorder::default());
    let panicked = Arc::new(AtomicBool::new(false));
    let once = Arc::clone(&panicked);
    let manager = s
        .manage(lifecycle(&server))
        .tokens(due(&first))
        .store(Arc::clone(&store))
        .on_refresh(move |_| {
            if !once.swap(true, Ordering::SeqCst) {
                panic!("the callback failed");
            }
        })
        .build()
        .unwrap();
    server.inject("/token", Fault::Delay(Duration::from_millis(50)), 1);
    let outcomes = s.access_tokens(&manager, 20);
    assert!(panicked.load(Ordering::SeqCst));
    let saved = store.held().unwrap();
    let saved = saved.access_token().expose_secret();
    assert_ne!(saved, first.access_token().expose_secret());
    assert!(outcomes.iter().filter(|o| o.is_none()).count() <= 1);
    for outcome in outcomes.iter().flatten() {
        assert_eq!(outcome.as_ref().unwrap().expose_secret(), saved);
    }
    assert_eq!(s.access_token(&manager).unwrap().expose_secret(), saved);
    assert_eq!(server.refresh_count(), 1);
}

/// Without tokens, then after `invalid_grant`, then with no refresh token, only a new
/// authorization helps: every caller hears so, asking the server at most once, and
/// `set_tokens` makes the manager work again (saving the tokens first).
pub fn reauthorize_until_set_tokens<D: Driver>() {
    let server = rotating_server();
    let s = Session::<D>::new();
    let store = Arc::new(Recorder::default());
    let manager = s
        .manage(lifecycle(&server))
        .store(Arc::clone(&store))
        .build()
        .unwrap();
    assert_eq!(
        s.access_token(&manager).unwrap_err(),
        Error::Reauthorize(ReauthorizeError::NoTokens)
    );

    let first = login(&s, &server);
    s.set_tokens(&manager, due(&first)).unwrap();
    assert_eq!(
        store.held().unwrap().access_token().expose_secret(),
        first.access_token().expose_secret()
    );
    server.clear_requests();
    server.revoke_all_tokens();
    for outcome in s.access_tokens(&manager, 10) {
        match outcome.expect("no caller panicked") {
            Err(Error::Reauthorize(ReauthorizeError::InvalidGrant(e))) => {
                assert_eq!(e.code, latchkey::ErrorCode::InvalidGrant);
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(
        s.access_token(&manager)
            .unwrap_err()
            .is_reauthorization_required()
    );
    assert_eq!(server.request_count("/token"), 1);

    let again = login(&s, &server);
    s.set_tokens(&manager, again.clone()).unwrap();
    assert_eq!(
        s.access_token(&manager).unwrap().expose_secret(),
        again.access_token().expose_secret()
    );
    let no_refresh = due(&again).with_refresh_token(None);
    s.set_tokens(&manager, no_refresh).unwrap();
    server.clear_requests();
    assert_eq!(
        s.access_token(&manager).unwrap_err(),
        Error::Reauthorize(ReauthorizeError::NoRefreshToken)
    );
    assert!(server.requests().is_empty());
    assert_eq!(
        server.refresh_count(),
        0,
        "the one refresh asked for was refused"
    );
}

/// A manager is cheap to clone, `Send + Sync`, and its `Debug` shows no token or secret.
pub fn manager_is_clone_send_sync_debug_without_secrets<D: Driver>() {
    fn check<T: Clone + Send + Sync + std::fmt::Debug + 'static>() {}
    check::<D::Manager>();
    let server = rotating_server();
    let s = Session::<D>::new();
    let (manager, first) = bearer_manager(&s, &server);
    // Clones share one state: what one is given, the other holds.
    let copy = manager.clone();
    let again = login(&s, &server);
    s.set_tokens(&copy, again.clone()).unwrap();
    let held = s.current(&manager).unwrap();
    assert_eq!(
        held.access_token().expose_secret(),
        again.access_token().expose_secret()
    );
    let debug = format!("{manager:?}");
    assert!(
        !debug.contains(first.access_token().expose_secret()),
        "{debug}"
    );
    assert!(!debug.contains(SECRET), "{debug}");
    assert!(debug.contains("TokenManager"), "{debug}");
    s.note(debug);
}
