//! Resource indicators (RFC 8707) across `/authorize`, the token endpoint and introspection.

use crate::common::*;
use crate::fixtures::*;
#[test]
fn resource_indicators_are_validated_and_narrowed() {
    let server = extensions();
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
