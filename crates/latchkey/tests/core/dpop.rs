//! DPoP (RFC 9449) and the client's signing key: keys generated and read from PKCS#8 PEM,
//! their JWK and thumbprint, proofs claim by claim (verified with the public key by the
//! core's own JWS verification), `jti` uniqueness, and the send driver's nonce handling.

use std::collections::HashSet;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use latchkey::dpop::{DPOP_PROOF_TYP, ProofInput, asks_for_nonce, ath, htu};
use latchkey::drive::{Action, Drive, Headers, SendDriver, TransportSettings};
use latchkey::jose::{Algorithm, Jwk, Jws, SigningKey};
use latchkey::{ConfigError, Dpop, Error, Exchange, Method, Request, Response, RetryMode, Url};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::support::now;

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn url(text: &str) -> Url {
    Url::parse(text).unwrap()
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs()
}

/// One RSA key for the binary (generation is the slow part).
fn rsa_key(alg: Algorithm) -> SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    let key = KEY.get_or_init(|| SigningKey::generate(Algorithm::RS256).unwrap());
    match alg {
        Algorithm::RS256 => key.clone(),
        // The same RSA key, to sign PS256: through its PEM.
        _ => {
            use rsa::pkcs8::EncodePrivateKey as _;
            let pem = rsa_private()
                .to_pkcs8_pem(rsa::pkcs8::LineEnding::LF)
                .unwrap();
            SigningKey::from_pkcs8_pem(&pem, alg).unwrap()
        }
    }
}

/// An RSA private key made by the `rsa` crate itself, for the PEM tests.
fn rsa_private() -> &'static rsa::PrivateKey {
    use rsa::Generate as _;
    static KEY: OnceLock<rsa::PrivateKey> = OnceLock::new();
    KEY.get_or_init(rsa::PrivateKey::generate)
}

fn key(alg: Algorithm) -> SigningKey {
    match alg {
        Algorithm::RS256 | Algorithm::PS256 => rsa_key(alg),
        _ => SigningKey::generate(alg).unwrap(),
    }
}

/// Parses a compact JWS, verifies it with `public` and returns its header and claims.
fn verified(jws: &str, public: &Value) -> (Value, Value) {
    let parsed = Jws::parse(jws).unwrap();
    let jwk = Jwk::from_json(public).expect("a usable public JWK");
    parsed.verify_key(&jwk).unwrap();
    let mut parts = jws.split('.');
    let header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap()).unwrap();
    let claims = serde_json::from_slice(parsed.unverified_payload()).unwrap();
    (header, claims)
}

const ALGS: [Algorithm; 4] = [
    Algorithm::ES256,
    Algorithm::EdDSA,
    Algorithm::RS256,
    Algorithm::PS256,
];

#[test]
fn every_algorithm_signs_and_the_public_jwk_verifies() {
    for alg in ALGS {
        let key = key(alg);
        assert_eq!(key.algorithm(), alg);
        let claims = json!({"iss": "me", "n": 1});
        let jws = key.sign(serde_json::Map::new(), &claims).unwrap();
        let (header, read) = verified(&jws, &key.public_jwk());
        assert_eq!(header, json!({"alg": alg.as_str()}), "{alg}");
        assert_eq!(read, claims);
        // A flipped signature byte fails.
        let mut bad = jws.clone().into_bytes();
        let last = bad.len() - 3;
        bad[last] = if bad[last] == b'A' { b'B' } else { b'A' };
        let bad = String::from_utf8(bad).unwrap();
        let jwk = Jwk::from_json(&key.public_jwk()).unwrap();
        assert!(Jws::parse(&bad).unwrap().verify_key(&jwk).is_err(), "{alg}");
    }
}

#[test]
fn the_public_jwk_has_only_required_members_and_the_thumbprint_is_rfc_7638() {
    for alg in ALGS {
        let key = key(alg);
        let jwk = key.public_jwk();
        let object = jwk.as_object().unwrap();
        let members: Vec<&str> = object.keys().map(String::as_str).collect();
        let canonical = match alg {
            Algorithm::ES256 => {
                assert_eq!(members, ["crv", "kty", "x", "y"]);
                format!(
                    r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
                    jwk["x"].as_str().unwrap(),
                    jwk["y"].as_str().unwrap()
                )
            }
            Algorithm::EdDSA => {
                assert_eq!(members, ["crv", "kty", "x"]);
                format!(
                    r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
                    jwk["x"].as_str().unwrap()
                )
            }
            _ => {
                assert_eq!(members, ["e", "kty", "n"]);
                assert_eq!(jwk["e"], "AQAB");
                format!(
                    r#"{{"e":"AQAB","kty":"RSA","n":"{}"}}"#,
                    jwk["n"].as_str().unwrap()
                )
            }
        };
        assert_eq!(key.thumbprint(), b64(&Sha256::digest(canonical.as_bytes())));
        assert_eq!(key.thumbprint().len(), 43);
    }
}

