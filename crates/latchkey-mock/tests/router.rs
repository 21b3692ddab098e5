//! The in-memory router, [`Mock::route`], on a clock the test moves: no socket, no waiting.
//! Codes, tokens, pushed requests and device codes expire as the clock passes their
//! lifetimes, and a rotated refresh token's reuse grace period ends on the request's time;
//! faults only a socket can show come back as [`Routed::Fault`]; URLs come from the base URL;
//! the router behind a running server shares its state.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use latchkey_mock::{
    DEFAULT_BASE_URL, Fault, Mock, MockClient, MockClock, MockServer, Request, Response,
    ResponseStyle, Routed, SocketFault,
};
use serde_json::Value;
use sha2::Digest as _;
use url::Url;

const REDIRECT: &str = "https://app.example/callback";
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// `Basic` credentials of `m2m` (secret `s`).
const M2M: &str = "Basic bTJtOnM=";
/// 2023-11-14T22:13:20Z.
const START: u64 = 1_700_000_000;

fn start() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(START)
}

/// A mock on a clock stopped at [`START`]: `spa` (public), `m2m` (Basic, 60 s tokens),
/// `dk` (Doorkeeper answers).
fn mock() -> (Mock, MockClock) {
    let clock = MockClock::at(start());
    let mock = Mock::builder()
        .client(MockClient::new("spa"))
        .client(MockClient::new("m2m").secret("s").expires_in(60))
        .client(
            MockClient::new("dk")
                .secret("dk-secret")
                .response_style(ResponseStyle::Doorkeeper),
        )
        .device_interval(5)
        .device_code_expires_in(60)
        .clock(clock.clone())
        .build();
    (mock, clock)
}

/// Routes at the clock's time and expects a plain answer.
fn send(mock: &Mock, request: Request) -> Response {
    match mock.route_now(request) {
        Routed::Answer(response) => response,
        other => panic!("expected an answer, got {other:?}"),
    }
}

fn json(response: &Response) -> Value {
    serde_json::from_slice(&response.body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", response.body_text()))
}

fn error(response: &Response) -> String {
    assert!(
        (400..500).contains(&response.status),
        "{}",
        response.body_text()
    );
    json(response)["error"].as_str().unwrap().to_owned()
}

fn location(response: &Response) -> Url {
    assert_eq!(response.status, 302, "{}", response.body_text());
    Url::parse(response.header("location").expect("no Location")).unwrap()
}

fn param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.into_owned())
}

fn authorize_code(mock: &Mock) -> String {
    let target = format!(
        "/authorize?response_type=code&client_id=spa&state=st&redirect_uri={}",
        url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
    );
    let url = location(&send(mock, Request::get(target)));
    assert_eq!(param(&url, "state").as_deref(), Some("st"));
    param(&url, "code").unwrap()
}

fn redeem(code: &str) -> Request {
    Request::post_form(
        "/token",
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "spa"),
            ("code", code),
            ("redirect_uri", REDIRECT),
        ],
    )
}

fn client_credentials() -> Request {
    Request::post_form("/token", &[("grant_type", "client_credentials")])
        .with_header("authorization", M2M)
}

#[test]
fn authorize_answers_with_a_redirect_and_the_code_is_redeemed() {
    let (mock, _) = mock();
    assert_eq!(mock.url(), DEFAULT_BASE_URL);
    let target = format!(
        "{DEFAULT_BASE_URL}/authorize?response_type=code&client_id=spa&state=xyz&redirect_uri={}",
        url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
    );
    let url = location(&send(&mock, Request::get(target)));
    assert!(url.as_str().starts_with(REDIRECT), "{url}");
    assert_eq!(param(&url, "state").as_deref(), Some("xyz"));
    assert_eq!(param(&url, "iss").as_deref(), Some(DEFAULT_BASE_URL));
    let code = param(&url, "code").unwrap();
    let token = send(&mock, redeem(&code));
    assert_eq!(token.status, 200, "{}", token.body_text());
    assert_eq!(token.header("Cache-Control"), Some("no-store"));
    assert!(json(&token)["access_token"].is_string());
    assert_eq!(error(&send(&mock, redeem(&code))), "invalid_grant");
}

