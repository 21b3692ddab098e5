//! # latchkey-redis: one token set for a fleet, in Redis
//!
//! [`RedisStore`] implements [`latchkey::TokenStore`] on Redis, for token managers in many
//! processes on many machines that share one grant. It is synchronous (the `redis` crate's
//! blocking connections) and serves both adapters: `latchkey-ureq`'s `TokenManager` calls it
//! from the renewing thread, and `latchkey-reqwest`'s `TokenManager` calls every store
//! method on tokio's blocking pool (`spawn_blocking`), so a lease that waits never stalls the
//! runtime's workers.
//!
//! ```no_run
//! use std::time::Duration;
//! use latchkey::TokenStore;
//! use latchkey_redis::RedisStore;
//!
//! let store = RedisStore::builder("redis://127.0.0.1:6379/", "billing-api:github")
//!     .lease_ttl(Duration::from_secs(30))
//!     .tokens_ttl(Duration::from_secs(90 * 24 * 3600))
//!     .encryption_key([0x42; 32]) // from your secret manager, never a literal
//!     .build()?;
//! let tokens = store.load()?;
//! # Ok::<(), latchkey::StoreError>(())
//! ```
//!
//! ## Keys
//!
//! Every key starts with the caller's prefix (one prefix per client and grant):
//!
//! | key | what |
//! | --- | --- |
//! | `<prefix>:tokens` | a hash: `value` (the token set, JSON or encrypted), `version` (incremented by every save; it starts again at 1 after the hash expired or was removed), `fence` (the fencing number of the lease the last leased save held) |
//! | `<prefix>:lease` | the renewal lease: `<fencing number>:<16 random bytes, base64url>`, with a TTL |
//! | `<prefix>:fence` | the fencing counter: incremented once for every lease granted |
//! | `<prefix>:released` | a pub/sub channel: a message every time a lease is released |
//!
//! In Redis Cluster, put the shared part of the prefix in braces (`{billing-api:github}`) so
//! that every key lands in one slot, as the scripts require.
//!
//! ## The lease and fencing
//!
//! - [`lease(wait)`](TokenStore::lease) runs one script that, when `<prefix>:lease` is free,
//!   takes `INCR <prefix>:fence` as the fencing number `n` and sets
//!   `SET <prefix>:lease "n:<random>" NX PX <lease TTL>`. Counting only granted leases lets a
//!   holder whose lease expired tell whether anyone was granted one since.
//! - While another holder has it, the caller subscribes to `<prefix>:released` and tries again
//!   on every release message, and every poll interval (50 ms by default) in case a message
//!   is missed or a holder died and its lease expired; after `wait` it gives up with
//!   [`ErrorKind::LeaseBusy`].
//! - Dropping the returned [`Lease`] runs a script that deletes the lease only if it still
//!   holds this holder's value, then publishes on `<prefix>:released`. A holder whose lease
//!   expired never deletes its successor's.
//! - [`save`](TokenStore::save) is one script. While this store object holds a lease (from the
//!   moment it got one until the [`Lease`] is dropped), the save is refused with
//!   [`ErrorKind::LeaseLost`] when `<prefix>:lease` now holds another holder's value, or when
//!   a save under a later lease (a higher fencing number) has happened: the fencing rule. A
//!   lease that merely expired with no successor does not stop the save: the tokens it
//!   carries are then the newest. Every save increments the `version` next to the token set.
//!   A save without a lease (the tokens of a new login) is not fenced.
//!
//! The lease TTL bounds how long a crashed holder blocks the fleet; make it longer than a
//! refresh can take (the token request's timeouts and retries).
//!
//! ## Encryption at rest
//!
//! Anyone who can read the Redis database can read the tokens in it and use them: its other
//! users, its backups and snapshots, a replica, whoever runs a managed Redis. With
//! [`encryption_key`](RedisStoreBuilder::encryption_key), every save stores
//! XChaCha20-Poly1305 ciphertext (RustCrypto's `chacha20poly1305`) under a fresh random
//! 24-byte nonce from the operating system, bound to the `<prefix>:tokens` key name; Redis
//! then holds neither token. Use it whenever the Redis is shared with anything that should not
//! hold the grant, and keep the 32-byte key in a secret manager, not beside the Redis
//! password. A value sealed under another key, or changed, fails with [`ErrorKind::Decrypt`]
//! ("cannot decrypt: wrong key or tampered value"). A store with a key refuses an unencrypted
//! value (someone with write access could plant tokens), and a store without one refuses an
//! encrypted value ([`ErrorKind::Format`]).
//!
//! ## When Redis goes away
//!
//! Errors from a Redis that cannot be reached (refused, dropped or timed-out connections,
//! `LOADING` after a restart) are [`ErrorKind::Unavailable`] and
//! [transient](latchkey::StoreError::is_transient). Through them:
//!
//! - a waiter for the lease keeps trying (on new connections, polling) until its `wait` ends,
//!   and only then reports `Unavailable`;
//! - a token manager that has just refreshed keeps its lease and saves again with backoff
//!   ([`Lifecycle::save_retry`](latchkey::Lifecycle::save_retry), 15 s by default) before it
//!   hands out the new token or gives up: the rotated refresh token exists nowhere else;
//! - nobody refreshes without the lease, so a Redis outage costs waiting, never a second
//!   refresh.
//!
//! Run the Redis that holds tokens with persistence (`appendonly yes`, with `appendfsync
//! always` or `everysec`): a Redis that restarts empty forgets the token set, and with it
//! the only copy of a rotated refresh token; the fleet then needs a new login. The lease and
//! its expiry time come back with an append-only file, so a holder whose Redis restarted
//! under it still saves. `tests/fleet.rs` kills Redis in the middle of a renewal and
//! restarts it 2.2 s later: one refresh at the server, no refresh token lost, every caller
//! the new token or `Unavailable` (and then the new token).
//!
//! ## Synchronous, for both adapters
//!
//! There is one store, on the `redis` crate's blocking connections, rather than a sync and
//! an async one. A token manager calls its store only around a renewal (about once per token
//! lifetime per process) and never on the fresh-token path, and `latchkey-reqwest`'s manager
//! runs every store call, and the release of the lease, on tokio's blocking pool: a waiting
//! lease holds one blocking thread per process (the renewal is single-flight), never a
//! runtime worker. An async store would need an async variant of `TokenStore` in the core
//! and of the managers' store calls, for no gain on that path.
//!
//! ## TLS
//!
//! With the `tls` feature (on by default), `rediss://` URLs connect over TLS (rustls, with the
//! aws-lc-rs provider, installed as the process default unless the application installed one
//! first). The server's certificate is checked against the operating system's roots, or
//! against your own CA ([`tls_root_certificate`](RedisStoreBuilder::tls_root_certificate)).
//! A certificate those do not vouch for is [`ErrorKind::Tls`], not transient. The redis
//! crate's `#insecure` URL fragment, which turns the check off, is refused. Use TLS whenever
//! the Redis is on another machine: the Redis password and (without encryption at rest) the
//! tokens cross the network.
//!
//! ## Errors and secrets
//!
//! Every error is a [`StoreError`] whose source is a [`RedisStoreError`] with an
//! [`ErrorKind`] ([`ErrorKind::of`] reads it) and, for a failed Redis call, the `redis`
//! crate's error. Messages name the key and the host, never a token, the Redis password or
//! the encryption key; neither does `Debug` of any type here.
//!
//! ## Connections
//!
//! A store object keeps one connection that worked for its next call, with the builder's
//! [`timeout`](RedisStoreBuilder::timeout) for connecting, reading and writing; a call that
//! finds it dead (Redis restarted since) reconnects once, and a connection that timed out
//! is never reused (its late answer could be read as the next one's). A lease that waits
//! opens a second connection to subscribe. Dropping a [`Lease`] releases it: one round trip
//! on the dropping thread (`latchkey-reqwest`'s manager drops it on the blocking pool).

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

