//! Refresh token reuse detection: with rotation, a rotated refresh token presented again
//! revokes its whole grant (every access and refresh token from the same authorization),
//! unless it comes within the client's grace period, which repeats the refresh. On a clock
//! the test moves.

use std::time::Duration;

use latchkey_mock::{MockClient, MockClock, MockServer, ResponseStyle};

use crate::common::*;
use crate::fixtures::*;

/// Confidential Clerk-style clients (a refresh token in every answer), all with [`SECRET`]:
/// `rot` rotates, `grace` rotates with a 5 s grace period, `still` does not rotate and
/// `lenient` rotates without reuse detection.
fn reuse_server() -> (MockServer, MockClock) {
    let clock = MockClock::new();
    let clerk = |id: &str| {
        MockClient::new(id)
            .secret(SECRET)
            .response_style(ResponseStyle::Clerk)
    };
    let server = MockServer::builder()
        .client(clerk("rot").rotate_refresh_tokens(true))
        .client(
            clerk("grace")
                .rotate_refresh_tokens(true)
                .refresh_reuse_grace(Duration::from_secs(5)),
        )
        .client(clerk("still"))
        .client(
            clerk("lenient")
                .rotate_refresh_tokens(true)
                .detect_refresh_reuse(false),
        )
        .clock(clock.clone())
        .start();
    (server, clock)
}

fn auth(client: &str) -> String {
    basic(client, SECRET)
}

/// An access and a refresh token from a new authorization of `client`.
fn login(server: &MockServer, client: &str) -> (String, String) {
    let code = get_code(server, client, &[]);
    let resp = post_form_basic(
        &server.token_endpoint(),
        &auth(client),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    );
    pair(&resp)
}

