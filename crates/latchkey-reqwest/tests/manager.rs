//! The async token manager against latchkey-mock: one refresh however many tasks ask,
//! failures shared and retried, cancellation that wedges nobody, rotation saved before use,
//! bearer requests.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use latchkey::{
    AccessToken, ConfigError, Error, Lifecycle, Method, ReauthorizeError, Request, RetryMode,
    TokenSet, TokenSource, TransportErrorKind, Url,
};
use latchkey_mock::{Fault, MockClient, MockServer, ResponseStyle};
use latchkey_reqwest::{MemoryStore, TokenManager, Transport};

/// Logs in at the mock (authorization code) with `transport`.
async fn login(server: &MockServer, transport: &Transport) -> TokenSet {
    let client = client(server);
    let (url, pending) = client.authorization_code().build().unwrap();
    let exchange = pending
        .callback(&client, &visit(url.as_str()).await)
        .unwrap();
    transport.send(exchange).await.unwrap()
}

/// A transport on the test clock.
fn transport(clock: &TestClock) -> Transport {
    Transport::builder().clock(clock.source()).build()
}

fn lifecycle(server: &MockServer) -> Lifecycle {
    Lifecycle::new(client(server), TokenSource::User)
        .backoff(Duration::from_millis(50), Duration::from_millis(200))
}

