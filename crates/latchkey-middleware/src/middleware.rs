//! [`BearerMiddleware`]: the token manager as a `reqwest_middleware::Middleware`.

use http::Extensions;
use latchkey::manage::bearer::Origins;
use latchkey::{AccessToken, Dpop};
use reqwest_middleware::{Middleware, Next};

use crate::{Credentials, Then, TokenSource, then};

/// Sends `Authorization: Bearer` to the configured origins, renews once on `invalid_token`
/// and sends the request once more when reqwest can copy it (not a streaming body); see the
/// [crate docs](crate).
#[derive(Clone, Debug)]
pub struct BearerMiddleware<T> {
    source: T,
    origins: Origins,
}

impl<T: TokenSource> BearerMiddleware<T> {
    /// Tokens from `source`, sent only to `origins`.
    pub fn new(source: T, origins: Origins) -> Self {
        Self { source, origins }
    }
}

#[async_trait::async_trait]
impl<T: TokenSource> Middleware for BearerMiddleware<T> {
    async fn handle(
        &self,
        request: reqwest::Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        if !self.origins.contains(request.url()) {
            return next.run(request, extensions).await;
        }
        let (url, dpop) = (request.url().clone(), self.source.dpop());
        let again = request.try_clone();
        let token = self.token().await?;
        let response = next
            .clone()
            .run(with_token(request, &token, dpop.as_ref())?, extensions)
            .await?;
        let Some(again) = again else {
            return Ok(response);
        };
        let token = match then(dpop.as_ref(), &url, response.status(), response.headers()) {
            Then::Return => return Ok(response),
            Then::SendWithNonce => token,
            Then::Renew => {
                self.source.invalidate(&token);
                self.token().await?
            }
        };
        next.run(with_token(again, &token, dpop.as_ref())?, extensions)
            .await
    }
}

impl<T: TokenSource> BearerMiddleware<T> {
    async fn token(&self) -> reqwest_middleware::Result<AccessToken> {
        self.source
            .access_token()
            .await
            .map_err(reqwest_middleware::Error::middleware)
    }
}

fn with_token(
    mut request: reqwest::Request,
    token: &AccessToken,
    dpop: Option<&Dpop>,
) -> reqwest_middleware::Result<reqwest::Request> {
    let credentials = Credentials::new(token, dpop, request.method(), request.url())
        .map_err(reqwest_middleware::Error::middleware)?;
    credentials.apply(request.headers_mut());
    Ok(request)
}
