//! The authorization code grant ([RFC 6749 §4.1](https://www.rfc-editor.org/rfc/rfc6749#section-4.1)),
//! with PKCE ([RFC 7636](https://www.rfc-editor.org/rfc/rfc7636)) on by default.
//!
//! ```text
//! client.authorization_code() ─► AuthorizationRequest ─build()─► (AuthorizationUrl, PendingAuthorization)
//!                                                                          │ callback(&client, url)
//!                                                                          ▼
//!                                                   CodeExchange: Exchange<Output = TokenSet>
//! ```

use serde::{Deserialize, Serialize};

use crate::url::Url;

use crate::drive::http::{Request, Response, RetryMode};
use crate::error::CallbackError;
use crate::flow::{AuthorizationParams, AuthorizationUrl, check_authorization_response};
use crate::pkce::{PkceMethod, PkceVerifier};
use crate::secret::AuthorizationCode;
use crate::state::State;
use crate::token::TokenSet;
use crate::wire::callback::CallbackParams;
use crate::{Client, Error, Exchange, random};

#[derive(Debug)]
enum Pkce {
    Off,
    On(PkceMethod, Option<PkceVerifier>),
}

/// Builds an authorization code request. Created by [`Client::authorization_code`].
#[must_use = "call build() to get the authorization URL"]
#[derive(Debug)]
pub struct AuthorizationRequest<'c> {
    client: &'c Client,
    params: AuthorizationParams,
    pkce: Pkce,
}

impl Client {
    /// Starts an authorization code flow (RFC 6749 §4.1) with PKCE S256.
    pub fn authorization_code(&self) -> AuthorizationRequest<'_> {
        AuthorizationRequest {
            client: self,
            params: AuthorizationParams::default(),
            pkce: Pkce::On(PkceMethod::S256, None),
        }
    }
}

