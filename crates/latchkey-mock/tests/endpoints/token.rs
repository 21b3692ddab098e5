//! `POST /token`: the authorization code, client credentials and refresh grants, PKCE,
//! code reuse, refresh rotation and the response dialects.

use crate::common::*;
use crate::fixtures::*;
use latchkey_mock::{AuthMethod, Encoding, GrantType, MockClient, MockServer, ResponseStyle};

#[test]
fn loom_code_pkce_s256_with_offline_access_gets_auth0_shape() {
    let server = providers();
    let json = exchange_loom(&server, "read:avatars offline_access");
    assert_eq!(
        keys(&json),
        [
            "access_token",
            "expires_in",
            "refresh_token",
            "scope",
            "token_type"
        ]
    );
    assert_eq!(json["token_type"], "Bearer");
    assert_eq!(json["expires_in"], 3600);
    assert_eq!(json["scope"], "read:avatars offline_access");
    assert_eq!(server.issued_access_tokens(), 1);
    assert_eq!(server.issued_refresh_tokens(), 1);

    // Auth0 without rotation: refresh answers carry no new refresh token.
    let refresh = json["refresh_token"].as_str().unwrap();
    for _ in 0..2 {
        let resp = token(
            &server,
            &[
                ("grant_type", "refresh_token"),
                ("client_id", "loom"),
                ("refresh_token", refresh),
            ],
        );
        assert_eq!(resp.status, 200, "{}", resp.body);
        assert_eq!(resp.json().get("refresh_token"), None);
    }
    assert_eq!(server.refresh_count(), 2);
    // A refresh may repeat the audience, but not change it.
    token(
        &server,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "loom"),
            ("refresh_token", refresh),
            ("audience", "https://other.example/"),
        ],
    )
    .assert_error(400, "invalid_request");
}

#[test]
fn auth0_without_offline_access_has_no_refresh_token() {
    let server = providers();
    let json = exchange_loom(&server, "read:avatars");
    assert_eq!(
        keys(&json),
        ["access_token", "expires_in", "scope", "token_type"]
    );
}

#[test]
fn pkce_failures() {
    let server = providers();
    let code = |extra: &[(&str, &str)]| {
        let mut params = vec![("audience", LOOM_AUD)];
        params.extend_from_slice(extra);
        get_code(&server, "loom", &params)
    };
    let exchange = |code: &str, verifier: Option<&str>| {
        let mut params = vec![
            ("grant_type", "authorization_code"),
            ("audience", LOOM_AUD),
            ("client_id", "loom"),
            ("code", code),
            ("redirect_uri", REDIRECT),
        ];
        if let Some(v) = verifier {
            params.push(("code_verifier", v));
        }
        token(&server, &params)
    };
    let s256 = [
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];

    let c = code(&s256);
    exchange(&c, Some(&"x".repeat(43))).assert_error(400, "invalid_grant");
    exchange(&c, Some("short")).assert_error(400, "invalid_request");
    exchange(&c, Some(&format!("{}!", "a".repeat(50)))).assert_error(400, "invalid_request");
    exchange(&c, None).assert_error(400, "invalid_request");
    // Failed attempts do not use the code up.
    assert_eq!(exchange(&c, Some(VERIFIER)).status, 200);

    // plain, explicit and implied by a missing method (RFC 7636 §4.3).
    let plain = "plain-verifier-plain-verifier-plain-verifier-0123456789";
    for method in [Some("plain"), None] {
        let mut params = vec![("code_challenge", plain)];
        if let Some(m) = method {
            params.push(("code_challenge_method", m));
        }
        let c = code(&params);
        exchange(&c, Some(VERIFIER)).assert_error(400, "invalid_grant");
        assert_eq!(exchange(&c, Some(plain)).status, 200);
    }

    // A verifier with no challenge on record is refused (downgrade protection).
    let coloop_code = get_code(&server, "coloop", &[]);
    post_form(
        &server.token_endpoint(),
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "coloop"),
            ("client_secret", "coloop-secret"),
            ("code", &coloop_code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
    )
    .assert_error(400, "invalid_grant");
}

#[test]
fn code_audience_is_required_on_exchange() {
    let server = providers();
    let code = get_code(
        &server,
        "loom",
        &[
            ("audience", LOOM_AUD),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ],
    );
    let desc = token(
        &server,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "loom"),
            ("code", &code),
            ("code_verifier", VERIFIER),
            ("redirect_uri", REDIRECT),
        ],
    )
    .assert_error(400, "invalid_request");
    assert!(desc.contains("audience"), "{desc}");
}

