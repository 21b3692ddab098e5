//! One grant, many processes, one Redis: eight processes of a hundred threads each
//! (`latchkey-ureq`'s `TokenManager`) share one encrypted `RedisStore` across an expiry. The
//! store's lease lets one of them refresh; the others wait for its release and take what it
//! saved. The mock rotates refresh tokens, so a second refresh with the old one would be
//! refused. The test re-runs its own binary as the child processes.

use std::process::{Command, Stdio};
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, SystemTime};

use latchkey::{Client, Lifecycle, TokenSource, TokenStore as _};
use latchkey_redis::RedisStore;
use latchkey_ureq::{TokenManager, Transport};

#[allow(dead_code, unreachable_pub)]
#[path = "../../latchkey-conformance/src/fixture.rs"]
mod fixture;
#[macro_use]
mod support;

use support::RedisServer;

/// Set in a child process: `<token endpoint> <redis URL> <prefix>`.
const CHILD: &str = "LATCHKEY_REDIS_FLEET_CHILD";
const PROCESSES: usize = 8;
const THREADS: usize = 100;
const KEY: [u8; 32] = [0x3c; 32];
const TEST: &str = "eight_processes_of_a_hundred_threads_share_one_redis_store_and_refresh_once";

fn store(url: &str, prefix: &str) -> RedisStore {
    RedisStore::builder(url, prefix)
        .encryption_key(KEY)
        .build()
        .expect("a store")
}

/// What a child prints of the token its callers got: enough to compare, never the token.
fn fingerprint(token: &str) -> String {
    let sum: u64 = token.bytes().map(u64::from).sum();
    format!("len={} sum={sum}", token.len())
}

/// A child: a hundred threads ask one token manager for a token at once.
fn child(spec: &str) {
    let mut parts = spec.split(' ');
    let (Some(token_endpoint), Some(url), Some(prefix)) =
        (parts.next(), parts.next(), parts.next())
    else {
        panic!("a bad {CHILD}: {spec}");
    };
    let client = Client::builder("app")
        .client_secret(fixture::SECRET)
        .token_endpoint(token_endpoint)
        .build()
        .expect("the mock's client");
    let manager =
        TokenManager::builder(Transport::new(), Lifecycle::new(client, TokenSource::User))
            .store(store(url, prefix))
            .build()
            .expect("a token manager");
    let barrier = Barrier::new(THREADS);
    let ask = || {
        barrier.wait();
        manager.access_token().unwrap().expose_secret().to_owned()
    };
    let tokens: Vec<String> = thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS).map(|_| scope.spawn(ask)).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(
        tokens.iter().all(|t| *t == tokens[0]),
        "one token per process"
    );
    // On a line of its own: the test harness prints its own words first.
    println!("\nhanded {}", fingerprint(&tokens[0]));
}

redis_test! {
    fn eight_processes_of_a_hundred_threads_share_one_redis_store_and_refresh_once() {
        if let Ok(spec) = std::env::var(CHILD) {
            return child(&spec);
        }
        let redis = RedisServer::start();
        let server = fixture::rotating_server();
        let first = Transport::new()
            .send(fixture::authorization(&server))
            .unwrap();
        let prefix = "fleet:{app}";
        let shared = store(&redis.url(), prefix);
        let expired = SystemTime::now() - Duration::from_secs(3600);
        shared
            .save(&first.clone().with_expires_at(Some(expired)))
            .unwrap();

        let spec = format!("{} {} {prefix}", server.token_endpoint(), redis.url());
        let running: Vec<_> = (0..PROCESSES)
            .map(|_| {
                Command::new(std::env::current_exe().expect("this binary"))
                    .args(["--exact", TEST, "--nocapture", "--test-threads=1"])
                    .env(CHILD, &spec)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("a child")
            })
            .collect();
        let mut handed = Vec::new();
        for child in running {
            let output = child.wait_with_output().expect("a child's output");
            let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(output.status.success(), "{stdout}\n{stderr}");
            handed.extend(
                stdout
                    .lines()
                    .filter_map(|l| l.strip_prefix("handed "))
                    .map(str::to_owned),
            );
        }

        let refreshes = server.refresh_count();
        println!("refreshes at the mock for {PROCESSES} processes x {THREADS} threads: {refreshes}");
        assert_eq!(refreshes, 1, "one refresh for the whole fleet");
        assert_eq!(handed.len(), PROCESSES);
        let saved = shared.load().unwrap().expect("a token set");
        let token = saved.access_token().expose_secret();
        assert!(handed.iter().all(|h| *h == fingerprint(token)), "{handed:?}");
        assert_ne!(token, first.access_token().expose_secret());
        let refresh = saved.refresh_token().expect("a refresh token");
        assert!(server.refresh_token_active(refresh.expose_secret()));
        // The first save and the one refresh's save; the lease was released.
        assert_eq!(shared.version().unwrap(), 2);
        assert!(shared.lease(Duration::ZERO).is_ok());
    }
}
