//! `POST /token`: every grant, encoding and client authentication method, PKCE, code reuse,
//! refresh rotation, response dialects; `/userinfo`, `/revoke` and metadata.

mod common;

use common::*;
use latchkey_mock::{
    AuthMethod, Encoding, GrantType, MockClient, MockServer, MockUser, ResponseStyle,
};
use serde_json::Value;

const LOOM_AUD: &str = "https://api.loomai.com/";
const ODD_SECRET: &str = "s3cr+t/=:%&é";

fn server() -> MockServer {
    MockServer::builder()
        // Loom AI: public native app, PKCE, audience, Auth0 answers.
        .client(
            MockClient::new("loom")
                .require_audience(LOOM_AUD)
                .require_pkce(true),
        )
        // CoLoop private app: secret in the body, Clerk answers.
        .client(
            MockClient::new("coloop")
                .secret("coloop-secret")
                .auth_method(AuthMethod::Post)
                .response_style(ResponseStyle::Clerk)
                .expires_in(7200),
        )
        // CoLoop public app (PKCE) with rotation.
        .client(
            MockClient::new("coloop-public")
                .response_style(ResponseStyle::Clerk)
                .rotate_refresh_tokens(true),
        )
        // Blooma: client credentials, form or JSON, audience.
        .client(
            MockClient::new("blooma")
                .secret("blooma-secret")
                .auth_method(AuthMethod::Post)
                .encodings([Encoding::Form, Encoding::Json])
                .require_audience("https://tenant.example/api/")
                .default_scope("USER")
                .expires_in(86400),
        )
        // Loop & Tie: multipart, Doorkeeper answers.
        .client(
            MockClient::new("looptie")
                .secret("looptie-secret")
                .auth_method(AuthMethod::Post)
                .encodings([Encoding::Multipart])
                .response_style(ResponseStyle::Doorkeeper),
        )
        // A Basic client with a secret that needs form-encoding.
        .client(MockClient::new("basic").secret(ODD_SECRET))
        .user(
            MockUser::new("user-42")
                .email("u42@example.com")
                .name("Ada")
                .claim("locale", "en"),
        )
        .start()
}

fn token(server: &MockServer, pairs: &[(&str, &str)]) -> Resp {
    post_form(&server.token_endpoint(), pairs)
}