impl AuthorizationRequest<'_> {
    /// Adds scopes; a value with spaces is split. Duplicates are dropped.
    pub fn scope(mut self, scope: impl AsRef<str>) -> Self {
        self.params.add_scopes([scope]);
        self
    }

    /// Adds several scopes.
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.params.add_scopes(scopes);
        self
    }

    /// Uses this redirect URI instead of the client's default.
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.params.redirect_uri = Some(uri.into());
        self
    }

    /// Adds a parameter (e.g. `prompt`, `audience`, `resource`); it overrides a dialect
    /// parameter of the same name.
    ///
    /// `nonce` and `max_age` given this way are the same as [`nonce`](Self::nonce) and
    /// [`max_age`](Self::max_age): kept in the pending value and checked in the ID token.
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.param(name.into(), value.into());
        self
    }

    /// Uses a caller-chosen state instead of a fresh random one.
    pub fn state(mut self, state: State) -> Self {
        self.params.state = Some(state);
        self
    }

    /// Uses a caller-chosen PKCE verifier (S256 unless [`pkce_plain`](Self::pkce_plain)).
    pub fn pkce_verifier(mut self, verifier: PkceVerifier) -> Self {
        let method = match self.pkce {
            Pkce::On(method, _) => method,
            Pkce::Off => PkceMethod::S256,
        };
        self.pkce = Pkce::On(method, Some(verifier));
        self
    }

    /// Uses the `plain` PKCE method.
    ///
    /// # Security
    ///
    /// `plain` protects nothing if the authorization request leaks (RFC 7636 §7.2). Only for
    /// servers that cannot do S256.
    pub fn pkce_plain(mut self) -> Self {
        let verifier = match self.pkce {
            Pkce::On(_, verifier) => verifier,
            Pkce::Off => None,
        };
        self.pkce = Pkce::On(PkceMethod::Plain, verifier);
        self
    }

    /// Turns PKCE off, for servers that reject unknown parameters.
    ///
    /// # Security
    ///
    /// RFC 9700 §2.1.1 recommends PKCE for every client; without it a stolen code can be
    /// redeemed by whoever holds it (public clients) or injected (confidential clients).
    pub fn no_pkce(mut self) -> Self {
        self.pkce = Pkce::Off;
        self
    }

    /// Adds a `resource` indicator (RFC 8707); repeatable.
    pub fn resource(self, resource: impl Into<String>) -> Self {
        self.param("resource", resource)
    }

    /// Uses a caller-chosen OpenID Connect `nonce` instead of a fresh random one (drawn
    /// whenever the scopes hold `openid`). The ID token must carry it back.
    pub fn nonce(mut self, nonce: impl Into<String>) -> Self {
        self.params.nonce = Some(nonce.into());
        self
    }

    /// Sends OpenID Connect `max_age` (seconds): the ID token must then carry an
    /// `auth_time` no older than this.
    pub fn max_age(mut self, seconds: u64) -> Self {
        self.params.max_age = Some(seconds);
        self
    }

    /// Draws what is random and fixes the redirect URI: the shared first half of
    /// [`build`](Self::build) and [`push`](Self::push).
    fn prepare(self) -> Result<Prepared, Error> {
        let client = self.client;
        let mut params = self.params;
        let redirect_uri = params.resolve_redirect_uri(client)?;
        let need_state = params.state.is_none();
        let need_verifier = matches!(self.pkce, Pkce::On(_, None));
        let need_nonce = params.nonce.is_none() && params.is_openid();
        // One OS call for everything random: 32 bytes of verifier, 16 of state, 32 of nonce.
        let mut bytes = [0u8; 80];
        if need_state || need_verifier || need_nonce {
            random::fill(&mut bytes)?;
        }
        let (v, rest) = bytes.split_at(32);
        let (s, n) = rest.split_at(16);
        params.draw_nonce(n.try_into().map_err(|_| Error::Random)?);
        let state = match params.state.take() {
            Some(state) => state,
            None => State::from_random_bytes(s.try_into().map_err(|_| Error::Random)?),
        };
        let (verifier, method) = match self.pkce {
            Pkce::Off => (None, None),
            Pkce::On(method, Some(verifier)) => (Some(verifier), Some(method)),
            Pkce::On(method, None) => (
                Some(PkceVerifier::from_random_bytes(
                    v.try_into().map_err(|_| Error::Random)?,
                )),
                Some(method),
            ),
        };
        Ok(Prepared {
            method,
            pending: PendingAuthorization {
                state,
                pkce_verifier: verifier,
                redirect_uri,
                issuer: client.issuer().map(str::to_owned),
                require_iss: client.dialect().require_iss,
                nonce: params.nonce.clone(),
                max_age: params.max_age,
            },
            params,
        })
    }

    /// Produces the URL to send the user to and the pending value to keep until the callback.
    ///
    /// # Errors
    ///
    /// [`ConfigError`](crate::ConfigError) for a missing authorization endpoint, a bad
    /// redirect URI or a reserved parameter; [`Error::Random`] when the OS RNG fails.
    pub fn build(self) -> Result<(AuthorizationUrl, PendingAuthorization), Error> {
        let client = self.client;
        let prepared = self.prepare()?;
        let mut buf = [0u8; 43];
        let url = prepared.params.render(
            client,
            "code",
            prepared.pending.redirect_uri.as_deref(),
            &prepared.pending.state,
            prepared.challenge(&mut buf),
        )?;
        Ok((url, prepared.pending))
    }

    /// Pushes the request's parameters to the server first (RFC 9126) and sends only
    /// `client_id` and `request_uri` through the browser. Required when
    /// [`Client::requires_pushed_authorization`] says so.
    ///
    /// # Errors
    ///
    /// As for [`build`](Self::build), plus a missing PAR endpoint.
    pub fn push(self) -> Result<PushedAuthorization, Error> {
        let client = self.client;
        let par_endpoint = client.endpoint("pushed authorization request")?.clone();
        let authorization_endpoint = client.endpoint("authorization")?.as_str().to_owned();
        let prepared = self.prepare()?;
        let mut buf = [0u8; 43];
        let mut params = prepared.params.pairs(
            client,
            "code",
            prepared.pending.redirect_uri.as_deref(),
            &prepared.pending.state,
            prepared.challenge(&mut buf),
        )?;
        if client.auth_method() != crate::ClientAuth::Basic {
            // Client authentication adds client_id itself.
            params.retain(|(k, _)| k != "client_id");
        }
        Ok(PushedAuthorization {
            client: client.clone(),
            par_endpoint,
            authorization_endpoint,
            params,
            pending: prepared.pending,
        })
    }
}

struct Prepared {
    params: AuthorizationParams,
    /// The PKCE method, when PKCE is on (the verifier is in `pending`).
    method: Option<PkceMethod>,
    pending: PendingAuthorization,
}

impl Prepared {
    /// The `code_challenge` and `code_challenge_method` to send, if PKCE is on. An S256
    /// challenge is written into `buf` rather than a new string.
    fn challenge<'a>(&'a self, buf: &'a mut [u8; 43]) -> Option<(&'a str, &'static str)> {
        let verifier = self.pending.pkce_verifier.as_ref()?;
        let method = self.method?;
        let challenge = match method {
            PkceMethod::S256 => verifier.s256_challenge_into(buf),
            PkceMethod::Plain => verifier.expose_secret(),
        };
        Some((challenge, method.as_str()))
    }
}