/// Spawns `tasks` tasks that each run `f`; their results in order (a panic fails the test).
async fn spawn_all<T, F, Fut>(tasks: usize, f: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn() -> Fut,
    Fut: Future<Output = T> + Send + 'static,
{
    let handles: Vec<_> = (0..tasks).map(|_| tokio::spawn(f())).collect();
    let mut out = Vec::with_capacity(tasks);
    for handle in handles {
        out.push(handle.await.unwrap());
    }
    out
}

/// Waits (briefly) until the mock has received `n` requests on `path`.
async fn until_requests(server: &MockServer, path: &str, n: usize) {
    let start = Instant::now();
    while server.request_count(path) < n {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "no request to {path}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_tasks_across_an_expiry_send_one_refresh() {
    let server = rotating_server();
    let clock = TestClock::default();
    let transport = transport(&clock);
    let first = login(&server, &transport).await;
    let old_refresh = first.refresh_token().unwrap().clone();
    let store = Arc::new(Recorder::default());
    let manager = TokenManager::builder(transport, lifecycle(&server))
        .tokens(first.clone())
        .store(Arc::clone(&store))
        .build()
        .unwrap();
    server.clear_requests();

    let token = manager.access_token().await.unwrap();
    assert_eq!(token.expose_secret(), first.access_token().expose_secret());
    assert_eq!(server.request_count("/token"), 0);

    clock.advance(Duration::from_secs(3600));
    server.expire_all_access_tokens();
    server.inject("/token", Fault::Delay(Duration::from_millis(100)), 1);
    let start = Instant::now();
    let tokens = spawn_all(10_000, || {
        let manager = manager.clone();
        async move { manager.access_token().await.unwrap() }
    })
    .await;
    let elapsed = start.elapsed();

    assert_eq!(server.request_count("/token"), 1);
    assert_eq!(server.refresh_count(), 1);
    let new = tokens[0].expose_secret().to_owned();
    assert_ne!(new, first.access_token().expose_secret());
    assert!(tokens.iter().all(|t| t.expose_secret() == new));
    assert!(server.access_token_active(&new));
    let held = store.held().unwrap();
    assert_eq!(held.access_token().expose_secret(), new);
    let rotated = held.refresh_token().unwrap();
    assert_ne!(rotated.expose_secret(), old_refresh.expose_secret());
    assert!(server.refresh_token_active(rotated.expose_secret()));
    assert!(!server.refresh_token_active(old_refresh.expose_secret()));
    eprintln!("reqwest: 10000 tasks, 1 refresh, {elapsed:?}");
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
}

#[tokio::test]
async fn the_clock_crosses_the_skew_boundary() {
    let server = rotating_server();
    let clock = TestClock::default();
    let transport = transport(&clock);
    let first = login(&server, &transport).await;
    let manager =
        TokenManager::builder(transport, lifecycle(&server).skew(Duration::from_secs(60)))
            .tokens(first.clone())
            .build()
            .unwrap();
    clock.advance(Duration::from_secs(3600 - 62));
    let same = manager.access_token().await.unwrap();
    assert_eq!(same.expose_secret(), first.access_token().expose_secret());
    assert_eq!(server.refresh_count(), 0);
    clock.advance(Duration::from_secs(3));
    let renewed = manager.access_token().await.unwrap();
    assert_ne!(
        renewed.expose_secret(),
        first.access_token().expose_secret()
    );
    assert_eq!(server.refresh_count(), 1);
    assert_eq!(
        manager.access_token().await.unwrap().expose_secret(),
        renewed.expose_secret()
    );
    assert_eq!(server.refresh_count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_is_shared_then_one_retry_succeeds_after_the_backoff() {
    let server = rotating_server();
    let clock = TestClock::default();
    let transport = transport(&clock);
    let first = login(&server, &transport).await;
    let manager = TokenManager::builder(transport, lifecycle(&server))
        .tokens(first)
        .build()
        .unwrap();
    server.clear_requests();
    clock.advance(Duration::from_secs(3600));
    server.inject("/token", Fault::status(503), 1);
    let failed = Arc::new(Mutex::new(0));
    let start = Instant::now();
    let tokens = spawn_all(500, || {
        let manager = manager.clone();
        let failed = Arc::clone(&failed);
        async move {
            match manager.access_token().await {
                Ok(token) => token,
                Err(e) => {
                    assert_eq!(
                        e.server_code(),
                        Some(&latchkey::ErrorCode::TemporarilyUnavailable)
                    );
                    *failed.lock().unwrap() += 1;
                    manager.access_token().await.unwrap()
                }
            }
        }
    })
    .await;
    assert!(*failed.lock().unwrap() >= 1);
    assert_eq!(server.request_count("/token"), 2);
    assert_eq!(server.refresh_count(), 1);
    assert!(start.elapsed() >= Duration::from_millis(50));
    let new = tokens[0].expose_secret();
    assert!(tokens.iter().all(|t| t.expose_secret() == new));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_grant_means_reauthorize_for_every_waiter_until_new_tokens() {
    let server = rotating_server();
    let clock = TestClock::default();
    let transport = transport(&clock);
    let first = login(&server, &transport).await;
    let manager = TokenManager::builder(transport.clone(), lifecycle(&server))
        .tokens(first)
        .build()
        .unwrap();
    server.clear_requests();
    server.revoke_all_tokens();
    clock.advance(Duration::from_secs(3600));
    server.inject("/token", Fault::Delay(Duration::from_millis(100)), 1);
    let results = spawn_all(1000, || {
        let manager = manager.clone();
        async move { manager.access_token().await }
    })
    .await;
    for result in &results {
        match result {
            Err(Error::Reauthorize(ReauthorizeError::InvalidGrant(e))) => {
                assert_eq!(e.code, latchkey::ErrorCode::InvalidGrant);
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(server.request_count("/token"), 1);
    assert!(
        manager
            .access_token()
            .await
            .unwrap_err()
            .is_reauthorization_required()
    );
    assert!(
        manager
            .force_refresh()
            .await
            .unwrap_err()
            .is_reauthorization_required()
    );
    assert_eq!(server.request_count("/token"), 1);
    let again = login(&server, &transport).await;
    manager.set_tokens(again.clone()).await.unwrap();
    assert_eq!(
        manager.access_token().await.unwrap().expose_secret(),
        again.access_token().expose_secret()
    );
}

#[tokio::test]
async fn no_refresh_token_means_reauthorize_without_a_request() {
    let server = rotating_server();
    let clock = TestClock::default();
    let transport = transport(&clock);
    let manager = TokenManager::new(transport.clone(), lifecycle(&server));
    assert_eq!(
        manager.access_token().await.unwrap_err(),
        Error::Reauthorize(ReauthorizeError::NoTokens)
    );
    let first = login(&server, &transport).await.with_refresh_token(None);
    manager.set_tokens(first).await.unwrap();
    assert!(manager.access_token().await.is_ok());
    clock.advance(Duration::from_secs(3600));
    assert_eq!(
        manager.access_token().await.unwrap_err(),
        Error::Reauthorize(ReauthorizeError::NoRefreshToken)
    );
    assert_eq!(server.refresh_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_refreshing_caller_cancelled_mid_flight_cancels_nothing() {
    let server = rotating_server();
    let clock = TestClock::default();
    let transport = transport(&clock);
    let first = login(&server, &transport).await;
    let store = MemoryStore::new();
    let manager = TokenManager::builder(transport, lifecycle(&server))
        .tokens(first.clone())
        .store(store.clone())
        .build()
        .unwrap();
    server.clear_requests();
    clock.advance(Duration::from_secs(3600));
    server.inject("/token", Fault::Delay(Duration::from_millis(300)), 1);
    // The task that starts the refresh is aborted while the request is in flight...
    let starter = tokio::spawn({
        let manager = manager.clone();
        async move { manager.access_token().await }
    });
    until_requests(&server, "/token", 1).await;
    // ...and so is a waiter, at a timeout.
    let impatient = tokio::time::timeout(Duration::from_millis(20), manager.access_token()).await;
    assert!(impatient.is_err());
    starter.abort();
    assert!(starter.await.unwrap_err().is_cancelled());
    // The others still get the one new token, and the rotated refresh token is saved.
    let tokens = spawn_all(100, || {
        let manager = manager.clone();
        async move { manager.access_token().await.unwrap() }
    })
    .await;
    let new = tokens[0].expose_secret();
    assert_ne!(new, first.access_token().expose_secret());
    assert!(tokens.iter().all(|t| t.expose_secret() == new));
    assert_eq!(server.request_count("/token"), 1);
    assert_eq!(server.refresh_count(), 1);
    assert_eq!(store.get().unwrap().access_token().expose_secret(), new);
}

#[test]
fn a_renewal_task_dropped_mid_flight_is_taken_over_by_the_next_caller() {
    // No rotation here: the abandoned request may still be processed by the server.
    let server = MockServer::builder()
        .client(
            MockClient::new("app")
                .secret(SECRET)
                .response_style(ResponseStyle::Clerk),
        )
        .start();
    let clock = TestClock::default();
    let first_runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (manager, first) = first_runtime.block_on(async {
        let transport = transport(&clock);
        let first = login(&server, &transport).await;
        let manager = TokenManager::builder(transport, lifecycle(&server))
            .tokens(first.clone())
            .build()
            .unwrap();
        (manager, first)
    });
    server.clear_requests();
    clock.advance(Duration::from_secs(3600));
    server.inject("/token", Fault::Delay(Duration::from_secs(2)), 1);
    first_runtime.block_on(async {
        let waiting = tokio::spawn({
            let manager = manager.clone();
            async move { manager.access_token().await }
        });
        until_requests(&server, "/token", 1).await;
        drop(waiting);
    });
    // The runtime, and the renewal task with it, goes away mid-request.
    drop(first_runtime);

    let second_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let start = Instant::now();
    let tokens = second_runtime.block_on(spawn_all(100, || {
        let manager = manager.clone();
        async move { manager.access_token().await.unwrap() }
    }));
    // Taken over at once, not after the abandoned request's 2 s.
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    let new = tokens[0].expose_secret();
    assert_ne!(new, first.access_token().expose_secret());
    assert!(tokens.iter().all(|t| t.expose_secret() == new));
    assert_eq!(server.request_count("/token"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_renewal_does_not_wedge_the_others() {
    let server = rotating_server();
    let clock = TestClock::default();
    let transport = transport(&clock);
    let first = login(&server, &transport).await;
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
    let tokens = spawn_all(100, || {
        let manager = manager.clone();
        async move { manager.access_token().await.unwrap() }
    })
    .await;
    assert!(panicked.load(Ordering::SeqCst));
    // The token saved before the panic is taken up by whoever came next: no second refresh.
    let saved = store.get().unwrap();
    assert!(
        tokens
            .iter()
            .all(|t| t.expose_secret() == saved.access_token().expose_secret())
    );
    assert_ne!(
        saved.access_token().expose_secret(),
        first.access_token().expose_secret()
    );
    assert_eq!(server.refresh_count(), 1);
}

/// Saves, but never loads: a renewal that dies leaves nothing to take over with.
struct Forgetful;

impl latchkey::TokenStore for Forgetful {
    fn load(&self) -> Result<Option<TokenSet>, latchkey::StoreError> {
        Ok(None)
    }

    fn save(&self, _: &TokenSet) -> Result<(), latchkey::StoreError> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewal_that_keeps_dying_ends_in_an_error_not_a_loop() {
    let server = MockServer::builder()
        .client(
            MockClient::new("app")
                .secret(SECRET)
                .response_style(ResponseStyle::Clerk),
        )
        .start();
    let clock = TestClock::default();
    let transport = transport(&clock);
    let first = login(&server, &transport).await;
    let manager = TokenManager::builder(transport, lifecycle(&server))
        .tokens(first)
        .store(Forgetful)
        .on_refresh(|_| panic!("callback always fails"))
        .build()
        .unwrap();
    clock.advance(Duration::from_secs(3600));
    let error = manager.access_token().await.unwrap_err();
    assert!(error.to_string().contains("abandoned twice"), "{error}");
    assert_eq!(server.refresh_count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_is_written_before_any_task_gets_the_token() {
    let server = rotating_server();
    let clock = TestClock::default();
    let transport = transport(&clock);
    let first = login(&server, &transport).await;
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
    let tokens = spawn_all(50, || {
        let manager = manager.clone();
        let store = Arc::clone(&store);
        async move {
            let token = manager.access_token().await.unwrap();
            store.note(format!("returned {}", token.expose_secret()));
            token
        }
    })
    .await;
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
    assert_eq!(log.iter().filter(|e| e.starts_with("saved")).count(), 2);
    assert_eq!(log.iter().filter(|e| e.starts_with("returned")).count(), 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_failure_is_shared_and_saved_again_without_another_refresh() {
    let server = rotating_server();
    let clock = TestClock::default();
    let transport = transport(&clock);
    let first = login(&server, &transport).await;
    let store = Arc::new(Recorder::default());
    let manager = TokenManager::builder(transport, lifecycle(&server))
        .tokens(first)
        .store(Arc::clone(&store))
        .build()
        .unwrap();
    clock.advance(Duration::from_secs(3600));
    store.fail_next_saves(1);
    server.inject("/token", Fault::Delay(Duration::from_millis(50)), 1);
    let results = spawn_all(50, || {
        let manager = manager.clone();
        async move { manager.access_token().await }
    })
    .await;
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Err(Error::Store(e)) if e.message() == "disk full (injected)")),
        "{results:?}"
    );
    let token = manager.access_token().await.unwrap();
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_tasks_reporting_the_same_401_cause_one_refresh() {
    let server = rotating_server();
    let clock = TestClock::default();
    let transport = transport(&clock);
    let first = login(&server, &transport).await;
    let manager = TokenManager::builder(transport, lifecycle(&server))
        .tokens(first.clone())
        .build()
        .unwrap();
    let rejected = first.access_token().clone();
    let tokens = spawn_all(200, || {
        let manager = manager.clone();
        let rejected = rejected.clone();
        async move {
            manager.invalidate(&rejected);
            manager.access_token().await.unwrap()
        }
    })
    .await;
    assert_eq!(server.refresh_count(), 1);
    assert!(
        tokens
            .iter()
            .all(|t| t.expose_secret() == tokens[0].expose_secret())
    );
    manager.invalidate(&rejected);
    manager.invalidate(&AccessToken::new("unknown"));
    assert_eq!(
        manager.access_token().await.unwrap().expose_secret(),
        tokens[0].expose_secret()
    );
    let forced = manager.force_refresh().await.unwrap();
    assert_ne!(forced.expose_secret(), tokens[0].expose_secret());
    assert_eq!(server.refresh_count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_are_fetched_then_reused_then_fetched_again() {
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
    let tokens = spawn_all(1000, || {
        let manager = manager.clone();
        async move { manager.access_token().await.unwrap() }
    })
    .await;
    assert!(
        tokens
            .iter()
            .all(|t| t.expose_secret() == tokens[0].expose_secret())
    );
    assert_eq!(server.request_count("/token"), 1);
    clock.advance(Duration::from_secs(3600));
    let next = manager.access_token().await.unwrap();
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

async fn bearer_manager(server: &MockServer, clock: &TestClock) -> (TokenManager, TokenSet) {
    let transport = transport(clock);
    let first = login(server, &transport).await;
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

#[tokio::test]
async fn execute_sends_the_bearer_token_from_a_spawned_task() {
    let server = rotating_server();
    let (manager, first) = bearer_manager(&server, &TestClock::default()).await;
    let request = userinfo(&server);
    // `tokio::spawn` takes only `Send + 'static` futures: this is the proof.
    let response = tokio::spawn(async move { manager.execute(&request).await })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(
        authorizations(&server, "/userinfo"),
        [format!("Bearer {}", first.access_token().expose_secret())]
    );
}

#[tokio::test]
async fn execute_renews_once_and_retries_once_after_invalid_token() {
    let server = rotating_server();
    let (manager, first) = bearer_manager(&server, &TestClock::default()).await;
    server.expire_all_access_tokens();
    let response = manager.execute(&userinfo(&server)).await.unwrap();
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

#[tokio::test]
async fn execute_retries_only_once() {
    let server = Arc::new(rotating_server());
    let clock = TestClock::default();
    let transport = transport(&clock);
    let first = login(&server, &transport).await;
    let mock = Arc::clone(&server);
    let manager = TokenManager::builder(transport, lifecycle(&server))
        .tokens(first)
        .resource_origin(server.url())
        .on_refresh(move |_| mock.expire_all_access_tokens())
        .build()
        .unwrap();
    server.clear_requests();
    server.expire_all_access_tokens();
    let response = manager.execute(&userinfo(&server)).await.unwrap();
    assert_eq!(response.status, 401);
    assert!(latchkey::manage::bearer::token_rejected(&response));
    assert_eq!(server.request_count("/userinfo"), 2);
    assert_eq!(server.refresh_count(), 1);
}

#[tokio::test]
async fn execute_returns_other_answers_as_they_are() {
    let server = rotating_server();
    let (manager, _) = bearer_manager(&server, &TestClock::default()).await;
    server.inject(
        "/userinfo",
        Fault::body(401, "application/json", r#"{"error":"login_required"}"#),
        1,
    );
    assert_eq!(
        manager.execute(&userinfo(&server)).await.unwrap().status,
        401
    );
    server.inject("/userinfo", Fault::status(503), 1);
    assert_eq!(
        manager.execute(&userinfo(&server)).await.unwrap().status,
        503
    );
    assert_eq!(server.request_count("/userinfo"), 2);
    assert_eq!(server.refresh_count(), 0);
}

#[tokio::test]
async fn execute_never_sends_the_token_to_another_origin() {
    let server = rotating_server();
    let other = MockServer::start();
    let (manager, _) = bearer_manager(&server, &TestClock::default()).await;
    match manager.execute(&userinfo(&other)).await {
        Err(Error::Config(ConfigError::ForeignOrigin(origin))) => {
            assert_eq!(origin, other.url());
        }
        other => panic!("{other:?}"),
    }
    assert!(other.requests().is_empty());
    assert_eq!(server.request_count("/token"), 0);
    let lonely = TokenManager::new(Transport::new(), lifecycle(&server));
    assert!(matches!(
        lonely.execute(&userinfo(&server)).await,
        Err(Error::Config(ConfigError::ForeignOrigin(_)))
    ));
    assert_eq!(server.request_count("/userinfo"), 0);
}

#[tokio::test]
async fn execute_never_follows_a_redirect_with_the_token() {
    let server = rotating_server();
    let other = MockServer::start();
    let (manager, _) = bearer_manager(&server, &TestClock::default()).await;
    server.inject(
        "/userinfo",
        Fault::redirect(302, other.userinfo_endpoint()),
        1,
    );
    let mut request = userinfo(&server);
    request.follow_redirects = true;
    match manager.execute(&request).await {
        Err(Error::Transport(e)) => {
            assert_eq!(e.kind(), TransportErrorKind::Redirect { status: 302 });
        }
        other => panic!("{other:?}"),
    }
    assert!(other.requests().is_empty());
}

#[tokio::test]
async fn manager_is_clone_send_sync_debug_without_secrets() {
    fn check<T: Clone + Send + Sync + std::fmt::Debug + 'static>() {}
    check::<TokenManager>();
    let server = rotating_server();
    let (manager, first) = bearer_manager(&server, &TestClock::default()).await;
    let debug = format!("{manager:?}");
    assert!(
        !debug.contains(first.access_token().expose_secret()),
        "{debug}"
    );
    assert!(!debug.contains(SECRET), "{debug}");
}

/// The cost of `access_token()` on the fresh-token path (no I/O): run with
/// `cargo test --release -p latchkey-reqwest --test manager -- --ignored --nocapture fresh_path`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check"]
async fn fresh_path_cost() {
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
    let mut results = Vec::new();
    for tasks in [1usize, 8] {
        let mut samples = Vec::new();
        for _ in 0..11 {
            let calls = 200_000 / tasks;
            let start = Instant::now();
            spawn_all(tasks, || {
                let manager = manager.clone();
                async move {
                    for _ in 0..calls {
                        std::hint::black_box(manager.access_token().await.unwrap());
                    }
                }
            })
            .await;
            samples.push(start.elapsed().as_nanos() as f64 / (calls * tasks) as f64);
        }
        samples.sort_by(f64::total_cmp);
        results.push(samples[samples.len() / 2]);
    }
    eprintln!(
        "reqwest fresh path: {:.0} ns/call in one task, {:.0} ns/call (throughput) with 8 tasks",
        results[0], results[1]
    );
}
