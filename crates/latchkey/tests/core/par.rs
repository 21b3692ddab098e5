//! Pushed authorization requests (RFC 9126): the push, the authorization URL with the
//! `request_uri`, the callback, a PAR error, and the PAR response's wire format.

use std::time::UNIX_EPOCH;

use latchkey::{ErrorCode, Exchange, Response, State};

use crate::support::{Want, check, discovered_client as client, outcome, wire_client};

#[test]
fn pushed_authorization_request() {
    let client = client();
    let push = client
        .authorization_code()
        .scope("openid")
        .state(State::new("st"))
        .resource("https://api.example/")
        .push()
        .unwrap();
    let request = push.request().unwrap();
    assert_eq!(request.url.as_str(), "https://as.example/request");
    let body = String::from_utf8(request.body).unwrap();
    assert!(
        body.starts_with("client_id=app&client_secret=s3cret&response_type=code&redirect_uri="),
        "{body}"
    );
    // scope openid: a nonce is drawn and sent.
    assert!(body.contains("&scope=openid&state=st&nonce="), "{body}");
    assert!(body.contains("&code_challenge="));
    assert!(body.ends_with("&resource=https%3A%2F%2Fapi.example%2F"));
    let (url, pending) = push
        .response(Response::json(
            201,
            r#"{"request_uri":"urn:ietf:params:oauth:request_uri:6esc_11ACC5bwc014ltc14eY22c","expires_in":60}"#,
            UNIX_EPOCH,
        ))
        .unwrap();
    assert_eq!(
        url.as_str(),
        "https://as.example/auth?client_id=app&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A6esc_11ACC5bwc014ltc14eY22c"
    );
    // The pending value checks state and iss as usual.
    let exchange = pending
        .callback(
            &client,
            "http://127.0.0.1/cb?code=c&state=st&iss=https%3A%2F%2Fas.example",
        )
        .unwrap();
    assert!(
        String::from_utf8(exchange.request().unwrap().body)
            .unwrap()
            .contains("code_verifier=")
    );
    // A PAR error is the server's error.
    let push = client.authorization_code().push().unwrap();
    let err = push
        .response(Response::json(
            400,
            r#"{"error":"invalid_request","error_description":"bad redirect_uri"}"#,
            UNIX_EPOCH,
        ))
        .unwrap_err();
    assert_eq!(err.server_code(), Some(&ErrorCode::InvalidRequest));
}

#[test]
fn pushed_authorization_responses() {
    let client = wire_client();
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
