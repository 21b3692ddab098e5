//! JWT client authentication (RFC 7523): `private_key_jwt` with RS256, PS256, ES256 and
//! EdDSA keys and `client_secret_jwt` (HS256). Each assertion is verified here with the
//! public key (or the secret) by the core's own JWS verification, claim by claim, at every
//! endpoint that authenticates the client.

use std::collections::HashSet;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use latchkey::drive::{Action, Drive, SendDriver, TransportSettings};
use latchkey::jose::{Algorithm, Jwk, Jws, SigningKey};
use latchkey::{
    AccessToken, AssertionAudience, Client, ClientAuth, ConfigError, Error, Exchange,
    JWT_BEARER_ASSERTION, RefreshToken, Request, Response, ServerMetadata, State,
};
use serde_json::{Value, json};

use crate::support::{form, metadata, now};

fn secs(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs()
}

fn rsa_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::generate(Algorithm::RS256).unwrap())
}

fn key(alg: Algorithm) -> SigningKey {
    match alg {
        Algorithm::RS256 => rsa_key().clone(),
        Algorithm::PS256 => {
            // The same RSA key, signing PS256: a key is read for the algorithm it signs with.
            SigningKey::from_pkcs8_pem(&rsa_pem(), Algorithm::PS256).unwrap()
        }
        _ => SigningKey::generate(alg).unwrap(),
    }
}

fn rsa_pem() -> String {
    use rsa::Generate as _;
    use rsa::pkcs8::EncodePrivateKey as _;
    static PEM: OnceLock<String> = OnceLock::new();
    PEM.get_or_init(|| {
        rsa::PrivateKey::generate()
            .to_pkcs8_pem(rsa::pkcs8::LineEnding::LF)
            .unwrap()
            .to_string()
    })
    .clone()
}

fn jwt_client(key: &SigningKey) -> Client {
    Client::builder("app")
        .metadata(&metadata())
        .redirect_uri("http://127.0.0.1/cb")
        .private_key_jwt(key.clone())
        .build()
        .unwrap()
}

fn with_signing_algs(algs: &[&str]) -> ServerMetadata {
    let mut metadata = metadata();
    metadata.extra.insert(
        "token_endpoint_auth_signing_alg_values_supported".into(),
        json!(algs),
    );
    metadata
}

/// The assertion of a request: checks the form around it, verifies it with `verify` and
/// returns its header and claims.
fn assertion(request: &Request, verify: impl FnOnce(&Jws) -> Vec<u8>) -> (Value, Value) {
    assert!(request.headers.get("authorization").is_none());
    let form = form(&request.body);
    assert_eq!(form["client_id"], "app");
    assert_eq!(form["client_assertion_type"], JWT_BEARER_ASSERTION);
    assert!(!form.contains_key("client_secret"));
    let jwt = &form["client_assertion"];
    let jws = Jws::parse(jwt).unwrap();
    let payload = verify(&jws);
    let header_b64 = jwt.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(
        &base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            header_b64,
        )
        .unwrap(),
    )
    .unwrap();
    (header, serde_json::from_slice(&payload).unwrap())
}

fn verify_with(key: &SigningKey) -> impl FnOnce(&Jws) -> Vec<u8> + '_ {
    move |jws| {
        let jwk = Jwk::from_json(&key.public_jwk()).unwrap();
        jws.verify_key(&jwk).unwrap();
        jws.unverified_payload().to_vec()
    }
}

fn check_claims(claims: &Value, at: SystemTime, aud: &str) {
    let object = claims.as_object().unwrap();
    let mut names: Vec<&str> = object.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["aud", "exp", "iat", "iss", "jti", "sub"]);
    assert_eq!(claims["iss"], "app");
    assert_eq!(claims["sub"], "app");
    assert_eq!(claims["aud"], aud);
    assert_eq!(claims["iat"], secs(at));
    assert_eq!(claims["exp"], secs(at) + 60);
    assert_eq!(claims["jti"].as_str().unwrap().len(), 22);
}

