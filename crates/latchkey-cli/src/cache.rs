//! `--cache FILE`: the token set kept between runs of the token-producing subcommands.
//!
//! Everything about the cache goes through one function, [`tokens`]: given the file, the
//! means to renew ([`Renewal`]) and the subcommand's full flow, it returns the token set to
//! print. A cached token set is reused while it is valid, refreshed (and the new set saved)
//! when it is about to expire, and the full flow runs, and its result is saved, only when no
//! refresh is possible.

use std::path::Path;
use std::time::SystemTime;

use latchkey::manage::{
    DEFAULT_LEASE_WAIT, Landing, Leased, Poll, RenewalMachine, RenewalStep, Work,
};
use latchkey::{
    Client, Error, Lifecycle, ReauthorizeError, TokenSet, TokenSource, TokenStore as _, Url,
};
use latchkey_ureq::{FileStore, Transport};

use crate::context::{print_tokens, send};
use crate::failure::Failure;
use crate::output::add_token_secrets;
use crate::say;

/// What renewing a cached token set takes.
pub(crate) struct Renewal<'a> {
    /// The client the token set belongs to; its token endpoint refreshes it.
    pub(crate) client: &'a Client,
    /// Which grant the token set comes from.
    pub(crate) source: TokenSource,
    /// The scopes wanted now, space-separated: a cached set granted fewer is not used.
    pub(crate) scope: String,
    /// The transport the refresh is sent with.
    pub(crate) transport: &'a Transport,
    /// `--verbose`: show the refresh request and the answer's status.
    pub(crate) verbose: bool,
}

/// The token set a token-producing subcommand prints.
///
/// Without a cache file, what `flow` returns. With one: the cached token set while it is
/// valid for longer than the refresh skew; else a refreshed one, saved before it is
/// returned; else, when no refresh is possible (no cache yet, other scopes, no refresh
/// token, no token endpoint, or the server refused the refresh token), what `flow` returns,
/// saved before it is returned.
///
/// # Errors
///
/// [`Failure::Other`] for a cache file that cannot be read, or a token set that cannot be
/// saved (it is printed first, so that a rotated refresh token is not lost); whatever the
/// refresh met other than a refused refresh token; whatever `flow` returns.
pub(crate) fn tokens(
    file: Option<&Path>,
    renewal: Renewal<'_>,
    flow: impl FnOnce() -> Result<TokenSet, Failure>,
) -> Result<TokenSet, Failure> {
    let Some(file) = file else {
        return flow();
    };
    let cache = Cache {
        store: FileStore::new(file),
    };
    if let Some(tokens) = cache.lookup(renewal)? {
        return Ok(tokens);
    }
    let tokens = flow()?;
    cache.save(&tokens)?;
    Ok(tokens)
}

/// The cache file: a [`FileStore`] read first and written after.
struct Cache {
    store: FileStore,
}

impl Cache {
    /// The cache file's path.
    fn path(&self) -> &Path {
        self.store.path()
    }

    /// A token set to print: the cached one while it is valid for longer than the refresh
    /// skew, else a refreshed one (saved before it is returned). `None` when no refresh is
    /// possible and the full flow must run: no cache yet, other scopes, no refresh token, no
    /// token endpoint, or the server refused the refresh token.
    fn lookup(&self, renewal: Renewal<'_>) -> Result<Option<TokenSet>, Failure> {
        let Renewal {
            client,
            source,
            scope: wanted,
            transport,
            verbose,
        } = renewal;
        let path = self.path().display();
        let cached = self
            .store
            .load()
            .map_err(|e| Failure::Other(format!("--cache: {e}")))?;
        let Some(cached) = cached else {
            say!("latchkey: no token set in {path} yet");
            return Ok(None);
        };
        add_token_secrets(&cached);
        if let Some(missing) = missing_scope(&cached, &wanted) {
            say!("latchkey: the token set in {path} lacks scope {missing}; not using it");
            return Ok(None);
        }
        // The renewal machine the token managers drive decides, on one thread here.
        let now = SystemTime::now();
        let lifecycle = Lifecycle::new(client.clone(), source);
        let mut machine = RenewalMachine::new(lifecycle, Some(cached.clone()));
        let renewal = match machine.poll(now, false) {
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
        let store_error = |e: latchkey::StoreError| Failure::Other(format!("--cache: {e}"));
        let _lease = self.store.lease(DEFAULT_LEASE_WAIT).map_err(store_error)?;
        let stored = self.store.load().map_err(store_error)?;
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
            "latchkey: the cached token from {path} is about to expire{}; refreshing at {token_url}",
            lifetime(&cached, now)
        );
        let fetched = match send(transport, step, verbose) {
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
                say!(
                    "latchkey: the server refused the cached refresh token ({}); starting over",
                    e.code.as_str()
                );
                Ok(None)
            }
            Landing::Done(Err(error)) => Err(Failure::OAuth(error)),
            Landing::Done(Ok(_)) => Ok(None),
        }
    }

    /// Saves the token set; on failure it is printed anyway (so that a rotated refresh token
    /// is not lost) and the command fails.
    fn save(&self, tokens: &TokenSet) -> Result<(), Failure> {
        match self.store.save(tokens) {
            Ok(()) => {
                say!("latchkey: saved the token set to {}", self.path().display());
                Ok(())
            }
            Err(e) => {
                print_tokens(tokens)?;
                Err(Failure::Other(format!(
                    "the token set was printed but could not be saved: {e}"
                )))
            }
        }
    }
}

/// The first wanted scope the cached token set was not granted (when it says what it was
/// granted).
fn missing_scope<'a>(tokens: &TokenSet, wanted: &'a str) -> Option<&'a str> {
    tokens.scope()?;
    wanted
        .split(' ')
        .filter(|s| !s.is_empty())
        .find(|s| !tokens.scopes().any(|have| have == *s))
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
