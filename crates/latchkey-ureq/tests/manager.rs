//! The blocking token manager against latchkey-mock: one refresh however many threads ask,
//! failures shared and retried, rotation saved before use, bearer requests.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use latchkey::{
    AccessToken, ConfigError, Error, Lifecycle, Method, ReauthorizeError, Request, RetryMode,
    TokenSet, TokenSource, TransportErrorKind, Url,
};
use latchkey_mock::{Fault, MockClient, MockServer};
use latchkey_ureq::{MemoryStore, TokenManager, Transport};

/// Logs in at the mock (authorization code) with `transport`.
fn login(server: &MockServer, transport: &Transport) -> TokenSet {
    let client = client(server);
    let (url, pending) = client.authorization_code().build().unwrap();
    let exchange = pending.callback(&client, &visit(url.as_str())).unwrap();
    transport.send(exchange).unwrap()
}

/// A transport on the test clock.
fn transport(clock: &TestClock) -> Transport {
    Transport::builder().clock(clock.source()).build()
}

fn lifecycle(server: &MockServer) -> Lifecycle {
    Lifecycle::new(client(server), TokenSource::User)
        .backoff(Duration::from_millis(50), Duration::from_millis(200))
}

/// Runs `threads` threads that all call `f` at once; their results in order.
fn at_once<T: Send>(threads: usize, f: impl Fn() -> T + Sync) -> Vec<T> {
    let barrier = Barrier::new(threads);
    thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                thread::Builder::new()
                    .stack_size(256 * 1024)
                    .spawn_scoped(s, || {
                        barrier.wait();
                        f()
                    })
                    .unwrap()
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

#[test]
fn a_thousand_threads_across_an_expiry_send_one_refresh() {
    let server = rotating_server();
    let clock = TestClock::default();
    let transport = transport(&clock);
    let first = login(&server, &transport);
    let old_refresh = first.refresh_token().unwrap().clone();
    let store = Arc::new(Recorder::default());
    let manager = TokenManager::builder(transport, lifecycle(&server))
        .tokens(first.clone())
        .store(Arc::clone(&store))
        .build()
        .unwrap();
    server.clear_requests();

    // Still fresh: no request.
    let token = manager.access_token().unwrap();
    assert_eq!(token.expose_secret(), first.access_token().expose_secret());
    assert_eq!(server.request_count("/token"), 0);

    // Past the expiry; the refresh takes 100 ms so that every thread piles up behind it.
    clock.advance(Duration::from_secs(3600));
    server.expire_all_access_tokens();
    server.inject("/token", Fault::Delay(Duration::from_millis(100)), 1);
    let start = Instant::now();
    let tokens = at_once(1000, || manager.access_token().unwrap());
    let elapsed = start.elapsed();

    assert_eq!(server.request_count("/token"), 1);
    assert_eq!(server.refresh_count(), 1);
    let new = tokens[0].expose_secret().to_owned();
    assert_ne!(new, first.access_token().expose_secret());
    assert!(tokens.iter().all(|t| t.expose_secret() == new));
    assert!(server.access_token_active(&new));
    // The store holds the rotated refresh token; the old one is dead.
    let held = store.held().unwrap();
    assert_eq!(held.access_token().expose_secret(), new);
    let rotated = held.refresh_token().unwrap();
    assert_ne!(rotated.expose_secret(), old_refresh.expose_secret());
    assert!(server.refresh_token_active(rotated.expose_secret()));
    assert!(!server.refresh_token_active(old_refresh.expose_secret()));
    eprintln!("ureq: 1000 threads, 1 refresh, {elapsed:?}");
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
}

#[test]
fn the_clock_crosses_the_skew_boundary() {
    let server = rotating_server();
    let clock = TestClock::default();
    let transport = transport(&clock);
    let first = login(&server, &transport);
    let manager =
        TokenManager::builder(transport, lifecycle(&server).skew(Duration::from_secs(60)))
            .tokens(first.clone())
            .build()
            .unwrap();
    // 3600 s tokens: 61 s before the expiry the token is used as is...
    clock.advance(Duration::from_secs(3600 - 62));
    let same = manager.access_token().unwrap();
    assert_eq!(same.expose_secret(), first.access_token().expose_secret());
    assert_eq!(server.refresh_count(), 0);
    // ...59 s before, it is renewed.
    clock.advance(Duration::from_secs(3));
    let renewed = manager.access_token().unwrap();
    assert_ne!(
        renewed.expose_secret(),
        first.access_token().expose_secret()
    );
    assert_eq!(server.refresh_count(), 1);
    // The new token counts from the same clock: fresh again.
    assert_eq!(
        manager.access_token().unwrap().expose_secret(),
        renewed.expose_secret()
    );
    assert_eq!(server.refresh_count(), 1);
}

#[test]
fn a_503_is_shared_then_one_retry_succeeds_after_the_backoff() {
    let server = rotating_server();
    let clock = TestClock::default();
    let transport = transport(&clock);
    let first = login(&server, &transport);
    let manager = TokenManager::builder(transport, lifecycle(&server))
        .tokens(first)
        .build()
        .unwrap();
    server.clear_requests();
    clock.advance(Duration::from_secs(3600));
    server.inject("/token", Fault::status(503), 1);
    let failed = Mutex::new(0);
    let start = Instant::now();
    let tokens = at_once(50, || match manager.access_token() {
        Ok(token) => token,
        Err(e) => {
            assert_eq!(
                e.server_code(),
                Some(&latchkey::ErrorCode::TemporarilyUnavailable)
            );
            *failed.lock().unwrap() += 1;
            // Every waiter retries once.
            manager.access_token().unwrap()
        }
    });
    assert!(*failed.lock().unwrap() >= 1);
    // Two requests, one at a time: the 503, then (after the backoff) the success.
    assert_eq!(server.request_count("/token"), 2);
    assert_eq!(server.refresh_count(), 1);
    assert!(start.elapsed() >= Duration::from_millis(50));
    let new = tokens[0].expose_secret();
    assert!(tokens.iter().all(|t| t.expose_secret() == new));
}

#[test]
fn invalid_grant_means_reauthorize_for_every_waiter_until_new_tokens() {
    let server = rotating_server();
    let clock = TestClock::default();
    let transport = transport(&clock);
    let first = login(&server, &transport);
    let manager = TokenManager::builder(transport.clone(), lifecycle(&server))
        .tokens(first)
        .build()
        .unwrap();
    server.clear_requests();
    server.revoke_all_tokens();
    clock.advance(Duration::from_secs(3600));
    server.inject("/token", Fault::Delay(Duration::from_millis(100)), 1);
    let results = at_once(100, || manager.access_token());
    for result in &results {
        match result {
            Err(Error::Reauthorize(ReauthorizeError::InvalidGrant(e))) => {
                assert_eq!(e.code, latchkey::ErrorCode::InvalidGrant);
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(server.request_count("/token"), 1);
    // Later calls know without asking.
    assert!(
        manager
            .access_token()
            .unwrap_err()
            .is_reauthorization_required()
    );
    assert!(
        manager
            .force_refresh()
            .unwrap_err()
            .is_reauthorization_required()
    );
    assert_eq!(server.request_count("/token"), 1);
    // A new login brings it back.
    let again = login(&server, &transport);
    manager.set_tokens(again.clone()).unwrap();
    assert_eq!(
        manager.access_token().unwrap().expose_secret(),
        again.access_token().expose_secret()
    );
}

#[test]
fn no_refresh_token_means_reauthorize_without_a_request() {
    let server = rotating_server();
    let clock = TestClock::default();
    let transport = transport(&clock);
    let manager = TokenManager::new(transport.clone(), lifecycle(&server));
    assert_eq!(
        manager.access_token().unwrap_err(),
        Error::Reauthorize(ReauthorizeError::NoTokens)
    );
    let first = login(&server, &transport).with_refresh_token(None);
    manager.set_tokens(first).unwrap();
    assert!(manager.access_token().is_ok());
    clock.advance(Duration::from_secs(3600));
    assert_eq!(
        manager.access_token().unwrap_err(),
        Error::Reauthorize(ReauthorizeError::NoRefreshToken)
    );
    assert_eq!(server.refresh_count(), 0);
}

#[test]
fn the_store_is_written_before_any_thread_gets_the_token() {
    let server = rotating_server();
    let clock = TestClock::default();
    let transport = transport(&clock);
    let first = login(&server, &transport);
    let store = Arc::new(Recorder::default());
    let recorder = Arc::clone(&store);
    let manager = TokenManager::builder(transport, lifecycle(&server))
        .tokens(first)
        .store(Arc::clone(&store))
        .on_refresh(move |tokens| {
            recorder.note(format!(
                "on_refresh {}",
                tokens.access_token().expose_secret()
            ));
        })
        .build()
        .unwrap();
    clock.advance(Duration::from_secs(3600));
    server.inject("/token", Fault::Delay(Duration::from_millis(50)), 1);
    let tokens = at_once(20, || {
        let token = manager.access_token().unwrap();
        store.note(format!("returned {}", token.expose_secret()));
        token
    });
    let new = tokens[0].expose_secret();
    let log = store.log();
    let saved = log
        .iter()
        .position(|e| *e == format!("saved {new}"))
        .unwrap();
    let announced = log
        .iter()
        .position(|e| *e == format!("on_refresh {new}"))
        .unwrap();
    let first_return = log.iter().position(|e| e.starts_with("returned")).unwrap();
    assert!(saved < announced && announced < first_return, "{log:?}");
    assert_eq!(log.iter().filter(|e| e.starts_with("saved")).count(), 2); // initial + refresh
    assert_eq!(log.iter().filter(|e| e.starts_with("returned")).count(), 20);
}

#[test]
fn a_store_failure_is_shared_and_saved_again_without_another_refresh() {
    let server = rotating_server();
    let clock = TestClock::default();
    let transport = transport(&clock);
    let first = login(&server, &transport);
    let store = Arc::new(Recorder::default());
    let manager = TokenManager::builder(transport, lifecycle(&server))
        .tokens(first)
        .store(Arc::clone(&store))
        .build()
        .unwrap();
    clock.advance(Duration::from_secs(3600));
    store.fail_next_saves(1);
    server.inject("/token", Fault::Delay(Duration::from_millis(50)), 1);
    let results = at_once(20, || manager.access_token());
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Err(Error::Store(e)) if e.message() == "disk full (injected)")),
        "{results:?}"
    );
    // The rotated tokens are kept in memory; the next call saves them, then hands them out.
    let token = manager.access_token().unwrap();
    assert_eq!(server.refresh_count(), 1);
    let held = store.held().unwrap();
    assert_eq!(held.access_token().expose_secret(), token.expose_secret());
    let log = store.log();
    assert_eq!(
        log.iter().filter(|e| e.starts_with("save failed")).count(),
        1
    );
    assert!(log.last().unwrap().starts_with("saved"), "{log:?}");
}

#[test]
fn a_panicking_refresher_does_not_wedge_the_others() {
    let server = rotating_server();
    let clock = TestClock::default();
    let transport = transport(&clock);
    let first = login(&server, &transport);
    let store = MemoryStore::new();
    let panicked = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&panicked);
    let manager = TokenManager::builder(transport, lifecycle(&server))
        .tokens(first.clone())
        .store(store.clone())
        .on_refresh(move |_| {
            if !flag.swap(true, Ordering::SeqCst) {
                panic!("callback failed");
            }
        })
        .build()
        .unwrap();
    clock.advance(Duration::from_secs(3600));
    server.inject("/token", Fault::Delay(Duration::from_millis(50)), 1);
    let results = at_once(20, || {
        let m = manager.clone();
        thread::spawn(move || m.access_token()).join()
    });
    let panics = results.iter().filter(|r| r.is_err()).count();
    assert_eq!(panics, 1);
    // The waiters took over with the token the store saved before the panic: no second
    // refresh.
    let saved = store.get().unwrap();
    let saved = saved.access_token().expose_secret();
    assert_ne!(saved, first.access_token().expose_secret());
    for result in results.iter().flatten() {
        assert_eq!(result.as_ref().unwrap().expose_secret(), saved);
    }
    assert_eq!(manager.access_token().unwrap().expose_secret(), saved);
    assert_eq!(server.refresh_count(), 1);
}

