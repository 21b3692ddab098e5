//! The renewal policy of one grant ([`Lifecycle`]): given the current token set and `now`, use
//! the access token or say which step gets a new one. The
//! [`RenewalMachine`](crate::manage::RenewalMachine) asks it; the core holds no locks and
//! reads no clock.
//!
//! ```text
//!  tokens, now, force ──► Lifecycle::next_step ──► UseToken(access token)
//!                                               ├─► Refresh(step)            ─┐ the manager sends it,
//!                                               ├─► ClientCredentials(step)  ─┘ saves, then hands out
//!                                               └─► Reauthorize              (the user must log in)
//!  a failed renewal ──► Lifecycle::renewal_failed (invalid_grant ⇒ Error::Reauthorize)
//!                   └─► Lifecycle::retry_delay(failures) before the next attempt
//! ```

use std::time::{Duration, SystemTime};

use crate::error::ReauthorizeError;
use crate::flow::client_credentials::ClientCredentials;
use crate::flow::refresh::Refresh;
use crate::secret::AccessToken;
use crate::token::TokenSet;
use crate::{Client, Error};

/// How far ahead of its expiry an access token is renewed, by default.
pub const DEFAULT_REFRESH_SKEW: Duration = Duration::from_secs(60);

/// The wait before the first new attempt after a failed renewal, by default; it doubles with
/// every further failure.
pub const DEFAULT_RETRY_BACKOFF: Duration = Duration::from_millis(500);

/// How long a renewal waits, by default, for another process that holds the store's renewal
/// lease (see [`TokenStore::lease`](crate::TokenStore::lease)).
pub const DEFAULT_LEASE_WAIT: Duration = Duration::from_secs(30);

/// How long, by default, a renewal keeps saving fresh tokens again while the store cannot be
/// reached (see [`Lifecycle::save_retry`]): half the default lease wait, so that a store's
/// lease (30 s for `latchkey-redis`) outlasts a refresh plus these retries.
pub const DEFAULT_SAVE_RETRY: Duration = Duration::from_secs(15);

/// The longest wait between failed renewals, by default.
pub const DEFAULT_MAX_RETRY_BACKOFF: Duration = Duration::from_secs(30);

/// Where the tokens come from, which decides how they are renewed.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenSource {
    /// A user authorized the client (authorization code, implicit, device): renew with the
    /// refresh token, else the user must authorize again.
    User,
    /// The client credentials grant: renew by asking again, with these scopes
    /// (space-separated, possibly empty) and parameters.
    ClientCredentials {
        /// Scopes to ask for.
        scope: String,
        /// Extra parameters (e.g. `audience`).
        params: Vec<(String, String)>,
    },
}

/// What to do to get a usable access token.
#[non_exhaustive]
#[derive(Debug)]
pub(crate) enum NextStep {
    /// The access token is good to use (or its expiry is unknown: use it until a resource
    /// server answers 401).
    UseToken(AccessToken),
    /// Refresh first with this step.
    Refresh(Refresh),
    /// Get a fresh token with this client credentials step.
    ClientCredentials(ClientCredentials),
    /// No way to get a token without the user: run an authorization flow again.
    Reauthorize,
}

/// The renewal policy for one grant: its client, its source, the refresh skew and the
/// backoff after failed renewals.
#[derive(Clone, Debug)]
pub struct Lifecycle {
    client: Client,
    source: TokenSource,
    skew: Duration,
    backoff: Duration,
    max_backoff: Duration,
    lease_wait: Duration,
    save_retry: Duration,
}

impl Lifecycle {
    /// A policy with the default skew of 60 s.
    #[must_use]
    pub fn new(client: Client, source: TokenSource) -> Self {
        Self {
            client,
            source,
            skew: DEFAULT_REFRESH_SKEW,
            backoff: DEFAULT_RETRY_BACKOFF,
            max_backoff: DEFAULT_MAX_RETRY_BACKOFF,
            lease_wait: DEFAULT_LEASE_WAIT,
            save_retry: DEFAULT_SAVE_RETRY,
        }
    }

    /// Renews tokens this long before they expire.
    #[must_use]
    pub fn skew(mut self, skew: Duration) -> Self {
        self.skew = skew;
        self
    }

    /// After a failed renewal, waits `first` before the next attempt, doubling with every
    /// further failure up to `max` (defaults: [`DEFAULT_RETRY_BACKOFF`],
    /// [`DEFAULT_MAX_RETRY_BACKOFF`]).
    #[must_use]
    pub fn backoff(mut self, first: Duration, max: Duration) -> Self {
        self.backoff = first;
        self.max_backoff = max.max(first);
        self
    }

    /// Waits at most this long for another process holding the store's renewal lease
    /// (default [`DEFAULT_LEASE_WAIT`]).
    #[must_use]
    pub fn lease_wait(mut self, wait: Duration) -> Self {
        self.lease_wait = wait;
        self
    }

