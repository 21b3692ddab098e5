//! Fetching the issuer's JWK set (`jwks_uri`, [OpenID Connect Discovery §3](https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderMetadata)):
//! a GET whose answer becomes a [`KeySet`] stamped with its arrival time and its maximum age
//! (`Cache-Control: max-age`, else [`KeySet::DEFAULT_MAX_AGE`]).

use crate::drive::http::{Method, Request, Response, RetryMode};
use crate::error::{ConfigError, IdTokenError};
use crate::jose::KeySet;
use crate::url::Url;
use crate::wire::error_response::unexpected;
use crate::{Client, Error, Exchange};

/// The largest JWK set read, in bytes.
const MAX_JWKS_BYTES: u64 = 512 * 1024;

/// A JWK set request. Safe to retry.
#[must_use = "send this exchange with an adapter"]
#[derive(Clone, Debug)]
pub struct Jwks {
    url: Url,
    client: Option<Client>,
}

impl Jwks {
    /// A request for the JWK set at `url`.
    pub fn at(url: Url) -> Self {
        Self { url, client: None }
    }

    /// The URL that will be fetched.
    #[must_use]
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The request, for callers that cannot fail (the URL was checked when it was set).
    pub(crate) fn request_value(&self) -> Request {
        let mut request = Request::new(Method::Get, self.url.clone(), RetryMode::Idempotent);
        request.headers.append_static("accept", "application/json");
        request.max_response_bytes = Some(MAX_JWKS_BYTES);
        request
    }

    /// Reads an answer into a key set.
    pub(crate) fn read(response: &Response) -> Result<KeySet, Error> {
        if !response.is_success() {
            return Err(unexpected(response, "JWK set not served", &[]));
        }
        let max_age = response
            .headers
            .get("cache-control")
            .and_then(crate::jose::cache_max_age)
            .unwrap_or(KeySet::DEFAULT_MAX_AGE);
        KeySet::from_json(&response.body, response.received_at, max_age).map_err(|e| match e {
            IdTokenError::KeySet(why) => unexpected(response, why, &[]),
            other => other.into(),
        })
    }
}

impl Client {
    /// Fetches the issuer's JWK set (`jwks_uri`). When the answer lands it also replaces the
    /// client's cached keys ([`Client::key_set`]).
    ///
    /// # Errors
    ///
    /// [`ConfigError::MissingEndpoint`] without a `jwks_uri`.
    pub fn jwks(&self) -> Result<Jwks, Error> {
        let url = self
            .id_token_settings()
            .jwks_uri
            .clone()
            .ok_or(ConfigError::MissingEndpoint("jwks"))?;
        Ok(Jwks {
            url,
            client: Some(self.clone()),
        })
    }
}

impl Exchange for Jwks {
    type Output = KeySet;

    fn request(&self) -> Result<Request, Error> {
        Ok(self.request_value())
    }

    fn response(self, response: Response) -> Result<KeySet, Error> {
        let keys = Self::read(&response)?;
        if let Some(client) = &self.client {
            client.set_key_set(keys.clone());
        }
        Ok(keys)
    }
}