#[test]
fn coloop_private_app_clerk_shape_and_refresh_keeps_token() {
    let server = providers();
    let code = get_code(&server, "coloop", &[("scope", "email profile")]);
    let resp = token(
        &server,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "coloop"),
            ("client_secret", "coloop-secret"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    );
    assert_eq!(resp.status, 200, "{}", resp.body);
    let json = resp.json();
    assert_eq!(
        keys(&json),
        [
            "access_token",
            "expires_in",
            "refresh_token",
            "scope",
            "token_type"
        ]
    );
    assert_eq!(json["token_type"], "bearer");
    assert_eq!(json["expires_in"], 7200);
    assert_eq!(json["scope"], "email profile");
    let refresh = json["refresh_token"].as_str().unwrap().to_owned();

    let info = userinfo(&server, json["access_token"].as_str().unwrap());
    assert_eq!(info.status, 200);
    let info = info.json();
    assert_eq!(info["sub"], "user-42");
    assert_eq!(info["email"], "u42@example.com");
    assert_eq!(info["email_verified"], true);
    assert_eq!(info["name"], "Ada");
    assert_eq!(info["locale"], "en");

    for _ in 0..3 {
        let resp = token(
            &server,
            &[
                ("grant_type", "refresh_token"),
                ("client_id", "coloop"),
                ("refresh_token", &refresh),
                ("client_secret", "coloop-secret"),
            ],
        );
        assert_eq!(resp.status, 200, "{}", resp.body);
        assert_eq!(resp.json()["refresh_token"], refresh.as_str());
    }
    assert_eq!(server.refresh_count(), 3);
    assert_eq!(server.issued_refresh_tokens(), 1);
    assert_eq!(server.issued_access_tokens(), 4);

    // Narrowing the scope is allowed; widening is not.
    let resp = token(
        &server,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "coloop"),
            ("client_secret", "coloop-secret"),
            ("refresh_token", &refresh),
            ("scope", "email"),
        ],
    );
    assert_eq!(resp.json()["scope"], "email");
    token(
        &server,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "coloop"),
            ("client_secret", "coloop-secret"),
            ("refresh_token", &refresh),
            ("scope", "email admin"),
        ],
    )
    .assert_error(400, "invalid_scope");
    // Another client cannot use it.
    token(
        &server,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "coloop-public"),
            ("refresh_token", &refresh),
        ],
    )
    .assert_error(400, "invalid_grant");
    assert_eq!(server.refresh_count(), 4);
}

#[test]
fn rotation_invalidates_the_previous_refresh_token() {
    let server = providers();
    let code = get_code(
        &server,
        "coloop-public",
        &[
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ],
    );
    let json = token(
        &server,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "coloop-public"),
            ("code", &code),
            ("code_verifier", VERIFIER),
            ("redirect_uri", REDIRECT),
        ],
    )
    .json();
    let first = json["refresh_token"].as_str().unwrap().to_owned();
    let refresh = |refresh_token: &str| {
        token(
            &server,
            &[
                ("grant_type", "refresh_token"),
                ("client_id", "coloop-public"),
                ("refresh_token", refresh_token),
            ],
        )
    };
    let mut current = first.clone();
    for _ in 0..3 {
        let resp = refresh(&current);
        assert_eq!(resp.status, 200, "{}", resp.body);
        let next = resp.json()["refresh_token"].as_str().unwrap().to_owned();
        assert_ne!(next, current);
        assert!(!server.refresh_token_active(&current));
        assert!(server.refresh_token_active(&next));
        current = next;
    }
    assert_eq!(server.refresh_count(), 3);
    assert_eq!(server.issued_refresh_tokens(), 4);
    // A previous refresh token presented again is refused, as reuse: the grant is revoked,
    // so the newest refresh token goes with it.
    let why = refresh(&first).assert_error(400, "invalid_grant");
    assert!(why.contains("reuse"), "{why}");
    refresh(&current).assert_error(400, "invalid_grant");
    assert_eq!(server.refresh_count(), 3);
    assert_eq!(server.refresh_reuse_count(), 1);
}

