//! Sending an access token to a resource server
//! ([RFC 6750 §2.1](https://www.rfc-editor.org/rfc/rfc6750#section-2.1)): the decisions the
//! token managers' bearer helpers share.
//!
//! - [`Origins`]: the only origins (scheme, host, port) an access token is ever sent to. A
//!   request for any other origin is refused before anything is sent.
//! - [`authorize`]: puts `Authorization: Bearer` on a request and forbids following
//!   redirects, so the token never travels on to wherever a `Location` header points
//!   (golang/oauth2 #805 leaked bearer tokens that way).
//! - [`token_rejected`]: whether an answer says the token itself is no good (`401` with
//!   `WWW-Authenticate: Bearer error="invalid_token"`,
//!   [RFC 6750 §3.1](https://www.rfc-editor.org/rfc/rfc6750#section-3.1)), so that renewing it
//!   and trying once more can help.

use ::url::Origin;

use crate::url::Url;

use crate::drive::http::{Request, Response};
use crate::error::ConfigError;
use crate::secret::AccessToken;
use crate::wire::challenge::Challenge;
use crate::{Error, client::parse_endpoint};

/// The origins an access token may be sent to. Empty by default: nothing is allowed until
/// an origin is added.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origins(Vec<Origin>);

impl Origins {
    /// No origin allowed.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Allows the origin of `url` (its path is ignored: `https://api.example.com/v1` allows
    /// every path on `https://api.example.com`).
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidUrl`] when `url` is not an absolute `http(s)` URL.
    pub fn allow(mut self, url: &str) -> Result<Self, Error> {
        let url = parse_endpoint("resource", url)?;
        let origin = url.origin();
        if !self.0.contains(&origin) {
            self.0.push(origin);
        }
        Ok(self)
    }

    /// Allows the origin of every URL in `urls`.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidUrl`] for the first that is not an absolute `http(s)` URL.
    pub fn from_urls(urls: &[String]) -> Result<Self, Error> {
        urls.iter()
            .try_fold(Self::new(), |origins, url| origins.allow(url))
    }

    /// True when `url`'s origin is allowed.
    #[must_use]
    pub fn contains(&self, url: &Url) -> bool {
        let origin = url.origin();
        origin.is_tuple() && self.0.contains(&origin)
    }

    /// True when no origin is allowed.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Refuses a URL whose origin is not allowed.
    ///
    /// # Errors
    ///
    /// [`ConfigError::ForeignOrigin`] naming the origin (never the path or query).
    pub fn check(&self, url: &Url) -> Result<(), Error> {
        if self.contains(url) {
            Ok(())
        } else {
            Err(ConfigError::ForeignOrigin(url.origin().ascii_serialization()).into())
        }
    }
}

/// A copy of `request` with `Authorization: Bearer <token>`, never to follow a redirect
/// (see [`authorize`]).
pub fn authorized(request: &Request, token: &AccessToken) -> Request {
    let mut request = request.clone();
    authorize(&mut request, token);
    request
}

/// Sets `Authorization: Bearer <token>` on `request` (replacing any `Authorization` it had)
/// and marks it never to follow a redirect.
pub fn authorize(request: &mut Request, token: &AccessToken) {
    request
        .headers
        .insert("Authorization", format!("Bearer {}", token.expose_secret()));
    request.follow_redirects = false;
}

/// A resource request carrying an access token the way the token needs: `Bearer`, or, when
/// the client proves possession of a DPoP key, `DPoP` with a fresh proof on each attempt
/// ([`Dpop::bind`](crate::Dpop::bind)). An [`Exchange`](crate::Exchange) whose answer is
/// handed back whatever its status: a token manager sends it through the
/// [`SendDriver`](crate::drive::SendDriver), which answers a resource server's
/// `use_dpop_nonce` once. Neither kind follows redirects.
#[derive(Clone, Debug)]
#[must_use = "an exchange does nothing until it is sent"]
pub enum Authorized {
    /// `Authorization: Bearer <token>`.
    Bearer(Request),
    /// `Authorization: DPoP <token>` and a `DPoP` proof.
    #[cfg(feature = "oidc")]
    Dpop(crate::dpop::BoundRequest),
}

/// `request` carrying `token`: as DPoP when `dpop` is given (the client's key; the tokens
/// it obtained are DPoP-bound), else as a bearer token.
#[cfg(feature = "oidc")]
pub fn authorized_with(
    request: &Request,
    token: &AccessToken,
    dpop: Option<&crate::Dpop>,
) -> Authorized {
    match dpop {
        Some(dpop) => Authorized::Dpop(dpop.bind(request, token)),
        None => Authorized::Bearer(authorized(request, token)),
    }
}