#[test]
fn a_code_expires_when_the_clock_passes_its_lifetime() {
    let (mock, clock) = mock();
    let early = authorize_code(&mock);
    let late = authorize_code(&mock);
    clock.advance(Duration::from_secs(599));
    assert_eq!(send(&mock, redeem(&early)).status, 200);
    clock.advance(Duration::from_secs(1));
    let expired = send(&mock, redeem(&late));
    assert_eq!(error(&expired), "invalid_grant");
    assert!(
        json(&expired)["error_description"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
    // `route` takes its time from the caller, whatever the builder's clock says.
    let code = authorize_code(&mock);
    let answer = mock.route(clock.now() + Duration::from_secs(600), redeem(&code));
    assert_eq!(error(answer.response().unwrap()), "invalid_grant");
    let answer = mock.route(clock.now() + Duration::from_secs(599), redeem(&code));
    assert_eq!(answer.response().unwrap().status, 200);
}

#[test]
fn device_slow_down_and_expiry_on_virtual_time() {
    let (mock, clock) = mock();
    let authorization = send(
        &mock,
        Request::post_form("/device_authorization", &[("client_id", "spa")]),
    );
    assert_eq!(authorization.status, 200, "{}", authorization.body_text());
    let body = json(&authorization);
    assert_eq!(
        body["verification_uri"],
        format!("{DEFAULT_BASE_URL}/device")
    );
    assert_eq!(body["interval"], 5);
    assert_eq!(body["expires_in"], 60);
    let device_code = body["device_code"].as_str().unwrap().to_owned();
    let user_code = body["user_code"].as_str().unwrap().to_owned();
    let poll = || {
        let request = Request::post_form(
            "/token",
            &[
                ("grant_type", DEVICE_GRANT),
                ("client_id", "spa"),
                ("device_code", &device_code),
            ],
        );
        send(&mock, request)
    };

    assert_eq!(error(&poll()), "authorization_pending");
    // At once: too fast, and the interval grows to 10 s.
    let slow = poll();
    assert_eq!(error(&slow), "slow_down");
    assert!(
        json(&slow)["error_description"]
            .as_str()
            .unwrap()
            .contains("10 s")
    );
    // 9.7 s later is still more than the 250 ms of slack too soon: 15 s now.
    clock.advance(Duration::from_millis(9_700));
    assert_eq!(error(&poll()), "slow_down");
    // 14.75 s later is within the slack.
    clock.advance(Duration::from_millis(14_750));
    assert_eq!(error(&poll()), "authorization_pending");

    // The user approves on the verification page, in memory too.
    let page = send(
        &mock,
        Request::get(format!("/device?user_code={}", user_code.to_lowercase())),
    );
    assert_eq!(page.status, 200, "{}", page.body_text());
    assert!(page.body_text().contains("approved"));
    clock.advance(Duration::from_secs(15));
    let token = poll();
    assert_eq!(token.status, 200, "{}", token.body_text());

    // A second authorization is left to expire: 60 s on the clock.
    let second = json(&send(
        &mock,
        Request::post_form("/device_authorization", &[("client_id", "spa")]),
    ));
    let second_code = second["device_code"].as_str().unwrap().to_owned();
    assert_eq!(mock.pending_user_codes().len(), 1);
    clock.advance(Duration::from_secs(59));
    assert_eq!(mock.pending_user_codes().len(), 1);
    clock.advance(Duration::from_secs(1));
    assert!(mock.pending_user_codes().is_empty());
    assert!(!mock.approve_device(second["user_code"].as_str().unwrap()));
    let expired = send(
        &mock,
        Request::post_form(
            "/token",
            &[
                ("grant_type", DEVICE_GRANT),
                ("client_id", "spa"),
                ("device_code", &second_code),
            ],
        ),
    );
    assert_eq!(error(&expired), "expired_token");
}

#[test]
fn tokens_expire_and_introspection_reads_the_same_clock() {
    let (mock, clock) = mock();
    let issued = json(&send(&mock, client_credentials()));
    let access = issued["access_token"].as_str().unwrap().to_owned();
    let introspect = || {
        json(&send(
            &mock,
            Request::post_form("/introspect", &[("token", &access)])
                .with_header("authorization", M2M),
        ))
    };
    let claims = introspect();
    assert_eq!(claims["active"], true);
    assert_eq!(claims["iat"], START);
    assert_eq!(claims["exp"], START + 60);
    let userinfo = || {
        send(
            &mock,
            Request::get("/userinfo").with_header("authorization", format!("Bearer {access}")),
        )
    };
    clock.advance(Duration::from_secs(59));
    assert_eq!(userinfo().status, 200);
    assert!(mock.access_token_active(&access));
    clock.advance(Duration::from_secs(1));
    let refused = userinfo();
    assert_eq!(refused.status, 401);
    assert!(
        refused
            .header("www-authenticate")
            .unwrap()
            .contains("expired")
    );
    assert!(!mock.access_token_active(&access));
    assert_eq!(introspect(), serde_json::json!({ "active": false }));

    // Doorkeeper's created_at is the clock's time.
    let doorkeeper = send(
        &mock,
        Request::post_form("/token", &[("grant_type", "client_credentials")])
            .with_header("authorization", "Basic ZGs6ZGstc2VjcmV0"),
    );
    assert_eq!(json(&doorkeeper)["created_at"], START + 60);
}

#[test]
fn a_pushed_request_uri_lives_sixty_seconds() {
    let (mock, clock) = mock();
    let push = || {
        let pushed = send(
            &mock,
            Request::post_form(
                "/par",
                &[
                    ("client_id", "spa"),
                    ("response_type", "code"),
                    ("redirect_uri", REDIRECT),
                ],
            ),
        );
        assert_eq!(pushed.status, 201, "{}", pushed.body_text());
        json(&pushed)["request_uri"].as_str().unwrap().to_owned()
    };
    let authorize = |request_uri: &str| {
        let target = format!(
            "/authorize?client_id=spa&request_uri={}",
            url::form_urlencoded::byte_serialize(request_uri.as_bytes()).collect::<String>()
        );
        send(&mock, Request::get(target))
    };
    let used = push();
    let kept = push();
    clock.advance(Duration::from_secs(59));
    assert!(param(&location(&authorize(&used)), "code").is_some());
    clock.advance(Duration::from_secs(1));
    let late = authorize(&kept);
    assert_eq!(late.status, 400);
    assert!(late.body_text().contains("invalid_request_uri"));
}

#[test]
fn urls_come_from_the_base_url() {
    let mock = Mock::builder()
        .base_url("https://as.example/")
        .issuer_path("tenant")
        .client(MockClient::new("spa"))
        .build();
    assert_eq!(mock.url(), "https://as.example");
    assert_eq!(mock.issuer(), "https://as.example/tenant");
    assert_eq!(mock.token_endpoint(), "https://as.example/token");
    for target in [
        "/.well-known/oauth-authorization-server/tenant",
        "https://as.example/tenant/.well-known/openid-configuration",
    ] {
        let metadata = json(&send(&mock, Request::get(target)));
        assert_eq!(metadata["issuer"], "https://as.example/tenant");
        assert_eq!(metadata["token_endpoint"], "https://as.example/token");
        assert_eq!(
            metadata["device_authorization_endpoint"],
            "https://as.example/device_authorization"
        );
    }
    let device = json(&send(
        &mock,
        Request::post_form("/device_authorization", &[("client_id", "spa")]),
    ));
    assert_eq!(device["verification_uri"], "https://as.example/device");
    assert_eq!(
        send(
            &mock,
            Request::get("/.well-known/oauth-authorization-server")
        )
        .status,
        404
    );
}

#[test]
fn socket_faults_are_reported_not_hidden() {
    let (mock, _) = mock();
    mock.inject("/token", Fault::CloseConnection, 1);
    assert_eq!(
        mock.route_now(client_credentials()),
        Routed::Fault(SocketFault::CloseConnection)
    );
    mock.inject("/token", Fault::Oversized { bytes: 50_000_000 }, 1);
    assert_eq!(
        mock.route_now(client_credentials()),
        Routed::Fault(SocketFault::Oversized { bytes: 50_000_000 })
    );
    mock.inject("/token", Fault::SlowBody, 1);
    match mock.route_now(client_credentials()) {
        Routed::Fault(SocketFault::Dribble {
            chunk_size: 4,
            interval,
            response,
        }) => {
            assert_eq!(interval, Duration::from_millis(100));
            assert_eq!(response.status, 200);
        }
        other => panic!("{other:?}"),
    }
    mock.inject(
        "/token",
        Fault::Dribble {
            chunk_size: 0,
            interval: Duration::from_millis(5),
        },
        1,
    );
    assert!(matches!(
        mock.route_now(client_credentials()),
        Routed::Fault(SocketFault::Dribble { chunk_size: 1, .. })
    ));
    // Neither a hang-up nor an oversized body issued a token; the dribbled ones did.
    assert_eq!(mock.issued_access_tokens(), 2);
    assert_eq!(mock.request_count("/token"), 4);

    // Answer-replacing faults are plain answers.
    mock.inject("/token", Fault::retry_after(503, "7"), 1);
    let unavailable = send(&mock, client_credentials());
    assert_eq!(unavailable.status, 503);
    assert_eq!(unavailable.header("retry-after"), Some("7"));
    mock.inject("/token", Fault::body(0, "text/plain", "odd"), 1);
    assert_eq!(send(&mock, client_credentials()).status, 500);
    mock.inject(
        "/token",
        Fault::redirect(302, "https://x.example/\r\nevil: 1"),
        1,
    );
    let redirect = send(&mock, client_credentials());
    assert_eq!(redirect.status, 302);
    assert_eq!(redirect.header("location"), None);
    assert_eq!(mock.issued_access_tokens(), 2);
}

#[test]
fn a_delayed_request_is_handled_after_its_delay() {
    let (mock, clock) = mock();
    let code = authorize_code(&mock);
    // The code has 600 s; a 600 s pause before handling outlives it.
    mock.inject("/token", Fault::Delay(Duration::from_secs(600)), 1);
    match mock.route(clock.now(), redeem(&code)) {
        Routed::Fault(SocketFault::Delay { delay, response }) => {
            assert_eq!(delay, Duration::from_secs(600));
            assert_eq!(error(&response), "invalid_grant");
        }
        other => panic!("{other:?}"),
    }
    let code = authorize_code(&mock);
    mock.inject("/token", Fault::Delay(Duration::from_secs(1)), 1);
    let routed = mock.route(clock.now(), redeem(&code));
    assert!(matches!(routed, Routed::Fault(SocketFault::Delay { .. })));
    assert_eq!(routed.into_response().unwrap().status, 200);
}

#[test]
fn requests_are_recorded_in_memory_and_big_bodies_refused() {
    let (mock, _) = mock();
    send(
        &mock,
        Request::get("http://mock.invalid/userinfo?x=1").with_header("X-Odd", "v"),
    );
    let recorded = mock.requests_to("/userinfo");
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].query.as_deref(), Some("x=1"));
    assert_eq!(recorded[0].headers, [("x-odd".to_owned(), "v".to_owned())]);
    assert_eq!(recorded[0].param("x"), Some("1"));

    mock.inject("/token", Fault::status(503), 1);
    let big = Request::post_form("/token", &[]).with_body(vec![b'a'; 1024 * 1024 + 1]);
    let refused = send(&mock, big);
    assert_eq!(refused.status, 413);
    assert!(mock.requests_to("/token")[0].body.is_empty());
    // The 413 did not use up the fault.
    assert_eq!(send(&mock, client_credentials()).status, 503);
}

