//! Token lifecycle decisions: given the current token set and `now`, use the access token or
//! say which step gets a new one. The adapters' token managers carry the decision out (one
//! refresh in flight, however many callers wait); the core holds no locks and reads no clock.

use std::time::{Duration, SystemTime};

use crate::flow::client_credentials::ClientCredentials;
use crate::flow::refresh::Refresh;
use crate::secret::AccessToken;
use crate::token::TokenSet;
use crate::{Client, Error};

/// How far ahead of its expiry an access token is renewed, by default.
pub const DEFAULT_REFRESH_SKEW: Duration = Duration::from_secs(60);

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
pub enum NextStep {
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

/// The renewal policy for one grant: its client, its source and the refresh skew.
#[derive(Clone, Debug)]
pub struct Lifecycle {
    client: Client,
    source: TokenSource,
    skew: Duration,
}

impl Lifecycle {
    /// A policy with the default skew of 60 s.
    #[must_use]
    pub fn new(client: Client, source: TokenSource) -> Self {
        Self {
            client,
            source,
            skew: DEFAULT_REFRESH_SKEW,
        }
    }

    /// Renews tokens this long before they expire.
    #[must_use]
    pub fn skew(mut self, skew: Duration) -> Self {
        self.skew = skew;
        self
    }

    /// The client.
    #[must_use]
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Decides what to do with `tokens` at `now`. `force` renews even a token that looks
    /// valid (after a resource server rejected it with `invalid_token`).
    ///
    /// # Errors
    ///
    /// [`ConfigError`](crate::ConfigError) when the client cannot make the renewal request
    /// (no token endpoint, or client credentials for a public client).
    pub fn next_step(
        &self,
        tokens: Option<&TokenSet>,
        now: SystemTime,
        force: bool,
    ) -> Result<NextStep, Error> {
        if let Some(tokens) = tokens {
            if !force && !tokens.expires_within(now, self.skew) {
                return Ok(NextStep::UseToken(tokens.access_token().clone()));
            }
            if let Some(refresh_token) = tokens.refresh_token() {
                return Ok(NextStep::Refresh(self.client.refresh(refresh_token)?));
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
                let body = String::from_utf8(crate::Exchange::request(&step).body).unwrap();
                assert_eq!(body, "grant_type=client_credentials&scope=a%20b&audience=x");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            cc.next_step(None, at(0), false),
            Ok(NextStep::ClientCredentials(_))
        ));
    }
}