/// What to keep between sending the user away and the callback: state, PKCE verifier and
/// redirect URI. `Serialize + Deserialize` so a web app can keep it in its session.
///
/// # Security
///
/// It holds the PKCE verifier: store it server-side or encrypted, never in a plain cookie.
#[must_use = "keep this until the callback arrives"]
#[derive(Debug, Serialize, Deserialize)]
pub struct PendingAuthorization {
    state: State,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pkce_verifier: Option<PkceVerifier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    redirect_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    issuer: Option<String>,
    #[serde(default)]
    require_iss: bool,
    /// The OpenID Connect `nonce` sent, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nonce: Option<String>,
    /// The OpenID Connect `max_age` sent, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_age: Option<u64>,
}

impl PendingAuthorization {
    /// The OpenID Connect `nonce` sent with the request (drawn when the scopes hold
    /// `openid`), which the ID token must carry back.
    #[must_use]
    pub fn nonce(&self) -> Option<&str> {
        self.nonce.as_deref()
    }

    /// The state sent with the request (for finding this value by state in a session store).
    #[must_use]
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The redirect URI the request named.
    #[must_use]
    pub fn redirect_uri(&self) -> Option<&str> {
        self.redirect_uri.as_deref()
    }

    /// The PKCE verifier, if PKCE is on.
    #[must_use]
    pub fn pkce_verifier(&self) -> Option<&PkceVerifier> {
        self.pkce_verifier.as_ref()
    }

    /// Accepts the callback: the whole redirect URL, or its query string.
    ///
    /// Checks `state` in constant time, then `iss` (RFC 9207) when an issuer is known, then
    /// the error form, then that a code is present. Consumes `self`: a callback is accepted
    /// once.
    ///
    /// # Errors
    ///
    /// [`Error::Callback`] for a malformed callback, a missing or mismatched state or issuer,
    /// or a missing code; [`Error::Server`] when the server redirected with an error (after
    /// the state was found to match); [`ConfigError`](crate::ConfigError) when the client has
    /// no token endpoint.
    pub fn callback(self, client: &Client, callback: &str) -> Result<CodeExchange, Error> {
        let params = CallbackParams::from_query(callback)?;
        self.accept(client, &params)
    }

    /// Like [`callback`](Self::callback), for parameters already parsed.
    ///
    /// # Errors
    ///
    /// As for [`callback`](Self::callback).
    pub fn accept(
        self,
        client: &Client,
        params: &CallbackParams<'_>,
    ) -> Result<CodeExchange, Error> {
        check_authorization_response(
            params,
            &self.state,
            self.issuer.as_deref(),
            self.require_iss,
        )?;
        let code = match params.code.as_deref() {
            Some(code) if !code.is_empty() => AuthorizationCode::new(code),
            _ => return Err(CallbackError::MissingCode.into()),
        };
        Ok(CodeExchange {
            token_endpoint: client.endpoint("token")?.clone(),
            client: client.clone(),
            code,
            redirect_uri: self.redirect_uri,
            pkce_verifier: self.pkce_verifier,
            params: Vec::new(),
            nonce: self.nonce,
            max_age: self.max_age,
        })
    }
}

/// Exchanges an authorization code for tokens (RFC 6749 §4.1.3).
///
/// Never resent once it may have reached the server: a reused code can make the server revoke
/// the tokens it already issued (RFC 6749 §4.1.2).
#[must_use = "send this exchange with an adapter"]
#[derive(Debug, Clone)]
pub struct CodeExchange {
    client: Client,
    token_endpoint: Url,
    code: AuthorizationCode,
    redirect_uri: Option<String>,
    pkce_verifier: Option<PkceVerifier>,
    params: Vec<(String, String)>,
    #[cfg_attr(not(feature = "oidc"), allow(dead_code))]
    nonce: Option<String>,
    #[cfg_attr(not(feature = "oidc"), allow(dead_code))]
    max_age: Option<u64>,
}

impl CodeExchange {
    /// Adds a `resource` indicator (RFC 8707); repeatable.
    pub fn resource(self, resource: impl Into<String>) -> Self {
        self.param("resource", resource)
    }

    /// Adds a token request parameter (e.g. `resource`), overriding a dialect one.
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push((name.into(), value.into()));
        self
    }

    /// The authorization code.
    #[must_use]
    pub fn code(&self) -> &AuthorizationCode {
        &self.code
    }
}

/// A pushed authorization request (RFC 9126): its answer is the short authorization URL
/// (`client_id` + `request_uri`) and the pending value. Never resent once it may have reached
/// the server (the pushed request is bound to this state and verifier anyway).
#[must_use = "send this exchange with an adapter"]
#[derive(Debug)]
pub struct PushedAuthorization {
    client: Client,
    par_endpoint: Url,
    authorization_endpoint: String,
    params: Vec<(String, String)>,
    pending: PendingAuthorization,
}

