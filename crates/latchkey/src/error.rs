//! Errors: one non-generic [`Error`] whose variants say who is at fault.
//!
//! No error ever carries a client secret, code, verifier or token in its `Debug` or `Display`
//! output. Text that came from the network (an `error_description`, an excerpt of an HTML page)
//! is kept short and has its control characters escaped when displayed.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use crate::redact::Escaped;

/// Every way a latchkey operation can fail.
///
/// The wrapping variants are transparent: they display as the wrapped error and report its
/// own [`source`](std::error::Error::source), not the wrapped error itself.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The authorization server (or resource server) answered with an OAuth error
    /// ([RFC 6749 §4.1.2.1](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2.1),
    /// [§5.2](https://www.rfc-editor.org/rfc/rfc6749#section-5.2),
    /// [RFC 6750 §3.1](https://www.rfc-editor.org/rfc/rfc6750#section-3.1)).
    #[error(transparent)]
    Server(#[from] ServerError),
    /// The redirect back to the client was unusable or did not belong to this flow.
    #[error(transparent)]
    Callback(#[from] CallbackError),
    /// The server's HTTP response was not what the protocol allows.
    #[error(transparent)]
    Response(#[from] ResponseError),
    /// The client was configured or used in a way that cannot work.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The request did not complete at the HTTP level (filled in by adapters).
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator failed")]
    Random,
    /// The tokens cannot be renewed without the user: run an authorization flow again (and
    /// hand the new token set to the token manager).
    #[error(transparent)]
    Reauthorize(#[from] ReauthorizeError),
    /// A [`TokenStore`](crate::TokenStore) could not read or save the token set.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An ID token (or another JWS) failed a check: its form, its signature or one of its
    /// claims ([OpenID Connect Core §3.1.3.7](https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation)).
    #[error(transparent)]
    IdToken(#[from] IdTokenError),
}

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
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "server error {code}{}{}",
    IfSome(": ", .description.as_deref().map(Escaped::new), ""),
    IfSome(" (HTTP ", *.status, ")")
)]
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
}

/// Why the tokens cannot be renewed without the user (see [`Error::Reauthorize`]).
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReauthorizeError {
    /// There are no tokens yet.
    #[error("re-authorization required: there is no token set yet")]
    NoTokens,
    /// The access token has expired (or was rejected) and there is no refresh token.
    #[error(
        "re-authorization required: the access token is no longer usable and there is no refresh token"
    )]
    NoRefreshToken,
    /// The server refused the refresh token (`invalid_grant`: expired, revoked, or already
    /// rotated).
    #[error("re-authorization required: the refresh token was refused ({0})")]
    InvalidGrant(ServerError),
}

/// Why a redirect back to the client (the callback) was refused.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    /// The callback carried no `state`, so it cannot be tied to this flow (CSRF defence).
    #[error("callback has no state parameter")]
    MissingState,
    /// The callback's `state` is not the one this flow sent (CSRF defence).
    #[error("callback state does not match the state sent with the authorization request")]
    StateMismatch,
    /// A successful authorization code callback without a `code`.
    #[error("callback has no code parameter")]
    MissingCode,
    /// An implicit-flow callback without an `access_token`.
    #[error("callback has no access_token parameter")]
    MissingAccessToken,
    /// The server requires the `iss` parameter (RFC 9207) and the callback has none.
    #[error("callback has no iss parameter although the server promises one (RFC 9207)")]
    MissingIssuer,
    /// The callback's `iss` is not the expected issuer (mix-up attack, RFC 9207).
    #[error("callback iss does not match the expected issuer (RFC 9207)")]
    IssuerMismatch,
    /// A parameter appears more than once (RFC 6749 §3.1).
    #[error("callback parameter {} appears more than once", Escaped::new(.0))]
    DuplicateParameter(String),
    /// The callback could not be decoded.
    #[error("malformed callback: {}", Escaped::new(.0))]
    Malformed(String),
}

