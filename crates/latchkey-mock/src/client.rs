//! Registered clients and the dialect knobs each one carries.

use std::time::Duration;

/// How a client authenticates at the token endpoint (RFC 6749 §2.3.1, RFC 8414 names).
///
/// The mock is strict: a client registered with one method that authenticates
/// another way is refused with `401 invalid_client`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthMethod {
    /// `client_secret_basic`: `Authorization: Basic base64(urlencode(id) ":" urlencode(secret))`.
    Basic,
    /// `client_secret_post`: `client_id` and `client_secret` in the request body.
    Post,
    /// `none`: a public client that sends only `client_id` in the body and no secret at all.
    None,
    /// `private_key_jwt` (RFC 7523 §2.2): a JWT signed with the client's private key,
    /// verified with the public key registered by [`MockClient::private_key_jwt`].
    PrivateKeyJwt,
    /// `client_secret_jwt` (RFC 7523 §2.2): a JWT signed with HS256 over the client secret.
    ClientSecretJwt,
}

impl AuthMethod {
    /// The RFC 8414 / RFC 7591 name of the method, e.g. `client_secret_basic`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Basic => "client_secret_basic",
            Self::Post => "client_secret_post",
            Self::None => "none",
            Self::PrivateKeyJwt => "private_key_jwt",
            Self::ClientSecretJwt => "client_secret_jwt",
        }
    }
}

/// A token request body encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// `application/x-www-form-urlencoded` (the RFC 6749 encoding).
    Form,
    /// `application/json` with a flat object of string (or number/boolean) values.
    Json,
    /// `multipart/form-data` (what `curl -F` sends).
    Multipart,
}

impl Encoding {
    /// The media type of this encoding, e.g. `application/json`.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Form => "application/x-www-form-urlencoded",
            Self::Json => "application/json",
            Self::Multipart => "multipart/form-data",
        }
    }
}

/// The shape of successful token responses, after the providers latchkey targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ResponseStyle {
    /// Auth0-style (Loom AI, Blooma): `{"access_token","token_type":"Bearer","expires_in","scope"}`,
    /// plus `refresh_token` when the grant's scope includes `offline_access`.
    #[default]
    Auth0,
    /// Clerk-style (CoLoop): `{"access_token","refresh_token","scope","token_type":"bearer","expires_in"}`.
    Clerk,
    /// Doorkeeper-style (Loop & Tie): `{"access_token","token_type":"bearer","created_at"}` with
    /// no `expires_in` and no `scope`; a `refresh_token` only when the refresh grant is enabled
    /// explicitly with [`MockClient::grant_types`].
    Doorkeeper,
}

/// How the mock signs a client's ID tokens (`id_token_signed_response_alg`). Its keys are made
/// on first use and published at `/jwks`; HS256 signs with the client's secret.
#[non_exhaustive]
#[allow(clippy::upper_case_acronyms)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum IdTokenAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (2048-bit key): OpenID Connect's default.
    #[default]
    RS256,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// ECDSA on P-384 with SHA-384.
    ES384,
    /// Ed25519.
    EdDSA,
    /// HMAC-SHA-256 keyed with the client secret.
    HS256,
}

impl IdTokenAlg {
    /// The JWS `alg` name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::PS256 => "PS256",
            Self::ES256 => "ES256",
            Self::ES384 => "ES384",
            Self::EdDSA => "EdDSA",
            Self::HS256 => "HS256",
        }
    }
}

/// An OAuth 2.0 grant (or, for [`GrantType::Implicit`], response type) a client may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GrantType {
    /// `authorization_code` (and `response_type=code` at the authorization endpoint).
    AuthorizationCode,
    /// The implicit grant: `response_type=token` at the authorization endpoint.
    Implicit,
    /// `client_credentials` (confidential clients only).
    ClientCredentials,
    /// `refresh_token`.
    RefreshToken,
    /// The device authorization grant (RFC 8628), `urn:ietf:params:oauth:grant-type:device_code`.
    DeviceCode,
    /// Token exchange (RFC 8693), `urn:ietf:params:oauth:grant-type:token-exchange`.
    TokenExchange,
}

