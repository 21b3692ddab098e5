//! PKCE, Proof Key for Code Exchange ([RFC 7636](https://www.rfc-editor.org/rfc/rfc7636)).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::ConfigError;
use crate::{Error, random};

/// How the code challenge is derived from the verifier (RFC 7636 §4.2).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum PkceMethod {
    /// `S256`: `BASE64URL(SHA256(verifier))`. The default, and the only one to use unless the
    /// server cannot do it.
    #[default]
    S256,
    /// `plain`: the challenge is the verifier itself. Only by explicit opt-in
    /// ([`AuthorizationRequest::pkce_plain`](crate::AuthorizationRequest::pkce_plain)).
    Plain,
}

impl PkceMethod {
    /// The method's name on the wire.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::S256 => "S256",
            Self::Plain => "plain",
        }
    }
}

/// A PKCE code verifier: 43 to 128 unreserved characters (RFC 7636 §4.1).
///
/// # Security
///
/// `Debug` is redacted; the value is reachable only through
/// [`expose_secret`](Self::expose_secret).
///
/// Serialized as the bare string; deserializing checks it like [`new`](Self::new).
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PkceVerifier(Inline);

impl PkceVerifier {
    /// A fresh verifier from 32 bytes of the operating system's CSPRNG ([`random`](crate::random)): 43
    /// characters.
    ///
    /// # Errors
    ///
    /// [`Error::Random`] when the OS generator fails.
    pub fn generate() -> Result<Self, Error> {
        let mut bytes = [0u8; 32];
        random::fill(&mut bytes)?;
        Ok(Self::from_random_bytes(&bytes))
    }

    /// A verifier from caller-supplied random bytes: base64url without padding of the bytes.
    ///
    /// # Security
    ///
    /// `bytes` must come from a CSPRNG. RFC 7636 §7.1 asks for at least 32 bytes (256 bits).
    ///
    /// # Panics
    ///
    /// Never; fewer than 32 or more than 96 bytes are padded/truncated into range by
    /// [`from_random_bytes_checked`](Self::from_random_bytes_checked) instead.
    #[must_use]
    pub fn from_random_bytes(bytes: &[u8; 32]) -> Self {
        Self(Inline::base64url(bytes))
    }

    /// A verifier from between 32 and 96 caller-supplied random bytes.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidPkceVerifier`] outside that range.
    pub fn from_random_bytes_checked(bytes: &[u8]) -> Result<Self, Error> {
        if !(32..=96).contains(&bytes.len()) {
            return Err(ConfigError::InvalidPkceVerifier("needs 32 to 96 random bytes").into());
        }
        Ok(Self(Inline::base64url(bytes)))
    }

    /// Wraps an existing verifier after checking it against RFC 7636 §4.1.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidPkceVerifier`] when the length is outside 43–128 or a character
    /// is not unreserved (`A-Z a-z 0-9 - . _ ~`).
    pub fn new(verifier: impl Into<String>) -> Result<Self, Error> {
        let verifier = verifier.into();
        if !(43..=128).contains(&verifier.len()) {
            return Err(ConfigError::InvalidPkceVerifier("length must be 43 to 128").into());
        }
        if !verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
        {
            return Err(
                ConfigError::InvalidPkceVerifier("only unreserved characters allowed").into(),
            );
        }
        Ok(Self(Inline::from_ascii(verifier.as_bytes())))
    }

    /// The challenge sent with the authorization request.
    #[must_use]
    pub fn challenge(&self, method: PkceMethod) -> PkceChallenge {
        let value = match method {
            PkceMethod::S256 => Inline::base64url(&Sha256::digest(self.0.as_str().as_bytes())),
            PkceMethod::Plain => self.0.clone(),
        };
        PkceChallenge { value, method }
    }

    /// The S256 challenge written into a buffer: the 43 base64url characters of
    /// `SHA256(verifier)`, with no allocation (the authorization URL copies it straight in).
    pub(crate) fn s256_challenge_into<'b>(&self, buf: &'b mut [u8; 43]) -> &'b str {
        let digest = Sha256::digest(self.0.as_str().as_bytes());
        // 32 bytes are 43 base64url characters, so the buffer always fits; base64url output is
        // ASCII, so this never falls back to "".
        let written = URL_SAFE_NO_PAD.encode_slice(digest, buf).unwrap_or(0);
        std::str::from_utf8(&buf[..written]).unwrap_or_default()
    }

    /// Returns the verifier itself, for the token request.
    ///
    /// # Security
    ///
    /// Never log or display what this returns.
    #[must_use]
    pub fn expose_secret(&self) -> &str {
        self.0.as_str()
    }
}