mod crypt;
mod error;

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use latchkey::manage::Lease;
use latchkey::{StoreError, TokenSet, TokenStore, Url};
use redis::{Connection, Script};

use crate::crypt::{MAGIC, Sealer};
pub use crate::error::{ErrorKind, RedisStoreError};
use crate::error::{redis_failure, store_error};

/// How long a lease lasts unless its holder releases it first: 30 s.
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(30);

/// How often a waiting caller tries the lease again without a release message: 50 ms.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(50);

/// How long connecting to Redis, and each read or write, may take: 5 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Takes the lease when it is free. KEYS: lease, fence. ARGV: random part, TTL in ms.
/// Returns the lease's value, or nil while another holder has it.
const ACQUIRE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then
  return false
end
local value = redis.call('INCR', KEYS[2]) .. ':' .. ARGV[1]
redis.call('SET', KEYS[1], value, 'NX', 'PX', ARGV[2])
return value
";

/// Releases the lease if it is still this holder's. KEYS: lease. ARGV: the holder's value,
/// the release channel. Returns 1 when released, 0 when it was not (or no longer) ours.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], 'released')
  return 1
end
return 0
";

/// Saves a token set. KEYS: tokens hash, lease. ARGV: value, the lease value this store
/// holds ('' for none), its fencing number (0 for none), the TTL in ms (0 for none).
/// Returns the new version; -1 when another holder has the lease now, -2 when a save under a
/// later lease happened.
const SAVE: &str = r"
local fence = tonumber(ARGV[3])
if ARGV[2] ~= '' then
  local holder = redis.call('GET', KEYS[2])
  if holder and holder ~= ARGV[2] then
    return -1
  end
  local last = tonumber(redis.call('HGET', KEYS[1], 'fence') or '0')
  if last > fence then
    return -2
  end