#[test]
fn bad_input_never_panics() {
    let (mock, _) = mock();
    mock.inject(
        "/token",
        Fault::Dribble {
            chunk_size: usize::MAX,
            interval: Duration::MAX,
        },
        1,
    );
    let garbage: Vec<Request> = vec![
        Request::new("", ""),
        Request::new("GET", "*"),
        Request::new("GET", "http://[::1"),
        Request::new("BREW", "/token"),
        Request::get("/authorize?%FF=%FE&client_id"),
        Request::get("/device?user_code=%F0%9F%98%80"),
        Request::new("POST", "/token").with_body(vec![0xff, 0xfe]),
        Request::new("POST", "/token")
            .with_header("content-type", "multipart/form-data; boundary=")
            .with_body("--\r\n"),
        Request::new("POST", "/token")
            .with_header("content-type", "multipart/form-data; boundary=b")
            .with_body("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\u{0}"),
        Request::new("POST", "/token")
            .with_header("content-type", "application/json")
            .with_body("{\"grant_type\": {\"a\": 1}}"),
        Request::new("POST", "/token")
            .with_header("content-type", "application/json")
            .with_body("[1e999999]"),
        Request::post_form("/token", &[("grant_type", "client_credentials")])
            .with_header("authorization", "Basic ☃☃☃"),
        Request::post_form("/token", &[("grant_type", "client_credentials")])
            .with_header("authorization", "Basic"),
        Request::post_form(
            "/token",
            &[("grant_type", DEVICE_GRANT), ("client_id", "spa")],
        ),
        Request::post_form("/introspect", &[("token", "")]).with_header("authorization", M2M),
        Request::post_form(
            "/par",
            &[
                ("client_id", "spa"),
                ("response_type", "code"),
                ("redirect_uri", "::"),
            ],
        ),
        Request::get("/userinfo").with_header("authorization", "Bearer"),
        Request::get("/.well-known/openid-configuration/../../etc"),
    ];
    for request in garbage {
        let shown = format!("{request:?}");
        let routed = mock.route(SystemTime::UNIX_EPOCH, request);
        if let Some(response) = routed.response() {
            assert!(
                (200..600).contains(&response.status),
                "{shown}: {response:?}"
            );
        }
    }
    // Far ends of time do not overflow either.
    let code = authorize_code(&mock);
    let far = UNIX_EPOCH + Duration::from_secs(u64::from(u32::MAX) * 1000);
    assert_eq!(
        error(mock.route(far, redeem(&code)).response().unwrap()),
        "invalid_grant"
    );
    mock.inject("/token", Fault::Delay(Duration::MAX), 1);
    assert!(mock.route(far, client_credentials()).response().is_some());
}