fn exchange_loom(server: &MockServer, scope: &str) -> Value {
    let code = get_code(
        server,
        "loom",
        &[
            ("audience", LOOM_AUD),
            ("scope", scope),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ],
    );
    let resp = token(
        server,
        &[
            ("grant_type", "authorization_code"),
            ("audience", LOOM_AUD),
            ("client_id", "loom"),
            ("code", &code),
            ("code_verifier", VERIFIER),
            ("redirect_uri", REDIRECT),
        ],
    );
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    assert!(
        resp.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    resp.json()
}

fn keys(json: &Value) -> Vec<String> {
    let mut keys: Vec<String> = json.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

#[test]
fn loom_code_pkce_s256_with_offline_access_gets_auth0_shape() {
    let server = server();
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
    let server = server();
    let json = exchange_loom(&server, "read:avatars");
    assert_eq!(
        keys(&json),
        ["access_token", "expires_in", "scope", "token_type"]
    );
}

#[test]
fn pkce_failures() {
    let server = server();
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
    let server = server();
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
    let server = server();
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
    let server = server();
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
    let mut current = json["refresh_token"].as_str().unwrap().to_owned();
    for _ in 0..3 {
        let resp = token(
            &server,
            &[
                ("grant_type", "refresh_token"),
                ("client_id", "coloop-public"),
                ("refresh_token", &current),
            ],
        );
        assert_eq!(resp.status, 200, "{}", resp.body);
        let next = resp.json()["refresh_token"].as_str().unwrap().to_owned();
        assert_ne!(next, current);
        assert!(!server.refresh_token_active(&current));
        assert!(server.refresh_token_active(&next));
        let old = token(
            &server,
            &[
                ("grant_type", "refresh_token"),
                ("client_id", "coloop-public"),
                ("refresh_token", &current),
            ],
        );
        old.assert_error(400, "invalid_grant");
        current = next;
    }
    assert_eq!(server.refresh_count(), 3);
    assert_eq!(server.issued_refresh_tokens(), 4);
}

#[test]
fn reused_code_is_refused_and_revokes_its_tokens() {
    let server = server();
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
    let server = server();
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
    let server = server();
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
    let server = server();
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
fn encodings_not_accepted_are_named() {
    let server = server();
    let desc = post(
        &server.token_endpoint(),
        "application/json",
        r#"{"grant_type":"refresh_token","client_id":"coloop","client_secret":"coloop-secret","refresh_token":"x"}"#,
        &[],
    )
    .assert_error(400, "invalid_request");
    assert!(desc.contains("application/json"), "{desc}");

    let desc = post(&server.token_endpoint(), "text/plain", "grant_type=x", &[])
        .assert_error(400, "invalid_request");
    assert!(desc.contains("text/plain"), "{desc}");

    post(
        &server.token_endpoint(),
        "application/json",
        "{not json",
        &[],
    )
    .assert_error(400, "invalid_request");
    post(
        &server.token_endpoint(),
        "application/json",
        r#"{"scope":["a"]}"#,
        &[],
    )
    .assert_error(400, "invalid_request");
    // Body without a content type.
    let resp = finish(agent().post(&server.token_endpoint()).send("grant_type=x"));
    resp.assert_error(400, "invalid_request");
}

#[test]
fn client_secret_basic_right_and_wrong() {
    let server = server();
    let auth = basic("basic", ODD_SECRET);
    let ok = post_form_basic(
        &server.token_endpoint(),
        &auth,
        &[("grant_type", "client_credentials")],
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    // client_id may be repeated in the body when it matches.
    let ok = post_form_basic(
        &server.token_endpoint(),
        &auth,
        &[("grant_type", "client_credentials"), ("client_id", "basic")],
    );
    assert_eq!(ok.status, 200, "{}", ok.body);

    // Not form-encoded before base64: the `+` decodes to a space and the secret differs.
    use base64::Engine as _;
    let raw = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("basic:{ODD_SECRET}"))
    );
    post_form_basic(
        &server.token_endpoint(),
        &raw,
        &[("grant_type", "client_credentials")],
    )
    .assert_error(401, "invalid_client");
    // Wrong secret.
    post_form_basic(
        &server.token_endpoint(),
        &basic("basic", "nope"),
        &[("grant_type", "client_credentials")],
    )
    .assert_error(401, "invalid_client");
    // Secret sent the wrong way (in the body).
    let desc = token(
        &server,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "basic"),
            ("client_secret", ODD_SECRET),
        ],
    )
    .assert_error(401, "invalid_client");
    assert!(desc.contains("client_secret_basic"), "{desc}");
    // No credentials.
    token(
        &server,
        &[("grant_type", "client_credentials"), ("client_id", "basic")],
    )
    .assert_error(401, "invalid_client");
    // Both methods at once.
    post_form_basic(
        &server.token_endpoint(),
        &auth,
        &[
            ("grant_type", "client_credentials"),
            ("client_secret", ODD_SECRET),
        ],
    )
    .assert_error(400, "invalid_request");
    // client_id in the body contradicting the header.
    post_form_basic(
        &server.token_endpoint(),
        &auth,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "coloop"),
        ],
    )
    .assert_error(400, "invalid_request");
    // Garbage and other schemes.
    for header in ["Basic !!!", "Bearer abc", "Basic bm9jb2xvbg=="] {
        post_form_basic(
            &server.token_endpoint(),
            header,
            &[("grant_type", "client_credentials")],
        )
        .assert_error(401, "invalid_client");
    }
}

#[test]
fn client_secret_post_right_and_wrong() {
    let server = server();
    let ok = token(
        &server,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "blooma"),
            ("client_secret", "blooma-secret"),
            ("audience", "https://tenant.example/api/"),
        ],
    );
    assert_eq!(ok.status, 200);
    let desc = post_form_basic(
        &server.token_endpoint(),
        &basic("blooma", "blooma-secret"),
        &[
            ("grant_type", "client_credentials"),
            ("audience", "https://tenant.example/api/"),
        ],
    )
    .assert_error(401, "invalid_client");
    assert!(desc.contains("client_secret_post"), "{desc}");
    token(
        &server,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "blooma"),
            ("client_secret", "wrong"),
        ],
    )
    .assert_error(401, "invalid_client");
    token(
        &server,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "blooma"),
        ],
    )
    .assert_error(401, "invalid_client");
}

#[test]
fn public_clients_send_no_secret() {
    let server = server();
    let code = get_code(
        &server,
        "coloop-public",
        &[
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ],
    );
    let params = [
        ("grant_type", "authorization_code"),
        ("client_id", "coloop-public"),
        ("code", code.as_str()),
        ("code_verifier", VERIFIER),
        ("redirect_uri", REDIRECT),
    ];
    let mut with_secret = params.to_vec();
    with_secret.push(("client_secret", ""));
    // An empty client_secret counts as absent (RFC 6749 §3.1).
    let mut with_real_secret = params.to_vec();
    with_real_secret.push(("client_secret", "anything"));
    token(&server, &with_real_secret).assert_error(401, "invalid_client");
    post_form_basic(
        &server.token_endpoint(),
        &basic("coloop-public", ""),
        &params,
    )
    .assert_error(401, "invalid_client");
    assert_eq!(token(&server, &with_secret).status, 200);
}

#[test]
fn unknown_or_missing_client() {
    let server = server();
    token(
        &server,
        &[("grant_type", "client_credentials"), ("client_id", "ghost")],
    )
    .assert_error(401, "invalid_client");
    token(&server, &[("grant_type", "client_credentials")]).assert_error(401, "invalid_client");
    post_form_basic(
        &server.token_endpoint(),
        &basic("ghost", "x"),
        &[("grant_type", "client_credentials")],
    )
    .assert_error(401, "invalid_client");
}

