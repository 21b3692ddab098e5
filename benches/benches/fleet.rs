//! The cost of one fleet-wide renewal: eight processes share one grant in a token store, the
//! token expires, and every process asks for it at once. One refresh goes to the mock (a
//! loopback `latchkey-mock` that rotates refresh tokens and revokes the grant on reuse); the
//! other seven processes wait for the lease and take the saved tokens. Measured from the
//! moment all eight are asked until all eight have the new token.
//!
//! Rows, in the same run:
//! - `one_process_memory_store`: one process, one refresh, nothing shared: the floor, what a
//!   refresh itself costs here;
//! - `8_processes_file_store`: `latchkey-store`'s `FileStore` (an OS file lock);
//! - `8_processes_redis_store`: `latchkey-redis` on a `redis-server` this bench starts on a
//!   loopback port (skipped, with a note, where `redis-server` is not installed).
//!
//! The processes are this bench binary run again as children; each holds a
//! `latchkey-ureq` token manager whose clock the parent moves two hours per renewal, so every
//! round starts with an expired token. After each group the bench checks that the mock saw
//! exactly one refresh per round and no reuse.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use criterion::Criterion;
use latchkey::{Client, Lifecycle, TokenSet, TokenSource, TokenStore};
use latchkey_mock::MockServer;
use latchkey_redis::RedisStore;
use latchkey_store::FileStore;

#[allow(dead_code, unreachable_pub)]
#[path = "../../crates/latchkey-conformance/src/fixture.rs"]
mod fixture;
#[allow(unused_macros)]
#[path = "../../crates/latchkey-redis/tests/support/mod.rs"]
mod redis_support;

/// Set in a child: `<token endpoint> file <path>` or `<token endpoint> redis <url> <prefix>`.
const CHILD: &str = "LATCHKEY_BENCH_FLEET_CHILD";
const PROCESSES: usize = 8;
/// How far the clocks move per round: past the mock's one-hour tokens.
const ROUND: u64 = 7_200;

/// A token manager whose clock runs `offset` seconds ahead.
fn manager(
    token_endpoint: &str,
    store: impl TokenStore + 'static,
    offset: &Arc<AtomicU64>,
) -> latchkey_ureq::TokenManager {
    let client = Client::builder("app")
        .client_secret(fixture::SECRET)
        .token_endpoint(token_endpoint)
        .build()
        .expect("the mock's client");
    let offset = Arc::clone(offset);
    let transport = latchkey_ureq::Transport::builder()
        .clock(move || SystemTime::now() + Duration::from_secs(offset.load(Ordering::Relaxed)))
        .build();
    latchkey_ureq::TokenManager::builder(transport, Lifecycle::new(client, TokenSource::User))
        .store(store)
        .build()
        .expect("a token manager")
}

/// A child: for every line `<offset>` on stdin, moves its clock there, asks for a token and
/// answers with its length and byte sum (never the token).
fn child(spec: &str) {
    let parts: Vec<&str> = spec.split(' ').collect();
    let offset = Arc::new(AtomicU64::new(0));
    let manager = match parts.as_slice() {
        [endpoint, "file", path] => manager(endpoint, FileStore::new(path), &offset),
        [endpoint, "redis", url, prefix] => {
            let store = RedisStore::builder(url, prefix).build().expect("a store");
            manager(endpoint, store, &offset)
        }
        _ => panic!("a bad {CHILD}: {spec}"),
    };
    let mut out = std::io::stdout().lock();
    for line in std::io::stdin().lock().lines() {
        let at: u64 = line.expect("a line").trim().parse().expect("an offset");
        offset.store(at, Ordering::Relaxed);
        let token = manager.access_token().expect("a token");
        let sum: u64 = token.expose_secret().bytes().map(u64::from).sum();
        writeln!(out, "{} {sum}", token.expose_secret().len()).expect("stdout");
        out.flush().expect("stdout");
    }
}

/// Eight children on one store.
struct Fleet {
    children: Vec<(Child, ChildStdin, BufReader<ChildStdout>)>,
    offset: u64,
}

