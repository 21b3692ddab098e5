//! Provider dialects as data: client authentication, token request encoding, extra
//! parameters and how leniently token responses are read.

/// How the client authenticates at the token endpoint
/// ([RFC 6749 §2.3](https://www.rfc-editor.org/rfc/rfc6749#section-2.3)).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClientAuth {
    /// `client_secret_basic`: HTTP Basic with the form-urlencoded id and secret (§2.3.1).
    Basic,
    /// `client_secret_post`: `client_id` and `client_secret` in the request body.
    Post,
    /// `none`: a public client; only `client_id` is sent.
    None,
    /// `private_key_jwt`: a JWT signed with the client's private key
    /// ([RFC 7523 §2.2](https://www.rfc-editor.org/rfc/rfc7523#section-2.2); the key is
    /// [`ClientBuilder::private_key_jwt`](crate::ClientBuilder::private_key_jwt)'s).
    PrivateKeyJwt,
    /// `client_secret_jwt`: a JWT signed with HS256 over the client secret
    /// ([RFC 7523 §2.2](https://www.rfc-editor.org/rfc/rfc7523#section-2.2)).
    ClientSecretJwt,
    /// `tls_client_auth`: mutual TLS with a certificate from a CA the server trusts
    /// ([RFC 8705 §2.1](https://www.rfc-editor.org/rfc/rfc8705#section-2.1)); only
    /// `client_id` is sent, the handshake authenticates. Turns mutual TLS on
    /// ([`ClientBuilder::mutual_tls`](crate::ClientBuilder::mutual_tls)); the certificate is
    /// the adapter's (`TransportBuilder::client_certificate`).
    TlsClientAuth,
    /// `self_signed_tls_client_auth`: mutual TLS with a self-signed certificate registered
    /// with the server ([RFC 8705 §2.2](https://www.rfc-editor.org/rfc/rfc8705#section-2.2));
    /// otherwise as [`TlsClientAuth`](Self::TlsClientAuth).
    SelfSignedTlsClientAuth,
}

/// The `aud` of a JWT client assertion.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum AssertionAudience {
    /// The issuer identifier (the default, as current drafts recommend:
    /// draft-ietf-oauth-rfc7523bis); the token endpoint when no issuer is configured.
    #[default]
    Issuer,
    /// The token endpoint's URL (RFC 7523 §3 as first written; some servers want it).
    TokenEndpoint,
}

impl ClientAuth {
    /// The method's registered name (RFC 7591 §2).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Basic => "client_secret_basic",
            Self::Post => "client_secret_post",
            Self::None => "none",
            Self::PrivateKeyJwt => "private_key_jwt",
            Self::ClientSecretJwt => "client_secret_jwt",
            Self::TlsClientAuth => "tls_client_auth",
            Self::SelfSignedTlsClientAuth => "self_signed_tls_client_auth",
        }
    }

    /// The method of a registered name (RFC 7591 §2; RFC 8705 §2.1.1, §2.2.1), as the
    /// metadata's `token_endpoint_auth_methods_supported` lists them; `None` for a name
    /// latchkey does not implement.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::Basic,
            Self::Post,
            Self::None,
            Self::PrivateKeyJwt,
            Self::ClientSecretJwt,
            Self::TlsClientAuth,
            Self::SelfSignedTlsClientAuth,
        ]
        .into_iter()
        .find(|method| method.as_str() == name)
    }

    /// True for the mutual TLS methods (RFC 8705 §2), which need a client certificate on
    /// the transport.
    #[must_use]
    pub fn is_mutual_tls(self) -> bool {
        matches!(self, Self::TlsClientAuth | Self::SelfSignedTlsClientAuth)
    }
}

/// How token requests encode their parameters.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum BodyEncoding {
    /// `application/x-www-form-urlencoded` (RFC 6749; the default).
    #[default]
    Form,
    /// `application/json` (accepted by Auth0-style providers such as Blooma).
    Json,
    /// `multipart/form-data` (what `curl -F` sends; Loop & Tie documents it).
    Multipart,
}

/// A provider's quirks, as configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Dialect {
    /// Parameters added to every authorization request (e.g. `audience`).
    pub authorization_params: Vec<(String, String)>,
    /// Parameters added to every token request (e.g. `audience`).
    pub token_params: Vec<(String, String)>,
    /// Token request body encoding.
    pub body_encoding: BodyEncoding,
    /// Accept a token response without `token_type` as a bearer token (RFC 6749 makes it
    /// required; some providers omit it).
    pub missing_token_type_is_bearer: bool,
    /// Accept token types other than `Bearer` and `DPoP` (RFC 6749 §7.1 says a client must not
    /// use a token whose type it does not understand; off by default).
    pub accept_any_token_type: bool,
    /// Require `iss` on authorization responses (RFC 9207).
    pub require_iss: bool,
}
