//! The client: who we are, how we authenticate, where the endpoints are, and the provider's
//! dialect.

use std::sync::Arc;

use crate::url::{Url, parse_url};

use crate::Error;
pub(crate) mod dialect;

use crate::drive::http::{Method, Request, RetryMode};
use crate::error::ConfigError;
use crate::secret::ClientSecret;
use crate::wire::encode;
use dialect::{AssertionAudience, BodyEncoding, ClientAuth, Dialect};

/// An OAuth 2.0 client: one concrete type, cheap to clone (it is an `Arc` inside), `Send +
/// Sync + 'static`, so it can sit in an axum state or a `static`.
///
/// Build one with [`Client::builder`].
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<ClientConfig>,
}

#[derive(Debug)]
struct ClientConfig {
    client_id: String,
    client_secret: Option<ClientSecret>,
    auth: ClientAuth,
    /// The `Authorization: Basic` value, computed once when the client is built (it never
    /// changes) and shared by every request: a secret, so kept in a type whose `Debug` is
    /// redacted.
    basic_authorization: Option<SharedSecret>,
    authorization_endpoint: Option<Url>,
    token_endpoint: Option<Url>,
    userinfo_endpoint: Option<Url>,
    revocation_endpoint: Option<Url>,
    introspection_endpoint: Option<Url>,
    device_authorization_endpoint: Option<Url>,
    pushed_authorization_request_endpoint: Option<Url>,
    end_session_endpoint: Option<Url>,
    require_pushed_authorization_requests: bool,
    redirect_uri: Option<Url>,
    issuer: Option<String>,
    dialect: Dialect,
    #[cfg(feature = "oidc")]
    id_token: crate::id_token::IdTokenSettings,
    /// The DPoP key and nonces, when DPoP is on.
    #[cfg(feature = "oidc")]
    dpop: Option<crate::Dpop>,
    /// The `private_key_jwt` key.
    #[cfg(feature = "oidc")]
    assertion_key: Option<crate::jose::SigningKey>,
    assertion_audience: AssertionAudience,
    /// Mutual TLS is on (RFC 8705): the endpoints above are the metadata's aliases where it
    /// has them.
    mutual_tls: bool,
}