end
local version = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('HSET', KEYS[1], 'value', ARGV[1])
if ARGV[2] ~= '' then
  redis.call('HSET', KEYS[1], 'fence', ARGV[3])
end
if tonumber(ARGV[4]) > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
else
  redis.call('PERSIST', KEYS[1])
end
return version
";

/// Settings for a [`RedisStore`]; [`build`](Self::build) checks them.
pub struct RedisStoreBuilder {
    url: String,
    prefix: String,
    tokens_ttl: Option<Duration>,
    lease_ttl: Duration,
    poll_interval: Duration,
    timeout: Duration,
    key: Option<Box<[u8; 32]>>,
    #[cfg(feature = "tls")]
    root_certificate: Option<Vec<u8>>,
}

impl RedisStoreBuilder {
    /// Expires the stored token set `ttl` after each save (Redis `PEXPIRE`): for a grant that
    /// should not outlive a period without use. Without it the token set is kept until
    /// overwritten or [`remove`](RedisStore::remove)d.
    #[must_use]
    pub fn tokens_ttl(mut self, ttl: Duration) -> Self {
        self.tokens_ttl = Some(ttl);
        self
    }

    /// How long a lease lasts if its holder does not release it (it crashed, or hangs):
    /// [`DEFAULT_LEASE_TTL`] unless set. Make it longer than a refresh can take.
    #[must_use]
    pub fn lease_ttl(mut self, ttl: Duration) -> Self {
        self.lease_ttl = ttl;
        self
    }

    /// How often a caller waiting for the lease tries again when no release message arrives:
    /// [`DEFAULT_POLL_INTERVAL`] unless set.
    #[must_use]
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// The limit for connecting to Redis and for each read or write: [`DEFAULT_TIMEOUT`]
    /// unless set.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Encrypts the token set at rest with XChaCha20-Poly1305 under `key` (see the
    /// [crate docs](crate#encryption-at-rest)). Every process of the fleet needs the same key.
    #[must_use]
    pub fn encryption_key(mut self, key: [u8; 32]) -> Self {
        self.key = Some(Box::new(key));
        self
    }

    /// Trusts the certificate authority in `pem` (PEM, one or more certificates) for a
    /// `rediss://` URL, instead of the operating system's roots: for a Redis whose
    /// certificate your own CA signed.
    #[cfg(feature = "tls")]
    #[must_use]
    pub fn tls_root_certificate(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificate = Some(pem.into());
        self
    }

