//! `revoke` (RFC 7009) and `introspect` (RFC 7662) end to end against `latchkey-mock`: a
//! live token introspected, revoked, then introspected as inactive; the server's refusal and
//! usage errors. Every run also checks that stderr carries no secret.

mod support;

use support::{API, app_token, builder, latchkey, run, with_app};

#[test]
fn revoke_then_introspect() {
    let server = builder().start();
    let access = app_token(&server, &["--resource", API]);
    let introspect = |hint: Option<&str>| {
        let mut command = with_app(&server, &["introspect", "--token", &access]);
        if let Some(hint) = hint {
            command.args(["--token-type-hint", hint]);
        }
        let done = run(command);
        let answer = done.success();
        done.no_secrets(&[&access]);
        answer
    };
    let live = introspect(Some("access_token"));
    assert_eq!(live["active"], true);
    assert_eq!(live["scope"], "read");
    assert_eq!(live["aud"], serde_json::json!([API]));
    assert_eq!(live["client_id"], "app");

    let mut command = with_app(&server, &["revoke", "--token-type-hint", "access_token"]);
    command.env("LATCHKEY_TOKEN", &access);
    let done = run(command);
    assert_eq!(done.success(), serde_json::json!({ "revoked": true }));
    done.no_secrets(&[&access]);
    assert_eq!(
        server.requests_to("/revoke")[0].param("token_type_hint"),
        Some("access_token")
    );
    assert_eq!(introspect(None), serde_json::json!({ "active": false }));
    assert_eq!(
        server.requests_to("/introspect")[1].param("token_type_hint"),
        None
    );

    // A server error is one line; usage errors exit 2.
    let mut command = latchkey();
    command.args([
        "revoke",
        "--client-id",
        "app",
        "--client-secret",
        "wrong-secret",
    ]);
    command.args(["--issuer", &server.issuer(), "--token", &access]);
    let done = run(command);
    assert!(
        done.failure(1).contains("invalid_client"),
        "{}",
        done.stderr
    );
    let mut command = latchkey();
    command.args(["introspect", "--client-id", "app", "--token", "x"]);
    run(command).failure(2);
    let mut command = latchkey();
    command.args(["revoke", "--client-id", "app", "--issuer", &server.issuer()]);
    run(command).failure(2);
    let mut command = with_app(&server, &["revoke", "--token", "x"]);
    command.args(["--token-type-hint", "id_token"]);
    run(command).failure(2);
}