#[test]
fn a_server_and_its_router_share_everything() {
    let clock = MockClock::at(start());
    let server = MockServer::builder()
        .client(MockClient::new("m2m").secret("s").expires_in(60))
        .clock(clock.clone())
        .start();
    // A token from the router works over HTTP, and the other way round.
    let in_memory = json(&send(server.mock(), client_credentials()));
    let access = in_memory["access_token"].as_str().unwrap();
    assert_eq!(common::userinfo(&server, access).status, 200);
    let over_http = common::post_form_basic(
        &server.token_endpoint(),
        &common::basic("m2m", "s"),
        &[("grant_type", "client_credentials")],
    );
    let access = over_http.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let userinfo =
        Request::get("/userinfo").with_header("authorization", format!("Bearer {access}"));
    assert_eq!(send(&server, userinfo.clone()).status, 200);
    // The router's URLs are the server's.
    let metadata = json(&send(
        &server,
        Request::get("/.well-known/oauth-authorization-server"),
    ));
    assert_eq!(metadata["token_endpoint"], server.token_endpoint());
    assert_eq!(server.request_count("/token"), 2);
    assert_eq!(server.request_count("/userinfo"), 2);
    // One clock for both.
    clock.advance(Duration::from_secs(60));
    assert_eq!(send(&server, userinfo).status, 401);
    assert_eq!(common::userinfo(&server, &access).status, 401);
}