impl GrantType {
    /// The registered name, e.g. `authorization_code` (`implicit` for the implicit grant).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::Implicit => "implicit",
            Self::ClientCredentials => "client_credentials",
            Self::RefreshToken => "refresh_token",
            Self::DeviceCode => "urn:ietf:params:oauth:grant-type:device_code",
            Self::TokenExchange => "urn:ietf:params:oauth:grant-type:token-exchange",
        }
    }
}

/// A client registration, built builder-style and handed to
/// [`MockServerBuilder::client`](crate::MockServerBuilder::client) or
/// [`Mock::add_client`](crate::Mock::add_client).
///
/// ```
/// use latchkey_mock::{AuthMethod, Encoding, MockClient, ResponseStyle};
///
/// // Loop & Tie: secret in a multipart body, Doorkeeper-shaped answers.
/// let client = MockClient::new("lt-app")
///     .secret("lt-secret")
///     .auth_method(AuthMethod::Post)
///     .encodings([Encoding::Multipart])
///     .response_style(ResponseStyle::Doorkeeper)
///     .redirect_uris(["https://app.example/callback"]);
/// assert_eq!(client.id(), "lt-app");
/// ```
#[derive(Debug, Clone)]
pub struct MockClient {
    pub(crate) id: String,
    pub(crate) secret: Option<String>,
    pub(crate) auth_method: Option<AuthMethod>,
    pub(crate) encodings: Vec<Encoding>,
    pub(crate) audience: Option<String>,
    pub(crate) style: ResponseStyle,
    pub(crate) id_token_alg: IdTokenAlg,
    pub(crate) expires_in: u64,
    pub(crate) rotate_refresh_tokens: bool,
    pub(crate) detect_refresh_reuse: bool,
    pub(crate) refresh_reuse_grace: Duration,
    pub(crate) require_pkce: bool,
    pub(crate) redirect_uris: Vec<String>,
    pub(crate) grant_types: Option<Vec<GrantType>>,
    pub(crate) default_scope: Option<String>,
    pub(crate) allowed_scopes: Option<Vec<String>>,
    pub(crate) allowed_resources: Option<Vec<String>>,
    pub(crate) jwt_key: Option<String>,
    pub(crate) require_dpop: bool,
}

