//! JWT client authentication (RFC 7523) at the mock, in memory on a clock the test moves:
//! `private_key_jwt` with ES256, EdDSA and RS256 keys registered as a JWK or as PEM,
//! `client_secret_jwt` (HS256), at the token, revocation and introspection endpoints; and
//! each way an assertion is refused with `invalid_client`.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use latchkey::jose::{Algorithm, SigningKey, sign_hmac};
use latchkey_mock::{AuthMethod, Mock, MockClient, MockClock, Request, Response};
use serde_json::{Map, Value, json};

const START: u64 = 1_700_000_000;
const BASE: &str = "http://mock.invalid";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const SECRET: &str = "hs256-secret-of-at-least-32-bytes!";

fn rsa() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::generate(Algorithm::RS256).unwrap())
}

struct Keys {
    es256: SigningKey,
    eddsa: SigningKey,
}

fn mock(keys: &Keys) -> (Mock, MockClock) {
    let clock = MockClock::at(UNIX_EPOCH + Duration::from_secs(START));
    // The P-256 key registered as PEM, the others as JWKs.
    let pem = {
        use p256::pkcs8::EncodePublicKey as _;
        let jwk = keys.es256.public_jwk();
        let coordinate = |name: &str| {
            use base64::Engine as _;
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(jwk[name].as_str().unwrap())
                .unwrap()
        };
        let mut point = vec![4u8];
        point.extend(coordinate("x"));
        point.extend(coordinate("y"));
        p256::ecdsa::VerifyingKey::from_sec1_bytes(&point)
            .unwrap()
            .to_public_key_pem(p256::pkcs8::LineEnding::LF)
            .unwrap()
    };
    let mock = Mock::builder()
        .client(MockClient::new("es").private_key_jwt(pem))
        .client(MockClient::new("ed").private_key_jwt(keys.eddsa.public_jwk().to_string()))
        .client(MockClient::new("rs").private_key_jwt(rsa().public_jwk().to_string()))
        .client(
            MockClient::new("hs")
                .secret(SECRET)
                .auth_method(AuthMethod::ClientSecretJwt),
        )
        .client(MockClient::new("basic").secret("b"))
        .clock(clock.clone())
        .build();
    (mock, clock)
}

fn keys() -> Keys {
    Keys {
        es256: SigningKey::generate(Algorithm::ES256).unwrap(),
        eddsa: SigningKey::generate(Algorithm::EdDSA).unwrap(),
    }
}