    /// The store. Nothing is contacted yet.
    ///
    /// # Errors
    ///
    /// A [`StoreError`] of kind [`ErrorKind::Config`] when the URL is not
    /// `redis://[user:password@]host[:port][/db]` (or `rediss://` with the `tls` feature, on by
    /// default; a `#insecure` that turns off certificate checks is refused), the prefix is
    /// empty, or a duration is zero.
    pub fn build(self) -> Result<RedisStore, StoreError> {
        let config = |message: &str| store_error(ErrorKind::Config, message);
        // The URL's own parse error could quote the URL, password included: say only what
        // is wrong.
        let url = Url::parse(&self.url).map_err(|_| config("the Redis URL is not a URL"))?;
        match url.scheme() {
            "redis" => {}
            #[cfg(feature = "tls")]
            "rediss" => {}
            #[cfg(feature = "tls")]
            _ => {
                return Err(config(
                    "the Redis URL must start with redis:// or rediss://",
                ));
            }
            #[cfg(not(feature = "tls"))]
            _ => {
                return Err(config(
                    "the Redis URL must start with redis:// (rediss:// needs the `tls` feature)",
                ));
            }
        }
        if url.fragment().is_some() {
            return Err(config(
                "the Redis URL has a fragment (#insecure would turn off certificate checks)",
            ));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(config("the Redis URL has no host"));
        }
        if self.prefix.is_empty() {
            return Err(config("the key prefix is empty"));
        }
        if self.lease_ttl.as_millis() == 0
            || self.poll_interval.as_millis() == 0
            || self.timeout.as_millis() == 0
            || self.tokens_ttl.is_some_and(|ttl| ttl.as_millis() == 0)
        {
            return Err(config("a duration is shorter than a millisecond"));
        }
        let client = self.client(&url)?;
        let at = match client.get_connection_info().addr() {
            redis::ConnectionAddr::Tcp(host, port) => format!("{host}:{port}"),
            #[cfg(feature = "tls")]
            redis::ConnectionAddr::TcpTls {
                host,
                port,
                insecure: false,
                ..
            } => format!("{host}:{port}"),
            _ => {
                return Err(config(
                    "the Redis URL must be a TCP redis:// or rediss:// URL",
                ));
            }
        };
        let prefix = self.prefix;
        let shared = Shared {
            client,
            at,
            timeout: self.timeout,
            tokens_key: format!("{prefix}:tokens"),
            lease_key: format!("{prefix}:lease"),
            fence_key: format!("{prefix}:fence"),
            released: format!("{prefix}:released"),
            prefix,
            acquire: Script::new(ACQUIRE),
            release: Script::new(RELEASE),
            save: Script::new(SAVE),
            held: Mutex::new(None),
            idle: Mutex::new(None),
        };
        Ok(RedisStore {
            shared: Arc::new(shared),
            url: redacted(&url),
            tokens_ttl: self.tokens_ttl,
            lease_ttl: self.lease_ttl,
            poll_interval: self.poll_interval,
            sealer: self.key.as_deref().map(Sealer::new),
        })
    }
}

impl fmt::Debug for RedisStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = Url::parse(&self.url).map_or_else(|_| "(not a URL)".to_owned(), |u| redacted(&u));
        f.debug_struct("RedisStoreBuilder")
            .field("url", &url)
            .field("prefix", &self.prefix)
            .field("tokens_ttl", &self.tokens_ttl)
            .field("lease_ttl", &self.lease_ttl)
            .field("poll_interval", &self.poll_interval)
            .field("timeout", &self.timeout)
            .field("encrypted", &self.key.is_some())
            .finish()
    }
}

impl RedisStoreBuilder {
    /// The `redis` crate's client for `url`, trusting the given CA for `rediss://` if any.
    fn client(&self, url: &Url) -> Result<redis::Client, StoreError> {
        let refused = |_| {
            store_error(
                ErrorKind::Config,
                "the Redis URL is not one the redis client accepts",
            )
        };
        #[cfg(feature = "tls")]
        if url.scheme() == "rediss" {
            // rustls needs a process-wide provider; keep one an application installed.
            let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
            if let Some(pem) = &self.root_certificate {
                let certificates = redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(pem.clone()),
                };
                return redis::Client::build_with_tls(url.as_str(), certificates).map_err(refused);
            }
        }
        redis::Client::open(url.as_str()).map_err(refused)
    }
}

/// A [`TokenStore`] on Redis, shared by every process of a fleet: a fenced renewal lease,
/// compare-and-swap saves with a version, optional encryption at rest. See the
/// [crate docs](crate).
///
/// One store object is shared by the threads or tasks of one token manager (wrap it in an
/// `Arc` to share it further); it remembers the lease it holds, and fences its saves with it.
pub struct RedisStore {
    shared: Arc<Shared>,
    url: String,
    tokens_ttl: Option<Duration>,
    lease_ttl: Duration,
    poll_interval: Duration,
    sealer: Option<Sealer>,
}

/// What a store and the leases it handed out share.
struct Shared {
    client: redis::Client,
    /// `host:port`, for messages.
    at: String,
    timeout: Duration,
    prefix: String,
    tokens_key: String,
    lease_key: String,
    fence_key: String,
    released: String,
    acquire: Script,
    release: Script,
    save: Script,
    /// The lease this store object holds, from when it got it until its [`Lease`] is dropped.
    held: Mutex<Option<Held>>,
    /// A connection that worked, kept for the next call (no new TCP connection per call).
    idle: Mutex<Option<Connection>>,
}

