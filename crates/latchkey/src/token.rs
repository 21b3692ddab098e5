//! Token responses ([RFC 6749 §5.1](https://www.rfc-editor.org/rfc/rfc6749#section-5.1)) and
//! the [`TokenSet`] they become.
//!
//! Tolerant where real providers deviate (`token_type` in any case, `expires_in` as a number or
//! a string, no `expires_in`, Doorkeeper's `created_at`, `scope` as a list) and strict where
//! safety needs it (an error object with HTTP 200 is an error, an unknown token type is refused,
//! an HTML page is never "a missing access_token").

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::secret::{AccessToken, RefreshToken};

/// The kind of access token (RFC 6749 §7.1). Parsed case-insensitively.
///
/// Serialized as serde's externally tagged enum: `"Bearer"`, `"DPoP"`, `{"Other": "..."}`.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TokenType {
    /// `Bearer` (RFC 6750).
    Bearer,
    /// `DPoP` (RFC 9449).
    DPoP,
    /// Anything else, kept as sent (only when the dialect accepts any token type).
    Other(String),
}

impl TokenType {
    /// Parses a `token_type` value, ignoring case for the known types.
    #[must_use]
    pub fn parse(value: &str) -> Self {
        if value.eq_ignore_ascii_case("bearer") {
            Self::Bearer
        } else if value.eq_ignore_ascii_case("dpop") {
            Self::DPoP
        } else {
            Self::Other(value.to_owned())
        }
    }

    /// The canonical spelling.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::Bearer => "Bearer",
            Self::DPoP => "DPoP",
            Self::Other(other) => other,
        }
    }
}

/// What a successful token request (or implicit callback) yields.
///
/// `Serialize + Deserialize` for keeping it between runs (see [`TokenStore`](crate::TokenStore));
/// `expires_at` is written as whole seconds since the Unix epoch.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TokenSet {
    pub(crate) access_token: AccessToken,
    pub(crate) token_type: TokenType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) expires_in: Option<u64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "unix_seconds"
    )]
    pub(crate) expires_at: Option<SystemTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) refresh_token: Option<RefreshToken>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) scope: Option<String>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub(crate) extra: Map<String, Value>,
    /// The claims of the `id_token`, once validated.
    #[cfg(feature = "oidc")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) id_token_claims: Option<Box<crate::id_token::IdTokenClaims>>,
    /// The DPoP key the tokens are bound to, kept (and stored) with them.
    #[cfg(feature = "oidc")]
    #[serde(default, skip_serializing_if = "Option::is_none", with = "stored_key")]
    pub(crate) dpop_key: Option<Box<crate::jose::SigningKey>>,
    /// The client certificate the tokens were obtained over (mutual TLS), to which the
    /// access token is taken to be bound (boxed: most token sets have none, and a token set
    /// travels inside the renewal machine's values).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) certificate_binding: Option<Box<crate::mtls::CertificateThumbprint>>,
}

/// `Option<SigningKey>` as `{"alg": "ES256", "kid": "...", "pkcs8": "-----BEGIN PRIVATE KEY-----..."}`:
/// a stored token set carries the DPoP key its tokens are bound to.
#[cfg(feature = "oidc")]
mod stored_key {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::jose::{Algorithm, SigningKey};
    use crate::secret::PrivateKeyPem;

    #[derive(Serialize, Deserialize)]
    struct Stored {
        alg: Algorithm,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kid: Option<String>,
        pkcs8: PrivateKeyPem,
    }

    pub(super) fn serialize<S: Serializer>(
        key: &Option<Box<SigningKey>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let Some(key) = key else {
            return s.serialize_none();
        };
        let pkcs8 = key.to_pkcs8_pem().map_err(serde::ser::Error::custom)?;
        let stored = Stored {
            alg: key.algorithm(),
            kid: key.kid().map(str::to_owned),
            pkcs8,
        };
        s.serialize_some(&stored)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Box<SigningKey>>, D::Error> {
        let Some(stored) = Option::<Stored>::deserialize(d)? else {
            return Ok(None);
        };
        let key = SigningKey::from_pkcs8_pem(stored.pkcs8.expose_secret(), stored.alg)
            .map_err(|_| serde::de::Error::custom("dpop_key: not a usable PKCS#8 private key"))?;
        Ok(Some(Box::new(match stored.kid {
            Some(kid) => key.with_kid(kid),
            None => key,
        })))
    }
}

/// `Option<SystemTime>` as whole seconds since the Unix epoch.
mod unix_seconds {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        t: &Option<SystemTime>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match t.and_then(|t| t.duration_since(UNIX_EPOCH).ok()) {
            Some(d) => s.serialize_some(&d.as_secs()),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<SystemTime>, D::Error> {
        let secs: Option<u64> = Option::deserialize(d)?;
        Ok(secs.and_then(|s| UNIX_EPOCH.checked_add(Duration::from_secs(s))))
    }
}

impl TokenSet {
    /// A token set with just an access token and its type (for tests and custom storage).
    #[must_use]
    pub fn new(access_token: AccessToken, token_type: TokenType) -> Self {
        Self {
            access_token,
            token_type,
            expires_in: None,
            expires_at: None,
            refresh_token: None,
            scope: None,
            extra: Map::new(),
            #[cfg(feature = "oidc")]
            id_token_claims: None,
            #[cfg(feature = "oidc")]
            dpop_key: None,
            certificate_binding: None,
        }
    }

