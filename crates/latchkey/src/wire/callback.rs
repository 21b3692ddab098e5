//! Parsing the redirect back to the client: the query of an authorization code callback
//! ([RFC 6749 §4.1.2](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2)) or the fragment
//! of an implicit-flow callback ([§4.2.2](https://www.rfc-editor.org/rfc/rfc6749#section-4.2.2)).
//!
//! The parsers accept a whole callback URL, or just its query (`?a=b` or `a=b`) or fragment
//! (`#a=b` or `a=b`). They never panic and never allocate for values without escapes.

use std::borrow::Cow;

use crate::error::{CallbackError, ErrorCode, ServerError};

/// The parameters of a callback, decoded. Unknown parameters are kept in `extra`.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallbackParams<'a> {
    /// `code`
    pub code: Option<Cow<'a, str>>,
    /// `state`
    pub state: Option<Cow<'a, str>>,
    /// `error`
    pub error: Option<Cow<'a, str>>,
    /// `error_description`
    pub error_description: Option<Cow<'a, str>>,
    /// `error_uri`
    pub error_uri: Option<Cow<'a, str>>,
    /// `iss` (RFC 9207)
    pub iss: Option<Cow<'a, str>>,
    /// `access_token` (implicit flow)
    pub access_token: Option<Cow<'a, str>>,
    /// `token_type` (implicit flow)
    pub token_type: Option<Cow<'a, str>>,
    /// `expires_in` (implicit flow)
    pub expires_in: Option<Cow<'a, str>>,
    /// `scope`
    pub scope: Option<Cow<'a, str>>,
    /// Every other parameter, in order.
    pub extra: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

impl core::fmt::Debug for CallbackParams<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let redact = |v: &Option<Cow<'_, str>>| v.as_ref().map(|_| "<redacted>");
        f.debug_struct("CallbackParams")
            .field("code", &redact(&self.code))
            .field("state", &redact(&self.state))
            .field("error", &self.error)
            .field("error_description", &self.error_description)
            .field("error_uri", &self.error_uri)
            .field("iss", &self.iss)
            .field("access_token", &redact(&self.access_token))
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .field(
                "extra",
                &self.extra.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl<'a> CallbackParams<'a> {
    /// Parses the query of a callback URL (authorization code flow).
    ///
    /// `input` may be a whole URL, `?query`, or a bare query string.
    ///
    /// # Errors
    ///
    /// [`CallbackError::Malformed`] for bad UTF-8 after percent-decoding, and
    /// [`CallbackError::DuplicateParameter`] when a known parameter repeats.
    pub fn from_query(input: &'a str) -> Result<Self, CallbackError> {
        let without_fragment = input.split_once('#').map_or(input, |(before, _)| before);
        let query = match without_fragment.split_once('?') {
            Some((_, query)) => query,
            None if looks_like_url(without_fragment) => "",
            None => without_fragment,
        };
        Self::parse_pairs(query)
    }

    /// Parses the fragment of a callback URL (implicit flow).
    ///
    /// `input` may be a whole URL, `#fragment`, or a bare fragment.
    ///
    /// # Errors
    ///
    /// As for [`from_query`](Self::from_query).
    pub fn from_fragment(input: &'a str) -> Result<Self, CallbackError> {
        let fragment = match input.split_once('#') {
            Some((_, fragment)) => fragment,
            None if looks_like_url(input) => "",
            None => input,
        };
        Self::parse_pairs(fragment)
    }

    /// Parses `application/x-www-form-urlencoded` pairs.
    ///
    /// # Errors
    ///
    /// As for [`from_query`](Self::from_query).
    pub fn parse_pairs(pairs: &'a str) -> Result<Self, CallbackError> {
        let mut params = Self::default();
        for pair in pairs.split('&') {
            if pair.is_empty() {
                continue;
            }
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = decode(name)?;
            let value = decode(value)?;
            let slot = match &*name {
                "code" => &mut params.code,
                "state" => &mut params.state,
                "error" => &mut params.error,
                "error_description" => &mut params.error_description,
                "error_uri" => &mut params.error_uri,
                "iss" => &mut params.iss,
                "access_token" => &mut params.access_token,
                "token_type" => &mut params.token_type,
                "expires_in" => &mut params.expires_in,
                "scope" => &mut params.scope,
                _ => {
                    params.extra.push((name, value));
                    continue;
                }
            };
            if slot.is_some() {
                return Err(CallbackError::DuplicateParameter(
                    crate::wire::error_response::bounded(&name, 40),
                ));
            }
            *slot = Some(value);
        }
        Ok(params)
    }

    /// The server's error, when the callback is an error response
    /// ([RFC 6749 §4.1.2.1](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2.1)): its
    /// `error`, `error_description` and `error_uri` (the last two bounded in length), with no
    /// HTTP status. `None` when there is no `error` parameter.
    ///
    /// This does not check `state`: a flow's `callback` checks it first.
    #[must_use]
    pub fn server_error(&self) -> Option<ServerError> {
        use crate::wire::error_response::{MAX_DESCRIPTION, bounded};
        let code = self.error.as_deref()?;
        let mut error = ServerError::new(ErrorCode::parse(code));
        error.description = self
            .error_description
            .as_deref()
            .map(|d| bounded(d, MAX_DESCRIPTION));
        error.uri = self
            .error_uri
            .as_deref()
            .map(|u| bounded(u, MAX_DESCRIPTION));
        Some(error)
    }

    /// Every known parameter that is present, as `(name, value)` pairs, then the extras.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        let known = [
            ("code", &self.code),
            ("state", &self.state),
            ("error", &self.error),
            ("error_description", &self.error_description),
            ("error_uri", &self.error_uri),
            ("iss", &self.iss),
            ("access_token", &self.access_token),
            ("token_type", &self.token_type),
            ("expires_in", &self.expires_in),
            ("scope", &self.scope),
        ];
        known
            .into_iter()
            .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
            .chain(self.extra.iter().map(|(k, v)| (&**k, &**v)))
    }
}

