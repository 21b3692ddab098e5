//! CORS for a single-page app: preflights and `Access-Control-Allow-Origin`, in memory and
//! over HTTP.

use latchkey_mock::{AuthMethod, Fault, Mock, MockClient, MockServer, Request};

const SPA: &str = "http://127.0.0.1:8000";

fn mock() -> Mock {
    Mock::builder()
        .client(
            MockClient::new("m2m")
                .secret("s")
                .auth_method(AuthMethod::Post),
        )
        .cors_origins([format!("{SPA}/")])
        .build()
}

fn preflight(origin: &str) -> Request {
    Request::new("OPTIONS", "/token")
        .with_header("origin", origin)
        .with_header("access-control-request-method", "POST")
        .with_header("access-control-request-headers", "content-type")
}

fn token_request(origin: &str) -> Request {
    Request::post_form(
        "/token",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "m2m"),
            ("client_secret", "s"),
        ],
    )
    .with_header("origin", origin)
}

#[test]
fn a_preflight_from_the_allowed_origin_is_answered_and_leaves_the_fault_alone() {
    let mock = mock();
    mock.inject("/token", Fault::status(503), 1);
    let answer = mock.route_now(preflight(SPA)).into_response().unwrap();
    assert_eq!(answer.status, 204);
    assert_eq!(answer.header("access-control-allow-origin"), Some(SPA));
    assert!(
        answer
            .header("access-control-allow-headers")
            .unwrap()
            .contains("content-type")
    );
    // The fault is still armed for the POST the preflight announced.
    let busy = mock.route_now(token_request(SPA)).into_response().unwrap();
    assert_eq!(busy.status, 503);
    assert_eq!(busy.header("access-control-allow-origin"), Some(SPA));
    let ok = mock.route_now(token_request(SPA)).into_response().unwrap();
    assert_eq!(ok.status, 200, "{}", ok.body_text());
    assert_eq!(ok.header("access-control-allow-origin"), Some(SPA));
    assert!(
        ok.header("access-control-expose-headers")
            .unwrap()
            .contains("retry-after")
    );
    assert_eq!(mock.request_count("/token"), 3);
}

#[test]
fn other_origins_get_no_cors_headers() {
    let mock = mock();
    let refused = mock
        .route_now(preflight("http://127.0.0.1:9"))
        .into_response()
        .unwrap();
    assert_eq!(refused.status, 403);
    assert_eq!(refused.header("access-control-allow-origin"), None);
    let answer = mock
        .route_now(token_request("http://127.0.0.1:9"))
        .into_response()
        .unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("access-control-allow-origin"), None);
}

#[test]
fn without_cors_origins_options_is_not_special() {
    let mock = Mock::builder()
        .client(MockClient::new("m2m").secret("s"))
        .build();
    let answer = mock.route_now(preflight(SPA)).into_response().unwrap();
    assert_ne!(answer.status, 204);
    assert_eq!(answer.header("access-control-allow-origin"), None);
}

#[test]
fn cors_over_http() {
    let server = MockServer::builder()
        .client(MockClient::new("m2m").secret("s"))
        .cors_origins([SPA])
        .start();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .build()
        .into();
    let url = format!("{}/token", server.url());
    let answer = agent
        .options(&url)
        .header("origin", SPA)
        .header("access-control-request-method", "POST")
        .call()
        .unwrap();
    assert_eq!(answer.status(), 204);
    assert_eq!(
        answer
            .headers()
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some(SPA)
    );
}