#[derive(Deserialize)]
struct ParWire {
    request_uri: String,
    #[allow(dead_code)]
    #[serde(default)]
    expires_in: Option<crate::wire::token_response::Seconds>,
}

impl PushedAuthorization {
    /// The request, with a client assertion made at `now` when the client authenticates
    /// with a JWT (none can be made without the time).
    fn request_when(&self, now: Option<std::time::SystemTime>) -> Result<Request, Error> {
        // The authorization parameters were checked when the request was built: they are
        // the flow's own here.
        let params: Vec<(&str, &str)> = self
            .params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.client.authenticated_request(
            &self.par_endpoint,
            None,
            &params,
            &[],
            false,
            RetryMode::Idempotent,
            now,
        )
    }
}

impl Exchange for PushedAuthorization {
    type Output = (AuthorizationUrl, PendingAuthorization);

    #[cfg(feature = "oidc")]
    fn dpop(&self) -> Option<&crate::Dpop> {
        self.client.dpop()
    }

    fn request(&self) -> Result<Request, Error> {
        self.request_when(None)
    }

    fn request_at(&self, now: std::time::SystemTime) -> Result<Request, Error> {
        self.request_when(Some(now))
    }

    fn response(self, response: Response) -> Result<Self::Output, Error> {
        let secrets = [self.client.secret_str()];
        if !response.is_success() {
            return Err(crate::wire::error_response::error_response(
                &response, &secrets,
            ));
        }
        let wire: ParWire = serde_json::from_slice(&response.body).map_err(|e| {
            crate::wire::error_response::unexpected(
                &response,
                &format!("invalid PAR response: {e}"),
                &secrets,
            )
        })?;
        let mut url = crate::flow::QueryWriter::new(&self.authorization_endpoint);
        url.pair("client_id", self.client.client_id());
        url.pair("request_uri", &wire.request_uri);
        Ok((AuthorizationUrl(url.out), self.pending))
    }
}

impl CodeExchange {
    /// The request, with a client assertion made at `now` when the client authenticates
    /// with a JWT (none can be made without the time).
    fn request_when(&self, now: Option<std::time::SystemTime>) -> Result<Request, Error> {
        let mut params: Vec<(&str, &str)> = Vec::with_capacity(3);
        params.push(("code", self.code.expose_secret()));
        if let Some(verifier) = &self.pkce_verifier {
            params.push(("code_verifier", verifier.expose_secret()));
        }
        if let Some(uri) = &self.redirect_uri {
            params.push(("redirect_uri", uri));
        }
        self.client.token_request(
            &self.token_endpoint,
            "authorization_code",
            &params,
            &self.params,
            RetryMode::ConnectFailureOnly,
            now,
        )
    }
}

impl Exchange for CodeExchange {
    type Output = TokenSet;

    #[cfg(feature = "oidc")]
    fn dpop(&self) -> Option<&crate::Dpop> {
        self.client.dpop()
    }

    fn request(&self) -> Result<Request, Error> {
        self.request_when(None)
    }

    fn request_at(&self, now: std::time::SystemTime) -> Result<Request, Error> {
        self.request_when(Some(now))
    }

    fn response(self, response: Response) -> Result<TokenSet, Error> {
        let verifier = self
            .pkce_verifier
            .as_ref()
            .map_or("", PkceVerifier::expose_secret);
        #[allow(unused_mut)]
        let mut tokens = TokenSet::from_response(
            &response,
            self.client.dialect(),
            &[
                self.code.expose_secret(),
                verifier,
                self.client.secret_str(),
            ],
        )?;
        self.client.check_token_type(&mut tokens)?;
        #[cfg(feature = "oidc")]
        {
            let mut expect = crate::IdTokenExpectations::new();
            expect.code = Some(self.code.clone());
            expect.nonce = self.nonce;
            expect.max_age = self.max_age;
            crate::id_token::validate_in(&self.client, &mut tokens, expect, response.received_at)?;
        }
        Ok(tokens)
    }

    #[cfg(feature = "oidc")]
    fn supplement(&self, response: &Response) -> Option<Request> {
        crate::id_token::keys_needed(&self.client, response)
    }

    #[cfg(feature = "oidc")]
    fn supplemented(
        &mut self,
        answer: Result<Response, crate::TransportError>,
        now: std::time::SystemTime,
    ) {
        crate::id_token::keys_received(&self.client, answer.as_ref().ok(), now);
    }
}
