//! JWT client authentication (RFC 7523) against oidc-provider, through both adapters:
//! `private_key_jwt` with ES256, RS256, PS256 and EdDSA keys and `client_secret_jwt` (HS256),
//! at the token endpoint (client credentials, code, refresh), introspection and revocation;
//! the assertion's audience as the issuer and as the token endpoint; a wrong key refused.

use latchkey::jose::{Algorithm, SigningKey};
use latchkey::{AssertionAudience, Client, ClientAuth, ErrorCode};
use latchkey_interop::clients::{
    JWT_EDDSA, JWT_ES256, JWT_PS256, JWT_RS256, JWT_SECRET, JWT_SECRET_SECRET,
};
use latchkey_interop::{Provider, loopback_redirect_uri};

use crate::support::{Adapter, code_tokens, server_error};

fn key_client(p: &Provider, id: &str, key: SigningKey, audience: AssertionAudience) -> Client {
    p.client_builder(id)
        .private_key_jwt(key)
        .assertion_audience(audience)
        .introspection_endpoint(p.introspection_endpoint())
        .revocation_endpoint(p.revocation_endpoint())
        .redirect_uri(loopback_redirect_uri())
        .build()
        .expect("private_key_jwt client")
}

/// Client credentials, introspection and revocation, each authenticated by an assertion.
fn cc_introspect_revoke(a: &Adapter, client: &Client) {
    let tokens = a
        .send(client.client_credentials().expect("cc"))
        .expect("client credentials");
    let token = tokens.access_token();
    let seen = a
        .send(client.introspect(token).expect("introspect"))
        .expect("introspection");
    assert!(seen.active);
    assert_eq!(seen.client_id.as_deref(), Some(client.client_id()));
    a.send(client.revoke(token).expect("revoke"))
        .expect("revocation");
    let gone = a
        .send(client.introspect(token).expect("introspect"))
        .expect("introspection");
    assert!(!gone.active);
}

/// `private_key_jwt` for every algorithm, both audiences; then a code login and a refresh.
fn private_key_jwt(a: &Adapter) {
    let p = Provider::expect_shared();
    for id in [JWT_ES256, JWT_RS256, JWT_PS256, JWT_EDDSA] {
        for audience in [AssertionAudience::Issuer, AssertionAudience::TokenEndpoint] {
            let client = key_client(p, id, p.client_key(id), audience);
            assert_eq!(client.auth_method(), ClientAuth::PrivateKeyJwt);
            cc_introspect_revoke(a, &client);
        }
    }
    let client = key_client(
        p,
        JWT_ES256,
        p.client_key(JWT_ES256),
        AssertionAudience::Issuer,
    );
    let tokens = code_tokens(a, &client, "openid offline_access");
    assert!(tokens.id_token_claims().is_some());
    let refreshed = a
        .send(
            client
                .refresh(tokens.refresh_token().expect("rt"))
                .expect("refresh"),
        )
        .expect("refresh with private_key_jwt");
    assert!(refreshed.access_token().expose_secret().len() >= 32);
}

/// A key the server does not know (same `kid`, another key), and a client_secret_jwt
/// assertion made with the wrong secret, are `invalid_client`.
fn wrong_keys_are_refused(a: &Adapter) {
    let p = Provider::expect_shared();
    let known = p.client_key(JWT_ES256);
    let kid = known.kid().expect("a kid").to_owned();
    let stranger = SigningKey::generate(Algorithm::ES256)
        .expect("key")
        .with_kid(kid);
    let client = key_client(p, JWT_ES256, stranger, AssertionAudience::Issuer);
    let result = a.send(client.client_credentials().expect("cc"));
    assert_eq!(server_error(result).0, ErrorCode::InvalidClient);

    let wrong = p
        .client_builder(JWT_SECRET)
        .client_secret("not-the-secret-0123456789abcdef-0123456789abcdef")
        .auth_method(ClientAuth::ClientSecretJwt)
        .build()
        .expect("client");
    let result = a.send(wrong.client_credentials().expect("cc"));
    assert_eq!(server_error(result).0, ErrorCode::InvalidClient);
}

/// `client_secret_jwt` (HS256) at the token endpoint, introspection and revocation, and for
/// a code login.
fn client_secret_jwt(a: &Adapter) {
    let p = Provider::expect_shared();
    let client = p
        .client_builder(JWT_SECRET)
        .client_secret(JWT_SECRET_SECRET)
        .auth_method(ClientAuth::ClientSecretJwt)
        .introspection_endpoint(p.introspection_endpoint())
        .revocation_endpoint(p.revocation_endpoint())
        .redirect_uri(loopback_redirect_uri())
        .build()
        .expect("client_secret_jwt client");
    cc_introspect_revoke(a, &client);
    let tokens = code_tokens(a, &client, "openid");
    assert!(tokens.id_token_claims().is_some());
}

through_both! {
    drivers: [],
    adapters: [private_key_jwt, wrong_keys_are_refused, client_secret_jwt],
}