#[derive(Clone)]
struct Held {
    value: String,
    fence: u64,
}

/// What a [`Lease`] from [`RedisStore`] holds: dropping it releases the lease if it is still
/// this holder's (one round trip on the dropping thread).
struct LeaseGuard {
    shared: Arc<Shared>,
    value: String,
}

impl Drop for LeaseGuard {
    fn drop(&mut self) {
        self.shared.release(&self.value);
    }
}

impl RedisStore {
    /// Settings for a store at `url` (`redis://[user:password@]host[:port][/db]`) whose keys
    /// start with `prefix` and a colon.
    #[must_use]
    pub fn builder(url: &str, prefix: &str) -> RedisStoreBuilder {
        RedisStoreBuilder {
            url: url.to_owned(),
            prefix: prefix.to_owned(),
            tokens_ttl: None,
            lease_ttl: DEFAULT_LEASE_TTL,
            poll_interval: DEFAULT_POLL_INTERVAL,
            timeout: DEFAULT_TIMEOUT,
            key: None,
            #[cfg(feature = "tls")]
            root_certificate: None,
        }
    }

    /// The key prefix.
    #[must_use]
    pub fn prefix(&self) -> &str {
        &self.shared.prefix
    }

    /// `<prefix>:tokens`: the hash with the token set, its version and its fence.
    #[must_use]
    pub fn tokens_key(&self) -> &str {
        &self.shared.tokens_key
    }

    /// `<prefix>:lease`: the renewal lease.
    #[must_use]
    pub fn lease_key(&self) -> &str {
        &self.shared.lease_key
    }

    /// `<prefix>:fence`: the fencing counter.
    #[must_use]
    pub fn fence_key(&self) -> &str {
        &self.shared.fence_key
    }

    /// `<prefix>:released`: the channel a release is published on.
    #[must_use]
    pub fn released_channel(&self) -> &str {
        &self.shared.released
    }

    /// The stored token set's version: how many saves it has had, 0 when nothing is stored.
    ///
    /// # Errors
    ///
    /// A [`StoreError`] when Redis cannot be asked.
    pub fn version(&self) -> Result<u64, StoreError> {
        const WHAT: &str = "cannot read the token set's version";
        let version: Option<u64> = self.shared.call(WHAT, |con| {
            redis::cmd("HGET")
                .arg(&self.shared.tokens_key)
                .arg("version")
                .query(con)
        })?;
        Ok(version.unwrap_or(0))
    }

    /// Deletes the stored token set (for example after the user logged out).
    ///
    /// # Errors
    ///
    /// A [`StoreError`] when Redis cannot be asked.
    pub fn remove(&self) -> Result<(), StoreError> {
        const WHAT: &str = "cannot remove the token set";
        self.shared.call(WHAT, |con| {
            redis::cmd("DEL")
                .arg(&self.shared.tokens_key)
                .query::<()>(con)
        })
    }

    /// Takes the lease if it is free: `Some` (this store object now holds it, until the
    /// [`Lease`] is dropped), `None` while another holder has it.
    fn try_acquire(&self) -> Result<Option<Lease>, StoreError> {
        const WHAT: &str = "cannot take the lease";
        let mut random = [0u8; 16];
        getrandom::fill(&mut random)
            .map_err(|_| store_error(ErrorKind::Random, "cannot draw a lease value"))?;
        let random = URL_SAFE_NO_PAD.encode(random);
        let value: Option<String> = self.shared.call(WHAT, |con| {
            self.shared
                .acquire
                .key(&self.shared.lease_key)
                .key(&self.shared.fence_key)
                .arg(&random)
                .arg(millis(self.lease_ttl))
                .invoke(con)
        })?;
        let Some(value) = value else {
            return Ok(None);
        };
        let fence = value
            .split_once(':')
            .and_then(|(n, _)| n.parse().ok())
            .ok_or_else(|| {
                store_error(
                    ErrorKind::Format,
                    format!(
                        "{WHAT} {}: Redis gave an unexpected value",
                        self.shared.lease_key
                    ),
                )
            })?;
        *self.shared.held_lock() = Some(Held {
            value: value.clone(),
            fence,
        });
        Ok(Some(Lease::holding(LeaseGuard {
            shared: Arc::clone(&self.shared),
            value,
        })))
    }

