//! The JWS signature algorithms latchkey verifies.

use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256, Sha384, Sha512};

/// A JWS `alg` ([RFC 7518 §3.1](https://www.rfc-editor.org/rfc/rfc7518#section-3.1), EdDSA from
/// [RFC 8037](https://www.rfc-editor.org/rfc/rfc8037)). `none` is not one of them.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// HMAC with SHA-256 (only with the client secret, when opted in).
    HS256,
    /// HMAC with SHA-384 (only with the client secret, when opted in).
    HS384,
    /// HMAC with SHA-512 (only with the client secret, when opted in).
    HS512,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256 (salt as long as the hash).
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// ECDSA on P-384 with SHA-384.
    ES384,
    /// EdDSA (Ed25519).
    EdDSA,
}

impl Algorithm {
    /// Every algorithm, in a stable order.
    pub const ALL: [Self; 12] = [
        Self::HS256,
        Self::HS384,
        Self::HS512,
        Self::RS256,
        Self::RS384,
        Self::RS512,
        Self::PS256,
        Self::PS384,
        Self::PS512,
        Self::ES256,
        Self::ES384,
        Self::EdDSA,
    ];

    /// Parses an `alg` value (case-sensitive, as RFC 7515 §4.1.1 says); `None` for `none` and
    /// for anything latchkey does not implement.
    #[must_use]
    pub fn parse(alg: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == alg)
    }

    /// The `alg` value.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HS256 => "HS256",
            Self::HS384 => "HS384",
            Self::HS512 => "HS512",
            Self::RS256 => "RS256",
            Self::RS384 => "RS384",
            Self::RS512 => "RS512",
            Self::PS256 => "PS256",
            Self::PS384 => "PS384",
            Self::PS512 => "PS512",
            Self::ES256 => "ES256",
            Self::ES384 => "ES384",
            Self::EdDSA => "EdDSA",
        }
    }

    /// True for the HMAC algorithms (a shared secret, not a public key).
    #[must_use]
    pub fn is_hmac(self) -> bool {
        matches!(self, Self::HS256 | Self::HS384 | Self::HS512)
    }

    /// The left half of the hash of `value` that `at_hash` and `c_hash` carry, base64url
    /// ([OpenID Connect Core §3.1.3.6](https://openid.net/specs/openid-connect-core-1_0.html#CodeIDToken)):
    /// the hash of the algorithm's own size, SHA-512 for EdDSA.
    #[must_use]
    pub fn half_hash(self, value: &str) -> String {
        let digest: Vec<u8> = match self {
            Self::HS256 | Self::RS256 | Self::PS256 | Self::ES256 => {
                Sha256::digest(value.as_bytes()).to_vec()
            }
            Self::HS384 | Self::RS384 | Self::PS384 | Self::ES384 => {
                Sha384::digest(value.as_bytes()).to_vec()
            }
            Self::HS512 | Self::RS512 | Self::PS512 | Self::EdDSA => {
                Sha512::digest(value.as_bytes()).to_vec()
            }
        };
        super::b64url_encode(&digest[..digest.len() / 2])
    }

    /// Verifies an HMAC tag in constant time (the `hmac` crate's `verify_slice`). False for a
    /// non-HMAC algorithm.
    pub(crate) fn verify_hmac(self, secret: &[u8], input: &[u8], tag: &[u8]) -> bool {
        fn check<M: Mac + KeyInit>(secret: &[u8], input: &[u8], tag: &[u8]) -> bool {
            match <M as KeyInit>::new_from_slice(secret) {
                Ok(mut mac) => {
                    mac.update(input);
                    mac.verify_slice(tag).is_ok()
                }
                Err(_) => false,
            }
        }
        match self {
            Self::HS256 => check::<hmac::Hmac<Sha256>>(secret, input, tag),
            Self::HS384 => check::<hmac::Hmac<Sha384>>(secret, input, tag),
            Self::HS512 => check::<hmac::Hmac<Sha512>>(secret, input, tag),
            _ => false,
        }
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Algorithm {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Algorithm {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Self::parse(&text).ok_or_else(|| serde::de::Error::custom("unsupported JWS algorithm"))
    }
}
