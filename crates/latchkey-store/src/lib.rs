//! # latchkey-store: a token set in a file
//!
//! [`FileStore`] implements [`latchkey::TokenStore`] on one JSON file, for the token managers
//! of `latchkey-ureq` and `latchkey-reqwest` (both re-export it) and for the `latchkey`
//! command's `--cache FILE`. The core defines the trait and does no I/O; this crate does the
//! file part:
//!
//! - **Atomic replacement.** A save writes the whole token set to a new temporary file in the
//!   same directory, flushes it to disk (`fsync`), renames it over the old file and, on Unix,
//!   flushes the directory too. A reader (or a crash) sees the old token set or the new one,
//!   never half of one, so a rotated refresh token is never lost to a torn write.
//! - **Private from the start.** On Unix the temporary file is created with mode `0600`
//!   (owner read/write only), so the tokens are never readable by anyone else, not even for
//!   the moment between creating and renaming it. A file saved over one with looser
//!   permissions gets `0600` as well.
//! - **Plain JSON** of [`TokenSet`] (its own `Serialize` form: `access_token`, `token_type`,
//!   `expires_in`, `expires_at` in Unix seconds, `refresh_token`, `scope`, extra members).
//!
//! ```
//! use latchkey::{AccessToken, TokenSet, TokenStore, TokenType};
//! use latchkey_store::FileStore;
//!
//! # let dir = std::env::temp_dir().join(format!("latchkey-store-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! let store = FileStore::new(dir.join("tokens.json"));
//! assert!(store.load()?.is_none());
//! store.save(&TokenSet::new(AccessToken::new("at-1"), TokenType::Bearer))?;
//! assert_eq!(store.load()?.unwrap().access_token().expose_secret(), "at-1");
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), latchkey::StoreError>(())
//! ```
//!
//! One file holds one token set: use one file per client and grant. Two processes that
//! renew through the same file at the same moment are not coordinated (each writes a whole,
//! valid file; the last one wins).

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use latchkey::manage::Lease;
use latchkey::{StoreError, TokenSet, TokenStore};

/// How often a waiting process tries the lock file again: a non-blocking `flock`, cheap
/// enough that the hand-over from one holder to the next costs a few milliseconds at most.
const LEASE_POLL: Duration = Duration::from_millis(5);

/// A [`TokenStore`] on one JSON file: atomic replacement, mode `0600` on Unix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileStore {
    path: PathBuf,
}

impl FileStore {
    /// A store on `path`. Nothing is touched until [`load`](TokenStore::load) or
    /// [`save`](TokenStore::save); the directory must exist by then.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The file's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Deletes the file (for example after the user logged out). A missing file is fine.
    ///
    /// # Errors
    ///
    /// A [`StoreError`] when the file exists and cannot be removed.
    pub fn remove(&self) -> Result<(), StoreError> {
        match fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.error("cannot remove", e)),
        }
    }

    /// The lock file beside the token file (`tokens.json.lock`): its exclusive lock is the
    /// renewal lease. It is never removed, so every process locks the same file.
    #[must_use]
    pub fn lock_path(&self) -> PathBuf {
        let mut name = self
            .path
            .file_name()
            .map_or_else(|| "tokens".into(), std::ffi::OsStr::to_os_string);
        name.push(".lock");
        self.path.with_file_name(name)
    }

    fn error(&self, what: &str, e: io::Error) -> StoreError {
        StoreError::new(format!("{what} {}", self.path.display())).with_source(e)
    }

    /// The directory the file lives in (where the temporary file is created, so that the
    /// rename stays on one file system).
    fn dir(&self) -> &Path {
        match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        }
    }

    /// Creates a new, empty, private temporary file next to the target.
    fn create_temp(&self) -> io::Result<(PathBuf, File)> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let name = self
            .path
            .file_name()
            .map_or_else(|| "tokens".into(), |n| n.to_string_lossy().into_owned());
        let mut attempts = 0;
        loop {
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            let temp = self.dir().join(format!(
                ".{name}.{}.{}.{nanos}.tmp",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed)
            ));
            let mut options = OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt as _;
                options.mode(0o600);
            }
            match options.open(&temp) {
                Ok(file) => return Ok((temp, file)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempts < 16 => {
                    attempts += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

impl TokenStore for FileStore {
    /// Reads the file. A missing or empty file is `None`.
    fn load(&self) -> Result<Option<TokenSet>, StoreError> {
        let bytes = match fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.error("cannot read", e)),
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        // serde_json's message names a line and column, never the content.
        serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            StoreError::new(format!("{} is not a token set: {e}", self.path.display()))
        })
    }

    /// Takes an exclusive lock on [`lock_path`](Self::lock_path) (the operating system's
    /// advisory file lock, released when the holder exits or crashes), trying again every
    /// 5 ms for at most `wait`.
    fn lease(&self, wait: Duration) -> Result<Lease, StoreError> {
        let path = self.lock_path();
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let file = options.open(&path).map_err(|e| {
            StoreError::new(format!("cannot open {}", path.display())).with_source(e)
        })?;
        let deadline = Instant::now() + wait;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Lease::holding(file)),
                Err(fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(LEASE_POLL.min(deadline - Instant::now()));
                }
                Err(fs::TryLockError::WouldBlock) => {
                    return Err(StoreError::new(format!(
                        "another process held {} for more than {wait:?}",
                        path.display()
                    )));
                }
                Err(fs::TryLockError::Error(e)) => {
                    return Err(
                        StoreError::new(format!("cannot lock {}", path.display())).with_source(e)
                    );
                }
            }
        }
    }

    /// Writes a private temporary file, syncs it, renames it over the file and syncs the
    /// directory.
    fn save(&self, tokens: &TokenSet) -> Result<(), StoreError> {
        let mut json = serde_json::to_vec_pretty(tokens)
            .map_err(|e| StoreError::new(format!("cannot encode the token set: {e}")))?;
        json.push(b'\n');
        self.replace_contents(&json)
    }
}

impl FileStore {
    /// Replaces the file's contents with `bytes` the way [`save`](TokenStore::save) does:
    /// a private temporary file, synced, renamed over the file, the directory synced. For
    /// callers that keep their own format in the file (the `latchkey` command keeps several
    /// token sets in one); [`load`](TokenStore::load) reads only a single token set.
    ///
    /// # Errors
    ///
    /// A [`StoreError`] naming the file when it cannot be written or replaced.
    pub fn replace_contents(&self, bytes: &[u8]) -> Result<(), StoreError> {
        let (temp, mut file) = self
            .create_temp()
            .map_err(|e| self.error("cannot create a temporary file next to", e))?;
        let written = file
            .write_all(bytes)
            .and_then(|()| file.sync_all())
            .map_err(|e| self.error("cannot write a temporary file for", e))
            .and_then(|()| {
                drop(file);
                fs::rename(&temp, &self.path).map_err(|e| self.error("cannot replace", e))
            });
        if let Err(e) = written {
            let _ = fs::remove_file(&temp);
            return Err(e);
        }
        // Make the rename itself durable. Some file systems cannot sync a directory; the data
        // is already safe in the file, so that is not an error.
        #[cfg(unix)]
        if let Ok(dir) = File::open(self.dir()) {
            let _ = dir.sync_all();
        }
        Ok(())
    }
}
