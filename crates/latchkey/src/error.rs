//! Errors: one non-generic [`Error`] whose variants say who is at fault.
//!
//! No error ever carries a client secret, code, verifier or token in its `Debug` or `Display`
//! output. Text that came from the network (an `error_description`, an excerpt of an HTML page)
//! is kept short and has its control characters escaped when displayed.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use crate::redact::Escaped;
use crate::token::Text;

/// Every way a latchkey operation can fail.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The authorization server (or resource server) answered with an OAuth error
    /// ([RFC 6749 §4.1.2.1](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2.1),
    /// [§5.2](https://www.rfc-editor.org/rfc/rfc6749#section-5.2),
    /// [RFC 6750 §3.1](https://www.rfc-editor.org/rfc/rfc6750#section-3.1)).
    Server(ServerError),
    /// The redirect back to the client was unusable or did not belong to this flow.
    Callback(CallbackError),
    /// The server's HTTP response was not what the protocol allows.
    Response(ResponseError),
    /// The client was configured or used in a way that cannot work.
    Config(ConfigError),
    /// The request did not complete at the HTTP level (filled in by adapters).
    Transport(TransportError),
    /// The operating system's random number generator failed.
    Random,
    /// The tokens cannot be renewed without the user: run an authorization flow again (and
    /// hand the new token set to the token manager).
    Reauthorize(ReauthorizeError),
    /// A [`TokenStore`](crate::TokenStore) could not read or save the token set.
    Store(crate::store::StoreError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Server(e) => fmt::Display::fmt(e, f),
            Self::Callback(e) => fmt::Display::fmt(e, f),
            Self::Response(e) => fmt::Display::fmt(e, f),
            Self::Config(e) => fmt::Display::fmt(e, f),
            Self::Transport(e) => fmt::Display::fmt(e, f),
            Self::Random => f.write_str("the operating system's random number generator failed"),
            Self::Reauthorize(e) => fmt::Display::fmt(e, f),
            Self::Store(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl std::error::Error for Error {
    // The wrapping variants are transparent: they report the wrapped error's own source.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Server(e) => e.source(),
            Self::Callback(e) => e.source(),
            Self::Response(e) => e.source(),
            Self::Config(e) => e.source(),
            Self::Transport(e) => e.source(),
            Self::Random => None,
            Self::Reauthorize(e) => e.source(),
            Self::Store(e) => e.source(),
        }
    }
}

macro_rules! from_variant {
    ($($variant:ident($ty:ty)),* $(,)?) => {$(
        impl From<$ty> for Error {
            fn from(e: $ty) -> Self {
                Self::$variant(e)
            }
        }
    )*};
}

from_variant!(
    Server(ServerError),
    Callback(CallbackError),
    Response(ResponseError),
    Config(ConfigError),
    Transport(TransportError),
    Reauthorize(ReauthorizeError),
    Store(crate::store::StoreError),
);

impl Error {
    /// Returns the OAuth error code when the server sent one.
    #[must_use]
    pub fn server_code(&self) -> Option<&ErrorCode> {
        match self {
            Self::Server(e) => Some(&e.code),
            Self::Reauthorize(ReauthorizeError::InvalidGrant(e)) => Some(&e.code),
            _ => None,
        }
    }

    /// True when the server said the grant is no longer usable (`invalid_grant`): the user must
    /// authorize again.
    #[must_use]
    pub fn is_invalid_grant(&self) -> bool {
        matches!(self.server_code(), Some(ErrorCode::InvalidGrant))
    }

    /// True when a token manager cannot renew the tokens without the user
    /// ([`Error::Reauthorize`]): no tokens, no refresh token, or a refresh token the server
    /// refused with `invalid_grant`.
    #[must_use]
    pub fn is_reauthorization_required(&self) -> bool {
        matches!(self, Self::Reauthorize(_))
    }

    /// True when a resource server rejected the access token (`invalid_token`, RFC 6750 §3.1).
    #[must_use]
    pub fn is_invalid_token(&self) -> bool {
        matches!(self.server_code(), Some(ErrorCode::InvalidToken))
    }
}

