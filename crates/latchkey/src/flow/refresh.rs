//! Refreshing an access token ([RFC 6749 §6](https://www.rfc-editor.org/rfc/rfc6749#section-6)).

use crate::url::Url;

use crate::drive::http::{Request, Response, RetryMode};
use crate::secret::RefreshToken;
use crate::token::TokenSet;
use crate::{Client, Error, Exchange};

/// A refresh token request.
///
/// If the answer carries a new refresh token it replaces the old one (rotation); otherwise the
/// old one is kept in the returned [`TokenSet`]. Never resent once it may have reached the
/// server: with rotation, the first answer may already have invalidated the old token.
#[must_use = "send this exchange with an adapter"]
#[derive(Debug, Clone)]
pub struct Refresh {
    client: Client,
    token_endpoint: Url,
    refresh_token: RefreshToken,
    scope: Option<String>,
    params: Vec<(String, String)>,
    #[cfg(feature = "oidc")]
    original: Option<Box<crate::IdTokenClaims>>,
}

impl Client {
    /// Starts a refresh. `client_secret` is sent only by confidential clients.
    ///
    /// # Errors
    ///
    /// [`ConfigError::MissingEndpoint`](crate::ConfigError::MissingEndpoint) without a token
    /// endpoint.
    pub fn refresh(&self, refresh_token: &RefreshToken) -> Result<Refresh, Error> {
        Ok(Refresh {
            token_endpoint: self.endpoint("token")?.clone(),
            client: self.clone(),
            refresh_token: refresh_token.clone(),
            scope: None,
            params: Vec::new(),
            #[cfg(feature = "oidc")]
            original: None,
        })
    }
}

impl Refresh {
    /// Asks for a narrower scope than the original grant (RFC 6749 §6).
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// Adds a `resource` indicator (RFC 8707); repeatable.
    pub fn resource(self, resource: impl Into<String>) -> Self {
        self.param("resource", resource)
    }

    /// The claims of the ID token this refresh continues: an ID token in the answer must then
    /// have the same `iss` and `sub` (OpenID Connect Core §12.2). The claims are also kept in
    /// the new token set when the answer has no ID token.
    #[cfg(feature = "oidc")]
    pub fn original_id_token(mut self, claims: &crate::IdTokenClaims) -> Self {
        self.original = Some(Box::new(claims.clone()));
        self
    }

    /// Adds a parameter, overriding a dialect parameter of the same name.
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push((name.into(), value.into()));
        self
    }
}

impl Refresh {
    /// The request, with a client assertion made at `now` when the client authenticates
    /// with a JWT (none can be made without the time).
    fn request_when(&self, now: Option<std::time::SystemTime>) -> Result<Request, Error> {
        let mut params: Vec<(&str, &str)> =
            vec![("refresh_token", self.refresh_token.expose_secret())];
        if let Some(scope) = &self.scope {
            params.push(("scope", scope));
        }
        self.client.token_request(
            &self.token_endpoint,
            "refresh_token",
            &params,
            &self.params,
            RetryMode::ConnectFailureOnly,
            now,
        )
    }
}

impl Exchange for Refresh {
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
        let mut tokens = TokenSet::from_response(
            &response,
            self.client.dialect(),
            &[self.refresh_token.expose_secret(), self.client.secret_str()],
        )?;
        self.client.check_token_type(&mut tokens)?;
        tokens.keep_refresh_token(&self.refresh_token);
        #[cfg(feature = "oidc")]
        {
            // A refreshed ID token answers no authorization request: no nonce of its own.
            let mut expect = crate::IdTokenExpectations::new().refreshed();
            expect.original = self.original.as_deref().cloned();
            crate::id_token::validate_in(&self.client, &mut tokens, expect, response.received_at)?;
            if tokens.id_token_claims.is_none() && tokens.id_token().is_none() {
                tokens.id_token_claims = self.original;
            }
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
