//! The RFCs past RFC 6749, on the wire: metadata at both well-known paths (RFC 8414, OpenID
//! Connect Discovery), the device grant (RFC 8628), introspection (RFC 7662), revocation
//! cascading (RFC 7009), PAR (RFC 9126), `iss` (RFC 9207), token exchange (RFC 8693) and
//! resource indicators (RFC 8707).

mod common;

use std::time::Duration;

use common::*;
use latchkey_mock::{GrantType, MockClient, MockServer};
use serde_json::Value;

const SECRET: &str = "conf-secret-9d1e";
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const EXCHANGE_GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
const REFRESH_TYPE: &str = "urn:ietf:params:oauth:token-type:refresh_token";
const API: &str = "https://api.example/";

fn server() -> MockServer {
    MockServer::builder()
        .client(MockClient::new("conf").secret(SECRET).grant_types([
            GrantType::AuthorizationCode,
            GrantType::ClientCredentials,
            GrantType::RefreshToken,
            GrantType::DeviceCode,
            GrantType::TokenExchange,
        ]))
        .client(MockClient::new("tv"))
        .client(
            MockClient::new("picky")
                .secret(SECRET)
                .allowed_resources([API]),
        )
        .client(MockClient::new("web").grant_types([GrantType::AuthorizationCode]))
        .device_interval(1)
        .start()
}

fn conf() -> String {
    basic("conf", SECRET)
}

fn client_credentials(server: &MockServer, extra: &[(&str, &str)]) -> Value {
    let mut pairs = vec![("grant_type", "client_credentials")];
    pairs.extend_from_slice(extra);
    let resp = post_form_basic(&server.token_endpoint(), &conf(), &pairs);
    assert_eq!(resp.status, 200, "{}", resp.body);
    resp.json()
}

fn introspect(server: &MockServer, auth: &str, token: &str) -> Value {
    let resp = post_form_basic(&server.introspection_endpoint(), auth, &[("token", token)]);
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    resp.json()
}

#[test]
fn metadata_at_both_well_known_paths() {
    let server = server();
    for path in [
        "/.well-known/oauth-authorization-server",
        "/.well-known/openid-configuration",
    ] {
        let json = get(&server.endpoint(path), &[]).json();
        assert_eq!(json["issuer"], server.url());
        assert_eq!(json["issuer"], server.issuer());
        assert_eq!(
            json["introspection_endpoint"],
            server.introspection_endpoint()
        );
        assert_eq!(
            json["device_authorization_endpoint"],
            server.device_authorization_endpoint()
        );
        assert_eq!(
            json["pushed_authorization_request_endpoint"],
            server.pushed_authorization_request_endpoint()
        );
        assert_eq!(json["require_pushed_authorization_requests"], false);
        assert_eq!(json["authorization_response_iss_parameter_supported"], true);
        assert!(
            json["grant_types_supported"]
                .as_array()
                .unwrap()
                .iter()
                .any(|g| g == DEVICE_GRANT)
        );
    }
}

#[test]
fn an_issuer_with_a_path_uses_path_insertion() {
    let server = MockServer::builder()
        .issuer_path("tenant/1/")
        .issuer_parameter(false)
        .require_pushed_authorization_requests(true)
        .start();
    let issuer = format!("{}/tenant/1", server.url());
    assert_eq!(server.issuer(), issuer);
    let rfc8414 = get(
        &server.endpoint("/.well-known/oauth-authorization-server/tenant/1"),
        &[],
    );
    assert_eq!(rfc8414.json()["issuer"], issuer);
    assert_eq!(
        rfc8414.json()["require_pushed_authorization_requests"],
        true
    );
    assert_eq!(
        rfc8414.json()["authorization_response_iss_parameter_supported"],
        false
    );
    let oidc = get(
        &server.endpoint("/tenant/1/.well-known/openid-configuration"),
        &[],
    );
    assert_eq!(oidc.json()["issuer"], issuer);
    // The endpoints stay at the root.
    assert_eq!(oidc.json()["token_endpoint"], server.token_endpoint());
    for wrong in [
        "/.well-known/oauth-authorization-server",
        "/.well-known/openid-configuration",
        "/tenant/1/.well-known/oauth-authorization-server",
    ] {
        assert_eq!(get(&server.endpoint(wrong), &[]).status, 404, "{wrong}");
    }
}

