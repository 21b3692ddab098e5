//! Metadata at both well-known paths (RFC 8414, OpenID Connect Discovery), and for an
//! issuer with a path.

use crate::common::*;
use crate::fixtures::*;
use latchkey_mock::MockServer;

#[test]
fn metadata_document() {
    let server = providers();
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
fn metadata_at_both_well_known_paths() {
    let server = extensions();
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