impl Client {
    /// Starts building a client with the given `client_id`.
    pub fn builder(client_id: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            client_id: client_id.into(),
            client_secret: None,
            auth: None,
            authorization_endpoint: None,
            token_endpoint: None,
            userinfo_endpoint: None,
            revocation_endpoint: None,
            introspection_endpoint: None,
            device_authorization_endpoint: None,
            pushed_authorization_request_endpoint: None,
            end_session_endpoint: None,
            require_pushed_authorization_requests: false,
            supported_auth_methods: None,
            redirect_uri: None,
            issuer: None,
            dialect: Dialect::default(),
            #[cfg(feature = "oidc")]
            id_token: crate::id_token::IdTokenSettings::default(),
            #[cfg(feature = "oidc")]
            dpop: None,
            #[cfg(feature = "oidc")]
            assertion_key: None,
            assertion_audience: AssertionAudience::default(),
            assertion_algorithms: None,
            mutual_tls: None,
            mtls_endpoint_aliases: Vec::new(),
            #[cfg(feature = "oidc")]
            jwks_uri: None,
            #[cfg(feature = "oidc")]
            static_keys: None,
        }
    }

    /// The `client_id`.
    #[must_use]
    pub fn client_id(&self) -> &str {
        &self.inner.client_id
    }

    /// How the client authenticates at the token endpoint.
    #[must_use]
    pub fn auth_method(&self) -> ClientAuth {
        self.inner.auth
    }

    /// True when the client uses mutual TLS (RFC 8705): its endpoints are the metadata's
    /// `mtls_endpoint_aliases` where there are any (see [`ClientBuilder::mutual_tls`]).
    #[must_use]
    pub fn uses_mutual_tls(&self) -> bool {
        self.inner.mutual_tls
    }

    /// True for a confidential client (one that authenticates with a secret).
    #[must_use]
    pub fn is_confidential(&self) -> bool {
        self.inner.auth != ClientAuth::None
    }

    /// The authorization endpoint, if configured.
    #[must_use]
    pub fn authorization_endpoint(&self) -> Option<&Url> {
        self.inner.authorization_endpoint.as_ref()
    }

    /// The token endpoint, if configured.
    #[must_use]
    pub fn token_endpoint(&self) -> Option<&Url> {
        self.inner.token_endpoint.as_ref()
    }

    /// The userinfo endpoint, if configured.
    #[must_use]
    pub fn userinfo_endpoint(&self) -> Option<&Url> {
        self.inner.userinfo_endpoint.as_ref()
    }

    /// The revocation endpoint (RFC 7009), if configured.
    #[must_use]
    pub fn revocation_endpoint(&self) -> Option<&Url> {
        self.inner.revocation_endpoint.as_ref()
    }

    /// The introspection endpoint (RFC 7662), if configured.
    #[must_use]
    pub fn introspection_endpoint(&self) -> Option<&Url> {
        self.inner.introspection_endpoint.as_ref()
    }

    /// The device authorization endpoint (RFC 8628), if configured.
    #[must_use]
    pub fn device_authorization_endpoint(&self) -> Option<&Url> {
        self.inner.device_authorization_endpoint.as_ref()
    }

    /// The pushed authorization request endpoint (RFC 9126), if configured.
    #[must_use]
    pub fn pushed_authorization_request_endpoint(&self) -> Option<&Url> {
        self.inner.pushed_authorization_request_endpoint.as_ref()
    }

    /// The end-session endpoint (OpenID Connect RP-Initiated Logout), if configured.
    #[must_use]
    pub fn end_session_endpoint(&self) -> Option<&Url> {
        self.inner.end_session_endpoint.as_ref()
    }

    /// True when the server only accepts pushed authorization requests (RFC 9126 §5): use
    /// [`AuthorizationRequest::push`](crate::AuthorizationRequest::push).
    #[must_use]
    pub fn requires_pushed_authorization(&self) -> bool {
        self.inner.require_pushed_authorization_requests
    }

    /// The default redirect URI, if configured.
    #[must_use]
    pub fn redirect_uri(&self) -> Option<&Url> {
        self.inner.redirect_uri.as_ref()
    }

    /// The client's ID token settings.
    #[cfg(feature = "oidc")]
    pub(crate) fn id_token_settings(&self) -> &crate::id_token::IdTokenSettings {
        &self.inner.id_token
    }

    /// The DPoP key and nonces, when DPoP is on ([`ClientBuilder::dpop`]).
    #[cfg(feature = "oidc")]
    #[must_use]
    pub fn dpop(&self) -> Option<&crate::Dpop> {
        self.inner.dpop.as_ref()
    }

    /// Refuses a token answer that downgrades DPoP: when DPoP is on, a `Bearer` access token
    /// (RFC 9449 §5: the token is not bound to the key, so the proofs protect nothing).
    /// Otherwise keeps the DPoP key with the tokens ([`TokenSet::dpop_key`](crate::TokenSet::dpop_key)),
    /// so that a store saves them together.
    pub(crate) fn check_token_type(&self, tokens: &mut crate::TokenSet) -> Result<(), Error> {
        #[cfg(feature = "oidc")]
        if let Some(dpop) = &self.inner.dpop {
            if *tokens.token_type() == crate::TokenType::Bearer {
                return Err(crate::error::ResponseError::DpopDowngrade.into());
            }
            tokens.dpop_key = Some(Box::new(dpop.key()));
        }
        let _ = tokens;
        Ok(())
    }

    /// The issuer identifier, if configured (used for RFC 9207 `iss` checks).
    #[must_use]
    pub fn issuer(&self) -> Option<&str> {
        self.inner.issuer.as_deref()
    }

    /// The provider dialect.
    #[must_use]
    pub fn dialect(&self) -> &Dialect {
        &self.inner.dialect
    }

    pub(crate) fn endpoint(&self, which: &'static str) -> Result<&Url, Error> {
        let url = match which {
            "authorization" => self.inner.authorization_endpoint.as_ref(),
            "token" => self.inner.token_endpoint.as_ref(),
            "userinfo" => self.inner.userinfo_endpoint.as_ref(),
            "revocation" => self.inner.revocation_endpoint.as_ref(),
            "introspection" => self.inner.introspection_endpoint.as_ref(),
            "device authorization" => self.inner.device_authorization_endpoint.as_ref(),
            "pushed authorization request" => {
                self.inner.pushed_authorization_request_endpoint.as_ref()
            }
            "end session" => self.inner.end_session_endpoint.as_ref(),
            _ => None,
        };
        url.ok_or_else(|| ConfigError::MissingEndpoint(which).into())
    }

    /// Secrets this client sends, for masking them in error excerpts.
    pub(crate) fn secret_str(&self) -> &str {
        self.inner
            .client_secret
            .as_ref()
            .map_or("", ClientSecret::expose_secret)
    }

    /// Builds a token endpoint request: `grant_type`, then client authentication, then the
    /// flow's parameters, then the caller's, then the dialect's token parameters (unless
    /// overridden), in the dialect's body encoding.
    ///
    /// # Errors
    ///
    /// As for [`authenticated_request`](Self::authenticated_request).
    pub(crate) fn token_request(
        &self,
        url: &Url,
        grant_type: &str,
        params: &[(&str, &str)],
        extra: &[(String, String)],
        retry: RetryMode,
        now: Option<std::time::SystemTime>,
    ) -> Result<Request, Error> {
        self.authenticated_request(url, Some(grant_type), params, extra, true, retry, now)
    }

    /// Builds a client-authenticated POST to any endpoint of the authorization server (token,
    /// revocation, introspection, device authorization, PAR). `params` are the flow's own,
    /// `extra` the caller's.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidParameter`] when a caller's parameter would repeat one the flow or
    /// its client authentication sets ([`RESERVED_TOKEN_PARAMS`], or any of `params`): a body
    /// with the same field twice is read differently by different servers. Also when a name
    /// cannot be written as a multipart field name (`"`, `\`, CR or LF) in a multipart body.
    #[allow(clippy::too_many_arguments)] // crate-internal: one call per flow, each named
    pub(crate) fn authenticated_request(
        &self,
        url: &Url,
        grant_type: Option<&str>,
        params: &[(&str, &str)],
        extra: &[(String, String)],
        with_dialect_params: bool,
        retry: RetryMode,
        now: Option<std::time::SystemTime>,
    ) -> Result<Request, Error> {
        for (name, _) in extra {
            if RESERVED_TOKEN_PARAMS.contains(&name.as_str())
                || params.iter().any(|(flow_name, _)| flow_name == name)
            {
                return Err(ConfigError::InvalidParameter {
                    name: name.clone(),
                    reason: "set by the flow itself",
                }
                .into());
            }
        }
        let config = &*self.inner;
        let dialect_params: &[(String, String)] = if with_dialect_params {
            &config.dialect.token_params
        } else {
            &[]
        };
        let mut pairs: Vec<(&str, &str)> =
            Vec::with_capacity(3 + params.len() + extra.len() + dialect_params.len());
        if let Some(grant_type) = grant_type {
            pairs.push(("grant_type", grant_type));
        }
        let mut request = Request::new(Method::Post, url.clone(), retry);
        let assertion: String;
        match config.auth {
            ClientAuth::Basic => {
                let header = match &config.basic_authorization {
                    Some(SharedSecret(header)) => Arc::clone(header),
                    None => basic_authorization(&config.client_id, self.secret_str()).into(),
                };
                request.headers.append_shared("authorization", header);
            }
            ClientAuth::Post => {
                pairs.push(("client_id", &config.client_id));
                if let Some(secret) = &config.client_secret {
                    pairs.push(("client_secret", secret.expose_secret()));
                }
            }
            // RFC 8705 §2: the TLS handshake authenticates; `client_id` says who.
            ClientAuth::None | ClientAuth::TlsClientAuth | ClientAuth::SelfSignedTlsClientAuth => {
                pairs.push(("client_id", &config.client_id));
            }
            ClientAuth::PrivateKeyJwt | ClientAuth::ClientSecretJwt => {
                assertion = self.client_assertion(now)?;
                pairs.push(("client_id", &config.client_id));
                pairs.push(("client_assertion_type", JWT_BEARER_ASSERTION));
                pairs.push(("client_assertion", &assertion));
            }
        }
        pairs.extend_from_slice(params);
        pairs.extend(extra.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        for (k, v) in dialect_params {
            if !pairs.iter().any(|(name, _)| name == k) {
                pairs.push((k, v));
            }
        }
        match config.dialect.body_encoding {
            BodyEncoding::Form => {
                request.body = encode::form(&pairs);
                request
                    .headers
                    .append_static("content-type", "application/x-www-form-urlencoded");
            }
            BodyEncoding::Json => {
                request.body = encode::json(&pairs);
                request
                    .headers
                    .append_static("content-type", "application/json");
            }
            BodyEncoding::Multipart => {
                let (content_type, body) = encode::multipart(&pairs)?;
                request.body = body;
                request.headers.append("content-type", content_type);
            }
        }
        request.headers.append_static("accept", "application/json");
        Ok(request)
    }
}

