//! Pushed authorization requests (RFC 9126).

use crate::common::*;
use crate::fixtures::*;
use latchkey_mock::{MockClient, MockServer};

#[test]
fn pushed_authorization_requests() {
    let server = MockServer::builder()
        .client(MockClient::new("conf").secret(SECRET))
        .client(MockClient::new("web"))
        .require_pushed_authorization_requests(true)
        .start();
    // Without PAR the authorization endpoint refuses, through the redirect.
    let resp = authorize(
        &server,
        &[
            ("response_type", "code"),
            ("client_id", "web"),
            ("redirect_uri", REDIRECT),
            ("state", "s"),
        ],
    );
    let location = resp.location();
    assert_eq!(
        query_param(&location, "error").as_deref(),
        Some("invalid_request")
    );
    assert_eq!(query_param(&location, "state").as_deref(), Some("s"));

    let resp = post_form_basic(
        &server.pushed_authorization_request_endpoint(),
        &conf(),
        &[
            ("response_type", "code"),
            ("redirect_uri", REDIRECT),
            ("state", "pushed"),
            ("scope", "openid"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ],
    );
    assert_eq!(resp.status, 201, "{}", resp.body);
    let json = resp.json();
    assert_eq!(json["expires_in"], 60);
    let request_uri = json["request_uri"].as_str().unwrap().to_owned();
    assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));
    // Another client cannot use it; that does not consume it.
    let resp = authorize(
        &server,
        &[("client_id", "web"), ("request_uri", &request_uri)],
    );
    assert_eq!(resp.status, 400);
    let resp = authorize(
        &server,
        &[("client_id", "conf"), ("request_uri", &request_uri)],
    );
    let location = resp.location();
    assert_eq!(query_param(&location, "state").as_deref(), Some("pushed"));
    assert_eq!(query_param(&location, "iss"), Some(server.issuer()));
    let code = query_param(&location, "code").unwrap();
    // Single use.
    let resp = authorize(
        &server,
        &[("client_id", "conf"), ("request_uri", &request_uri)],
    );
    assert_eq!(resp.status, 400);
    assert!(resp.body.contains("invalid_request_uri"));
    let resp = post_form_basic(
        &server.token_endpoint(),
        &conf(),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
    );
    assert_eq!(resp.status, 200, "{}", resp.body);

    // PAR checks client authentication, the redirect URI and request_uri itself.
    let par = server.pushed_authorization_request_endpoint();
    post_form(&par, &[("client_id", "conf"), ("response_type", "code")])
        .assert_error(401, "invalid_client");
    post_form_basic(
        &par,
        &conf(),
        &[("response_type", "code"), ("redirect_uri", "not a uri")],
    )
    .assert_error(400, "invalid_request");
    post_form_basic(
        &par,
        &conf(),
        &[
            ("response_type", "code"),
            ("redirect_uri", REDIRECT),
            ("request_uri", "urn:x"),
        ],
    )
    .assert_error(400, "invalid_request");
}