    fn busy(&self, wait: Duration) -> StoreError {
        store_error(
            ErrorKind::LeaseBusy,
            format!(
                "another holder kept {} at {} for more than {wait:?}",
                self.shared.lease_key, self.shared.at
            ),
        )
    }

    /// The bytes stored for `tokens`: JSON, sealed when the store has a key.
    fn encode(&self, tokens: &TokenSet) -> Result<Vec<u8>, StoreError> {
        // serde_json's error for a token set names no value.
        let json = serde_json::to_vec(tokens).map_err(|e| {
            store_error(
                ErrorKind::Format,
                format!("cannot encode the token set: {e}"),
            )
        })?;
        match &self.sealer {
            Some(sealer) => sealer.seal(&json, self.shared.tokens_key.as_bytes()),
            None => Ok(json),
        }
    }

    /// The token set stored as `value`.
    fn decode(&self, value: &[u8]) -> Result<TokenSet, StoreError> {
        let key = &self.shared.tokens_key;
        let format = |why: &str| store_error(ErrorKind::Format, format!("{key} {why}"));
        let encrypted = value.starts_with(MAGIC);
        let json = match (&self.sealer, encrypted) {
            (Some(sealer), true) => sealer
                .open(value, key.as_bytes())
                .ok_or_else(|| store_error(ErrorKind::Decrypt, format!("cannot load {key}")))?,
            (Some(_), false) => {
                return Err(format(
                    "is not encrypted, and this store has a key: refusing a value anyone with write access to Redis could have put there",
                ));
            }
            (None, true) => return Err(format("is encrypted, and this store has no key")),
            (None, false) => value.to_vec(),
        };
        // Only the position of a JSON error: its message could quote a value.
        serde_json::from_slice(&json).map_err(|e| {
            format(&format!(
                "is not a token set (JSON error at line {}, column {})",
                e.line(),
                e.column()
            ))
        })
    }
}

impl Shared {
    /// Runs `op` over the kept connection, or a new one, and keeps the connection when it is
    /// still good (it worked, or Redis answered with an error). A kept connection found dead
    /// (Redis restarted since it was last used) is replaced by a new one for a second try:
    /// the command never reached the new server.
    fn call<T>(
        &self,
        what: &str,
        op: impl Fn(&mut Connection) -> redis::RedisResult<T>,
    ) -> Result<T, StoreError> {
        let kept = self.idle_lock().take();
        let fresh = kept.is_none();
        let mut con = match kept {
            Some(con) => con,
            None => self.new_connection(what)?,
        };
        match op(&mut con) {
            Err(e) if !fresh && e.is_connection_dropped() => {
                let mut con = self.new_connection(what)?;
                let answer = op(&mut con);
                self.keep_if_good(con, answer.as_ref().err());
                answer.map_err(|e| self.failure(what, e))
            }
            answer => {
                self.keep_if_good(con, answer.as_ref().err());
                answer.map_err(|e| self.failure(what, e))
            }
        }
    }

    /// Keeps `con` for the next call unless `error` says it may be broken or out of step
    /// (a dropped connection, a timeout whose answer may still come).
    fn keep_if_good(&self, con: Connection, error: Option<&redis::RedisError>) {
        let broken = error.is_some_and(|e| e.is_io_error() || e.is_timeout());
        if !broken {
            *self.idle_lock() = Some(con);
        }
    }

    fn new_connection(&self, what: &str) -> Result<Connection, StoreError> {
        let con = self
            .client
            .get_connection_with_timeout(self.timeout)
            .map_err(|e| self.failure(what, e))?;
        con.set_read_timeout(Some(self.timeout))
            .and_then(|()| con.set_write_timeout(Some(self.timeout)))
            .map_err(|e| self.failure(what, e))?;
        Ok(con)
    }

    fn failure(&self, what: &str, error: redis::RedisError) -> StoreError {
        redis_failure(&format!("{what} ({})", self.prefix), &self.at, error)
    }

