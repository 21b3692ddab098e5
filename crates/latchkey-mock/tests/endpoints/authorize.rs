//! `GET /authorize`: code and implicit responses, redirect URI rules, redirected errors,
//! `iss` (RFC 9207).

use crate::common::*;
use crate::fixtures::*;
use latchkey_mock::{GrantType, MockClient, MockServer};

fn server() -> MockServer {
    MockServer::builder()
        .client(MockClient::new("spa").redirect_uris([REDIRECT]))
        .client(
            MockClient::new("loom")
                .require_audience("https://api.loomai.com/")
                .redirect_uris(["https://app.example/oauth/callback"]),
        )
        .client(MockClient::new("native").redirect_uris(["http://127.0.0.1/callback"]))
        .client(MockClient::new("anywhere"))
        .client(
            MockClient::new("strict")
                .require_pkce(true)
                .allowed_scopes(["read", "write"])
                .grant_types([GrantType::AuthorizationCode]),
        )
        .start()
}

#[test]
fn code_response_keeps_state_and_existing_query() {
    let server = server();
    let resp = authorize(
        &server,
        &[
            ("response_type", "code"),
            ("client_id", "anywhere"),
            ("redirect_uri", "https://app.example/cb?tenant=7"),
            ("state", "s t&u"),
            ("scope", "email profile"),
        ],
    );
    assert_eq!(resp.status, 302);
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    let location = resp.location();
    assert_eq!(location.path(), "/cb");
    assert_eq!(query_param(&location, "tenant").as_deref(), Some("7"));
    assert_eq!(query_param(&location, "state").as_deref(), Some("s t&u"));
    assert!(query_param(&location, "code").is_some_and(|c| c.len() > 20));
    assert_eq!(location.fragment(), None);
}

#[test]
fn implicit_token_in_fragment_like_loom_ai() {
    let server = server();
    let resp = authorize(
        &server,
        &[
            ("response_type", "token"),
            ("client_id", "loom"),
            ("audience", "https://api.loomai.com/"),
            ("scope", "read:avatars write:avatars"),
            ("redirect_uri", "https://app.example/oauth/callback"),
            ("state", "0xdeadbeef"),
        ],
    );
    assert_eq!(resp.status, 302);
    let location = resp.location();
    assert_eq!(location.query(), None);
    let token = fragment_param(&location, "access_token").unwrap();
    assert_eq!(
        fragment_param(&location, "token_type").as_deref(),
        Some("Bearer")
    );
    assert_eq!(
        fragment_param(&location, "expires_in").as_deref(),
        Some("3600")
    );
    assert_eq!(
        fragment_param(&location, "scope").as_deref(),
        Some("read:avatars write:avatars")
    );
    assert_eq!(
        fragment_param(&location, "state").as_deref(),
        Some("0xdeadbeef")
    );
    assert_eq!(userinfo(&server, &token).status, 200);
    assert!(server.access_token_active(&token));
    assert_eq!(server.issued_access_tokens(), 1);
}

#[test]
fn implicit_errors_go_in_the_fragment() {
    let server = server();
    let resp = authorize(
        &server,
        &[
            ("response_type", "token"),
            ("client_id", "loom"),
            ("redirect_uri", "https://app.example/oauth/callback"),
            ("state", "st"),
        ],
    );
    assert_eq!(resp.status, 302);
    let location = resp.location();
    assert_eq!(location.query(), None);
    assert_eq!(
        fragment_param(&location, "error").as_deref(),
        Some("invalid_request")
    );
    assert!(
        fragment_param(&location, "error_description")
            .unwrap()
            .contains("audience")
    );
    assert_eq!(fragment_param(&location, "state").as_deref(), Some("st"));
}

