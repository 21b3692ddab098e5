//! ID token validation with the keys cached, beside the `openidconnect` crate on the same
//! token in the same run: RS256 (2048-bit) and ES256. Both start from the compact JWS and
//! check the signature, `iss`, `aud`, `exp`, `iat` and `nonce`. The keys are made here with
//! the RustCrypto crates latchkey verifies with; each library reads the same JWK set.

use std::hint::black_box;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};
use latchkey::jose::{Algorithm, KeySet};
use latchkey::{Client, IdTokenExpectations};
use openidconnect::core::{
    CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
};
use openidconnect::{ClientId, IssuerUrl, Nonce};
use rsa::Generate as _;
use rsa::signature::{SignatureEncoding as _, Signer as _};
use rsa::traits::PublicKeyParts as _;
use serde_json::json;

const ISSUER: &str = "https://as.example";
const CLIENT: &str = "bench-client";
const NONCE: &str = "n-0S6_WzA2Mj";

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The compact JWS of the claims, signed by `sign` under `{alg, kid}`.
fn token(alg: &str, kid: &str, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let header = json!({"alg": alg, "kid": kid, "typ": "JWT"});
    let claims = json!({
        "iss": ISSUER, "sub": "alice", "aud": [CLIENT], "iat": now, "exp": now + 3600,
        "nonce": NONCE,
    });
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature = sign(input.as_bytes());
    format!("{input}.{}", b64(&signature))
}

fn validation(c: &mut Criterion) {
    let rsa_key = rsa::PrivateKey::generate();
    let public = rsa_key.to_public_key();
    let ec_key = p256::ecdsa::SigningKey::generate();
    let point = ec_key.verifying_key().to_sec1_point(false);
    let xy = &point.as_bytes()[1..];
    let jwks = json!({"keys": [
        {"kty": "RSA", "kid": "r1", "use": "sig", "alg": "RS256",
         "n": b64(&public.n().to_be_bytes_trimmed_vartime()),
         "e": b64(&public.e().to_be_bytes_trimmed_vartime())},
        {"kty": "EC", "kid": "e1", "use": "sig", "alg": "ES256", "crv": "P-256",
         "x": b64(&xy[..32]), "y": b64(&xy[32..])},
    ]})
    .to_string();
    let signer = rsa::pkcs1v15::SigningKey::<sha2_011::Sha256>::new(rsa_key);
    let rs256 = token("RS256", "r1", |input| signer.sign(input).to_vec());
    let es256 = token("ES256", "e1", |input| {
        let signature: p256::ecdsa::Signature = ec_key.sign(input);
        signature.to_bytes().to_vec()
    });

    let keys = KeySet::from_json(
        jwks.as_bytes(),
        SystemTime::now(),
        Duration::from_secs(86_400),
    )
    .expect("the key set");
    let client = Client::builder(CLIENT)
        .issuer(ISSUER)
        .token_endpoint("https://as.example/token")
        .id_token_keys(keys)
        .id_token_algorithms([Algorithm::RS256, Algorithm::ES256])
        .build()
        .expect("a client");
    let expect = IdTokenExpectations::new().nonce(NONCE);

    let peer_keys: CoreJsonWebKeySet = serde_json::from_str(&jwks).expect("the peer's key set");
    let verifier = CoreIdTokenVerifier::new_public_client(
        ClientId::new(CLIENT.into()),
        IssuerUrl::new(ISSUER.into()).expect("an issuer"),
        peer_keys,
    )
    .set_allowed_algs([
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    ]);
    let nonce = Nonce::new(NONCE.into());

    for (name, jwt) in [("rs256", &rs256), ("es256", &es256)] {
        // Both accept the token before anything is measured.
        let ours = client
            .validate_id_token(jwt, &expect, SystemTime::now())
            .expect("latchkey");
        assert_eq!(ours.sub, "alice");
        let parsed: CoreIdToken = jwt.parse().expect("openidconnect parses it");
        parsed
            .claims(&verifier, &nonce)
            .expect("openidconnect accepts it");

        let mut group = c.benchmark_group(format!("id_token_{name}"));
        group.bench_function("latchkey", |b| {
            b.iter(|| {
                black_box(client.validate_id_token(black_box(jwt), &expect, SystemTime::now()))
            })
        });
        group.bench_function("openidconnect", |b| {
            b.iter(|| {
                let parsed: CoreIdToken = black_box(jwt).parse().expect("parsed");
                black_box(
                    parsed
                        .claims(&verifier, &nonce)
                        .map(|claims| claims.subject().to_string()),
                )
            })
        });
        if name == "es256" {
            // The floors: the signature check alone, with each library's p256.
            let (input, signature) = jwt.rsplit_once('.').expect("a JWS");
            let signature = URL_SAFE_NO_PAD.decode(signature).expect("base64url");
            let ours = *ec_key.verifying_key();
            let ours_sig = p256::ecdsa::Signature::from_slice(&signature).expect("a signature");
            group.bench_function("floor_p256_0_14", |b| {
                b.iter(|| {
                    use p256::ecdsa::signature::Verifier as _;
                    black_box(ours.verify(black_box(input.as_bytes()), &ours_sig))
                })
            });
            let old = p256_013::ecdsa::VerifyingKey::from_sec1_bytes(point.as_bytes())
                .expect("the same key");
            let old_sig = p256_013::ecdsa::Signature::from_slice(&signature).expect("a signature");
            group.bench_function("floor_p256_0_13", |b| {
                b.iter(|| {
                    use p256_013::ecdsa::signature::Verifier as _;
                    black_box(old.verify(black_box(input.as_bytes()), &old_sig))
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, validation);
criterion_main!(benches);
