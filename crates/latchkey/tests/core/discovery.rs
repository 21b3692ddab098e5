//! Discovery (RFC 8414, OpenID Connect Discovery): the metadata's wire format, and a `Client`
//! configured from it.

use latchkey::{Client, ClientAuth, ServerMetadata};

use crate::support::{discovered_client as client, metadata, round_trip};

#[test]
fn client_from_metadata() {
    let m = metadata();
    assert_eq!(m.supports_pkce_s256(), Some(true));
    let client = client();
    assert_eq!(client.issuer(), Some("https://as.example"));
    assert_eq!(
        client.token_endpoint().unwrap().as_str(),
        "https://as.example/token"
    );
    assert!(client.requires_pushed_authorization());
    assert!(client.dialect().require_iss);
    // Basic is not listed, post is: the secret goes in the body.
    assert_eq!(client.auth_method(), ClientAuth::Post);
    // An explicit choice wins.
    let basic = Client::builder("app")
        .client_secret("s")
        .metadata(&m)
        .auth_method(ClientAuth::Basic)
        .build()
        .unwrap();
    assert_eq!(basic.auth_method(), ClientAuth::Basic);
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
