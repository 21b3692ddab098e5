//! `--cache FILE`: the token sets kept between runs of the token-producing subcommands.
//!
//! One file holds several entries, each keyed by the server (issuer, or token endpoint),
//! client_id, scopes, audience and resources ([`Key`]): a run can only ever get the token
//! set of exactly its own key. Everything about the cache goes through one function,
//! [`tokens`]: given the file, the key, the means to renew and the subcommand's full flow,
//! it returns the token set to print. A cached token set is reused while it is valid
//! (without sending anything, not even a metadata request), refreshed (and the new set
//! saved) when it is about to expire or `--force-refresh` is given, and the full flow runs,
//! and its result is saved, only when no refresh is possible. A refresh the server refuses
//! removes the entry.
//!
//! Every change to the file is a read-modify-write of the whole file under the lease on
//! `FILE.lock` (the [`FileStore`] lease), so runs on the same file refresh one at a time and
//! never lose each other's entries.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use latchkey::manage::{
    DEFAULT_LEASE_WAIT, DEFAULT_REFRESH_SKEW, Landing, Leased, Poll, RenewalMachine, RenewalStep,
    Work,
};
use latchkey::{
    Client, Error, Lifecycle, ReauthorizeError, TokenSet, TokenSource, TokenStore as _, Url,
};
use latchkey_ureq::FileStore;
use serde::{Deserialize, Serialize};

use crate::context::options::{CacheArgs, Output};
use crate::context::{Common, Wire, print_tokens};
use crate::failure::Failure;
use crate::output::add_token_secrets;
use crate::progress::Wait;
use crate::say;

/// How often the wait for another run's lease redraws its countdown.
const LEASE_TICK: Duration = Duration::from_secs(1);

/// What a cached token set is for: a run only ever gets an entry whose key equals its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Key {
    /// `--issuer` when given, else the token endpoint (`--token-url`, else the
    /// `--provider`'s), else the authorization endpoint (for the implicit flow).
    pub(crate) server: String,
    pub(crate) client_id: String,
    /// Sorted, each once.
    pub(crate) scopes: Vec<String>,
    pub(crate) audience: Option<String>,
    /// Sorted, each once.
    pub(crate) resources: Vec<String>,
}

impl Key {
    /// The key of a run, from its flags alone (nothing is fetched).
    pub(crate) fn of(common: &Common) -> Self {
        let endpoints = &common.endpoints;
        let server = common
            .issuer
            .issuer
            .clone()
            .or_else(|| endpoints.token_url.clone())
            .or_else(|| {
                let preset = crate::context::preset(common).ok().flatten();
                preset.map(|p| p.token_endpoint)
            })
            .or_else(|| endpoints.auth_url.clone())
            .unwrap_or_default();
        let sorted = |values: Vec<&str>| {
            let mut values: Vec<String> = values.into_iter().map(str::to_owned).collect();
            values.sort();
            values.dedup();
            values
        };
        Self {
            server,
            client_id: common.client_id.clone(),
            scopes: sorted(
                common
                    .scope
                    .scopes
                    .iter()
                    .flat_map(|s| s.split(' '))
                    .filter(|s| !s.is_empty())
                    .collect(),
            ),
            audience: common.scope.audience.clone(),
            resources: sorted(common.scope.resources.iter().map(String::as_str).collect()),
        }
    }
}

/// What the cache needs from a run besides its flow.
pub(crate) struct Cached<'a> {
    /// `--cache` and `--force-refresh`.
    pub(crate) args: &'a CacheArgs,
    /// The run's key.
    pub(crate) key: Key,
    /// How a refresh is sent.
    pub(crate) wire: &'a Wire,
    /// `--output`, for printing a token set that could not be saved.
    pub(crate) output: Output,
}

