//! Encryption at rest: XChaCha20-Poly1305 (RustCrypto's `chacha20poly1305`) with a random
//! 24-byte nonce from the operating system for every save.

use std::fmt;

use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};

use crate::error::{ErrorKind, store_error};
use latchkey::StoreError;

/// What an encrypted value starts with: the format and its version, so that a later format
/// can be told apart and a plain JSON value (which starts with `{`) is never mistaken for one.
pub(crate) const MAGIC: &[u8] = b"latchkey-xchacha20poly1305-v1:";

const NONCE_LEN: usize = 24;

/// Seals and opens token sets with one 32-byte key.
pub(crate) struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl Sealer {
    pub(crate) fn new(key: &[u8; 32]) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(&(*key).into()),
        }
    }

    /// `MAGIC`, a fresh nonce, then the ciphertext of `plain` (with its tag), bound to `aad`
    /// (the Redis key it is stored under).
    pub(crate) fn seal(&self, plain: &[u8], aad: &[u8]) -> Result<Vec<u8>, StoreError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce)
            .map_err(|_| store_error(ErrorKind::Random, "cannot draw a nonce for the token set"))?;
        let sealed = self
            .cipher
            .encrypt(&XNonce::from(nonce), Payload { msg: plain, aad })
            .map_err(|_| store_error(ErrorKind::Format, "cannot encrypt the token set"))?;
        let mut out = Vec::with_capacity(MAGIC.len() + NONCE_LEN + sealed.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// The plaintext of a value [`seal`](Self::seal) made with the same key and `aad`;
    /// `None` when it was not made so (another key, a changed byte, another Redis key).
    /// The caller has checked that `value` starts with `MAGIC`.
    pub(crate) fn open(&self, value: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
        let rest = value.strip_prefix(MAGIC)?;
        if rest.len() < NONCE_LEN {
            return None;
        }
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
        self.cipher
            .decrypt(&XNonce::from(nonce), Payload { msg: sealed, aad })
            .ok()
    }
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sealer(XChaCha20-Poly1305, key redacted)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_with_a_fresh_nonce_and_opens_only_with_the_same_key_and_key_name() {
        let sealer = Sealer::new(&[7; 32]);
        let a = sealer
            .seal(b"{\"access_token\":\"at\"}", b"p:tokens")
            .unwrap();
        let b = sealer
            .seal(b"{\"access_token\":\"at\"}", b"p:tokens")
            .unwrap();
        assert!(a.starts_with(MAGIC));
        assert_ne!(a, b, "a new nonce every time");
        assert_eq!(
            sealer.open(&a, b"p:tokens").unwrap(),
            b"{\"access_token\":\"at\"}"
        );
        assert!(Sealer::new(&[8; 32]).open(&a, b"p:tokens").is_none());
        assert!(sealer.open(&a, b"q:tokens").is_none());
        let mut tampered = a.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(sealer.open(&tampered, b"p:tokens").is_none());
        assert!(sealer.open(&a[..MAGIC.len() + 10], b"p:tokens").is_none());
        assert!(!format!("{sealer:?}").contains('7'));
    }
}
