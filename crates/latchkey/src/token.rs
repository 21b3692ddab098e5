//! Token responses ([RFC 6749 §5.1](https://www.rfc-editor.org/rfc/rfc6749#section-5.1)) and
//! the [`TokenSet`] they become.
//!
//! Tolerant where real providers deviate (`token_type` in any case, `expires_in` as a number or
//! a string, no `expires_in`, Doorkeeper's `created_at`, `scope` as a list) and strict where
//! safety needs it (an error object with HTTP 200 is an error, an unknown token type is refused,
//! an HTML page is never "a missing access_token").

use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Error;
use crate::dialect::Dialect;
use crate::error::{ResponseError, ServerError, excerpt};
use crate::http::Response;
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
    access_token: AccessToken,
    token_type: TokenType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_in: Option<u64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "unix_seconds"
    )]
    expires_at: Option<SystemTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<RefreshToken>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    extra: Map<String, Value>,
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
        }
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

    /// The `id_token`, if the response had one (OpenID Connect). Not validated here.
    #[must_use]
    pub fn id_token(&self) -> Option<&str> {
        self.extra.get("id_token").and_then(Value::as_str)
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

    /// Parses a token endpoint response.
    ///
    /// `secrets` are masked if they appear in an error excerpt.
    ///
    /// # Errors
    ///
    /// [`Error::Server`] for an OAuth error object (with any status, 200 included),
    /// [`Error::Response`] for anything that is not a usable token response.
    pub fn from_response(
        response: &Response,
        dialect: &Dialect,
        secrets: &[&str],
    ) -> Result<Self, Error> {
        if !response.is_success() {
            if let Some(error) = ServerError::from_json(Some(response.status), &response.body) {
                return Err(error.into());
            }
            return Err(unexpected(response, "not an OAuth error object", secrets));
        }
        let raw = match RawToken::read_json(&response.body) {
            Ok(raw) => raw,
            Err(e) => {
                let reason = if looks_like_json_object(&response.body) {
                    format!("invalid token response: {e}")
                } else {
                    "not a JSON object".to_owned()
                };
                return Err(unexpected(response, &reason, secrets));
            }
        };
        raw.into_token_set(dialect, response.received_at, Some(response.status))
    }
}

/// True when the first non-whitespace byte of `body` opens a JSON object.
pub(crate) fn looks_like_json_object(body: &[u8]) -> bool {
    body.iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'{')
}

/// The error for a non-2xx answer: the server's OAuth error object when it sent one, else an
/// unexpected-response error with a bounded, redacted excerpt.
pub(crate) fn error_response(response: &Response, secrets: &[&str]) -> Error {
    match ServerError::from_json(Some(response.status), &response.body) {
        Some(error) => error.into(),
        None => unexpected(response, "not an OAuth error object", secrets),
    }
}

pub(crate) fn unexpected(response: &Response, reason: &str, secrets: &[&str]) -> Error {
    ResponseError::Unexpected {
        status: response.status,
        content_type: response
            .content_type()
            .map(|c| crate::error::bounded(c, 100)),
        reason: reason.to_owned(),
        excerpt: excerpt(&response.body, secrets),
    }
    .into()
}

/// A number of seconds as a JSON number or a string of digits.
///
/// Its `Deserialize` is written out because it never fails on a wrong type: anything that is
/// not a non-negative number becomes `Invalid`, which the caller reports as a typed
/// [`ResponseError::InvalidField`] naming the member (derive can only refuse the whole body).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Seconds {
    Valid(u64),
    Invalid,
}

impl Seconds {
    pub(crate) fn parse_str(s: &str) -> Self {
        match s.trim().parse::<u64>() {
            Ok(n) => Self::Valid(n),
            Err(_) => match s.trim().parse::<f64>() {
                Ok(f) if (0.0..1e15).contains(&f) => Self::Valid(f as u64),
                _ => Self::Invalid,
            },
        }
    }
}

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Seconds;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number of seconds")
            }
            fn visit_u64<E>(self, v: u64) -> Result<Seconds, E> {
                Ok(Seconds::Valid(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Seconds, E> {
                Ok(u64::try_from(v).map_or(Seconds::Invalid, Seconds::Valid))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Seconds, E> {
                Ok(if (0.0..1e15).contains(&v) {
                    Seconds::Valid(v as u64)
                } else {
                    Seconds::Invalid
                })
            }
            fn visit_str<E>(self, v: &str) -> Result<Seconds, E> {
                Ok(Seconds::parse_str(v))
            }
            fn visit_unit<E>(self) -> Result<Seconds, E> {
                Ok(Seconds::Invalid)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Seconds, E> {
                Ok(Seconds::Invalid)
            }
        }
        d.deserialize_any(V)
    }
}

/// A string borrowed from the input when it has no escapes.
#[derive(Deserialize)]
pub(crate) struct Text<'a>(#[serde(borrow)] pub(crate) Cow<'a, str>);

/// `deserialize_with` for a string member that is absent when `null`, borrowed from the input
/// when it has no escapes (`#[serde(borrow)]` does not reach into an `Option`).
pub(crate) fn optional_text<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Cow<'de, str>>, D::Error> {
    Ok(Option::<Text<'de>>::deserialize(d)?.map(|t| t.0))
}

/// `deserialize_with` for a string member that must be a string when present (`null` is
/// refused), borrowed from the input when it has no escapes.
fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    Text::deserialize(d).map(|t| Some(t.0))
}

