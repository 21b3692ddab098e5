//! JWS compact serialization ([RFC 7515 §7.1](https://www.rfc-editor.org/rfc/rfc7515#section-7.1)):
//! `BASE64URL(header) . BASE64URL(payload) . BASE64URL(signature)`.

use serde::Deserialize;

use super::{Algorithm, Jwk, KeySet, b64url_decode};
use crate::error::IdTokenError;

/// The longest JWS the parser reads, in bytes. ID tokens are a few kilobytes; anything far
/// larger is refused before it is decoded.
pub const MAX_JWS_BYTES: usize = 64 * 1024;

/// A JWS in compact form, parsed but not yet verified: its header, its payload bytes and its
/// signature. Parsing checks the form only; [`verify_with`](Self::verify_with) or
/// [`verify_hmac`](Self::verify_hmac) checks the signature.
#[derive(Clone)]
pub struct Jws {
    alg: Algorithm,
    kid: Option<String>,
    typ: Option<String>,
    /// The whole protected header, as parsed.
    header: serde_json::Map<String, serde_json::Value>,
    /// `header . payload` as received: what the signature covers.
    signing_input: String,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

impl std::fmt::Debug for Jws {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token is a credential (an id_token_hint, a bearer JWT): only the header shows.
        f.debug_struct("Jws")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .field("typ", &self.typ)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    typ: Option<String>,
    #[serde(default)]
    crit: Option<serde_json::Value>,
}

impl Jws {
    /// Parses a compact JWS.
    ///
    /// # Errors
    ///
    /// [`IdTokenError::TooLarge`] past [`MAX_JWS_BYTES`]; [`IdTokenError::Malformed`] for
    /// anything but three base64url parts with a JSON object header that has a string `alg`
    /// (five parts, an encrypted JWE, included); [`IdTokenError::Unsigned`] for `alg: none`;
    /// [`IdTokenError::UnsupportedAlgorithm`] for an `alg` latchkey does not implement;
    /// [`IdTokenError::CriticalHeader`] for a `crit` member.
    pub fn parse(token: &str) -> Result<Self, IdTokenError> {
        if token.len() > MAX_JWS_BYTES {
            return Err(IdTokenError::TooLarge {
                limit: MAX_JWS_BYTES,
            });
        }
        let mut parts = token.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(IdTokenError::Malformed(
                "not three dot-separated parts (an encrypted JWE is not supported)",
            ));
        };
        let header_bytes =
            b64url_decode(header_b64).ok_or(IdTokenError::Malformed("header is not base64url"))?;
        // The typed header first: it refuses a member named twice (`alg` above all), which a
        // map would keep the last of.
        let header: Header = serde_json::from_slice(&header_bytes)
            .map_err(|_| IdTokenError::Malformed("header is not a JSON object with an alg"))?;
        let members: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&header_bytes)
                .map_err(|_| IdTokenError::Malformed("header is not a JSON object with an alg"))?;
        if header.alg == "none" {
            return Err(IdTokenError::Unsigned);
        }
        let alg = Algorithm::parse(&header.alg).ok_or_else(|| {
            IdTokenError::UnsupportedAlgorithm(crate::wire::error_response::bounded(
                &header.alg,
                40,
            ))
        })?;
        if header.crit.is_some() {
            return Err(IdTokenError::CriticalHeader);
        }
        let payload = b64url_decode(payload_b64)
            .ok_or(IdTokenError::Malformed("payload is not base64url"))?;
        let signature = b64url_decode(signature_b64)
            .ok_or(IdTokenError::Malformed("signature is not base64url"))?;
        if signature.is_empty() {
            return Err(IdTokenError::Malformed("signature is empty"));
        }
        let signing_input_len = header_b64.len() + 1 + payload_b64.len();
        Ok(Self {
            alg,
            kid: header.kid,
            typ: header.typ,
            header: members,
            signing_input: token[..signing_input_len].to_owned(),
            payload,
            signature,
        })
    }

    /// The header's `alg`.
    #[must_use]
    pub fn alg(&self) -> Algorithm {
        self.alg
    }

    /// The header's `kid`, if any.
    #[must_use]
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The header's `typ`, if any.
    #[must_use]
    pub fn typ(&self) -> Option<&str> {
        self.typ.as_deref()
    }

    /// The whole protected header (JSON object members), e.g. to read a DPoP proof's `jwk`
    /// ([RFC 9449 §4.2](https://www.rfc-editor.org/rfc/rfc9449#section-4.2)) before
    /// verifying with it.
    #[must_use]
    pub fn header(&self) -> &serde_json::Map<String, serde_json::Value> {
        &self.header
    }

    /// The payload bytes, not yet verified.
    #[must_use]
    pub fn unverified_payload(&self) -> &[u8] {
        &self.payload
    }

    /// Checks that `alg` is among `allowed`, and for an HMAC `alg` that `secret` is given.
    fn check_alg(&self, allowed: &[Algorithm]) -> Result<(), IdTokenError> {
        if allowed.contains(&self.alg) {
            Ok(())
        } else {
            Err(IdTokenError::AlgorithmNotAllowed(self.alg.as_str()))
        }
    }

    /// Verifies the signature with the one key of `keys` that fits the header, and returns the
    /// payload.
    ///
    /// # Errors
    ///
    /// [`IdTokenError::AlgorithmNotAllowed`] for an `alg` outside `allowed`;
    /// [`IdTokenError::HmacNotAllowed`] for an HMAC `alg` (a key set never holds HMAC secrets,
    /// see [`verify_hmac`](Self::verify_hmac)); [`IdTokenError::UnknownKey`] /
    /// [`IdTokenError::AmbiguousKey`] when no key or several keys fit;
    /// [`IdTokenError::BadSignature`].
    pub fn verify_with(&self, keys: &KeySet, allowed: &[Algorithm]) -> Result<&[u8], IdTokenError> {
        self.check_alg(allowed)?;
        if self.alg.is_hmac() {
            return Err(IdTokenError::HmacNotAllowed(self.alg.as_str()));
        }
        let key = keys.select(self.kid.as_deref(), self.alg)?;
        self.verify_key(key)?;
        Ok(&self.payload)
    }

    /// Verifies the signature with one given key (which must fit the `alg`).
    ///
    /// # Errors
    ///
    /// [`IdTokenError::UnknownKey`] when the key does not fit the `alg`;
    /// [`IdTokenError::BadSignature`].
    pub fn verify_key(&self, key: &Jwk) -> Result<(), IdTokenError> {
        if !key.fits(self.alg) {
            return Err(IdTokenError::UnknownKey {
                kid: self.kid.clone(),
            });
        }
        if key.verify(self.alg, self.signing_input.as_bytes(), &self.signature) {
            Ok(())
        } else {
            Err(IdTokenError::BadSignature)
        }
    }

    /// Verifies an HMAC signature (HS256/384/512) with the client secret, and returns the
    /// payload ([OpenID Connect Core §10.1](https://openid.net/specs/openid-connect-core-1_0.html#Signing):
    /// the octets of the secret's UTF-8 form are the key).
    ///
    /// # Errors
    ///
    /// [`IdTokenError::AlgorithmNotAllowed`] for an `alg` outside `allowed` or one that is not
    /// HMAC; [`IdTokenError::BadSignature`].
    pub fn verify_hmac(&self, secret: &[u8], allowed: &[Algorithm]) -> Result<&[u8], IdTokenError> {
        self.check_alg(allowed)?;
        if !self.alg.is_hmac() {
            // A public-key algorithm never verifies with a shared secret.
            return Err(IdTokenError::AlgorithmNotAllowed(self.alg.as_str()));
        }
        if self
            .alg
            .verify_hmac(secret, self.signing_input.as_bytes(), &self.signature)
        {
            Ok(&self.payload)
        } else {
            Err(IdTokenError::BadSignature)
        }
    }
}