/// Why an HTTP response was refused.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    /// The body is not the JSON the protocol calls for (for example an HTML error page).
    #[error(
        "unexpected response (HTTP {status}, content type {}): {reason}; body starts \"{excerpt}\"",
        .content_type.as_deref().unwrap_or("none")
    )]
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
    #[error("response has no {0}")]
    MissingField(&'static str),
    /// A member has a value the protocol does not allow.
    #[error("response member {field} is invalid: {}", Escaped::new(.reason))]
    InvalidField {
        /// The member's name.
        field: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// The token type is one this client cannot use (RFC 6749 §7.1), e.g. `mac`.
    #[error("unsupported token type \"{}\"", Escaped::quoted(.0))]
    UnsupportedTokenType(String),
    /// DPoP was used and the server answered with a token of another type (`Bearer`): a
    /// downgrade, refused (RFC 9449 §5).
    #[error("DPoP was used and the server issued a token of another type (a downgrade)")]
    DpopDowngrade,
}

/// Why a client configuration or a flow's input was refused.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A flow needs an endpoint the client does not have.
    #[error("the client has no {0} endpoint")]
    MissingEndpoint(&'static str),
    /// A URL did not parse or is not usable.
    #[error("invalid {which} URL: {reason}")]
    InvalidUrl {
        /// Which URL.
        which: &'static str,
        /// Why.
        reason: String,
    },
    /// The client authentication method needs a client secret and none was given.
    #[error("client authentication {0} needs a client secret")]
    MissingClientSecret(&'static str),
    /// A flow needs a redirect URI and none was configured.
    #[error("no redirect URI configured")]
    MissingRedirectUri,
    /// A flow that needs a confidential client was used with a public client.
    #[error("{0} needs client authentication, and this client is public")]
    PublicClient(&'static str),
    /// A PKCE verifier does not meet RFC 7636 §4.1.
    #[error("invalid PKCE verifier: {0}")]
    InvalidPkceVerifier(&'static str),
    /// A token manager was asked to send its access token to an origin it was not configured
    /// for; nothing was sent.
    #[error("the access token is only sent to the configured origins, not to {0}")]
    ForeignOrigin(String),
    /// A signing key (DPoP, `private_key_jwt`) could not be made, read or used: why, never
    /// the key.
    #[error("signing key: {0}")]
    SigningKey(&'static str),
    /// A client certificate, its key or a CA file for mutual TLS could not be read: why,
    /// never the key.
    #[error("client certificate: {0}")]
    ClientCertificate(&'static str),
    /// The access token is bound to a client certificate (RFC 8705 §3) that the transport
    /// does not present; nothing was sent. See [`crate::mtls`].
    #[error("the access token is bound to client certificate {token} (RFC 8705), and the transport presents {}", .transport.map_or_else(|| "none".to_owned(), |t| format!("certificate {t}")))]
    CertificateBound {
        /// The thumbprint of the certificate the token is bound to.
        token: crate::mtls::CertificateThumbprint,
        /// The thumbprint of the certificate the transport presents, if any.
        transport: Option<crate::mtls::CertificateThumbprint>,
    },
    /// A parameter was refused.
    #[error("invalid parameter {}: {reason}", Escaped::new(.name))]
    InvalidParameter {
        /// The parameter's name.
        name: String,
        /// Why.
        reason: &'static str,
    },
}

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
#[derive(Clone, thiserror::Error)]
#[error("{}: {message}", Headline(*.kind))]
pub struct TransportError {
    kind: TransportErrorKind,
    message: String,
    source: Option<SharedSource>,
    reach: Reach,
}

/// How far a failed attempt got, which decides whether sending it again is safe or useful
/// (see [`TransportError::reached`]).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// The request certainly never reached the server: safe to send again, even a code.
    NotSent,
    /// The request may have reached the server: only an idempotent request is sent again.
    MaybeSent,
    /// Sending again cannot help (a redirect, an oversized body, a request that cannot be
    /// built, a refused URL).
    Final,
}

impl TransportError {
    /// A transport error with a message (which must not contain secrets).
    ///
    /// Whether the request may be sent again follows from the kind: after
    /// [`Connect`](TransportErrorKind::Connect) it certainly never reached the server; after
    /// [`Timeout`](TransportErrorKind::Timeout) or [`Other`](TransportErrorKind::Other) it may
    /// have; the other kinds are final. [`never_sent`](Self::never_sent) and
    /// [`final_failure`](Self::final_failure) say otherwise.
    pub fn new(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        let reach = match kind {
            TransportErrorKind::Connect => Reach::NotSent,
            TransportErrorKind::Timeout | TransportErrorKind::Other => Reach::MaybeSent,
            _ => Reach::Final,
        };
        Self {
            kind,
            message: message.into(),
            source: None,
            reach,
        }
    }

    /// Says how far the request got; [`new`](Self::new) guesses from the kind.
    #[must_use]
    pub fn reached(mut self, reach: Reach) -> Self {
        self.reach = reach;
        self
    }

    /// Marks the request as certainly never having reached the server (a DNS lookup or a
    /// connection that timed out): the send driver may then send even a code exchange again.
    #[must_use]
    pub fn never_sent(mut self) -> Self {
        self.reach = Reach::NotSent;
        self
    }

    /// Marks the failure as one that sending again cannot mend (the HTTP client could not
    /// build the request, say): the send driver gives up at once.
    #[must_use]
    pub fn final_failure(mut self) -> Self {
        self.reach = Reach::Final;
        self
    }

    /// True when the request may have reached the server before it failed.
    #[must_use]
    pub fn may_have_been_sent(&self) -> bool {
        self.reach != Reach::NotSent
    }

    /// True unless sending the request again cannot help.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        self.reach != Reach::Final
    }

    /// A redirect an adapter refused to follow: `from` (a [`host_port`](crate::host_port))
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

    /// The HTTP client could not build the request to `host` (an invalid header): final,
    /// and naming no header value, which may hold a secret.
    #[must_use]
    pub fn unbuildable(host: &str) -> Self {
        let message = format!("cannot build the request to {host}: invalid header");
        Self::new(TransportErrorKind::Other, message).final_failure()
    }

    /// A response body over the cap of `limit` bytes (never worth sending again).
    #[must_use]
    pub fn too_large(limit: u64, message: impl Into<String>) -> Self {
        Self::new(TransportErrorKind::TooLarge { limit }, message)
    }

    /// Attaches the underlying error, and adds its text and its sources' to the message
    /// (for HTTP clients whose errors say little without their sources).
    #[must_use]
    pub fn with_source_chain(
        mut self,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        let mut next: Option<&(dyn std::error::Error + 'static)> = Some(&source);
        while let Some(error) = next {
            let text = error.to_string();
            if !self.message.contains(&text) {
                self.message.push_str(": ");
                self.message.push_str(&text);
            }
            next = error.source();
        }
        self.with_source(source)
    }

    /// Attaches the underlying error.
    #[must_use]
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(SharedSource(Arc::new(source)));
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

/// What a [`TransportError`]'s message starts with, by kind.
struct Headline(TransportErrorKind);

impl fmt::Display for Headline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            TransportErrorKind::Connect => f.write_str("could not connect"),
            TransportErrorKind::Timeout => f.write_str("timed out"),
            TransportErrorKind::Redirect { status } => write!(
                f,
                "refused to follow a redirect (HTTP {status}) from an OAuth endpoint"
            ),
            TransportErrorKind::TooLarge { limit } => {
                write!(f, "response body larger than {limit} bytes")
            }
            TransportErrorKind::InsecureUrl => f.write_str("insecure URL refused"),
            TransportErrorKind::Other => f.write_str("transport error"),
        }
    }
}

/// The underlying error of a [`TransportError`] or [`StoreError`](crate::StoreError), shared so
/// that the error stays `Clone`.
///
/// It dereferences to the error itself, so the derived `source()` returns that error (which a
/// caller can downcast) rather than the `Arc` around it; `Arc<dyn Error>` is itself an `Error`
/// and would be returned as is.
#[derive(Clone)]
pub(crate) struct SharedSource(pub(crate) Arc<dyn std::error::Error + Send + Sync>);

impl Deref for SharedSource {
    type Target = dyn std::error::Error + Send + Sync + 'static;

    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

impl fmt::Display for SharedSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

/// Displays `before`, the value and `after` when there is a value, and nothing otherwise: the
/// optional parts of an error message.
pub(crate) struct IfSome<T>(
    pub(crate) &'static str,
    pub(crate) Option<T>,
    pub(crate) &'static str,
);

impl<T: fmt::Display> fmt::Display for IfSome<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.1 {
            Some(value) => write!(f, "{}{value}{}", self.0, self.2),
            None => Ok(()),
        }
    }
}
/// A [`TokenStore`](crate::TokenStore) failed: the token set could not be read or made durable.
///
/// Created by store implementations; its message must not contain a token.
#[derive(Clone, thiserror::Error)]
#[error("token store: {message}{}", IfSome(": ", .source.as_ref(), ""))]
pub struct StoreError {
    message: String,
    source: Option<SharedSource>,
    transient: bool,
}

impl StoreError {
    /// A store error with a message (which must not contain secrets).
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            source: None,
            transient: false,
        }
    }

    /// Marks the error as a passing one (the store could not be reached: a connection
    /// refused or dropped, a timeout) that the same call may not meet again in a moment. A
    /// token manager then saves fresh tokens again, with backoff, before it gives up (see
    /// [`Lifecycle::save_retry`](crate::Lifecycle::save_retry)); it never retries a store that
    /// refused on purpose (a lost lease, a bad value).
    #[must_use]
    pub fn transient(mut self) -> Self {
        self.transient = true;
        self
    }

    /// Whether the error is a passing one (see [`transient`](Self::transient)).
    #[must_use]
    pub fn is_transient(&self) -> bool {
        self.transient
    }

    /// Attaches the underlying error (for example an `io::Error`).
    #[must_use]
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(SharedSource(Arc::new(source)));
        self
    }

    /// The message.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl PartialEq for StoreError {
    fn eq(&self, other: &Self) -> bool {
        self.message == other.message
    }
}

