//! The token exchange grant (RFC 8693).

use crate::common::*;
use crate::fixtures::*;
#[test]
fn token_exchange() {
    let server = extensions();
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
