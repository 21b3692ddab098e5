//! One grant, many processes, one Redis. Eight processes share one encrypted `RedisStore`
//! across an expiry: a hundred threads each through `latchkey-ureq`'s `TokenManager`, and a
//! thousand tasks each through `latchkey-reqwest`'s (which calls the store on tokio's
//! blocking pool). The store's lease lets one of them refresh; the others wait for its
//! release and take what it saved. The mock rotates refresh tokens and treats a second use of
//! one as theft, so a second refresh would revoke the grant. The tests re-run their own
//! binary as the child processes.
//!
//! Then Redis crashes in the middle of a renewal and comes back: nobody refreshes without the
//! lease, the rotated refresh token is not lost, and every caller gets the new token or a
//! typed error.

use std::thread;
use std::time::{Duration, Instant, SystemTime};

use latchkey::{Error, TokenSet, TokenStore as _};
use latchkey_mock::Fault;
use latchkey_redis::{ErrorKind, RedisStore};

#[allow(dead_code, unreachable_pub)]
#[path = "../../latchkey-conformance/src/fixture.rs"]
mod fixture;
#[allow(dead_code, unreachable_pub)]
#[path = "../../latchkey-conformance/src/fleet.rs"]
mod fleet;
#[allow(dead_code, unreachable_pub)]
#[path = "../../latchkey-conformance/src/fleet_tasks.rs"]
mod fleet_tasks;
#[macro_use]
mod support;

use support::RedisServer;

const THREADS: usize = 100;
const TASKS: usize = 1_000;
const KEY: [u8; 32] = [0x3c; 32];

/// The store a child opens from its spec, `<redis URL> <prefix>`.
fn store(spec: &str) -> RedisStore {
    let (url, prefix) = spec.split_once(' ').expect("<redis URL> <prefix>");
    RedisStore::builder(url, prefix)
        .encryption_key(KEY)
        .build()
        .expect("a store")
}

/// Runs this binary's test `test` as a fleet of children on one Redis, and checks that the
/// fleet refreshed once, saved once and released the lease.
fn run_fleet(test: &str, first: TokenSet, server: latchkey_mock::MockServer) {
    let redis = RedisServer::start();
    let spec = format!("{} fleet:{{app}}", redis.url());
    let fleet = fleet::Fleet::with_store(server, first, store(&spec), spec);
    fleet.run_and_check(test);
    // The first save and the one refresh's save; the lease was released.
    assert_eq!(fleet.store().version().unwrap(), 2);
    assert!(fleet.store().lease(Duration::ZERO).is_ok());
}

redis_test! {
    fn eight_processes_of_a_hundred_threads_share_one_redis_store_and_refresh_once() {
        if let Some((lifecycle, spec)) = fleet::child_spec() {
            let manager = latchkey_ureq::TokenManager::builder(
                latchkey_ureq::Transport::new(),
                lifecycle,
            )
            .store(store(&spec))
            .build()
            .expect("a token manager");
            let tokens = fleet::ask_threads(THREADS, || {
                manager.access_token().unwrap().expose_secret().to_owned()
            });
            return fleet::report(&tokens);
        }
        let server = fixture::rotating_server();
        let first = latchkey_ureq::Transport::new()
            .send(fixture::authorization(&server))
            .unwrap();
        run_fleet(
            "eight_processes_of_a_hundred_threads_share_one_redis_store_and_refresh_once",
            first,
            server,
        );
    }
}

redis_test! {
    fn eight_processes_of_a_thousand_tasks_share_one_redis_store_and_refresh_once() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        if let Some((lifecycle, spec)) = fleet::child_spec() {
            let manager = latchkey_reqwest::TokenManager::builder(
                latchkey_reqwest::Transport::new(),
                lifecycle,
            )
            .store(store(&spec))
            .build()
            .expect("a token manager");
            let tokens = fleet_tasks::ask_tasks(&runtime, TASKS, || {
                let manager = manager.clone();
                async move { manager.access_token().await.unwrap().expose_secret().to_owned() }
            });
            return fleet::report(&tokens);
        }
        let server = fixture::rotating_server();
        let first = runtime
            .block_on(latchkey_reqwest::Transport::new().send(fixture::authorization(&server)))
            .unwrap();
        run_fleet(
            "eight_processes_of_a_thousand_tasks_share_one_redis_store_and_refresh_once",
            first,
            server,
        );
    }
}

