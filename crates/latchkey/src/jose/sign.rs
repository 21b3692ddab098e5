//! Signing: the client's own private key ([`SigningKey`]), its public JWK and
//! [RFC 7638](https://www.rfc-editor.org/rfc/rfc7638) thumbprint, and JWS in compact form.
//!
//! The signatures are RustCrypto's (`p256`, `ed25519-dalek`, `rsa`, `hmac`) through their
//! stable `Signer` APIs; this module assembles `header . payload . signature` only.

use p256::ecdsa::signature::Signer as _;
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};

use super::{Algorithm, b64url_encode};
use crate::error::{ConfigError, Error};
use crate::secret::PrivateKeyPem;

/// The smallest RSA key latchkey signs with, in bits (RFC 7518 §3.3).
const MIN_RSA_BITS: usize = 2048;

enum Secret {
    P256(p256::ecdsa::SigningKey),
    Ed25519(ed25519_dalek::SigningKey),
    Rsa(Box<rsa::PrivateKey>),
}

/// The client's private signing key: for DPoP proofs
/// ([RFC 9449](https://www.rfc-editor.org/rfc/rfc9449)) and `private_key_jwt` client
/// assertions ([RFC 7523](https://www.rfc-editor.org/rfc/rfc7523)).
///
/// ES256 (P-256) is the default; EdDSA (Ed25519), RS256 and PS256 (RSA, 2048 bits or more)
/// are the options. A key is [generated](Self::generate) from the operating system's
/// generator or [read](Self::from_pkcs8_pem) from PKCS#8 PEM.
///
/// # Security
///
/// `Debug` shows the algorithm, `kid` and thumbprint, never the private key. Clones share
/// one copy of the private key; there is no way to read it back out.
#[derive(Clone)]
pub struct SigningKey {
    alg: Algorithm,
    kid: Option<String>,
    secret: std::sync::Arc<Secret>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .field("jkt", &self.thumbprint())
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A new key for `alg` (ES256, EdDSA, RS256 or PS256; RSA keys are 3072 bits, `rsa`'s default) from the
    /// operating system's generator.
    ///
    /// # Errors
    ///
    /// [`ConfigError::SigningKey`] for another algorithm (RSA ones too, without the `os-rng`
    /// feature); [`Error::Random`] when the generator fails.
    pub fn generate(alg: Algorithm) -> Result<Self, Error> {
        let secret = match alg {
            Algorithm::ES256 => {
                // A uniformly random 32-byte string is a valid scalar unless it is zero or
                // at least the group order (probability about 2^-32); draw again then.
                let mut key = None;
                for _ in 0..8 {
                    let mut seed = zeroizing_seed();
                    crate::random::fill(&mut seed.0)?;
                    if let Ok(k) = p256::ecdsa::SigningKey::from_slice(&seed.0) {
                        key = Some(k);
                        break;
                    }
                }
                Secret::P256(key.ok_or(Error::Random)?)
            }
            Algorithm::EdDSA => {
                let mut seed = zeroizing_seed();
                crate::random::fill(&mut seed.0)?;
                Secret::Ed25519(ed25519_dalek::SigningKey::from_bytes(&seed.0))
            }
            Algorithm::RS256 | Algorithm::PS256 => Secret::Rsa(Box::new(generate_rsa()?)),
            _ => return Err(unsupported()),
        };
        Ok(Self {
            alg,
            kid: None,
            secret: std::sync::Arc::new(secret),
        })
    }

    /// Reads a PKCS#8 private key in PEM (`-----BEGIN PRIVATE KEY-----`, unencrypted) to sign
    /// with `alg`: a P-256 key for ES256, an Ed25519 key for EdDSA, an RSA key of 2048 bits or
    /// more for RS256 or PS256.
    ///
    /// # Errors
    ///
    /// [`ConfigError::SigningKey`] when the PEM does not hold such a key; the message never
    /// quotes the PEM.
    pub fn from_pkcs8_pem(pem: &str, alg: Algorithm) -> Result<Self, Error> {
        let secret = match alg {
            Algorithm::ES256 => {
                use p256::pkcs8::DecodePrivateKey as _;
                Secret::P256(
                    p256::ecdsa::SigningKey::from_pkcs8_pem(pem)
                        .map_err(|_| bad("not a PKCS#8 PEM P-256 private key"))?,
                )
            }
            Algorithm::EdDSA => {
                use ed25519_dalek::pkcs8::DecodePrivateKey as _;
                Secret::Ed25519(
                    ed25519_dalek::SigningKey::from_pkcs8_pem(pem)
                        .map_err(|_| bad("not a PKCS#8 PEM Ed25519 private key"))?,
                )
            }
            Algorithm::RS256 | Algorithm::PS256 => {
                use rsa::pkcs8::DecodePrivateKey as _;
                use rsa::traits::PublicKeyParts as _;
                let key = rsa::PrivateKey::from_pkcs8_pem(pem)
                    .map_err(|_| bad("not a PKCS#8 PEM RSA private key"))?;
                if key.size() * 8 < MIN_RSA_BITS {
                    return Err(bad("RSA key shorter than 2048 bits"));
                }
                Secret::Rsa(Box::new(key))
            }
            _ => return Err(unsupported()),
        };
        Ok(Self {
            alg,
            kid: None,
            secret: std::sync::Arc::new(secret),
        })
    }

    /// The private key as unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), which
    /// [`from_pkcs8_pem`](Self::from_pkcs8_pem) reads back: for keeping a DPoP key with the
    /// tokens bound to it, or in a file of mode 0600.
    ///
    /// # Security
    ///
    /// This is the private key. It goes only where the refresh token goes.
    ///
    /// # Errors
    ///
    /// [`ConfigError::SigningKey`] when the key crate cannot encode it.
    pub fn to_pkcs8_pem(&self) -> Result<PrivateKeyPem, Error> {
        match &*self.secret {
            Secret::P256(key) => {
                use p256::pkcs8::{EncodePrivateKey as _, LineEnding};
                key.to_pkcs8_pem(LineEnding::LF)
                    .map(|pem| PrivateKeyPem::new(pem.as_str()))
                    .map_err(|_| bad("the P-256 key could not be encoded"))
            }
            Secret::Ed25519(key) => {
                use ed25519_dalek::pkcs8::{EncodePrivateKey as _, spki::der::pem::LineEnding};
                key.to_pkcs8_pem(LineEnding::LF)
                    .map(|pem| PrivateKeyPem::new(pem.as_str()))
                    .map_err(|_| bad("the Ed25519 key could not be encoded"))
            }
            Secret::Rsa(key) => {
                use rsa::pkcs8::{EncodePrivateKey as _, LineEnding};
                key.to_pkcs8_pem(LineEnding::LF)
                    .map(|pem| PrivateKeyPem::new(pem.as_str()))
                    .map_err(|_| bad("the RSA key could not be encoded"))
            }
        }
    }

    /// Sets the `kid` put in the header of every JWS this key signs (a `private_key_jwt`
    /// key registered in a JWK set usually has one; DPoP proofs never carry it).
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// The same key without a `kid`.
    pub(crate) fn without_kid(mut self) -> Self {
        self.kid = None;
        self
    }

    /// The algorithm this key signs with.
    #[must_use]
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The `kid`, if one was set.
    #[must_use]
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The public key as a JWK with its required members only (`kty`, `crv`, `x`, `y` for
    /// EC; `kty`, `crv`, `x` for OKP; `kty`, `n`, `e` for RSA): what a DPoP proof's header
    /// carries, and never a private member.
    #[must_use]
    pub fn public_jwk(&self) -> Value {
        match &*self.secret {
            Secret::P256(key) => {
                let point = key.verifying_key().to_sec1_point(false);
                // The uncompressed point: 0x04, then x and y of 32 bytes each.
                let xy = point.as_bytes().get(1..).unwrap_or_default();
                let (x, y) = xy.split_at(xy.len() / 2);
                json!({"kty": "EC", "crv": "P-256", "x": b64url_encode(x), "y": b64url_encode(y)})
            }
            Secret::Ed25519(key) => {
                json!({"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(key.verifying_key().as_bytes())})
            }
            Secret::Rsa(key) => {
                use rsa::traits::PublicKeyParts as _;
                json!({
                    "kty": "RSA",
                    "n": b64url_encode(&key.n().to_be_bytes_trimmed_vartime()),
                    "e": b64url_encode(&key.e().to_be_bytes_trimmed_vartime()),
                })
            }
        }
    }

    /// The public key's JWK thumbprint ([RFC 7638](https://www.rfc-editor.org/rfc/rfc7638)):
    /// base64url(SHA-256) of the required members in lexicographic order with no white
    /// space. It is DPoP's `jkt` (the `dpop_jkt` parameter, a token's `cnf.jkt`).
    #[must_use]
    pub fn thumbprint(&self) -> String {
        // serde_json's map keeps keys sorted (no `preserve_order` feature) and `to_string`
        // writes no white space: exactly RFC 7638 §3's form.
        let canonical = self.public_jwk().to_string();
        b64url_encode(&Sha256::digest(canonical.as_bytes()))
    }

    /// Signs `claims` as a compact JWS. The header is `header` with `alg` (and `kid`, when
    /// set and `header` has none) added.
    ///
    /// # Errors
    ///
    /// [`ConfigError::SigningKey`] when the signature cannot be made (an RSA key without the
    /// `os-rng` feature: RSA signing needs randomness for blinding and the PSS salt).
    pub fn sign(&self, mut header: Map<String, Value>, claims: &Value) -> Result<String, Error> {
        header.insert("alg".into(), Value::from(self.alg.as_str()));
        if let Some(kid) = &self.kid {
            header
                .entry("kid")
                .or_insert_with(|| Value::from(kid.as_str()));
        }
        let input = signing_input(&header, claims);
        let signature = self.signature(input.as_bytes())?;
        Ok(format!("{input}.{}", b64url_encode(&signature)))
    }

    fn signature(&self, input: &[u8]) -> Result<Vec<u8>, Error> {
        match &*self.secret {
            Secret::P256(key) => {
                let signature: p256::ecdsa::Signature = key.sign(input);
                Ok(signature.to_bytes().to_vec())
            }
            Secret::Ed25519(key) => Ok(key.sign(input).to_bytes().to_vec()),
            Secret::Rsa(key) => rsa_signature(key, self.alg == Algorithm::PS256, input),
        }
    }
}

/// Signs `claims` as a compact JWS with HMAC over `secret` (HS256, HS384 or HS512):
/// `client_secret_jwt` ([RFC 7523 §2.2](https://www.rfc-editor.org/rfc/rfc7523#section-2.2)).
///
/// # Errors
///
/// [`ConfigError::SigningKey`] for an `alg` that is not HMAC.
pub fn sign_hmac(
    alg: Algorithm,
    secret: &[u8],
    mut header: Map<String, Value>,
    claims: &Value,
) -> Result<String, Error> {
    fn tag<M: hmac::Mac + hmac::KeyInit>(secret: &[u8], input: &[u8]) -> Result<Vec<u8>, Error> {
        let mut mac = <M as hmac::KeyInit>::new_from_slice(secret)
            .map_err(|_| bad("the HMAC key was refused"))?;
        mac.update(input);
        Ok(mac.finalize().into_bytes().to_vec())
    }
    header.insert("alg".into(), Value::from(alg.as_str()));
    let input = signing_input(&header, claims);
    let signature = match alg {
        Algorithm::HS256 => tag::<hmac::Hmac<Sha256>>(secret, input.as_bytes())?,
        Algorithm::HS384 => tag::<hmac::Hmac<sha2::Sha384>>(secret, input.as_bytes())?,
        Algorithm::HS512 => tag::<hmac::Hmac<sha2::Sha512>>(secret, input.as_bytes())?,
        _ => return Err(bad("not an HMAC algorithm")),
    };
    Ok(format!("{input}.{}", b64url_encode(&signature)))
}

/// `BASE64URL(header) . BASE64URL(claims)`.
fn signing_input(header: &Map<String, Value>, claims: &Value) -> String {
    let header = Value::Object(header.clone()).to_string();
    format!(
        "{}.{}",
        b64url_encode(header.as_bytes()),
        b64url_encode(claims.to_string().as_bytes())
    )
}

/// A 32-byte seed that is wiped when dropped.
struct Seed([u8; 32]);

impl Drop for Seed {
    fn drop(&mut self) {
        // Not a guarantee (the optimizer may elide it), only a courtesy; the key crates
        // zeroize their own copies.
        self.0 = [0; 32];
    }
}

fn zeroizing_seed() -> Seed {
    Seed([0; 32])
}

fn bad(why: &'static str) -> Error {
    Error::Config(ConfigError::SigningKey(why))
}

fn unsupported() -> Error {
    bad("latchkey signs with ES256, EdDSA, RS256 or PS256 keys")
}

#[cfg(feature = "os-rng")]
fn generate_rsa() -> Result<rsa::PrivateKey, Error> {
    use rsa::Generate as _;
    // `rsa`'s default size (3072 bits), from the operating system's generator.
    rsa::PrivateKey::try_generate().map_err(|_| Error::Random)
}

#[cfg(not(feature = "os-rng"))]
fn generate_rsa() -> Result<rsa::PrivateKey, Error> {
    Err(bad("RSA keys are generated only with the os-rng feature"))
}

#[cfg(feature = "os-rng")]
fn rsa_signature(key: &rsa::PrivateKey, pss: bool, input: &[u8]) -> Result<Vec<u8>, Error> {
    use rsa::signature::{SignatureEncoding as _, Signer as _};
    // The `getrandom` feature of `rsa` (switched on by `os-rng`) blinds the private-key
    // operation and draws the PSS salt from the operating system.
    let signature = if pss {
        rsa::pss::SigningKey::<Sha256>::new(key.clone())
            .try_sign(input)
            .map(|s| s.to_vec())
    } else {
        rsa::pkcs1v15::SigningKey::<Sha256>::new(key.clone())
            .try_sign(input)
            .map(|s| s.to_vec())
    };
    signature.map_err(|_| bad("RSA signing failed"))
}

#[cfg(not(feature = "os-rng"))]
fn rsa_signature(key: &rsa::PrivateKey, pss: bool, input: &[u8]) -> Result<Vec<u8>, Error> {
    // Unblinded RSA signing leaks timing; without a generator latchkey does not sign.
    let _ = (key, pss, input);
    Err(bad("RSA signing needs the os-rng feature"))
}