    /// How long a renewal waits for the store's renewal lease.
    #[must_use]
    pub fn lease_wait_time(&self) -> Duration {
        self.lease_wait
    }

    /// When the store cannot be reached for a moment ([`StoreError::is_transient`]) while a
    /// renewal saves its fresh tokens, the renewal saves them again with backoff (100 ms,
    /// doubling, at most 2 s apart) for up to `budget` after the first failure (default
    /// [`DEFAULT_SAVE_RETRY`]), and only then reports the error. Meanwhile it keeps the
    /// store's lease, so no other process refreshes with the refresh token these tokens
    /// replaced; its callers wait. `Duration::ZERO` reports the first failure.
    ///
    /// [`StoreError::is_transient`]: crate::StoreError::is_transient
    #[must_use]
    pub fn save_retry(mut self, budget: Duration) -> Self {
        self.save_retry = budget;
        self
    }

    /// How long a renewal keeps saving again through a passing store failure.
    #[must_use]
    pub fn save_retry_time(&self) -> Duration {
        self.save_retry
    }

    /// The client.
    #[must_use]
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Where the tokens come from.
    #[must_use]
    pub fn source(&self) -> &TokenSource {
        &self.source
    }

    /// How long before its expiry a token is renewed.
    #[must_use]
    pub fn refresh_skew(&self) -> Duration {
        self.skew
    }