#[test]
fn keys_are_read_from_pkcs8_pem_and_refused_when_they_do_not_fit() {
    use ed25519_dalek::pkcs8::EncodePrivateKey as _;
    let lf = p256::pkcs8::LineEnding::LF;

    let p256_key = {
        use p256::elliptic_curve::Generate as _;
        p256::ecdsa::SigningKey::generate()
    };
    let p256_pem = p256_key.to_pkcs8_pem(lf).unwrap();
    let read = SigningKey::from_pkcs8_pem(&p256_pem, Algorithm::ES256).unwrap();
    let point = p256_key.verifying_key().to_sec1_point(false);
    assert_eq!(read.public_jwk()["x"], b64(&point.as_bytes()[1..33]));

    let seed = [7u8; 32];
    let ed_key = ed25519_dalek::SigningKey::from_bytes(&seed);
    let ed_pem = ed_key.to_pkcs8_pem(lf).unwrap();
    let read = SigningKey::from_pkcs8_pem(&ed_pem, Algorithm::EdDSA).unwrap();
    assert_eq!(
        read.public_jwk()["x"],
        b64(ed_key.verifying_key().as_bytes())
    );

    let rsa_pem = {
        use rsa::pkcs8::EncodePrivateKey as _;
        rsa_private().to_pkcs8_pem(lf).unwrap()
    };
    let read = SigningKey::from_pkcs8_pem(&rsa_pem, Algorithm::RS256).unwrap();
    assert_eq!(read.public_jwk()["kty"], "RSA");

    // A key of another type than the algorithm wants, garbage, an HMAC algorithm.
    let refused = |pem: &str, alg| match SigningKey::from_pkcs8_pem(pem, alg) {
        Err(Error::Config(ConfigError::SigningKey(why))) => why,
        other => panic!("{other:?}"),
    };
    refused(&p256_pem, Algorithm::EdDSA);
    refused(&ed_pem, Algorithm::ES256);
    refused(&rsa_pem, Algorithm::ES256);
    refused(
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        Algorithm::ES256,
    );
    refused(&p256_pem, Algorithm::HS256);
    assert!(matches!(
        SigningKey::generate(Algorithm::ES384),
        Err(Error::Config(ConfigError::SigningKey(_)))
    ));

    // The error never quotes the PEM, and Debug never shows the private key.
    let why = refused(&p256_pem, Algorithm::EdDSA);
    assert!(!why.contains("PRIVATE"));
    let debug = format!("{read:?}");
    assert!(debug.contains("RS256") && debug.contains("jkt"), "{debug}");
    let p256_secret = b64(&p256_key.to_bytes());
    let debug = format!(
        "{:?}",
        SigningKey::from_pkcs8_pem(&p256_pem, Algorithm::ES256).unwrap()
    );
    assert!(!debug.contains(&p256_secret), "{debug}");
}

#[test]
fn a_kid_goes_in_the_header_of_signed_tokens_but_never_in_a_dpop_proof() {
    let key = SigningKey::generate(Algorithm::ES256)
        .unwrap()
        .with_kid("k1");
    assert_eq!(key.kid(), Some("k1"));
    let jws = key.sign(serde_json::Map::new(), &json!({})).unwrap();
    let (header, _) = verified(&jws, &key.public_jwk());
    assert_eq!(header["kid"], "k1");

    let dpop = Dpop::new(key.clone());
    let target = url("https://as.example/token");
    let proof = dpop.proof(&Method::Post, &target, now(), None).unwrap();
    let (header, _) = verified(&proof, &key.public_jwk());
    assert!(header.get("kid").is_none(), "{header}");
}

#[test]
fn a_proof_carries_each_claim() {
    for alg in ALGS {
        let key = key(alg);
        let dpop = Dpop::new(key.clone());
        assert_eq!(dpop.jkt(), key.thumbprint());
        let at = now();
        let target = url("https://as.example/token");
        let proof = dpop.proof(&Method::Post, &target, at, None).unwrap();
        let (header, claims) = verified(&proof, &key.public_jwk());
        assert_eq!(header["typ"], DPOP_PROOF_TYP);
        assert_eq!(header["alg"], alg.as_str());
        assert_eq!(header["jwk"], key.public_jwk());
        assert!(header["jwk"].get("d").is_none());
        let object = claims.as_object().unwrap();
        let mut names: Vec<&str> = object.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["htm", "htu", "iat", "jti"], "{alg}");
        assert_eq!(claims["htm"], "POST");
        assert_eq!(claims["htu"], "https://as.example/token");
        assert_eq!(claims["iat"], secs(at));
        // 16 random bytes, base64url.
        assert_eq!(claims["jti"].as_str().unwrap().len(), 22);
    }
}

#[test]
fn htu_drops_query_and_fragment_and_is_normalized() {
    for (given, expected) in [
        ("https://as.example/token", "https://as.example/token"),
        (
            "https://as.example/token?x=1&y=2",
            "https://as.example/token",
        ),
        ("https://as.example/token#frag", "https://as.example/token"),
        (
            "https://AS.Example:443/token?x=1#f",
            "https://as.example/token",
        ),
        ("HTTPS://as.example", "https://as.example/"),
        (
            "https://as.example:8443/a/b/../c",
            "https://as.example:8443/a/c",
        ),
        (
            "http://127.0.0.1:80/userinfo?schema=openid",
            "http://127.0.0.1/userinfo",
        ),
    ] {
        assert_eq!(htu(&url(given)), expected, "{given}");
        let dpop = Dpop::new(SigningKey::generate(Algorithm::ES256).unwrap());
        let proof = dpop.proof(&Method::Get, &url(given), now(), None).unwrap();
        let (_, claims) = verified(&proof, &dpop.key().public_jwk());
        assert_eq!(claims["htu"], expected);
        assert_eq!(claims["htm"], "GET");
    }
}

#[test]
fn ath_is_the_base64url_sha256_of_the_access_token() {
    // RFC 9449 §7.1's example: the token and its `ath`.
    let token = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU";
    assert_eq!(ath(token), "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo");
    let dpop = Dpop::new(SigningKey::generate(Algorithm::ES256).unwrap());
    let target = url("https://rs.example/resource?page=2");
    let proof = dpop
        .proof(&Method::Get, &target, now(), Some(token))
        .unwrap();
    let (_, claims) = verified(&proof, &dpop.key().public_jwk());
    assert_eq!(claims["ath"], "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo");
    assert_eq!(claims["htu"], "https://rs.example/resource");
}