#[test]
fn authorization_responses_carry_iss() {
    let server = server();
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

#[test]
fn device_flow_pending_slow_down_approval_and_single_use() {
    let server = server();
    let resp = post_form(
        &server.device_authorization_endpoint(),
        &[("client_id", "tv"), ("scope", "read"), ("resource", API)],
    );
    assert_eq!(resp.status, 200, "{}", resp.body);
    let json = resp.json();
    let device_code = json["device_code"].as_str().unwrap().to_owned();
    let user_code = json["user_code"].as_str().unwrap().to_owned();
    assert_eq!(user_code.len(), 9);
    assert_eq!(&user_code[4..5], "-");
    assert_eq!(json["verification_uri"], server.endpoint("/device"));
    assert_eq!(
        json["verification_uri_complete"],
        format!("{}/device?user_code={user_code}", server.url())
    );
    assert_eq!(json["interval"], 1);
    assert_eq!(json["expires_in"], 600);
    assert_eq!(
        server.pending_user_codes(),
        std::slice::from_ref(&user_code)
    );

    let poll = || {
        post_form(
            &server.token_endpoint(),
            &[
                ("grant_type", DEVICE_GRANT),
                ("client_id", "tv"),
                ("device_code", &device_code),
            ],
        )
    };
    poll().assert_error(400, "authorization_pending");
    // Polling again at once is too fast: slow_down, and the interval grows by 5 s.
    let description = poll().assert_error(400, "slow_down");
    assert!(description.contains("6 s"), "{description}");
    // Another client cannot redeem it.
    post_form_basic(
        &server.token_endpoint(),
        &conf(),
        &[("grant_type", DEVICE_GRANT), ("device_code", &device_code)],
    )
    .assert_error(400, "invalid_grant");

    assert!(server.approve_device(&user_code.to_lowercase().replace('-', "")));
    assert!(!server.approve_device(&user_code), "approved twice");
    assert!(server.pending_user_codes().is_empty());
    std::thread::sleep(Duration::from_millis(6000));
    let resp = poll();
    assert_eq!(resp.status, 200, "{}", resp.body);
    let access = resp.json()["access_token"].as_str().unwrap().to_owned();
    let introspection = introspect(&server, &conf(), &access);
    assert_eq!(introspection["active"], true);
    assert_eq!(introspection["scope"], "read");
    assert_eq!(introspection["aud"], API);
    assert_eq!(introspection["client_id"], "tv");
    std::thread::sleep(Duration::from_millis(1000));
    poll().assert_error(400, "invalid_grant");
    post_form(
        &server.token_endpoint(),
        &[
            ("grant_type", DEVICE_GRANT),
            ("client_id", "tv"),
            ("device_code", "nope"),
        ],
    )
    .assert_error(400, "invalid_grant");
}

#[test]
fn device_flow_denied_expired_and_the_verification_page() {
    let server = MockServer::builder()
        .client(MockClient::new("tv"))
        .device_code_expires_in(1)
        .start();
    let start = || {
        let resp = post_form(
            &server.device_authorization_endpoint(),
            &[("client_id", "tv")],
        );
        assert_eq!(resp.status, 200, "{}", resp.body);
        let json = resp.json();
        (
            json["device_code"].as_str().unwrap().to_owned(),
            json["user_code"].as_str().unwrap().to_owned(),
        )
    };
    let poll = |device_code: &str| {
        post_form(
            &server.token_endpoint(),
            &[
                ("grant_type", DEVICE_GRANT),
                ("client_id", "tv"),
                ("device_code", device_code),
            ],
        )
    };
    let (denied, user_code) = start();
    assert!(server.deny_device(&user_code));
    poll(&denied).assert_error(400, "access_denied");

    let (approved, user_code) = start();
    let page = get(
        &format!("{}?user_code={user_code}", server.endpoint("/device")),
        &[],
    );
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("approved"));
    assert_eq!(get(&server.endpoint("/device"), &[]).status, 200);
    assert_eq!(
        get(
            &format!("{}?user_code=ZZZZ-ZZZZ", server.endpoint("/device")),
            &[]
        )
        .status,
        400
    );
    assert_eq!(poll(&approved).status, 200);

    let (expired, _) = start();
    std::thread::sleep(Duration::from_millis(1100));
    poll(&expired).assert_error(400, "expired_token");

    // Device authorization authenticates the client like the token endpoint.
    post_form(&server.device_authorization_endpoint(), &[]).assert_error(401, "invalid_client");
}