/// The `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2).
pub const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How far ahead of `iat` a client assertion's `exp` is (RFC 7523 §3; at most 60 s).
pub(crate) const ASSERTION_LIFETIME_SECS: u64 = 60;

impl Client {
    /// A JWT client assertion at `now` (RFC 7523 §3): `iss` = `sub` = client_id, `aud`, a
    /// fresh `jti`, `iat`, `exp` 60 s later.
    fn client_assertion(&self, now: Option<std::time::SystemTime>) -> Result<String, Error> {
        let config = &*self.inner;
        let Some(now) = now else {
            return Err(ConfigError::InvalidParameter {
                name: "client_assertion".into(),
                reason: "needs the time of the request: send the step with the SendDriver or call Exchange::request_at",
            }
            .into());
        };
        let iat = now
            .duration_since(std::time::SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let token_endpoint = config.token_endpoint.as_ref().map(Url::as_str);
        let aud = match config.assertion_audience {
            AssertionAudience::Issuer => config.issuer.as_deref().or(token_endpoint),
            AssertionAudience::TokenEndpoint => token_endpoint,
        }
        .ok_or(ConfigError::MissingEndpoint("token"))?;
        let mut jti = [0u8; 16];
        crate::random::fill(&mut jti)?;
        let claims = serde_json::json!({
            "iss": config.client_id,
            "sub": config.client_id,
            "aud": aud,
            "jti": encode::base64url(&jti),
            "iat": iat,
            "exp": iat + ASSERTION_LIFETIME_SECS,
        });
        let mut header = serde_json::Map::new();
        header.insert("typ".into(), serde_json::Value::from("JWT"));
        #[cfg(feature = "oidc")]
        match (config.auth, &config.assertion_key) {
            (ClientAuth::PrivateKeyJwt, Some(key)) => return key.sign(header, &claims),
            (ClientAuth::ClientSecretJwt, _) => {
                return crate::jose::sign_hmac(
                    crate::jose::Algorithm::HS256,
                    self.secret_str().as_bytes(),
                    header,
                    &claims,
                );
            }
            _ => {}
        }
        let _ = (header, claims);
        Err(
            ConfigError::SigningKey("JWT client authentication needs the oidc feature and a key")
                .into(),
        )
    }
}

/// Token request parameters that only the flow and its client authentication set: a caller's
/// parameter of one of these names is refused rather than sent twice.
pub(crate) const RESERVED_TOKEN_PARAMS: [&str; 9] = [
    "grant_type",
    "client_id",
    "client_secret",
    "code",
    "code_verifier",
    "redirect_uri",
    "refresh_token",
    "client_assertion",
    "client_assertion_type",
];

/// A secret shared by every request of a client, with a redacted `Debug`.
#[derive(Clone)]
struct SharedSecret(Arc<str>);

impl std::fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))`, RFC 6749 §2.3.1.
pub(crate) fn basic_authorization(client_id: &str, secret: &str) -> String {
    use base64::Engine as _;
    let credentials: String = form_urlencoded::byte_serialize(client_id.as_bytes())
        .chain([":"])
        .chain(form_urlencoded::byte_serialize(secret.as_bytes()))
        .collect();
    let mut header = String::from("Basic ");
    base64::engine::general_purpose::STANDARD.encode_string(credentials, &mut header);
    header
}

/// Builds a [`Client`]. URLs are checked by [`build`](Self::build).
#[must_use]
#[derive(Debug)]
pub struct ClientBuilder {
    client_id: String,
    client_secret: Option<ClientSecret>,
    auth: Option<ClientAuth>,
    authorization_endpoint: Option<String>,
    token_endpoint: Option<String>,
    userinfo_endpoint: Option<String>,
    revocation_endpoint: Option<String>,
    introspection_endpoint: Option<String>,
    device_authorization_endpoint: Option<String>,
    pushed_authorization_request_endpoint: Option<String>,
    end_session_endpoint: Option<String>,
    require_pushed_authorization_requests: bool,
    supported_auth_methods: Option<Vec<String>>,
    redirect_uri: Option<String>,
    issuer: Option<String>,
    dialect: Dialect,
    #[cfg(feature = "oidc")]
    id_token: crate::id_token::IdTokenSettings,
    #[cfg(feature = "oidc")]
    jwks_uri: Option<String>,
    #[cfg(feature = "oidc")]
    static_keys: Option<crate::jose::KeySet>,
    #[cfg(feature = "oidc")]
    dpop: Option<crate::Dpop>,
    #[cfg(feature = "oidc")]
    assertion_key: Option<crate::jose::SigningKey>,
    assertion_audience: AssertionAudience,
    /// The metadata's `token_endpoint_auth_signing_alg_values_supported`.
    assertion_algorithms: Option<Vec<String>>,
    /// Mutual TLS on or off; `None`: on with the TLS client authentication methods.
    mutual_tls: Option<bool>,
    /// The metadata's `mtls_endpoint_aliases` (RFC 8705 §5): (endpoint name, URL).
    mtls_endpoint_aliases: Vec<(String, String)>,
}

impl ClientBuilder {
    /// Sets the client secret. Client authentication defaults to HTTP Basic when a secret is
    /// set and to none otherwise.
    pub fn client_secret(mut self, secret: impl Into<ClientSecret>) -> Self {
        self.client_secret = Some(secret.into());
        self
    }

    /// Chooses how the client authenticates at the token endpoint.
    pub fn auth_method(mut self, auth: ClientAuth) -> Self {
        self.auth = Some(auth);
        self
    }

    /// Sets the authorization endpoint.
    pub fn authorization_endpoint(mut self, url: impl Into<String>) -> Self {
        self.authorization_endpoint = Some(url.into());
        self
    }

    /// Sets the token endpoint.
    pub fn token_endpoint(mut self, url: impl Into<String>) -> Self {
        self.token_endpoint = Some(url.into());
        self
    }

    /// Sets the userinfo endpoint.
    pub fn userinfo_endpoint(mut self, url: impl Into<String>) -> Self {
        self.userinfo_endpoint = Some(url.into());
        self
    }

    /// Sets the revocation endpoint (RFC 7009).
    pub fn revocation_endpoint(mut self, url: impl Into<String>) -> Self {
        self.revocation_endpoint = Some(url.into());
        self
    }

    /// Sets the introspection endpoint (RFC 7662).
    pub fn introspection_endpoint(mut self, url: impl Into<String>) -> Self {
        self.introspection_endpoint = Some(url.into());
        self
    }

    /// Sets the device authorization endpoint (RFC 8628).
    pub fn device_authorization_endpoint(mut self, url: impl Into<String>) -> Self {
        self.device_authorization_endpoint = Some(url.into());
        self
    }

    /// Sets the pushed authorization request endpoint (RFC 9126).
    pub fn pushed_authorization_request_endpoint(mut self, url: impl Into<String>) -> Self {
        self.pushed_authorization_request_endpoint = Some(url.into());
        self
    }

    /// Says the server accepts only pushed authorization requests (RFC 9126 §5).
    pub fn require_pushed_authorization_requests(mut self, required: bool) -> Self {
        self.require_pushed_authorization_requests = required;
        self
    }

    /// Takes endpoints, issuer and capabilities from discovered server metadata
    /// ([RFC 8414](https://www.rfc-editor.org/rfc/rfc8414)): every endpoint it lists, the issuer
    /// (and `iss` checking when `authorization_response_iss_parameter_supported`), whether
    /// pushed authorization requests are required, and, unless
    /// [`auth_method`](Self::auth_method) is called, client authentication from
    /// `token_endpoint_auth_methods_supported` (Basic when listed or when the list is absent,
    /// as RFC 8414 §2 defaults, else body).
    pub fn metadata(mut self, metadata: &crate::ServerMetadata) -> Self {
        let set = |slot: &mut Option<String>, value: &Option<String>| {
            if let Some(v) = value {
                *slot = Some(v.clone());
            }
        };
        set(
            &mut self.authorization_endpoint,
            &metadata.authorization_endpoint,
        );
        set(&mut self.token_endpoint, &metadata.token_endpoint);
        set(&mut self.userinfo_endpoint, &metadata.userinfo_endpoint);
        set(&mut self.revocation_endpoint, &metadata.revocation_endpoint);
        set(
            &mut self.introspection_endpoint,
            &metadata.introspection_endpoint,
        );
        set(
            &mut self.device_authorization_endpoint,
            &metadata.device_authorization_endpoint,
        );
        set(
            &mut self.pushed_authorization_request_endpoint,
            &metadata.pushed_authorization_request_endpoint,
        );
        if let Some(end_session) = metadata
            .extra
            .get("end_session_endpoint")
            .and_then(serde_json::Value::as_str)
        {
            self.end_session_endpoint = Some(end_session.to_owned());
        }
        self.require_pushed_authorization_requests = metadata.require_pushed_authorization_requests;
        self.issuer = Some(metadata.issuer.clone());
        self.dialect.require_iss = metadata.authorization_response_iss_parameter_supported;
        self.supported_auth_methods = metadata.token_endpoint_auth_methods_supported.clone();
        if let Some(aliases) = metadata
            .extra
            .get("mtls_endpoint_aliases")
            .and_then(serde_json::Value::as_object)
        {
            self.mtls_endpoint_aliases = aliases
                .iter()
                .filter_map(|(name, url)| Some((name.clone(), url.as_str()?.to_owned())))
                .collect();
        }
        if let Some(algs) = metadata
            .extra
            .get("token_endpoint_auth_signing_alg_values_supported")
            .and_then(serde_json::Value::as_array)
        {
            self.assertion_algorithms = Some(
                algs.iter()
                    .filter_map(serde_json::Value::as_str)
                    .map(str::to_owned)
                    .collect(),
            );
        }
        #[cfg(feature = "oidc")]
        {
            if let Some(jwks_uri) = &metadata.jwks_uri {
                self.jwks_uri = Some(jwks_uri.clone());
            }
            if let Some(algs) = metadata
                .extra
                .get("id_token_signing_alg_values_supported")
                .and_then(serde_json::Value::as_array)
            {
                // `none` and algorithms latchkey does not implement drop out here.
                self.id_token.metadata_algorithms = Some(
                    algs.iter()
                        .filter_map(serde_json::Value::as_str)
                        .filter_map(crate::jose::Algorithm::parse)
                        .collect(),
                );
            }
        }
        self
    }

    /// Sets the issuer's JWK set URL (`jwks_uri`), from which ID token keys are fetched.
    /// [`metadata`](Self::metadata) sets it from discovery.
    #[cfg(feature = "oidc")]
    pub fn jwks_uri(mut self, url: impl Into<String>) -> Self {
        self.jwks_uri = Some(url.into());
        self
    }

    /// Uses these keys for ID tokens (configured rather than fetched; a `jwks_uri` still
    /// replaces them when fetched).
    #[cfg(feature = "oidc")]
    pub fn id_token_keys(mut self, keys: crate::jose::KeySet) -> Self {
        self.static_keys = Some(keys);
        self
    }

    /// Accepts ID tokens signed with these algorithms only (default: the metadata's
    /// `id_token_signing_alg_values_supported`, else RS256). `none` is never accepted; the
    /// HMAC algorithms also need [`id_token_hmac`](Self::id_token_hmac).
    #[cfg(feature = "oidc")]
    pub fn id_token_algorithms(
        mut self,
        algorithms: impl IntoIterator<Item = crate::jose::Algorithm>,
    ) -> Self {
        self.id_token.algorithms = Some(algorithms.into_iter().collect());
        self
    }

    /// Accepts ID tokens signed with HS256/384/512 and the client secret (when allowed by
    /// the algorithm list too). Off by default.
    #[cfg(feature = "oidc")]
    pub fn id_token_hmac(mut self, allow: bool) -> Self {
        self.id_token.allow_hmac = allow;
        self
    }

    /// The clock leeway for `exp`, `iat` and `auth_time` (default 60 s).
    #[cfg(feature = "oidc")]
    pub fn id_token_leeway(mut self, leeway: std::time::Duration) -> Self {
        self.id_token.leeway = leeway;
        self
    }

    /// Requires the ID token's `acr` to be one of these values.
    #[cfg(feature = "oidc")]
    pub fn id_token_acr_values<I, S>(mut self, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.id_token.acr_values = values.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the end-session endpoint for RP-initiated logout (OpenID Connect RP-Initiated
    /// Logout 1.0 §2); [`metadata`](Self::metadata) takes `end_session_endpoint` from
    /// discovery.
    pub fn end_session_endpoint(mut self, url: impl Into<String>) -> Self {
        self.end_session_endpoint = Some(url.into());
        self
    }

    /// Sets the default redirect URI for redirect-based flows.
    pub fn redirect_uri(mut self, url: impl Into<String>) -> Self {
        self.redirect_uri = Some(url.into());
        self
    }

    /// Sets the issuer identifier, used to check `iss` on callbacks (RFC 9207).
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Requires `iss` on every authorization response and compares it with the issuer
    /// (RFC 9207; set this when the server metadata has
    /// `authorization_response_iss_parameter_supported`).
    pub fn require_issuer_parameter(mut self, required: bool) -> Self {
        self.dialect.require_iss = required;
        self
    }

    /// Adds a parameter to every authorization request (for example `audience`).
    pub fn authorization_param(
        mut self,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.dialect
            .authorization_params
            .push((name.into(), value.into()));
        self
    }

    /// Adds a parameter to every token request (for example `audience`).
    pub fn token_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.dialect.token_params.push((name.into(), value.into()));
        self
    }

    /// Adds `audience` to both authorization and token requests (Auth0-style providers).
    pub fn audience(self, audience: impl Into<String>) -> Self {
        let audience = audience.into();
        self.authorization_param("audience", audience.clone())
            .token_param("audience", audience)
    }

    /// Chooses the token request body encoding (default: form).
    pub fn body_encoding(mut self, encoding: BodyEncoding) -> Self {
        self.dialect.body_encoding = encoding;
        self
    }

    /// Replaces the whole dialect.
    pub fn dialect(mut self, dialect: Dialect) -> Self {
        self.dialect = dialect;
        self
    }

    /// Authenticates with `private_key_jwt` ([RFC 7523 §2.2](https://www.rfc-editor.org/rfc/rfc7523#section-2.2)):
    /// every client-authenticated request (token, PAR, device authorization, revocation,
    /// introspection) carries a JWT signed with `key` (RS256, PS256, ES256 or EdDSA; its
    /// `kid`, if set, goes in the header). No client secret is needed.
    #[cfg(feature = "oidc")]
    pub fn private_key_jwt(mut self, key: crate::jose::SigningKey) -> Self {
        self.auth = Some(ClientAuth::PrivateKeyJwt);
        self.assertion_key = Some(key);
        self
    }

    /// The `aud` of JWT client assertions: the issuer (default) or the token endpoint.
    pub fn assertion_audience(mut self, audience: AssertionAudience) -> Self {
        self.assertion_audience = audience;
        self
    }

    /// Checks a JWT client authentication method against the key, the feature and the
    /// metadata's `token_endpoint_auth_signing_alg_values_supported`.
    fn check_assertion(&self, auth: ClientAuth) -> Result<(), Error> {
        let alg = match auth {
            ClientAuth::ClientSecretJwt => "HS256",
            #[cfg(feature = "oidc")]
            ClientAuth::PrivateKeyJwt => match &self.assertion_key {
                Some(key) => key.algorithm().as_str(),
                None => {
                    return Err(ConfigError::SigningKey(
                        "private_key_jwt needs a key (ClientBuilder::private_key_jwt)",
                    )
                    .into());
                }
            },
            _ => return Ok(()),
        };
        #[cfg(not(feature = "oidc"))]
        {
            let _ = alg;
            Err(ConfigError::SigningKey("JWT client authentication needs the oidc feature").into())
        }
        #[cfg(feature = "oidc")]
        {
            if self
                .assertion_algorithms
                .as_ref()
                .is_some_and(|algs| !algs.iter().any(|a| a == alg))
            {
                return Err(ConfigError::SigningKey(
                    "the server's token_endpoint_auth_signing_alg_values_supported does not list the key's algorithm",
                )
                .into());
            }
            Ok(())
        }
    }

    /// Turns DPoP on ([RFC 9449](https://www.rfc-editor.org/rfc/rfc9449)) with this key:
    /// the token, refresh, client credentials, token exchange, device and PAR requests, and
    /// userinfo, carry a `DPoP` proof (put on by the [`SendDriver`](crate::drive::SendDriver)
    /// at each attempt, or by [`DevicePoll::request`](crate::DevicePoll::request)); the
    /// authorization request and PAR carry `dpop_jkt`; userinfo sends
    /// `Authorization: DPoP <token>`; a `Bearer` token answer is refused as a downgrade.
    /// Clones of the client share the key and the server nonces.
    #[cfg(feature = "oidc")]
    pub fn dpop(mut self, dpop: crate::Dpop) -> Self {
        self.dpop = Some(dpop);
        self
    }

    /// Turns mutual TLS on or off ([RFC 8705](https://www.rfc-editor.org/rfc/rfc8705)).
    /// When on, the token, revocation, introspection, PAR, device authorization and
    /// userinfo requests go to the metadata's `mtls_endpoint_aliases` where it lists one
    /// (§5), so the server asks for the client certificate there. Default: on with
    /// [`ClientAuth::TlsClientAuth`] and [`ClientAuth::SelfSignedTlsClientAuth`], off
    /// otherwise; turn it on by hand for certificate-bound tokens with another
    /// authentication method. The certificate itself is the adapter's
    /// (`TransportBuilder::client_certificate`).
    pub fn mutual_tls(mut self, on: bool) -> Self {
        self.mutual_tls = Some(on);
        self
    }

    /// Sets one of the `mtls_endpoint_aliases` (RFC 8705 §5) by its metadata name
    /// (`token_endpoint`, `userinfo_endpoint`, ...), as [`metadata`](Self::metadata) does
    /// from discovery. Used only when mutual TLS is on.
    pub fn mtls_endpoint_alias(mut self, name: impl Into<String>, url: impl Into<String>) -> Self {
        let name = name.into();
        self.mtls_endpoint_aliases.retain(|(n, _)| *n != name);
        self.mtls_endpoint_aliases.push((name, url.into()));
        self
    }

    /// Checks the configuration and builds the client.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidUrl`] for a URL that [`parse_url`](crate::parse_url) refuses, an
    /// endpoint that is not `http(s)` or has a fragment, and
    /// [`ConfigError::MissingClientSecret`] for Basic or body authentication without a secret.
    pub fn build(mut self) -> Result<Client, Error> {
        let supports = |m: &str| {
            self.supported_auth_methods
                .as_ref()
                .is_none_or(|list| list.iter().any(|s| s == m))
        };
        // With a secret: the first of basic, post and client_secret_jwt the metadata lists
        // (basic when it lists none of them, or when there is no list).
        let default_auth = if self.client_secret.is_none() {
            ClientAuth::None
        } else if supports("client_secret_basic") {
            ClientAuth::Basic
        } else if supports("client_secret_post") {
            ClientAuth::Post
        } else if supports("client_secret_jwt") {
            ClientAuth::ClientSecretJwt
        } else {
            ClientAuth::Basic
        };
        let auth = self.auth.unwrap_or(default_auth);
        self.check_assertion(auth)?;
        if auth.is_mutual_tls() && !supports(auth.as_str()) {
            return Err(ConfigError::InvalidParameter {
                name: "token_endpoint_auth_method".into(),
                reason: "the server's token_endpoint_auth_methods_supported does not list this mutual TLS method",
            }
            .into());
        }
        let mutual_tls = self.mutual_tls.unwrap_or_else(|| auth.is_mutual_tls());
        if mutual_tls {
            self.apply_mtls_aliases();
        }
        if !matches!(
            auth,
            ClientAuth::None
                | ClientAuth::PrivateKeyJwt
                | ClientAuth::TlsClientAuth
                | ClientAuth::SelfSignedTlsClientAuth
        ) && self.client_secret.is_none()
        {
            return Err(ConfigError::MissingClientSecret(auth.as_str()).into());
        }
        if self.client_id.is_empty() {
            return Err(ConfigError::InvalidParameter {
                name: "client_id".into(),
                reason: "must not be empty",
            }
            .into());
        }
        let parse = |which: &'static str, url: Option<String>| -> Result<Option<Url>, Error> {
            url.map(|u| parse_endpoint(which, &u)).transpose()
        };
        let basic_authorization = match (auth, &self.client_secret) {
            (ClientAuth::Basic, Some(secret)) => Some(SharedSecret(
                basic_authorization(&self.client_id, secret.expose_secret()).into(),
            )),
            _ => None,
        };
        Ok(Client {
            inner: Arc::new(ClientConfig {
                client_id: self.client_id,
                client_secret: self.client_secret,
                auth,
                basic_authorization,
                authorization_endpoint: parse("authorization", self.authorization_endpoint)?,
                token_endpoint: parse("token", self.token_endpoint)?,
                userinfo_endpoint: parse("userinfo", self.userinfo_endpoint)?,
                revocation_endpoint: parse("revocation", self.revocation_endpoint)?,
                introspection_endpoint: parse("introspection", self.introspection_endpoint)?,
                device_authorization_endpoint: parse(
                    "device authorization",
                    self.device_authorization_endpoint,
                )?,
                pushed_authorization_request_endpoint: parse(
                    "pushed authorization request",
                    self.pushed_authorization_request_endpoint,
                )?,
                end_session_endpoint: parse("end session", self.end_session_endpoint)?,
                require_pushed_authorization_requests: self.require_pushed_authorization_requests,
                redirect_uri: self
                    .redirect_uri
                    .map(|u| parse_redirect_uri(&u))
                    .transpose()?,
                issuer: self.issuer,
                dialect: self.dialect,
                #[cfg(feature = "oidc")]
                id_token: {
                    let mut settings = self.id_token;
                    settings.jwks_uri = self
                        .jwks_uri
                        .map(|u| parse_endpoint("jwks", &u))
                        .transpose()?;
                    if let Some(keys) = self.static_keys {
                        settings.has_static_keys = true;
                        settings.keys.set(keys);
                    }
                    settings
                },
                #[cfg(feature = "oidc")]
                dpop: self.dpop,
                #[cfg(feature = "oidc")]
                assertion_key: self.assertion_key,
                assertion_audience: self.assertion_audience,
                mutual_tls,
            }),
        })
    }
}