#[test]
fn proof_with_takes_every_input() {
    let dpop = Dpop::new(SigningKey::generate(Algorithm::EdDSA).unwrap());
    let target = url("https://as.example/par");
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let proof = dpop
        .proof_with(
            &ProofInput::new("POST", &target, at, "jti-1")
                .nonce("n-1")
                .access_token("tok"),
        )
        .unwrap();
    let (_, claims) = verified(&proof, &dpop.key().public_jwk());
    assert_eq!(
        claims,
        json!({"jti": "jti-1", "htm": "POST", "htu": "https://as.example/par",
               "iat": 1_700_000_000u64, "nonce": "n-1", "ath": ath("tok")})
    );
}

#[test]
fn jti_is_unique_over_100_000_proofs() {
    let dpop = Dpop::new(SigningKey::generate(Algorithm::ES256).unwrap());
    let target = url("https://as.example/token");
    let at = now();
    // Four threads of 25,000 proofs each, from one shared `Dpop` (as a client's tasks would).
    let jtis: Vec<Vec<String>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    (0..25_000)
                        .map(|_| {
                            let proof = dpop.proof(&Method::Post, &target, at, None).unwrap();
                            let payload = proof.split('.').nth(1).unwrap();
                            let claims: Value =
                                serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap())
                                    .unwrap();
                            claims["jti"].as_str().unwrap().to_owned()
                        })
                        .collect()
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let seen: HashSet<&String> = jtis.iter().flatten().collect();
    assert_eq!(seen.len(), 100_000);
}

#[test]
fn nonces_are_kept_per_origin_and_replaced_by_fresh_ones() {
    let dpop = Dpop::new(SigningKey::generate(Algorithm::ES256).unwrap());
    let a = url("https://as.example/token");
    let a_other_path = url("https://as.example:443/par?x=1");
    let b = url("https://rs.example/data");
    assert_eq!(dpop.nonce(&a), None);
    let answer = |nonce: &str| {
        let mut headers = Headers::new();
        headers.insert("DPoP-Nonce", nonce);
        Response::new(200, headers, b"{}".to_vec(), now())
    };
    assert!(dpop.remember(&a, &answer("n1")));
    assert_eq!(dpop.nonce(&a_other_path).as_deref(), Some("n1"));
    assert_eq!(dpop.nonce(&b), None);
    assert!(dpop.remember(&a, &answer("n2")));
    assert_eq!(dpop.nonce(&a).as_deref(), Some("n2"));
    // Unusable values are not kept: empty, a space, a quote.
    for bad in ["", "a b", "a\"b"] {
        assert!(!dpop.remember(&a, &answer(bad)));
    }
    assert_eq!(dpop.nonce(&a).as_deref(), Some("n2"));
    // Clones share the nonces; the proof carries the origin's.
    let clone = dpop.clone();
    clone.set_nonce(&b, "rs-1");
    assert_eq!(dpop.nonce(&b).as_deref(), Some("rs-1"));
    let proof = dpop.proof(&Method::Get, &b, now(), None).unwrap();
    let (_, claims) = verified(&proof, &dpop.key().public_jwk());
    assert_eq!(claims["nonce"], "rs-1");
}

fn use_dpop_nonce(status: u16, nonce: Option<&str>) -> Response {
    let mut headers = Headers::new();
    if let Some(nonce) = nonce {
        headers.insert("DPoP-Nonce", nonce);
    }
    let body = if status == 400 {
        br#"{"error":"use_dpop_nonce","error_description":"Authorization server requires nonce in DPoP proof"}"#.to_vec()
    } else {
        headers.insert(
            "WWW-Authenticate",
            r#"DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof""#,
        );
        Vec::new()
    };
    Response::new(status, headers, body, now())
}

#[test]
fn asks_for_nonce_needs_the_error_and_a_nonce() {
    assert!(asks_for_nonce(&use_dpop_nonce(400, Some("n"))));
    assert!(asks_for_nonce(&use_dpop_nonce(401, Some("n"))));
    assert!(!asks_for_nonce(&use_dpop_nonce(400, None)));
    assert!(!asks_for_nonce(&use_dpop_nonce(401, None)));
    let mut headers = Headers::new();
    headers.insert("DPoP-Nonce", "n");
    let other = Response::new(
        400,
        headers.clone(),
        br#"{"error":"invalid_grant"}"#.to_vec(),
        now(),
    );
    assert!(!asks_for_nonce(&other));
    let server_error = Response::new(
        500,
        headers,
        br#"{"error":"use_dpop_nonce"}"#.to_vec(),
        now(),
    );
    assert!(!asks_for_nonce(&server_error));
}

/// A step sent with DPoP that hands back whatever answer came (a code exchange's request is
/// never retried otherwise: `RetryMode::ConnectFailureOnly`).
struct Probe {
    dpop: Dpop,
    request: Request,
}

impl Exchange for Probe {
    type Output = Response;

    fn request(&self) -> Result<Request, Error> {
        Ok(self.request.clone())
    }

    fn response(self, response: Response) -> Result<Response, Error> {
        Ok(response)
    }

    fn dpop(&self) -> Option<&Dpop> {
        Some(&self.dpop)
    }
}

fn probe(dpop: &Dpop, target: &str, token: Option<&str>) -> Probe {
    let mut request = Request::new(Method::Post, url(target), RetryMode::ConnectFailureOnly);
    if let Some(token) = token {
        request
            .headers
            .insert("Authorization", format!("DPoP {token}"));
    }
    Probe {
        dpop: dpop.clone(),
        request,
    }
}