impl Eq for StoreError {}

impl fmt::Debug for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreError")
            .field("message", &self.message)
            .field("transient", &self.transient)
            .finish_non_exhaustive()
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
        // The source is the adapter's error itself, so callers can downcast it.
        assert!(e.source().unwrap().downcast_ref::<fmt::Error>().is_some());
        assert!(
            Error::from(TransportError::new(TransportErrorKind::Other, "x"))
                .source()
                .is_none()
        );
        for (kind, message) in [
            (TransportErrorKind::Connect, "could not connect: m"),
            (
                TransportErrorKind::Redirect { status: 307 },
                "refused to follow a redirect (HTTP 307) from an OAuth endpoint: m",
            ),
            (
                TransportErrorKind::TooLarge { limit: 10 },
                "response body larger than 10 bytes: m",
            ),
            (TransportErrorKind::InsecureUrl, "insecure URL refused: m"),
            (TransportErrorKind::Other, "transport error: m"),
        ] {
            assert_eq!(TransportError::new(kind, "m").to_string(), message);
        }
        let e = ServerError {
            code: ErrorCode::Other("x\u{1b}".into()),
            description: Some("d\n".into()),
            uri: Some("u".into()),
            status: None,
        };
        assert_eq!(e.to_string(), "server error x\\u{1b}: d\\n");
        assert_eq!(
            Error::Random.to_string(),
            "the operating system's random number generator failed"
        );
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

