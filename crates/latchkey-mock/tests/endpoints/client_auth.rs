//! Client authentication at the token endpoint: `client_secret_basic`, `client_secret_post`,
//! public clients, unknown clients, and the body encodings each client accepts.

use crate::common::*;
use crate::fixtures::*;
#[test]
fn encodings_not_accepted_are_named() {
    let server = providers();
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
    let server = providers();
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
    let server = providers();
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
    let server = providers();
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
    let server = providers();
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