impl ClientBuilder {
    /// Moves the endpoints that have an `mtls_endpoint_aliases` entry to it (RFC 8705 §5):
    /// token, revocation, introspection, PAR, device authorization and userinfo. The
    /// authorization and end-session endpoints are the browser's and keep their URLs.
    fn apply_mtls_aliases(&mut self) {
        for (name, url) in std::mem::take(&mut self.mtls_endpoint_aliases) {
            let slot = match name.as_str() {
                "token_endpoint" => &mut self.token_endpoint,
                "revocation_endpoint" => &mut self.revocation_endpoint,
                "introspection_endpoint" => &mut self.introspection_endpoint,
                "pushed_authorization_request_endpoint" => {
                    &mut self.pushed_authorization_request_endpoint
                }
                "device_authorization_endpoint" => &mut self.device_authorization_endpoint,
                "userinfo_endpoint" => &mut self.userinfo_endpoint,
                _ => continue,
            };
            *slot = Some(url);
        }
    }
}

/// Parses an endpoint URL: what [`parse_url`] accepts, absolute `http` or `https`, no
/// fragment (RFC 6749 §3.1, §3.2).
pub(crate) fn parse_endpoint(which: &'static str, url: &str) -> Result<Url, Error> {
    let parsed = parse_url(url).map_err(|e| ConfigError::InvalidUrl {
        which,
        reason: e.to_string(),
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(ConfigError::InvalidUrl {
            which,
            reason: format!("scheme {} is not http or https", parsed.scheme()),
        }
        .into());
    }
    if parsed.fragment().is_some() {
        return Err(ConfigError::InvalidUrl {
            which,
            reason: "an endpoint URL must not have a fragment".into(),
        }
        .into());
    }
    Ok(parsed)
}

/// Parses a redirect URI: what [`parse_url`] accepts, any scheme (native apps use private-use
/// schemes, RFC 8252 §7.1), no fragment (RFC 6749 §3.1.2). It is sent as the `url` crate
/// writes it, the same text on the authorization and the token request.
pub(crate) fn parse_redirect_uri(url: &str) -> Result<Url, Error> {
    let parsed = parse_url(url).map_err(|e| ConfigError::InvalidUrl {
        which: "redirect",
        reason: e.to_string(),
    })?;
    if parsed.fragment().is_some() {
        return Err(ConfigError::InvalidUrl {
            which: "redirect",
            reason: "a redirect URI must not have a fragment".into(),
        }
        .into());
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_encoded_first() {
        // RFC 6749 §2.3.1: id and secret are form-urlencoded, then joined, then base64.
        let header = basic_authorization("my client", "p@ss:w+rd");
        use base64::Engine as _;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(header.strip_prefix("Basic ").unwrap())
            .unwrap();
        assert_eq!(decoded, b"my+client:p%40ss%3Aw%2Brd");
    }

    #[test]
    fn defaults_and_validation() {
        let c = Client::builder("id").build().unwrap();
        assert_eq!(c.auth_method(), ClientAuth::None);
        let c = Client::builder("id").client_secret("s").build().unwrap();
        assert_eq!(c.auth_method(), ClientAuth::Basic);
        assert!(matches!(
            Client::builder("id").auth_method(ClientAuth::Post).build(),
            Err(Error::Config(ConfigError::MissingClientSecret(
                "client_secret_post"
            )))
        ));
        assert!(matches!(
            Client::builder("id").token_endpoint("ftp://x/").build(),
            Err(Error::Config(ConfigError::InvalidUrl {
                which: "token",
                ..
            }))
        ));
        assert!(
            Client::builder("id")
                .token_endpoint("not a url")
                .build()
                .is_err()
        );
        assert!(Client::builder("").build().is_err());
        assert!(
            format!(
                "{:?}",
                Client::builder("id")
                    .client_secret("hunter22")
                    .build()
                    .unwrap()
            )
            .contains("<redacted>")
        );
    }

    #[test]
    fn endpoints_and_redirect_uris_are_checked_urls() {
        let client = Client::builder("id")
            .token_endpoint("https://bücher.example/token")
            .redirect_uri("com.example.app:/cb")
            .build()
            .unwrap();
        assert_eq!(
            client.token_endpoint().map(Url::as_str),
            Some("https://xn--bcher-kva.example/token")
        );
        assert_eq!(
            client.redirect_uri().map(Url::as_str),
            Some("com.example.app:/cb")
        );
        let refused = |endpoint: &str, redirect: &str| {
            Client::builder("id")
                .token_endpoint(endpoint)
                .redirect_uri(redirect)
                .build()
                .unwrap_err()
                .to_string()
        };
        let ok = "https://as.example/token";
        let redirect = "http://127.0.0.1/cb";
        for (endpoint, redirect, message) in [
            (
                "https://user:pw@as.example/token?k=SECRET",
                redirect,
                "invalid token URL: a user name or password in the URL is not supported",
            ),
            (
                "https://as.example/token#f",
                redirect,
                "invalid token URL: an endpoint URL must not have a fragment",
            ),
            (
                "myapp:/token",
                redirect,
                "invalid token URL: scheme myapp is not http or https",
            ),
            (
                "https://as.example\\evil/token?k=SECRET\\",
                redirect,
                "invalid token URL: contains a backslash",
            ),
            (
                "http://2130706433/token?k=SECRET",
                redirect,
                "invalid token URL: the host looks like an IPv4 address but is not a dotted quad",
            ),
            (
                ok,
                "http://127.0.0.1/cb#f",
                "invalid redirect URL: a redirect URI must not have a fragment",
            ),
            (
                ok,
                "http://127.0.0.1/cb?k=SECRET\n",
                "invalid redirect URL: contains a control character",
            ),
        ] {
            let error = refused(endpoint, redirect);
            assert_eq!(error, message, "{endpoint} {redirect}");
            assert!(!error.contains("SECRET"));
        }
    }

    #[test]
    fn client_is_send_sync_static() {
        fn check<T: Send + Sync + 'static>() {}
        check::<Client>();
    }
}