/// A `refresh_token` grant for `spa`.
fn refresh(refresh_token: &str) -> Request {
    Request::post_form(
        "/token",
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "spa"),
            ("refresh_token", refresh_token),
        ],
    )
}

/// `spa` again, with Clerk-style answers (a refresh token every time), rotation and `grace`.
fn rotating_spa(grace: Duration) -> MockClient {
    MockClient::new("spa")
        .response_style(ResponseStyle::Clerk)
        .rotate_refresh_tokens(true)
        .refresh_reuse_grace(grace)
}

fn string(value: &Value) -> String {
    value.as_str().expect("a string").to_owned()
}

#[test]
fn the_reuse_grace_period_ends_on_the_request_time() {
    let (mock, clock) = mock();
    mock.add_client(rotating_spa(Duration::from_secs(5)));
    let first = json(&send(&mock, redeem(&authorize_code(&mock))));
    let refresh0 = string(&first["refresh_token"]);
    let answer = |millis: u64, token: &str| match mock
        .route(start() + Duration::from_millis(millis), refresh(token))
    {
        Routed::Answer(response) => response,
        other => panic!("expected an answer, got {other:?}"),
    };
    let refresh1 = string(&json(&answer(0, &refresh0))["refresh_token"]);
    let refresh2 = string(&json(&answer(1_000, &refresh1))["refresh_token"]);

    // Just inside refresh0's grace: the refresh is repeated, with the newest token of the
    // chain (refresh1 was rotated in turn).
    let repeat = answer(4_999, &refresh0);
    assert_eq!(repeat.status, 200, "{}", repeat.body_text());
    assert_eq!(string(&json(&repeat)["refresh_token"]), refresh2);
    // Each rotated token has its own grace: refresh1's runs until 6 s.
    let repeat = answer(5_000, &refresh1);
    assert_eq!(repeat.status, 200, "{}", repeat.body_text());
    assert_eq!(string(&json(&repeat)["refresh_token"]), refresh2);
    assert_eq!(mock.revoked_grants(), 0);
    assert!(mock.refresh_token_active(&refresh2));

    // At 5 s sharp refresh0's grace is over: reuse, and the grant goes.
    let reused = answer(5_000, &refresh0);
    assert_eq!(error(&reused), "invalid_grant");
    assert!(
        json(&reused)["error_description"]
            .as_str()
            .unwrap()
            .contains("reuse")
    );
    assert!(mock.grant_revoked(&refresh2));
    assert!(!mock.refresh_token_active(&refresh2));
    assert_eq!(error(&answer(5_001, &refresh2)), "invalid_grant");
    assert_eq!(mock.refresh_count(), 4);
    assert_eq!(mock.refresh_grace_count(), 2);
    assert_eq!(mock.refresh_reuse_count(), 1);
    assert_eq!(mock.issued_refresh_tokens(), 3);
    // Only the request's time counted: the builder's clock never moved.
    assert_eq!(clock.now(), start());
}