/// Why an ID token (or another signed JWT, such as a signed userinfo answer) was refused. Each
/// variant names the check that failed; none carries the token or a secret.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdTokenError {
    /// The token is not a JWS in compact form: which part was wrong, and how.
    #[error("malformed JWS: {0}")]
    Malformed(&'static str),
    /// The token is longer than the parser reads.
    #[error("JWS longer than {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// `alg: none`: an unsigned token is never accepted.
    #[error("unsigned JWS (alg none) refused")]
    Unsigned,
    /// The `alg` is one latchkey does not implement.
    #[error("unsupported JWS algorithm \"{}\"", Escaped::quoted(.0))]
    UnsupportedAlgorithm(String),
    /// The `alg` is not among those the client allows.
    #[error("JWS algorithm {0} is not allowed for this client")]
    AlgorithmNotAllowed(&'static str),
    /// An HMAC `alg` (HS256/384/512) without the client's opt-in or without a client secret.
    #[error("HMAC algorithm {0} needs a client secret and the client's opt-in")]
    HmacNotAllowed(&'static str),
    /// The header has a `crit` member: latchkey understands no JWS extension (RFC 7515 §4.1.11).
    #[error("JWS header has a crit member")]
    CriticalHeader,
    /// No key in the key set fits the header's `kid` and `alg`.
    #[error("no key fits the JWS{}", IfSome(" (kid \"", .kid.as_deref().map(Escaped::quoted), "\")"))]
    UnknownKey {
        /// The header's `kid`, if any.
        kid: Option<String>,
    },
    /// Several keys fit the header's `kid` and `alg`, and nothing chooses between them.
    #[error("several keys fit the JWS{}", IfSome(" (kid \"", .kid.as_deref().map(Escaped::quoted), "\")"))]
    AmbiguousKey {
        /// The header's `kid`, if any.
        kid: Option<String>,
    },
    /// The signature does not verify with the chosen key.
    #[error("JWS signature does not verify")]
    BadSignature,
    /// A claim is missing, has the wrong type, or failed its check.
    #[error("ID token claim {claim}: {reason}")]
    Claim {
        /// The claim's name (`iss`, `aud`, `exp`, `nonce`, ...).
        claim: &'static str,
        /// What was wrong.
        reason: &'static str,
    },
    /// A JWK set could not be read.
    #[error("invalid JWK set: {0}")]
    KeySet(&'static str),
}

impl IdTokenError {
    /// The failure of `claim`'s check.
    #[cfg_attr(not(feature = "oidc"), allow(dead_code))]
    pub(crate) fn claim(claim: &'static str, reason: &'static str) -> Self {
        Self::Claim { claim, reason }
    }
}
