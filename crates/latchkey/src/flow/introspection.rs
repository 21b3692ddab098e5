//! Token introspection ([RFC 7662](https://www.rfc-editor.org/rfc/rfc7662)).

use std::fmt;

use serde::de::{Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use serde_json::{Map, Value};

use crate::drive::http::{Request, Response};
use crate::flow::revocation::{TokenCall, TokenToSend};
use crate::wire::error_response::unexpected;
use crate::{Client, Error, Exchange};

/// An introspection answer (RFC 7662 §2.2): whether the token is active, and the standard
/// claims when the server shares them. Everything else is in `extra`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Introspection {
    /// `active`: the only member that is always present.
    pub active: bool,
    /// `scope`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// `client_id`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// `username`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// `token_type`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    /// `exp`, seconds since the epoch
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<u64>,
    /// `iat`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    /// `nbf`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// `sub`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// `aud`: one or several audiences
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "one_or_many"
    )]
    pub aud: Vec<String>,
    /// `iss`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// `jti`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// Every other member.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Introspection {
    /// The `x5t#S256` of the `cnf` member: the thumbprint of the client certificate the
    /// token is bound to (RFC 8705 §3.2). `None` when absent or not a SHA-256 thumbprint.
    #[must_use]
    pub fn certificate_thumbprint(&self) -> Option<crate::mtls::CertificateThumbprint> {
        self.extra
            .get("cnf")?
            .get("x5t#S256")?
            .as_str()
            .and_then(crate::mtls::CertificateThumbprint::parse)
    }
}

/// `aud`: one string or a list of strings (or `null`, as none) on the wire.
///
/// A visitor rather than derive's untagged enum, which would buffer the value and answer a wrong
/// type with "data did not match any variant" instead of saying what was expected.
fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an audience string or a list of them")
        }
        fn visit_unit<E>(self) -> Result<Vec<String>, E> {
            Ok(Vec::new())
        }
        fn visit_none<E>(self) -> Result<Vec<String>, E> {
            Ok(Vec::new())
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Vec<String>, D::Error> {
            d.deserialize_any(self)
        }
        fn visit_str<E>(self, v: &str) -> Result<Vec<String>, E> {
            Ok(vec![v.to_owned()])
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(16));
            while let Some(s) = seq.next_element::<String>()? {
                out.push(s);
            }
            Ok(out)
        }
    }
    d.deserialize_option(V)
}

/// Asks the authorization server about a token. Safe to retry.
#[must_use = "send this exchange with an adapter"]
#[derive(Clone, Debug)]
pub struct IntrospectionRequest(TokenCall);

impl Client {
    /// Introspects a token ([`AccessToken`](crate::AccessToken) or
    /// [`RefreshToken`](crate::RefreshToken)).
    ///
    /// # Errors
    ///
    /// [`ConfigError::MissingEndpoint`](crate::ConfigError::MissingEndpoint) without an
    /// introspection endpoint.
    pub fn introspect(&self, token: &impl TokenToSend) -> Result<IntrospectionRequest, Error> {
        TokenCall::new(self, "introspection", token).map(IntrospectionRequest)
    }
}

impl IntrospectionRequest {
    /// Sends no `token_type_hint`.
    pub fn without_hint(self) -> Self {
        Self(self.0.without_hint())
    }
}

impl Exchange for IntrospectionRequest {
    type Output = Introspection;

    fn request(&self) -> Result<Request, Error> {
        self.0.request(None)
    }

    fn request_at(&self, now: std::time::SystemTime) -> Result<Request, Error> {
        self.0.request(Some(now))
    }

    fn response(self, response: Response) -> Result<Introspection, Error> {
        let secrets = self.0.secrets();
        if !response.is_success() {
            return Err(crate::wire::error_response::error_response(
                &response, &secrets,
            ));
        }
        serde_json::from_slice(&response.body).map_err(|e| {
            unexpected(
                &response,
                &format!("invalid introspection response: {e}"),
                &secrets,
            )
        })
    }
}