#[test]
fn many_threads_reporting_the_same_401_cause_one_refresh() {
    let server = rotating_server();
    let clock = TestClock::default();
    let transport = transport(&clock);
    let first = login(&server, &transport);
    let manager = TokenManager::builder(transport, lifecycle(&server))
        .tokens(first.clone())
        .build()
        .unwrap();
    let rejected = first.access_token().clone();
    let tokens = at_once(50, || {
        manager.invalidate(&rejected);
        manager.access_token().unwrap()
    });
    assert_eq!(server.refresh_count(), 1);
    assert!(
        tokens
            .iter()
            .all(|t| t.expose_secret() == tokens[0].expose_secret())
    );
    // A stale report changes nothing.
    manager.invalidate(&rejected);
    manager.invalidate(&AccessToken::new("unknown"));
    assert_eq!(
        manager.access_token().unwrap().expose_secret(),
        tokens[0].expose_secret()
    );
    // force_refresh renews a valid token.
    let forced = manager.force_refresh().unwrap();
    assert_ne!(forced.expose_secret(), tokens[0].expose_secret());
    assert_eq!(server.refresh_count(), 2);
}

#[test]
fn client_credentials_are_fetched_then_reused_then_fetched_again() {
    let server = MockServer::builder()
        .client(MockClient::new("svc").secret(SECRET))
        .start();
    let clock = TestClock::default();
    let client = latchkey::Client::builder("svc")
        .client_secret(SECRET)
        .token_endpoint(server.token_endpoint())
        .build()
        .unwrap();
    let source = TokenSource::ClientCredentials {
        scope: "read".into(),
        params: Vec::new(),
    };
    let manager = TokenManager::new(transport(&clock), Lifecycle::new(client, source));
    let tokens = at_once(100, || manager.access_token().unwrap());
    assert!(
        tokens
            .iter()
            .all(|t| t.expose_secret() == tokens[0].expose_secret())
    );
    assert_eq!(server.request_count("/token"), 1);
    clock.advance(Duration::from_secs(3600));
    let next = manager.access_token().unwrap();
    assert_ne!(next.expose_secret(), tokens[0].expose_secret());
    assert_eq!(server.request_count("/token"), 2);
    assert_eq!(manager.tokens().unwrap().scope(), Some("read"));
}