/// An error code defined by OAuth 2.0 and its extensions, or any other code a server sends.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// `invalid_request`
    InvalidRequest,
    /// `invalid_client`
    InvalidClient,
    /// `invalid_grant`
    InvalidGrant,
    /// `unauthorized_client`
    UnauthorizedClient,
    /// `unsupported_grant_type`
    UnsupportedGrantType,
    /// `invalid_scope`
    InvalidScope,
    /// `access_denied`
    AccessDenied,
    /// `unsupported_response_type`
    UnsupportedResponseType,
    /// `server_error`
    ServerError,
    /// `temporarily_unavailable`
    TemporarilyUnavailable,
    /// `invalid_token` (RFC 6750 §3.1)
    InvalidToken,
    /// `insufficient_scope` (RFC 6750 §3.1)
    InsufficientScope,
    /// `authorization_pending` (RFC 8628 §3.5)
    AuthorizationPending,
    /// `slow_down` (RFC 8628 §3.5)
    SlowDown,
    /// `expired_token` (RFC 8628 §3.5)
    ExpiredToken,
    /// `invalid_target` (RFC 8707 §2)
    InvalidTarget,
    /// `unsupported_token_type` (RFC 7009 §2.2.1)
    UnsupportedTokenType,
    /// Any other code.
    Other(String),
}

impl ErrorCode {
    /// Parses a code as sent on the wire.
    #[must_use]
    pub fn parse(code: &str) -> Self {
        match code {
            "invalid_request" => Self::InvalidRequest,
            "invalid_client" => Self::InvalidClient,
            "invalid_grant" => Self::InvalidGrant,
            "unauthorized_client" => Self::UnauthorizedClient,
            "unsupported_grant_type" => Self::UnsupportedGrantType,
            "invalid_scope" => Self::InvalidScope,
            "access_denied" => Self::AccessDenied,
            "unsupported_response_type" => Self::UnsupportedResponseType,
            "server_error" => Self::ServerError,
            "temporarily_unavailable" => Self::TemporarilyUnavailable,
            "invalid_token" => Self::InvalidToken,
            "insufficient_scope" => Self::InsufficientScope,
            "authorization_pending" => Self::AuthorizationPending,
            "slow_down" => Self::SlowDown,
            "expired_token" => Self::ExpiredToken,
            "invalid_target" => Self::InvalidTarget,
            "unsupported_token_type" => Self::UnsupportedTokenType,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The code as sent on the wire.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
            Self::AuthorizationPending => "authorization_pending",
            Self::SlowDown => "slow_down",
            Self::ExpiredToken => "expired_token",
            Self::InvalidTarget => "invalid_target",
            Self::UnsupportedTokenType => "unsupported_token_type",
            Self::Other(other) => other,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", Escaped::new(self.as_str()))
    }
}

/// An OAuth error sent by a server: `error`, `error_description`, `error_uri`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerError {
    /// The `error` code.
    pub code: ErrorCode,
    /// The human-readable `error_description`, if any.
    pub description: Option<String>,
    /// The `error_uri`, if any.
    pub uri: Option<String>,
    /// The HTTP status of the answer; `None` when the error arrived on a redirect.
    pub status: Option<u16>,
}

impl ServerError {
    /// An error with just a code.
    #[must_use]
    pub fn new(code: ErrorCode) -> Self {
        Self {
            code,
            description: None,
            uri: None,
            status: None,
        }
    }

    /// Parses an RFC 6749 §5.2 JSON error object. Returns `None` when `body` is not a JSON
    /// object with a string `error` member.
    #[must_use]
    pub fn from_json(status: Option<u16>, body: &[u8]) -> Option<Self> {
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
/// escapes. Other members are skipped; `error` is required (checked by the caller), and a
/// repeated member is an error, as with serde's derive.
#[derive(Default)]
struct ErrorWire<'a> {
    error: Option<Cow<'a, str>>,
    error_description: Option<Cow<'a, str>>,
    error_uri: Option<Cow<'a, str>>,
}

impl<'de> serde::Deserialize<'de> for ErrorWire<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = ErrorWire<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an OAuth error object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<ErrorWire<'de>, A::Error> {
                let mut wire = ErrorWire::default();
                let mut seen = [false; 3];
                while let Some(Text(key)) = map.next_key::<Text<'de>>()? {
                    let (slot, i, name) = match &*key {
                        "error" => (&mut wire.error, 0, "error"),
                        "error_description" => {
                            (&mut wire.error_description, 1, "error_description")
                        }
                        "error_uri" => (&mut wire.error_uri, 2, "error_uri"),
                        _ => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                            continue;
                        }
                    };
                    if std::mem::replace(&mut seen[i], true) {
                        return Err(serde::de::Error::duplicate_field(name));
                    }
                    *slot = map.next_value::<Option<Text<'de>>>()?.map(|t| t.0);
                }
                Ok(wire)
            }
        }
        d.deserialize_map(V)
    }
}

