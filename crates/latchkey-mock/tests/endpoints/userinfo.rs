//! `GET|POST /userinfo`: bearer tokens, live, forged, expired by hand and by the clock.

use std::time::Duration;

use latchkey_mock::{MockClient, MockClock, MockServer};

use crate::common::*;
use crate::fixtures::*;
#[test]
fn userinfo_valid_and_invalid() {
    let server = providers();
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
    let clock = MockClock::new();
    let server = MockServer::builder()
        .client(MockClient::new("m2m").secret("s").expires_in(1))
        .clock(clock.clone())
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
    clock.advance(Duration::from_millis(999));
    assert_eq!(userinfo(&server, access).status, 200);
    clock.advance(Duration::from_millis(1));
    assert_eq!(userinfo(&server, access).status, 401);
    assert!(!server.access_token_active(access));
}