// ----- bearer requests -----

fn userinfo(server: &MockServer) -> Request {
    Request::new(
        Method::Get,
        Url::parse(&server.userinfo_endpoint()).unwrap(),
        RetryMode::Idempotent,
    )
}

fn bearer_manager(server: &MockServer, clock: &TestClock) -> (TokenManager, TokenSet) {
    let transport = transport(clock);
    let first = login(server, &transport);
    let manager = TokenManager::builder(transport, lifecycle(server))
        .tokens(first.clone())
        .resource_origin(server.url())
        .build()
        .unwrap();
    server.clear_requests();
    (manager, first)
}

fn authorizations(server: &MockServer, path: &str) -> Vec<String> {
    server
        .requests_to(path)
        .iter()
        .map(|r| {
            r.headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("authorization"))
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        })
        .collect()
}

#[test]
fn execute_sends_the_bearer_token() {
    let server = rotating_server();
    let (manager, first) = bearer_manager(&server, &TestClock::default());
    let response = manager.execute(&userinfo(&server)).unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(
        authorizations(&server, "/userinfo"),
        [format!("Bearer {}", first.access_token().expose_secret())]
    );
}

#[test]
fn execute_renews_once_and_retries_once_after_invalid_token() {
    let server = rotating_server();
    let (manager, first) = bearer_manager(&server, &TestClock::default());
    // The server has expired the token; the manager's clock says it is still good.
    server.expire_all_access_tokens();
    let response = manager.execute(&userinfo(&server)).unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(server.refresh_count(), 1);
    let new = manager
        .tokens()
        .unwrap()
        .access_token()
        .expose_secret()
        .to_owned();
    assert_eq!(
        authorizations(&server, "/userinfo"),
        [
            format!("Bearer {}", first.access_token().expose_secret()),
            format!("Bearer {new}")
        ]
    );
}