impl Fleet {
    fn start(spec: &str) -> Self {
        let children = (0..PROCESSES)
            .map(|_| {
                let mut child = Command::new(std::env::current_exe().expect("this binary"))
                    .env(CHILD, spec)
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .spawn()
                    .expect("a child");
                let stdin = child.stdin.take().expect("stdin");
                let stdout = BufReader::new(child.stdout.take().expect("stdout"));
                (child, stdin, stdout)
            })
            .collect();
        Self {
            children,
            offset: 0,
        }
    }

    /// One round: every child's token has expired; all are asked at once.
    fn renew(&mut self) {
        self.offset += ROUND;
        for (_, stdin, _) in &mut self.children {
            writeln!(stdin, "{}", self.offset).expect("a child's stdin");
            stdin.flush().expect("a child's stdin");
        }
        let mut answers = self.children.iter_mut().map(|(_, _, stdout)| {
            let mut line = String::new();
            stdout.read_line(&mut line).expect("a child's answer");
            line
        });
        let first = answers.next().expect("a child");
        assert!(!first.is_empty(), "a child died");
        assert!(answers.all(|a| a == first), "one token for the fleet");
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for (mut child, stdin, _) in self.children.drain(..) {
            drop(stdin);
            let _ = child.wait();
        }
    }
}

/// The mock, and a login's tokens saved (already expired) to `store`.
fn logged_in(store: &dyn TokenStore) -> MockServer {
    let server = fixture::rotating_server();
    let first: TokenSet = latchkey_ureq::Transport::new()
        .send(fixture::authorization(&server))
        .expect("a login");
    store.save(&first).expect("the store");
    server
}

/// Benchmarks `name` on a fleet around `store` (opened by the children from `spec`), then
/// checks one refresh per round.
fn bench_fleet(c: &mut Criterion, name: &str, store: &dyn TokenStore, spec: &str) {
    let server = logged_in(store);
    let mut fleet = Fleet::start(&format!("{} {spec}", server.token_endpoint()));
    c.benchmark_group("fleet_renewal")
        .bench_function(name, |b| b.iter(|| fleet.renew()));
    let rounds = fleet.offset / ROUND;
    drop(fleet);
    assert_eq!(server.refresh_count(), rounds, "one refresh per round");
    assert_eq!(server.refresh_reuse_count(), 0);
    println!(
        "{name}: {rounds} rounds, {} refreshes",
        server.refresh_count()
    );
}

fn fleet_renewal(c: &mut Criterion) {
    // The floor: one process, one refresh, a store in memory.
    let memory = latchkey::MemoryStore::new();
    let server = logged_in(&memory);
    let offset = Arc::new(AtomicU64::new(0));
    let alone = manager(&server.token_endpoint(), memory, &offset);
    c.benchmark_group("fleet_renewal")
        .bench_function("one_process_memory_store", |b| {
            b.iter(|| {
                offset.fetch_add(ROUND, Ordering::Relaxed);
                alone.access_token().expect("a token")
            });
        });

    let dir = std::env::temp_dir().join(format!("latchkey-bench-fleet-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let path = dir.join("tokens.json");
    let file = FileStore::new(&path);
    bench_fleet(
        c,
        "8_processes_file_store",
        &file,
        &format!("file {}", path.display()),
    );
    let _ = std::fs::remove_dir_all(&dir);

    let installed = Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !installed {
        eprintln!("fleet_renewal/8_processes_redis_store: skipped, redis-server is not installed");
        return;
    }
    let redis = redis_support::RedisServer::start();
    let store = RedisStore::builder(&redis.url(), "bench")
        .build()
        .expect("a store");
    let spec = format!("redis {} bench", redis.url());
    bench_fleet(c, "8_processes_redis_store", &store, &spec);
}

fn main() {
    if let Ok(spec) = std::env::var(CHILD) {
        return child(&spec);
    }
    let mut c = Criterion::default().configure_from_args();
    fleet_renewal(&mut c);
    c.final_summary();
}
