//! OAuth 2.0 Token Exchange ([RFC 8693](https://www.rfc-editor.org/rfc/rfc8693)): trade a
//! subject token (and optionally an actor token) for a new token, for example for delegation
//! to a downstream service.

use crate::url::Url;

use crate::drive::http::{Request, Response, RetryMode};
use crate::token::{TokenSet, TokenType};
use crate::{Client, Error, Exchange, ResponseError};

/// The token exchange grant type.
pub const TOKEN_EXCHANGE_GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

/// Token type identifiers (RFC 8693 §3).
pub mod token_types {
    /// `urn:ietf:params:oauth:token-type:access_token`
    pub const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";
    /// `urn:ietf:params:oauth:token-type:refresh_token`
    pub const REFRESH_TOKEN: &str = "urn:ietf:params:oauth:token-type:refresh_token";
    /// `urn:ietf:params:oauth:token-type:id_token`
    pub const ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";
    /// `urn:ietf:params:oauth:token-type:saml1`
    pub const SAML1: &str = "urn:ietf:params:oauth:token-type:saml1";
    /// `urn:ietf:params:oauth:token-type:saml2`
    pub const SAML2: &str = "urn:ietf:params:oauth:token-type:saml2";
    /// `urn:ietf:params:oauth:token-type:jwt`
    pub const JWT: &str = "urn:ietf:params:oauth:token-type:jwt";
}

crate::secret::secret_type!(
    /// A token handed to token exchange as subject or actor.
    ExchangedToken
);

/// A token exchange request. Not retried once it may have reached the server (a subject
/// token may be single-use).
#[must_use = "send this exchange with an adapter"]
#[derive(Clone, Debug)]
pub struct TokenExchange {
    client: Client,
    url: Url,
    subject_token: ExchangedToken,
    subject_token_type: String,
    actor: Option<(ExchangedToken, String)>,
    requested_token_type: Option<String>,
    scope: String,
    params: Vec<(String, String)>,
}

impl Client {
    /// Starts a token exchange for `subject_token` of type `subject_token_type` (one of
    /// [`token_types`]).
    ///
    /// # Errors
    ///
    /// [`ConfigError::MissingEndpoint`](crate::ConfigError::MissingEndpoint) without a token
    /// endpoint.
    pub fn token_exchange(
        &self,
        subject_token: impl Into<ExchangedToken>,
        subject_token_type: impl Into<String>,
    ) -> Result<TokenExchange, Error> {
        Ok(TokenExchange {
            url: self.endpoint("token")?.clone(),
            client: self.clone(),
            subject_token: subject_token.into(),
            subject_token_type: subject_token_type.into(),
            actor: None,
            requested_token_type: None,
            scope: String::new(),
            params: Vec::new(),
        })
    }
}

impl TokenExchange {
    /// Adds the actor token (delegation, RFC 8693 §1.1).
    pub fn actor(
        mut self,
        actor_token: impl Into<ExchangedToken>,
        actor_token_type: impl Into<String>,
    ) -> Self {
        self.actor = Some((actor_token.into(), actor_token_type.into()));
        self
    }

    /// Asks for a specific kind of token (`requested_token_type`).
    pub fn requested_token_type(mut self, token_type: impl Into<String>) -> Self {
        self.requested_token_type = Some(token_type.into());
        self
    }

    /// Adds a `resource` (RFC 8707 / RFC 8693 §2.1); repeatable.
    pub fn resource(self, resource: impl Into<String>) -> Self {
        self.param("resource", resource)
    }

    /// Adds an `audience`; repeatable.
    pub fn audience(self, audience: impl Into<String>) -> Self {
        self.param("audience", audience)
    }

    /// Adds scopes.
    pub fn scope(mut self, scope: impl AsRef<str>) -> Self {
        crate::flow::push_scopes(&mut self.scope, scope.as_ref());
        self
    }

    /// Adds a parameter.
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push((name.into(), value.into()));
        self
    }
}

