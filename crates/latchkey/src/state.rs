//! The `state` parameter: CSRF protection for redirect-based flows
//! ([RFC 6749 §10.12](https://www.rfc-editor.org/rfc/rfc6749#section-10.12)).

use serde::{Deserialize, Serialize};

use crate::secret::constant_time_eq;
use crate::{Error, random};

/// An opaque, unguessable value sent with an authorization request and checked on the callback.
///
/// Generated values carry 128 bits from the operating system's CSPRNG ([`random`](crate::random)) as 22
/// URL-safe characters. Comparison is constant-time.
///
/// Serialized as the bare string.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct State(String);

impl State {
    /// A fresh state from 16 bytes of the operating system's CSPRNG ([`random`](crate::random)).
    ///
    /// # Errors
    ///
    /// [`Error::Random`] when the OS generator fails.
    pub fn generate() -> Result<Self, Error> {
        let mut bytes = [0u8; 16];
        random::fill(&mut bytes)?;
        Ok(Self::from_random_bytes(&bytes))
    }

    /// A state from 16 caller-supplied random bytes.
    #[must_use]
    pub fn from_random_bytes(bytes: &[u8; 16]) -> Self {
        use base64::Engine as _;
        Self(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }

    /// A caller-chosen state (for example one that also encodes where to return to).
    ///
    /// # Security
    ///
    /// It must still contain enough randomness to be unguessable.
    #[must_use]
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value as sent.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Compares with a received value in constant time.
    #[must_use]
    pub fn matches(&self, received: &str) -> bool {
        constant_time_eq(self.0.as_bytes(), received.as_bytes())
    }
}

impl core::fmt::Debug for State {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("State(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_state_is_url_safe_and_long_enough() {
        let s = State::generate().unwrap();
        assert_eq!(s.as_str().len(), 22);
        assert!(
            s.as_str()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert!(s.matches(s.as_str()));
        assert!(!s.matches("other"));
    }
}
