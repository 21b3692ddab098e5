//! One grant, many processes: a test re-runs its own binary as child processes that share one
//! `FileStore` across an expiry, and checks that the whole fleet refreshed once.
//!
//! The adapters do not depend on this crate, so their fleet tests include this file (and
//! `fixture.rs`) by path: it uses `std`, `latchkey`, `latchkey-mock` and `latchkey-store`.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use latchkey::{Client, Lifecycle, TokenSet, TokenSource, TokenStore as _};
use latchkey_mock::MockServer;
use latchkey_store::FileStore;

/// Set in a child process: `<token endpoint> <store path>`.
const CHILD: &str = "LATCHKEY_FLEET_CHILD";

/// The processes of a fleet.
pub const PROCESSES: usize = 8;

/// What a child process starts from, when this process is one: the mock's `app` client and
/// the shared store.
#[must_use]
pub fn child() -> Option<(Lifecycle, FileStore)> {
    let spec = std::env::var(CHILD).ok()?;
    let (token_endpoint, path) = spec.split_once(' ')?;
    let client = Client::builder("app")
        .client_secret(super::fixture::SECRET)
        .token_endpoint(token_endpoint)
        .build()
        .ok()?;
    Some((
        Lifecycle::new(client, TokenSource::User),
        FileStore::new(path),
    ))
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
pub struct Fleet {
    server: MockServer,
    first: TokenSet,
    dir: PathBuf,
    store: FileStore,
}

impl Fleet {
    /// Saves `first` (from a login at `server`), expired an hour ago, to a fresh store.
    ///
    /// # Panics
    ///
    /// When the temporary directory or the store cannot be written.
    #[must_use]
    pub fn new(server: MockServer, first: TokenSet) -> Self {
        let dir = std::env::temp_dir().join(format!("latchkey-fleet-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let store = FileStore::new(dir.join("tokens.json"));
        let expired = SystemTime::now() - Duration::from_secs(3600);
        store
            .save(&first.clone().with_expires_at(Some(expired)))
            .expect("the store");
        Self {
            server,
            first,
            dir,
            store,
        }
    }

    /// Runs [`PROCESSES`] copies of the test `test` of this binary at once, as children, and
    /// checks: one refresh at the mock for them all, every child's callers got the token that
    /// refresh saved, and the rotated refresh token is alive.
    ///
    /// # Panics
    ///
    /// When a child fails or any of those does not hold.
    pub fn run_and_check(&self, test: &str) {
        let spec = format!(
            "{} {}",
            self.server.token_endpoint(),
            self.store.path().display()
        );
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
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
