//! Reading a token endpoint answer ([RFC 6749 §5.1](https://www.rfc-editor.org/rfc/rfc6749#section-5.1))
//! into a [`TokenSet`]: tolerant where real providers deviate, strict where safety needs it.

use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use serde_json::{Map, Value};

use crate::Error;
use crate::client::dialect::Dialect;
use crate::drive::http::Response;
use crate::error::{ResponseError, ServerError};
use crate::secret::{AccessToken, RefreshToken};
use crate::token::{TokenSet, TokenType};
use crate::wire::error_response::unexpected;
use crate::wire::json::{Text, looks_like_json_object, optional_text};

impl TokenSet {
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
        let mut tokens =
            raw.into_token_set(dialect, response.received_at, Some(response.status))?;
        tokens.certificate_binding = response.client_certificate.map(Box::new);
        Ok(tokens)
    }
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
                description: self.error_description.map(|d| {
                    crate::wire::error_response::bounded(
                        &d,
                        crate::wire::error_response::MAX_DESCRIPTION,
                    )
                }),
                uri: self.error_uri.map(|u| {
                    crate::wire::error_response::bounded(
                        &u,
                        crate::wire::error_response::MAX_DESCRIPTION,
                    )
                }),
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
                return Err(ResponseError::UnsupportedTokenType(
                    crate::wire::error_response::bounded(other, 40),
                )
                .into());
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
            #[cfg(feature = "oidc")]
            id_token_claims: None,
            #[cfg(feature = "oidc")]
            dpop_key: None,
            certificate_binding: None,
        })
    }
}

#[cfg(test)]
mod tests;
