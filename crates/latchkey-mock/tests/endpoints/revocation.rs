//! `POST /revoke` (RFC 7009), and the cascade from a refresh token to its access tokens.

use crate::common::*;
use crate::fixtures::*;
#[test]
fn revocation_endpoint() {
    let server = providers();
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

#[test]
fn revoking_a_refresh_token_revokes_its_access_tokens() {
    let server = extensions();
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
