//! DPoP (RFC 9449) and JWT client authentication (RFC 7523) through each adapter, against
//! the mock, which verifies every proof and assertion: code + PKCE with a bound token,
//! refresh with the same key, client credentials, userinfo with `ath`, the nonce mode
//! (exactly one retry, and a second challenge after the nonce rotates), the downgrade
//! refusal, a replayed proof; `private_key_jwt` (ES256, RS256, EdDSA) and
//! `client_secret_jwt` at the token, revocation and introspection endpoints, and replayed,
//! expired and wrong-audience assertions refused.

use std::time::{Duration, SystemTime};

use latchkey::jose::{Algorithm, SigningKey};
use latchkey::{Client, ClientBuilder, Dpop, Error, ErrorCode, Exchange, ResponseError, TokenType};
use latchkey_mock::{AuthMethod, GrantType, MockClient, MockClock, MockServer};

use super::{SECRET, authorize, endpoints, only_request};
use crate::{Driver, Session};

/// A client for `id` at `server`, with revocation and introspection endpoints too.
fn full_endpoints(server: &MockServer, id: &str) -> ClientBuilder {
    endpoints(server, id)
        .revocation_endpoint(server.revocation_endpoint())
        .introspection_endpoint(server.introspection_endpoint())
}

fn es256() -> Dpop {
    Dpop::new(SigningKey::generate(Algorithm::ES256).unwrap())
}

/// The body of a refused answer, as text.
fn body_text(response: &latchkey::Response) -> String {
    String::from_utf8_lossy(&response.body).into_owned()
}

/// Code + PKCE with DPoP: the authorization request names the key (`dpop_jkt`), the token is
/// `DPoP` and bound to it, a refresh with the same key stays bound, and userinfo goes out as
/// `Authorization: DPoP` with a proof carrying `ath`.
pub fn dpop_code_refresh_and_userinfo_are_bound_to_the_key<D: Driver>() {
    let server = MockServer::builder()
        .client(
            MockClient::new("dpop-spa")
                .require_pkce(true)
                .rotate_refresh_tokens(true),
        )
        .start();
    let s = Session::<D>::new();
    let dpop = es256();
    let client = endpoints(&server, "dpop-spa")
        .dpop(dpop.clone())
        .build()
        .unwrap();
    let exchange = authorize(
        &s,
        &client,
        client.authorization_code().scope("openid offline_access"),
    );
    let authorized = only_request(&server, "/authorize");
    let query = authorized.query.unwrap_or_default();
    assert!(
        query.contains(&format!("dpop_jkt={}", dpop.jkt())),
        "{query}"
    );
    let tokens = s.send(exchange).unwrap();
    s.tokens(&tokens);
    assert_eq!(tokens.token_type(), &TokenType::DPoP);
    let access = tokens.access_token().expose_secret();
    assert_eq!(
        server.token_jkt(access).as_deref(),
        Some(dpop.jkt().as_str())
    );
    let exchanged = only_request(&server, "/token");
    assert!(exchanged.param("code_verifier").is_some());
    assert!(exchanged.header("dpop").is_some());

    let refreshed = s
        .send(client.refresh(tokens.refresh_token().unwrap()).unwrap())
        .unwrap();
    s.tokens(&refreshed);
    assert_eq!(refreshed.token_type(), &TokenType::DPoP);
    let renewed = refreshed.access_token().expose_secret();
    assert_ne!(renewed, access);
    assert_eq!(
        server.token_jkt(renewed).as_deref(),
        Some(dpop.jkt().as_str())
    );
    assert_eq!(server.refresh_count(), 1);

    let claims = s
        .send(client.userinfo(refreshed.access_token()).unwrap())
        .unwrap();
    assert_eq!(claims["sub"], "mock-user-1");
    let seen = only_request(&server, "/userinfo");
    assert!(seen.header("authorization").unwrap().starts_with("DPoP "));
    assert!(seen.header("dpop").is_some());
    // Three proofs, all accepted, all of the one key.
    let proofs = server.dpop_proofs();
    assert_eq!(proofs.len(), 3, "{proofs:?}");
    assert!(
        proofs
            .iter()
            .all(|p| p.error.is_none() && p.jkt.as_deref() == Some(dpop.jkt().as_str()))
    );
    // Another client's key cannot use the bound refresh token.
    let thief = endpoints(&server, "dpop-spa")
        .dpop(es256())
        .build()
        .unwrap();
    let stolen = s.send(thief.refresh(refreshed.refresh_token().unwrap()).unwrap());
    let code = stolen
        .unwrap_err()
        .server_code()
        .map(|c| c.as_str().to_owned());
    assert_eq!(code.as_deref(), Some("invalid_dpop_proof"));
}