/// The claims of the proof on a sent request (verified).
fn sent_proof(request: &Request, dpop: &Dpop) -> Value {
    assert_eq!(request.headers.get_all("dpop").count(), 1);
    let proof = request.headers.get("dpop").expect("a DPoP header");
    verified(proof, &dpop.key().public_jwk()).1
}

fn send(driver: &mut SendDriver<Probe>, at: SystemTime) -> Request {
    match driver.next(at) {
        Action::Send(request) => request,
        other => panic!("expected a send, got {other:?}"),
    }
}

#[test]
fn use_dpop_nonce_is_retried_once_with_the_nonce_and_never_twice() {
    for status in [400, 401] {
        let dpop = Dpop::new(SigningKey::generate(Algorithm::ES256).unwrap());
        let token = (status == 401).then_some("at-1");
        let mut driver = SendDriver::new(
            probe(&dpop, "https://as.example/token", token),
            &TransportSettings::default(),
        );
        let at = now();
        let first = send(&mut driver, at);
        let claims = sent_proof(&first, &dpop);
        assert!(claims.get("nonce").is_none());
        assert_eq!(claims.get("ath").is_some(), token.is_some());
        driver.received(Ok(use_dpop_nonce(status, Some("n-1"))), at);

        // At once, with the nonce and a new jti.
        let second = send(&mut driver, at);
        let retried = sent_proof(&second, &dpop);
        assert_eq!(retried["nonce"], "n-1");
        assert_ne!(retried["jti"], claims["jti"]);
        assert_eq!(driver.attempts(), 2);

        // A second use_dpop_nonce is the answer: no third attempt.
        driver.received(Ok(use_dpop_nonce(status, Some("n-2"))), at);
        match driver.next(at) {
            Action::Done(Ok(answer)) => assert_eq!(answer.status, status),
            other => panic!("{other:?}"),
        }
        assert_eq!(driver.attempts(), 2);
        // The fresher nonce is still remembered.
        assert_eq!(
            dpop.nonce(&url("https://as.example/")).as_deref(),
            Some("n-2")
        );
    }
}