/// The token set a token-producing subcommand prints.
///
/// Without a cache file, what `flow` returns. With one: the entry for the run's key while it
/// is valid for longer than the refresh skew (and `--force-refresh` is not given), with no
/// request at all; else a refreshed one (`renewal` builds the client and says which grant
/// the set comes from), saved before it is returned; else, when no refresh is possible (no
/// entry yet, no refresh token, or the server refused it, which removes the entry), what
/// `flow` returns, saved before it is returned.
///
/// # Errors
///
/// [`Failure::Other`] for a cache file that cannot be read, or a token set that cannot be
/// saved (it is printed first, so that a rotated refresh token is not lost); whatever the
/// refresh met other than a refused refresh token; whatever `renewal` or `flow` return.
pub(crate) fn tokens(
    cached: Cached<'_>,
    renewal: impl FnOnce() -> Result<(Client, TokenSource), Failure>,
    flow: impl FnOnce() -> Result<TokenSet, Failure>,
) -> Result<TokenSet, Failure> {
    let Some(file) = cached.args.cache.as_deref() else {
        return flow();
    };
    let cache = Cache {
        store: FileStore::new(file),
        key: cached.key,
        output: cached.output,
    };
    if let Some(tokens) = cache.lookup(cached.args.force_refresh, cached.wire, renewal)? {
        return Ok(tokens);
    }
    let tokens = flow()?;
    let _lease = cache.lease()?;
    cache.save(&tokens)?;
    Ok(tokens)
}

/// The token set `flow` returns, saved under the run's key (without looking at what the
/// cache holds): `refresh --refresh-token` with `--cache`.
///
/// # Errors
///
/// Whatever `flow` returns; a cache file that cannot be read or saved.
pub(crate) fn replace(
    cached: Cached<'_>,
    flow: impl FnOnce() -> Result<TokenSet, Failure>,
) -> Result<TokenSet, Failure> {
    let Some(file) = cached.args.cache.as_deref() else {
        return flow();
    };
    let cache = Cache {
        store: FileStore::new(file),
        key: cached.key,
        output: cached.output,
    };
    // A cache file that cannot be read is found before anything is sent.
    cache.read()?;
    let tokens = flow()?;
    let _lease = cache.lease()?;
    cache.save(&tokens)?;
    Ok(tokens)
}

/// The file's contents.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CacheFile {
    /// The format's version: 1.
    latchkey_cache: u32,
    entries: Vec<Entry>,
}

/// One token set and its key.
#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    key: Key,
    tokens: TokenSet,
}

/// The cache file, seen from one key.
struct Cache {
    /// The file (its atomic replacement and its lease).
    store: FileStore,
    key: Key,
    output: Output,
}

impl Cache {
    /// The cache file's path.
    fn path(&self) -> &Path {
        self.store.path()
    }