/// True when `s` has a scheme (`x:`) or is a path (`/x`), i.e. is a URL without a query.
fn looks_like_url(s: &str) -> bool {
    if s.starts_with('/') {
        return true;
    }
    match s.find(':') {
        Some(colon) => {
            let scheme = &s[..colon];
            !scheme.is_empty()
                && !s[..colon].contains(['=', '&'])
                && scheme
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        }
        None => false,
    }
}

/// Decodes one form-urlencoded component: `+` is a space, `%XX` a byte; a `%` not followed by
/// two hex digits stays literal (as in the WHATWG URL standard). The result must be UTF-8.
fn decode(s: &str) -> Result<Cow<'_, str>, CallbackError> {
    if !s.bytes().any(|b| b == b'%' || b == b'+') {
        return Ok(Cow::Borrowed(s));
    }
    let plus_as_space = s.replace('+', " ");
    percent_encoding::percent_decode_str(&plus_as_space)
        .decode_utf8()
        .map(|decoded| Cow::Owned(decoded.into_owned()))
        .map_err(|_| CallbackError::Malformed("parameter is not UTF-8 after decoding".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_servers_error_is_read_without_looking_at_state() {
        let long = "d".repeat(2000);
        let query =
            format!("error=access_denied&error_description={long}&error_uri=https%3A%2F%2Fe");
        let error = CallbackParams::from_query(&query)
            .unwrap()
            .server_error()
            .unwrap();
        assert_eq!(error.code, ErrorCode::AccessDenied);
        assert!(error.description.as_ref().unwrap().chars().count() < 600);
        assert_eq!(error.uri.as_deref(), Some("https://e"));
        assert_eq!(error.status, None);
        let ok = CallbackParams::from_query("code=c&state=s").unwrap();
        assert_eq!(ok.server_error(), None);
    }

    #[test]
    fn whole_url_query_or_bare() {
        for input in [
            "https://app.example/cb?code=abc&state=xyz",
            "https://app.example/cb?code=abc&state=xyz#frag=1",
            "?code=abc&state=xyz",
            "code=abc&state=xyz",
            "/cb?code=abc&state=xyz",
        ] {
            let p = CallbackParams::from_query(input).unwrap();
            assert_eq!(p.code.as_deref(), Some("abc"), "{input}");
            assert_eq!(p.state.as_deref(), Some("xyz"), "{input}");
        }
        let p = CallbackParams::from_query("https://app.example/cb").unwrap();
        assert_eq!(p, CallbackParams::default());
        let p = CallbackParams::from_query("com.example.app:/cb?code=1").unwrap();
        assert_eq!(p.code.as_deref(), Some("1"));
    }

    #[test]
    fn fragment() {
        let p = CallbackParams::from_fragment(
            "https://app/cb#access_token=AT&scope=read%3Aavatars+write%3Aavatars&expires_in=3600&token_type=Bearer&state=0xdeadbeef",
        )
        .unwrap();
        assert_eq!(p.access_token.as_deref(), Some("AT"));
        assert_eq!(p.scope.as_deref(), Some("read:avatars write:avatars"));
        assert_eq!(p.state.as_deref(), Some("0xdeadbeef"));
    }

    #[test]
    fn decoding_rules() {
        let p = CallbackParams::from_query("code=a%2Bb+c%zz%4&x=%C3%A9").unwrap();
        assert_eq!(p.code.as_deref(), Some("a+b c%zz%4"));
        assert_eq!(p.extra[0].1, "é");
        assert!(matches!(
            CallbackParams::from_query("code=%FF"),
            Err(CallbackError::Malformed(_))
        ));
        assert_eq!(
            CallbackParams::from_query("state=a&state=b"),
            Err(CallbackError::DuplicateParameter("state".into()))
        );
    }

    #[test]
    fn debug_redacts_code() {
        let p = CallbackParams::from_query("code=supersecret&state=s").unwrap();
        assert!(!format!("{p:?}").contains("supersecret"));
    }
}