#[test]
fn execute_retries_only_once() {
    let server = Arc::new(rotating_server());
    let clock = TestClock::default();
    let transport = transport(&clock);
    let first = login(&server, &transport);
    let mock = Arc::clone(&server);
    // Every new token is dead on arrival.
    let manager = TokenManager::builder(transport, lifecycle(&server))
        .tokens(first)
        .resource_origin(server.url())
        .on_refresh(move |_| mock.expire_all_access_tokens())
        .build()
        .unwrap();
    server.clear_requests();
    server.expire_all_access_tokens();
    let response = manager.execute(&userinfo(&server)).unwrap();
    assert_eq!(response.status, 401);
    assert!(latchkey::manage::bearer::token_rejected(&response));
    assert_eq!(server.request_count("/userinfo"), 2);
    assert_eq!(server.refresh_count(), 1);
}

#[test]
fn execute_returns_other_answers_as_they_are() {
    let server = rotating_server();
    let (manager, _) = bearer_manager(&server, &TestClock::default());
    server.inject(
        "/userinfo",
        Fault::body(401, "application/json", r#"{"error":"login_required"}"#),
        1,
    );
    assert_eq!(manager.execute(&userinfo(&server)).unwrap().status, 401);
    server.inject("/userinfo", Fault::status(503), 1);
    assert_eq!(manager.execute(&userinfo(&server)).unwrap().status, 503);
    assert_eq!(server.request_count("/userinfo"), 2);
    assert_eq!(server.refresh_count(), 0);
}

#[test]
fn execute_never_sends_the_token_to_another_origin() {
    let server = rotating_server();
    let other = MockServer::start();
    let (manager, _) = bearer_manager(&server, &TestClock::default());
    // Same host, another port: another origin.
    match manager.execute(&userinfo(&other)) {
        Err(Error::Config(ConfigError::ForeignOrigin(origin))) => {
            assert_eq!(origin, other.url());
        }
        other => panic!("{other:?}"),
    }
    assert!(other.requests().is_empty());
    assert_eq!(server.request_count("/token"), 0);
    // Nothing configured: nothing allowed.
    let lonely = TokenManager::new(Transport::new(), lifecycle(&server));
    assert!(matches!(
        lonely.execute(&userinfo(&server)),
        Err(Error::Config(ConfigError::ForeignOrigin(_)))
    ));
    assert_eq!(server.request_count("/userinfo"), 0);
}

#[test]
fn execute_never_follows_a_redirect_with_the_token() {
    let server = rotating_server();
    let other = MockServer::start();
    let (manager, _) = bearer_manager(&server, &TestClock::default());
    server.inject(
        "/userinfo",
        Fault::redirect(302, other.userinfo_endpoint()),
        1,
    );
    let mut request = userinfo(&server);
    request.follow_redirects = true; // asking does not help
    match manager.execute(&request) {
        Err(Error::Transport(e)) => {
            assert_eq!(e.kind(), TransportErrorKind::Redirect { status: 302 });
        }
        other => panic!("{other:?}"),
    }
    assert!(other.requests().is_empty());
}

#[test]
fn manager_is_clone_send_sync_debug_without_secrets() {
    fn check<T: Clone + Send + Sync + std::fmt::Debug + 'static>() {}
    check::<TokenManager>();
    let server = rotating_server();
    let (manager, first) = bearer_manager(&server, &TestClock::default());
    let debug = format!("{manager:?}");
    assert!(
        !debug.contains(first.access_token().expose_secret()),
        "{debug}"
    );
    assert!(!debug.contains(SECRET), "{debug}");
}

/// The cost of `access_token()` on the fresh-token path (no I/O): run with
/// `cargo test --release -p latchkey-ureq --test manager -- --ignored --nocapture fresh_path`.
#[test]
#[ignore = "a measurement, not a check"]
fn fresh_path_cost() {
    let client = latchkey::Client::builder("app")
        .token_endpoint("https://as.example/token")
        .build()
        .unwrap();
    let tokens = TokenSet::new(AccessToken::new("at-fresh"), latchkey::TokenType::Bearer)
        .with_expires_at(Some(
            std::time::SystemTime::now() + Duration::from_secs(3600),
        ));
    let manager =
        TokenManager::builder(Transport::new(), Lifecycle::new(client, TokenSource::User))
            .tokens(tokens)
            .build()
            .unwrap();
    let median = |threads: usize| {
        let mut samples: Vec<f64> = (0..11)
            .map(|_| {
                let calls = 200_000 / threads;
                let start = Instant::now();
                at_once(threads, || {
                    for _ in 0..calls {
                        std::hint::black_box(manager.access_token().unwrap());
                    }
                });
                start.elapsed().as_nanos() as f64 / (calls * threads) as f64
            })
            .collect();
        samples.sort_by(f64::total_cmp);
        samples[samples.len() / 2]
    };
    eprintln!(
        "ureq fresh path: {:.0} ns/call uncontended, {:.0} ns/call (throughput) with 8 threads",
        median(1),
        median(8)
    );
}