/// Client credentials with DPoP at a server that requires a nonce: the first request is
/// challenged, the driver sends exactly one more with the nonce; after the server rotates
/// its nonce, the next request is challenged once again, and userinfo too.
pub fn dpop_client_credentials_answers_the_nonce_challenge_once<D: Driver>() {
    let server = MockServer::builder()
        .client(MockClient::new("dpop-m2m").secret(SECRET))
        .dpop_nonce_required(true)
        .start();
    let s = Session::<D>::new();
    s.secret(SECRET);
    let dpop = es256();
    let client = endpoints(&server, "dpop-m2m")
        .client_secret(SECRET)
        .dpop(dpop.clone())
        .build()
        .unwrap();
    let tokens = s.send(client.client_credentials().unwrap()).unwrap();
    s.tokens(&tokens);
    assert_eq!(tokens.token_type(), &TokenType::DPoP);
    assert_eq!(server.request_count("/token"), 2);
    let proofs = server.dpop_proofs();
    let outcomes: Vec<Option<&str>> = proofs.iter().map(|p| p.error.as_deref()).collect();
    assert_eq!(outcomes, [Some("use_dpop_nonce"), None]);
    assert!(
        proofs
            .iter()
            .all(|p| p.jkt.as_deref() == Some(dpop.jkt().as_str()))
    );
    assert_eq!(proofs[0].nonce, None);
    let first_nonce = server.dpop_nonce();
    assert_eq!(proofs[1].nonce.as_deref(), Some(first_nonce.as_str()));

    // The client knows the nonce now: no challenge.
    let again = s.send(client.client_credentials().unwrap()).unwrap();
    s.tokens(&again);
    assert_eq!(server.request_count("/token"), 3);
    assert_eq!(server.dpop_nonce_challenges(), 1);

    // Rotated: a second challenge, again answered exactly once.
    let rotated = server.rotate_dpop_nonce();
    let third = s.send(client.client_credentials().unwrap()).unwrap();
    s.tokens(&third);
    assert_eq!(server.request_count("/token"), 5);
    assert_eq!(server.dpop_nonce_challenges(), 2);
    let last = server.dpop_proofs().pop().unwrap();
    assert_eq!(last.nonce.as_deref(), Some(rotated.as_str()));
    assert_eq!(last.error, None);

    // At userinfo the challenge is a 401 with WWW-Authenticate: DPoP; one retry.
    server.rotate_dpop_nonce();
    let claims = s
        .send(client.userinfo(third.access_token()).unwrap())
        .unwrap();
    assert_eq!(claims["sub"], "mock-user-1");
    assert_eq!(server.request_count("/userinfo"), 2);
    assert_eq!(server.dpop_nonce_challenges(), 3);
}

/// A server that answers `token_type: Bearer` to a request with a proof is refused: the
/// client does not take a downgraded token.
pub fn dpop_downgrade_to_bearer_is_refused<D: Driver>() {
    let server = MockServer::builder()
        .client(MockClient::new("dpop-down").secret(SECRET))
        .start();
    server.answer_dpop_as_bearer(true);
    let s = Session::<D>::new();
    s.secret(SECRET);
    let client = endpoints(&server, "dpop-down")
        .client_secret(SECRET)
        .dpop(es256())
        .build()
        .unwrap();
    let err = s.send(client.client_credentials().unwrap()).unwrap_err();
    assert!(
        matches!(err, Error::Response(ResponseError::DpopDowngrade)),
        "{err:?}"
    );
    assert_eq!(server.request_count("/token"), 1);
}