#[test]
fn private_key_jwt_assertions_for_each_algorithm() {
    for alg in [
        Algorithm::RS256,
        Algorithm::PS256,
        Algorithm::ES256,
        Algorithm::EdDSA,
    ] {
        let key = key(alg);
        let client = jwt_client(&key);
        assert_eq!(client.auth_method(), ClientAuth::PrivateKeyJwt);
        let at = now();
        let request = client.client_credentials().unwrap().request_at(at).unwrap();
        let (header, claims) = assertion(&request, verify_with(&key));
        assert_eq!(header, json!({"alg": alg.as_str(), "typ": "JWT"}), "{alg}");
        check_claims(&claims, at, "https://as.example");
    }
}

#[test]
fn a_kid_is_sent_and_the_audience_can_be_the_token_endpoint() {
    let key = SigningKey::generate(Algorithm::ES256)
        .unwrap()
        .with_kid("client-key-1");
    let client = Client::builder("app")
        .metadata(&metadata())
        .private_key_jwt(key.clone())
        .assertion_audience(AssertionAudience::TokenEndpoint)
        .build()
        .unwrap();
    let at = now();
    let request = client.client_credentials().unwrap().request_at(at).unwrap();
    let (header, claims) = assertion(&request, verify_with(&key));
    assert_eq!(header["kid"], "client-key-1");
    check_claims(&claims, at, "https://as.example/token");

    // Without an issuer, the default audience is the token endpoint too.
    let client = Client::builder("app")
        .token_endpoint("https://as.example/token")
        .private_key_jwt(key.clone())
        .build()
        .unwrap();
    let request = client.client_credentials().unwrap().request_at(at).unwrap();
    check_claims(
        &assertion(&request, verify_with(&key)).1,
        at,
        "https://as.example/token",
    );
}

#[test]
fn client_secret_jwt_is_hs256_over_the_secret() {
    let client = Client::builder("app")
        .client_secret("a-long-enough-client-secret-of-32+bytes")
        .metadata(&metadata())
        .auth_method(ClientAuth::ClientSecretJwt)
        .build()
        .unwrap();
    let at = now();
    let request = client.client_credentials().unwrap().request_at(at).unwrap();
    let (header, claims) = assertion(&request, |jws| {
        jws.verify_hmac(
            b"a-long-enough-client-secret-of-32+bytes",
            &[Algorithm::HS256],
        )
        .unwrap()
        .to_vec()
    });
    assert_eq!(header, json!({"alg": "HS256", "typ": "JWT"}));
    check_claims(&claims, at, "https://as.example");
    // The secret itself is never sent.
    let body = String::from_utf8(request.body).unwrap();
    assert!(!body.contains("a-long-enough"));
    // A wrong secret does not verify.
    let form = form(body.as_bytes());
    let jws = Jws::parse(&form["client_assertion"]).unwrap();
    assert!(jws.verify_hmac(b"other", &[Algorithm::HS256]).is_err());
}

#[test]
fn every_client_authenticated_endpoint_carries_a_fresh_assertion() {
    let key = SigningKey::generate(Algorithm::ES256).unwrap();
    let client = jwt_client(&key);
    let at = now();
    let (_, pending) = client
        .authorization_code()
        .state(State::new("st"))
        .build()
        .unwrap();
    let code = pending
        .callback(
            &client,
            "http://127.0.0.1/cb?code=c&state=st&iss=https%3A%2F%2Fas.example",
        )
        .unwrap();
    let token = AccessToken::new("at");
    let requests = [
        ("code", code.request_at(at).unwrap()),
        (
            "refresh",
            client
                .refresh(&RefreshToken::new("rt"))
                .unwrap()
                .request_at(at)
                .unwrap(),
        ),
        (
            "client credentials",
            client.client_credentials().unwrap().request_at(at).unwrap(),
        ),
        (
            "PAR",
            client
                .authorization_code()
                .push()
                .unwrap()
                .request_at(at)
                .unwrap(),
        ),
        (
            "device authorization",
            client
                .device_authorization()
                .unwrap()
                .request_at(at)
                .unwrap(),
        ),
        (
            "revocation",
            client.revoke(&token).unwrap().request_at(at).unwrap(),
        ),
        (
            "introspection",
            client.introspect(&token).unwrap().request_at(at).unwrap(),
        ),
    ];
    let mut jtis = HashSet::new();
    for (what, request) in &requests {
        let (_, claims) = assertion(request, verify_with(&key));
        check_claims(&claims, at, "https://as.example");
        assert!(
            jtis.insert(claims["jti"].as_str().unwrap().to_owned()),
            "{what}"
        );
    }
}

