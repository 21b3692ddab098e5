//! The core's hand-written serde impls against what `#[derive]` with the attributes they
//! replaced produces: for every input, both accept it (and write the same JSON back) or both
//! refuse it with the same message.

use latchkey::{
    Introspection, PendingAuthorization, PendingImplicit, PkceMethod, ServerMetadata, TokenSet,
    TokenType,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The types as derive wrote them, with the attributes the hand-written impls replaced.
mod derived {
    use latchkey::{AccessToken, PkceVerifier, RefreshToken, State};
    use serde::{Deserialize, Serialize};
    use serde_json::{Map, Value};

    #[derive(Serialize, Deserialize)]
    pub(super) struct PendingImplicit {
        pub(super) state: State,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub(super) issuer: Option<String>,
        #[serde(default)]
        pub(super) require_iss: bool,
    }

    #[derive(Serialize, Deserialize)]
    pub(super) struct PendingAuthorization {
        pub(super) state: State,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub(super) pkce_verifier: Option<PkceVerifier>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub(super) redirect_uri: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub(super) issuer: Option<String>,
        #[serde(default)]
        pub(super) require_iss: bool,
    }

    #[derive(Serialize, Deserialize)]
    pub(super) enum TokenType {
        Bearer,
        DPoP,
        Other(String),
    }

    #[derive(Serialize, Deserialize)]
    pub(super) enum PkceMethod {
        S256,
        Plain,
    }

    #[derive(Serialize, Deserialize)]
    pub(super) struct TokenSet {
        pub(super) access_token: AccessToken,
        pub(super) token_type: TokenType,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub(super) expires_in: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub(super) expires_at: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub(super) refresh_token: Option<RefreshToken>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub(super) scope: Option<String>,
        #[serde(default, skip_serializing_if = "Map::is_empty")]
        pub(super) extra: Map<String, Value>,
    }

    #[derive(Serialize, Deserialize)]
    pub(super) struct ServerMetadata {
        pub(super) issuer: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub(super) authorization_endpoint: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub(super) token_endpoint: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub(super) userinfo_endpoint: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub(super) jwks_uri: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub(super) registration_endpoint: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub(super) revocation_endpoint: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub(super) introspection_endpoint: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub(super) device_authorization_endpoint: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub(super) pushed_authorization_request_endpoint: Option<String>,
        #[serde(default)]
        pub(super) require_pushed_authorization_requests: bool,
        #[serde(default)]
        pub(super) authorization_response_iss_parameter_supported: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub(super) scopes_supported: Option<Vec<String>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub(super) response_types_supported: Option<Vec<String>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub(super) grant_types_supported: Option<Vec<String>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub(super) token_endpoint_auth_methods_supported: Option<Vec<String>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub(super) code_challenge_methods_supported: Option<Vec<String>>,
        #[serde(flatten)]
        pub(super) extra: Map<String, Value>,
    }

    #[derive(Serialize, Deserialize)]
    pub(super) struct Introspection {
        pub(super) active: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub(super) scope: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub(super) client_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub(super) username: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub(super) token_type: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub(super) exp: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub(super) iat: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub(super) nbf: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub(super) sub: Option<String>,
        #[serde(
            default,
            skip_serializing_if = "Vec::is_empty",
            deserialize_with = "one_or_many"
        )]
        pub(super) aud: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub(super) iss: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub(super) jti: Option<String>,
        #[serde(flatten)]
        pub(super) extra: Map<String, Value>,
    }

    fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum OneOrMany {
            One(String),
            Many(Vec<String>),
        }
        Ok(match Option::<OneOrMany>::deserialize(d)? {
            None => Vec::new(),
            Some(OneOrMany::One(s)) => vec![s],
            Some(OneOrMany::Many(v)) => v,
        })
    }
}

/// Compares `T` (hand-written) with `M` (derived) on `input`.
fn same<T: Serialize + DeserializeOwned, M: Serialize + DeserializeOwned>(input: &str) {
    let ours = serde_json::from_str::<T>(input);
    let derived = serde_json::from_str::<M>(input);
    match (ours, derived) {
        (Ok(ours), Ok(derived)) => assert_eq!(
            serde_json::to_string(&ours).unwrap(),
            serde_json::to_string(&derived).unwrap(),
            "{input}"
        ),
        (Err(ours), Err(derived)) => assert_eq!(ours.to_string(), derived.to_string(), "{input}"),
        (ours, derived) => panic!(
            "{input}: ours {:?}, derived {:?}",
            ours.err().map(|e| e.to_string()),
            derived.err().map(|e| e.to_string())
        ),
    }
}

const STATE: &str = "\"st\"";
const VERIFIER: &str = "\"0123456789012345678901234567890123456789abc\"";

