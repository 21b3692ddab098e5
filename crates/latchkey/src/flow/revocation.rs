//! Token revocation ([RFC 7009](https://www.rfc-editor.org/rfc/rfc7009)).

use crate::url::Url;

use crate::drive::http::{Request, Response, RetryMode};
use crate::{Client, Error, Exchange};

/// Which kind of token is passed (RFC 7009 §2.1, RFC 7662 §2.1): a hint the server may use
/// to find it faster.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenTypeHint {
    /// `access_token`
    AccessToken,
    /// `refresh_token`
    RefreshToken,
}

impl TokenTypeHint {
    /// The hint's value on the wire.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AccessToken => "access_token",
            Self::RefreshToken => "refresh_token",
        }
    }
}

/// A token the caller passes to revocation or introspection.
pub trait TokenToSend {
    /// The token and its type hint.
    fn token_and_hint(&self) -> (&str, TokenTypeHint);
}

impl TokenToSend for crate::AccessToken {
    fn token_and_hint(&self) -> (&str, TokenTypeHint) {
        (self.expose_secret(), TokenTypeHint::AccessToken)
    }
}

impl TokenToSend for crate::RefreshToken {
    fn token_and_hint(&self) -> (&str, TokenTypeHint) {
        (self.expose_secret(), TokenTypeHint::RefreshToken)
    }
}

/// A token and its hint, sent to a client-authenticated endpoint: what revocation and
/// introspection have in common.
#[derive(Clone)]
pub(crate) struct TokenCall {
    client: Client,
    url: Url,
    token: String,
    hint: Option<TokenTypeHint>,
}

impl TokenCall {
    pub(crate) fn new(
        client: &Client,
        endpoint: &'static str,
        token: &impl TokenToSend,
    ) -> Result<Self, Error> {
        let (token, hint) = token.token_and_hint();
        Ok(Self {
            url: client.endpoint(endpoint)?.clone(),
            client: client.clone(),
            token: token.to_owned(),
            hint: Some(hint),
        })
    }

    pub(crate) fn without_hint(mut self) -> Self {
        self.hint = None;
        self
    }

    pub(crate) fn request(&self, now: Option<std::time::SystemTime>) -> Result<Request, Error> {
        let mut params: Vec<(&str, &str)> = vec![("token", &self.token)];
        if let Some(hint) = self.hint {
            params.push(("token_type_hint", hint.as_str()));
        }
        self.client.authenticated_request(
            &self.url,
            None,
            &params,
            &[],
            false,
            RetryMode::Idempotent,
            now,
        )
    }

    /// What must never show in an error excerpt.
    pub(crate) fn secrets(&self) -> [&str; 2] {
        [self.token.as_str(), self.client.secret_str()]
    }
}

impl core::fmt::Debug for TokenCall {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TokenCall")
            .field("url", &self.url.as_str())
            .field("token", &"<redacted>")
            .field("hint", &self.hint)
            .finish()
    }
}

/// Revokes an access or refresh token. Safe to retry (revoking twice is harmless).
#[must_use = "send this exchange with an adapter"]
#[derive(Clone, Debug)]
pub struct Revocation(TokenCall);

impl Client {
    /// Revokes a token ([`AccessToken`](crate::AccessToken) or
    /// [`RefreshToken`](crate::RefreshToken)), with its `token_type_hint`.
    ///
    /// # Errors
    ///
    /// [`ConfigError::MissingEndpoint`](crate::ConfigError::MissingEndpoint) without a
    /// revocation endpoint.
    pub fn revoke(&self, token: &impl TokenToSend) -> Result<Revocation, Error> {
        TokenCall::new(self, "revocation", token).map(Revocation)
    }
}

impl Revocation {
    /// Sends no `token_type_hint` (for a token of unknown kind).
    pub fn without_hint(self) -> Self {
        Self(self.0.without_hint())
    }
}

impl Exchange for Revocation {
    /// Revocation answers nothing but success (RFC 7009 §2.2).
    type Output = ();

    fn request(&self) -> Result<Request, Error> {
        self.0.request(None)
    }

    fn request_at(&self, now: std::time::SystemTime) -> Result<Request, Error> {
        self.0.request(Some(now))
    }

    fn response(self, response: Response) -> Result<(), Error> {
        // RFC 7009 §2.2: 200 whether or not the token was valid; the body is ignored.
        if response.is_success() {
            return Ok(());
        }
        Err(crate::wire::error_response::error_response(
            &response,
            &self.0.secrets(),
        ))
    }
}