#[test]
fn introspection_of_live_revoked_and_foreign_tokens() {
    let server = server();
    let json = client_credentials(&server, &[("scope", "a b"), ("resource", API)]);
    let access = json["access_token"].as_str().unwrap();
    let live = introspect(&server, &conf(), access);
    assert_eq!(live["active"], true);
    assert_eq!(live["scope"], "a b");
    assert_eq!(live["client_id"], "conf");
    assert_eq!(live["sub"], "conf");
    assert_eq!(live["token_type"], "Bearer");
    assert_eq!(live["iss"], server.issuer());
    assert_eq!(live["aud"], API);
    assert_eq!(
        live["exp"].as_u64().unwrap() - live["iat"].as_u64().unwrap(),
        3600
    );
    // A public client may not look at another client's token.
    let foreign = post_form(
        &server.introspection_endpoint(),
        &[("client_id", "tv"), ("token", access)],
    );
    assert_eq!(foreign.json(), serde_json::json!({ "active": false }));
    // Unknown tokens are inactive; client authentication is required.
    assert_eq!(introspect(&server, &conf(), "zzz")["active"], false);
    post_form(&server.introspection_endpoint(), &[("token", access)])
        .assert_error(401, "invalid_client");
    post_form_basic(&server.introspection_endpoint(), &conf(), &[])
        .assert_error(400, "invalid_request");
    // Revoked: inactive.
    let resp = post_form_basic(&server.revocation_endpoint(), &conf(), &[("token", access)]);
    assert_eq!(resp.status, 200);
    assert_eq!(introspect(&server, &conf(), access)["active"], false);
}

#[test]
fn revoking_a_refresh_token_revokes_its_access_tokens() {
    let server = server();
    let code = get_code(&server, "conf", &[("scope", "openid offline_access")]);
    let resp = post_form_basic(
        &server.token_endpoint(),
        &conf(),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    );
    assert_eq!(resp.status, 200, "{}", resp.body);
    let json = resp.json();
    let access = json["access_token"].as_str().unwrap();
    let refresh = json["refresh_token"].as_str().unwrap();
    let introspection = introspect(&server, &conf(), refresh);
    assert_eq!(introspection["active"], true);
    assert_eq!(introspection["token_type"], "refresh_token");
    assert_eq!(introspection["sub"], "mock-user-1");
    let resp = post_form_basic(
        &server.revocation_endpoint(),
        &conf(),
        &[("token", refresh), ("token_type_hint", "refresh_token")],
    );
    assert_eq!(resp.status, 200);
    assert!(!server.refresh_token_active(refresh));
    assert!(!server.access_token_active(access));
}

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

