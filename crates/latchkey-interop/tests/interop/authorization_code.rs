//! The authorization code flow with PKCE (the public client) and with the two confidential
//! clients; the user cancelling; PKCE really checked; a code used twice; `login.mjs` on its own.

use latchkey::{CallbackError, ClientAuth, Error, ErrorCode, PendingAuthorization};
use latchkey_conformance::{Driver, Session};
use latchkey_interop::clients::{CONF_BASIC, CONF_BASIC_SECRET, CONF_POST, CONF_POST_SECRET};
use latchkey_interop::{Login, Provider, login, query_param, with_query_param};
use serde_json::Value;

use crate::support::{
    FULL_SCOPE, assert_id_token, assert_tokens, authorize, code, confidential, copy, public_client,
    server_error, tokens, userinfo,
};

/// Authorization code + PKCE with the public client: tokens, ID token, refresh token, the
/// `offline_access` scope kept, and userinfo claims for alice.
fn code_pkce_public<D: Driver>() {
    let p = Provider::expect_shared();
    let s = Session::<D>::new();
    let client = public_client(p);
    let exchange = code(&s, p, &client, FULL_SCOPE);
    let tokens = tokens(&s, exchange);
    assert_tokens(
        &tokens,
        &["openid", "offline_access", "email", "profile"],
        true,
    );
    assert_id_token(&tokens);
    let claims = userinfo(&s, &client, tokens.access_token()).expect("userinfo");
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["email"], "alice@example.com");
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["name"], "Alice");
}

/// Authorization code with the confidential `client_secret_basic` client.
fn code_confidential_basic<D: Driver>() {
    let p = Provider::expect_shared();
    let s = Session::<D>::new();
    s.secret(CONF_BASIC_SECRET);
    let client = confidential(p, CONF_BASIC, CONF_BASIC_SECRET, ClientAuth::Basic);
    let tokens = tokens(&s, code(&s, p, &client, "openid email"));
    assert_tokens(&tokens, &["openid", "email"], true);
    assert_id_token(&tokens);
    let claims = userinfo(&s, &client, tokens.access_token()).expect("userinfo");
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["email"], "alice@example.com");
}

/// Authorization code with the confidential `client_secret_post` client.
fn code_confidential_post<D: Driver>() {
    let p = Provider::expect_shared();
    let s = Session::<D>::new();
    s.secret(CONF_POST_SECRET);
    let client = confidential(p, CONF_POST, CONF_POST_SECRET, ClientAuth::Post);
    let tokens = tokens(&s, code(&s, p, &client, "openid offline_access"));
    assert_tokens(&tokens, &["openid", "offline_access"], true);
    assert_id_token(&tokens);
}

/// Cancelling at the login page: the provider redirects with `error=access_denied` (and
/// `iss`), which becomes `Error::Server` without an HTTP status. A tampered `iss` on the error
/// redirect is still a mix-up.
fn access_denied<D: Driver>() {
    let p = Provider::expect_shared();
    let s = Session::<D>::new();
    let client = public_client(p);
    let (pending, callback) = authorize(&s, p, &client, FULL_SCOPE, &Login::new().deny());
    assert_eq!(query_param(&callback, "code"), None, "{callback}");
    let tampered = copy(&pending);
    match pending.callback(&client, &callback) {
        Err(Error::Server(e)) => {
            assert_eq!(e.code, ErrorCode::AccessDenied);
            assert_eq!(e.status, None);
        }
        other => panic!("expected access_denied, got {other:?}"),
    }
    let forged = with_query_param(&callback, "iss", "http://127.0.0.1:9/");
    assert_eq!(
        tampered.callback(&client, &forged).map(|_| ()),
        Err(Error::Callback(CallbackError::IssuerMismatch))
    );
}

/// PKCE is really checked: a different verifier for the same code is `invalid_grant`. The
/// failed attempt does not consume the code in oidc-provider 9.13.3, so the genuine verifier
/// then works: the refusal was about the verifier alone.
fn wrong_pkce_verifier_is_invalid_grant<D: Driver>() {
    let p = Provider::expect_shared();
    let s = Session::<D>::new();
    let client = public_client(p);
    let (pending, callback) = authorize(&s, p, &client, "openid", &Login::new());
    let genuine = copy(&pending);
    let mut json: Value = serde_json::to_value(&pending).expect("serialize");
    let other = "x".repeat(43) + "-other-verifier";
    s.secret(&other);
    json["pkce_verifier"] = Value::String(other);
    let forged: PendingAuthorization = serde_json::from_value(json).expect("deserialize");
    let exchange = forged.callback(&client, &callback).expect("callback");
    assert_eq!(
        server_error(s.send(exchange)),
        (ErrorCode::InvalidGrant, Some(400))
    );
    let tokens = tokens(&s, genuine.callback(&client, &callback).expect("callback"));
    assert_tokens(&tokens, &["openid"], true);
}

/// A code is single-use: sending the exchange again is `invalid_grant`, and oidc-provider then
/// revokes what the code produced (RFC 6749 §4.1.2), so the access token stops working.
fn code_replay_is_invalid_grant_and_revokes<D: Driver>() {
    let p = Provider::expect_shared();
    let s = Session::<D>::new();
    let client = public_client(p);
    let exchange = code(&s, p, &client, "openid email");
    let replay = exchange.clone();
    let tokens = tokens(&s, exchange);
    userinfo(&s, &client, tokens.access_token()).expect("userinfo before the replay");
    assert_eq!(
        server_error(s.send(replay)),
        (ErrorCode::InvalidGrant, Some(400))
    );
    assert_eq!(
        server_error(userinfo(&s, &client, tokens.access_token())),
        (ErrorCode::InvalidToken, Some(401))
    );
}

/// `login` on its own: a plain authorization URL comes back as a loopback callback with a
/// code, the state and `iss` (and the redirect is never requested).
#[test]
#[cfg_attr(
    not(interop_server),
    ignore = "interop: node or interop/node_modules missing; run `cd interop && npm ci` or set LATCHKEY_INTEROP=required"
)]
fn login_returns_the_callback_without_requesting_it() {
    let p = Provider::expect_shared();
    let client = public_client(p);
    let (url, pending) = client
        .authorization_code()
        .scope("openid")
        .build()
        .expect("authorization request");
    let callback = login(url.as_str());
    assert!(callback.starts_with("http://127.0.0.1:"), "{callback}");
    assert!(query_param(&callback, "code").is_some_and(|c| c.len() >= 32));
    assert_eq!(
        query_param(&callback, "state").as_deref(),
        Some(pending.state().as_str())
    );
    assert_eq!(query_param(&callback, "iss").as_deref(), Some(p.issuer()));
}

through_both! {
    drivers: [code_pkce_public, code_confidential_basic, code_confidential_post, access_denied, wrong_pkce_verifier_is_invalid_grant, code_replay_is_invalid_grant_and_revokes],
    adapters: [],
}
