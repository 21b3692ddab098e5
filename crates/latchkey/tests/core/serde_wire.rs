//! The wire format of the core's serde types and of the JSON responses it reads, pinned: for
//! each input, the JSON a type writes back or the exact error.
//!
//! The types derive their serde impls. The tables were recorded from the hand-written impls the
//! derives replaced (which this file used to compare with the same derives), and then kept: a
//! change of attribute, of serde's behaviour or of a member's rules shows up here. The one
//! intended change is in token responses: a repeated member is refused with serde's own
//! "duplicate field" error even when an earlier occurrence was `null`, and a repeated
//! `error_description` or `error_uri` in an error object sent with HTTP 200 is refused as
//! `ServerError::from_json` always refused it (the hand-written reader kept the last one).

use std::time::UNIX_EPOCH;

use latchkey::{
    Client, Dialect, Error, Exchange, Introspection, PendingAuthorization, PendingImplicit,
    PkceMethod, Response, ResponseError, ServerError, ServerMetadata, State, TokenSet, TokenType,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The JSON written back, or the error message.
type Want = Result<&'static str, &'static str>;

/// Reads each input as `T` and writes it back.
fn round_trip<T: Serialize + DeserializeOwned>(cases: &[(&str, Want)]) {
    for (input, want) in cases {
        let got = serde_json::from_str::<T>(input)
            .map(|value| serde_json::to_string(&value).unwrap())
            .map_err(|e| e.to_string());
        assert_eq!(got.as_deref().map_err(String::as_str), *want, "{input}");
    }
}

/// What a response parser made of a body: its summary, or the error. Of an unexpected
/// response only the reason is compared: the body excerpt has tests of its own.
fn outcome<T>(
    result: Result<T, Error>,
    summary: impl FnOnce(T) -> String,
) -> Result<String, String> {
    result.map(summary).map_err(|e| match e {
        Error::Response(ResponseError::Unexpected { reason, .. }) => reason,
        other => other.to_string(),
    })
}

fn check(input: &str, got: Result<String, String>, want: Want) {
    assert_eq!(got.as_deref().map_err(String::as_str), want, "{input}");
}

#[test]
fn pending_implicit() {
    round_trip::<PendingImplicit>(&[
        (
            r#"{"state":"st"}"#,
            Ok(r#"{"state":"st","require_iss":false}"#),
        ),
        (
            r#"{"state":"st","issuer":"https://as","require_iss":true,"x":[1]}"#,
            Ok(r#"{"state":"st","issuer":"https://as","require_iss":true}"#),
        ),
        (
            r#"{"state":"st","issuer":null}"#,
            Ok(r#"{"state":"st","require_iss":false}"#),
        ),
        (
            r#"{"state":"st","state":"st"}"#,
            Err(r"duplicate field `state` at line 1 column 21"),
        ),
        (
            r#"{"state":"st","issuer":null,"issuer":"a"}"#,
            Err(r"duplicate field `issuer` at line 1 column 36"),
        ),
        (
            r#"{"state":"st","require_iss":"yes"}"#,
            Err(r#"invalid type: string "yes", expected a boolean at line 1 column 33"#),
        ),
        (
            r#"{"state":"st","require_iss":null}"#,
            Err(r"invalid type: null, expected a boolean at line 1 column 32"),
        ),
        (
            r#"{"issuer":"a"}"#,
            Err(r"missing field `state` at line 1 column 14"),
        ),
        (
            r#"{"state":5}"#,
            Err(r"invalid type: integer `5`, expected a string at line 1 column 10"),
        ),
        (r#"["st"]"#, Ok(r#"{"state":"st","require_iss":false}"#)),
        (
            r#"["st","i",true]"#,
            Ok(r#"{"state":"st","issuer":"i","require_iss":true}"#),
        ),
        (
            r#"["st","i",true,4]"#,
            Err(r"trailing characters at line 1 column 16"),
        ),
        (
            r"[]",
            Err(
                r"invalid length 0, expected struct PendingImplicit with 3 elements at line 1 column 2",
            ),
        ),
        (
            r"[1]",
            Err(r"invalid type: integer `1`, expected a string at line 1 column 2"),
        ),
        (
            r"5",
            Err(r"invalid type: integer `5`, expected struct PendingImplicit at line 1 column 1"),
        ),
        (
            r"null",
            Err(r"invalid type: null, expected struct PendingImplicit at line 1 column 4"),
        ),
        (r"{", Err(r"EOF while parsing an object at line 1 column 1")),
    ]);
}

#[test]
fn pending_authorization() {
    round_trip::<PendingAuthorization>(&[
        (
            r#"{"state":"st","pkce_verifier":"0123456789012345678901234567890123456789abc","redirect_uri":"http://127.0.0.1/cb"}"#,
            Ok(
                r#"{"state":"st","pkce_verifier":"0123456789012345678901234567890123456789abc","redirect_uri":"http://127.0.0.1/cb","require_iss":false}"#,
            ),
        ),
        (
            r#"{"state":"st","pkce_verifier":"short"}"#,
            Err(r"invalid PKCE verifier: length must be 43 to 128 at line 1 column 38"),
        ),
        (
            r#"{"require_iss":false,"state":"st","issuer":"i"}"#,
            Ok(r#"{"state":"st","issuer":"i","require_iss":false}"#),
        ),
        (
            r#"{"state":"st","pkce_verifier":"0123456789012345678901234567890123456789abc","pkce_verifier":"0123456789012345678901234567890123456789abc"}"#,
            Err(r"duplicate field `pkce_verifier` at line 1 column 91"),
        ),
        (
            r#"["st",null,"r"]"#,
            Ok(r#"{"state":"st","redirect_uri":"r","require_iss":false}"#),
        ),
        (
            r#"["st","0123456789012345678901234567890123456789abc","r","i",true]"#,
            Ok(
                r#"{"state":"st","pkce_verifier":"0123456789012345678901234567890123456789abc","redirect_uri":"r","issuer":"i","require_iss":true}"#,
            ),
        ),
        (
            r#"{"pkce_verifier":null}"#,
            Err(r"missing field `state` at line 1 column 22"),
        ),
    ]);
}

#[test]
fn enums() {
    round_trip::<TokenType>(&[
        (r#""Bearer""#, Ok(r#""Bearer""#)),
        (r#""DPoP""#, Ok(r#""DPoP""#)),
        (
            r#""bearer""#,
            Err(
                r"unknown variant `bearer`, expected one of `Bearer`, `DPoP`, `Other` at line 1 column 8",
            ),
        ),
        (r#"{"Other":"mac"}"#, Ok(r#"{"Other":"mac"}"#)),
        (
            r#"{"Other":5}"#,
            Err(r"invalid type: integer `5`, expected a string at line 1 column 10"),
        ),
        (r#"{"Bearer":null}"#, Ok(r#""Bearer""#)),
        (
            r#""Other""#,
            Err(r"invalid type: unit variant, expected newtype variant"),
        ),
        (
            r#"{"Bearer":1}"#,
            Err(r"invalid type: integer `1`, expected unit at line 1 column 11"),
        ),
        (r"2", Err(r"expected value at line 1 column 1")),
        (r"0", Err(r"expected value at line 1 column 1")),
        (r"[]", Err(r"expected value at line 1 column 1")),
        (
            r#"{"Bearer":null,"x":1}"#,
            Err(r"expected value at line 1 column 14"),
        ),
    ]);
    round_trip::<PkceMethod>(&[
        (r#""S256""#, Ok(r#""S256""#)),
        (r#""Plain""#, Ok(r#""Plain""#)),
        (
            r#""plain""#,
            Err(r"unknown variant `plain`, expected `S256` or `Plain` at line 1 column 7"),
        ),
        (r#"{"S256":null}"#, Ok(r#""S256""#)),
        (r"0", Err(r"expected value at line 1 column 1")),
        (r"1", Err(r"expected value at line 1 column 1")),
        (r"2", Err(r"expected value at line 1 column 1")),
        (r"null", Err(r"expected value at line 1 column 1")),
    ]);
}

#[test]
fn token_set() {
    round_trip::<TokenSet>(&[
        (
            r#"{"access_token":"a","token_type":"Bearer"}"#,
            Ok(r#"{"access_token":"a","token_type":"Bearer"}"#),
        ),
        (
            r#"{"access_token":"a","token_type":{"Other":"mac"},"expires_in":60,"expires_at":1700000000,"refresh_token":"r","scope":"s t","extra":{"id_token":"x"}}"#,
            Ok(
                r#"{"access_token":"a","token_type":{"Other":"mac"},"expires_in":60,"expires_at":1700000000,"refresh_token":"r","scope":"s t","extra":{"id_token":"x"}}"#,
            ),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","extra":{}}"#,
            Ok(r#"{"access_token":"a","token_type":"Bearer"}"#),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","expires_at":null,"unknown":1}"#,
            Ok(r#"{"access_token":"a","token_type":"Bearer"}"#),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","expires_at":-1}"#,
            Err(r"invalid value: integer `-1`, expected u64 at line 1 column 57"),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","expires_at":18446744073709551615}"#,
            Ok(r#"{"access_token":"a","token_type":"Bearer"}"#),
        ),
        (
            r#"{"access_token":"a"}"#,
            Err(r"missing field `token_type` at line 1 column 20"),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","access_token":"b"}"#,
            Err(r"duplicate field `access_token` at line 1 column 56"),
        ),
        (
            r#"{"access_token":null,"token_type":"Bearer"}"#,
            Err(r"invalid type: null, expected a string at line 1 column 20"),
        ),
        (
            r#"["a","Bearer",1,2,"r","s",{}]"#,
            Ok(
                r#"{"access_token":"a","token_type":"Bearer","expires_in":1,"expires_at":2,"refresh_token":"r","scope":"s"}"#,
            ),
        ),
        (
            r#"["a","Bearer"]"#,
            Ok(r#"{"access_token":"a","token_type":"Bearer"}"#),
        ),
        (
            r#"["a"]"#,
            Err(r"invalid length 1, expected struct TokenSet with 7 elements at line 1 column 5"),
        ),
    ]);
}

#[test]
fn server_metadata() {
    round_trip::<ServerMetadata>(&[
        (
            r#"{"issuer":"https://as"}"#,
            Ok(
                r#"{"issuer":"https://as","require_pushed_authorization_requests":false,"authorization_response_iss_parameter_supported":false}"#,
            ),
        ),
        (
            r#"{"issuer":"https://as","token_endpoint":"https://as/t","x":{"y":[1,null]},"code_challenge_methods_supported":["S256"],"require_pushed_authorization_requests":true,"a":1}"#,
            Ok(
                r#"{"issuer":"https://as","token_endpoint":"https://as/t","require_pushed_authorization_requests":true,"authorization_response_iss_parameter_supported":false,"code_challenge_methods_supported":["S256"],"a":1,"x":{"y":[1,null]}}"#,
            ),
        ),
        (
            r#"{"issuer":"https://as","scopes_supported":"openid"}"#,
            Err(r#"invalid type: string "openid", expected a sequence at line 1 column 50"#),
        ),
        (
            r#"{"issuer":"https://as","scopes_supported":[1]}"#,
            Err(r"invalid type: integer `1`, expected a string at line 1 column 44"),
        ),
        (
            r#"{"issuer":"https://as","issuer":"https://other"}"#,
            Err(r"duplicate field `issuer` at line 1 column 31"),
        ),
        (
            r#"{"issuer":"https://as","x":1,"x":2}"#,
            Ok(
                r#"{"issuer":"https://as","require_pushed_authorization_requests":false,"authorization_response_iss_parameter_supported":false,"x":2}"#,
            ),
        ),
        (
            r#"{"issuer":"https://as","jwks_uri":null,"authorization_response_iss_parameter_supported":null}"#,
            Err(r"invalid type: null, expected a boolean at line 1 column 92"),
        ),
        (
            r#"{"token_endpoint":"https://as/t"}"#,
            Err(r"missing field `issuer` at line 1 column 33"),
        ),
        (
            r#"["https://as"]"#,
            Err(r"invalid type: sequence, expected struct ServerMetadata at line 1 column 0"),
        ),
        (
            r#"{"issuer":5}"#,
            Err(r"invalid type: integer `5`, expected a string at line 1 column 11"),
        ),
        (
            r#"{"issuer":"a\u00e9","k\u00e9y":"v"}"#,
            Ok(
                r#"{"issuer":"aé","require_pushed_authorization_requests":false,"authorization_response_iss_parameter_supported":false,"kéy":"v"}"#,
            ),
        ),
    ]);
}

#[test]
fn introspection() {
    round_trip::<Introspection>(&[
        (r#"{"active":false}"#, Ok(r#"{"active":false}"#)),
        (
            r#"{"active":true,"scope":"a b","client_id":"c","exp":1,"iat":2,"nbf":3,"sub":"s","aud":"x","iss":"i","jti":"j","ext":{"k":true}}"#,
            Ok(
                r#"{"active":true,"scope":"a b","client_id":"c","exp":1,"iat":2,"nbf":3,"sub":"s","aud":["x"],"iss":"i","jti":"j","ext":{"k":true}}"#,
            ),
        ),
        (
            r#"{"active":true,"aud":["x","y"]}"#,
            Ok(r#"{"active":true,"aud":["x","y"]}"#),
        ),
        (r#"{"active":true,"aud":[]}"#, Ok(r#"{"active":true}"#)),
        (r#"{"active":true,"aud":null}"#, Ok(r#"{"active":true}"#)),
        (
            r#"{"active":true,"aud":5}"#,
            Err(
                r"invalid type: integer `5`, expected an audience string or a list of them at line 1 column 22",
            ),
        ),
        (
            r#"{"active":true,"aud":[1]}"#,
            Err(r"invalid type: integer `1`, expected a string at line 1 column 23"),
        ),
        (
            r#"{"active":true,"aud":"x","aud":"y"}"#,
            Err(r"duplicate field `aud` at line 1 column 30"),
        ),
        (
            r#"{"active":true,"exp":-1}"#,
            Err(r"invalid value: integer `-1`, expected u64 at line 1 column 23"),
        ),
        (
            r#"{"active":true,"exp":1.5}"#,
            Err(r"invalid type: floating point `1.5`, expected u64 at line 1 column 24"),
        ),
        (
            r#"{"active":"true"}"#,
            Err(r#"invalid type: string "true", expected a boolean at line 1 column 16"#),
        ),
        (
            r#"{"scope":"a"}"#,
            Err(r"missing field `active` at line 1 column 13"),
        ),
        (
            r#"{"active":true,"active":false}"#,
            Err(r"duplicate field `active` at line 1 column 23"),
        ),
        (
            r"[true]",
            Err(r"invalid type: sequence, expected struct Introspection at line 1 column 0"),
        ),
    ]);
}

fn client() -> Client {
    Client::builder("app")
        .client_secret("s3cret")
        .authorization_endpoint("https://as/auth")
        .token_endpoint("https://as/token")
        .device_authorization_endpoint("https://as/device")
        .pushed_authorization_request_endpoint("https://as/par")
        .redirect_uri("http://127.0.0.1/cb")
        .build()
        .unwrap()
}

#[test]
fn token_responses() {
    let cases: &[(&str, Want)] = &[
        (
            r#"{"access_token":"a","token_type":"Bearer"}"#,
            Ok(r#"{"access_token":"a","token_type":"Bearer"}"#),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","access_token":"b"}"#,
            Err(r"invalid token response: duplicate field `access_token` at line 1 column 56"),
        ),
        (
            r#"{"access_token":null,"token_type":"Bearer"}"#,
            Err(
                r"invalid token response: invalid type: null, expected a string at line 1 column 20",
            ),
        ),
        (
            r#"{"access_token":"a","token_type":null}"#,
            Err(
                r"invalid token response: invalid type: null, expected a string at line 1 column 37",
            ),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","expires_in":null}"#,
            Err(r"response member expires_in is invalid: not a non-negative number of seconds"),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","expires_in":60,"created_at":null}"#,
            Err(r"response member created_at is invalid: not a non-negative number of seconds"),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","created_at":null}"#,
            Err(r"response member created_at is invalid: not a non-negative number of seconds"),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","expires_in":true}"#,
            Err(r"response member expires_in is invalid: not a non-negative number of seconds"),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","expires_in":[]}"#,
            Err(
                r"invalid token response: invalid type: sequence, expected a number of seconds at line 1 column 57",
            ),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","expires_in":1,"expires_in":2}"#,
            Err(r"invalid token response: duplicate field `expires_in` at line 1 column 69"),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","refresh_token":null}"#,
            Ok(r#"{"access_token":"a","token_type":"Bearer"}"#),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","refresh_token":null,"refresh_token":"r"}"#,
            Err(r"invalid token response: duplicate field `refresh_token` at line 1 column 78"),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","refresh_token":"r","refresh_token":"s"}"#,
            Err(r"invalid token response: duplicate field `refresh_token` at line 1 column 77"),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","refresh_token":""}"#,
            Ok(r#"{"access_token":"a","token_type":"Bearer"}"#),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","refresh_token":5}"#,
            Err(
                r"invalid token response: invalid type: integer `5`, expected a string at line 1 column 59",
            ),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","scope":null}"#,
            Ok(r#"{"access_token":"a","token_type":"Bearer"}"#),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","scope":["a","b"]}"#,
            Ok(r#"{"access_token":"a","token_type":"Bearer","scope":"a b"}"#),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","scope":[]}"#,
            Ok(r#"{"access_token":"a","token_type":"Bearer","scope":""}"#),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","scope":["a",1]}"#,
            Err(
                r"invalid token response: invalid type: integer `1`, expected a string at line 1 column 56",
            ),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","scope":5}"#,
            Err(
                r"invalid token response: invalid type: integer `5`, expected a scope string or a list of scopes at line 1 column 51",
            ),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","scope":"x","scope":"y"}"#,
            Err(r"invalid token response: duplicate field `scope` at line 1 column 61"),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","scope":null,"scope":"y"}"#,
            Err(r"invalid token response: duplicate field `scope` at line 1 column 62"),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","x":1,"x":2}"#,
            Ok(r#"{"access_token":"a","token_type":"Bearer","extra":{"x":2}}"#),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","id_token":"i","created_at":5}"#,
            Ok(
                r#"{"access_token":"a","token_type":"Bearer","extra":{"created_at":5,"id_token":"i"}}"#,
            ),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","created_at":5,"expires_in":10}"#,
            Ok(
                r#"{"access_token":"a","token_type":"Bearer","expires_in":10,"expires_at":15,"extra":{"created_at":5}}"#,
            ),
        ),
        (
            r#"{"error":"invalid_grant","error_description":"x","error_description":"y"}"#,
            Err(r"invalid token response: duplicate field `error_description` at line 1 column 68"),
        ),
        (
            r#"{"error":"invalid_grant","error_description":null,"error_uri":null}"#,
            Err(r"server error invalid_grant (HTTP 200)"),
        ),
        (
            r#"{"error":"invalid_grant","error":"x"}"#,
            Err(r"invalid token response: duplicate field `error` at line 1 column 32"),
        ),
        (
            r#"{"error":null,"access_token":"a","token_type":"Bearer"}"#,
            Err(
                r"invalid token response: invalid type: null, expected a string at line 1 column 13",
            ),
        ),
        (
            r#"{"error":5}"#,
            Err(
                r"invalid token response: invalid type: integer `5`, expected a string at line 1 column 10",
            ),
        ),
        (
            r#"{"error":"e","error_description":5}"#,
            Err(
                r"invalid token response: invalid type: integer `5`, expected a string at line 1 column 34",
            ),
        ),
        (
            r#"{"access_tok\u0065n":"a","token_type":"Bearer"}"#,
            Ok(r#"{"access_token":"a","token_type":"Bearer"}"#),
        ),
        (
            r#"{"access_token":"a\nb","token_type":"Bearer"}"#,
            Ok(r#"{"access_token":"a\nb","token_type":"Bearer"}"#),
        ),
        (r#"["a","Bearer"]"#, Err(r"not a JSON object")),
        (
            r#"{"access_token":"a","token_type":"Bearer"} x"#,
            Err(r"invalid token response: trailing characters at line 1 column 44"),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer""#,
            Err(r"invalid token response: EOF while parsing an object at line 1 column 41"),
        ),
        (r"", Err(r"not a JSON object")),
        (r"null", Err(r"not a JSON object")),
    ];
    for (body, want) in cases {
        let response = Response::json(200, *body, UNIX_EPOCH);
        let got = outcome(
            TokenSet::from_response(&response, &Dialect::default(), &[]),
            |tokens| serde_json::to_string(&tokens).unwrap(),
        );
        check(body, got, *want);
    }
}

#[test]
fn error_objects() {
    let cases: &[(&str, Option<&str>)] = &[
        (
            r#"{"error":"invalid_grant"}"#,
            Some(r"InvalidGrant None None"),
        ),
        (
            r#"{"error":"invalid_grant","error_description":"x","error_uri":"u","other":[1]}"#,
            Some(r#"InvalidGrant Some("x") Some("u")"#),
        ),
        (
            r#"{"error":"invalid_grant","error_description":"x","error_description":"y"}"#,
            None,
        ),
        (
            r#"{"error":"invalid_grant","error_description":null}"#,
            Some(r"InvalidGrant None None"),
        ),
        (r#"{"error":null}"#, None),
        (r#"{"error":5}"#, None),
        (r#"{"error_description":"x"}"#, None),
        (r#"{"error":"a","error":"b"}"#, None),
        (r#"["invalid_grant"]"#, None),
        (r#"["invalid_grant","d","u"]"#, None),
        (r#" {"error":"e"}"#, Some(r#"Other("e") None None"#)),
        (r#"{"error":"e"} x"#, None),
        (r#"{"error":"e","error_description":5}"#, None),
        (
            r#"{"error":"e\u0000","error_description":"a\u202eb"}"#,
            Some(r#"Other("e\0") Some("a\u{202e}b") None"#),
        ),
    ];
    for (body, want) in cases {
        let got = ServerError::from_json(Some(400), body.as_bytes())
            .map(|e| format!("{:?} {:?} {:?}", e.code, e.description, e.uri));
        assert_eq!(got.as_deref(), *want, "{body}");
    }
}

#[test]
fn device_authorization_responses() {
    let client = client();
    let cases: &[(&str, Want)] = &[
        (
            r#"{"device_code":"d","user_code":"u","verification_uri":"https://as/v","expires_in":600}"#,
            Ok(r"u https://as/v None 600s 5s"),
        ),
        (
            r#"{"device_code":"d","user_code":"u","verification_url":"https://as/v","verification_url_complete":"https://as/v?u","expires_in":"600","interval":2}"#,
            Ok(r#"u https://as/v Some("https://as/v?u") 600s 2s"#),
        ),
        (
            r#"{"device_code":"d","user_code":"u","verification_uri":"https://as/v","verification_url":"https://as/w","expires_in":600}"#,
            Err(
                r"invalid device authorization response: duplicate field `verification_uri` at line 1 column 87",
            ),
        ),
        (
            r#"{"device_code":"d","user_code":"u","verification_uri":"https://as/v","expires_in":600,"interval":null}"#,
            Ok(r"u https://as/v None 600s 5s"),
        ),
        (
            r#"{"device_code":"d","user_code":"u","verification_uri":"https://as/v","expires_in":null}"#,
            Err(r"response member expires_in is invalid: not a non-negative number of seconds"),
        ),
        (
            r#"{"device_code":"d","verification_uri":"https://as/v","expires_in":600}"#,
            Err(
                r"invalid device authorization response: missing field `user_code` at line 1 column 70",
            ),
        ),
        (
            r#"{"device_code":"d","user_code":"u","verification_uri":"https://as/v","expires_in":600,"device_code":"e"}"#,
            Err(
                r"invalid device authorization response: duplicate field `device_code` at line 1 column 99",
            ),
        ),
        (
            r#"["d","u","https://as/v",600]"#,
            Err(
                r"invalid device authorization response: invalid type: integer `600`, expected a string at line 1 column 27",
            ),
        ),
        (
            r#"["d","u","https://as/v"]"#,
            Err(
                r"invalid device authorization response: invalid length 4, expected struct Wire with 6 elements at line 1 column 24",
            ),
        ),
    ];
    for (body, want) in cases {
        let exchange = client.device_authorization().unwrap();
        let got = outcome(
            exchange.response(Response::json(200, *body, UNIX_EPOCH)),
            |d| {
                format!(
                    "{} {} {:?} {:?} {:?}",
                    d.user_code,
                    d.verification_uri,
                    d.verification_uri_complete,
                    d.expires_in,
                    d.interval
                )
            },
        );
        check(body, got, *want);
    }
}

#[test]
fn pushed_authorization_responses() {
    let client = client();
    let cases: &[(&str, Want)] = &[
        (
            r#"{"request_uri":"urn:x","expires_in":60}"#,
            Ok(r"https://as/auth?client_id=app&request_uri=urn%3Ax"),
        ),
        (
            r#"{"request_uri":"urn:x","expires_in":null}"#,
            Ok(r"https://as/auth?client_id=app&request_uri=urn%3Ax"),
        ),
        (
            r#"{"request_uri":"urn:x","expires_in":"soon"}"#,
            Ok(r"https://as/auth?client_id=app&request_uri=urn%3Ax"),
        ),
        (
            r#"{"request_uri":"urn:x","request_uri":"urn:y"}"#,
            Err(r"invalid PAR response: duplicate field `request_uri` at line 1 column 36"),
        ),
        (
            r#"{"request_uri":null}"#,
            Err(r"invalid PAR response: invalid type: null, expected a string at line 1 column 19"),
        ),
        (
            r#"{"expires_in":60}"#,
            Err(r"invalid PAR response: missing field `request_uri` at line 1 column 17"),
        ),
        (
            r#"["urn:x",60]"#,
            Ok(r"https://as/auth?client_id=app&request_uri=urn%3Ax"),
        ),
    ];
    for (body, want) in cases {
        let push = client
            .authorization_code()
            .state(State::new("st"))
            .push()
            .unwrap();
        let got = outcome(
            push.response(Response::json(201, *body, UNIX_EPOCH)),
            |(url, _)| url.as_str().to_owned(),
        );
        check(body, got, *want);
    }
}