impl MockClient {
    /// A public client (`AuthMethod::None`) with this `client_id`, accepting form bodies only,
    /// Auth0-style responses, 3600 s access tokens, any redirect URI and every grant but
    /// `client_credentials`.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            secret: None,
            auth_method: None,
            encodings: vec![Encoding::Form],
            audience: None,
            style: ResponseStyle::Auth0,
            id_token_alg: IdTokenAlg::RS256,
            expires_in: 3600,
            rotate_refresh_tokens: false,
            detect_refresh_reuse: true,
            refresh_reuse_grace: Duration::ZERO,
            require_pkce: false,
            redirect_uris: Vec::new(),
            grant_types: None,
            default_scope: None,
            allowed_scopes: None,
            allowed_resources: None,
            jwt_key: None,
            require_dpop: false,
        }
    }

    /// Makes the client confidential with this secret. Unless [`auth_method`](Self::auth_method)
    /// says otherwise it must then authenticate with HTTP Basic (`client_secret_basic`, the
    /// RFC 6749 default). With [`AuthMethod::ClientSecretJwt`] the secret is the HS256 key of
    /// its client assertions.
    #[must_use]
    pub fn secret(mut self, secret: impl Into<String>) -> Self {
        self.secret = Some(secret.into());
        self
    }

    /// How the client must authenticate at the token endpoint. The default is
    /// [`AuthMethod::Basic`] for a client with a secret and [`AuthMethod::None`] otherwise.
    #[must_use]
    pub fn auth_method(mut self, method: AuthMethod) -> Self {
        self.auth_method = Some(method);
        self
    }

    /// The token request body encodings this client may use (default: form only). Any other
    /// content type is refused with `400 invalid_request` naming it.
    #[must_use]
    pub fn encodings(mut self, encodings: impl IntoIterator<Item = Encoding>) -> Self {
        self.encodings = encodings.into_iter().collect();
        self
    }

    /// Requires `audience` = `audience` on authorization requests and on
    /// `authorization_code` and `client_credentials` token requests (else `invalid_request`).
    /// A refresh request need not repeat it, but a different value is refused.
    #[must_use]
    pub fn require_audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// How this client's ID tokens are signed (default [`IdTokenAlg::RS256`]). An ID token is
    /// issued when a code (or a refresh token) was granted with the `openid` scope.
    #[must_use]
    pub fn id_token_alg(mut self, alg: IdTokenAlg) -> Self {
        self.id_token_alg = alg;
        self
    }

    /// The shape of this client's token responses (default [`ResponseStyle::Auth0`]).
    #[must_use]
    pub fn response_style(mut self, style: ResponseStyle) -> Self {
        self.style = style;
        self
    }

    /// Access token lifetime in seconds (default 3600). The server enforces it with its
    /// [clock](crate::MockServerBuilder::clock), also for the Doorkeeper style, which does not
    /// announce it.
    #[must_use]
    pub fn expires_in(mut self, seconds: u64) -> Self {
        self.expires_in = seconds;
        self
    }

    /// Refresh token rotation: every refresh answer carries a new refresh token and the one
    /// presented becomes invalid. Default off.
    ///
    /// With rotation comes reuse detection, as at oidc-provider, Auth0 or Okta (unless
    /// [`detect_refresh_reuse`](Self::detect_refresh_reuse) turns it off): a rotated refresh
    /// token presented again, after the [grace period](Self::refresh_reuse_grace) if any, is
    /// taken for a stolen token. The answer is `400 invalid_grant`, and the whole grant is
    /// revoked: every access and refresh token descended from the same authorization (code,
    /// device code, or token exchange), the newest refresh token of the chain included. See
    /// [`Mock::refresh_reuse_count`](crate::Mock::refresh_reuse_count) and
    /// [`Mock::grant_revoked`](crate::Mock::grant_revoked).
    #[must_use]
    pub fn rotate_refresh_tokens(mut self, rotate: bool) -> Self {
        self.rotate_refresh_tokens = rotate;
        self
    }

    /// Whether presenting a rotated refresh token again after the grace period revokes its
    /// whole grant (default `true`, as at oidc-provider, Auth0 and Okta). With `false` the
    /// reuse is only refused with `invalid_grant` and the grant lives on, as at Doorkeeper.
    /// Only matters with [`rotate_refresh_tokens`](Self::rotate_refresh_tokens).
    #[must_use]
    pub fn detect_refresh_reuse(mut self, detect: bool) -> Self {
        self.detect_refresh_reuse = detect;
        self
    }

    /// How long a rotated refresh token stays usable after the refresh that rotated it, as
    /// Auth0's reuse interval and Okta's grace period allow (default zero: not at all). Only
    /// matters with [`rotate_refresh_tokens`](Self::rotate_refresh_tokens).
    ///
    /// Presented again while `now - rotation < grace`, on the mock's
    /// [clock](crate::MockServerBuilder::clock) (or the time given to
    /// [`Mock::route`](crate::Mock::route)), the rotated token is answered like a refresh:
    /// a new access token, and as refresh token the newest one of the chain (the same one the
    /// rotation issued, unless that one was rotated in turn). Nothing is rotated, revoked or
    /// newly issued as refresh token, and [`Mock::refresh_count`](crate::Mock::refresh_count)
    /// and [`Mock::refresh_grace_count`](crate::Mock::refresh_grace_count) count it. The
    /// rotated token is not live in between: introspection says `active: false` and
    /// [`Mock::refresh_token_active`](crate::Mock::refresh_token_active) `false`. From
    /// `rotation + grace` on, presenting it is reuse.
    #[must_use]
    pub fn refresh_reuse_grace(mut self, grace: Duration) -> Self {
        self.refresh_reuse_grace = grace;
        self
    }

    /// Requires a PKCE `code_challenge` on every `response_type=code` authorization request.
    /// Default off (a challenge that is sent is always enforced).
    #[must_use]
    pub fn require_pkce(mut self, require: bool) -> Self {
        self.require_pkce = require;
        self
    }

    /// The registered redirect URIs. Empty (the default) accepts any absolute URI without a
    /// fragment. Matching is exact, except that for `http` loopback URIs (`127.0.0.1`, `[::1]`,
    /// `localhost`) the port is ignored (RFC 8252 §7.3).
    #[must_use]
    pub fn redirect_uris<I>(mut self, uris: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.redirect_uris = uris.into_iter().map(Into::into).collect();
        self
    }

    /// Restricts the grants this client may use. Without this call every grant is enabled
    /// except `client_credentials` for public clients and, for the Doorkeeper style,
    /// `refresh_token`.
    #[must_use]
    pub fn grant_types(mut self, grants: impl IntoIterator<Item = GrantType>) -> Self {
        self.grant_types = Some(grants.into_iter().collect());
        self
    }

    /// The scope granted when a request names none (e.g. Blooma's `USER`). Default: none.
    #[must_use]
    pub fn default_scope(mut self, scope: impl Into<String>) -> Self {
        self.default_scope = Some(scope.into());
        self
    }

    /// Restricts the scope values this client may request (`invalid_scope` otherwise).
    /// Default: any.
    #[must_use]
    pub fn allowed_scopes<I>(mut self, scopes: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.allowed_scopes = Some(scopes.into_iter().map(Into::into).collect());
        self
    }

    /// Restricts the `resource` indicators (RFC 8707) this client may ask for: any other
    /// gets `invalid_target`. Default: any absolute URI without a fragment.
    #[must_use]
    pub fn allowed_resources<I>(mut self, resources: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.allowed_resources = Some(resources.into_iter().map(Into::into).collect());
        self
    }

    /// Registers the client for `private_key_jwt` (RFC 7523 §2.2) with its public key: a
    /// JWK as JSON text (e.g. latchkey's `SigningKey::public_jwk().to_string()`) or a PEM
    /// `PUBLIC KEY` (RSA, P-256 or Ed25519). Its client assertions must be signed with the
    /// matching private key (RS256, PS256, ES256 or EdDSA); a key that cannot be read fails
    /// every authentication with `invalid_client`, saying so.
    ///
    /// Every client assertion, `client_secret_jwt` ones too, needs `iss` = `sub` = the
    /// client_id, `aud` = the issuer or the token endpoint, an `exp` in the future and at most
    /// five minutes away, and a `jti` that was not used before.
    #[must_use]
    pub fn private_key_jwt(mut self, public_key: impl Into<String>) -> Self {
        self.jwt_key = Some(public_key.into());
        self.auth_method = Some(AuthMethod::PrivateKeyJwt);
        self
    }

    /// Requires a DPoP proof (RFC 9449) on this client's token requests, as the client
    /// metadata `dpop_bound_access_tokens` does (default `false`: a proof is checked when
    /// sent, and the tokens are then bound to its key).
    #[must_use]
    pub fn require_dpop(mut self, require: bool) -> Self {
        self.require_dpop = require;
        self
    }

    /// The `client_id`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The authentication method in force: the one set, or the default described at
    /// [`auth_method`](Self::auth_method).
    pub fn effective_auth_method(&self) -> AuthMethod {
        match (self.auth_method, &self.secret) {
            (Some(method), _) => method,
            (None, Some(_)) => AuthMethod::Basic,
            (None, None) => AuthMethod::None,
        }
    }

    /// Whether this client may use `grant`.
    pub fn allows(&self, grant: GrantType) -> bool {
        if grant == GrantType::ClientCredentials && self.effective_auth_method() == AuthMethod::None
        {
            return false;
        }
        match &self.grant_types {
            Some(list) => list.contains(&grant),
            None => !(grant == GrantType::RefreshToken && self.style == ResponseStyle::Doorkeeper),
        }
    }
}