/// `deserialize_with` for a member whose `null` is a value of `T` rather than an absence (for
/// [`Seconds`], an invalid one).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// `deserialize_with` for `scope`: a space-separated string or (leniently) a list of strings,
/// joined with spaces; absent when `null`.
fn scope<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a scope string or a list of scopes")
        }
        fn visit_none<E>(self) -> Result<Option<String>, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Option<String>, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<String>, D::Error> {
            d.deserialize_any(self)
        }
        fn visit_str<E>(self, v: &str) -> Result<Option<String>, E> {
            Ok(Some(v.to_owned()))
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Option<String>, A::Error> {
            let mut out = String::new();
            while let Some(Text(s)) = seq.next_element::<Text<'de>>()? {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(&s);
            }
            Ok(Some(out))
        }
    }
    d.deserialize_option(V)
}

/// A token response as read off the wire, before the dialect's rules apply.
///
/// Strings are borrowed from the body when they have no escapes. A repeated member is
/// refused. `null` is not an absence for `access_token`, `token_type` and `error` (refused: not
/// a string) nor for `expires_in` and `created_at` (not a number of seconds); for the other
/// members it is.
#[derive(Default, Deserialize)]
pub(crate) struct RawToken<'a> {
    #[serde(default, borrow, deserialize_with = "text")]
    pub(crate) access_token: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "text")]
    pub(crate) token_type: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) expires_in: Option<Seconds>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) created_at: Option<Seconds>,
    #[serde(default, borrow, deserialize_with = "optional_text")]
    pub(crate) refresh_token: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "scope")]
    pub(crate) scope: Option<String>,
    #[serde(default, borrow, deserialize_with = "text")]
    pub(crate) error: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "optional_text")]
    pub(crate) error_description: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "optional_text")]
    pub(crate) error_uri: Option<Cow<'a, str>>,
    #[serde(flatten)]
    pub(crate) extra: Map<String, Value>,
}

impl<'a> RawToken<'a> {
    /// Reads a token response body: the same parse and the same errors as
    /// `serde_json::from_slice`.
    ///
    /// A body that is valid UTF-8 (every usable one) is checked once, in bulk, and then read as
    /// a `str`, so serde_json does not validate each string again on its own; any other body
    /// is read as bytes, which gives serde_json's usual error.
    pub(crate) fn read_json(body: &'a [u8]) -> Result<Self, serde_json::Error> {
        match std::str::from_utf8(body) {
            Ok(text) => serde_json::from_str(text),
            Err(_) => serde_json::from_slice(body),
        }
    }
}

impl RawToken<'_> {
    /// Applies the dialect's rules. `issued_at` is when the response arrived.
    pub(crate) fn into_token_set(
        self,
        dialect: &Dialect,
        received_at: SystemTime,
        status: Option<u16>,
    ) -> Result<TokenSet, Error> {
        if let Some(code) = self.error {
            return Err(ServerError {
                code: crate::ErrorCode::parse(&code),
                description: self
                    .error_description
                    .map(|d| crate::error::bounded(&d, crate::error::MAX_DESCRIPTION)),
                uri: self
                    .error_uri
                    .map(|u| crate::error::bounded(&u, crate::error::MAX_DESCRIPTION)),
                status,
            }
            .into());
        }
        let access_token = match self.access_token {
            Some(t) if !t.is_empty() => t,
            Some(_) => {
                return Err(ResponseError::InvalidField {
                    field: "access_token",
                    reason: "empty".into(),
                }
                .into());
            }
            None => return Err(ResponseError::MissingField("access_token").into()),
        };
        let token_type = match self.token_type {
            Some(t) => TokenType::parse(&t),
            None if dialect.missing_token_type_is_bearer => TokenType::Bearer,
            None => return Err(ResponseError::MissingField("token_type").into()),
        };
        if let TokenType::Other(other) = &token_type {
            if !dialect.accept_any_token_type {
                return Err(
                    ResponseError::UnsupportedTokenType(crate::error::bounded(other, 40)).into(),
                );
            }
        }
        let seconds = |s: Option<Seconds>, field: &'static str| -> Result<Option<u64>, Error> {
            match s {
                None => Ok(None),
                Some(Seconds::Valid(n)) => Ok(Some(n)),
                Some(Seconds::Invalid) => Err(ResponseError::InvalidField {
                    field,
                    reason: "not a non-negative number of seconds".into(),
                }
                .into()),
            }
        };
        let expires_in = seconds(self.expires_in, "expires_in")?;
        let created_at = seconds(self.created_at, "created_at")?;
        let expires_at = match expires_in {
            None => None,
            Some(lifetime) => {
                let issued = match created_at {
                    Some(at) => UNIX_EPOCH.checked_add(Duration::from_secs(at)),
                    None => Some(received_at),
                };
                let at = issued.and_then(|i| i.checked_add(Duration::from_secs(lifetime)));
                if at.is_none() {
                    return Err(ResponseError::InvalidField {
                        field: "expires_in",
                        reason: "out of range".into(),
                    }
                    .into());
                }
                at
            }
        };
        let mut extra = self.extra;
        if let Some(created_at) = created_at {
            extra.insert("created_at".into(), Value::from(created_at));
        }
        Ok(TokenSet {
            access_token: AccessToken::new(access_token.into_owned()),
            token_type,
            expires_in,
            expires_at,
            refresh_token: self
                .refresh_token
                .filter(|r| !r.is_empty())
                .map(|r| RefreshToken::new(r.into_owned())),
            scope: self.scope,
            extra,
        })
    }
}

#[cfg(test)]
mod tests;
