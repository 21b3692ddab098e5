//! The mock's ID token signing keys (one per algorithm family, made on first use with the
//! operating system's generator), its JWK set, and signing. The cryptography is RustCrypto's
//! (`rsa`, `p256`, `p384`, `ed25519-dalek`, `hmac`), the same crates latchkey's core verifies
//! with; this module only assembles the compact JWS.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::Generate as _;
use rsa::signature::{SignatureEncoding as _, Signer as _};
use rsa::traits::PublicKeyParts as _;
use serde_json::{Value, json};

use crate::client::IdTokenAlg;

/// The signing keys of one generation; [`Keys::rotate`] starts the next.
#[derive(Default)]
pub(crate) struct Keys {
    generation: u32,
    rsa: Option<rsa::PrivateKey>,
    p256: Option<p256::ecdsa::SigningKey>,
    p384: Option<p384::ecdsa::SigningKey>,
    ed25519: Option<ed25519_dalek::SigningKey>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl Keys {
    /// Replaces every key: the next ID tokens are signed under new `kid`s, and the JWK set
    /// lists only the new keys (as a provider that rotated and retired its old keys).
    pub(crate) fn rotate(&mut self) {
        *self = Self {
            generation: self.generation + 1,
            ..Self::default()
        };
    }

    /// The `kid` of `alg`'s key in this generation (one JWK per algorithm: the RSA key is
    /// published once for RS256 and once for PS256).
    fn kid(&self, alg: IdTokenAlg) -> String {
        format!(
            "mock-{}-{}",
            alg.as_str().to_ascii_lowercase(),
            self.generation
        )
    }

    /// Makes the key `alg` needs, if this generation has none yet.
    fn ensure(&mut self, alg: IdTokenAlg) {
        match alg {
            IdTokenAlg::RS256 | IdTokenAlg::PS256 => {
                self.rsa.get_or_insert_with(rsa::PrivateKey::generate);
            }
            IdTokenAlg::ES256 => {
                self.p256
                    .get_or_insert_with(p256::ecdsa::SigningKey::generate);
            }
            IdTokenAlg::ES384 => {
                self.p384
                    .get_or_insert_with(p384::ecdsa::SigningKey::generate);
            }
            IdTokenAlg::EdDSA => {
                self.ed25519.get_or_insert_with(|| {
                    let mut seed = [0u8; 32];
                    // Without OS randomness the key is merely predictable: a test server.
                    let _ = getrandom::fill(&mut seed);
                    ed25519_dalek::SigningKey::from_bytes(&seed)
                });
            }
            IdTokenAlg::HS256 => {}
        }
    }

    /// A compact JWS of `claims` signed with `alg` (HS256 with `secret`, the client's).
    pub(crate) fn sign(&mut self, alg: IdTokenAlg, claims: &Value, secret: &[u8]) -> String {
        self.ensure(alg);
        let header = match alg {
            IdTokenAlg::HS256 => json!({"alg": alg.as_str(), "typ": "JWT"}),
            _ => json!({"alg": alg.as_str(), "typ": "JWT", "kid": self.kid(alg)}),
        };
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let signature = self.signature(alg, input.as_bytes(), secret);
        format!("{input}.{}", b64(&signature))
    }

    fn signature(&self, alg: IdTokenAlg, input: &[u8], secret: &[u8]) -> Vec<u8> {
        let missing = "ensure made the key";
        match alg {
            IdTokenAlg::RS256 => {
                let key = self.rsa.clone().expect(missing);
                rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key)
                    .sign(input)
                    .to_vec()
            }
            IdTokenAlg::PS256 => {
                let key = self.rsa.clone().expect(missing);
                rsa::pss::SigningKey::<sha2::Sha256>::new(key)
                    .sign(input)
                    .to_vec()
            }
            IdTokenAlg::ES256 => {
                let signature: p256::ecdsa::Signature =
                    self.p256.as_ref().expect(missing).sign(input);
                signature.to_bytes().to_vec()
            }
            IdTokenAlg::ES384 => {
                let signature: p384::ecdsa::Signature =
                    self.p384.as_ref().expect(missing).sign(input);
                signature.to_bytes().to_vec()
            }
            IdTokenAlg::EdDSA => self
                .ed25519
                .as_ref()
                .expect(missing)
                .sign(input)
                .to_bytes()
                .to_vec(),
            IdTokenAlg::HS256 => {
                use hmac::{KeyInit as _, Mac as _};
                // HMAC takes a key of any length; the error is unreachable.
                let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret)
                    .expect("HMAC accepts any key length");
                mac.update(input);
                mac.finalize().into_bytes().to_vec()
            }
        }
    }

    /// The JWK set: the public half of every key this generation has, with `kid`,
    /// `use: sig` and `alg` (an RSA key once per algorithm it signs with). The elliptic-curve
    /// keys are published from the start, as providers do; the RSA key (slow to make) from the
    /// first RS256 or PS256 signature on.
    pub(crate) fn jwks(&mut self) -> Value {
        for alg in [IdTokenAlg::ES256, IdTokenAlg::ES384, IdTokenAlg::EdDSA] {
            self.ensure(alg);
        }
        let mut keys = Vec::new();
        if let Some(key) = &self.rsa {
            let public = key.to_public_key();
            for alg in [IdTokenAlg::RS256, IdTokenAlg::PS256] {
                keys.push(json!({
                    "kty": "RSA",
                    "kid": self.kid(alg),
                    "use": "sig",
                    "alg": alg.as_str(),
                    "n": b64(&public.n().to_be_bytes_trimmed_vartime()),
                    "e": b64(&public.e().to_be_bytes_trimmed_vartime()),
                }));
            }
        }
        if let Some(key) = &self.p256 {
            let point = key.verifying_key().to_sec1_point(false);
            let xy = &point.as_bytes()[1..];
            keys.push(json!({
                "kty": "EC", "crv": "P-256", "kid": self.kid(IdTokenAlg::ES256), "use": "sig",
                "alg": "ES256", "x": b64(&xy[..32]), "y": b64(&xy[32..]),
            }));
        }
        if let Some(key) = &self.p384 {
            let point = key.verifying_key().to_sec1_point(false);
            let xy = &point.as_bytes()[1..];
            keys.push(json!({
                "kty": "EC", "crv": "P-384", "kid": self.kid(IdTokenAlg::ES384), "use": "sig",
                "alg": "ES384", "x": b64(&xy[..48]), "y": b64(&xy[48..]),
            }));
        }
        if let Some(key) = &self.ed25519 {
            keys.push(json!({
                "kty": "OKP", "crv": "Ed25519", "kid": self.kid(IdTokenAlg::EdDSA), "use": "sig",
                "alg": "EdDSA", "x": b64(key.verifying_key().as_bytes()),
            }));
        }
        json!({ "keys": keys })
    }
}