#[test]
fn reused_code_is_refused_and_revokes_its_tokens() {
    let server = providers();
    let code = get_code(&server, "coloop", &[]);
    let params = [
        ("grant_type", "authorization_code"),
        ("client_id", "coloop"),
        ("client_secret", "coloop-secret"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
    ];
    let first = token(&server, &params);
    assert_eq!(first.status, 200);
    let first = first.json();
    let access = first["access_token"].as_str().unwrap();
    let refresh = first["refresh_token"].as_str().unwrap();
    // A token derived by refresh is revoked too.
    let refreshed = token(
        &server,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "coloop"),
            ("client_secret", "coloop-secret"),
            ("refresh_token", refresh),
        ],
    )
    .json();
    let derived = refreshed["access_token"].as_str().unwrap();
    assert_eq!(userinfo(&server, access).status, 200);

    let desc = token(&server, &params).assert_error(400, "invalid_grant");
    assert!(desc.contains("already used"), "{desc}");

    for token in [access, derived] {
        assert!(!server.access_token_active(token));
        let resp = userinfo(&server, token);
        assert_eq!(resp.status, 401);
        assert!(resp.header("www-authenticate").unwrap().contains("revoked"));
    }
    assert!(!server.refresh_token_active(refresh));
    token(
        &server,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "coloop"),
            ("client_secret", "coloop-secret"),
            ("refresh_token", refresh),
        ],
    )
    .assert_error(400, "invalid_grant");
}

#[test]
fn code_is_bound_to_client_and_redirect_uri() {
    let server = providers();
    let code = get_code(&server, "coloop", &[]);
    let with = |client: &str, secret: Option<&str>, redirect: Option<&str>| {
        let mut params = vec![
            ("grant_type", "authorization_code"),
            ("client_id", client),
            ("code", code.as_str()),
        ];
        if let Some(s) = secret {
            params.push(("client_secret", s));
        }
        if let Some(r) = redirect {
            params.push(("redirect_uri", r));
        }
        token(&server, &params)
    };
    with("coloop-public", None, Some(REDIRECT)).assert_error(400, "invalid_grant");
    with(
        "coloop",
        Some("coloop-secret"),
        Some("https://app.example/other"),
    )
    .assert_error(400, "invalid_grant");
    with("coloop", Some("coloop-secret"), None).assert_error(400, "invalid_grant");
    assert_eq!(
        with("coloop", Some("coloop-secret"), Some(REDIRECT)).status,
        200
    );
    token(
        &server,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "coloop"),
            ("client_secret", "coloop-secret"),
            ("code", "never-issued"),
        ],
    )
    .assert_error(400, "invalid_grant");
}

#[test]
fn blooma_client_credentials_form_and_json() {
    let server = providers();
    let form = token(
        &server,
        &[
            ("audience", "https://tenant.example/api/"),
            ("grant_type", "client_credentials"),
            ("client_id", "blooma"),
            ("client_secret", "blooma-secret"),
        ],
    );
    assert_eq!(form.status, 200, "{}", form.body);
    let form = form.json();
    assert_eq!(
        keys(&form),
        ["access_token", "expires_in", "scope", "token_type"]
    );
    assert_eq!(form["scope"], "USER");
    assert_eq!(form["expires_in"], 86400);
    assert_eq!(form["token_type"], "Bearer");

    let json_body = r#"{"client_id":"blooma","client_secret":"blooma-secret","audience":"https://tenant.example/api/","grant_type":"client_credentials","scope":"reports"}"#;
    let resp = post(&server.token_endpoint(), "application/json", json_body, &[]);
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.json()["scope"], "reports");
    assert_eq!(server.issued_refresh_tokens(), 0);

    let recorded = server.requests_to("/token");
    assert_eq!(recorded[0].encoding, Some(Encoding::Form));
    assert_eq!(recorded[1].encoding, Some(Encoding::Json));
    assert_eq!(
        recorded[1].param("audience"),
        Some("https://tenant.example/api/")
    );
    assert_eq!(recorded[1].param("grant_type"), Some("client_credentials"));
    assert_eq!(recorded[1].body_text(), json_body);
    assert_eq!(recorded[1].header("content-type"), Some("application/json"));

    // Audience missing or wrong.
    for audience in [None, Some("https://other.example/api/")] {
        let mut params = vec![
            ("grant_type", "client_credentials"),
            ("client_id", "blooma"),
            ("client_secret", "blooma-secret"),
        ];
        if let Some(a) = audience {
            params.push(("audience", a));
        }
        token(&server, &params).assert_error(400, "invalid_request");
    }
    // Public clients cannot use client credentials.
    token(
        &server,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "coloop-public"),
        ],
    )
    .assert_error(400, "unauthorized_client");
}

