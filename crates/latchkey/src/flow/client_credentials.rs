//! The client credentials grant ([RFC 6749 §4.4](https://www.rfc-editor.org/rfc/rfc6749#section-4.4)):
//! a confidential client asks for a token for itself.

use crate::url::Url;

use crate::drive::http::{Request, Response, RetryMode};
use crate::error::ConfigError;
use crate::token::TokenSet;
use crate::{Client, Error, Exchange};

/// A client credentials token request. Safe to retry.
#[must_use = "send this exchange with an adapter"]
#[derive(Debug, Clone)]
pub struct ClientCredentials {
    client: Client,
    token_endpoint: Url,
    scopes: String,
    params: Vec<(String, String)>,
}

impl Client {
    /// Starts a client credentials request.
    ///
    /// # Errors
    ///
    /// [`ConfigError::MissingEndpoint`] without a token endpoint and
    /// [`ConfigError::PublicClient`] for a client without credentials.
    pub fn client_credentials(&self) -> Result<ClientCredentials, Error> {
        if !self.is_confidential() {
            return Err(ConfigError::PublicClient("client credentials").into());
        }
        Ok(ClientCredentials {
            token_endpoint: self.endpoint("token")?.clone(),
            client: self.clone(),
            scopes: String::new(),
            params: Vec::new(),
        })
    }
}

impl ClientCredentials {
    /// Adds scopes (space-separated values are split; duplicates dropped).
    pub fn scope(mut self, scope: impl AsRef<str>) -> Self {
        crate::flow::push_scopes(&mut self.scopes, scope.as_ref());
        self
    }

    /// Adds a `resource` indicator (RFC 8707); repeatable.
    pub fn resource(self, resource: impl Into<String>) -> Self {
        self.param("resource", resource)
    }

    /// Sets `audience` (Auth0-style APIs such as Blooma), overriding the dialect's.
    pub fn audience(self, audience: impl Into<String>) -> Self {
        self.param("audience", audience)
    }

    /// Adds a parameter, overriding a dialect parameter of the same name.
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push((name.into(), value.into()));
        self
    }
}

impl ClientCredentials {
    /// The request, with a client assertion made at `now` when the client authenticates
    /// with a JWT (none can be made without the time).
    fn request_when(&self, now: Option<std::time::SystemTime>) -> Result<Request, Error> {
        let scope = [("scope", self.scopes.as_str())];
        let params: &[(&str, &str)] = if self.scopes.is_empty() { &[] } else { &scope };
        self.client.token_request(
            &self.token_endpoint,
            "client_credentials",
            params,
            &self.params,
            RetryMode::Idempotent,
            now,
        )
    }
}

impl Exchange for ClientCredentials {
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
            &[self.client.secret_str()],
        )?;
        self.client.check_token_type(&mut tokens)?;
        Ok(tokens)
    }
}