#[test]
fn grant_type_problems() {
    let server = server();
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

#[test]
fn userinfo_valid_and_invalid() {
    let server = server();
    let access = exchange_loom(&server, "openid")["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(userinfo(&server, &access).status, 200);
    let post = post(
        &server.userinfo_endpoint(),
        "application/x-www-form-urlencoded",
        "",
        &[("authorization", &bearer(&access))],
    );
    assert_eq!(post.status, 200);
    assert_eq!(post.json()["sub"], "user-42");

    let check = |resp: Resp, fragment: &str| {
        assert_eq!(resp.status, 401, "{}", resp.body);
        let header = resp.header("www-authenticate").unwrap();
        assert!(
            header.starts_with("Bearer error=\"invalid_token\", error_description=\""),
            "{header}"
        );
        assert!(header.contains(fragment), "{header}");
        assert_eq!(resp.json()["error"], "invalid_token");
    };
    check(get(&server.userinfo_endpoint(), &[]), "no bearer token");
    check(userinfo(&server, "at_forged"), "unknown");
    check(
        get(
            &server.userinfo_endpoint(),
            &[("authorization", &basic("a", "b"))],
        ),
        "not a Bearer",
    );
    // Scheme is case-insensitive.
    assert_eq!(
        get(
            &server.userinfo_endpoint(),
            &[("authorization", &format!("bearer {access}"))]
        )
        .status,
        200
    );
    server.expire_all_access_tokens();
    check(userinfo(&server, &access), "expired");
    assert!(!server.access_token_active(&access));
}

#[test]
fn short_lived_tokens_expire_by_the_clock() {
    let server = MockServer::builder()
        .client(MockClient::new("m2m").secret("s").expires_in(1))
        .start();
    let resp = post_form_basic(
        &server.token_endpoint(),
        &basic("m2m", "s"),
        &[("grant_type", "client_credentials")],
    );
    let json = resp.json();
    assert_eq!(json["expires_in"], 1);
    let access = json["access_token"].as_str().unwrap();
    assert_eq!(userinfo(&server, access).status, 200);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(userinfo(&server, access).status, 401);
}

#[test]
fn revocation_endpoint() {
    let server = server();
    let json = exchange_loom(&server, "offline_access");
    let access = json["access_token"].as_str().unwrap();
    let refresh = json["refresh_token"].as_str().unwrap();
    for token_value in [access, refresh] {
        let resp = token_at(
            &server,
            "/revoke",
            &[("client_id", "loom"), ("token", token_value)],
        );
        assert_eq!(resp.status, 200, "{}", resp.body);
    }
    assert!(!server.access_token_active(access));
    assert!(!server.refresh_token_active(refresh));
    // Unknown tokens are fine (RFC 7009 §2.2); client authentication is not optional.
    assert_eq!(
        token_at(
            &server,
            "/revoke",
            &[("client_id", "loom"), ("token", "zzz")]
        )
        .status,
        200
    );
    token_at(&server, "/revoke", &[("token", "zzz")]).assert_error(401, "invalid_client");
    token_at(&server, "/revoke", &[("client_id", "loom")]).assert_error(400, "invalid_request");
}

fn token_at(server: &MockServer, path: &str, pairs: &[(&str, &str)]) -> Resp {
    post_form(&server.endpoint(path), pairs)
}

#[test]
fn metadata_document() {
    let server = server();
    let resp = get(
        &server.endpoint("/.well-known/oauth-authorization-server"),
        &[],
    );
    assert_eq!(resp.status, 200);
    let json = resp.json();
    assert_eq!(json["issuer"], server.url());
    assert_eq!(json["token_endpoint"], server.token_endpoint());
    assert_eq!(
        json["authorization_endpoint"],
        server.authorization_endpoint()
    );
    assert_eq!(json["userinfo_endpoint"], server.userinfo_endpoint());
    assert_eq!(get(&server.endpoint("/nope"), &[]).status, 404);
}

#[test]
fn recording_and_clearing() {
    let server = server();
    let auth = basic("basic", ODD_SECRET);
    post_form_basic(
        &server.token_endpoint(),
        &auth,
        &[("grant_type", "client_credentials"), ("scope", "a b")],
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/token");
    assert_eq!(r.query, None);
    assert_eq!(r.header("Authorization"), Some(auth.as_str()));
    assert_eq!(r.body_text(), "grant_type=client_credentials&scope=a+b");
    assert_eq!(
        r.params,
        vec![
            ("grant_type".to_owned(), "client_credentials".to_owned()),
            ("scope".to_owned(), "a b".to_owned())
        ]
    );
    assert_eq!(server.request_count("/token"), 1);
    server.clear_requests();
    assert!(server.requests().is_empty());
    assert_eq!(server.request_count("/token"), 0);
}