impl TryFrom<String> for PkceVerifier {
    type Error = Error;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<PkceVerifier> for String {
    fn from(value: PkceVerifier) -> Self {
        value.expose_secret().to_owned()
    }
}

impl core::fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("PkceVerifier(<redacted>)")
    }
}

/// A PKCE code challenge and its method. Not secret.
#[derive(Clone, PartialEq, Eq)]
pub struct PkceChallenge {
    value: Inline,
    method: PkceMethod,
}

impl PkceChallenge {
    /// The `code_challenge` value.
    #[must_use]
    pub fn as_str(&self) -> &str {
        self.value.as_str()
    }

    /// The `code_challenge_method`.
    #[must_use]
    pub fn method(&self) -> PkceMethod {
        self.method
    }
}

impl core::fmt::Debug for PkceChallenge {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PkceChallenge")
            .field("value", &self.as_str())
            .field("method", &self.method)
            .finish()
    }
}

/// Up to 128 ASCII characters (a verifier or a challenge) kept inline: making a verifier and
/// its challenge allocates nothing. Deliberately without `Debug`: it may hold a verifier.
#[derive(Clone, PartialEq, Eq)]
struct Inline {
    bytes: [u8; 128],
    len: u8,
}

impl Inline {
    /// `ascii` as it is; the callers pass at most 128 ASCII bytes (checked verifiers,
    /// base64url output).
    fn from_ascii(ascii: &[u8]) -> Self {
        let mut bytes = [0u8; 128];
        let len = ascii.len().min(128);
        bytes[..len].copy_from_slice(&ascii[..len]);
        Self {
            bytes,
            len: len as u8,
        }
    }

    /// base64url without padding of at most 96 bytes (at most 128 characters).
    fn base64url(input: &[u8]) -> Self {
        let mut bytes = [0u8; 128];
        let input = &input[..input.len().min(96)];
        // 96 bytes are 128 base64url characters: the buffer always fits.
        let len = URL_SAFE_NO_PAD.encode_slice(input, &mut bytes).unwrap_or(0);
        Self {
            bytes,
            len: len as u8,
        }
    }

    fn as_str(&self) -> &str {
        // Only ASCII is ever stored, so this never falls back to "".
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B.
    #[test]
    fn rfc7636_appendix_b() {
        let bytes: [u8; 32] = [
            116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212,
            37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
        ];
        let verifier = PkceVerifier::from_random_bytes(&bytes);
        assert_eq!(
            verifier.expose_secret(),
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        );
        let challenge = verifier.challenge(PkceMethod::S256);
        assert_eq!(
            challenge.as_str(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_eq!(challenge.method().as_str(), "S256");
    }

    #[test]
    fn generated_verifiers_are_valid_and_distinct() {
        let a = PkceVerifier::generate().unwrap();
        let b = PkceVerifier::generate().unwrap();
        assert_eq!(a.expose_secret().len(), 43);
        assert!(PkceVerifier::new(a.expose_secret()).is_ok());
        assert_ne!(a.expose_secret(), b.expose_secret());
        assert_eq!(format!("{a:?}"), "PkceVerifier(<redacted>)");
    }

    #[test]
    fn invalid_verifiers_are_refused() {
        assert!(PkceVerifier::new("short").is_err());
        assert!(PkceVerifier::new("a".repeat(129)).is_err());
        assert!(PkceVerifier::new(format!("{}!", "a".repeat(43))).is_err());
        assert!(PkceVerifier::new("a".repeat(128)).is_ok());
        assert!(PkceVerifier::from_random_bytes_checked(&[0; 31]).is_err());
        assert_eq!(
            PkceVerifier::from_random_bytes_checked(&[0; 96])
                .unwrap()
                .expose_secret()
                .len(),
            128
        );
    }

    #[test]
    fn challenge_into_a_buffer_is_the_challenge() {
        for verifier in [
            PkceVerifier::generate().unwrap(),
            PkceVerifier::new("a".repeat(128)).unwrap(),
        ] {
            let mut buf = [0; 43];
            assert_eq!(
                verifier.s256_challenge_into(&mut buf),
                verifier.challenge(PkceMethod::S256).as_str()
            );
        }
    }

    #[test]
    fn plain_challenge_is_the_verifier() {
        let v = PkceVerifier::new("a".repeat(43)).unwrap();
        assert_eq!(v.challenge(PkceMethod::Plain).as_str(), "a".repeat(43));
    }
}