#[test]
fn the_send_driver_makes_the_assertion_at_its_now_on_each_attempt() {
    let key = SigningKey::generate(Algorithm::EdDSA).unwrap();
    let client = jwt_client(&key);
    let mut driver = SendDriver::new(
        client.client_credentials().unwrap(),
        &TransportSettings::default(),
    )
    .with_jitter(0);
    let first = now();
    let Action::Send(request) = driver.next(first) else {
        panic!("a send")
    };
    let (_, claims) = assertion(&request, verify_with(&key));
    check_claims(&claims, first, "https://as.example");
    // A 503 is retried (client credentials are idempotent): a new assertion, later.
    driver.received(Ok(Response::json(503, "{}", first)), first);
    let wait = match driver.next(first) {
        Action::Sleep(wait) => wait,
        other => panic!("{other:?}"),
    };
    let second = first + wait + Duration::from_secs(2);
    let Action::Send(retry) = driver.next(second) else {
        panic!("a send")
    };
    let (_, again) = assertion(&retry, verify_with(&key));
    check_claims(&again, second, "https://as.example");
    assert_ne!(again["jti"], claims["jti"]);
}

#[test]
fn without_the_time_no_assertion_is_made() {
    let client = jwt_client(&SigningKey::generate(Algorithm::ES256).unwrap());
    match client.client_credentials().unwrap().request() {
        Err(Error::Config(ConfigError::InvalidParameter { name, .. })) => {
            assert_eq!(name, "client_assertion");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_servers_signing_algorithms_and_a_missing_key_are_checked_at_build() {
    let es256 = SigningKey::generate(Algorithm::ES256).unwrap();
    let build = |metadata: &ServerMetadata, auth: Option<&SigningKey>, secret: bool| {
        let mut builder = Client::builder("app").metadata(metadata);
        if secret {
            builder = builder
                .client_secret("s3cret")
                .auth_method(ClientAuth::ClientSecretJwt);
        }
        if let Some(key) = auth {
            builder = builder.private_key_jwt(key.clone());
        }
        builder.build()
    };
    assert!(build(&with_signing_algs(&["ES256", "RS256"]), Some(&es256), false).is_ok());
    assert!(matches!(
        build(&with_signing_algs(&["RS256"]), Some(&es256), false),
        Err(Error::Config(ConfigError::SigningKey(_)))
    ));
    assert!(build(&with_signing_algs(&["HS256"]), None, true).is_ok());
    assert!(matches!(
        build(&with_signing_algs(&["RS256"]), None, true),
        Err(Error::Config(ConfigError::SigningKey(_)))
    ));
    // private_key_jwt named without a key; client_secret_jwt without a secret.
    assert!(matches!(
        Client::builder("app")
            .metadata(&metadata())
            .auth_method(ClientAuth::PrivateKeyJwt)
            .build(),
        Err(Error::Config(ConfigError::SigningKey(_)))
    ));
    assert!(matches!(
        Client::builder("app")
            .metadata(&metadata())
            .auth_method(ClientAuth::ClientSecretJwt)
            .build(),
        Err(Error::Config(ConfigError::MissingClientSecret(
            "client_secret_jwt"
        )))
    ));
}