#[test]
fn bad_client_or_redirect_uri_is_never_redirected() {
    let server = server();
    let cases: &[&[(&str, &str)]] = &[
        &[
            ("response_type", "code"),
            ("client_id", "nobody"),
            ("redirect_uri", REDIRECT),
        ],
        &[("response_type", "code"), ("redirect_uri", REDIRECT)],
        &[
            ("response_type", "code"),
            ("client_id", "spa"),
            ("redirect_uri", "https://evil.example/cb"),
        ],
        &[
            ("response_type", "code"),
            ("client_id", "anywhere"),
            ("redirect_uri", "not a uri"),
        ],
        &[
            ("response_type", "code"),
            ("client_id", "anywhere"),
            ("redirect_uri", "https://a.example/cb#frag"),
        ],
        // No redirect_uri and none registered: nowhere to go.
        &[("response_type", "code"), ("client_id", "anywhere")],
        &[
            ("response_type", "code"),
            ("client_id", "spa"),
            ("client_id", "spa"),
            ("redirect_uri", REDIRECT),
        ],
        &[
            ("response_type", "code"),
            ("client_id", "native"),
            ("redirect_uri", "http://127.0.0.1:5000/other"),
        ],
    ];
    for params in cases {
        let resp = authorize(&server, params);
        assert_eq!(resp.status, 400, "{params:?}");
        assert_eq!(resp.header("location"), None);
        assert!(
            resp.header("content-type")
                .unwrap()
                .starts_with("text/html")
        );
        assert!(resp.body.contains("<h1>"));
    }
}

#[test]
fn html_error_page_escapes_input() {
    let server = server();
    let resp = authorize(&server, &[("client_id", "<script>x</script>")]);
    assert_eq!(resp.status, 400);
    assert!(!resp.body.contains("<script>"));
    assert!(resp.body.contains("&lt;script&gt;"));
}

#[test]
fn loopback_redirect_port_is_ignored() {
    let server = server();
    let resp = authorize(
        &server,
        &[
            ("response_type", "code"),
            ("client_id", "native"),
            ("redirect_uri", "http://127.0.0.1:54321/callback"),
        ],
    );
    assert_eq!(resp.status, 302, "{}", resp.body);
    let location = resp.location();
    assert_eq!(location.port(), Some(54321));
    assert!(query_param(&location, "code").is_some());
    // No state sent: none echoed.
    assert_eq!(query_param(&location, "state"), None);
}

#[test]
fn single_registered_redirect_uri_may_be_omitted() {
    let server = server();
    let resp = authorize(&server, &[("response_type", "code"), ("client_id", "spa")]);
    assert_eq!(resp.status, 302);
    assert!(resp.location().as_str().starts_with(REDIRECT));
}