#[test]
fn token_exchange() {
    let server = server();
    let subject = client_credentials(&server, &[("scope", "read write")]);
    let subject = subject["access_token"].as_str().unwrap();
    let resp = post_form_basic(
        &server.token_endpoint(),
        &conf(),
        &[
            ("grant_type", EXCHANGE_GRANT),
            ("subject_token", subject),
            ("subject_token_type", ACCESS_TYPE),
            ("resource", API),
            ("audience", "backend"),
            ("audience", "other"),
        ],
    );
    assert_eq!(resp.status, 200, "{}", resp.body);
    let json = resp.json();
    assert_eq!(json["issued_token_type"], ACCESS_TYPE);
    assert_eq!(json["token_type"], "Bearer");
    assert_eq!(json["scope"], "read write");
    let exchanged = json["access_token"].as_str().unwrap();
    let introspection = introspect(&server, &conf(), exchanged);
    assert_eq!(introspection["sub"], "conf");
    assert_eq!(
        introspection["aud"],
        serde_json::json!([API, "backend", "other"])
    );

    // A refresh token, handed back in access_token with token_type N_A.
    let resp = post_form_basic(
        &server.token_endpoint(),
        &conf(),
        &[
            ("grant_type", EXCHANGE_GRANT),
            ("subject_token", subject),
            ("subject_token_type", ACCESS_TYPE),
            ("actor_token", exchanged),
            ("actor_token_type", ACCESS_TYPE),
            ("requested_token_type", REFRESH_TYPE),
            ("scope", "read"),
        ],
    );
    assert_eq!(resp.status, 200, "{}", resp.body);
    let json = resp.json();
    assert_eq!(json["issued_token_type"], REFRESH_TYPE);
    assert_eq!(json["token_type"], "N_A");
    assert!(server.refresh_token_active(json["access_token"].as_str().unwrap()));

    let exchange = |extra: &[(&str, &str)]| {
        let mut pairs = vec![("grant_type", EXCHANGE_GRANT)];
        pairs.extend_from_slice(extra);
        post_form_basic(&server.token_endpoint(), &conf(), &pairs)
    };
    exchange(&[("subject_token", subject)]).assert_error(400, "invalid_request");
    exchange(&[
        ("subject_token", "zzz"),
        ("subject_token_type", ACCESS_TYPE),
    ])
    .assert_error(400, "invalid_request");
    exchange(&[
        ("subject_token", subject),
        (
            "subject_token_type",
            "urn:ietf:params:oauth:token-type:saml2",
        ),
    ])
    .assert_error(400, "invalid_request");
    exchange(&[
        ("subject_token", subject),
        ("subject_token_type", ACCESS_TYPE),
        ("actor_token", subject),
    ])
    .assert_error(400, "invalid_request");
    exchange(&[
        ("subject_token", subject),
        ("subject_token_type", ACCESS_TYPE),
        ("resource", "relative/path"),
    ])
    .assert_error(400, "invalid_target");
    // Only token exchange may repeat audience.
    post_form_basic(
        &server.token_endpoint(),
        &conf(),
        &[
            ("grant_type", "client_credentials"),
            ("audience", "a"),
            ("audience", "b"),
        ],
    )
    .assert_error(400, "invalid_request");
}

#[test]
fn resource_indicators_are_validated_and_narrowed() {
    let server = server();
    // A client restricted to some resources.
    let picky = basic("picky", SECRET);
    let resp = post_form_basic(
        &server.token_endpoint(),
        &picky,
        &[
            ("grant_type", "client_credentials"),
            ("resource", "https://other.example/"),
        ],
    );
    resp.assert_error(400, "invalid_target");
    // An authorization for two resources; the token request narrows to one.
    let code = get_code(
        &server,
        "conf",
        &[
            ("scope", "offline_access"),
            ("resource", API),
            ("resource", "https://b.example/"),
        ],
    );
    let redeem = |resource: &str| {
        post_form_basic(
            &server.token_endpoint(),
            &conf(),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("resource", resource),
            ],
        )
    };
    redeem("https://c.example/").assert_error(400, "invalid_target");
    let resp = redeem(API);
    assert_eq!(resp.status, 200, "{}", resp.body);
    let json = resp.json();
    let access = json["access_token"].as_str().unwrap();
    assert_eq!(introspect(&server, &conf(), access)["aud"], API);
    // The refresh token keeps both; a refresh can pick the other.
    let refresh = json["refresh_token"].as_str().unwrap();
    let resp = post_form_basic(
        &server.token_endpoint(),
        &conf(),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("resource", "https://b.example/"),
        ],
    );
    assert_eq!(resp.status, 200, "{}", resp.body);
    let access = resp.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        introspect(&server, &conf(), &access)["aud"],
        "https://b.example/"
    );
    // At /authorize, a bad resource is redirected back as invalid_target.
    let resp = authorize(
        &server,
        &[
            ("response_type", "code"),
            ("client_id", "conf"),
            ("redirect_uri", REDIRECT),
            ("resource", "https://a.example/#frag"),
        ],
    );
    assert_eq!(
        query_param(&resp.location(), "error").as_deref(),
        Some("invalid_target")
    );
    // Every resource sent is recorded.
    let recorded = server.requests_to("/authorize");
    assert!(
        recorded
            .iter()
            .any(|r| r.params.iter().filter(|(k, _)| k == "resource").count() == 2)
    );
}
