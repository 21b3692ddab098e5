//! Token revocation ([RFC 7009](https://www.rfc-editor.org/rfc/rfc7009)).

use url::Url;

use crate::error::ServerError;
use crate::http::{Request, Response, RetryMode};
use crate::token::unexpected;
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

/// Revokes an access or refresh token. Safe to retry (revoking twice is harmless).
#[must_use = "send this exchange with an adapter"]
#[derive(Clone)]
pub struct Revocation {
    client: Client,
    url: Url,
    token: String,
    hint: Option<TokenTypeHint>,
}

impl core::fmt::Debug for Revocation {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Revocation")
            .field("url", &self.url.as_str())
            .field("token", &"<redacted>")
            .field("hint", &self.hint)
            .finish()
    }
}

impl Client {
    /// Revokes a token ([`AccessToken`](crate::AccessToken) or
    /// [`RefreshToken`](crate::RefreshToken)), with its `token_type_hint`.
    ///
    /// # Errors
    ///
    /// [`ConfigError::MissingEndpoint`](crate::ConfigError::MissingEndpoint) without a
    /// revocation endpoint.
    pub fn revoke(&self, token: &impl TokenToSend) -> Result<Revocation, Error> {
        let (token, hint) = token.token_and_hint();
        Ok(Revocation {
            url: self.endpoint("revocation")?.clone(),
            client: self.clone(),
            token: token.to_owned(),
            hint: Some(hint),
        })
    }
}

impl Revocation {
    /// Sends no `token_type_hint` (for a token of unknown kind).
    pub fn without_hint(mut self) -> Self {
        self.hint = None;
        self
    }
}

impl Exchange for Revocation {
    /// Revocation answers nothing but success (RFC 7009 §2.2).
    type Output = ();

    fn request(&self) -> Request {
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
        )
    }

    fn response(self, response: Response) -> Result<(), Error> {
        // RFC 7009 §2.2: 200 whether or not the token was valid; the body is ignored.
        if response.is_success() {
            return Ok(());
        }
        let secrets = [self.token.as_str(), self.client.secret_str()];
        Err(
            ServerError::from_json(Some(response.status), &response.body).map_or_else(
                || unexpected(&response, "not an OAuth error object", &secrets),
                Error::from,
            ),
        )
    }
}