impl TokenExchange {
    /// The request, with a client assertion made at `now` when the client authenticates
    /// with a JWT (none can be made without the time).
    fn request_when(&self, now: Option<std::time::SystemTime>) -> Result<Request, Error> {
        let mut params: Vec<(&str, &str)> = vec![
            ("subject_token", self.subject_token.expose_secret()),
            ("subject_token_type", &self.subject_token_type),
        ];
        if let Some((token, kind)) = &self.actor {
            params.push(("actor_token", token.expose_secret()));
            params.push(("actor_token_type", kind));
        }
        if let Some(kind) = &self.requested_token_type {
            params.push(("requested_token_type", kind));
        }
        if !self.scope.is_empty() {
            params.push(("scope", &self.scope));
        }
        self.client.token_request(
            &self.url,
            TOKEN_EXCHANGE_GRANT,
            &params,
            &self.params,
            RetryMode::ConnectFailureOnly,
            now,
        )
    }
}

impl Exchange for TokenExchange {
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
        // RFC 8693 §2.2.1: `token_type` is "N_A" when the issued token is not an access token.
        let mut lenient = self.client.dialect().clone();
        lenient.accept_any_token_type = true;
        let actor = self.actor.as_ref().map_or("", |(t, _)| t.expose_secret());
        let mut tokens = TokenSet::from_response(
            &response,
            &lenient,
            &[
                self.subject_token.expose_secret(),
                actor,
                self.client.secret_str(),
            ],
        )?;
        if let TokenType::Other(other) = tokens.token_type() {
            if other != "N_A" && !self.client.dialect().accept_any_token_type {
                return Err(ResponseError::UnsupportedTokenType(
                    crate::wire::error_response::bounded(other, 40),
                )
                .into());
            }
        }
        self.client.check_token_type(&mut tokens)?;
        if tokens.issued_token_type().is_none() {
            return Err(ResponseError::MissingField("issued_token_type").into());
        }
        Ok(tokens)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn request_and_response() {
        let client = Client::builder("api")
            .client_secret("s")
            .token_endpoint("https://as.example/token")
            .build()
            .unwrap();
        let exchange = client
            .token_exchange("subj", token_types::ACCESS_TOKEN)
            .unwrap()
            .actor("act", token_types::JWT)
            .requested_token_type(token_types::ACCESS_TOKEN)
            .resource("https://backend.example/api")
            .resource("https://other.example/")
            .audience("backend")
            .scope("read");
        let body = String::from_utf8(exchange.request().unwrap().body).unwrap();
        assert_eq!(
            body,
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange\
             &subject_token=subj&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token\
             &actor_token=act&actor_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Ajwt\
             &requested_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token&scope=read\
             &resource=https%3A%2F%2Fbackend.example%2Fapi&resource=https%3A%2F%2Fother.example%2F&audience=backend"
        );
        assert!(!format!("{exchange:?}").contains("subj\""));
        let tokens = exchange
            .clone()
            .response(Response::json(
                200,
                r#"{"access_token":"new","issued_token_type":"urn:ietf:params:oauth:token-type:access_token","token_type":"Bearer","expires_in":60}"#,
                UNIX_EPOCH,
            ))
            .unwrap();
        assert_eq!(tokens.issued_token_type(), Some(token_types::ACCESS_TOKEN));
        let na = exchange
            .clone()
            .response(Response::json(
                200,
                r#"{"access_token":"jwt","issued_token_type":"urn:ietf:params:oauth:token-type:jwt","token_type":"N_A"}"#,
                UNIX_EPOCH,
            ))
            .unwrap();
        assert_eq!(na.token_type(), &TokenType::Other("N_A".into()));
        assert!(
            exchange
                .clone()
                .response(Response::json(
                    200,
                    r#"{"access_token":"x","issued_token_type":"t","token_type":"mac"}"#,
                    UNIX_EPOCH
                ))
                .is_err()
        );
        assert!(
            exchange
                .response(Response::json(
                    200,
                    r#"{"access_token":"x","token_type":"Bearer"}"#,
                    UNIX_EPOCH
                ))
                .is_err()
        );
    }
}
