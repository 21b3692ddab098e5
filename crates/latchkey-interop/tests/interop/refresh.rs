//! Refresh: the public client's refresh tokens rotate (and reuse revokes the grant); the
//! confidential clients' are kept, and a narrower scope can be asked for.

use latchkey::{ClientAuth, ErrorCode};
use latchkey_conformance::{Driver, Session};
use latchkey_interop::Provider;
use latchkey_interop::clients::{CONF_BASIC, CONF_BASIC_SECRET, CONF_POST, CONF_POST_SECRET};

use crate::support::{
    FULL_SCOPE, assert_tokens, code, confidential, public_client, server_error, tokens, userinfo,
};

/// Refresh with the public client: the refresh token rotates; the old one then fails with
/// `invalid_grant`, and that reuse revokes the grant, so the new one fails too (RFC 9700
/// §4.14.2 reuse detection).
fn refresh_rotates_for_the_public_client<D: Driver>() {
    let p = Provider::expect_shared();
    let s = Session::<D>::new();
    let client = public_client(p);
    let first = tokens(&s, code(&s, p, &client, FULL_SCOPE));
    let old = first.refresh_token().expect("a refresh token").clone();

    let second = tokens(&s, client.refresh(&old).expect("refresh"));
    assert_tokens(&second, &["openid", "offline_access"], true);
    let new = second.refresh_token().expect("a rotated refresh token");
    assert_ne!(new.expose_secret(), old.expose_secret(), "not rotated");
    assert_ne!(
        second.access_token().expose_secret(),
        first.access_token().expose_secret()
    );
    let claims = userinfo(&s, &client, second.access_token()).expect("userinfo");
    assert_eq!(claims["sub"], "alice");

    let replay = s.send(client.refresh(&old).expect("refresh"));
    assert_eq!(server_error(replay), (ErrorCode::InvalidGrant, Some(400)));
    let after = s.send(client.refresh(new).expect("refresh"));
    assert_eq!(server_error(after), (ErrorCode::InvalidGrant, Some(400)));
}

/// Refresh with both confidential clients: a new access token, no rotation (oidc-provider
/// rotates confidential clients' tokens only late in their life), so the token set keeps the
/// refresh token, which works again.
fn refresh_keeps_the_token_for_confidential_clients<D: Driver>() {
    let p = Provider::expect_shared();
    let s = Session::<D>::new();
    for (id, secret, auth) in [
        (CONF_BASIC, CONF_BASIC_SECRET, ClientAuth::Basic),
        (CONF_POST, CONF_POST_SECRET, ClientAuth::Post),
    ] {
        s.secret(secret);
        let client = confidential(p, id, secret, auth);
        let first = tokens(&s, code(&s, p, &client, "openid offline_access email"));
        let refresh = first.refresh_token().expect("a refresh token").clone();
        let second = tokens(&s, client.refresh(&refresh).expect("refresh"));
        assert_tokens(&second, &["openid", "offline_access", "email"], true);
        assert_eq!(
            second.refresh_token().map(|t| t.expose_secret()),
            Some(refresh.expose_secret()),
            "{id}: the refresh token was not kept"
        );
        assert_ne!(
            second.access_token().expose_secret(),
            first.access_token().expose_secret()
        );
        let third = tokens(&s, client.refresh(&refresh).expect("refresh"));
        assert_tokens(&third, &["openid"], true);
        // A narrower scope on refresh (RFC 6749 §6).
        let narrow = tokens(
            &s,
            client.refresh(&refresh).expect("refresh").scope("openid"),
        );
        assert_eq!(narrow.scope(), Some("openid"));
    }
}

through_both! {
    drivers: [refresh_rotates_for_the_public_client, refresh_keeps_the_token_for_confidential_clients],
    adapters: [],
}
