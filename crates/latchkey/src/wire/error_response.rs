//! Reading an OAuth error answer ([RFC 6749 §5.2](https://www.rfc-editor.org/rfc/rfc6749#section-5.2)):
//! the server's error object, or a short, redacted excerpt of whatever else came back.

use std::borrow::Cow;

use serde::Deserialize;

use crate::Error;
use crate::drive::http::Response;
use crate::error::{ErrorCode, ResponseError, ServerError};
use crate::redact::Escaped;
use crate::wire::json::{looks_like_json_object, optional_text};

impl ServerError {
    /// Parses an RFC 6749 §5.2 JSON error object. Returns `None` when `body` is not a JSON
    /// object with a string `error` member.
    #[must_use]
    pub fn from_json(status: Option<u16>, body: &[u8]) -> Option<Self> {
        // Only an object: derive would also read a JSON array as the members in order.
        if !looks_like_json_object(body) {
            return None;
        }
        let wire: ErrorWire<'_> = serde_json::from_slice(body).ok()?;
        Some(Self {
            code: ErrorCode::parse(&wire.error?),
            description: wire.error_description.map(|d| bounded(&d, MAX_DESCRIPTION)),
            uri: wire.error_uri.map(|u| bounded(&u, MAX_DESCRIPTION)),
            status,
        })
    }
}

/// An RFC 6749 §5.2 error object as sent, its strings borrowed from the body when they have no
/// escapes. Other members are skipped; a `null` member is absent; `error` is required (checked
/// by the caller); a repeated member is refused.
#[derive(Deserialize)]
struct ErrorWire<'a> {
    #[serde(default, borrow, deserialize_with = "optional_text")]
    error: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "optional_text")]
    error_description: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "optional_text")]
    error_uri: Option<Cow<'a, str>>,
}

/// Longest server-supplied description kept, in characters.
pub(crate) const MAX_DESCRIPTION: usize = 512;
/// Longest body excerpt kept in a [`ResponseError`], in characters.
pub(crate) const MAX_EXCERPT: usize = 160;

/// Keeps at most `max` characters of `s`.
pub(crate) fn bounded(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_owned(),
    }
}

/// A short, printable excerpt of a body: credentials in a JSON body replaced by structure
/// (the members [`redact`](crate::redact) names), then every spelling of the request's
/// `secrets` masked, then bounded and escaped ([`Escaped::quoted`](crate::redact::Escaped)),
/// ready to be shown between quotes.
pub(crate) fn excerpt(body: &[u8], secrets: &[&str]) -> String {
    let text = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(mut json) => {
            redact_json(&mut json, secrets);
            json.to_string()
        }
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    let masked = crate::redact::mask(&text, secrets);
    Escaped::quoted(&bounded(masked.trim(), MAX_EXCERPT)).to_string()
}

/// Replaces the values of credential members, wherever they appear, and masks `secrets` in
/// every other string (where a server's message quotes them).
fn redact_json(value: &mut serde_json::Value, secrets: &[&str]) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if crate::redact::is_secret_parameter(k) {
                    *v = serde_json::Value::String(crate::redact::REDACTED.into());
                } else {
                    redact_json(v, secrets);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| redact_json(v, secrets)),
        serde_json::Value::String(s) => *s = crate::redact::mask(s, secrets),
        _ => {}
    }
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
        content_type: response.content_type().map(|c| bounded(c, 100)),
        reason: reason.to_owned(),
        excerpt: excerpt(&response.body, secrets),
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_masks_secrets_and_bounds() {
        let body = format!("<html>code=abcdef1234 {}</html>", "x".repeat(1000));
        let e = excerpt(body.as_bytes(), &["abcdef1234"]);
        assert!(!e.contains("abcdef1234"));
        assert!(e.contains("<redacted>"));
        assert!(e.chars().count() <= MAX_EXCERPT + 1);
    }
}