#[test]
fn any_other_answer_is_not_retried_and_its_nonce_is_remembered() {
    let dpop = Dpop::new(SigningKey::generate(Algorithm::ES256).unwrap());
    let at = now();
    let mut headers = Headers::new();
    headers.insert("DPoP-Nonce", "fresh");
    for answer in [
        Response::new(
            400,
            headers.clone(),
            br#"{"error":"invalid_grant"}"#.to_vec(),
            at,
        ),
        Response::new(
            401,
            headers.clone(),
            br#"{"error":"invalid_client"}"#.to_vec(),
            at,
        ),
        // use_dpop_nonce without a nonce to use.
        use_dpop_nonce(400, None),
        Response::new(200, headers.clone(), br#"{}"#.to_vec(), at),
    ] {
        let status = answer.status;
        let mut driver = SendDriver::new(
            probe(&dpop, "https://as.example/token", None),
            &TransportSettings::default(),
        );
        let _ = send(&mut driver, at);
        driver.received(Ok(answer), at);
        match driver.next(at) {
            Action::Done(Ok(answer)) => assert_eq!(answer.status, status),
            other => panic!("{other:?}"),
        }
        assert_eq!(driver.attempts(), 1);
    }
    assert_eq!(
        dpop.nonce(&url("https://as.example/x")).as_deref(),
        Some("fresh")
    );
    // The next step starts with it.
    let mut driver = SendDriver::new(
        probe(&dpop, "https://as.example/token", None),
        &TransportSettings::default(),
    );
    assert_eq!(sent_proof(&send(&mut driver, at), &dpop)["nonce"], "fresh");
}

#[test]
fn a_step_without_dpop_sends_no_proof() {
    let request = Request::new(
        Method::Post,
        url("https://as.example/token"),
        RetryMode::Idempotent,
    );
    let mut driver = SendDriver::new(request, &TransportSettings::default());
    match driver.next(now()) {
        Action::Send(sent) => assert!(sent.headers.get("dpop").is_none()),
        other => panic!("{other:?}"),
    }
    driver.received(Ok(use_dpop_nonce(400, Some("n"))), now());
    assert!(matches!(driver.next(now()), Action::Done(Ok(_))));
}

// The client with DPoP on: every request kind, `dpop_jkt`, the downgrade refusal and the
// code exchange's nonce retry.

fn dpop_client(dpop: &Dpop) -> latchkey::Client {
    latchkey::Client::builder("app")
        .client_secret("s3cret")
        .metadata(&crate::support::metadata())
        .redirect_uri("http://127.0.0.1/cb")
        .dpop(dpop.clone())
        .build()
        .unwrap()
}

fn es256() -> Dpop {
    Dpop::new(SigningKey::generate(Algorithm::ES256).unwrap())
}

fn token_answer(token_type: &str, nonce: Option<&str>) -> Response {
    let mut headers = Headers::new();
    headers.insert("content-type", "application/json");
    if let Some(nonce) = nonce {
        headers.insert("DPoP-Nonce", nonce);
    }
    let body = format!(
        r#"{{"access_token":"at-1","token_type":"{token_type}","expires_in":60,"refresh_token":"rt-1"}}"#
    );
    Response::new(200, headers, body.into_bytes(), now())
}

/// Drives `exchange` through the send driver, answering each request with the next of
/// `answers`; returns the requests sent and the outcome.
fn drive<E: Exchange>(
    exchange: E,
    answers: Vec<Response>,
) -> (Vec<Request>, Result<E::Output, Error>)
where
    E::Output: std::fmt::Debug,
{
    let mut driver = SendDriver::new(exchange, &TransportSettings::default());
    let mut answers = answers.into_iter();
    let mut sent = Vec::new();
    loop {
        match driver.next(now()) {
            Action::Send(request) => {
                sent.push(request);
                driver.received(Ok(answers.next().expect("an answer per request")), now());
            }
            Action::Sleep(_) => {}
            Action::Done(outcome) => return (sent, outcome),
        }
    }
}

#[test]
fn the_authorization_request_and_par_carry_dpop_jkt() {
    let dpop = es256();
    let client = dpop_client(&dpop);
    let (url, _) = client.authorization_code().build().unwrap();
    let query = crate::support::query(url.as_str());
    assert_eq!(query["dpop_jkt"], dpop.jkt());

    let push = client.authorization_code().push().unwrap();
    let (sent, _) = drive(
        push,
        vec![Response::json(
            201,
            r#"{"request_uri":"urn:x","expires_in":60}"#,
            now(),
        )],
    );
    let form = crate::support::form(&sent[0].body);
    assert_eq!(form["dpop_jkt"], dpop.jkt());
    let claims = sent_proof(&sent[0], &dpop);
    assert_eq!(claims["htm"], "POST");
    assert_eq!(claims["htu"], "https://as.example/request");

    // Without DPoP: no dpop_jkt.
    let plain = crate::support::discovered_client();
    let (url, _) = plain.authorization_code().build().unwrap();
    assert!(!url.as_str().contains("dpop_jkt"));
}

#[test]
fn token_requests_carry_a_proof_and_a_dpop_answer_is_accepted() {
    let dpop = es256();
    let client = dpop_client(&dpop);
    let refresh_token = latchkey::RefreshToken::new("rt-0");
    let (sent, tokens) = drive(
        client.client_credentials().unwrap(),
        vec![token_answer("DPoP", Some("n-cc"))],
    );
    assert_eq!(*tokens.unwrap().token_type(), latchkey::TokenType::DPoP);
    let claims = sent_proof(&sent[0], &dpop);
    assert_eq!(claims["htu"], "https://as.example/token");
    assert!(claims.get("ath").is_none());
    // The answer's nonce is used by the next request to that origin.
    let (sent, tokens) = drive(
        client.refresh(&refresh_token).unwrap(),
        vec![token_answer("DPoP", None)],
    );
    assert!(tokens.is_ok());
    assert_eq!(sent_proof(&sent[0], &dpop)["nonce"], "n-cc");
    assert_eq!(
        crate::support::form(&sent[0].body)["grant_type"],
        "refresh_token"
    );
}

#[test]
fn a_bearer_answer_is_refused_as_a_downgrade() {
    let dpop = es256();
    let client = dpop_client(&dpop);
    for outcome in [
        drive(
            client.client_credentials().unwrap(),
            vec![token_answer("Bearer", None)],
        )
        .1
        .map(drop),
        drive(
            client.refresh(&latchkey::RefreshToken::new("rt")).unwrap(),
            vec![token_answer("bearer", None)],
        )
        .1
        .map(drop),
    ] {
        assert_eq!(
            outcome.unwrap_err(),
            Error::Response(latchkey::ResponseError::DpopDowngrade)
        );
    }
    // Without DPoP a Bearer answer is fine.
    let plain = crate::support::discovered_client();
    let (_, tokens) = drive(
        plain.client_credentials().unwrap(),
        vec![token_answer("Bearer", None)],
    );
    assert!(tokens.is_ok());
}

fn code_exchange(client: &latchkey::Client) -> latchkey::CodeExchange {
    let (url, pending) = client
        .authorization_code()
        .state(latchkey::State::new("st"))
        .build()
        .unwrap();
    let _ = url;
    pending
        .callback(
            client,
            "http://127.0.0.1/cb?code=c&state=st&iss=https%3A%2F%2Fas.example",
        )
        .unwrap()
}

#[test]
fn a_code_exchange_is_sent_again_once_for_use_dpop_nonce_and_never_for_anything_else() {
    let dpop = es256();
    let client = dpop_client(&dpop);

    // use_dpop_nonce, then the tokens: two sends, the second with the nonce.
    let (sent, tokens) = drive(
        code_exchange(&client),
        vec![use_dpop_nonce(400, Some("n-1")), token_answer("DPoP", None)],
    );
    assert!(tokens.is_ok(), "{tokens:?}");
    assert_eq!(sent.len(), 2);
    assert!(sent_proof(&sent[0], &dpop).get("nonce").is_none());
    assert_eq!(sent_proof(&sent[1], &dpop)["nonce"], "n-1");
    assert_eq!(sent[0].body, sent[1].body);

    // use_dpop_nonce twice: the second is the answer (the server's error).
    let (sent, outcome) = drive(
        code_exchange(&client),
        vec![
            use_dpop_nonce(400, Some("n-2")),
            use_dpop_nonce(400, Some("n-3")),
        ],
    );
    assert_eq!(sent.len(), 2);
    match outcome {
        Err(Error::Server(error)) => assert_eq!(error.code.as_str(), "use_dpop_nonce"),
        other => panic!("{other:?}"),
    }

    // Any other answer: one send, whatever nonce it carries.
    for answer in [
        Response::json(400, r#"{"error":"invalid_grant"}"#, now()),
        {
            let mut headers = Headers::new();
            headers.insert("DPoP-Nonce", "n-4");
            Response::new(
                400,
                headers,
                br#"{"error":"invalid_dpop_proof"}"#.to_vec(),
                now(),
            )
        },
        Response::json(500, "oops", now()),
    ] {
        let (sent, outcome) = drive(code_exchange(&client), vec![answer]);
        assert_eq!(sent.len(), 1);
        assert!(outcome.is_err());
    }
    assert_eq!(
        dpop.nonce(&url("https://as.example/")).as_deref(),
        Some("n-4")
    );
}

#[test]
fn userinfo_sends_the_token_as_dpop_with_ath_and_retries_a_resource_nonce_once() {
    let dpop = es256();
    let client = dpop_client(&dpop);
    let token = latchkey::AccessToken::new("at-1");
    let (sent, claims) = drive(
        client.userinfo(&token).unwrap(),
        vec![
            use_dpop_nonce(401, Some("rs-1")),
            Response::json(200, r#"{"sub":"u1"}"#, now()),
        ],
    );
    assert_eq!(claims.unwrap()["sub"], "u1");
    assert_eq!(sent.len(), 2);
    for request in &sent {
        assert_eq!(request.headers.get("authorization"), Some("DPoP at-1"));
        let proof = sent_proof(request, &dpop);
        assert_eq!(proof["htm"], "GET");
        assert_eq!(proof["htu"], "https://as.example/me");
        assert_eq!(proof["ath"], ath("at-1"));
    }
    assert_eq!(sent_proof(&sent[1], &dpop)["nonce"], "rs-1");
}

#[test]
fn a_device_poll_carries_a_proof_at_its_time_and_waits_for_a_nonce() {
    let dpop = es256();
    let client = dpop_client(&dpop);
    let authorization = client
        .device_authorization()
        .unwrap()
        .response(Response::json(
            200,
            r#"{"device_code":"dc","user_code":"U","verification_uri":"https://as.example/d","expires_in":600,"interval":5}"#,
            now(),
        ))
        .unwrap();
    let mut poll = authorization.poller(&client).unwrap();
    let at = now() + Duration::from_secs(5);
    let request = poll.request(at).unwrap();
    let claims = sent_proof(&request, &dpop);
    assert_eq!(claims["iat"], secs(at));
    assert_eq!(claims["htu"], "https://as.example/token");
    assert!(matches!(
        poll.handle(use_dpop_nonce(400, Some("dn"))).unwrap(),
        latchkey::Poll::Pending
    ));
    let request = poll.request(at + Duration::from_secs(5)).unwrap();
    assert_eq!(sent_proof(&request, &dpop)["nonce"], "dn");
    assert!(matches!(
        poll.handle(token_answer("Bearer", None)),
        Err(Error::Response(latchkey::ResponseError::DpopDowngrade))
    ));
}

#[test]
fn a_bound_resource_request_carries_the_token_as_dpop_and_answers_a_nonce_once() {
    let dpop = es256();
    let resource = Request::new(
        Method::Get,
        url("https://rs.example/data?page=2"),
        RetryMode::Idempotent,
    );
    let bound = dpop.bind(&resource, &latchkey::AccessToken::new("at-9"));
    let (sent, answer) = drive(
        bound,
        vec![
            use_dpop_nonce(401, Some("rs-n")),
            use_dpop_nonce(401, Some("rs-n2")),
        ],
    );
    // Two sends, never three; the second answer is handed back.
    assert_eq!(sent.len(), 2);
    assert_eq!(answer.unwrap().status, 401);
    for request in &sent {
        assert_eq!(request.headers.get("authorization"), Some("DPoP at-9"));
        assert!(!request.follow_redirects);
        let claims = sent_proof(request, &dpop);
        assert_eq!(claims["htm"], "GET");
        assert_eq!(claims["htu"], "https://rs.example/data");
        assert_eq!(claims["ath"], ath("at-9"));
    }
    assert_eq!(sent_proof(&sent[1], &dpop)["nonce"], "rs-n");
    assert_eq!(
        dpop.nonce(&url("https://rs.example/")).as_deref(),
        Some("rs-n2")
    );
}

// The key kept with the tokens bound to it, a token manager adopting it, and the resource
// requests a token manager (or another HTTP stack) sends.

#[test]
fn tokens_keep_their_dpop_key_and_a_store_round_trip_brings_it_back() {
    for alg in ALGS {
        let dpop = Dpop::new(key(alg).with_kid("k1"));
        let client = dpop_client(&dpop);
        let (_, tokens) = drive(
            client.client_credentials().unwrap(),
            vec![token_answer("DPoP", None)],
        );
        let tokens = tokens.unwrap();
        let kept = tokens.dpop_key().expect("the key is kept with DPoP tokens");
        assert_eq!(kept.thumbprint(), dpop.jkt(), "{alg}");

        let stored = serde_json::to_string(&tokens).unwrap();
        assert!(stored.contains("BEGIN PRIVATE KEY"), "{alg}");
        let back: latchkey::TokenSet = serde_json::from_str(&stored).unwrap();
        let back_key = back.dpop_key().unwrap();
        assert_eq!(back_key.thumbprint(), dpop.jkt(), "{alg}");
        assert_eq!(back_key.algorithm(), alg);
        assert_eq!(back_key.kid(), Some("k1"));
        // The key read back signs proofs the original public key verifies.
        let proof = Dpop::new(back_key.clone())
            .proof(&Method::Get, &url("https://rs.example/"), now(), Some("at"))
            .unwrap();
        verified(&proof, &dpop.key().public_jwk());
        // Debug never shows the private key.
        let debug = format!("{back:?}");
        assert!(!debug.contains("PRIVATE"), "{debug}");
        let pem = back_key.to_pkcs8_pem().unwrap();
        let body: String = pem
            .expose_secret()
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        assert!(!debug.contains(&body[..20]), "{debug}");
        assert_eq!(format!("{pem:?}"), "PrivateKeyPem(<redacted>)");
    }
    // Bearer tokens carry no key, and write none.
    let (_, tokens) = drive(
        crate::support::discovered_client()
            .client_credentials()
            .unwrap(),
        vec![token_answer("Bearer", None)],
    );
    let tokens = tokens.unwrap();
    assert!(tokens.dpop_key().is_none());
    assert!(!serde_json::to_string(&tokens).unwrap().contains("dpop_key"));
}

#[test]
fn a_stored_key_that_cannot_be_read_is_an_error_that_quotes_nothing() {
    let bad = r#"{"access_token":"a","token_type":"DPoP","dpop_key":{"alg":"ES256","pkcs8":"-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWJ5dGVz\n-----END PRIVATE KEY-----\n"}}"#;
    let error = serde_json::from_str::<latchkey::TokenSet>(bad)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("dpop_key: not a usable PKCS#8 private key"),
        "{error}"
    );
    assert!(!error.contains("c2VjcmV0"), "{error}");
    let wrong_alg =
        r#"{"access_token":"a","token_type":"DPoP","dpop_key":{"alg":"none","pkcs8":"x"}}"#;
    assert!(serde_json::from_str::<latchkey::TokenSet>(wrong_alg).is_err());
}

#[test]
fn adopt_replaces_the_key_in_every_clone_and_keeps_the_nonces() {
    let dpop = es256();
    let clone = dpop.clone();
    dpop.set_nonce(&url("https://as.example/token"), "n-1");
    let other = SigningKey::generate(Algorithm::EdDSA).unwrap();
    assert!(clone.adopt(&other));
    assert!(!clone.adopt(&other), "the same key again changes nothing");
    assert_eq!(dpop.jkt(), other.thumbprint());
    assert_eq!(dpop.key().algorithm(), Algorithm::EdDSA);
    let proof = dpop
        .proof(&Method::Post, &url("https://as.example/token"), now(), None)
        .unwrap();
    let (header, claims) = verified(&proof, &other.public_jwk());
    assert_eq!(header["jwk"], other.public_jwk());
    assert_eq!(claims["nonce"], "n-1");
}

#[test]
fn a_token_manager_adopts_the_key_its_stored_tokens_are_bound_to() {
    use latchkey::manage::{TokenKeeper, TokenManagerBuilder};
    use latchkey::{Lifecycle, TokenSource};

    let configured = es256();
    let client = dpop_client(&configured);
    // Tokens another process obtained with its own key, as the store holds them.
    let theirs = SigningKey::generate(Algorithm::ES256).unwrap();
    let stored = latchkey::TokenSet::new(
        latchkey::AccessToken::new("at-theirs"),
        latchkey::TokenType::DPoP,
    )
    .with_refresh_token(Some(latchkey::RefreshToken::new("rt-theirs")))
    .with_dpop_key(Some(theirs.clone()));
    let stored: latchkey::TokenSet =
        serde_json::from_str(&serde_json::to_string(&stored).unwrap()).unwrap();

    struct Keep(Option<TokenKeeper>);
    impl latchkey::manage::ManagedTransport for &mut Keep {
        type Manager = ();
        fn manage(self, keeper: TokenKeeper) {
            self.0 = Some(keeper);
        }
    }
    let mut kept = Keep(None);
    TokenManagerBuilder::new(&mut kept, Lifecycle::new(client.clone(), TokenSource::User))
        .store(latchkey::MemoryStore::new())
        .tokens(stored)
        .resource_origin("https://rs.example")
        .build()
        .unwrap();
    let keeper = kept.0.unwrap();
    assert_eq!(
        configured.jkt(),
        theirs.thumbprint(),
        "the client now proves their key"
    );
    assert_eq!(keeper.dpop().unwrap().jkt(), theirs.thumbprint());

    // The keeper's resource request: DPoP with a proof of the adopted key.
    let resource = Request::new(
        Method::Post,
        url("https://rs.example/items?x=1"),
        RetryMode::ConnectFailureOnly,
    );
    let authorized = keeper.authorized(&resource, &latchkey::AccessToken::new("at-theirs"));
    let (sent, answer) = drive(authorized, vec![Response::json(200, "{}", now())]);
    assert_eq!(answer.unwrap().status, 200);
    assert_eq!(sent[0].headers.get("authorization"), Some("DPoP at-theirs"));
    let (header, claims) = verified(sent[0].headers.get("dpop").unwrap(), &theirs.public_jwk());
    assert_eq!(header["jwk"], theirs.public_jwk());
    assert_eq!(claims["htm"], "POST");
    assert_eq!(claims["htu"], "https://rs.example/items");
    assert_eq!(claims["ath"], ath("at-theirs"));
    // A refresh proves the adopted key too.
    let (sent, _) = drive(
        client
            .refresh(&latchkey::RefreshToken::new("rt-theirs"))
            .unwrap(),
        vec![token_answer("DPoP", None)],
    );
    verified(sent[0].headers.get("dpop").unwrap(), &theirs.public_jwk());
}

#[test]
fn without_dpop_the_keeper_sends_bearer_and_no_proof() {
    use latchkey::manage::TokenKeeper;
    use latchkey::{Lifecycle, TokenSource};
    let keeper = TokenKeeper::new(Lifecycle::new(
        crate::support::discovered_client(),
        TokenSource::User,
    ));
    assert!(keeper.dpop().is_none());
    let resource = Request::new(
        Method::Get,
        url("https://rs.example/"),
        RetryMode::Idempotent,
    );
    let (sent, _) = drive(
        keeper.authorized(&resource, &latchkey::AccessToken::new("at-b")),
        vec![Response::json(200, "{}", now())],
    );
    assert_eq!(sent[0].headers.get("authorization"), Some("Bearer at-b"));
    assert!(sent[0].headers.get("dpop").is_none());
    assert!(!sent[0].follow_redirects);
}

#[test]
fn another_stacks_answers_remember_nonces_and_ask_for_one_retry() {
    let dpop = es256();
    let rs = url("https://rs.example/data?q=1");
    let challenge = [r#"DPoP error="use_dpop_nonce", error_description="fresh nonce""#];
    assert!(dpop.answered(&rs, 401, challenge, Some("rs-1")));
    assert_eq!(dpop.nonce(&rs).as_deref(), Some("rs-1"));
    // No usable nonce: nothing to retry with.
    assert!(!dpop.answered(&rs, 401, challenge, None));
    assert!(!dpop.answered(&rs, 401, challenge, Some("bad nonce\"")));
    // A nonce on a success is remembered, and asks for nothing.
    assert!(!dpop.answered(&rs, 200, [], Some("rs-2")));
    assert_eq!(dpop.nonce(&rs).as_deref(), Some("rs-2"));
    // A Bearer challenge or another error is no nonce challenge.
    assert!(!dpop.answered(&rs, 401, [r#"Bearer error="use_dpop_nonce""#], Some("n")));
    assert!(!dpop.answered(&rs, 401, [r#"DPoP error="invalid_token""#], Some("n")));
    assert!(latchkey::dpop::resource_asks_for_nonce(
        401,
        [r#"Basic realm="x", DPoP error="use_dpop_nonce""#]
    ));
    // An invalid_token in a DPoP challenge rejects the token (renew, then once more).
    assert!(latchkey::manage::bearer::rejects_token(
        401,
        [r#"DPoP error="invalid_token", algs="ES256""#]
    ));

    let token = latchkey::AccessToken::new("at-x");
    let proof = dpop.resource_proof("PATCH", &rs, now(), &token).unwrap();
    let (_, claims) = verified(&proof, &dpop.key().public_jwk());
    assert_eq!(claims["htm"], "PATCH");
    assert_eq!(claims["htu"], "https://rs.example/data");
    assert_eq!(claims["ath"], ath("at-x"));
    assert_eq!(claims["nonce"], "n");
}

#[test]
fn a_public_jwk_has_the_thumbprint_of_its_private_key_and_the_rfc_7638_example_matches() {
    for alg in ALGS {
        let key = key(alg);
        let jwk = Jwk::from_json(&key.public_jwk()).unwrap();
        assert_eq!(jwk.thumbprint(), key.thumbprint(), "{alg}");
        assert_eq!(jwk.public_json(), key.public_jwk(), "{alg}");
    }
    // RFC 7638 §3.1: the example RSA key (with `alg` and `kid`, which the thumbprint ignores).
    let example = json!({
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29"
    });
    let jwk = Jwk::from_json(&example).unwrap();
    assert_eq!(
        jwk.thumbprint(),
        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    );
}

#[test]
fn public_keys_are_read_from_pem_and_private_ones_refused() {
    use ed25519_dalek::pkcs8::EncodePublicKey as _;
    let p256_key = p256::ecdsa::SigningKey::from_slice(&[0x11; 32]).unwrap();
    let p256_pem = p256_key
        .verifying_key()
        .to_public_key_pem(p256::pkcs8::LineEnding::LF)
        .unwrap();
    let ed_key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let ed_pem = ed_key
        .verifying_key()
        .to_public_key_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
        .unwrap();
    let rsa_pem = {
        use rsa::pkcs8::EncodePublicKey as _;
        rsa_private()
            .to_public_key()
            .to_public_key_pem(rsa::pkcs8::LineEnding::LF)
            .unwrap()
    };
    for (pem, kty) in [
        (p256_pem.as_str(), latchkey::jose::KeyType::P256),
        (ed_pem.as_str(), latchkey::jose::KeyType::Ed25519),
        (rsa_pem.as_str(), latchkey::jose::KeyType::Rsa),
    ] {
        let jwk = Jwk::from_public_key_pem(pem).expect("a public key");
        assert_eq!(jwk.key_type(), kty);
        assert_eq!(jwk.kid(), None);
    }
    // The same key as a JWK and as PEM: one thumbprint; a signature verifies with either.
    // (PS256's key is `rsa_private`, read through its PEM.)
    let rsa = rsa_key(Algorithm::PS256);
    let from_pem = Jwk::from_public_key_pem(&rsa_pem).unwrap();
    assert_eq!(from_pem.thumbprint(), rsa.thumbprint());
    let jws = rsa.sign(serde_json::Map::new(), &json!({"a": 1})).unwrap();
    Jws::parse(&jws).unwrap().verify_key(&from_pem).unwrap();
    // A private key, garbage: no key.
    let private = {
        use rsa::pkcs8::EncodePrivateKey as _;
        rsa_private()
            .to_pkcs8_pem(rsa::pkcs8::LineEnding::LF)
            .unwrap()
    };
    assert!(Jwk::from_public_key_pem(&private).is_none());
    assert!(Jwk::from_public_key_pem("not a key").is_none());
}

#[test]
fn the_whole_header_is_readable_before_verification() {
    let key = key(Algorithm::ES256);
    let dpop = Dpop::new(key.clone());
    let target = url("https://as.example/token");
    let proof = dpop
        .proof_with(&ProofInput::new("POST", &target, now(), "jti-1"))
        .unwrap();
    let parsed = Jws::parse(&proof).unwrap();
    let header = parsed.header();
    assert_eq!(header["typ"], DPOP_PROOF_TYP);
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["jwk"], key.public_jwk());
    let jwk = Jwk::from_json(&header["jwk"]).unwrap();
    parsed.verify_key(&jwk).unwrap();
    // Debug shows no header member beyond alg, kid and typ.
    assert!(!format!("{parsed:?}").contains(key.public_jwk()["x"].as_str().unwrap()));
}
