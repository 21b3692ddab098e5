//! The file store: round trip, private permissions, atomic replacement, clear errors.

use std::fs;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, UNIX_EPOCH};

use latchkey::{AccessToken, RefreshToken, TokenSet, TokenStore, TokenType};
use latchkey_store::FileStore;

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "latchkey-store-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn entries(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn tokens(access: &str, refresh: &str) -> TokenSet {
    TokenSet::new(AccessToken::new(access), TokenType::Bearer)
        .with_expires_at(Some(UNIX_EPOCH + Duration::from_secs(1_900_000_000)))
        .with_refresh_token(Some(RefreshToken::new(refresh)))
}

#[test]
fn round_trip_and_missing_or_empty_file() {
    let dir = TempDir::new();
    let store = FileStore::new(dir.0.join("tokens.json"));
    assert!(store.load().unwrap().is_none());
    store.save(&tokens("at-1", "rt-1")).unwrap();
    let loaded = store.load().unwrap().unwrap();
    assert_eq!(loaded.access_token().expose_secret(), "at-1");
    assert_eq!(loaded.refresh_token().unwrap().expose_secret(), "rt-1");
    assert_eq!(
        loaded.expires_at(),
        Some(UNIX_EPOCH + Duration::from_secs(1_900_000_000))
    );
    store.save(&tokens("at-2", "rt-2")).unwrap();
    assert_eq!(
        store
            .load()
            .unwrap()
            .unwrap()
            .access_token()
            .expose_secret(),
        "at-2"
    );
    // Only the file itself: no temporary file left behind.
    assert_eq!(dir.entries(), ["tokens.json"]);
    let text = fs::read_to_string(store.path()).unwrap();
    assert!(text.contains("\"refresh_token\": \"rt-2\""), "{text}");

    fs::write(store.path(), "  \n").unwrap();
    assert!(store.load().unwrap().is_none());
    store.remove().unwrap();
    store.remove().unwrap();
    assert!(store.load().unwrap().is_none());
}

#[cfg(unix)]
#[test]
fn the_file_is_private_even_over_a_world_readable_one() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = TempDir::new();
    let path = dir.0.join("tokens.json");
    fs::write(&path, "{}").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    let store = FileStore::new(&path);
    store.save(&tokens("at", "rt")).unwrap();
    let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "mode {mode:o}");
}

#[test]
fn corrupt_file_and_missing_directory_are_errors_without_secrets() {
    let dir = TempDir::new();
    let path = dir.0.join("tokens.json");
    fs::write(
        &path,
        r#"{"access_token": "secret-at-value", "token_type": 5}"#,
    )
    .unwrap();
    let e = FileStore::new(&path).load().unwrap_err();
    let text = format!("{e} {e:?}");
    assert!(text.contains("is not a token set"), "{text}");
    assert!(!text.contains("secret-at-value"), "{text}");

    let store = FileStore::new(dir.0.join("no-such-dir").join("tokens.json"));
    let e = store.save(&tokens("secret-at-value", "rt")).unwrap_err();
    let text = format!("{e}");
    assert!(text.contains("cannot create a temporary file"), "{text}");
    assert!(!text.contains("secret-at-value"), "{text}");
    assert!(std::error::Error::source(&e).is_some());
}

#[test]
fn readers_never_see_a_torn_file() {
    let dir = TempDir::new();
    let store = Arc::new(FileStore::new(dir.0.join("tokens.json")));
    store.save(&tokens("at-0", "rt-0")).unwrap();
    let writer = {
        let store = Arc::clone(&store);
        thread::spawn(move || {
            for i in 1..200 {
                let long = format!("at-{i}-{}", "x".repeat(4096));
                store.save(&tokens(&long, &format!("rt-{i}"))).unwrap();
            }
        })
    };
    let mut reads = 0;
    while !writer.is_finished() {
        let loaded = store.load().unwrap().expect("always a whole token set");
        assert!(loaded.access_token().expose_secret().starts_with("at-"));
        reads += 1;
    }
    writer.join().unwrap();
    assert!(reads > 0);
    assert_eq!(dir.entries(), ["tokens.json"]);
}

#[test]
fn a_relative_path_in_the_current_directory_works() {
    // `tokens.json` has an empty parent: the temporary file goes to `.`.
    let store = FileStore::new("latchkey-store-relative-test.json");
    store.save(&tokens("at", "rt")).unwrap();
    assert!(store.load().unwrap().is_some());
    store.remove().unwrap();
}

/// The renewal lease is the lock file's exclusive lock: a second holder waits, then gives up
/// with a typed error naming the lock file; dropping the first lets the next one in.
#[test]
fn the_lease_is_exclusive_until_dropped() {
    use std::time::Instant;

    let dir = TempDir::new();
    let store = FileStore::new(dir.0.join("tokens.json"));
    let other = FileStore::new(dir.0.join("tokens.json"));
    assert_eq!(store.lock_path(), dir.0.join("tokens.json.lock"));
    let first = store.lease(Duration::from_secs(1)).unwrap();
    let started = Instant::now();
    let refused = other.lease(Duration::from_millis(100)).unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert!(
        refused.to_string().contains("tokens.json.lock"),
        "{refused}"
    );
    drop(first);
    let second = other.lease(Duration::from_millis(100)).unwrap();
    assert!(format!("{second:?}").contains("held"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = fs::metadata(store.lock_path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