#[test]
fn a_device_authorization_is_a_grant_of_its_own() {
    let (mock, _clock) = mock();
    mock.add_client(rotating_spa(Duration::ZERO));
    let by_code = json(&send(&mock, redeem(&authorize_code(&mock))));
    let authorization = json(&send(
        &mock,
        Request::post_form("/device_authorization", &[("client_id", "spa")]),
    ));
    assert!(mock.approve_device(authorization["user_code"].as_str().unwrap()));
    let device_code = string(&authorization["device_code"]);
    let by_device = json(&send(
        &mock,
        Request::post_form(
            "/token",
            &[
                ("grant_type", DEVICE_GRANT),
                ("client_id", "spa"),
                ("device_code", &device_code),
            ],
        ),
    ));
    let refresh0 = string(&by_device["refresh_token"]);
    let rotated = json(&send(&mock, refresh(&refresh0)));
    assert_eq!(error(&send(&mock, refresh(&refresh0))), "invalid_grant");

    // The device grant is revoked, all of it.
    for access in [&by_device["access_token"], &rotated["access_token"]] {
        assert!(!mock.access_token_active(access.as_str().unwrap()));
    }
    let newest = string(&rotated["refresh_token"]);
    assert!(!mock.refresh_token_active(&newest));
    assert!(mock.grant_revoked(&newest));
    // The authorization code's grant, same client and user, is not.
    let code_access = string(&by_code["access_token"]);
    let code_refresh = string(&by_code["refresh_token"]);
    assert!(mock.access_token_active(&code_access));
    assert!(!mock.grant_revoked(&code_access));
    assert_eq!(send(&mock, refresh(&code_refresh)).status, 200);
    assert_eq!(mock.revoked_grants(), 1);
    assert!(!mock.grant_revoked("rt_unknown"));
}