/// The same request with the same proof, sent twice by hand: the mock refuses the replay.
pub fn dpop_replayed_proof_is_refused<D: Driver>() {
    let server = MockServer::builder()
        .client(MockClient::new("dpop-replay").secret(SECRET))
        .start();
    let s = Session::<D>::new();
    s.secret(SECRET);
    let dpop = es256();
    let client = endpoints(&server, "dpop-replay")
        .client_secret(SECRET)
        .build()
        .unwrap();
    let mut request = client.client_credentials().unwrap().request().unwrap();
    let proof = dpop
        .proof(&request.method, &request.url, SystemTime::now(), None)
        .unwrap();
    s.secret(&proof);
    request.headers.insert("DPoP", proof);
    let first = s.execute(&request).unwrap();
    assert_eq!(first.status, 200, "{}", body_text(&first));
    let second = s.execute(&request).unwrap();
    assert_eq!(second.status, 400);
    let text = body_text(&second);
    assert!(
        text.contains("invalid_dpop_proof") && text.contains("already used"),
        "{text}"
    );
    let outcomes: Vec<Option<String>> = server.dpop_proofs().into_iter().map(|p| p.error).collect();
    assert_eq!(outcomes, [None, Some("invalid_dpop_proof".to_owned())]);
}

/// A client authenticating with `key` at a mock that knows its public key: client
/// credentials, introspection and revocation each carry a fresh assertion.
fn assertion_round<D: Driver>(s: &Session<D>, server: &MockServer, client: &Client, id: &str) {
    let tokens = s.send(client.client_credentials().unwrap()).unwrap();
    s.tokens(&tokens);
    let live = s
        .send(client.introspect(tokens.access_token()).unwrap())
        .unwrap();
    assert!(live.active, "{id}");
    assert_eq!(live.client_id.as_deref(), Some(id));
    s.send(client.revoke(tokens.access_token()).unwrap())
        .unwrap();
    assert!(!server.access_token_active(tokens.access_token().expose_secret()));
    for path in ["/token", "/introspect", "/revoke"] {
        let seen = only_request(server, path);
        assert_eq!(
            seen.param("client_assertion_type"),
            Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
            "{id} {path}"
        );
        assert_eq!(seen.param("client_id"), Some(id));
        assert_eq!(seen.header("authorization"), None);
        s.secret(seen.param("client_assertion").unwrap());
    }
}

/// `private_key_jwt` with ES256, RS256 and EdDSA keys, and `client_secret_jwt`, at the
/// token, introspection and revocation endpoints.
pub fn jwt_client_authentication_at_token_revocation_and_introspection<D: Driver>() {
    let s = Session::<D>::new();
    for alg in [Algorithm::ES256, Algorithm::RS256, Algorithm::EdDSA] {
        let key = SigningKey::generate(alg).unwrap();
        let id = format!("pkjwt-{alg}");
        let server = MockServer::builder()
            .client(MockClient::new(&id).private_key_jwt(key.public_jwk().to_string()))
            .start();
        let client = full_endpoints(&server, &id)
            .private_key_jwt(key)
            .build()
            .unwrap();
        assertion_round(&s, &server, &client, &id);
    }
    s.secret(SECRET);
    let server = MockServer::builder()
        .client(
            MockClient::new("csjwt")
                .secret(SECRET)
                .auth_method(AuthMethod::ClientSecretJwt)
                .grant_types([GrantType::ClientCredentials]),
        )
        .start();
    let client = full_endpoints(&server, "csjwt")
        .client_secret(SECRET)
        .auth_method(latchkey::ClientAuth::ClientSecretJwt)
        .build()
        .unwrap();
    assertion_round(&s, &server, &client, "csjwt");
}

/// A replayed assertion (the same request sent twice by hand), an expired one (the server's
/// clock ten minutes ahead) and one for another audience are refused with `invalid_client`.
pub fn replayed_expired_or_misaddressed_assertions_are_refused<D: Driver>() {
    let key = SigningKey::generate(Algorithm::ES256).unwrap();
    let clock = MockClock::new();
    let server = MockServer::builder()
        .client(MockClient::new("pk").private_key_jwt(key.public_jwk().to_string()))
        .clock(clock.clone())
        .start();
    let s = Session::<D>::new();
    let client = endpoints(&server, "pk")
        .private_key_jwt(key.clone())
        .build()
        .unwrap();
    // Replayed.
    let request = client
        .client_credentials()
        .unwrap()
        .request_at(SystemTime::now())
        .unwrap();
    let first = s.execute(&request).unwrap();
    assert_eq!(first.status, 200, "{}", body_text(&first));
    let replayed = s.execute(&request).unwrap();
    assert_eq!(replayed.status, 401);
    let text = body_text(&replayed);
    assert!(
        text.contains("invalid_client") && text.contains("already used"),
        "{text}"
    );
    // Expired: the server's clock is ten minutes past the assertion's `exp`.
    clock.advance(Duration::from_secs(600));
    let err = s.send(client.client_credentials().unwrap()).unwrap_err();
    assert_eq!(err.server_code(), Some(&ErrorCode::InvalidClient));
    assert!(format!("{err}").contains("expired"), "{err}");
    clock.set(SystemTime::now());
    // Another audience.
    let elsewhere = endpoints(&server, "pk")
        .issuer("https://elsewhere.example")
        .private_key_jwt(key)
        .build()
        .unwrap();
    let err = s.send(elsewhere.client_credentials().unwrap()).unwrap_err();
    assert_eq!(err.server_code(), Some(&ErrorCode::InvalidClient));
    assert!(format!("{err}").contains("aud"), "{err}");
    for seen in server.requests_to("/token") {
        if let Some(assertion) = seen.param("client_assertion") {
            s.secret(assertion);
        }
    }
}