impl std::error::Error for ServerError {}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "server error {}", self.code)?;
        if let Some(description) = &self.description {
            write!(f, ": {}", Escaped::new(description))?;
        }
        if let Some(status) = self.status {
            write!(f, " (HTTP {status})")?;
        }
        Ok(())
    }
}

/// Why the tokens cannot be renewed without the user (see [`Error::Reauthorize`]).
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReauthorizeError {
    /// There are no tokens yet.
    NoTokens,
    /// The access token has expired (or was rejected) and there is no refresh token.
    NoRefreshToken,
    /// The server refused the refresh token (`invalid_grant`: expired, revoked, or already
    /// rotated).
    InvalidGrant(ServerError),
}

impl fmt::Display for ReauthorizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoTokens => f.write_str("re-authorization required: there is no token set yet"),
            Self::NoRefreshToken => f.write_str(
                "re-authorization required: the access token is no longer usable and there is no refresh token",
            ),
            Self::InvalidGrant(e) => {
                write!(f, "re-authorization required: the refresh token was refused ({e})")
            }
        }
    }
}

impl std::error::Error for ReauthorizeError {}

/// Why a redirect back to the client (the callback) was refused.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallbackError {
    /// The callback carried no `state`, so it cannot be tied to this flow (CSRF defence).
    MissingState,
    /// The callback's `state` is not the one this flow sent (CSRF defence).
    StateMismatch,
    /// A successful authorization code callback without a `code`.
    MissingCode,
    /// An implicit-flow callback without an `access_token`.
    MissingAccessToken,
    /// The server requires the `iss` parameter (RFC 9207) and the callback has none.
    MissingIssuer,
    /// The callback's `iss` is not the expected issuer (mix-up attack, RFC 9207).
    IssuerMismatch,
    /// A parameter appears more than once (RFC 6749 §3.1).
    DuplicateParameter(String),
    /// The callback could not be decoded.
    Malformed(String),
}

impl fmt::Display for CallbackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingState => f.write_str("callback has no state parameter"),
            Self::StateMismatch => f.write_str(
                "callback state does not match the state sent with the authorization request",
            ),
            Self::MissingCode => f.write_str("callback has no code parameter"),
            Self::MissingAccessToken => f.write_str("callback has no access_token parameter"),
            Self::MissingIssuer => f.write_str(
                "callback has no iss parameter although the server promises one (RFC 9207)",
            ),
            Self::IssuerMismatch => {
                f.write_str("callback iss does not match the expected issuer (RFC 9207)")
            }
            Self::DuplicateParameter(name) => {
                write!(
                    f,
                    "callback parameter {} appears more than once",
                    Escaped::new(name)
                )
            }
            Self::Malformed(reason) => write!(f, "malformed callback: {}", Escaped::new(reason)),
        }
    }
}

impl std::error::Error for CallbackError {}

