//! # latchkey-middleware: bearer tokens in the HTTP stack you already use
//!
//! A Rust service rarely calls `manager.execute(&request)` by hand: it has a tower stack
//! (hyper, tonic, aws-smithy, axum's clients) or reqwest with middleware. This crate puts a
//! latchkey token manager there:
//!
//! - [`AuthLayer`] (feature `tower`): a tower `Layer` around any
//!   `Service<http::Request<B>>`;
//! - [`BearerMiddleware`] (feature `reqwest-middleware`): a `reqwest_middleware::Middleware`
//!   for `ClientWithMiddleware`.
//!
//! Both behave the same way:
//!
//! - a request to one of the configured origins (scheme, host and port) gets
//!   `Authorization: Bearer <token>` from the manager (renewed first when it is about to
//!   expire: one renewal however many requests wait), marked sensitive; a request to any
//!   other origin goes out untouched, so the token never reaches a host it was not meant for;
//! - an answer `401` with `WWW-Authenticate: Bearer error="invalid_token"` makes the manager
//!   renew (once, for every request that saw the same token refused) and the request is sent
//!   once more when its body can be replayed; a second refusal is returned as it is;
//! - neither follows redirects. Put a redirect-following layer *outside* the auth layer, so
//!   every hop passes the origin check again (a reqwest client strips `Authorization` itself
//!   when a redirect leaves the host);
//! - clones share one manager (it is an `Arc` inside).
//!
//! The decisions are the core's: [`Origins`] and
//! [`rejects_token`](latchkey::manage::bearer::rejects_token).
//!
//! ```no_run
//! # async fn run(manager: latchkey_reqwest::TokenManager) -> Result<(), Box<dyn std::error::Error>> {
//! use latchkey::manage::bearer::Origins;
//! use latchkey_middleware::{AuthLayer, BearerMiddleware};
//!
//! let origins = Origins::new().allow("https://api.example.com")?;
//!
//! // tower: around a hyper client (or any Service<http::Request<B>> whose body is Clone).
//! let layer = AuthLayer::new(manager.clone(), origins.clone());
//! # let hyper_client = tower::service_fn(|_: http::Request<String>| async { Ok::<_, std::convert::Infallible>(http::Response::new(String::new())) });
//! let service = tower::ServiceBuilder::new().layer(layer).service(hyper_client);
//!
//! // reqwest-middleware
//! let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
//!     .with(BearerMiddleware::new(manager, origins))
//!     .build();
//! let answer = client.get("https://api.example.com/v1/me").send().await?;
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

use std::future::Future;
use std::time::SystemTime;

use latchkey::{AccessToken, Dpop, Error, Url};

pub use latchkey::manage::bearer::Origins;

#[cfg(feature = "reqwest-middleware")]
mod middleware;
#[cfg(feature = "tower")]
mod tower_layer;

#[cfg(feature = "reqwest-middleware")]
pub use middleware::BearerMiddleware;
#[cfg(feature = "tower")]
pub use tower_layer::{Auth, AuthError, AuthLayer};

/// Where the layer and the middleware get access tokens: `latchkey-reqwest`'s
/// [`TokenManager`](latchkey_reqwest::TokenManager), or anything else that renews tokens
/// the same way.
pub trait TokenSource: Clone + Send + Sync + 'static {
    /// A valid access token (renewed first when needed).
    fn access_token(&self) -> impl Future<Output = Result<AccessToken, Error>> + Send;

    /// `rejected` was refused by a resource server: the next call renews.
    fn invalidate(&self, rejected: &AccessToken);

    /// The DPoP key the access tokens are bound to, if they are
    /// ([RFC 9449](https://www.rfc-editor.org/rfc/rfc9449)): requests then carry
    /// `Authorization: DPoP` and a proof signed with it. Default: none (bearer tokens).
    fn dpop(&self) -> Option<Dpop> {
        None
    }
}

impl TokenSource for latchkey_reqwest::TokenManager {
    fn access_token(&self) -> impl Future<Output = Result<AccessToken, Error>> + Send {
        Self::access_token(self)
    }

    fn invalidate(&self, rejected: &AccessToken) {
        Self::invalidate(self, rejected);
    }

    fn dpop(&self) -> Option<Dpop> {
        Self::dpop(self).cloned()
    }
}

/// What a request to an allowed origin carries: `Authorization` (`Bearer` or `DPoP`), and
/// for DPoP a fresh proof.
struct Credentials {
    authorization: http::HeaderValue,
    proof: Option<http::HeaderValue>,
}

impl Credentials {
    /// The credentials for a `method` request to `url` with `token`, proved with `dpop`'s key
    /// when given.
    fn new(
        token: &AccessToken,
        dpop: Option<&Dpop>,
        method: &http::Method,
        url: &Url,
    ) -> Result<Self, Error> {
        let Some(dpop) = dpop else {
            return Ok(Self {
                authorization: header(
                    "Authorization",
                    format!("Bearer {}", token.expose_secret()),
                )?,
                proof: None,
            });
        };
        let proof = dpop.resource_proof(method.as_str(), url, SystemTime::now(), token)?;
        Ok(Self {
            authorization: header("Authorization", format!("DPoP {}", token.expose_secret()))?,
            proof: Some(header("DPoP", proof)?),
        })
    }

    /// Puts them on `headers`, replacing what was there.
    fn apply(self, headers: &mut http::HeaderMap) {
        headers.insert(http::header::AUTHORIZATION, self.authorization);
        match self.proof {
            Some(proof) => headers.insert(DPOP, proof),
            None => headers.remove(DPOP),
        };
    }
}

/// The `DPoP` proof header's name.
const DPOP: http::HeaderName = http::HeaderName::from_static("dpop");

/// `value` as a header value marked sensitive (left out of `Debug`, and of HPACK's index in
/// HTTP/2).
fn header(name: &str, value: String) -> Result<http::HeaderValue, Error> {
    // The error names no byte of the value.
    let mut value = http::HeaderValue::try_from(value).map_err(|_| {
        latchkey::ConfigError::InvalidParameter {
            name: name.to_owned(),
            reason: "the credential holds bytes a header cannot carry",
        }
    })?;
    value.set_sensitive(true);
    Ok(value)
}

/// What to do after an answer to a request that carried `token`.
enum Then {
    /// Hand the answer back.
    Return,
    /// Send once more with the nonce the resource server gave (DPoP), the same token.
    SendWithNonce,
    /// The token was refused: renew, then send once more.
    Renew,
}

/// The core's decisions on a resource server's answer: a DPoP nonce challenge (the nonce
/// is remembered either way) or a refused token.
fn then(
    dpop: Option<&Dpop>,
    url: &Url,
    status: http::StatusCode,
    headers: &http::HeaderMap,
) -> Then {
    let challenges = || {
        headers
            .get_all(http::header::WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
    };
    let nonce = headers.get("dpop-nonce").and_then(|v| v.to_str().ok());
    if dpop.is_some_and(|d| d.answered(url, status.as_u16(), challenges(), nonce)) {
        Then::SendWithNonce
    } else if latchkey::manage::bearer::rejects_token(status.as_u16(), challenges()) {
        Then::Renew
    } else {
        Then::Return
    }
}
