//! The two sign-ins, without the page: [`start`] builds the authorization URL and the
//! [`Pending`] value the page keeps in `sessionStorage` across the redirect; [`finish`]
//! reads the callback (the `#fragment` for the implicit flow, the query for the code) with
//! that value.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use latchkey::{CodeExchange, Error, PendingAuthorization, PendingImplicit, TokenSet, parse_url};
use serde::{Deserialize, Serialize};

use crate::config::SpaConfig;

/// The `sessionStorage` key of the pending sign-in.
pub const STORAGE_KEY: &str = "latchkey-spa.pending";

/// Which sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Flow {
    /// `response_type=token`: the token in the redirect's fragment (Loom AI's SPA flow).
    Implicit,
    /// `response_type=code` with PKCE S256, the code redeemed with `fetch`.
    CodePkce,
}

impl fmt::Display for Flow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Implicit => "the implicit flow",
            Self::CodePkce => "code + PKCE",
        })
    }
}

/// What the page keeps across the redirect: the core's pending value (state, nonce, PKCE
/// verifier), as JSON in `sessionStorage` (this tab only, gone with it).
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "flow")]
pub enum Pending {
    /// An implicit sign-in.
    Implicit {
        /// The core's pending value.
        pending: PendingImplicit,
    },
    /// A code + PKCE sign-in.
    CodePkce {
        /// The core's pending value.
        pending: PendingAuthorization,
    },
}

/// Why a sign-in did not finish.
#[derive(Debug, thiserror::Error)]
pub enum SpaError {
    /// A callback arrived, but no sign-in was started in this tab.
    #[error("no sign-in was started in this tab: the redirect was not used")]
    NothingPending,
    /// The stored pending value is unreadable.
    #[error("the pending sign-in in sessionStorage is unreadable")]
    Unreadable,
    /// The core refused (a wrong state, the server's error...) or a request failed.
    #[error(transparent)]
    OAuth(#[from] Error),
    /// The page itself failed (`fetch`, `sessionStorage`, the DOM).
    #[error("{0}")]
    Page(String),
}

/// Whether `url` carries an authorization response: `state`, `error`, `code` or
/// `access_token` in its query or fragment.
#[must_use]
pub fn is_callback(url: &str) -> bool {
    let Ok(url) = parse_url(url) else {
        return false;
    };
    let keys = ["state", "error", "code", "access_token"];
    let has = |part: Option<&str>| {
        part.is_some_and(|text| {
            form_urlencoded::parse(text.as_bytes()).any(|(name, _)| keys.contains(&&*name))
        })
    };
    has(url.query()) || has(url.fragment())
}

/// Builds the authorization URL for `flow`; returns it and the JSON to keep in
/// `sessionStorage` under [`STORAGE_KEY`].
///
/// # Errors
///
/// A configuration the core refuses; no randomness.
pub fn start(
    config: &SpaConfig,
    flow: Flow,
    redirect_uri: &str,
) -> Result<(String, String), SpaError> {
    let (url, pending) = match flow {
        Flow::Implicit => {
            let client = config.client(&config.implicit_client_id, redirect_uri)?;
            let (url, pending) = client.implicit().scope(&config.scope).build()?;
            (url, Pending::Implicit { pending })
        }
        Flow::CodePkce => {
            let client = config.client(&config.code_client_id, redirect_uri)?;
            let (url, pending) = client.authorization_code().scope(&config.scope).build()?;
            (url, Pending::CodePkce { pending })
        }
    };
    let stored = serde_json::to_string(&pending).map_err(|_| SpaError::Unreadable)?;
    Ok((url.as_str().to_owned(), stored))
}

/// What the callback gave.
#[derive(Debug)]
pub enum Finished {
    /// The implicit flow's token set.
    Tokens(TokenSet),
    /// The code, to redeem at the token endpoint (with [`drive`](crate::drive::drive)).
    Exchange(CodeExchange),
}

/// Reads the callback at `url` with the `stored` pending value (taken from
/// `sessionStorage`, which the caller clears first).
///
/// # Errors
///
/// [`SpaError::NothingPending`] without a stored value; the core's refusal (a state that
/// differs, the server's `error`, a missing parameter) as [`SpaError::OAuth`].
pub fn finish(
    config: &SpaConfig,
    stored: Option<&str>,
    url: &str,
    redirect_uri: &str,
    now: SystemTime,
) -> Result<(Flow, Finished), SpaError> {
    let stored = stored.ok_or(SpaError::NothingPending)?;
    let pending: Pending = serde_json::from_str(stored).map_err(|_| SpaError::Unreadable)?;
    match pending {
        Pending::Implicit { pending } => {
            let client = config.client(&config.implicit_client_id, redirect_uri)?;
            let tokens = pending.callback(&client, url, now)?;
            Ok((Flow::Implicit, Finished::Tokens(tokens)))
        }
        Pending::CodePkce { pending } => {
            let client = config.client(&config.code_client_id, redirect_uri)?;
            let exchange = pending.callback(&client, url)?;
            Ok((Flow::CodePkce, Finished::Exchange(exchange)))
        }
    }
}

/// When the access token expires: seconds since the Unix epoch and seconds from `now`, if
/// the server said.
#[must_use]
pub fn expiry(tokens: &TokenSet, now: SystemTime) -> Option<(u64, u64)> {
    let at = tokens.expires_at()?;
    let unix = at
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs();
    let left = at.duration_since(now).unwrap_or(Duration::ZERO).as_secs();
    Some((unix, left))
}

#[cfg(test)]
mod tests;
