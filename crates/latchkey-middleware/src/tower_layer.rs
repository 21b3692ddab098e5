//! [`AuthLayer`]: the token manager as a tower `Layer`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::{Request, Response};
use latchkey::manage::bearer::Origins;
use latchkey::{AccessToken, Dpop, Error, Url};
use tower::{Layer, Service, ServiceExt as _};

use crate::{Credentials, Then, TokenSource, then};

/// Wraps a service in [`Auth`]: bearer tokens from `source` for `origins` (see the
/// [crate docs](crate)).
#[derive(Clone, Debug)]
pub struct AuthLayer<T> {
    source: T,
    origins: Origins,
}

impl<T: TokenSource> AuthLayer<T> {
    /// Tokens from `source`, sent only to `origins`.
    pub fn new(source: T, origins: Origins) -> Self {
        Self { source, origins }
    }
}

impl<S, T: Clone> Layer<S> for AuthLayer<T> {
    type Service = Auth<S, T>;

    fn layer(&self, inner: S) -> Auth<S, T> {
        Auth {
            inner,
            source: self.source.clone(),
            origins: self.origins.clone(),
        }
    }
}

/// A service that sends `Authorization: Bearer` to the configured origins, renews once on
/// `invalid_token` and sends the request once more (its body must be `Clone` for that).
#[derive(Clone, Debug)]
pub struct Auth<S, T> {
    inner: S,
    source: T,
    origins: Origins,
}

/// What an [`Auth`] service fails with: no token could be had, or the inner service failed.
#[derive(Debug)]
pub enum AuthError<E> {
    /// The token manager could not give a token (the renewal failed, a new login is needed).
    Token(Error),
    /// The wrapped service's own error.
    Inner(E),
}

impl<E: fmt::Display> fmt::Display for AuthError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Token(e) => write!(f, "no access token: {e}"),
            Self::Inner(e) => e.fmt(f),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for AuthError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Token(e) => Some(e),
            Self::Inner(e) => Some(e),
        }
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, T, B, R> Service<Request<B>> for Auth<S, T>
where
    S: Service<Request<B>, Response = Response<R>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Send,
    T: TokenSource,
    B: Clone + Send + 'static,
    R: Send + 'static,
{
    type Response = Response<R>;
    type Error = AuthError<S::Error>;
    type Future = BoxFuture<Result<Response<R>, AuthError<S::Error>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(AuthError::Inner)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        // The service that was polled ready answers this call; its clone waits for the next.
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
        let (source, url) = (self.source.clone(), self.allowed(&request));
        Box::pin(async move {
            let Some(url) = url else {
                return inner.call(request).await.map_err(AuthError::Inner);
            };
            let dpop = source.dpop();
            let again = copy(&request);
            let token = source.access_token().await.map_err(AuthError::Token)?;
            let response = inner
                .call(with_token(request, &token, dpop.as_ref(), &url)?)
                .await
                .map_err(AuthError::Inner)?;
            let token = match then(dpop.as_ref(), &url, response.status(), response.headers()) {
                Then::Return => return Ok(response),
                Then::SendWithNonce => token,
                Then::Renew => {
                    source.invalidate(&token);
                    source.access_token().await.map_err(AuthError::Token)?
                }
            };
            let inner = inner.ready().await.map_err(AuthError::Inner)?;
            inner
                .call(with_token(again, &token, dpop.as_ref(), &url)?)
                .await
                .map_err(AuthError::Inner)
        })
    }
}

impl<S, T> Auth<S, T> {
    /// The URL of `request` when it goes to one of the origins: an absolute `http(s)` URI
    /// whose origin was configured. A relative URI (a client that adds the host itself)
    /// never gets the token: its origin cannot be checked here.
    fn allowed<B>(&self, request: &Request<B>) -> Option<Url> {
        Url::parse(&request.uri().to_string())
            .ok()
            .filter(|url| self.origins.contains(url))
    }
}

/// A copy of `request` to send again (extensions included: http 1 requires them `Clone`).
fn copy<B: Clone>(request: &Request<B>) -> Request<B> {
    let mut copy = Request::new(request.body().clone());
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.version_mut() = request.version();
    *copy.headers_mut() = request.headers().clone();
    *copy.extensions_mut() = request.extensions().clone();
    copy
}

fn with_token<B, E>(
    mut request: Request<B>,
    token: &AccessToken,
    dpop: Option<&Dpop>,
    url: &Url,
) -> Result<Request<B>, AuthError<E>> {
    Credentials::new(token, dpop, request.method(), url)
        .map_err(AuthError::Token)?
        .apply(request.headers_mut());
    Ok(request)
}
