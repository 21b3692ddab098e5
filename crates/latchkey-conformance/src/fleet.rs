//! One grant, many processes: a test re-runs its own binary as child processes that share one
//! token store (a `FileStore`, or any store the children can open from a line of text, such
//! as a Redis URL and prefix) across an expiry, and checks that the whole fleet refreshed
//! once.
//!
//! The adapters do not depend on this crate, so their fleet tests include this file (and
//! `fixture.rs`) by path: it uses `std`, `latchkey`, `latchkey-mock` and `latchkey-store`.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, SystemTime};

use latchkey::{Client, Lifecycle, TokenSet, TokenSource, TokenStore};
use latchkey_mock::MockServer;
use latchkey_store::FileStore;

/// Set in a child process: `<token endpoint> <store spec>`.
const CHILD: &str = "LATCHKEY_FLEET_CHILD";

/// The processes of a fleet.
pub const PROCESSES: usize = 8;

/// What a child process starts from, when this process is one: the mock's `app` client and
/// the spec of the shared store (for a [`Fleet::new`], the `FileStore`'s path).
#[must_use]
pub fn child_spec() -> Option<(Lifecycle, String)> {
    let spec = std::env::var(CHILD).ok()?;
    let (token_endpoint, store) = spec.split_once(' ')?;
    let client = Client::builder("app")
        .client_secret(super::fixture::SECRET)
        .token_endpoint(token_endpoint)
        .build()
        .ok()?;
    Some((Lifecycle::new(client, TokenSource::User), store.to_owned()))
}

/// [`child_spec`] for a fleet around a `FileStore`.
#[must_use]
pub fn child() -> Option<(Lifecycle, FileStore)> {
    child_spec().map(|(lifecycle, path)| (lifecycle, FileStore::new(path)))
}

/// `threads` threads call `ask` at once (after a barrier); what each returned.
///
/// # Panics
///
/// When `ask` panics.
pub fn ask_threads(threads: usize, ask: impl Fn() -> String + Sync) -> Vec<String> {
    let barrier = Barrier::new(threads);
    let ask = || {
        barrier.wait();
        ask()
    };
    thread::scope(|scope| {
        let handles: Vec<_> = (0..threads).map(|_| scope.spawn(ask)).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// What a child prints of the token every one of its callers got: enough to compare, never
/// the token itself. On a line of its own (the test harness prints its own words first).
///
/// # Panics
///
/// When the callers did not all get the same token.
pub fn report(tokens: &[String]) {
    assert!(
        tokens.iter().all(|t| *t == tokens[0]),
        "one token per process"
    );
    println!("\nhanded {}", fingerprint(&tokens[0]));
}

fn fingerprint(token: &str) -> String {
    let sum: u64 = token.bytes().map(u64::from).sum();
    format!("len={} sum={sum}", token.len())
}

/// A fleet around one store holding an expired token set of the mock's `app`.
pub struct Fleet<S: TokenStore = FileStore> {
    server: MockServer,
    first: TokenSet,
    /// A temporary directory to remove at the end, if the fleet made one.
    dir: Option<PathBuf>,
    store: S,
    /// What the children open the store from.
    spec: String,
}

impl Fleet {
    /// Saves `first` (from a login at `server`), expired an hour ago, to a fresh `FileStore`.
    ///
    /// # Panics
    ///
    /// When the temporary directory or the store cannot be written.
    #[must_use]
    pub fn new(server: MockServer, first: TokenSet) -> Self {
        let dir = std::env::temp_dir().join(format!("latchkey-fleet-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let store = FileStore::new(dir.join("tokens.json"));
        let spec = store.path().display().to_string();
        let mut fleet = Self::with_store(server, first, store, spec);
        fleet.dir = Some(dir);
        fleet
    }
}

impl<S: TokenStore> Fleet<S> {
    /// Saves `first` (from a login at `server`), expired an hour ago, to `store`, which the
    /// children open from `spec` (see [`child_spec`]; no spaces before its end).
    ///
    /// # Panics
    ///
    /// When the store cannot be written.
    #[must_use]
    pub fn with_store(server: MockServer, first: TokenSet, store: S, spec: String) -> Self {
        let expired = SystemTime::now() - Duration::from_secs(3600);
        store
            .save(&first.clone().with_expires_at(Some(expired)))
            .expect("the store");
        Self {
            server,
            first,
            dir: None,
            store,
            spec,
        }
    }

    /// The shared store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The mock.
    pub fn server(&self) -> &MockServer {
        &self.server
    }

    /// Runs [`PROCESSES`] copies of the test `test` of this binary at once, as children, and
    /// checks: one refresh at the mock for them all, every child's callers got the token that
    /// refresh saved, and the rotated refresh token is alive.
    ///
    /// # Panics
    ///
    /// When a child fails or any of those does not hold.
    pub fn run_and_check(&self, test: &str) {
        let spec = format!("{} {}", self.server.token_endpoint(), self.spec);
        let mut children: Vec<Command> = (0..PROCESSES)
            .map(|_| {
                let mut command = Command::new(std::env::current_exe().expect("this binary"));
                command
                    .args(["--exact", test, "--nocapture", "--test-threads=1"])
                    .env(CHILD, &spec)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped());
                command
            })
            .collect();
        let running: Vec<_> = children
            .iter_mut()
            .map(|c| c.spawn().expect("a child"))
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
        println!(
            "refreshes at the mock for {PROCESSES} processes: {} (refresh tokens reused: {})",
            self.server.refresh_count(),
            self.server.refresh_reuse_count()
        );
        let saved = self.store.load().expect("the store").expect("a token set");
        assert_eq!(
            self.server.refresh_count(),
            1,
            "one refresh for the whole fleet"
        );
        assert_eq!(handed.len(), PROCESSES);
        let token = saved.access_token().expose_secret();
        assert!(
            handed.iter().all(|h| *h == fingerprint(token)),
            "{handed:?}"
        );
        assert_ne!(token, self.first.access_token().expose_secret());
        let refresh = saved.refresh_token().expect("a refresh token");
        assert!(self.server.refresh_token_active(refresh.expose_secret()));
        assert_eq!(self.server.refresh_reuse_count(), 0);
    }
}

impl<S: TokenStore> Drop for Fleet<S> {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
