//! OpenID Connect ID tokens: keys generated here for every algorithm (by the same RustCrypto
//! crates that verify them), tokens signed here, and every check in turn: signature, key
//! choice, each claim, the JWK set as a cached step with its refetch rule, refresh and
//! userinfo.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use latchkey::drive::{Action, Drive, SendDriver, TransportSettings};
use latchkey::jose::{Algorithm, Jws, KeySet, KeyType};
use latchkey::{
    AccessToken, Client, Error, Exchange, IdTokenError, IdTokenExpectations, RefreshToken,
    Response, ResponseError, State, TokenSet, TokenType,
};
use rsa::Generate as _;
use rsa::signature::{SignatureEncoding as _, Signer as _};
use rsa::traits::PublicKeyParts as _;
use serde_json::{Value, json};

use crate::support::now;

const ISSUER: &str = "https://as.example";

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs()
}

/// Two RSA keys for the whole test binary: generating them is the slow part.
fn rsa_private(which: usize) -> &'static rsa::PrivateKey {
    static KEYS: OnceLock<[rsa::PrivateKey; 2]> = OnceLock::new();
    &KEYS.get_or_init(|| [rsa::PrivateKey::generate(), rsa::PrivateKey::generate()])[which]
}

enum Secret {
    Rsa(&'static rsa::PrivateKey),
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    Ed25519(ed25519_dalek::SigningKey),
}

/// A signing key and its public JWK.
struct Key {
    alg: &'static str,
    kid: String,
    secret: Secret,
}

impl Key {
    /// A key for `alg` (RSA algorithms share the first RSA key).
    fn new(alg: &'static str, kid: &str) -> Self {
        Self::with_rsa(alg, kid, 0)
    }

    fn with_rsa(alg: &'static str, kid: &str, which: usize) -> Self {
        let secret = match alg {
            "ES256" => Secret::P256(p256::ecdsa::SigningKey::generate()),
            "ES384" => Secret::P384(p384::ecdsa::SigningKey::generate()),
            "EdDSA" => {
                let mut seed = [0u8; 32];
                getrandom::fill(&mut seed).unwrap();
                Secret::Ed25519(ed25519_dalek::SigningKey::from_bytes(&seed))
            }
            _ => Secret::Rsa(rsa_private(which)),
        };
        Self {
            alg,
            kid: kid.to_owned(),
            secret,
        }
    }

    /// The public JWK, with `kid` and (when `with_alg`) `alg`.
    fn jwk(&self, with_alg: bool) -> Value {
        let mut jwk = match &self.secret {
            Secret::Rsa(key) => {
                let public = key.to_public_key();
                json!({
                    "kty": "RSA",
                    "n": b64(&public.n().to_be_bytes_trimmed_vartime()),
                    "e": b64(&public.e().to_be_bytes_trimmed_vartime()),
                })
            }
            Secret::P256(key) => {
                let point = key.verifying_key().to_sec1_point(false);
                let bytes = point.as_bytes();
                json!({"kty": "EC", "crv": "P-256", "x": b64(&bytes[1..33]), "y": b64(&bytes[33..])})
            }
            Secret::P384(key) => {
                let point = key.verifying_key().to_sec1_point(false);
                let bytes = point.as_bytes();
                json!({"kty": "EC", "crv": "P-384", "x": b64(&bytes[1..49]), "y": b64(&bytes[49..])})
            }
            Secret::Ed25519(key) => {
                json!({"kty": "OKP", "crv": "Ed25519", "x": b64(key.verifying_key().as_bytes())})
            }
        };
        jwk["kid"] = json!(self.kid);
        jwk["use"] = json!("sig");
        if with_alg {
            jwk["alg"] = json!(self.alg);
        }
        jwk
    }

    fn sign(&self, input: &[u8]) -> Vec<u8> {
        match (&self.secret, self.alg) {
            (Secret::Rsa(key), "RS256") => rsa_sign::<sha2::Sha256>(key, false, input),
            (Secret::Rsa(key), "RS384") => rsa_sign::<sha2::Sha384>(key, false, input),
            (Secret::Rsa(key), "RS512") => rsa_sign::<sha2::Sha512>(key, false, input),
            (Secret::Rsa(key), "PS256") => rsa_sign::<sha2::Sha256>(key, true, input),
            (Secret::Rsa(key), "PS384") => rsa_sign::<sha2::Sha384>(key, true, input),
            (Secret::Rsa(key), "PS512") => rsa_sign::<sha2::Sha512>(key, true, input),
            (Secret::P256(key), _) => {
                let sig: p256::ecdsa::Signature = key.sign(input);
                sig.to_bytes().to_vec()
            }
            (Secret::P384(key), _) => {
                let sig: p384::ecdsa::Signature = key.sign(input);
                sig.to_bytes().to_vec()
            }
            (Secret::Ed25519(key), _) => key.sign(input).to_bytes().to_vec(),
            _ => unreachable!(),
        }
    }

    /// A JWS of `claims` with the header `{alg, kid}`.
    fn token(&self, claims: &Value) -> String {
        self.token_with(&json!({"alg": self.alg, "kid": self.kid}), claims)
    }