/// Why an HTTP response was refused.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResponseError {
    /// The body is not the JSON the protocol calls for (for example an HTML error page).
    Unexpected {
        /// The HTTP status.
        status: u16,
        /// The `Content-Type` header, if any.
        content_type: Option<String>,
        /// What was wrong.
        reason: String,
        /// The first characters of the body, with credentials and every spelling of any secret
        /// the request carried replaced by `<redacted>`, escaped for showing between quotes
        /// ([`Escaped::quoted`](crate::redact::Escaped::quoted)).
        excerpt: String,
    },
    /// A required member is missing.
    MissingField(&'static str),
    /// A member has a value the protocol does not allow.
    InvalidField {
        /// The member's name.
        field: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// The token type is one this client cannot use (RFC 6749 §7.1), e.g. `mac`.
    UnsupportedTokenType(String),
}

impl fmt::Display for ResponseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unexpected {
                status,
                content_type,
                reason,
                excerpt,
            } => write!(
                f,
                "unexpected response (HTTP {status}, content type {}): {reason}; body starts \"{excerpt}\"",
                content_type.as_deref().unwrap_or("none")
            ),
            Self::MissingField(field) => write!(f, "response has no {field}"),
            Self::InvalidField { field, reason } => {
                write!(
                    f,
                    "response member {field} is invalid: {}",
                    Escaped::new(reason)
                )
            }
            Self::UnsupportedTokenType(token_type) => {
                write!(
                    f,
                    "unsupported token type \"{}\"",
                    Escaped::quoted(token_type)
                )
            }
        }
    }
}

impl std::error::Error for ResponseError {}