#[test]
fn loop_and_tie_multipart_doorkeeper_shape() {
    let server = providers();
    let code = get_code(&server, "looptie", &[]);
    let body = multipart(
        "------------------------d74496d66958873e",
        &[
            ("client_id", "looptie"),
            ("client_secret", "looptie-secret"),
            ("code", &code),
            ("grant_type", "authorization_code"),
            ("redirect_uri", REDIRECT),
        ],
    );
    let resp = post(
        &server.token_endpoint(),
        "multipart/form-data; boundary=------------------------d74496d66958873e",
        &body,
        &[],
    );
    assert_eq!(resp.status, 200, "{}", resp.body);
    let json = resp.json();
    assert_eq!(keys(&json), ["access_token", "created_at", "token_type"]);
    assert_eq!(json["token_type"], "bearer");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(json["created_at"].as_u64().unwrap().abs_diff(now) < 60);
    let recorded = server.requests_to("/token");
    assert_eq!(recorded[0].encoding, Some(Encoding::Multipart));
    assert_eq!(recorded[0].param("code"), Some(code.as_str()));

    // Quoted boundary.
    let body = multipart(
        "a b",
        &[
            ("client_id", "looptie"),
            ("client_secret", "looptie-secret"),
            ("grant_type", "refresh_token"),
            ("refresh_token", "none"),
        ],
    );
    let resp = post(
        &server.token_endpoint(),
        "multipart/form-data; boundary=\"a b\"",
        &body,
        &[],
    );
    // Doorkeeper without an explicit refresh grant: not allowed.
    resp.assert_error(400, "unauthorized_client");

    // Form is not accepted for this client.
    let desc = token(
        &server,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "looptie"),
            ("client_secret", "looptie-secret"),
        ],
    )
    .assert_error(400, "invalid_request");
    assert!(desc.contains("application/x-www-form-urlencoded"), "{desc}");

    // A broken multipart body.
    post(
        &server.token_endpoint(),
        "multipart/form-data; boundary=zz",
        "--zz\r\nno headers",
        &[],
    )
    .assert_error(400, "invalid_request");
}

#[test]
fn doorkeeper_refresh_when_enabled() {
    let server = MockServer::start();
    server.add_client(
        MockClient::new("dk")
            .secret("dk-secret")
            .auth_method(AuthMethod::Post)
            .encodings([Encoding::Multipart, Encoding::Form])
            .response_style(ResponseStyle::Doorkeeper)
            .grant_types([GrantType::AuthorizationCode, GrantType::RefreshToken])
            .rotate_refresh_tokens(true),
    );
    let code = get_code(&server, "dk", &[]);
    let json = token(
        &server,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "dk"),
            ("client_secret", "dk-secret"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .json();
    assert_eq!(
        keys(&json),
        ["access_token", "created_at", "refresh_token", "token_type"]
    );
    let body = multipart(
        "b",
        &[
            ("client_id", "dk"),
            ("client_secret", "dk-secret"),
            ("grant_type", "refresh_token"),
            ("refresh_token", json["refresh_token"].as_str().unwrap()),
        ],
    );
    let resp = post(
        &server.token_endpoint(),
        "multipart/form-data; boundary=b",
        &body,
        &[],
    );
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_ne!(resp.json()["refresh_token"], json["refresh_token"]);
}

#[test]
fn grant_type_problems() {
    let server = providers();
    let auth = basic("basic", ODD_SECRET);
    post_form_basic(&server.token_endpoint(), &auth, &[]).assert_error(400, "invalid_request");
    post_form_basic(
        &server.token_endpoint(),
        &auth,
        &[("grant_type", "password")],
    )
    .assert_error(400, "unsupported_grant_type");
    post_form_basic(
        &server.token_endpoint(),
        &auth,
        &[
            ("grant_type", "client_credentials"),
            ("grant_type", "client_credentials"),
        ],
    )
    .assert_error(400, "invalid_request");
    post_form_basic(
        &server.token_endpoint(),
        &auth,
        &[("grant_type", "refresh_token")],
    )
    .assert_error(400, "invalid_request");
    post_form_basic(
        &server.token_endpoint(),
        &auth,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", "rt_unknown"),
        ],
    )
    .assert_error(400, "invalid_grant");
    post_form_basic(
        &server.token_endpoint(),
        &auth,
        &[("grant_type", "authorization_code")],
    )
    .assert_error(400, "invalid_request");
    let resp = get(&server.token_endpoint(), &[]);
    assert_eq!(resp.status, 405);
    assert_eq!(resp.header("allow"), Some("POST"));
}
