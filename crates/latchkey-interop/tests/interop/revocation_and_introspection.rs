//! Token introspection (RFC 7662) and revocation (RFC 7009): live, revoked, then inactive.

use latchkey::AccessToken;
use latchkey_interop::Provider;
use latchkey_interop::clients::{CC_CLIENT, CC_CLIENT_SECRET, CONF_BASIC, CONF_BASIC_SECRET};

use crate::support::{Adapter, code_tokens, discovered_client as client};

/// Introspection of a live token (RFC 7662), revocation (RFC 7009), then introspection
/// showing `active: false`; for a client-credentials access token and for a refresh token
/// from the code flow (revoked with its hint).
fn revocation_then_introspection(a: &Adapter) {
    let p = Provider::expect_shared();
    let cc = client(a, p, CC_CLIENT, Some(CC_CLIENT_SECRET));
    let tokens = a
        .send(cc.client_credentials().expect("cc").scope("api:read"))
        .expect("client credentials");
    let live = a
        .send(cc.introspect(tokens.access_token()).expect("introspection"))
        .expect("introspect");
    assert!(live.active);
    assert_eq!(live.client_id.as_deref(), Some(CC_CLIENT));
    assert_eq!(live.scope.as_deref(), Some("api:read"));
    assert_eq!(live.iss.as_deref(), Some(p.issuer()));
    assert!(live.exp.is_some_and(|exp| exp > live.iat.unwrap_or(0)));
    a.send(cc.revoke(tokens.access_token()).expect("revocation"))
        .expect("revoke");
    let dead = a
        .send(cc.introspect(tokens.access_token()).expect("introspection"))
        .expect("introspect");
    assert!(!dead.active);
    assert_eq!(dead.extra.len(), 0, "an inactive token says nothing more");

    let basic = client(a, p, CONF_BASIC, Some(CONF_BASIC_SECRET));
    let tokens = code_tokens(a, &basic, "openid offline_access");
    let refresh = tokens.refresh_token().expect("a refresh token");
    let live = a
        .send(basic.introspect(refresh).expect("introspection"))
        .expect("introspect");
    assert!(live.active);
    assert_eq!(live.sub.as_deref(), Some("alice"));
    a.send(basic.revoke(refresh).expect("revocation"))
        .expect("revoke");
    let dead = a
        .send(
            basic
                .introspect(refresh)
                .expect("introspection")
                .without_hint(),
        )
        .expect("introspect");
    assert!(!dead.active);
    // Revoking an unknown token is not an error (RFC 7009 §2.2).
    a.send(
        basic
            .revoke(&AccessToken::new("no-such-token-at-all"))
            .expect("revocation"),
    )
    .expect("revoke unknown");
}

through_both! {
    drivers: [],
    adapters: [revocation_then_introspection],
}