/// Why a client configuration or a flow's input was refused.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// A flow needs an endpoint the client does not have.
    MissingEndpoint(&'static str),
    /// A URL did not parse or is not usable.
    InvalidUrl {
        /// Which URL.
        which: &'static str,
        /// Why.
        reason: String,
    },
    /// The client authentication method needs a client secret and none was given.
    MissingClientSecret(&'static str),
    /// A flow needs a redirect URI and none was configured.
    MissingRedirectUri,
    /// A flow that needs a confidential client was used with a public client.
    PublicClient(&'static str),
    /// A PKCE verifier does not meet RFC 7636 §4.1.
    InvalidPkceVerifier(&'static str),
    /// A token manager was asked to send its access token to an origin it was not configured
    /// for; nothing was sent.
    ForeignOrigin(String),
    /// A parameter was refused.
    InvalidParameter {
        /// The parameter's name.
        name: String,
        /// Why.
        reason: &'static str,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingEndpoint(which) => write!(f, "the client has no {which} endpoint"),
            Self::InvalidUrl { which, reason } => write!(f, "invalid {which} URL: {reason}"),
            Self::MissingClientSecret(method) => {
                write!(f, "client authentication {method} needs a client secret")
            }
            Self::MissingRedirectUri => f.write_str("no redirect URI configured"),
            Self::PublicClient(flow) => {
                write!(
                    f,
                    "{flow} needs client authentication, and this client is public"
                )
            }
            Self::InvalidPkceVerifier(reason) => write!(f, "invalid PKCE verifier: {reason}"),
            Self::ForeignOrigin(origin) => write!(
                f,
                "the access token is only sent to the configured origins, not to {origin}"
            ),
            Self::InvalidParameter { name, reason } => {
                write!(f, "invalid parameter {}: {reason}", Escaped::new(name))
            }
        }
    }
}

impl std::error::Error for ConfigError {}

/// What kind of transport failure happened.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportErrorKind {
    /// The connection could not be established (nothing reached the server).
    Connect,
    /// A connect or overall timeout expired.
    Timeout,
    /// The server answered with a redirect, which is never followed on OAuth endpoints.
    Redirect {
        /// The 3xx status.
        status: u16,
    },
    /// The response body exceeded the size cap.
    TooLarge {
        /// The cap in bytes.
        limit: u64,
    },
    /// A plain `http://` URL to a non-loopback host was refused.
    InsecureUrl,
    /// Any other I/O or protocol failure after the request may have reached the server.
    Other,
}

/// A failure below OAuth: connecting, timing out, a refused redirect, an oversized body.
///
/// Adapters create these; the core never does.
#[derive(Clone)]
pub struct TransportError {
    kind: TransportErrorKind,
    message: String,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl TransportError {
    /// A transport error with a message (which must not contain secrets).
    pub fn new(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// A redirect an adapter refused to follow: `from` (a [`host_port`](crate::Url::host_port))
    /// redirected with `status` to `location`. The message names where the redirect points but
    /// not its path or query, which may carry secrets.
    #[must_use]
    pub fn redirect(status: u16, from: &str, location: Option<&str>) -> Self {
        let target = location
            .and_then(|l| crate::Url::parse(l).ok())
            .and_then(|u| {
                let host = u.host_str()?;
                Some(match u.port() {
                    Some(port) => format!("{host}:{port}"),
                    None => host.to_owned(),
                })
            });
        let message = match target {
            Some(target) => format!("{from} redirected to {target}; not followed"),
            None => format!("{from} redirected; not followed"),
        };
        Self::new(TransportErrorKind::Redirect { status }, message)
    }

    /// Attaches the underlying error.
    #[must_use]
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// The kind of failure.
    #[must_use]
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// The message.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl PartialEq for TransportError {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.message == other.message
    }
}

impl Eq for TransportError {}

impl fmt::Debug for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportError")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            TransportErrorKind::Connect => write!(f, "could not connect: {}", self.message),
            TransportErrorKind::Timeout => write!(f, "timed out: {}", self.message),
            TransportErrorKind::Redirect { status } => write!(
                f,
                "refused to follow a redirect (HTTP {status}) from an OAuth endpoint: {}",
                self.message
            ),
            TransportErrorKind::TooLarge { limit } => {
                write!(
                    f,
                    "response body larger than {limit} bytes: {}",
                    self.message
                )
            }
            TransportErrorKind::InsecureUrl => write!(f, "insecure URL refused: {}", self.message),
            TransportErrorKind::Other => write!(f, "transport error: {}", self.message),
        }
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_names_the_target_host_never_its_path() {
        let e = TransportError::redirect(
            302,
            "as.example:443",
            Some("https://evil.example:8443/p?code=SECRET"),
        );
        assert_eq!(e.kind(), TransportErrorKind::Redirect { status: 302 });
        assert_eq!(
            e.message(),
            "as.example:443 redirected to evil.example:8443; not followed"
        );
        let e = TransportError::redirect(307, "as.example:443", Some("/relative?code=SECRET"));
        assert_eq!(e.message(), "as.example:443 redirected; not followed");
    }

    #[test]
    fn server_error_from_json() {
        let e = ServerError::from_json(
            Some(400),
            br#"{"error":"invalid_grant","error_description":"code\nexpired"}"#,
        )
        .unwrap();
        assert_eq!(e.code, ErrorCode::InvalidGrant);
        assert_eq!(
            e.to_string(),
            "server error invalid_grant: code\\nexpired (HTTP 400)"
        );
        assert!(ServerError::from_json(None, b"<html>").is_none());
        assert!(ServerError::from_json(None, br#"{"error":5}"#).is_none());
    }

    #[test]
    fn excerpt_masks_secrets_and_bounds() {
        let body = format!("<html>code=abcdef1234 {}</html>", "x".repeat(1000));
        let e = excerpt(body.as_bytes(), &["abcdef1234"]);
        assert!(!e.contains("abcdef1234"));
        assert!(e.contains("<redacted>"));
        assert!(e.chars().count() <= MAX_EXCERPT + 1);
    }

    #[test]
    fn codes_round_trip() {
        for code in ["invalid_request", "slow_down", "custom_thing"] {
            assert_eq!(ErrorCode::parse(code).as_str(), code);
        }
    }

    #[test]
    fn messages_and_sources() {
        use std::error::Error as _;
        let e = Error::from(ResponseError::Unexpected {
            status: 502,
            content_type: None,
            reason: "not JSON".into(),
            excerpt: "<html>\\\"".into(),
        });
        assert_eq!(
            e.to_string(),
            r#"unexpected response (HTTP 502, content type none): not JSON; body starts "<html>\"""#
        );
        let e = Error::from(ReauthorizeError::InvalidGrant(ServerError::new(
            ErrorCode::InvalidGrant,
        )));
        assert_eq!(
            e.to_string(),
            "re-authorization required: the refresh token was refused (server error invalid_grant)"
        );
        assert!(e.source().is_none());
        // Transparent variants report the wrapped error's source, not the wrapped error.
        let transport =
            TransportError::new(TransportErrorKind::Timeout, "read").with_source(fmt::Error);
        let e = Error::from(transport);
        assert_eq!(e.to_string(), "timed out: read");
        assert_eq!(e.source().unwrap().to_string(), fmt::Error.to_string());
        assert_eq!(
            Error::from(ConfigError::InvalidParameter {
                name: "scope".into(),
                reason: "empty",
            })
            .to_string(),
            "invalid parameter scope: empty"
        );
    }
}
