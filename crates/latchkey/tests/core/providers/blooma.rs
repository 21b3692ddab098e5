//! Document 003, Blooma (Auth0-style): client credentials for server processes, `audience`,
//! the request body as a form or as JSON.

use std::time::Duration;

use latchkey::{
    BodyEncoding, Client, ClientAuth, Error, Exchange, Method, Response, RetryMode, TokenType,
};

use crate::support::{form, now};

fn blooma(encoding: BodyEncoding) -> Client {
    Client::builder("YOUR_CLIENT_ID")
        .client_secret("YOUR_CLIENT_SECRET")
        .auth_method(ClientAuth::Post)
        .token_endpoint("https://login.blooma.ai/oauth/token")
        .token_param("audience", "https://acme.blooma.ai/api/")
        .body_encoding(encoding)
        .build()
        .unwrap()
}

const BLOOMA_RESPONSE: &str = r#"{
    "access_token": "eyJz93a...k4laUWw",
    "token_type": "Bearer",
    "scope": "USER",
    "expires_in": 86400
}"#;

/// 003: Blooma client credentials, form body.
#[test]
fn blooma_client_credentials_form() {
    let exchange = blooma(BodyEncoding::Form).client_credentials().unwrap();
    let request = exchange.request().unwrap();
    assert_eq!(request.method, Method::Post);
    assert_eq!(request.url.as_str(), "https://login.blooma.ai/oauth/token");
    assert_eq!(
        request.headers.get("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(request.retry, RetryMode::Idempotent);
    assert_eq!(
        String::from_utf8(request.body.clone()).unwrap(),
        "grant_type=client_credentials&client_id=YOUR_CLIENT_ID&client_secret=YOUR_CLIENT_SECRET\
         &audience=https%3A%2F%2Facme.blooma.ai%2Fapi%2F"
    );
    assert_eq!(
        form(&request.body),
        form(b"audience=https://acme.blooma.ai/api/&grant_type=client_credentials&client_id=YOUR_CLIENT_ID&client_secret=YOUR_CLIENT_SECRET")
    );
    let tokens = exchange
        .response(Response::json(200, BLOOMA_RESPONSE, now()))
        .unwrap();
    assert_eq!(tokens.access_token().expose_secret(), "eyJz93a...k4laUWw");
    assert_eq!(tokens.scope(), Some("USER"));
    assert_eq!(
        tokens.expires_at(),
        Some(now() + Duration::from_secs(86400))
    );
}

/// 003: Blooma client credentials, JSON body (the document's curl example).
#[test]
fn blooma_client_credentials_json() {
    let exchange = blooma(BodyEncoding::Json).client_credentials().unwrap();
    let request = exchange.request().unwrap();
    assert_eq!(
        request.headers.get("content-type"),
        Some("application/json")
    );
    assert_eq!(
        String::from_utf8(request.body.clone()).unwrap(),
        r#"{"grant_type":"client_credentials","client_id":"YOUR_CLIENT_ID","client_secret":"YOUR_CLIENT_SECRET","audience":"https://acme.blooma.ai/api/"}"#
    );
    let doc: serde_json::Value = serde_json::from_str(
        r#"{"client_id":"YOUR_CLIENT_ID","client_secret":"YOUR_CLIENT_SECRET","audience":"https://acme.blooma.ai/api/","grant_type":"client_credentials"}"#,
    )
    .unwrap();
    let sent: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(sent, doc);
    let tokens = exchange
        .response(Response::json(200, BLOOMA_RESPONSE, now()))
        .unwrap();
    assert_eq!(tokens.token_type(), &TokenType::Bearer);
}

#[test]
fn blooma_audience_and_scope_per_request() {
    let client = Client::builder("id")
        .client_secret("secret")
        .token_endpoint("https://login.blooma.ai/oauth/token")
        .build()
        .unwrap();
    let request = client
        .client_credentials()
        .unwrap()
        .scope("read write")
        .scope("read")
        .audience("https://x.blooma.ai/api/")
        .request()
        .unwrap();
    assert_eq!(
        String::from_utf8(request.body).unwrap(),
        "grant_type=client_credentials&scope=read+write&audience=https%3A%2F%2Fx.blooma.ai%2Fapi%2F"
    );
    // HTTP Basic by default for a client with a secret: base64("id:secret").
    assert_eq!(
        request.headers.get("authorization"),
        Some("Basic aWQ6c2VjcmV0")
    );
    // A public client cannot do client credentials.
    let public = Client::builder("id")
        .token_endpoint("https://login.blooma.ai/oauth/token")
        .build()
        .unwrap();
    assert!(matches!(
        public.client_credentials(),
        Err(Error::Config(latchkey::ConfigError::PublicClient(_)))
    ));
}
