//! Userinfo: the claims follow the user and the scopes; a token the server never issued is
//! `invalid_token`.

use latchkey::{AccessToken, ErrorCode};
use latchkey_conformance::{Driver, Session};
use latchkey_interop::{Login, Provider};

use crate::support::{authorize, code, public_client, server_error, tokens, userinfo};

/// Userinfo: the claims follow the user and the scopes; a bogus token is `invalid_token`.
fn userinfo_claims_follow_user_and_scope<D: Driver>() {
    let p = Provider::expect_shared();
    let s = Session::<D>::new();
    let client = public_client(p);

    let (pending, callback) = authorize(
        &s,
        p,
        &client,
        "openid email profile",
        &Login::new().user("Bob"),
    );
    let tokens_bob = tokens(&s, pending.callback(&client, &callback).expect("callback"));
    let claims = userinfo(&s, &client, tokens_bob.access_token()).expect("userinfo");
    assert_eq!(claims["sub"], "Bob");
    assert_eq!(claims["email"], "bob@example.com");
    assert_eq!(claims["name"], "Bob");

    let only_openid = tokens(&s, code(&s, p, &client, "openid"));
    let claims = userinfo(&s, &client, only_openid.access_token()).expect("userinfo");
    assert_eq!(claims["sub"], "alice");
    assert!(!claims.contains_key("email"), "{claims:?}");
    assert!(!claims.contains_key("name"), "{claims:?}");

    let bogus = AccessToken::new("not-a-token-issued-by-this-server");
    s.secret(bogus.expose_secret());
    assert_eq!(
        server_error(userinfo(&s, &client, &bogus)),
        (ErrorCode::InvalidToken, Some(401))
    );
}

through_both! {
    drivers: [userinfo_claims_follow_user_and_scope],
    adapters: [],
}
