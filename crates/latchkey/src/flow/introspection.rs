//! Token introspection ([RFC 7662](https://www.rfc-editor.org/rfc/rfc7662)).

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Serialize, Serializer};
use std::fmt;

use serde_json::{Map, Value};

use crate::flow::revocation::{TokenCall, TokenToSend};
use crate::http::{Request, Response};
use crate::token::unexpected;
use crate::{Client, Error, Exchange};

/// An introspection answer (RFC 7662 §2.2): whether the token is active, and the standard
/// claims when the server shares them. Everything else is in `extra`.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Introspection {
    /// `active`: the only member that is always present.
    pub active: bool,
    /// `scope`
    pub scope: Option<String>,
    /// `client_id`
    pub client_id: Option<String>,
    /// `username`
    pub username: Option<String>,
    /// `token_type`
    pub token_type: Option<String>,
    /// `exp`, seconds since the epoch
    pub exp: Option<u64>,
    /// `iat`
    pub iat: Option<u64>,
    /// `nbf`
    pub nbf: Option<u64>,
    /// `sub`
    pub sub: Option<String>,
    /// `aud`: one or several audiences
    pub aud: Vec<String>,
    /// `iss`
    pub iss: Option<String>,
    /// `jti`
    pub jti: Option<String>,
    /// Every other member.
    pub extra: Map<String, Value>,
}

crate::wire::json_object! {
    Introspection {
        active: crate::wire::Required,
        scope: crate::wire::Optional,
        client_id: crate::wire::Optional,
        username: crate::wire::Optional,
        token_type: crate::wire::Optional,
        exp: crate::wire::Optional,
        iat: crate::wire::Optional,
        nbf: crate::wire::Optional,
        sub: crate::wire::Optional,
        aud: OneOrMany,
        iss: crate::wire::Optional,
        jti: crate::wire::Optional,
    }
    flatten extra
}

/// `aud`: one string or a list of strings (or `null`) on the wire, left out when empty.
struct OneOrMany;

impl crate::wire::Member<Vec<String>> for OneOrMany {
    fn skip(value: &Vec<String>) -> bool {
        value.is_empty()
    }
    fn missing<E: de::Error>(_: &'static str) -> Result<Vec<String>, E> {
        Ok(Vec::new())
    }
}

impl crate::wire::Emit<Vec<String>> for OneOrMany {
    fn serialize<S: Serializer>(value: &Vec<String>, s: S) -> Result<S::Ok, S::Error> {
        value.serialize(s)
    }
}

impl<'de> crate::wire::Read<'de, Vec<String>> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
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
        self.0.request()
    }

    fn response(self, response: Response) -> Result<Introspection, Error> {
        let secrets = self.0.secrets();
        if !response.is_success() {
            return Err(crate::token::error_response(&response, &secrets));
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