    /// The access token to use as is, if `tokens` has one that does not expire within the
    /// skew of `now` (and `force` is not set). The cheap half of [`next_step`](Self::next_step):
    /// it builds no renewal step.
    #[must_use]
    pub(crate) fn usable<'a>(
        &self,
        tokens: Option<&'a TokenSet>,
        now: SystemTime,
        force: bool,
    ) -> Option<&'a AccessToken> {
        tokens
            .filter(|t| !force && !t.expires_within(now, self.skew))
            .map(TokenSet::access_token)
    }

    /// How long to wait before the next renewal attempt after `failures` failures in a row
    /// (zero for none).
    #[must_use]
    pub(crate) fn retry_delay(&self, failures: u32) -> Duration {
        match failures {
            0 => Duration::ZERO,
            n => self
                .backoff
                .saturating_mul(1u32 << (n - 1).min(20))
                .min(self.max_backoff),
        }
    }

    /// The error to report for a failed renewal: a refresh token the server refused with
    /// `invalid_grant` becomes [`ReauthorizeError::InvalidGrant`] (the user must authorize
    /// again); anything else is passed through, and renewal may be tried again after
    /// [`retry_delay`](Self::retry_delay).
    #[must_use]
    pub(crate) fn renewal_failed(&self, error: Error) -> Error {
        match error {
            Error::Server(e)
                if e.code == crate::ErrorCode::InvalidGrant
                    && matches!(self.source, TokenSource::User) =>
            {
                ReauthorizeError::InvalidGrant(e).into()
            }
            other => other,
        }
    }

    /// The error for [`NextStep::Reauthorize`] with these tokens.
    #[must_use]
    pub(crate) fn reauthorize_error(&self, tokens: Option<&TokenSet>) -> Error {
        match tokens {
            None => ReauthorizeError::NoTokens.into(),
            Some(_) => ReauthorizeError::NoRefreshToken.into(),
        }
    }

    /// Decides what to do with `tokens` at `now`. `force` renews even a token that looks
    /// valid (after a resource server rejected it with `invalid_token`).
    ///
    /// # Errors
    ///
    /// [`ConfigError`](crate::ConfigError) when the client cannot make the renewal request
    /// (no token endpoint, or client credentials for a public client).
    pub(crate) fn next_step(
        &self,
        tokens: Option<&TokenSet>,
        now: SystemTime,
        force: bool,
    ) -> Result<NextStep, Error> {
        if let Some(token) = self.usable(tokens, now, force) {
            return Ok(NextStep::UseToken(token.clone()));
        }
        if let Some(tokens) = tokens {
            if let Some(refresh_token) = tokens.refresh_token() {
                #[allow(unused_mut)]
                let mut refresh = self.client.refresh(refresh_token)?;
                // A refreshed ID token must continue the one held (OpenID Connect Core §12.2).
                #[cfg(feature = "oidc")]
                if let Some(claims) = tokens.id_token_claims() {
                    refresh = refresh.original_id_token(claims);
                }
                return Ok(NextStep::Refresh(refresh));
            }
        }
        match &self.source {
            TokenSource::User => Ok(NextStep::Reauthorize),
            TokenSource::ClientCredentials { scope, params } => {
                let mut step = self.client.client_credentials()?.scope(scope);
                for (k, v) in params {
                    step = step.param(k.clone(), v.clone());
                }
                Ok(NextStep::ClientCredentials(step))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{RefreshToken, TokenType};
    use std::time::UNIX_EPOCH;

    fn client() -> Client {
        Client::builder("id")
            .client_secret("s")
            .token_endpoint("https://as.example/token")
            .build()
            .unwrap()
    }

    fn at(s: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(s)
    }

    fn tokens(expires: Option<u64>, refresh: bool) -> TokenSet {
        TokenSet::new(AccessToken::new("a"), TokenType::Bearer)
            .with_expires_at(expires.map(at))
            .with_refresh_token(refresh.then(|| RefreshToken::new("r")))
    }

    #[test]
    fn decisions() {
        let user = Lifecycle::new(client(), TokenSource::User);
        let t = tokens(Some(1000), true);
        assert!(matches!(
            user.next_step(Some(&t), at(900), false),
            Ok(NextStep::UseToken(_))
        ));
        // Within the 60 s skew: refresh.
        assert!(matches!(
            user.next_step(Some(&t), at(950), false),
            Ok(NextStep::Refresh(_))
        ));
        assert!(matches!(
            user.next_step(Some(&t), at(2000), false),
            Ok(NextStep::Refresh(_))
        ));
        // Forced after a 401.
        assert!(matches!(
            user.next_step(Some(&t), at(0), true),
            Ok(NextStep::Refresh(_))
        ));
        // No refresh token: the user must come back.
        let t = tokens(Some(1000), false);
        assert!(matches!(
            user.next_step(Some(&t), at(990), false),
            Ok(NextStep::Reauthorize)
        ));
        assert!(matches!(
            user.next_step(None, at(0), false),
            Ok(NextStep::Reauthorize)
        ));
        // Unknown expiry: use until a 401.
        let t = tokens(None, false);
        assert!(matches!(
            user.next_step(Some(&t), at(u32::MAX.into()), false),
            Ok(NextStep::UseToken(_))
        ));
        // Client credentials: ask again.
        let cc = Lifecycle::new(
            client(),
            TokenSource::ClientCredentials {
                scope: "a b".into(),
                params: vec![("audience".into(), "x".into())],
            },
        )
        .skew(Duration::ZERO);
        let t = tokens(Some(1000), false);
        assert!(matches!(
            cc.next_step(Some(&t), at(999), false),
            Ok(NextStep::UseToken(_))
        ));
        match cc.next_step(Some(&t), at(1000), false) {
            Ok(NextStep::ClientCredentials(step)) => {
                let body =
                    String::from_utf8(crate::Exchange::request(&step).unwrap().body).unwrap();
                assert_eq!(body, "grant_type=client_credentials&scope=a+b&audience=x");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            cc.next_step(None, at(0), false),
            Ok(NextStep::ClientCredentials(_))
        ));
    }

    #[test]
    fn usable_is_the_cheap_half() {
        let user = Lifecycle::new(client(), TokenSource::User);
        let t = tokens(Some(1000), true);
        assert!(user.usable(Some(&t), at(939), false).is_some());
        assert!(user.usable(Some(&t), at(940), false).is_none());
        assert!(user.usable(Some(&t), at(0), true).is_none());
        assert!(user.usable(None, at(0), false).is_none());
        assert_eq!(user.refresh_skew(), DEFAULT_REFRESH_SKEW);
        assert_eq!(user.source(), &TokenSource::User);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let user = Lifecycle::new(client(), TokenSource::User)
            .backoff(Duration::from_millis(100), Duration::from_millis(350));
        let delays: Vec<u128> = (0..6).map(|n| user.retry_delay(n).as_millis()).collect();
        assert_eq!(delays, [0, 100, 200, 350, 350, 350]);
        assert_eq!(user.retry_delay(u32::MAX), Duration::from_millis(350));
        let default = Lifecycle::new(client(), TokenSource::User);
        assert_eq!(default.retry_delay(1), DEFAULT_RETRY_BACKOFF);
        assert_eq!(default.retry_delay(30), DEFAULT_MAX_RETRY_BACKOFF);
    }

    #[test]
    fn invalid_grant_means_reauthorize() {
        use crate::{ErrorCode, ServerError};
        let user = Lifecycle::new(client(), TokenSource::User);
        let grant = ServerError::new(ErrorCode::InvalidGrant);
        let e = user.renewal_failed(grant.clone().into());
        assert_eq!(
            e,
            Error::Reauthorize(ReauthorizeError::InvalidGrant(grant.clone()))
        );
        assert!(e.is_reauthorization_required());
        assert!(e.is_invalid_grant());
        let busy: Error = ServerError::new(ErrorCode::TemporarilyUnavailable).into();
        assert_eq!(user.renewal_failed(busy.clone()), busy);
        // A client credentials grant has no user to send back.
        let cc = Lifecycle::new(
            client(),
            TokenSource::ClientCredentials {
                scope: String::new(),
                params: Vec::new(),
            },
        );
        assert_eq!(cc.renewal_failed(grant.clone().into()), grant.into());
        assert_eq!(
            user.reauthorize_error(None),
            Error::Reauthorize(ReauthorizeError::NoTokens)
        );
        let t = tokens(Some(1), false);
        assert_eq!(
            user.reauthorize_error(Some(&t)),
            Error::Reauthorize(ReauthorizeError::NoRefreshToken)
        );
    }
}