fn refresh(server: &MockServer, client: &str, refresh_token: &str) -> Resp {
    post_form_basic(
        &server.token_endpoint(),
        &auth(client),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
}

/// The access and refresh token of a successful answer.
fn pair(resp: &Resp) -> (String, String) {
    assert_eq!(resp.status, 200, "{}", resp.body);
    let json = resp.json();
    (
        json["access_token"].as_str().unwrap().to_owned(),
        json["refresh_token"].as_str().unwrap().to_owned(),
    )
}

/// What introspection says of `token`, asked by `rot` (a confidential client sees any token).
fn active(server: &MockServer, token: &str) -> bool {
    let json = introspect(server, &auth("rot"), token);
    json["active"].as_bool().unwrap()
}

/// Asserts the answer to a reuse and returns its description.
fn assert_reuse(resp: &Resp) -> String {
    let why = resp.assert_error(400, "invalid_grant");
    assert!(why.contains("reuse") && why.contains("revoked"), "{why}");
    why
}

#[test]
fn reuse_after_rotation_revokes_the_whole_grant() {
    let (server, _clock) = reuse_server();
    let (access0, refresh0) = login(&server, "rot");
    let (access1, refresh1) = pair(&refresh(&server, "rot", &refresh0));
    let (access2, refresh2) = pair(&refresh(&server, "rot", &refresh1));
    for token in [&access0, &access1, &access2, &refresh2] {
        assert!(active(&server, token), "{token}");
    }
    // Rotated tokens are no longer live, but the grant is.
    assert!(!active(&server, &refresh0));
    assert!(!active(&server, &refresh1));
    assert!(!server.grant_revoked(&refresh2));
    assert_eq!(userinfo(&server, &access2).status, 200);

    // The first refresh token again: taken for a stolen one.
    assert_reuse(&refresh(&server, "rot", &refresh0));
    for token in [
        &access0, &access1, &access2, &refresh0, &refresh1, &refresh2,
    ] {
        assert!(!active(&server, token), "{token}");
        assert!(server.grant_revoked(token), "{token}");
    }
    assert!(!server.access_token_active(&access2));
    assert!(!server.refresh_token_active(&refresh2));
    let refused = userinfo(&server, &access2);
    assert_eq!(refused.status, 401);
    assert!(
        refused
            .header("www-authenticate")
            .is_some_and(|v| v.contains("invalid_token") && v.contains("revoked")),
        "{:?}",
        refused.headers
    );
    // The newest refresh token is refused too, as revoked; that is no second reuse.
    let why = refresh(&server, "rot", &refresh2).assert_error(400, "invalid_grant");
    assert!(why.contains("revoked"), "{why}");
    refresh(&server, "rot", &refresh0).assert_error(400, "invalid_grant");
    assert_eq!(server.refresh_count(), 2);
    assert_eq!(server.refresh_reuse_count(), 1);
    assert_eq!(server.refresh_grace_count(), 0);
    assert_eq!(server.revoked_grants(), 1);
    assert_eq!(server.issued_refresh_tokens(), 3);
}

#[test]
fn reuse_leaves_other_authorizations_alone() {
    let (server, _clock) = reuse_server();
    let (stolen_access, stolen) = login(&server, "rot");
    let (other_access, other) = login(&server, "rot");
    let (_, stolen_next) = pair(&refresh(&server, "rot", &stolen));
    let (other_access_next, other_next) = pair(&refresh(&server, "rot", &other));
    let (still_access, still_refresh) = login(&server, "still");

    assert_reuse(&refresh(&server, "rot", &stolen));
    assert!(!active(&server, &stolen_access));
    assert!(!active(&server, &stolen_next));
    assert!(server.grant_revoked(&stolen_next));
    // The same client's other authorization, and another client's, live on.
    for token in [
        &other_access,
        &other_access_next,
        &other_next,
        &still_access,
    ] {
        assert!(active(&server, token), "{token}");
        assert!(!server.grant_revoked(token), "{token}");
    }
    assert!(!server.grant_revoked(&other));
    let (_, other_third) = pair(&refresh(&server, "rot", &other_next));
    assert!(active(&server, &other_third));
    pair(&refresh(&server, "still", &still_refresh));
    assert_eq!(server.revoked_grants(), 1);
    assert_eq!(server.refresh_reuse_count(), 1);
}

#[test]
fn without_rotation_a_refresh_token_is_reused_freely() {
    let (server, clock) = reuse_server();
    let (first_access, refresh_token) = login(&server, "still");
    let mut accesses = vec![first_access];
    for _ in 0..3 {
        clock.advance(Duration::from_secs(10));
        let (access, again) = pair(&refresh(&server, "still", &refresh_token));
        assert_eq!(again, refresh_token);
        accesses.push(access);
    }
    for token in accesses.iter().chain([&refresh_token]) {
        assert!(active(&server, token), "{token}");
        assert!(!server.grant_revoked(token), "{token}");
    }
    assert_eq!(server.refresh_count(), 3);
    assert_eq!(server.refresh_reuse_count(), 0);
    assert_eq!(server.revoked_grants(), 0);
    assert_eq!(server.issued_refresh_tokens(), 1);
}

#[test]
fn within_the_grace_period_a_repeat_refreshes_and_revokes_nothing() {
    let (server, clock) = reuse_server();
    let (access0, refresh0) = login(&server, "grace");
    let (access1, refresh1) = pair(&refresh(&server, "grace", &refresh0));
    assert_ne!(refresh1, refresh0);

    // +4 s: the previous refresh token repeats the refresh, answered with the same new one.
    clock.advance(Duration::from_secs(4));
    let (repeat_access, repeat_refresh) = pair(&refresh(&server, "grace", &refresh0));
    assert_eq!(repeat_refresh, refresh1);
    assert_ne!(repeat_access, access1);
    for token in [&access0, &access1, &repeat_access, &refresh1] {
        assert!(active(&server, token), "{token}");
    }
    assert!(!active(&server, &refresh0));
    assert!(!server.grant_revoked(&refresh1));
    assert_eq!(server.revoked_grants(), 0);
    assert_eq!(server.refresh_reuse_count(), 0);
    assert_eq!(server.refresh_grace_count(), 1);
    assert_eq!(server.refresh_count(), 2);
    assert_eq!(server.issued_refresh_tokens(), 2);
    assert_eq!(server.issued_access_tokens(), 3);

    // +6 s: past the grace period, the same token is reuse.
    clock.advance(Duration::from_secs(2));
    assert_reuse(&refresh(&server, "grace", &refresh0));
    for token in [&access0, &access1, &repeat_access, &refresh1] {
        assert!(!active(&server, token), "{token}");
    }
    assert!(server.grant_revoked(&refresh1));
    refresh(&server, "grace", &refresh1).assert_error(400, "invalid_grant");
    assert_eq!(server.revoked_grants(), 1);
    assert_eq!(server.refresh_reuse_count(), 1);
    assert_eq!(server.refresh_count(), 2);
}

#[test]
fn without_reuse_detection_reuse_is_only_refused() {
    let (server, _clock) = reuse_server();
    let (access0, refresh0) = login(&server, "lenient");
    let (access1, refresh1) = pair(&refresh(&server, "lenient", &refresh0));
    let why = refresh(&server, "lenient", &refresh0).assert_error(400, "invalid_grant");
    assert!(why.contains("rotated") && !why.contains("revoked"), "{why}");
    for token in [&access0, &access1, &refresh1] {
        assert!(active(&server, token), "{token}");
    }
    pair(&refresh(&server, "lenient", &refresh1));
    assert_eq!(server.refresh_reuse_count(), 1);
    assert_eq!(server.revoked_grants(), 0);
}

#[test]
fn revoking_the_newest_refresh_token_revokes_the_grant_and_the_rotated_ones() {
    let (server, clock) = reuse_server();
    let (access0, refresh0) = login(&server, "grace");
    let (access1, refresh1) = pair(&refresh(&server, "grace", &refresh0));
    let resp = post_form_basic(
        &server.revocation_endpoint(),
        &auth("grace"),
        &[("token", &refresh1)],
    );
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert!(server.grant_revoked(&refresh0));
    for token in [&access0, &access1, &refresh1] {
        assert!(!active(&server, token), "{token}");
    }
    // Within the grace period or after it, the rotated token is refused as revoked: the
    // grant is already gone, so this is not counted as reuse.
    for _ in 0..2 {
        let why = refresh(&server, "grace", &refresh0).assert_error(400, "invalid_grant");
        assert!(!why.contains("reuse"), "{why}");
        clock.advance(Duration::from_secs(10));
    }
    assert_eq!(server.refresh_reuse_count(), 0);
    assert_eq!(server.refresh_grace_count(), 0);
    assert_eq!(server.revoked_grants(), 1);
}