    fn held_lock(&self) -> std::sync::MutexGuard<'_, Option<Held>> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn idle_lock(&self) -> std::sync::MutexGuard<'_, Option<Connection>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Releases the lease `value` if Redis still has it as the lease: a best effort (if Redis
    /// cannot be reached, the lease ends at its TTL).
    fn release(&self, value: &str) {
        {
            let mut held = self.held_lock();
            if held.as_ref().is_some_and(|h| h.value == value) {
                *held = None;
            }
        }
        let _ = self.call("cannot release the lease", |con| {
            self.release
                .key(&self.lease_key)
                .arg(value)
                .arg(&self.released)
                .invoke::<i64>(con)
        });
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("url", &self.url)
            .field("prefix", &self.shared.prefix)
            .field("tokens_ttl", &self.tokens_ttl)
            .field("lease_ttl", &self.lease_ttl)
            .field("poll_interval", &self.poll_interval)
            .field("timeout", &self.shared.timeout)
            .field("encrypted", &self.sealer.is_some())
            .field("holds_lease", &self.shared.held_lock().is_some())
            .finish()
    }
}

impl TokenStore for RedisStore {
    /// Reads `<prefix>:tokens` (and decrypts it when the store has a key). Nothing stored is
    /// `None`.
    fn load(&self) -> Result<Option<TokenSet>, StoreError> {
        const WHAT: &str = "cannot load the token set";
        let value: Option<Vec<u8>> = self.shared.call(WHAT, |con| {
            redis::cmd("HGET")
                .arg(&self.shared.tokens_key)
                .arg("value")
                .query(con)
        })?;
        value.map(|v| self.decode(&v)).transpose()
    }

    /// Stores the token set (encrypted when the store has a key) with the next version, in
    /// one script that refuses the save when this store object holds a lease that was lost
    /// to another holder (see the [crate docs](crate#the-lease-and-fencing)).
    fn save(&self, tokens: &TokenSet) -> Result<(), StoreError> {
        const WHAT: &str = "cannot save the token set";
        let value = self.encode(tokens)?;
        let held = self.shared.held_lock().clone();
        let (lease, fence) = held.map_or((String::new(), 0), |h| (h.value, h.fence));
        let version: i64 = self.shared.call(WHAT, |con| {
            self.shared
                .save
                .key(&self.shared.tokens_key)
                .key(&self.shared.lease_key)
                .arg(&value)
                .arg(&lease)
                .arg(fence)
                .arg(self.tokens_ttl.map_or(0, millis))
                .invoke(con)
        })?;
        let lost = match version {
            -1 => "another holder has it now",
            -2 => "another holder has saved since",
            _ => return Ok(()),
        };
        Err(store_error(
            ErrorKind::LeaseLost,
            format!(
                "refused to save {} at {}: this store's lease (fence {fence}) expired, and {lost}",
                self.shared.tokens_key, self.shared.at
            ),
        ))
    }

    /// Takes `<prefix>:lease` (see the [crate docs](crate#the-lease-and-fencing)), waiting at
    /// most `wait` for another holder: woken by its release message, or polling. Redis out of
    /// reach meanwhile ([`ErrorKind::Unavailable`]) is waited out too, on a new connection;
    /// when `wait` ends with Redis still out of reach, that is the error.
    fn lease(&self, wait: Duration) -> Result<Lease, StoreError> {
        let start = Instant::now();
        // `Ok((None, _))`: try again; Redis out of reach is waited out too.
        let attempt = || match self.try_acquire() {
            Ok(lease) => Ok((lease, None)),
            Err(e) if ErrorKind::of(&e) == Some(ErrorKind::Unavailable) => Ok((None, Some(e))),
            Err(e) => Err(e),
        };
        let (taken, mut unreachable) = attempt()?;
        if let Some(lease) = taken {
            return Ok(lease);
        }
        if wait.is_zero() {
            return Err(unreachable.unwrap_or_else(|| self.busy(wait)));
        }
        // A second connection listens for releases. Without it (pub/sub refused, Redis out
        // of reach, the connection lost), polling alone goes on.
        let mut listener = self
            .shared
            .new_connection("cannot listen for releases")
            .ok();
        let mut pubsub = listener.as_mut().and_then(|con| {
            let mut pubsub = con.as_pubsub();
            pubsub.subscribe(&self.shared.released).ok()?;
            Some(pubsub)
        });
        loop {
            let Some(left) = wait.checked_sub(start.elapsed()).filter(|d| !d.is_zero()) else {
                return Err(unreachable.unwrap_or_else(|| self.busy(wait)));
            };
            // Tried first right after subscribing: a release in between sent its message
            // before anyone listened.
            let (taken, failure) = attempt()?;
            if let Some(lease) = taken {
                return Ok(lease);
            }
            unreachable = failure;
            let slice = self.poll_interval.min(left).max(Duration::from_millis(1));
            match pubsub.as_mut() {
                Some(listening) => {
                    let heard = listening
                        .set_read_timeout(Some(slice))
                        .and_then(|()| listening.get_message());
                    match heard {
                        Ok(_) => {}
                        Err(e) if e.is_timeout() => {}
                        Err(_) => pubsub = None,
                    }
                }
                None => thread::sleep(slice),
            }
        }
    }
}

/// `url` with its password replaced, for `Debug`.
fn redacted(url: &Url) -> String {
    let mut shown = url.clone();
    if shown.password().is_some() {
        let _ = shown.set_password(Some("redacted"));
    }
    shown.to_string()
}

/// Whole milliseconds of `d`, at least 1 (Redis refuses a zero `PX`).
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_error(builder: RedisStoreBuilder) -> String {
        let error = builder.build().unwrap_err();
        assert_eq!(ErrorKind::of(&error), Some(ErrorKind::Config), "{error}");
        error.to_string()
    }