#[test]
fn pending_implicit() {
    for input in [
        format!(r#"{{"state":{STATE}}}"#),
        format!(r#"{{"state":{STATE},"issuer":"https://as","require_iss":true,"x":[1]}}"#),
        format!(r#"{{"state":{STATE},"issuer":null}}"#),
        format!(r#"{{"state":{STATE},"state":{STATE}}}"#),
        format!(r#"{{"state":{STATE},"issuer":null,"issuer":"a"}}"#),
        format!(r#"{{"state":{STATE},"require_iss":"yes"}}"#),
        r#"{"issuer":"a"}"#.to_owned(),
        r#"{"state":5}"#.to_owned(),
        format!(r#"[{STATE}]"#),
        format!(r#"[{STATE},"i",true]"#),
        "[]".to_owned(),
        "[1]".to_owned(),
        "5".to_owned(),
        "null".to_owned(),
    ] {
        same::<PendingImplicit, derived::PendingImplicit>(&input);
    }
}

#[test]
fn pending_authorization() {
    for input in [
        format!(
            r#"{{"state":{STATE},"pkce_verifier":{VERIFIER},"redirect_uri":"http://127.0.0.1/cb"}}"#
        ),
        format!(r#"{{"state":{STATE},"pkce_verifier":"short"}}"#),
        format!(r#"{{"require_iss":false,"state":{STATE},"issuer":"i"}}"#),
        format!(r#"{{"state":{STATE},"pkce_verifier":{VERIFIER},"pkce_verifier":{VERIFIER}}}"#),
        format!(r#"[{STATE},null,"r"]"#),
        format!(r#"[{STATE},{VERIFIER},"r","i",true]"#),
        r#"{"pkce_verifier":null}"#.to_owned(),
    ] {
        same::<PendingAuthorization, derived::PendingAuthorization>(&input);
    }
}

#[test]
fn enums() {
    for input in [
        r#""Bearer""#,
        r#""DPoP""#,
        r#""bearer""#,
        r#"{"Other":"mac"}"#,
        r#"{"Other":5}"#,
        r#"{"Bearer":null}"#,
        r#""Other""#,
        r#"{"Bearer":1}"#,
        "2",
        "[]",
    ] {
        same::<TokenType, derived::TokenType>(input);
    }
    for input in [
        r#""S256""#,
        r#""Plain""#,
        r#""plain""#,
        r#"{"S256":null}"#,
        "0",
    ] {
        same::<PkceMethod, derived::PkceMethod>(input);
    }
}

#[test]
fn token_set() {
    for input in [
        r#"{"access_token":"a","token_type":"Bearer"}"#,
        r#"{"access_token":"a","token_type":{"Other":"mac"},"expires_in":60,"expires_at":1700000000,"refresh_token":"r","scope":"s t","extra":{"id_token":"x"}}"#,
        r#"{"access_token":"a","token_type":"Bearer","extra":{}}"#,
        r#"{"access_token":"a","token_type":"Bearer","expires_at":null,"unknown":1}"#,
        r#"{"access_token":"a","token_type":"Bearer","expires_at":-1}"#,
        r#"{"access_token":"a"}"#,
        r#"{"access_token":"a","token_type":"Bearer","access_token":"b"}"#,
        r#"["a","Bearer",1,2,"r","s",{}]"#,
        r#"["a","Bearer"]"#,
        r#"["a"]"#,
    ] {
        same::<TokenSet, derived::TokenSet>(input);
    }
}

#[test]
fn server_metadata() {
    for input in [
        r#"{"issuer":"https://as"}"#,
        r#"{"issuer":"https://as","token_endpoint":"https://as/t","x":{"y":[1,null]},"code_challenge_methods_supported":["S256"],"require_pushed_authorization_requests":true,"a":1}"#,
        r#"{"issuer":"https://as","scopes_supported":"openid"}"#,
        r#"{"issuer":"https://as","scopes_supported":[1]}"#,
        r#"{"issuer":"https://as","issuer":"https://other"}"#,
        r#"{"issuer":"https://as","x":1,"x":2}"#,
        r#"{"issuer":"https://as","jwks_uri":null,"authorization_response_iss_parameter_supported":null}"#,
        r#"{"token_endpoint":"https://as/t"}"#,
        r#"["https://as"]"#,
        r#"{"issuer":5}"#,
    ] {
        same::<ServerMetadata, derived::ServerMetadata>(input);
    }
}

#[test]
fn introspection() {
    for input in [
        r#"{"active":false}"#,
        r#"{"active":true,"scope":"a b","client_id":"c","exp":1,"iat":2,"nbf":3,"sub":"s","aud":"x","iss":"i","jti":"j","ext":{"k":true}}"#,
        r#"{"active":true,"aud":["x","y"]}"#,
        r#"{"active":true,"aud":[]}"#,
        r#"{"active":true,"aud":null}"#,
        r#"{"active":true,"exp":-1}"#,
        r#"{"active":true,"exp":1.5}"#,
        r#"{"active":"true"}"#,
        r#"{"scope":"a"}"#,
        r#"{"active":true,"active":false}"#,
        r#"[true]"#,
    ] {
        same::<Introspection, derived::Introspection>(input);
    }
    // The one place the messages differ: derive's untagged enum says "data did not match any
    // variant"; the hand-written reader names what it expected. Both refuse.
    for input in [r#"{"active":true,"aud":5}"#, r#"{"active":true,"aud":[1]}"#] {
        assert!(serde_json::from_str::<Introspection>(input).is_err());
        assert!(serde_json::from_str::<derived::Introspection>(input).is_err());
    }
}