impl crate::Exchange for Authorized {
    type Output = Response;

    fn request(&self) -> Result<Request, Error> {
        match self {
            Self::Bearer(request) => Ok(request.clone()),
            #[cfg(feature = "oidc")]
            Self::Dpop(bound) => bound.request(),
        }
    }

    fn response(self, response: Response) -> Result<Response, Error> {
        Ok(response)
    }

    #[cfg(feature = "oidc")]
    fn dpop(&self) -> Option<&crate::Dpop> {
        match self {
            Self::Bearer(_) => None,
            Self::Dpop(bound) => bound.dpop(),
        }
    }
}

/// True when `response` rejects the access token itself: `401` with a `Bearer` (or, for a
/// DPoP-bound token, `DPoP`) challenge whose `error` is `invalid_token` (expired, revoked,
/// malformed). A fresh token may then
/// succeed; any other answer is the resource server's to give.
#[must_use]
pub fn token_rejected(response: &Response) -> bool {
    rejects_token(
        response.status,
        response.headers.get_all("www-authenticate"),
    )
}

/// [`token_rejected`] for another HTTP stack's answer: its status and its `WWW-Authenticate`
/// header values (for a tower layer, a middleware).
#[must_use]
pub fn rejects_token<'a>(status: u16, www_authenticate: impl IntoIterator<Item = &'a str>) -> bool {
    status == 401
        && www_authenticate
            .into_iter()
            .flat_map(Challenge::parse_all)
            .any(|c| {
                (c.scheme.eq_ignore_ascii_case("bearer") || c.scheme.eq_ignore_ascii_case("dpop"))
                    && c.param("error") == Some("invalid_token")
            })
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;
    use crate::drive::http::{Headers, Method, RetryMode};

    #[test]
    fn origins_compare_scheme_host_and_port() {
        let origins = Origins::new()
            .allow("https://api.example.com/v1")
            .unwrap()
            .allow("http://127.0.0.1:8080")
            .unwrap();
        let ok = |u: &str| origins.contains(&Url::parse(u).unwrap());
        assert!(ok("https://api.example.com/other?q=1"));
        assert!(ok("https://api.example.com:443/"));
        assert!(ok("http://127.0.0.1:8080/x"));
        assert!(!ok("http://api.example.com/"));
        assert!(!ok("https://api.example.com:8443/"));
        assert!(!ok("https://evil.example.com/"));
        assert!(!ok("https://api.example.com.evil.example/"));
        assert!(!ok("http://127.0.0.1:8081/x"));
        assert!(!ok("data:text/plain,hi"));
        let e = origins
            .check(&Url::parse("https://evil.example/secret?path").unwrap())
            .unwrap_err();
        assert_eq!(
            e,
            Error::Config(ConfigError::ForeignOrigin("https://evil.example".into()))
        );
        assert!(Origins::new().is_empty());
        assert!(Origins::new().allow("not a url").is_err());
    }

    #[test]
    fn authorize_replaces_and_forbids_redirects() {
        let mut request = Request::new(
            Method::Get,
            Url::parse("https://api.example.com/").unwrap(),
            RetryMode::Idempotent,
        );
        request.headers.append("authorization", "Basic old");
        request.follow_redirects = true;
        authorize(&mut request, &AccessToken::new("at-1"));
        assert_eq!(request.headers.get_all("Authorization").count(), 1);
        assert_eq!(request.headers.get("authorization"), Some("Bearer at-1"));
        assert!(!request.follow_redirects);
    }

    #[test]
    fn only_invalid_token_is_a_rejection() {
        let answer = |status: u16, challenge: Option<&str>| {
            let mut headers = Headers::new();
            if let Some(c) = challenge {
                headers.append("WWW-Authenticate", c);
            }
            Response::new(status, headers, Vec::new(), UNIX_EPOCH)
        };
        assert!(token_rejected(&answer(
            401,
            Some(r#"Bearer realm="api", error="invalid_token", error_description="expired""#)
        )));
        assert!(token_rejected(&answer(
            401,
            Some(r#"Basic realm="x", bearer error=invalid_token"#)
        )));
        assert!(!token_rejected(&answer(
            401,
            Some(r#"Bearer error="insufficient_scope""#)
        )));
        assert!(!token_rejected(&answer(401, Some(r#"Bearer realm="api""#))));
        assert!(!token_rejected(&answer(401, None)));
        assert!(!token_rejected(&answer(
            403,
            Some(r#"Bearer error="invalid_token""#)
        )));
    }
}