fn jti() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("a-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// Good claims for `client` at `now`.
fn claims(client: &str, now: SystemTime) -> Value {
    let iat = secs(now);
    json!({
        "iss": client, "sub": client, "aud": BASE, "jti": jti(), "iat": iat, "exp": iat + 60,
    })
}

fn signed(key: &SigningKey, claims: &Value) -> String {
    key.sign(Map::new(), claims).unwrap()
}

fn hs(claims: &Value) -> String {
    sign_hmac(Algorithm::HS256, SECRET.as_bytes(), Map::new(), claims).unwrap()
}

fn with_assertion(path: &str, assertion: &str, extra: &[(&str, &str)]) -> Request {
    let mut pairs = vec![
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", assertion),
    ];
    pairs.extend_from_slice(extra);
    Request::post_form(path, &pairs)
}

fn token_request(assertion: &str) -> Request {
    with_assertion("/token", assertion, &[("grant_type", "client_credentials")])
}

fn send(mock: &Mock, request: Request) -> Response {
    mock.route_now(request).into_response().unwrap()
}

fn json(response: &Response) -> Value {
    serde_json::from_slice(&response.body).unwrap()
}

/// The description of an `invalid_client` answer.
fn invalid_client(response: &Response) -> String {
    let body = json(response);
    assert_eq!(
        (response.status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    body["error_description"].as_str().unwrap().to_owned()
}

#[test]
fn every_algorithm_authenticates_at_token_revocation_and_introspection() {
    let keys = keys();
    let (mock, clock) = mock(&keys);
    let now = clock.now();
    let sign = |client: &str, claims: &Value| match client {
        "es" => signed(&keys.es256, claims),
        "ed" => signed(&keys.eddsa, claims),
        "rs" => signed(rsa(), claims),
        _ => hs(claims),
    };
    for client in ["es", "ed", "rs", "hs"] {
        let answer = send(&mock, token_request(&sign(client, &claims(client, now))));
        assert_eq!(answer.status, 200, "{client}: {}", answer.body_text());
        let token = json(&answer)["access_token"].as_str().unwrap().to_owned();
        // The token endpoint as aud, and client_id sent alongside.
        let mut at_endpoint = claims(client, now);
        at_endpoint["aud"] = format!("{BASE}/token").into();
        let introspected = send(
            &mock,
            with_assertion(
                "/introspect",
                &sign(client, &at_endpoint),
                &[("token", &token), ("client_id", client)],
            ),
        );
        assert_eq!(
            introspected.status,
            200,
            "{client}: {}",
            introspected.body_text()
        );
        assert_eq!(json(&introspected)["active"], true, "{client}");
        let revoked = send(
            &mock,
            with_assertion(
                "/revoke",
                &sign(client, &claims(client, now)),
                &[("token", &token)],
            ),
        );
        assert_eq!(revoked.status, 200, "{client}: {}", revoked.body_text());
        assert!(!mock.access_token_active(&token), "{client}");
    }
    // At PAR the PAR endpoint is an audience too (RFC 9126 §2), and only there.
    let mut at_par = claims("es", now);
    at_par["aud"] = format!("{BASE}/par").into();
    let pushed = send(
        &mock,
        with_assertion(
            "/par",
            &signed(&keys.es256, &at_par),
            &[
                ("response_type", "code"),
                ("redirect_uri", "https://app.example/cb"),
            ],
        ),
    );
    assert_eq!(pushed.status, 201, "{}", pushed.body_text());
    at_par["jti"] = jti().into();
    let why = invalid_client(&send(&mock, token_request(&signed(&keys.es256, &at_par))));
    assert!(why.contains("aud must be"), "{why}");
    // The metadata says so.
    let metadata = json(&send(
        &mock,
        Request::get("/.well-known/oauth-authorization-server"),
    ));
    let methods = metadata["token_endpoint_auth_methods_supported"].to_string();
    assert!(methods.contains("private_key_jwt") && methods.contains("client_secret_jwt"));
}

#[test]
fn bad_assertions_are_refused_with_a_clear_description() {
    let keys = keys();
    let (mock, clock) = mock(&keys);
    let now = clock.now();
    let with = |change: &dyn Fn(&mut Value)| {
        let mut c = claims("es", now);
        change(&mut c);
        signed(&keys.es256, &c)
    };
    let cases: Vec<(String, &str)> = vec![
        (
            with(&|c| c["aud"] = "https://other.example".into()),
            "aud must be",
        ),
        (with(&|c| c["exp"] = (START - 1).into()), "expired"),
        (
            with(&|c| c["exp"] = (START + 301).into()),
            "more than 300 s away",
        ),
        (with(&|c| c["sub"] = "someone".into()), "iss and sub"),
        (
            with(&|c| c["iat"] = (START + 120).into()),
            "iat is in the future",
        ),
        (
            with(&|c| _ = c.as_object_mut().unwrap().remove("jti")),
            "no jti",
        ),
        (
            with(&|c| _ = c.as_object_mut().unwrap().remove("exp")),
            "no numeric exp",
        ),
        // Signed by another key.
        (
            signed(
                &SigningKey::generate(Algorithm::ES256).unwrap(),
                &claims("es", now),
            ),
            "does not verify",
        ),
        // HS256 for a private_key_jwt client (the algorithm-confusion attack).
        (
            sign_hmac(
                Algorithm::HS256,
                keys.es256.public_jwk().to_string().as_bytes(),
                Map::new(),
                &claims("es", now),
            )
            .unwrap(),
            "alg HS256 is not accepted",
        ),
        // A client_secret_jwt assertion under another secret.
        (
            sign_hmac(
                Algorithm::HS256,
                b"wrong-secret",
                Map::new(),
                &claims("hs", now),
            )
            .unwrap(),
            "does not verify",
        ),
        // A client registered for client_secret_basic.
        (
            hs(&claims("basic", now)),
            "authenticates with client_secret_basic",
        ),
        (hs(&claims("nobody", now)), "unknown client"),
    ];
    for (assertion, expected) in cases {
        let why = invalid_client(&send(&mock, token_request(&assertion)));
        assert!(why.contains(expected), "{why} / {expected}");
    }
    // A replayed assertion.
    let once = signed(&keys.es256, &claims("es", now));
    assert_eq!(send(&mock, token_request(&once)).status, 200);
    let why = invalid_client(&send(&mock, token_request(&once)));
    assert!(why.contains("already used"), "{why}");
    // Expired by the clock.
    let soon = signed(&keys.es256, &claims("es", now));
    clock.advance(Duration::from_secs(61));
    assert!(invalid_client(&send(&mock, token_request(&soon))).contains("expired"));
    // The wrong assertion type, a client_id that is not the iss, a secret as well.
    let good = signed(&keys.es256, &claims("es", clock.now()));
    let wrong_type = Request::post_form(
        "/token",
        &[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", "urn:other"),
            ("client_assertion", &good),
        ],
    );
    assert!(invalid_client(&send(&mock, wrong_type)).contains("client_assertion_type"));
    let other_id = with_assertion(
        "/token",
        &good,
        &[("grant_type", "client_credentials"), ("client_id", "ed")],
    );
    assert!(invalid_client(&send(&mock, other_id)).contains("client_id differs"));
    let both = token_request(&good).with_header("authorization", "Basic YmFzaWM6Yg==");
    let body = json(&send(&mock, both));
    assert_eq!(body["error"], "invalid_request");
    // A JWT client that sends no assertion.
    let bare = Request::post_form(
        "/token",
        &[("grant_type", "client_credentials"), ("client_id", "es")],
    );
    assert!(invalid_client(&send(&mock, bare)).contains("must send a client_assertion"));
    // No token was issued for any refusal.
    assert_eq!(mock.issued_access_tokens(), 1);
}
