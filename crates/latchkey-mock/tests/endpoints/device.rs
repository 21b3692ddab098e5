//! The device authorization grant (RFC 8628): pending, `slow_down`, approval, denial,
//! expiry and the verification page, on a clock the test moves.

use std::time::Duration;

use latchkey_mock::{MockClient, MockClock, MockServer};

use crate::common::*;
use crate::fixtures::*;

#[test]
fn device_flow_pending_slow_down_approval_and_single_use() {
    let clock = MockClock::new();
    let server = extensions_builder().clock(clock.clone()).start();
    let resp = post_form(
        &server.device_authorization_endpoint(),
        &[("client_id", "tv"), ("scope", "read"), ("resource", API)],
    );
    assert_eq!(resp.status, 200, "{}", resp.body);
    let json = resp.json();
    let device_code = json["device_code"].as_str().unwrap().to_owned();
    let user_code = json["user_code"].as_str().unwrap().to_owned();
    assert_eq!(user_code.len(), 9);
    assert_eq!(&user_code[4..5], "-");
    assert_eq!(json["verification_uri"], server.endpoint("/device"));
    assert_eq!(
        json["verification_uri_complete"],
        format!("{}/device?user_code={user_code}", server.url())
    );
    assert_eq!(json["interval"], 1);
    assert_eq!(json["expires_in"], 600);
    assert_eq!(
        server.pending_user_codes(),
        std::slice::from_ref(&user_code)
    );

    let poll = || {
        post_form(
            &server.token_endpoint(),
            &[
                ("grant_type", DEVICE_GRANT),
                ("client_id", "tv"),
                ("device_code", &device_code),
            ],
        )
    };
    poll().assert_error(400, "authorization_pending");
    // Polling again at once is too fast: slow_down, and the interval grows by 5 s.
    let description = poll().assert_error(400, "slow_down");
    assert!(description.contains("6 s"), "{description}");
    // Another client cannot redeem it.
    post_form_basic(
        &server.token_endpoint(),
        &conf(),
        &[("grant_type", DEVICE_GRANT), ("device_code", &device_code)],
    )
    .assert_error(400, "invalid_grant");

    assert!(server.approve_device(&user_code.to_lowercase().replace('-', "")));
    assert!(!server.approve_device(&user_code), "approved twice");
    assert!(server.pending_user_codes().is_empty());
    // The grown interval later, the poll is welcome.
    clock.advance(Duration::from_secs(6));
    let resp = poll();
    assert_eq!(resp.status, 200, "{}", resp.body);
    let access = resp.json()["access_token"].as_str().unwrap().to_owned();
    let introspection = introspect(&server, &conf(), &access);
    assert_eq!(introspection["active"], true);
    assert_eq!(introspection["scope"], "read");
    assert_eq!(introspection["aud"], API);
    assert_eq!(introspection["client_id"], "tv");
    clock.advance(Duration::from_secs(6));
    poll().assert_error(400, "invalid_grant");
    post_form(
        &server.token_endpoint(),
        &[
            ("grant_type", DEVICE_GRANT),
            ("client_id", "tv"),
            ("device_code", "nope"),
        ],
    )
    .assert_error(400, "invalid_grant");
}

#[test]
fn device_flow_denied_expired_and_the_verification_page() {
    let clock = MockClock::new();
    let server = MockServer::builder()
        .client(MockClient::new("tv"))
        .device_code_expires_in(1)
        .clock(clock.clone())
        .start();
    let start = || {
        let resp = post_form(
            &server.device_authorization_endpoint(),
            &[("client_id", "tv")],
        );
        assert_eq!(resp.status, 200, "{}", resp.body);
        let json = resp.json();
        (
            json["device_code"].as_str().unwrap().to_owned(),
            json["user_code"].as_str().unwrap().to_owned(),
        )
    };
    let poll = |device_code: &str| {
        post_form(
            &server.token_endpoint(),
            &[
                ("grant_type", DEVICE_GRANT),
                ("client_id", "tv"),
                ("device_code", device_code),
            ],
        )
    };
    let (denied, user_code) = start();
    assert!(server.deny_device(&user_code));
    poll(&denied).assert_error(400, "access_denied");

    let (approved, user_code) = start();
    let page = get(
        &format!("{}?user_code={user_code}", server.endpoint("/device")),
        &[],
    );
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("approved"));
    assert_eq!(get(&server.endpoint("/device"), &[]).status, 200);
    assert_eq!(
        get(
            &format!("{}?user_code=ZZZZ-ZZZZ", server.endpoint("/device")),
            &[]
        )
        .status,
        400
    );
    assert_eq!(poll(&approved).status, 200);

    let (expired, _) = start();
    let (unused, user_code) = start();
    clock.advance(Duration::from_secs(1));
    poll(&expired).assert_error(400, "expired_token");
    // An expired authorization can no longer be approved either.
    assert!(!server.approve_device(&user_code));
    assert!(server.pending_user_codes().is_empty());
    poll(&unused).assert_error(400, "expired_token");

    // Device authorization authenticates the client like the token endpoint.
    post_form(&server.device_authorization_endpoint(), &[]).assert_error(401, "invalid_client");
}
