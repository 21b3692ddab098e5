//! Randomness: every random value comes from the operating system's CSPRNG.
//!
//! State, PKCE verifiers and every other unguessable value latchkey makes are drawn from the
//! operating system with [`getrandom`](https://docs.rs/getrandom) on each call: no generator
//! state lives in user space, so nothing can repeat across `fork()`, and there is nothing to
//! reseed. In a browser (`wasm32-unknown-unknown`) the bytes come from
//! `crypto.getRandomValues`.
//!
//! Callers that bring their own randomness (tests, unusual targets, builds without the
//! `os-rng` feature) build values with
//! [`State::from_random_bytes`](crate::State::from_random_bytes) and
//! [`PkceVerifier::from_random_bytes`](crate::PkceVerifier::from_random_bytes), or supply them
//! whole with `State::new` / `PkceVerifier::new`.

use crate::Error;

/// Fills `buf` from the operating system's CSPRNG: the source of every state and PKCE
/// verifier, usable for other unguessable values (an OpenID Connect `nonce`, a session id).
///
/// # Errors
///
/// [`Error::Random`] when the operating system's generator fails, and always without the
/// `os-rng` feature (there is no built-in source then: callers supply values themselves).
pub fn fill(buf: &mut [u8]) -> Result<(), Error> {
    #[cfg(feature = "os-rng")]
    return getrandom::fill(buf).map_err(|_| Error::Random);
    #[cfg(not(feature = "os-rng"))]
    {
        let _ = buf;
        Err(Error::Random)
    }
}

#[cfg(all(test, feature = "os-rng"))]
mod tests {
    use super::*;

    #[test]
    fn draws_differ_and_fill_every_length() {
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        fill(&mut a).unwrap();
        fill(&mut b).unwrap();
        assert_ne!(a, b);
        for len in [0, 1, 15, 16, 17, 300] {
            let mut buf = vec![0u8; len];
            fill(&mut buf).unwrap();
            // 300 zero bytes from a CSPRNG would be a broken generator.
            if len >= 16 {
                assert!(buf.iter().any(|&b| b != 0));
            }
        }
    }
}