    #[test]
    fn the_builder_takes_only_tcp_redis_urls_a_prefix_and_nonzero_durations() {
        for url in [
            "rediss://127.0.0.1:6380/#insecure",
            "redis://127.0.0.1:6379/#x",
            "redis+unix:///tmp/redis.sock",
            "unix:///tmp/redis.sock",
            "http://127.0.0.1:6379/",
            "127.0.0.1:6379",
            "redis://:pw-71c4@/",
        ] {
            let text = config_error(RedisStore::builder(url, "p"));
            assert!(!text.contains("pw-71c4"), "{text}");
        }
        #[cfg(feature = "tls")]
        assert!(
            RedisStore::builder("rediss://127.0.0.1:6380/", "p")
                .build()
                .is_ok()
        );
        #[cfg(not(feature = "tls"))]
        config_error(RedisStore::builder("rediss://127.0.0.1:6380/", "p"));
        config_error(RedisStore::builder("redis://127.0.0.1/", ""));
        config_error(RedisStore::builder("redis://127.0.0.1/", "p").lease_ttl(Duration::ZERO));
        config_error(
            RedisStore::builder("redis://127.0.0.1/", "p").poll_interval(Duration::from_micros(10)),
        );
        config_error(RedisStore::builder("redis://127.0.0.1/", "p").timeout(Duration::ZERO));
        config_error(RedisStore::builder("redis://127.0.0.1/", "p").tokens_ttl(Duration::ZERO));

        let store = RedisStore::builder("redis://u:pw-71c4@127.0.0.1:6390/2", "app:{grant}")
            .encryption_key([0xab; 32])
            .build()
            .unwrap();
        assert_eq!(store.prefix(), "app:{grant}");
        assert_eq!(store.tokens_key(), "app:{grant}:tokens");
        assert_eq!(store.lease_key(), "app:{grant}:lease");
        assert_eq!(store.fence_key(), "app:{grant}:fence");
        assert_eq!(store.released_channel(), "app:{grant}:released");
        let debug = format!("{store:?}");
        assert!(!debug.contains("pw-71c4"), "{debug}");
        assert!(
            debug.contains("redis://u:redacted@127.0.0.1:6390/2"),
            "{debug}"
        );
        assert!(
            !debug.contains("171") && !debug.contains("ab, ab"),
            "{debug}"
        );
        let builder = format!(
            "{:?}",
            RedisStore::builder("redis://u:pw-71c4@h/", "p").encryption_key([0xab; 32])
        );
        assert!(
            !builder.contains("pw-71c4") && !builder.contains("171"),
            "{builder}"
        );
    }

    #[test]
    fn a_store_that_cannot_connect_says_where_and_why_with_a_kind() {
        // Port 1 on loopback: nobody listens there.
        let store = RedisStore::builder("redis://127.0.0.1:1/", "p")
            .timeout(Duration::from_secs(1))
            .build()
            .unwrap();
        let error = store.load().unwrap_err();
        assert_eq!(ErrorKind::of(&error), Some(ErrorKind::Unavailable));
        assert!(error.to_string().contains("127.0.0.1:1"), "{error}");
        let source = std::error::Error::source(&error).unwrap();
        let ours = source.downcast_ref::<RedisStoreError>().unwrap();
        assert!(ours.redis_error().is_some());
        assert!(ErrorKind::of(&StoreError::new("elsewhere")).is_none());
    }
}