    fn token_with(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let sig = self.sign(input.as_bytes());
        format!("{input}.{}", b64(&sig))
    }
}

/// An RSASSA-PKCS1-v1_5 or (with `pss`) RSASSA-PSS signature with the `D` hash.
fn rsa_sign<D>(key: &rsa::PrivateKey, pss: bool, input: &[u8]) -> Vec<u8>
where
    D: sha2::Digest
        + sha2::digest::const_oid::AssociatedOid
        + sha2::digest::FixedOutputReset
        + sha2::digest::Update,
{
    if pss {
        rsa::pss::SigningKey::<D>::new(key.clone())
            .sign(input)
            .to_vec()
    } else {
        rsa::pkcs1v15::SigningKey::<D>::new(key.clone())
            .sign(input)
            .to_vec()
    }
}

/// A JWS signed with HMAC over `secret`.
fn hmac_token(alg: &str, secret: &[u8], header: &Value, claims: &Value) -> String {
    use hmac::{KeyInit as _, Mac as _};
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let tag = match alg {
        "HS256" => {
            let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap();
            mac.update(input.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        _ => {
            let mut mac = hmac::Hmac::<sha2::Sha512>::new_from_slice(secret).unwrap();
            mac.update(input.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
    };
    format!("{input}.{}", b64(&tag))
}

fn key_set(jwks: &[Value], fetched_at: SystemTime) -> KeySet {
    let doc = json!({ "keys": jwks }).to_string();
    KeySet::from_json(doc.as_bytes(), fetched_at, KeySet::DEFAULT_MAX_AGE).unwrap()
}

/// The standard claims of a fresh token for client `app` of `https://as.example`.
fn claims() -> Value {
    json!({
        "iss": ISSUER,
        "sub": "user-1",
        "aud": "app",
        "exp": secs(now()) + 300,
        "iat": secs(now()),
        "nonce": "n0nce",
        "name": "Ada",
    })
}

fn all_algorithms() -> Vec<Algorithm> {
    Algorithm::ALL
        .into_iter()
        .filter(|a| !a.is_hmac())
        .collect()
}

/// A client of `https://as.example` that trusts `keys` for every asymmetric algorithm.
fn client_with(keys: KeySet) -> Client {
    Client::builder("app")
        .client_secret("s3cret")
        .issuer(ISSUER)
        .token_endpoint("https://as.example/token")
        .authorization_endpoint("https://as.example/auth")
        .userinfo_endpoint("https://as.example/me")
        .redirect_uri("http://127.0.0.1/cb")
        .id_token_keys(keys)
        .id_token_algorithms(all_algorithms())
        .build()
        .unwrap()
}

fn expect() -> IdTokenExpectations {
    IdTokenExpectations::new().nonce("n0nce")
}

fn id_error(result: Result<impl std::fmt::Debug, Error>) -> IdTokenError {
    match result {
        Err(Error::IdToken(e)) => e,
        other => panic!("expected an ID token error, got {other:?}"),
    }
}

#[test]
fn every_algorithm_verifies_and_yields_typed_claims() {
    for alg in [
        "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
    ] {
        let key = Key::new(alg, "k1");
        let client = client_with(key_set(&[key.jwk(true)], now()));
        let token = key.token(&claims());
        let got = client
            .validate_id_token(&token, &expect(), now())
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(got.sub, "user-1", "{alg}");
        assert_eq!(got.aud, ["app"]);
        assert_eq!(got.extra["name"], "Ada");
        assert_eq!(got.expires_at(), now() + Duration::from_secs(300));
        // Without `alg` on the key, its type decides.
        let client = client_with(key_set(&[key.jwk(false)], now()));
        assert!(
            client.validate_id_token(&token, &expect(), now()).is_ok(),
            "{alg}"
        );
        // A flipped signature bit fails.
        let mut bad = token.clone().into_bytes();
        let last = bad.len() - 2;
        bad[last] = if bad[last] == b'A' { b'B' } else { b'A' };
        let bad = String::from_utf8(bad).unwrap();
        assert_eq!(
            id_error(client.validate_id_token(&bad, &expect(), now())),
            IdTokenError::BadSignature,
            "{alg}"
        );
    }
}

#[test]
fn algorithms_default_to_the_metadata_and_never_none() {
    let key = Key::new("ES256", "k1");
    let metadata: latchkey::ServerMetadata = serde_json::from_value(json!({
        "issuer": ISSUER,
        "token_endpoint": "https://as.example/token",
        "jwks_uri": "https://as.example/jwks",
        "id_token_signing_alg_values_supported": ["RS256", "none"],
    }))
    .unwrap();
    let client = Client::builder("app")
        .metadata(&metadata)
        .id_token_keys(key_set(&[key.jwk(true)], now()))
        .build()
        .unwrap();
    assert_eq!(client.id_token_algorithms(), [Algorithm::RS256]);
    assert!(client.validates_id_tokens());
    assert_eq!(
        id_error(client.validate_id_token(&key.token(&claims()), &expect(), now())),
        IdTokenError::AlgorithmNotAllowed("ES256")
    );
    // Without metadata or a list: RS256 only.
    let client = Client::builder("app").issuer(ISSUER).build().unwrap();
    assert_eq!(client.id_token_algorithms(), [Algorithm::RS256]);
    // Nothing to verify with: not validated, and said so.
    assert!(!client.validates_id_tokens());
}

#[test]
fn unsigned_critical_and_unknown_algorithms_are_refused() {
    let key = Key::new("ES256", "k1");
    let client = client_with(key_set(&[key.jwk(true)], now()));
    let none = format!(
        "{}.{}.",
        b64(br#"{"alg":"none"}"#),
        b64(claims().to_string().as_bytes())
    );
    assert_eq!(
        id_error(client.validate_id_token(&none, &expect(), now())),
        IdTokenError::Unsigned
    );
    let crit = key.token_with(
        &json!({"alg": "ES256", "kid": "k1", "crit": ["exp"], "exp": 1}),
        &claims(),
    );
    assert_eq!(
        id_error(client.validate_id_token(&crit, &expect(), now())),
        IdTokenError::CriticalHeader
    );
    let odd = key.token_with(&json!({"alg": "ES256K", "kid": "k1"}), &claims());
    assert_eq!(
        id_error(client.validate_id_token(&odd, &expect(), now())),
        IdTokenError::UnsupportedAlgorithm("ES256K".into())
    );
}

#[test]
fn hmac_only_with_the_client_secret_and_the_opt_in() {
    let rsa = Key::new("RS256", "k1");
    let header = json!({"alg": "HS256"});
    let token = hmac_token("HS256", b"s3cret", &header, &claims());
    // Not opted in: refused before any key is looked at.
    let client = client_with(key_set(&[rsa.jwk(false)], now()));
    assert_eq!(
        id_error(client.validate_id_token(&token, &expect(), now())),
        IdTokenError::HmacNotAllowed("HS256")
    );
    let opted_in = |algs: Vec<Algorithm>| {
        Client::builder("app")
            .client_secret("s3cret")
            .issuer(ISSUER)
            .id_token_keys(key_set(&[rsa.jwk(false)], now()))
            .id_token_algorithms(algs)
            .id_token_hmac(true)
            .build()
            .unwrap()
    };
    let client = opted_in(vec![Algorithm::RS256, Algorithm::HS256]);
    let got = client.validate_id_token(&token, &expect(), now()).unwrap();
    assert_eq!(got.sub, "user-1");
    // Opted in but not in the list.
    let client = opted_in(vec![Algorithm::RS256]);
    assert_eq!(
        id_error(client.validate_id_token(&token, &expect(), now())),
        IdTokenError::AlgorithmNotAllowed("HS256")
    );
    // Algorithm confusion: HS256 "signed" with the RSA public key (its JWK and its modulus
    // as secrets) never verifies, opted in or not: only the client secret is an HMAC key.
    let client = opted_in(vec![Algorithm::RS256, Algorithm::HS256]);
    let public = rsa_private(0).to_public_key();
    for secret in [
        rsa.jwk(false).to_string().into_bytes(),
        public.n().to_be_bytes_trimmed_vartime().to_vec(),
    ] {
        let forged = hmac_token("HS256", &secret, &header, &claims());
        assert_eq!(
            id_error(client.validate_id_token(&forged, &expect(), now())),
            IdTokenError::BadSignature
        );
    }
    // A secretless (public) client cannot use HMAC at all.
    let public_client = Client::builder("app")
        .issuer(ISSUER)
        .id_token_algorithms([Algorithm::HS256])
        .id_token_hmac(true)
        .build()
        .unwrap();
    let empty = hmac_token("HS256", b"", &header, &claims());
    assert_eq!(
        id_error(public_client.validate_id_token(&empty, &expect(), now())),
        IdTokenError::HmacNotAllowed("HS256")
    );
}

#[test]
fn keys_are_chosen_by_kid_and_alg_never_guessed() {
    let a = Key::new("RS256", "a");
    let ec = Key::new("ES256", "a");
    // One kid, an RSA and an EC key: the alg chooses.
    let client = client_with(key_set(&[a.jwk(false), ec.jwk(false)], now()));
    assert!(
        client
            .validate_id_token(&a.token(&claims()), &expect(), now())
            .is_ok()
    );
    assert!(
        client
            .validate_id_token(&ec.token(&claims()), &expect(), now())
            .is_ok()
    );
    // A wrong kid.
    let b = Key::new("RS256", "b");
    assert_eq!(
        id_error(client.validate_id_token(&b.token(&claims()), &expect(), now())),
        IdTokenError::UnknownKey {
            kid: Some("b".into())
        }
    );
    // Two RSA keys under one kid without alg: ambiguous.
    let other = Key::with_rsa("RS256", "a", 1);
    let client = client_with(key_set(&[a.jwk(false), other.jwk(false)], now()));
    assert_eq!(
        id_error(client.validate_id_token(&a.token(&claims()), &expect(), now())),
        IdTokenError::AmbiguousKey {
            kid: Some("a".into())
        }
    );
    // ... unless their `alg`s tell them apart.
    let ps = Key::with_rsa("PS256", "a", 1);
    let client = client_with(key_set(&[a.jwk(true), ps.jwk(true)], now()));
    assert!(
        client
            .validate_id_token(&a.token(&claims()), &expect(), now())
            .is_ok()
    );
    assert!(
        client
            .validate_id_token(&ps.token(&claims()), &expect(), now())
            .is_ok()
    );
    // No kid: fine with one fitting key, ambiguous with two.
    let no_kid = a.token_with(&json!({"alg": "RS256"}), &claims());
    let client = client_with(key_set(&[a.jwk(false), ec.jwk(false)], now()));
    assert!(client.validate_id_token(&no_kid, &expect(), now()).is_ok());
    let client = client_with(key_set(&[a.jwk(false), b.jwk(false)], now()));
    assert_eq!(
        id_error(client.validate_id_token(&no_kid, &expect(), now())),
        IdTokenError::AmbiguousKey { kid: None }
    );
}

#[test]
fn keys_that_do_not_fit_are_skipped() {
    let rsa = Key::new("RS256", "r");
    let ec = Key::new("ES256", "e");
    let mut enc = rsa.jwk(false);
    enc["use"] = json!("enc");
    let mut wrong_alg = rsa.jwk(false);
    wrong_alg["alg"] = json!("ES256");
    let mut private = ec.jwk(true);
    private["d"] = json!("AAAA");
    let mut verify_ops = ec.jwk(true);
    verify_ops["key_ops"] = json!(["sign"]);
    let mut off_curve = ec.jwk(true);
    off_curve["y"] = off_curve["x"].clone();
    let oct = json!({"kty": "oct", "k": b64(b"s3cret"), "kid": "h"});
    let mut small = rsa.jwk(false);
    small["n"] = json!(b64(&[0xff; 128]));
    let set = key_set(
        &[
            enc,
            wrong_alg,
            private,
            verify_ops,
            off_curve,
            oct,
            small,
            json!({"kty": "RSA"}),
            json!("not an object"),
            rsa.jwk(true),
        ],
        now(),
    );
    assert_eq!(set.keys().len(), 1);
    assert_eq!(set.keys()[0].key_type(), KeyType::Rsa);
    assert_eq!(set.keys()[0].kid(), Some("r"));
    assert!(KeySet::from_json(b"[]", now(), Duration::ZERO).is_err());
    assert!(KeySet::from_json(b"<html>", now(), Duration::ZERO).is_err());
}

/// Each claim failure in turn, named.
#[test]
fn each_claim_is_checked() {
    // What a flow expects holds secrets: its Debug shows none.
    let debug = format!(
        "{:?}",
        expect().access_token("at-s3cret").code("c0de-s3cret")
    );
    assert!(!debug.contains("s3cret"), "{debug}");
    let key = Key::new("RS256", "k1");
    let client = client_with(key_set(&[key.jwk(true)], now()));
    let t = secs(now());
    let with = |changes: Value| {
        let mut c = claims();
        for (k, v) in changes.as_object().unwrap() {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        c
    };
    /// The claims changed (`null` removes one), what the flow expects, and the failure.
    type Case = (
        Value,
        IdTokenExpectations,
        Option<(&'static str, &'static str)>,
    );
    let cases: Vec<Case> = vec![
        (json!({}), expect(), None),
        (
            json!({"iss": "https://evil.example"}),
            expect(),
            Some(("iss", "not the client's issuer")),
        ),
        (json!({"iss": null}), expect(), Some(("iss", "missing"))),
        (json!({"sub": null}), expect(), Some(("sub", "missing"))),
        (json!({"sub": 7}), expect(), Some(("sub", "not a string"))),
        (
            json!({"aud": "other"}),
            expect(),
            Some(("aud", "does not contain the client_id")),
        ),
        (
            json!({"aud": ["other", "app"], "azp": "app"}),
            expect(),
            None,
        ),
        (
            json!({"aud": ["other", "app"]}),
            expect(),
            Some(("azp", "missing although there are several audiences")),
        ),
        (
            json!({"azp": "other"}),
            expect(),
            Some(("azp", "not the client_id")),
        ),
        (
            json!({"exp": t - 61}),
            expect(),
            Some(("exp", "the token has expired")),
        ),
        (json!({"exp": t - 59}), expect(), None),
        (
            json!({"exp": "soon"}),
            expect(),
            Some(("exp", "not a number")),
        ),
        (json!({"exp": null}), expect(), Some(("exp", "missing"))),
        (
            json!({"iat": t + 61}),
            expect(),
            Some(("iat", "issued in the future")),
        ),
        (json!({"iat": t + 59}), expect(), None),
        (json!({"iat": (t as f64) + 0.5}), expect(), None),
        (
            json!({"nonce": "other"}),
            expect(),
            Some(("nonce", "not the nonce sent")),
        ),
        (json!({"nonce": null}), expect(), Some(("nonce", "missing"))),
        (
            json!({}),
            IdTokenExpectations::new(),
            Some(("nonce", "present although none was sent")),
        ),
        (
            json!({}),
            expect().max_age(600),
            Some(("auth_time", "missing although max_age was requested")),
        ),
        (json!({"auth_time": t - 600}), expect().max_age(600), None),
        (
            json!({"auth_time": t - 700}),
            expect().max_age(600),
            Some(("auth_time", "older than the max_age requested")),
        ),
        (
            json!({"at_hash": "AAAA"}),
            expect().access_token("at"),
            Some(("at_hash", "does not match the access token")),
        ),
        (
            json!({"at_hash": Algorithm::RS256.half_hash("at")}),
            expect().access_token("at"),
            None,
        ),
        (
            json!({"c_hash": "AAAA"}),
            expect().code("c0de"),
            Some(("c_hash", "does not match the code")),
        ),
        (
            json!({"c_hash": Algorithm::RS256.half_hash("c0de")}),
            expect().code("c0de"),
            None,
        ),
    ];
    for (changes, expectations, want) in cases {
        let token = key.token(&with(changes.clone()));
        let got = client.validate_id_token(&token, &expectations, now());
        match want {
            None => assert!(got.is_ok(), "{changes}: {got:?}"),
            Some((claim, reason)) => {
                let error = id_error(got);
                assert_eq!(error, IdTokenError::Claim { claim, reason }, "{changes}");
                // The message names the claim and never holds the token.
                let text = error.to_string();
                assert!(text.contains(claim), "{text}");
                assert!(!text.contains(&token) && !text.contains("eyJ"), "{text}");
            }
        }
    }
    // The leeway is the client's to set; the acr values too.
    let strict = Client::builder("app")
        .issuer(ISSUER)
        .id_token_keys(key_set(&[key.jwk(true)], now()))
        .id_token_leeway(Duration::ZERO)
        .id_token_acr_values(["urn:mace:incommon:iap:silver"])
        .build()
        .unwrap();
    let token = key.token(&with(
        json!({"exp": t, "acr": "urn:mace:incommon:iap:silver"}),
    ));
    assert_eq!(
        id_error(strict.validate_id_token(&token, &expect(), now())),
        IdTokenError::Claim {
            claim: "exp",
            reason: "the token has expired"
        }
    );
    let token = key.token(&with(json!({"acr": "0"})));
    assert_eq!(
        id_error(strict.validate_id_token(&token, &expect(), now())),
        IdTokenError::Claim {
            claim: "acr",
            reason: "not one of the values required"
        }
    );
    let token = key.token(&claims());
    assert_eq!(
        id_error(strict.validate_id_token(&token, &expect(), now())),
        IdTokenError::Claim {
            claim: "acr",
            reason: "missing although required"
        }
    );
}

/// Malformed tokens: each part truncated, oversized, not base64url, not JSON.
#[test]
fn malformed_tokens_are_refused_without_panicking() {
    let key = Key::new("ES256", "k1");
    let token = key.token(&claims());
    let parts: Vec<&str> = token.split('.').collect();
    let header_b64 = parts[0];
    let payload_b64 = parts[1];
    let sig_b64 = parts[2];
    let malformed = |s: &str| matches!(Jws::parse(s), Err(IdTokenError::Malformed(_)));
    assert!(malformed(""));
    assert!(malformed(header_b64));
    assert!(malformed(&format!("{header_b64}.{payload_b64}")));
    assert!(malformed(&format!("{token}.x.y")), "a JWE's five parts");
    assert!(
        malformed(&format!("{header_b64}.{payload_b64}.")),
        "empty signature"
    );
    assert!(malformed(&format!(
        "{}.{payload_b64}.{sig_b64}",
        &header_b64[..header_b64.len() - 1]
    )));
    assert!(malformed(&format!("{header_b64}*.{payload_b64}.{sig_b64}")));
    assert!(malformed(&format!("{header_b64}.{payload_b64}+.{sig_b64}")));
    assert!(malformed(&format!("{header_b64}.{payload_b64}.{sig_b64}=")));
    assert!(malformed(&format!(
        "{}.{payload_b64}.{sig_b64}",
        b64(b"not json")
    )));
    assert!(malformed(&format!(
        "{}.{payload_b64}.{sig_b64}",
        b64(br#"{"kid":"k1"}"#)
    )));
    assert!(malformed(&format!(
        "{}.{payload_b64}.{sig_b64}",
        b64(br#"{"alg":7}"#)
    )));
    assert!(malformed(&format!(
        "{}.{payload_b64}.{sig_b64}",
        b64(br#"{"alg":"ES256","alg":"none"}"#)
    )));
    let huge = format!(
        "{header_b64}.{}.{sig_b64}",
        "A".repeat(latchkey::jose::MAX_JWS_BYTES)
    );
    assert_eq!(
        Jws::parse(&huge).unwrap_err(),
        IdTokenError::TooLarge {
            limit: latchkey::jose::MAX_JWS_BYTES
        }
    );
    // A well-formed, correctly signed token whose payload is not a JSON object.
    let client = client_with(key_set(&[key.jwk(true)], now()));
    let input = format!("{header_b64}.{}", b64(b"[1,2]"));
    let not_object = format!("{input}.{}", b64(&key.sign(input.as_bytes())));
    assert_eq!(
        id_error(client.validate_id_token(&not_object, &expect(), now())),
        IdTokenError::Malformed("payload is not a JSON object")
    );
    // A truncated signature.
    let short = format!("{header_b64}.{payload_b64}.{}", &sig_b64[..20]);
    assert_eq!(
        id_error(client.validate_id_token(&short, &expect(), now())),
        IdTokenError::BadSignature
    );
    // Debug shows the header only.
    let debug = format!("{:?}", Jws::parse(&token).unwrap());
    assert!(
        !debug.contains(payload_b64) && !debug.contains(sig_b64),
        "{debug}"
    );
}

#[test]
fn the_key_set_records_its_age_from_cache_control() {
    let key = Key::new("ES256", "k1");
    let body = json!({"keys": [key.jwk(true)]}).to_string();
    let client = Client::builder("app")
        .issuer(ISSUER)
        .jwks_uri("https://as.example/jwks")
        .build()
        .unwrap();
    let jwks = client.jwks().unwrap();
    let request = jwks.request().unwrap();
    assert_eq!(request.url.as_str(), "https://as.example/jwks");
    let mut response = Response::json(200, body.clone(), now());
    response
        .headers
        .insert("cache-control", "public, max-age=600");
    let set = jwks.response(response).unwrap();
    assert_eq!(set.max_age(), Duration::from_secs(600));
    assert_eq!(set.fetched_at(), Some(now()));
    // The client's cache took it.
    assert_eq!(client.key_set().keys().len(), 1);
    assert!(!set.is_stale(now() + Duration::from_secs(600)));
    assert!(set.is_stale(now() + Duration::from_secs(601)));
    let set = client
        .jwks()
        .unwrap()
        .response(Response::json(200, body.clone(), now()))
        .unwrap();
    assert_eq!(set.max_age(), KeySet::DEFAULT_MAX_AGE);
    let mut response = Response::json(200, body, now());
    response.headers.insert("cache-control", "no-store");
    let set = client.jwks().unwrap().response(response).unwrap();
    assert_eq!(set.max_age(), Duration::ZERO);
    // An error page is an error.
    assert!(matches!(
        client
            .jwks()
            .unwrap()
            .response(Response::json(500, "{}", now())),
        Err(Error::Response(_))
    ));
    assert!(KeySet::empty().is_stale(now()));
    assert!(KeySet::empty().may_refetch(now()));
}

/// Drives `exchange` through the send driver, answering each request with `answer`;
/// returns the outcome and the URLs sent.
fn drive<E: Exchange>(
    exchange: E,
    mut answer: impl FnMut(&latchkey::Request) -> Response,
) -> (Result<E::Output, Error>, Vec<String>) {
    let mut driver = SendDriver::new(exchange, &TransportSettings::default());
    let mut sent = Vec::new();
    loop {
        match driver.next(now()) {
            Action::Send(request) => {
                sent.push(request.url.as_str().to_owned());
                let response = answer(&request);
                driver.received(Ok(response), now());
            }
            Action::Sleep(_) => panic!("no retry expected"),
            Action::Done(result) => return (result, sent),
        }
    }
}

fn oidc_client() -> Client {
    Client::builder("app")
        .client_secret("s3cret")
        .issuer(ISSUER)
        .authorization_endpoint("https://as.example/auth")
        .token_endpoint("https://as.example/token")
        .userinfo_endpoint("https://as.example/me")
        .jwks_uri("https://as.example/jwks")
        .redirect_uri("http://127.0.0.1/cb")
        .id_token_algorithms(all_algorithms())
        .build()
        .unwrap()
}

/// One login: the authorization URL carries a nonce, the pending value keeps it, and the
/// code exchange's ID token is checked against it. `at` is when the token answer arrives.
fn login(
    client: &Client,
    key: &Key,
    jwks: Option<&[Value]>,
    at: SystemTime,
) -> (Result<TokenSet, Error>, Vec<String>) {
    let (url, pending) = client
        .authorization_code()
        .scope("openid profile")
        .state(State::new("st"))
        .build()
        .unwrap();
    let nonce = pending.nonce().unwrap().to_owned();
    assert_eq!(nonce.len(), 43);
    assert!(url.as_str().contains(&format!("&nonce={nonce}")), "{url}");
    let exchange = pending
        .callback(client, "http://127.0.0.1/cb?code=c0de&state=st")
        .unwrap();
    let mut c = claims();
    c["nonce"] = json!(nonce);
    c["iat"] = json!(secs(at));
    c["exp"] = json!(secs(at) + 300);
    c["at_hash"] = json!(Algorithm::parse(key.alg).unwrap().half_hash("at-1"));
    c["c_hash"] = json!(Algorithm::parse(key.alg).unwrap().half_hash("c0de"));
    let id_token = key.token(&c);
    // `None`: the JWK set endpoint is down.
    let jwks = jwks.map(|keys| json!({ "keys": keys }).to_string());
    let mut driver = SendDriver::new(exchange, &TransportSettings::default());
    let mut sent = Vec::new();
    loop {
        match driver.next(at) {
            Action::Send(request) => {
                sent.push(request.url.path().to_owned());
                let response = if request.url.path() == "/jwks" {
                    match &jwks {
                        Some(jwks) => Response::json(200, jwks.clone(), at),
                        None => Response::json(503, "{}", at),
                    }
                } else {
                    let body = json!({
                        "access_token": "at-1",
                        "token_type": "Bearer",
                        "id_token": id_token,
                    });
                    Response::json(200, body.to_string(), at)
                };
                driver.received(Ok(response), at);
            }
            Action::Sleep(_) => panic!("no retry expected"),
            Action::Done(result) => return (result, sent),
        }
    }
}

#[test]
fn the_code_exchange_validates_and_refetches_on_rotation_at_most_every_30_seconds() {
    let client = oidc_client();
    let k1 = Key::new("ES256", "k1");
    let k2 = Key::new("EdDSA", "k2");
    let k3 = Key::new("ES384", "k3");
    // First login: nothing cached, the driver fetches the set before reading the answer.
    let (tokens, sent) = login(&client, &k1, Some(&[k1.jwk(true)]), now());
    let tokens = tokens.unwrap();
    assert_eq!(sent, ["/token", "/jwks"]);
    let claims = tokens.id_token_claims().unwrap();
    assert_eq!(claims.sub, "user-1");
    assert_eq!(claims.nonce.as_deref().map(str::len), Some(43));
    // Second login with the same key: the cache serves, nothing fetched.
    let (tokens, sent) = login(
        &client,
        &k1,
        Some(&[k1.jwk(true)]),
        now() + Duration::from_secs(5),
    );
    assert!(tokens.is_ok());
    assert_eq!(sent, ["/token"]);
    // Rotation: k1 gone, k2 new; a minute later the unknown kid is fetched once, then valid.
    let rotated = [k2.jwk(true)];
    let later = now() + Duration::from_secs(60);
    let (tokens, sent) = login(&client, &k2, Some(&rotated), later);
    assert_eq!(sent, ["/token", "/jwks"]);
    assert_eq!(tokens.unwrap().id_token_claims().unwrap().sub, "user-1");
    assert_eq!(client.key_set().keys()[0].kid(), Some("k2"));
    // Another unknown kid 10 s after that fetch: no fetch, refused.
    let (tokens, sent) = login(
        &client,
        &k3,
        Some(&[k3.jwk(true)]),
        later + Duration::from_secs(10),
    );
    assert_eq!(sent, ["/token"]);
    assert_eq!(
        id_error(tokens),
        IdTokenError::UnknownKey {
            kid: Some("k3".into())
        }
    );
    // 30 s after the fetch it may be fetched again.
    let (tokens, sent) = login(
        &client,
        &k3,
        Some(&[k3.jwk(true)]),
        later + Duration::from_secs(30),
    );
    assert_eq!(sent, ["/token", "/jwks"]);
    assert!(tokens.is_ok());
    // A stale set is fetched again even for a known kid (max age 5 min).
    let (tokens, sent) = login(
        &client,
        &k3,
        Some(&[k3.jwk(true)]),
        later + Duration::from_secs(30 + 301),
    );
    assert_eq!(sent, ["/token", "/jwks"]);
    assert!(tokens.is_ok());
}

#[test]
fn a_failed_key_fetch_counts_for_the_30_second_rule() {
    let client = oidc_client();
    let k1 = Key::new("ES256", "k1");
    let (tokens, sent) = login(&client, &k1, None, now());
    assert_eq!(sent, ["/token", "/jwks"]);
    assert_eq!(
        id_error(tokens),
        IdTokenError::UnknownKey {
            kid: Some("k1".into())
        }
    );
    // The server is not asked again within 30 s of the failure...
    let soon = now() + Duration::from_secs(10);
    let (tokens, sent) = login(&client, &k1, Some(&[k1.jwk(true)]), soon);
    assert_eq!(sent, ["/token"]);
    assert!(tokens.is_err());
    // ... and is after.
    let later = now() + Duration::from_secs(30);
    let (tokens, sent) = login(&client, &k1, Some(&[k1.jwk(true)]), later);
    assert_eq!(sent, ["/token", "/jwks"]);
    assert!(tokens.is_ok());
}

#[test]
fn a_failed_key_fetch_leaves_the_answer_to_the_cached_keys() {
    let client = oidc_client();
    let k1 = Key::new("ES256", "k1");
    let (url, pending) = client
        .authorization_code()
        .scope("openid")
        .nonce("n0nce")
        .state(State::new("st"))
        .build()
        .unwrap();
    assert!(url.as_str().contains("&nonce=n0nce&"), "{url}");
    let exchange = pending
        .callback(&client, "http://127.0.0.1/cb?code=c&state=st")
        .unwrap();
    let id_token = k1.token(&claims());
    let (result, sent) = drive(exchange, |request| {
        if request.url.path() == "/jwks" {
            Response::json(503, "{}", now())
        } else {
            let body = json!({"access_token": "at", "token_type": "Bearer", "id_token": id_token});
            Response::json(200, body.to_string(), now())
        }
    });
    assert_eq!(sent.len(), 2);
    assert_eq!(
        id_error(result),
        IdTokenError::UnknownKey {
            kid: Some("k1".into())
        }
    );
}

#[test]
fn a_client_without_keys_leaves_the_id_token_unread() {
    let client = Client::builder("app")
        .authorization_endpoint("https://as.example/auth")
        .token_endpoint("https://as.example/token")
        .redirect_uri("http://127.0.0.1/cb")
        .build()
        .unwrap();
    let (_, pending) = client
        .authorization_code()
        .scope("openid")
        .state(State::new("st"))
        .build()
        .unwrap();
    let exchange = pending
        .callback(&client, "http://127.0.0.1/cb?code=c&state=st")
        .unwrap();
    let body = r#"{"access_token":"at","token_type":"Bearer","id_token":"x.y.z"}"#;
    let (tokens, sent) = drive(exchange, |_| Response::json(200, body, now()));
    let tokens = tokens.unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(tokens.id_token(), Some("x.y.z"));
    assert!(tokens.id_token_claims().is_none());
    // No openid scope, no nonce.
    let (url, pending) = client.authorization_code().scope("read").build().unwrap();
    assert!(pending.nonce().is_none());
    assert!(!url.as_str().contains("nonce"));
}

#[test]
fn the_implicit_callback_validates_an_id_token() {
    let key = Key::new("RS256", "k1");
    let client = client_with(key_set(&[key.jwk(true)], now()));
    let (url, pending) = client
        .implicit()
        .scope("openid")
        .state(State::new("st"))
        .max_age(600)
        .build()
        .unwrap();
    let nonce = pending.nonce().unwrap().to_owned();
    assert!(
        url.as_str()
            .contains(&format!("&nonce={nonce}&max_age=600")),
        "{url}"
    );
    let mut c = claims();
    c["nonce"] = json!(nonce);
    c["auth_time"] = json!(secs(now()) - 10);
    c["at_hash"] = json!(Algorithm::RS256.half_hash("at"));
    let id_token = key.token(&c);
    let fragment = format!("#access_token=at&token_type=Bearer&state=st&id_token={id_token}");
    let tokens = pending.callback(&client, &fragment, now()).unwrap();
    assert_eq!(
        tokens.id_token_claims().unwrap().auth_time,
        Some(secs(now()) - 10)
    );
    // The same token against another pending value (another nonce) fails.
    let (_, pending) = client
        .implicit()
        .scope("openid")
        .state(State::new("st"))
        .build()
        .unwrap();
    assert_eq!(
        id_error(pending.callback(&client, &fragment, now())),
        IdTokenError::Claim {
            claim: "nonce",
            reason: "not the nonce sent"
        }
    );
}

#[test]
fn a_refreshed_id_token_keeps_iss_and_sub_and_has_no_new_nonce() {
    let key = Key::new("ES256", "k1");
    let client = client_with(key_set(&[key.jwk(true)], now()));
    let original = client
        .validate_id_token(&key.token(&claims()), &expect(), now())
        .unwrap();
    let refresh = |id_claims: &Value| {
        let body = json!({
            "access_token": "at-2",
            "token_type": "Bearer",
            "id_token": key.token(id_claims),
        });
        client
            .refresh(&RefreshToken::new("rt"))
            .unwrap()
            .original_id_token(&original)
            .response(Response::json(200, body.to_string(), now()))
    };
    let mut fresh = claims();
    fresh.as_object_mut().unwrap().remove("nonce");
    let tokens = refresh(&fresh).unwrap();
    assert_eq!(tokens.id_token_claims().unwrap().sub, "user-1");
    // The original's nonce repeated is tolerated (oidc-provider does it); another is not.
    assert!(refresh(&claims()).is_ok());
    let mut other_nonce = fresh.clone();
    other_nonce["nonce"] = json!("fresh");
    assert_eq!(
        id_error(refresh(&other_nonce)),
        IdTokenError::Claim {
            claim: "nonce",
            reason: "not the original ID token's"
        }
    );
    // Without the original (a refresh token kept on its own) the nonce cannot be compared,
    // and a token endpoint answer is not where an ID token can be replayed: accepted.
    let body = json!({"access_token": "at-2", "token_type": "Bearer", "id_token": key.token(&other_nonce)});
    assert!(
        client
            .refresh(&RefreshToken::new("rt"))
            .unwrap()
            .response(Response::json(200, body.to_string(), now()))
            .is_ok()
    );
    let mut other_sub = fresh.clone();
    other_sub["sub"] = json!("user-2");
    assert_eq!(
        id_error(refresh(&other_sub)),
        IdTokenError::Claim {
            claim: "sub",
            reason: "not the original ID token's"
        }
    );
    let mut other_aud = fresh;
    other_aud["aud"] = json!("someone-else");
    assert_eq!(
        id_error(refresh(&other_aud)),
        IdTokenError::Claim {
            claim: "aud",
            reason: "does not contain the client_id"
        }
    );
    // No ID token in the answer: the original claims carry over.
    let tokens = client
        .refresh(&RefreshToken::new("rt"))
        .unwrap()
        .original_id_token(&original)
        .response(Response::json(
            200,
            r#"{"access_token":"at-3","token_type":"Bearer"}"#,
            now(),
        ))
        .unwrap();
    assert_eq!(tokens.id_token_claims(), Some(&original));
}

#[test]
fn userinfo_must_be_about_the_id_token_subject() {
    let key = Key::new("ES256", "k1");
    let client = client_with(key_set(&[key.jwk(true)], now()));
    let exchange = |body: &str| {
        client
            .userinfo(&AccessToken::new("at"))
            .unwrap()
            .subject("user-1")
            .response(Response::json(200, body.to_owned(), now()))
    };
    assert!(exchange(r#"{"sub":"user-1","name":"Ada"}"#).is_ok());
    assert!(matches!(
        exchange(r#"{"sub":"user-2"}"#),
        Err(Error::Response(ResponseError::InvalidField {
            field: "sub",
            ..
        }))
    ));
    assert!(matches!(
        exchange(r#"{"name":"Ada"}"#),
        Err(Error::Response(ResponseError::MissingField("sub")))
    ));
    // From a token set with validated claims, the subject is taken along.
    let (tokens, _) = {
        let mut c = claims();
        c.as_object_mut().unwrap().remove("nonce");
        let body = json!({"access_token": "at", "token_type": "Bearer", "id_token": key.token(&c)});
        let tokens = client
            .refresh(&RefreshToken::new("rt"))
            .unwrap()
            .response(Response::json(200, body.to_string(), now()))
            .unwrap();
        (tokens, ())
    };
    let request = client.userinfo_for(&tokens).unwrap();
    assert!(matches!(
        request.response(Response::json(200, r#"{"sub":"user-2"}"#, now())),
        Err(Error::Response(ResponseError::InvalidField {
            field: "sub",
            ..
        }))
    ));
    let plain = TokenSet::new(AccessToken::new("at"), TokenType::Bearer);
    assert!(
        client
            .userinfo_for(&plain)
            .unwrap()
            .response(Response::json(200, r#"{"sub":"anyone"}"#, now()))
            .is_ok()
    );
}

#[test]
fn a_signed_userinfo_answer_is_verified_like_an_id_token() {
    let client = oidc_client();
    let key = Key::new("EdDSA", "k1");
    let jwt = |claims: &Value| {
        let mut response = Response::new(
            200,
            latchkey::drive::Headers::new(),
            key.token(claims).into_bytes(),
            now(),
        );
        response
            .headers
            .insert("content-type", "application/jwt; charset=utf-8");
        response
    };
    let good = json!({"iss": ISSUER, "aud": "app", "sub": "user-1", "name": "Ada"});
    // Through the send driver: the unknown key is fetched first.
    let request = client
        .userinfo(&AccessToken::new("at"))
        .unwrap()
        .subject("user-1");
    let jwks = json!({"keys": [key.jwk(true)]}).to_string();
    let (answer, sent) = drive(request, |request| {
        if request.url.path() == "/jwks" {
            Response::json(200, jwks.clone(), now())
        } else {
            jwt(&good)
        }
    });
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(answer.unwrap()["name"], "Ada");
    // With the keys cached: the checks one by one.
    let read = |response: Response| {
        client
            .userinfo(&AccessToken::new("at"))
            .unwrap()
            .subject("user-1")
            .response(response)
    };
    assert!(read(jwt(&good)).is_ok());
    let mut other = good.clone();
    other["iss"] = json!("https://evil.example");
    assert_eq!(
        id_error(read(jwt(&other))),
        IdTokenError::Claim {
            claim: "iss",
            reason: "not the client's issuer"
        }
    );
    let mut other = good.clone();
    other["aud"] = json!(["someone-else"]);
    assert_eq!(
        id_error(read(jwt(&other))),
        IdTokenError::Claim {
            claim: "aud",
            reason: "does not contain the client_id"
        }
    );
    let mut other = good;
    other["sub"] = json!("user-2");
    assert!(matches!(
        read(jwt(&other)),
        Err(Error::Response(ResponseError::InvalidField {
            field: "sub",
            ..
        }))
    ));
    let mut forged = jwt(&json!({"iss": ISSUER, "aud": "app", "sub": "user-1"}));
    let len = forged.body.len();
    forged.body[len - 3] ^= 1;
    assert!(matches!(read(forged), Err(Error::IdToken(_))));
}

#[test]
fn a_nonce_or_max_age_given_as_a_parameter_is_the_request_s_own() {
    let client = oidc_client();
    let (url, pending) = client
        .authorization_code()
        .scope("openid")
        .param("nonce", "mine")
        .param("max_age", "60")
        .param("max_age_extra", "x")
        .build()
        .unwrap();
    assert_eq!(pending.nonce(), Some("mine"));
    let q = crate::support::query(url.as_str());
    assert_eq!(q["nonce"], "mine");
    assert_eq!(q["max_age"], "60");
    assert_eq!(q["max_age_extra"], "x");
    assert_eq!(url.as_str().matches("nonce=").count(), 1);
    let (_, pending) = client
        .implicit()
        .scope("openid")
        .param("nonce", "mine")
        .build()
        .unwrap();
    assert_eq!(pending.nonce(), Some("mine"));
}
