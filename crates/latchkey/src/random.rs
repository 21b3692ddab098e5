//! Randomness from the operating system's CSPRNG.
//!
//! latchkey draws every random value (state, PKCE verifier) straight from the OS CSPRNG through
//! `getrandom`, in one call per authorization request (48 bytes: 32 for the verifier, 16 for
//! the state). There is no user-space generator to seed, fork or leak; the cost is one system
//! call (`getrandom(2)` on Linux) per flow, well under a microsecond. Callers that bring their
//! own randomness build values with [`State::from_random_bytes`](crate::State::from_random_bytes)
//! and [`PkceVerifier::from_random_bytes`](crate::PkceVerifier::from_random_bytes), or supply
//! them whole with `State::new` / `PkceVerifier::new`.

use crate::Error;

/// Fills `buf` from the OS CSPRNG.
#[cfg(feature = "os-rng")]
pub(crate) fn fill(buf: &mut [u8]) -> Result<(), Error> {
    getrandom::fill(buf).map_err(|_| Error::Random)
}

/// Without the `os-rng` feature there is no built-in source: the caller must supply values.
#[cfg(not(feature = "os-rng"))]
pub(crate) fn fill(_buf: &mut [u8]) -> Result<(), Error> {
    Err(Error::Random)
}
