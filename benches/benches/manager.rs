//! The token managers' fresh-token path: `access_token()` when the current token is good,
//! through both adapters, uncontended and with 8 threads contending. The goal:
//! at most 100 ns uncontended (a lock and a clone) and at most 1 µs median with 8 threads.
//!
//! Beside them, in the same run, the naive design as a floor: a `Mutex` lock, a clock read
//! and a copy of the token. A manager on a shared store (a `FileStore`, a `RedisStore` on a
//! `redis-server` this bench starts on loopback) keeps its token in memory: the fresh path
//! reads no store. The `redis_version_check` row is what asking Redis for the stored
//! version on every call would add instead (one `HGET` round trip). The async manager's future is polled once with a no-op waker:
//! the fresh path never awaits, so no runtime is needed to measure it.

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, SystemTime};

use criterion::{Criterion, criterion_group, criterion_main};
use latchkey::{AccessToken, Client, Lifecycle, TokenSet, TokenSource, TokenType};
use latchkey_redis::RedisStore;

#[allow(unused_macros)]
#[path = "../../crates/latchkey-redis/tests/support/mod.rs"]
mod redis_support;

/// The threads calling at once in the contended rows: the measuring one and seven others.
const THREADS: usize = 8;

fn lifecycle() -> Lifecycle {
    let client = Client::builder("bench")
        .token_endpoint("https://as.example/token")
        .build()
        .expect("client");
    Lifecycle::new(client, TokenSource::User)
}

/// A token good for a day: every call takes the fresh path.
fn fresh() -> TokenSet {
    TokenSet::new(
        AccessToken::new("at-0123456789abcdef0123456789abcdef"),
        TokenType::Bearer,
    )
    .with_expires_at(Some(SystemTime::now() + Duration::from_secs(86_400)))
}

fn ureq_manager() -> latchkey_ureq::TokenManager {
    latchkey_ureq::TokenManager::builder(latchkey_ureq::Transport::new(), lifecycle())
        .tokens(fresh())
        .build()
        .expect("manager")
}

/// The blocking manager on a `FileStore` shared with other processes: the fresh-token path
/// reads no file and takes no lease, so it costs what the in-memory one does.
fn ureq_file_manager(path: &std::path::Path) -> latchkey_ureq::TokenManager {
    latchkey_ureq::TokenManager::builder(latchkey_ureq::Transport::new(), lifecycle())
        .store(latchkey_store::FileStore::new(path))
        .tokens(fresh())
        .build()
        .expect("manager")
}

/// The blocking manager on a `RedisStore`, and the store: `None` where `redis-server` is not
/// installed.
fn ureq_redis_manager() -> Option<(
    redis_support::RedisServer,
    RedisStore,
    latchkey_ureq::TokenManager,
)> {
    let installed = std::process::Command::new("redis-server")
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !installed {
        eprintln!("manager_fresh_token/*redis*: skipped, redis-server is not installed");
        return None;
    }
    let server = redis_support::RedisServer::start();
    let store = || {
        RedisStore::builder(&server.url(), "bench")
            .build()
            .expect("a store")
    };
    let manager =
        latchkey_ureq::TokenManager::builder(latchkey_ureq::Transport::new(), lifecycle())
            .store(store())
            .tokens(fresh())
            .build()
            .expect("manager");
    let checker = store();
    Some((server, checker, manager))
}

fn reqwest_manager() -> latchkey_reqwest::TokenManager {
    latchkey_reqwest::TokenManager::builder(latchkey_reqwest::Transport::new(), lifecycle())
        .tokens(fresh())
        .build()
        .expect("manager")
}

/// The async manager's fresh path, polled once: it must be ready.
fn reqwest_token(manager: &latchkey_reqwest::TokenManager) -> AccessToken {
    let mut future = std::pin::pin!(manager.access_token());
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(token) => token.expect("token"),
        Poll::Pending => unreachable!("the fresh path never waits"),
    }
}

/// The floor: a lock, a clock read and a copy of the token.
struct Floor(Mutex<(AccessToken, SystemTime)>);

impl Floor {
    fn new() -> Self {
        let tokens = fresh();
        let expires = tokens.expires_at().expect("expiry");
        Self(Mutex::new((tokens.access_token().clone(), expires)))
    }

    fn token(&self) -> AccessToken {
        let held = self.0.lock().expect("lock");
        assert!(SystemTime::now() < held.1);
        held.0.clone()
    }
}

/// Runs `call` in `THREADS - 1` other threads while the benchmark measures it in this one.
fn contended<T: Send + Sync + 'static>(
    c: &mut Criterion,
    group: &str,
    name: &str,
    shared: Arc<T>,
    call: fn(&T) -> AccessToken,
) {
    let stop = Arc::new(AtomicBool::new(false));
    let others: Vec<_> = (1..THREADS)
        .map(|_| {
            let (shared, stop) = (Arc::clone(&shared), Arc::clone(&stop));
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    black_box(call(&shared));
                }
            })
        })
        .collect();
    c.benchmark_group(group)
        .bench_function(name, |b| b.iter(|| black_box(call(&shared))));
    stop.store(true, Ordering::Relaxed);
    for other in others {
        other.join().expect("thread");
    }
}

fn uncontended(c: &mut Criterion) {
    let ureq = ureq_manager();
    let reqwest = reqwest_manager();
    let floor = Floor::new();
    let dir = std::env::temp_dir().join(format!("latchkey-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let file = ureq_file_manager(&dir.join("tokens.json"));
    let mut g = c.benchmark_group("manager_fresh_token");
    g.bench_function("latchkey_ureq", |b| {
        b.iter(|| black_box(ureq.access_token().expect("token")));
    });
    g.bench_function("latchkey_reqwest", |b| {
        b.iter(|| black_box(reqwest_token(&reqwest)));
    });
    g.bench_function("latchkey_ureq_file_store", |b| {
        b.iter(|| black_box(file.access_token().expect("token")));
    });
    let redis = ureq_redis_manager();
    if let Some((_, store, manager)) = &redis {
        g.bench_function("latchkey_ureq_redis_store", |b| {
            b.iter(|| black_box(manager.access_token().expect("token")));
        });
        g.bench_function("redis_version_check", |b| {
            b.iter(|| black_box(store.version().expect("a version")));
        });
    }
    g.bench_function("floor", |b| b.iter(|| black_box(floor.token())));
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

fn eight_threads(c: &mut Criterion) {
    let group = "manager_fresh_token_8_threads";
    contended(c, group, "latchkey_ureq", Arc::new(ureq_manager()), |m| {
        m.access_token().expect("token")
    });
    contended(
        c,
        group,
        "latchkey_reqwest",
        Arc::new(reqwest_manager()),
        reqwest_token,
    );
    contended(c, group, "floor", Arc::new(Floor::new()), Floor::token);
}

criterion_group!(benches, uncontended, eight_threads);
criterion_main!(benches);
