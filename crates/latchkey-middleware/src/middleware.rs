//! [`BearerMiddleware`]: the token manager as a `reqwest_middleware::Middleware`.

use http::Extensions;
use latchkey::AccessToken;
use latchkey::manage::bearer::Origins;
use reqwest_middleware::{Middleware, Next};

use crate::{TokenSource, bearer, refused};

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
        let again = request.try_clone();
        let token = self.token().await?;
        let response = next
            .clone()
            .run(with_token(request, &token)?, extensions)
            .await?;
        let Some(again) = again.filter(|_| refused(response.status(), response.headers())) else {
            return Ok(response);
        };
        self.source.invalidate(&token);
        let token = self.token().await?;
        next.run(with_token(again, &token)?, extensions).await
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
) -> reqwest_middleware::Result<reqwest::Request> {
    let value = bearer(token).map_err(reqwest_middleware::Error::middleware)?;
    request
        .headers_mut()
        .insert(http::header::AUTHORIZATION, value);
    Ok(request)
}