/// The JSON of a JWS compact segment.
fn segment(jws: &str, index: usize) -> Value {
    use base64::Engine as _;
    let part = jws.split('.').nth(index).expect("a segment");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON")
}

#[test]
fn openid_codes_and_their_refreshes_carry_signed_id_tokens_and_keys_rotate() {
    use base64::Engine as _;
    use p256::ecdsa::signature::Verifier as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let clock = MockClock::at(start());
    let mock = Mock::builder()
        .client(
            MockClient::new("oidc")
                .secret("oidc-secret")
                .id_token_alg(latchkey_mock::IdTokenAlg::ES256)
                .response_style(ResponseStyle::Clerk),
        )
        .clock(clock)
        .build();
    let target = format!(
        "/authorize?response_type=code&client_id=oidc&state=st&nonce=n-0S6&scope=openid%20profile&redirect_uri={}",
        url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
    );
    let code = param(&location(&send(&mock, Request::get(target))), "code").unwrap();
    let redeem = |grant: &[(&str, &str)]| {
        Request::post_form("/token", grant)
            .with_header("authorization", "Basic b2lkYzpvaWRjLXNlY3JldA==")
    };
    let answer = json(&send(
        &mock,
        redeem(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ]),
    ));
    let id_token = answer["id_token"].as_str().expect("an id_token").to_owned();
    let (header, claims) = (segment(&id_token, 0), segment(&id_token, 1));
    assert_eq!(header["alg"], "ES256");
    assert_eq!(claims["iss"], DEFAULT_BASE_URL);
    assert_eq!(claims["aud"], "oidc");
    assert_eq!(claims["nonce"], "n-0S6");
    assert_eq!(claims["iat"], START);
    assert_eq!(claims["exp"], START + 3600);
    assert_eq!(claims["auth_time"], START);
    let access = answer["access_token"].as_str().unwrap();
    let at_hash = b64.encode(&sha2::Sha256::digest(access.as_bytes())[..16]);
    assert_eq!(claims["at_hash"], at_hash.as_str());

    // The signature verifies with the key the JWK set publishes under the header's kid.
    let jwks = json(&send(&mock, Request::get("/jwks")));
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .expect("the kid is published");
    let mut point = vec![4u8];
    point.extend(b64.decode(jwk["x"].as_str().unwrap()).unwrap());
    point.extend(b64.decode(jwk["y"].as_str().unwrap()).unwrap());
    let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&point).unwrap();
    let (input, signature) = id_token.rsplit_once('.').unwrap();
    let signature = p256::ecdsa::Signature::from_slice(&b64.decode(signature).unwrap()).unwrap();
    assert!(key.verify(input.as_bytes(), &signature).is_ok());
    let metadata = json(&send(
        &mock,
        Request::get("/.well-known/openid-configuration"),
    ));
    assert_eq!(metadata["jwks_uri"], format!("{DEFAULT_BASE_URL}/jwks"));

    // A refresh's ID token: same subject, no nonce, the original auth_time.
    let refreshed = json(&send(
        &mock,
        redeem(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", answer["refresh_token"].as_str().unwrap()),
        ]),
    ));
    let again = segment(refreshed["id_token"].as_str().unwrap(), 1);
    assert_eq!(again["sub"], claims["sub"]);
    assert!(again.get("nonce").is_none());
    assert_eq!(again["auth_time"], START);

    // Rotation: new kids, and the old ones are gone from the set.
    mock.rotate_signing_keys();
    let rotated = json(&send(&mock, Request::get("/jwks")));
    assert!(
        rotated["keys"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["kid"] != header["kid"])
    );
    let refreshed = json(&send(
        &mock,
        redeem(&[
            ("grant_type", "refresh_token"),
            (
                "refresh_token",
                refreshed["refresh_token"].as_str().unwrap(),
            ),
        ]),
    ));
    let new_header = segment(refreshed["id_token"].as_str().unwrap(), 0);
    assert_ne!(new_header["kid"], header["kid"]);
    assert!(
        rotated["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kid"] == new_header["kid"])
    );

    // No openid in the scope, no ID token.
    let plain = format!(
        "/authorize?response_type=code&client_id=oidc&state=st&scope=profile&redirect_uri={}",
        url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
    );
    let code = param(&location(&send(&mock, Request::get(plain))), "code").unwrap();
    let answer = json(&send(
        &mock,
        redeem(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ]),
    ));
    assert!(answer.get("id_token").is_none());
}