/// DPoP and `private_key_jwt` together at a server that requires a nonce: the pushed
/// authorization request is challenged and sent again with a fresh assertion and the nonce,
/// its proof binds the code (the exchange must prove the same key); the device flow's
/// authorization and poll authenticate with assertions and the poll's token is bound too.
pub fn dpop_with_private_key_jwt_at_par_and_device_under_a_nonce<D: Driver>() {
    let key = SigningKey::generate(Algorithm::EdDSA).unwrap();
    let server = MockServer::builder()
        .client(
            MockClient::new("pk-dpop")
                .private_key_jwt(key.public_jwk().to_string())
                .grant_types([GrantType::AuthorizationCode, GrantType::DeviceCode]),
        )
        .dpop_nonce_required(true)
        .device_interval(1)
        .start();
    let s = Session::<D>::new();
    let dpop = es256();
    let client = endpoints(&server, "pk-dpop")
        .pushed_authorization_request_endpoint(server.pushed_authorization_request_endpoint())
        .device_authorization_endpoint(server.device_authorization_endpoint())
        .private_key_jwt(key)
        .dpop(dpop.clone())
        .build()
        .unwrap();
    let (url, pending) = s
        .send(client.authorization_code().scope("read").push().unwrap())
        .unwrap();
    s.secret(pending.pkce_verifier().unwrap().expose_secret());
    // Challenged once, then accepted with a second, different assertion.
    let pushed = server.requests_to("/par");
    assert_eq!(pushed.len(), 2);
    let assertions: Vec<&str> = pushed
        .iter()
        .map(|r| r.param("client_assertion").unwrap())
        .collect();
    assert_ne!(assertions[0], assertions[1]);
    for assertion in &assertions {
        s.secret(assertion);
    }
    assert_eq!(pushed[1].param("dpop_jkt"), Some(dpop.jkt().as_str()));
    let exchange = pending
        .callback(&client, &crate::fixture::visit(url.as_str()))
        .unwrap();
    s.secret(exchange.code().expose_secret());
    let tokens = s.send(exchange).unwrap();
    s.tokens(&tokens);
    assert_eq!(tokens.token_type(), &TokenType::DPoP);
    assert_eq!(
        server
            .token_jkt(tokens.access_token().expose_secret())
            .as_deref(),
        Some(dpop.jkt().as_str())
    );
    // The client kept the nonce: the exchange needed no second try.
    assert_eq!(server.request_count("/token"), 1);
    assert_eq!(server.dpop_nonce_challenges(), 1);

    let auth = s.send(client.device_authorization().unwrap()).unwrap();
    s.secret(auth.device_code.expose_secret());
    assert!(server.approve_device(&auth.user_code));
    let device_tokens = s.poll_device(auth.poller(&client).unwrap()).unwrap();
    s.tokens(&device_tokens);
    assert_eq!(device_tokens.token_type(), &TokenType::DPoP);
    assert_eq!(
        server
            .token_jkt(device_tokens.access_token().expose_secret())
            .as_deref(),
        Some(dpop.jkt().as_str())
    );
    for seen in server.requests_to("/token") {
        s.secret(seen.param("client_assertion").unwrap());
        assert!(seen.header("dpop").is_some());
    }
    assert!(
        server
            .dpop_proofs()
            .iter()
            .all(|p| p.error.is_none() || p.error.as_deref() == Some("use_dpop_nonce"))
    );
}
