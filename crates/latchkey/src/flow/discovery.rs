//! Authorization server metadata discovery: [RFC 8414](https://www.rfc-editor.org/rfc/rfc8414)
//! (`/.well-known/oauth-authorization-server`, inserted before the issuer's path) and OpenID
//! Connect Discovery 1.0 (`/.well-known/openid-configuration`, appended to the issuer).
//!
//! The document's `issuer` must equal the requested issuer exactly (RFC 8414 §3.3), or it is
//! refused: a server must not be able to speak for another.

use crate::url::Url;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::parse_endpoint;
use crate::drive::http::{Method, Request, Response, RetryMode};
use crate::error::ResponseError;
use crate::wire::error_response::unexpected;
use crate::{Error, Exchange};

/// Which well-known document to ask for.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WellKnown {
    /// RFC 8414: `https://host/.well-known/oauth-authorization-server{/issuer-path}`.
    OAuthAuthorizationServer,
    /// OpenID Connect: `{issuer}/.well-known/openid-configuration`.
    OpenIdConfiguration,
}

/// Authorization server metadata (RFC 8414 §2). Members latchkey does not model are kept in
/// `extra`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServerMetadata {
    /// `issuer`
    pub issuer: String,
    /// `authorization_endpoint`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_endpoint: Option<String>,
    /// `token_endpoint`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint: Option<String>,
    /// `userinfo_endpoint` (OpenID Connect)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userinfo_endpoint: Option<String>,
    /// `jwks_uri`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// `registration_endpoint`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_endpoint: Option<String>,
    /// `revocation_endpoint` (RFC 7009)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint: Option<String>,
    /// `introspection_endpoint` (RFC 7662)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introspection_endpoint: Option<String>,
    /// `device_authorization_endpoint` (RFC 8628)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_authorization_endpoint: Option<String>,
    /// `pushed_authorization_request_endpoint` (RFC 9126)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pushed_authorization_request_endpoint: Option<String>,
    /// `require_pushed_authorization_requests` (RFC 9126 §5)
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
    /// `authorization_response_iss_parameter_supported` (RFC 9207 §3)
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
    /// `scopes_supported`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes_supported: Option<Vec<String>>,
    /// `response_types_supported`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_types_supported: Option<Vec<String>>,
    /// `grant_types_supported`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_types_supported: Option<Vec<String>>,
    /// `token_endpoint_auth_methods_supported`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// `code_challenge_methods_supported` (RFC 7636 via RFC 8414)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// Every other member.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ServerMetadata {
    /// True when the server lists `S256` among its PKCE methods (RFC 7636 via RFC 8414).
    /// `None` when it does not say.
    #[must_use]
    pub fn supports_pkce_s256(&self) -> Option<bool> {
        self.code_challenge_methods_supported
            .as_ref()
            .map(|m| m.iter().any(|m| m == "S256"))
    }
}

/// A discovery request. Safe to retry.
#[must_use = "send this exchange with an adapter"]
#[derive(Clone, Debug)]
pub struct Discovery {
    issuer: String,
    url: Url,
}

impl Discovery {
    /// Discovery for `issuer` using the given well-known document.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidUrl`](crate::ConfigError::InvalidUrl) when the issuer is not an
    /// `http(s)` URL without query or fragment (RFC 8414 §2).
    pub fn new(issuer: &str, kind: WellKnown) -> Result<Self, Error> {
        let parsed = parse_endpoint("issuer", issuer)?;
        if parsed.query().is_some() {
            return Err(crate::ConfigError::InvalidUrl {
                which: "issuer",
                reason: "an issuer must not have a query".into(),
            }
            .into());
        }
        let url = well_known_url(&parsed, kind);
        Ok(Self {
            issuer: issuer.to_owned(),
            url,
        })
    }

    /// The URL that will be fetched.
    #[must_use]
    pub fn url(&self) -> &Url {
        &self.url
    }
}

/// Builds the well-known URL for `issuer` (an endpoint without query or fragment).
fn well_known_url(issuer: &Url, kind: WellKnown) -> Url {
    let path = issuer.path().trim_end_matches('/');
    let new_path = match kind {
        // RFC 8414 §3.1: insert the well-known segment between host and path.
        WellKnown::OAuthAuthorizationServer => {
            format!("/.well-known/oauth-authorization-server{path}")
        }
        WellKnown::OpenIdConfiguration => format!("{path}/.well-known/openid-configuration"),
    };
    let mut url = issuer.clone();
    url.set_path(&new_path);
    url
}

impl Exchange for Discovery {
    type Output = ServerMetadata;

    fn request(&self) -> Result<Request, Error> {
        let mut request = Request::new(Method::Get, self.url.clone(), RetryMode::Idempotent);
        request.headers.append_static("accept", "application/json");
        Ok(request)
    }

    fn response(self, response: Response) -> Result<ServerMetadata, Error> {
        if !response.is_success() {
            return Err(unexpected(&response, "discovery document not served", &[]));
        }
        let metadata: ServerMetadata = serde_json::from_slice(&response.body)
            .map_err(|e| unexpected(&response, &format!("invalid metadata document: {e}"), &[]))?;
        if metadata.issuer != self.issuer {
            return Err(ResponseError::InvalidField {
                field: "issuer",
                reason: format!(
                    "the document is for {:?}, not the requested {:?} (RFC 8414 §3.3)",
                    crate::wire::error_response::bounded(&metadata.issuer, 200),
                    self.issuer
                ),
            }
            .into());
        }
        Ok(metadata)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn well_known_paths() {
        let d = Discovery::new("https://as.example", WellKnown::OAuthAuthorizationServer).unwrap();
        assert_eq!(
            d.url().as_str(),
            "https://as.example/.well-known/oauth-authorization-server"
        );
        let d = Discovery::new(
            "https://as.example/tenant/1",
            WellKnown::OAuthAuthorizationServer,
        )
        .unwrap();
        assert_eq!(
            d.url().as_str(),
            "https://as.example/.well-known/oauth-authorization-server/tenant/1"
        );
        let d = Discovery::new(
            "https://as.example/tenant/1/",
            WellKnown::OpenIdConfiguration,
        )
        .unwrap();
        assert_eq!(
            d.url().as_str(),
            "https://as.example/tenant/1/.well-known/openid-configuration"
        );
        assert!(Discovery::new("https://as.example/?x=1", WellKnown::OpenIdConfiguration).is_err());
        assert!(Discovery::new("ftp://as.example/", WellKnown::OpenIdConfiguration).is_err());
    }

    #[test]
    fn issuer_must_match_exactly() {
        let body = r#"{"issuer":"https://as.example","token_endpoint":"https://as.example/token","authorization_response_iss_parameter_supported":true,"custom":1}"#;
        let d = Discovery::new("https://as.example", WellKnown::OpenIdConfiguration).unwrap();
        let m = d.response(Response::json(200, body, UNIX_EPOCH)).unwrap();
        assert_eq!(
            m.token_endpoint.as_deref(),
            Some("https://as.example/token")
        );
        assert!(m.authorization_response_iss_parameter_supported);
        assert_eq!(m.extra["custom"], 1);
        let d = Discovery::new("https://as.example/", WellKnown::OpenIdConfiguration).unwrap();
        assert!(matches!(
            d.response(Response::json(200, body, UNIX_EPOCH)),
            Err(Error::Response(ResponseError::InvalidField {
                field: "issuer",
                ..
            }))
        ));
        let d = Discovery::new("https://as.example", WellKnown::OpenIdConfiguration).unwrap();
        assert!(d.response(Response::json(404, "{}", UNIX_EPOCH)).is_err());
    }
}
