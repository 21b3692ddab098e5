//! OpenID Connect against oidc-provider: ID tokens validated by the core (signature against
//! the provider's JWK set, `iss`, `aud`, `exp`, `nonce`, `at_hash`) for clients signing with
//! RS256 (the default), ES256 and EdDSA; a refreshed ID token; userinfo's `sub` checked
//! against the ID token's; an RP-initiated logout URL the provider's end-session endpoint
//! accepts; and a key rotation across a provider restart (the new `kid` is fetched once).

use latchkey::{ClientAuth, Error};
use latchkey_conformance::{Driver, Session};
use latchkey_interop::clients::{
    CONF_BASIC, CONF_BASIC_SECRET, OIDC_EDDSA, OIDC_EDDSA_SECRET, OIDC_ES256, OIDC_ES256_SECRET,
    POST_LOGOUT_REDIRECT,
};
use latchkey_interop::{Login, Provider};

use crate::support::{assert_id_token, authorize, code, confidential, tokens};

/// The header of a compact JWS, decoded.
fn header(jws: &str) -> serde_json::Value {
    use base64::Engine as _;
    let part = jws.split('.').next().expect("a header");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON")
}

/// Code flow with `openid` for clients whose ID tokens are RS256, ES256 and EdDSA: each
/// validated, each signed with its algorithm; then a refresh's ID token, validated against
/// the first one (same `iss` and `sub`); then userinfo with the ID token's subject checked.
fn id_tokens_for_every_algorithm_refresh_and_userinfo<D: Driver>() {
    let p = Provider::expect_shared();
    let s = Session::<D>::new();
    for (id, secret, alg) in [
        (CONF_BASIC, CONF_BASIC_SECRET, "RS256"),
        (OIDC_ES256, OIDC_ES256_SECRET, "ES256"),
        (OIDC_EDDSA, OIDC_EDDSA_SECRET, "EdDSA"),
    ] {
        s.secret(secret);
        let client = confidential(p, id, secret, ClientAuth::Basic);
        let first = tokens(&s, code(&s, p, &client, "openid offline_access email"));
        assert_id_token(&first);
        assert_eq!(header(first.id_token().unwrap())["alg"], alg, "{id}");
        let claims = first.id_token_claims().unwrap();
        assert_eq!(claims.aud, [id]);
        assert_eq!(claims.iss, p.issuer());
        assert!(
            claims.nonce.is_some(),
            "the nonce the request carried came back"
        );

        let refresh = first.refresh_token().expect("a refresh token");
        let refreshed = tokens(
            &s,
            client
                .refresh(refresh)
                .expect("refresh")
                .original_id_token(claims),
        );
        // oidc-provider sends a new ID token on refresh; the core validated it against the
        // first (same iss and sub, the client in aud).
        assert!(
            refreshed.id_token().is_some(),
            "{id}: an ID token on refresh"
        );
        assert_eq!(
            refreshed.id_token_claims().expect("validated").sub,
            claims.sub
        );

        let userinfo = s
            .send(client.userinfo_for(&first).expect("userinfo"))
            .expect("userinfo whose sub is the ID token's");
        assert_eq!(userinfo["sub"], "alice");
    }
}

/// The logout URL (`id_token_hint`, `post_logout_redirect_uri`, `state`, `client_id`) is one
/// the end-session endpoint accepts: it answers with its sign-out confirmation page, not an
/// error page.
fn logout_url_is_accepted<D: Driver>() {
    let p = Provider::expect_shared();
    let s = Session::<D>::new();
    s.secret(CONF_BASIC_SECRET);
    let client = confidential(p, CONF_BASIC, CONF_BASIC_SECRET, ClientAuth::Basic);
    let signed_in = tokens(&s, code(&s, p, &client, "openid"));
    let url = client
        .logout()
        .id_token_hint(signed_in.id_token().expect("an ID token"))
        .post_logout_redirect_uri(POST_LOGOUT_REDIRECT)
        .state(latchkey::State::generate().expect("a state"))
        .build()
        .expect("a logout URL");
    assert!(
        url.as_str().starts_with(p.endpoint("end_session_endpoint")),
        "{url}"
    );
    let agent: ::ureq::Agent = ::ureq::Agent::config_builder()
        .proxy(None)
        .http_status_as_error(false)
        .build()
        .into();
    let mut answer = agent
        .get(url.as_str())
        .call()
        .expect("the end-session endpoint");
    let page = answer.body_mut().read_to_string().expect("a page");
    assert_eq!(answer.status(), 200, "{page}");
    assert!(!page.contains("oops! something went wrong"), "{page}");
    assert!(
        page.to_ascii_lowercase().contains("logout")
            || page.contains("sign-out")
            || page.contains("form"),
        "{page}"
    );
}

through_both! {
    drivers: [id_tokens_for_every_algorithm_refresh_and_userinfo, logout_url_is_accepted],
    adapters: [],
}

/// The provider restarts (same port) with a new key set in front of the old one: a client
/// that cached the old set validates the new ID token after fetching the set once more.
#[test]
#[cfg_attr(
    not(interop_server),
    ignore = "interop: node or interop/node_modules missing; run `cd interop && npm ci` or set LATCHKEY_INTEROP=required"
)]
fn a_rotated_key_set_is_fetched_again_after_a_restart() {
    let keys =
        std::env::temp_dir().join(format!("latchkey-interop-keys-{}.json", std::process::id()));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
        .to_string();
    let keys_path = keys.display().to_string();
    let first = Provider::start_with(&[("PORT", &port), ("INTEROP_KEYS", &keys_path)])
        .expect("the provider");
    let s = Session::<crate::support::Ureq>::new();
    s.secret(CONF_BASIC_SECRET);
    let client = confidential(&first, CONF_BASIC, CONF_BASIC_SECRET, ClientAuth::Basic);
    let before = tokens(&s, code(&s, &first, &client, "openid"));
    assert_id_token(&before);
    let old_kid = header(before.id_token().unwrap())["kid"].clone();
    drop(first);

    let second = Provider::start_with(&[
        ("PORT", &port),
        ("INTEROP_KEYS", &keys_path),
        ("INTEROP_ROTATE", "1"),
    ])
    .expect("the provider, restarted");
    assert_eq!(second.issuer(), client.issuer().unwrap());
    // The same client object: its cached key set lacks the new kid. It may fetch the set
    // again once 30 s have passed since the last fetch: this transport's clock is a minute
    // ahead, as if the rotation came later.
    let (pending, callback) = authorize(&s, &second, &client, "openid", &Login::new());
    let exchange = pending.callback(&client, &callback).expect("a code");
    let later = latchkey_ureq::Transport::builder()
        .agent(::ureq::Agent::config_builder().proxy(None).build().into())
        .clock(|| std::time::SystemTime::now() + std::time::Duration::from_secs(60))
        .build();
    let after = later
        .send(exchange)
        .map_err(|e: Error| e.to_string())
        .expect("validated after a refetch");
    s.tokens(&after);
    assert_id_token(&after);
    let new_kid = header(after.id_token().unwrap())["kid"].clone();
    assert_ne!(new_kid, old_kid, "signed with the new key");
    let _ = std::fs::remove_file(&keys);
}