    /// Binds the access token to a client certificate (RFC 8705 §3), or unbinds it: a token
    /// manager sends it only over a transport presenting that certificate. Token sets read
    /// from a response that came over a client certificate are bound to it already (see
    /// [`crate::mtls`]).
    #[must_use]
    pub fn with_certificate_binding(
        mut self,
        thumbprint: Option<crate::mtls::CertificateThumbprint>,
    ) -> Self {
        self.certificate_binding = thumbprint.map(Box::new);
        self
    }

    /// The thumbprint of the client certificate this access token is bound to: the one the
    /// token response came over (mutual TLS), or `None` when it came without one. A token
    /// response does not say whether the server bound the token, so a token obtained over a
    /// certificate is taken to be bound to it (see [`crate::mtls`]).
    #[must_use]
    pub fn certificate_binding(&self) -> Option<&crate::mtls::CertificateThumbprint> {
        self.certificate_binding.as_deref()
    }

    /// Sets the absolute expiry.
    #[must_use]
    pub fn with_expires_at(mut self, expires_at: Option<SystemTime>) -> Self {
        self.expires_at = expires_at;
        self
    }

    /// Sets the refresh token.
    #[must_use]
    pub fn with_refresh_token(mut self, refresh_token: Option<RefreshToken>) -> Self {
        self.refresh_token = refresh_token;
        self
    }

    /// The DPoP key these tokens are bound to ([RFC 9449](https://www.rfc-editor.org/rfc/rfc9449)),
    /// when they were obtained with DPoP on. It is kept, and stored, with them: a DPoP-bound
    /// refresh token is useless without it, so a token manager whose store holds tokens
    /// bound to another key [adopts](crate::Dpop::adopt) that key.
    #[cfg(feature = "oidc")]
    #[must_use]
    pub fn dpop_key(&self) -> Option<&crate::jose::SigningKey> {
        self.dpop_key.as_deref()
    }

    /// Sets the DPoP key these tokens are bound to (see [`dpop_key`](Self::dpop_key)).
    #[cfg(feature = "oidc")]
    #[must_use]
    pub fn with_dpop_key(mut self, key: Option<crate::jose::SigningKey>) -> Self {
        self.dpop_key = key.map(Box::new);
        self
    }

    /// The access token.
    #[must_use]
    pub fn access_token(&self) -> &AccessToken {
        &self.access_token
    }

    /// The token type.
    #[must_use]
    pub fn token_type(&self) -> &TokenType {
        &self.token_type
    }

    /// The lifetime the server announced (`expires_in`), in seconds.
    #[must_use]
    pub fn expires_in(&self) -> Option<u64> {
        self.expires_in
    }

    /// When the access token expires: `None` when the server did not say (use it until a
    /// resource server answers 401).
    #[must_use]
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.expires_at
    }

    /// The refresh token, if any.
    #[must_use]
    pub fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }

    /// The granted scope as sent (space-separated), if the server said.
    #[must_use]
    pub fn scope(&self) -> Option<&str> {
        self.scope.as_deref()
    }

    /// The granted scopes one by one.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope
            .as_deref()
            .unwrap_or("")
            .split(' ')
            .filter(|s| !s.is_empty())
    }

    /// Every other member of the response (`id_token`, provider-specific fields).
    #[must_use]
    pub fn extra(&self) -> &Map<String, Value> {
        &self.extra
    }

    /// The `issued_token_type` of a token exchange answer (RFC 8693 §2.2.1).
    #[must_use]
    pub fn issued_token_type(&self) -> Option<&str> {
        self.extra.get("issued_token_type").and_then(Value::as_str)
    }

    /// The `id_token`, if the response had one (OpenID Connect), as sent. When the client
    /// validates ID tokens its claims are in [`id_token_claims`](Self::id_token_claims).
    #[must_use]
    pub fn id_token(&self) -> Option<&str> {
        self.extra.get("id_token").and_then(Value::as_str)
    }

    /// The claims of the `id_token`, when the client validated it (see
    /// [`Client::validates_id_tokens`](crate::Client::validates_id_tokens)).
    #[cfg(feature = "oidc")]
    #[must_use]
    pub fn id_token_claims(&self) -> Option<&crate::id_token::IdTokenClaims> {
        self.id_token_claims.as_deref()
    }

    /// True when the access token expires within `skew` of `now`. Unknown expiry is never
    /// expired.
    #[must_use]
    pub fn expires_within(&self, now: SystemTime, skew: Duration) -> bool {
        match self.expires_at {
            Some(at) => now.checked_add(skew).is_none_or(|limit| limit >= at),
            None => false,
        }
    }

    /// True when the access token has expired at `now`.
    #[must_use]
    pub fn is_expired(&self, now: SystemTime) -> bool {
        self.expires_within(now, Duration::ZERO)
    }

    /// Keeps `previous` as the refresh token when this set has none (no rotation).
    pub(crate) fn keep_refresh_token(&mut self, previous: &RefreshToken) {
        if self.refresh_token.is_none() {
            self.refresh_token = Some(previous.clone());
        }
    }
}