    /// The whole file; empty when there is none yet.
    fn read(&self) -> Result<CacheFile, Failure> {
        let path = self.path().display();
        let bytes = match std::fs::read(self.path()) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(CacheFile::default());
            }
            Err(e) => return Err(Failure::Other(format!("--cache: cannot read {path}: {e}"))),
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(CacheFile::default());
        }
        let not_a_cache = |what: &str| {
            Failure::Other(format!(
                "--cache: {path} is not a latchkey cache file ({what}); remove it or choose \
                 another file"
            ))
        };
        let value: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| not_a_cache(&format!("not JSON: line {}", e.line())))?;
        match &value {
            serde_json::Value::Object(map) if map.contains_key("latchkey_cache") => {}
            serde_json::Value::Object(map) if map.contains_key("access_token") => {
                return Err(not_a_cache(
                    "it holds a single token set, as latchkey wrote before keying the cache",
                ));
            }
            serde_json::Value::Object(_) => return Err(not_a_cache("an object without entries")),
            serde_json::Value::Array(_) => return Err(not_a_cache("it holds a JSON array")),
            _ => return Err(not_a_cache("it holds a single JSON value")),
        }
        // serde's message names a member or a position, never a value.
        serde_json::from_value(value).map_err(|e| not_a_cache(&e.to_string()))
    }

    /// This key's token set, if the file has one.
    fn load(&self) -> Result<Option<TokenSet>, Failure> {
        let file = self.read()?;
        let tokens = file
            .entries
            .into_iter()
            .find(|entry| entry.key == self.key)
            .map(|entry| entry.tokens);
        tokens.iter().for_each(add_token_secrets);
        Ok(tokens)
    }

    /// Writes the file with this key's entry set to `tokens` (or removed, for `None`). The
    /// caller holds the lease.
    fn write(&self, tokens: Option<&TokenSet>) -> Result<(), Failure> {
        let mut file = self.read()?;
        file.latchkey_cache = 1;
        let at = file.entries.iter().position(|entry| entry.key == self.key);
        match (at, tokens) {
            (Some(at), Some(tokens)) => file.entries[at].tokens = tokens.clone(),
            (None, Some(tokens)) => file.entries.push(Entry {
                key: self.key.clone(),
                tokens: tokens.clone(),
            }),
            (Some(at), None) => {
                file.entries.remove(at);
            }
            (None, None) => return Ok(()),
        }
        let mut json = serde_json::to_vec_pretty(&file)
            .map_err(|e| Failure::Other(format!("--cache: cannot encode the cache: {e}")))?;
        json.push(b'\n');
        self.store
            .replace_contents(&json)
            .map_err(|e| Failure::Other(format!("--cache: {e}")))
    }

    /// The lease on `FILE.lock`: one run at a time changes the file. When another run holds
    /// it, says so once and waits (a countdown on a terminal) up to [`DEFAULT_LEASE_WAIT`].
    fn lease(&self) -> Result<latchkey::manage::Lease, Failure> {
        let failed = |e: latchkey::StoreError| Failure::Other(format!("--cache: {e}"));
        // A lock that could not be opened or taken carries the OS error; a lock another run
        // holds does not.
        let held = |e: &latchkey::StoreError| std::error::Error::source(e).is_none();
        match self.store.lease(Duration::ZERO) {
            Ok(lease) => return Ok(lease),
            Err(e) if !held(&e) => return Err(failed(e)),
            Err(_) => {}
        }
        let lock = self.store.lock_path();
        let wait = Wait::new("waiting for the other run's lease", DEFAULT_LEASE_WAIT);
        wait.say(&format!(
            "latchkey: another run holds {}; waiting up to {} s for it",
            lock.display(),
            DEFAULT_LEASE_WAIT.as_secs()
        ));
        let deadline = Instant::now() + DEFAULT_LEASE_WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            wait.show(left, "");
            match self.store.lease(left.min(LEASE_TICK)) {
                Ok(lease) => return Ok(lease),
                Err(e) if !held(&e) || left <= LEASE_TICK => return Err(failed(e)),
                Err(_) => {}
            }
        }
    }

    /// A token set to print: the cached one while it is valid for longer than the refresh
    /// skew (unless `force`), else a refreshed one (saved before it is returned). `None` when
    /// no refresh is possible and the full flow must run: no entry yet, no refresh token, or
    /// the server refused the refresh token (the entry is removed then).
    fn lookup(
        &self,
        force: bool,
        wire: &Wire,
        renewal: impl FnOnce() -> Result<(Client, TokenSource), Failure>,
    ) -> Result<Option<TokenSet>, Failure> {
        let path = self.path().display();
        let Some(cached) = self.load()? else {
            say!("latchkey: no token set for this client, server and scope in {path} yet");
            return Ok(None);
        };
        let now = SystemTime::now();
        if !force && !cached.expires_within(now, DEFAULT_REFRESH_SKEW) {
            say!(
                "latchkey: using the cached token from {path}{}",
                lifetime(&cached, now)
            );
            return Ok(Some(cached));
        }
        if cached.refresh_token().is_none() {
            if force {
                say!(
                    "latchkey: the cached token from {path} has no refresh token to renew it \
                     with (--force-refresh); getting a new one"
                );
            } else {
                say!(
                    "latchkey: the cached token from {path} is no longer usable{} and has no \
                     refresh token",
                    lifetime(&cached, now)
                );
            }
            return Ok(None);
        }
        let (client, source) = renewal()?;
        // The renewal machine the token managers drive decides, on one thread here.
        let mut machine =
            RenewalMachine::new(Lifecycle::new(client.clone(), source), Some(cached.clone()));
        let renewal = match machine.poll(now, force) {
            Ok(Poll::Use(_)) => {
                say!(
                    "latchkey: using the cached token from {path}{}",
                    lifetime(&cached, now)
                );
                return Ok(Some(cached));
            }
            Ok(Poll::Start(renewal))
                if matches!(renewal.work, Work::Fetch(RenewalStep::Refresh(_))) =>
            {
                renewal
            }
            _ => {
                say!(
                    "latchkey: the cached token from {path} is no longer usable{} and cannot be \
                     refreshed",
                    lifetime(&cached, now)
                );
                return Ok(None);
            }
        };
        // Other runs on the same file (a cron minute, the replicas of a service) wait here
        // while one refreshes, then use what it saved: a rotated refresh token is never
        // presented twice.
        let _lease = self.lease()?;
        let stored = self.load()?;
        let step = match machine.leased(renewal.ticket, renewal.work, stored, SystemTime::now()) {
            Leased::Fetch(step) => step,
            // Only a refresh starts here (checked above).
            Leased::Save(_) => return Ok(None),
            Leased::Done(Ok(_)) => {
                say!("latchkey: another run refreshed the token set in {path} meanwhile; using it");
                let tokens = machine.tokens().cloned();
                tokens.iter().for_each(add_token_secrets);
                return Ok(tokens);
            }
            Leased::Done(Err(Error::Reauthorize(_))) => {
                say!("latchkey: the token set in {path} can no longer be refreshed");
                return Ok(None);
            }
            Leased::Done(Err(error)) => return Err(Failure::OAuth(error)),
        };
        let token_url = client
            .token_endpoint()
            .map_or(String::new(), Url::to_string);
        say!(
            "latchkey: the cached token from {path} {}{}; refreshing at {token_url}",
            if force {
                "is renewed (--force-refresh)"
            } else {
                "is about to expire"
            },
            lifetime(&cached, now)
        );
        let fetched = match wire.send(step) {
            Ok(tokens) => Ok(tokens),
            Err(Failure::OAuth(error)) => Err(error),
            Err(other) => return Err(other),
        };
        match machine.fetched(renewal.ticket, fetched, SystemTime::now()) {
            Landing::Save(tokens) | Landing::SaveAgain { tokens, .. } => {
                self.save(&tokens)?;
                Ok(Some(tokens))
            }
            Landing::Done(Err(Error::Reauthorize(ReauthorizeError::InvalidGrant(e)))) => {
                self.write(None)?;
                say!(
                    "latchkey: the server refused the cached refresh token ({}); removed the \
                     entry from {path}; starting over",
                    e.code.as_str()
                );
                Ok(None)
            }
            Landing::Done(Err(error)) => Err(Failure::OAuth(error)),
            Landing::Done(Ok(_)) => Ok(None),
        }
    }

    /// Saves the token set under this key (the caller holds the lease); on failure it is
    /// printed anyway (so that a rotated refresh token is not lost) and the command fails.
    fn save(&self, tokens: &TokenSet) -> Result<(), Failure> {
        match self.write(Some(tokens)) {
            Ok(()) => {
                say!("latchkey: saved the token set to {}", self.path().display());
                Ok(())
            }
            Err(e) => {
                print_tokens(tokens, self.output)?;
                Err(Failure::Other(format!(
                    "the token set was printed but could not be saved: {}",
                    e.message()
                )))
            }
        }
    }
}

/// `" (expires in N s)"`, `" (expired N s ago)"`, or nothing when the expiry is unknown.
fn lifetime(tokens: &TokenSet, now: SystemTime) -> String {
    match tokens.expires_at() {
        None => String::new(),
        Some(at) => match at.duration_since(now) {
            Ok(left) => format!(" (expires in {} s)", left.as_secs()),
            Err(e) => format!(" (expired {} s ago)", e.duration().as_secs()),
        },
    }
}