redis_test! {
    fn redis_crashing_mid_renewal_loses_no_refresh_token_and_nobody_refreshes_without_the_lease() {
        // Persistent, as a token store's Redis should be: the holder's lease and the tokens
        // come back with it.
        let mut redis = RedisServer::start_persistent();
        let server = fixture::rotating_server();
        let first = latchkey_ureq::Transport::new()
            .send(fixture::authorization(&server))
            .unwrap();
        let spec = format!("{} outage", redis.url());
        let shared = store(&spec);
        let expired = SystemTime::now() - Duration::from_secs(3600);
        shared
            .save(&first.clone().with_expires_at(Some(expired)))
            .unwrap();
        // The lease holder's refresh takes a second; Redis dies 300 ms in and comes back
        // 2.5 s in, so the holder's first saves meet a dead Redis. Without saving again
        // (`Lifecycle::save_retry(Duration::ZERO)`) this test fails: the rotated refresh token
        // never reaches the store.
        server.inject("/token", Fault::Delay(Duration::from_secs(1)), 1);

        // Eight managers with a store object (and connections) of their own each, as eight
        // processes would have; ten threads ask each. Half wait up to 30 s for the lease (the
        // default), half only 1 s, which ends inside the outage.
        let managers: Vec<_> = (0..8)
            .map(|i| {
                let wait = if i % 2 == 0 { 30 } else { 1 };
                let lifecycle = fixture::lifecycle(&server).lease_wait(Duration::from_secs(wait));
                let store = RedisStore::builder(&redis.url(), "outage")
                    .encryption_key(KEY)
                    .timeout(Duration::from_millis(500))
                    .build()
                    .unwrap();
                latchkey_ureq::TokenManager::builder(latchkey_ureq::Transport::new(), lifecycle)
                    .store(store)
                    .build()
                    .unwrap()
            })
            .collect();
        let started = Instant::now();
        let answers: Vec<Result<String, Error>> = thread::scope(|scope| {
            let asking: Vec<_> = (0..80)
                .map(|i| {
                    let manager = &managers[i % 8];
                    scope.spawn(move || {
                        manager
                            .access_token()
                            .map(|t| t.expose_secret().to_owned())
                    })
                })
                .collect();
            thread::sleep(Duration::from_millis(300));
            redis.kill();
            thread::sleep(Duration::from_millis(2_200));
            redis.restart();
            asking.into_iter().map(|t| t.join().unwrap()).collect()
        });
        let took = started.elapsed();

        let saved = shared.load().unwrap().expect("the tokens survived the crash");
        let token = saved.access_token().expose_secret().to_owned();
        assert_ne!(token, first.access_token().expose_secret(), "the new tokens were saved");
        let mut recovered = 0;
        let mut failed = 0;
        for answer in &answers {
            match answer {
                Ok(t) => {
                    assert_eq!(*t, token, "only the one new token is handed out");
                    recovered += 1;
                }
                Err(Error::Store(error)) => {
                    assert_eq!(ErrorKind::of(error), Some(ErrorKind::Unavailable), "{error}");
                    failed += 1;
                }
                Err(other) => panic!("not a store error: {other}"),
            }
        }
        // Those that gave up get the new token when they ask again, with no new refresh.
        for manager in &managers {
            assert_eq!(manager.access_token().unwrap().expose_secret(), token);
        }
        println!(
            "Redis down for 2.2 s mid-renewal: {recovered} callers waited it out, {failed} got \
             ErrorKind::Unavailable (then the new token), in {took:?}; refreshes at the mock: \
             {}, reused: {}",
            server.refresh_count(),
            server.refresh_reuse_count()
        );
        assert_eq!(server.refresh_count(), 1, "one refresh, under the lease");
        assert_eq!(server.refresh_reuse_count(), 0);
        assert_eq!(server.revoked_grants(), 0);
        let refresh = saved.refresh_token().expect("a refresh token");
        assert!(server.refresh_token_active(refresh.expose_secret()));
        // The managers that wait 30 s for the lease waited the outage out.
        assert!(recovered >= 40, "{recovered} recovered, {failed} failed");
    }
}