#[test]
fn every_algorithm_signs_under_a_published_key() {
    use latchkey_mock::IdTokenAlg;
    let algs = [
        IdTokenAlg::RS256,
        IdTokenAlg::PS256,
        IdTokenAlg::ES256,
        IdTokenAlg::ES384,
        IdTokenAlg::EdDSA,
        IdTokenAlg::HS256,
    ];
    let mut builder = Mock::builder();
    for alg in algs {
        builder = builder.client(
            MockClient::new(alg.as_str())
                .secret("s")
                .auth_method(latchkey_mock::AuthMethod::Post)
                .id_token_alg(alg),
        );
    }
    let mock = builder.build();
    for alg in algs {
        let target = format!(
            "/authorize?response_type=code&client_id={}&state=st&scope=openid&redirect_uri={}",
            alg.as_str(),
            url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
        );
        let code = param(&location(&send(&mock, Request::get(target))), "code").unwrap();
        let answer = json(&send(
            &mock,
            Request::post_form(
                "/token",
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", REDIRECT),
                    ("client_id", alg.as_str()),
                    ("client_secret", "s"),
                ],
            ),
        ));
        let header = segment(answer["id_token"].as_str().unwrap(), 0);
        assert_eq!(header["alg"], alg.as_str());
        let jwks = json(&send(&mock, Request::get("/jwks")));
        let published = jwks["keys"].as_array().unwrap();
        if alg == IdTokenAlg::HS256 {
            assert!(header.get("kid").is_none(), "the client secret has no kid");
        } else {
            let jwk = published.iter().find(|k| k["kid"] == header["kid"]);
            assert_eq!(jwk.expect("published")["alg"], alg.as_str());
        }
        assert!(
            published
                .iter()
                .all(|k| k.get("d").is_none() && k.get("p").is_none()),
            "public halves only"
        );
    }
}