#[test]
fn errors_after_redirect_validation_are_redirected() {
    let server = server();
    let redirected_error = |params: &[(&str, &str)]| {
        let resp = authorize(&server, params);
        assert_eq!(resp.status, 302, "{params:?}: {}", resp.body);
        let location = resp.location();
        assert_eq!(query_param(&location, "state").as_deref(), Some("k"));
        assert!(query_param(&location, "error_description").is_some());
        query_param(&location, "error").unwrap()
    };
    let base = [
        ("client_id", "spa"),
        ("redirect_uri", REDIRECT),
        ("state", "k"),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut v = base.to_vec();
        v.extend_from_slice(extra);
        v
    };
    assert_eq!(redirected_error(&with(&[])), "invalid_request");
    assert_eq!(
        redirected_error(&with(&[("response_type", "id_token")])),
        "unsupported_response_type"
    );
    assert_eq!(
        redirected_error(&with(&[
            ("response_type", "code"),
            ("scope", "a"),
            ("scope", "b")
        ])),
        "invalid_request"
    );
    assert_eq!(
        redirected_error(&with(&[
            ("response_type", "code"),
            ("code_challenge_method", "S256")
        ])),
        "invalid_request"
    );
    assert_eq!(
        redirected_error(&with(&[
            ("response_type", "code"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S512")
        ])),
        "invalid_request"
    );
    assert_eq!(
        redirected_error(&with(&[
            ("response_type", "code"),
            ("code_challenge", "too-short")
        ])),
        "invalid_request"
    );

    let strict = |extra: &[(&'static str, &'static str)]| {
        let mut v = vec![
            ("client_id", "strict"),
            ("redirect_uri", REDIRECT),
            ("state", "k"),
        ];
        v.extend_from_slice(extra);
        v
    };
    // PKCE required.
    assert_eq!(
        redirected_error(&strict(&[("response_type", "code")])),
        "invalid_request"
    );
    // Scope outside the allowed set.
    assert_eq!(
        redirected_error(&strict(&[
            ("response_type", "code"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("scope", "read admin")
        ])),
        "invalid_scope"
    );
    // Implicit not enabled for this client.
    let resp = authorize(&server, &strict(&[("response_type", "token")]));
    let location = resp.location();
    assert_eq!(
        fragment_param(&location, "error").as_deref(),
        Some("unauthorized_client")
    );
    // And a valid request passes.
    let code = get_code(
        &server,
        "strict",
        &[
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("scope", "read"),
        ],
    );
    assert!(!code.is_empty());
}

#[test]
fn audience_checked_on_authorization() {
    let server = server();
    for audience in [None, Some("https://other.example/")] {
        let mut params = vec![
            ("response_type", "code"),
            ("client_id", "loom"),
            ("redirect_uri", "https://app.example/oauth/callback"),
        ];
        if let Some(audience) = audience {
            params.push(("audience", audience));
        }
        let location = authorize(&server, &params).location();
        assert_eq!(
            query_param(&location, "error").as_deref(),
            Some("invalid_request")
        );
    }
}

#[test]
fn deny_next_authorization_fails_once() {
    let server = server();
    server.deny_next_authorization("access_denied");
    // An invalid request does not use up the denial.
    assert_eq!(
        authorize(
            &server,
            &[("response_type", "code"), ("client_id", "nobody")]
        )
        .status,
        400
    );
    let resp = authorize(
        &server,
        &[
            ("response_type", "code"),
            ("client_id", "spa"),
            ("redirect_uri", REDIRECT),
            ("state", "abc"),
        ],
    );
    let location = resp.location();
    assert_eq!(
        query_param(&location, "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(query_param(&location, "state").as_deref(), Some("abc"));
    assert_eq!(query_param(&location, "code"), None);
    let code = get_code(&server, "spa", &[]);
    assert!(!code.is_empty());
}

#[test]
fn authorize_is_recorded_with_query_params() {
    let server = server();
    get_code(&server, "spa", &[("scope", "a b")]);
    let requests = server.requests_to("/authorize");
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "GET");
    assert_eq!(request.param("scope"), Some("a b"));
    assert_eq!(request.param("client_id"), Some("spa"));
    assert!(request.query.as_deref().unwrap().contains("scope=a+b"));
    assert_eq!(request.encoding, None);
    assert_eq!(server.request_count("/authorize"), 1);
    assert_eq!(server.request_count("/token"), 0);
}

#[test]
fn post_to_authorize_is_refused() {
    let server = server();
    let resp = post_form(
        &server.authorization_endpoint(),
        &[("response_type", "code"), ("client_id", "spa")],
    );
    assert_eq!(resp.status, 405);
    assert_eq!(resp.header("allow"), Some("GET"));
}

#[test]
fn authorization_responses_carry_iss() {
    let server = extensions();
    let resp = authorize(
        &server,
        &[
            ("response_type", "code"),
            ("client_id", "web"),
            ("redirect_uri", REDIRECT),
            ("state", "s"),
        ],
    );
    assert_eq!(query_param(&resp.location(), "iss"), Some(server.issuer()));
    server.deny_next_authorization("access_denied");
    let resp = authorize(
        &server,
        &[
            ("response_type", "code"),
            ("client_id", "web"),
            ("redirect_uri", REDIRECT),
        ],
    );
    let location = resp.location();
    assert_eq!(
        query_param(&location, "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(query_param(&location, "iss"), Some(server.issuer()));
    let resp = authorize(
        &server,
        &[
            ("response_type", "token"),
            ("client_id", "tv"),
            ("redirect_uri", REDIRECT),
        ],
    );
    assert_eq!(
        fragment_param(&resp.location(), "iss"),
        Some(server.issuer())
    );

    let quiet = MockServer::builder()
        .client(MockClient::new("web"))
        .issuer_parameter(false)
        .start();
    let resp = authorize(
        &quiet,
        &[
            ("response_type", "code"),
            ("client_id", "web"),
            ("redirect_uri", REDIRECT),
        ],
    );
    assert_eq!(query_param(&resp.location(), "iss"), None);
}
