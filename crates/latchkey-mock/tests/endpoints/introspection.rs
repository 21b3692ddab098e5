//! `POST /introspect` (RFC 7662): live, revoked and other clients' tokens.

use crate::common::*;
use crate::fixtures::*;
#[test]
fn introspection_of_live_revoked_and_foreign_tokens() {
    let server = extensions();
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
