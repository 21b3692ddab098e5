//! JOSE, as far as OpenID Connect, DPoP and JWT client authentication need it: JWS in compact form ([RFC 7515](https://www.rfc-editor.org/rfc/rfc7515)),
//! JSON Web Keys and key sets ([RFC 7517](https://www.rfc-editor.org/rfc/rfc7517)) and the
//! signature algorithms of [RFC 7518 §3](https://www.rfc-editor.org/rfc/rfc7518#section-3)
//! and [RFC 8037](https://www.rfc-editor.org/rfc/rfc8037) (EdDSA).
//!
//! The cryptography is RustCrypto's (`rsa`, `p256`, `p384`, `ed25519-dalek`, `hmac`, `sha2`);
//! nothing here computes a signature by hand. [`SigningKey`] signs (DPoP proofs, client
//! assertions) with the same crates. What this module adds to verification is the choosing:
//!
//! - `alg: none` is never accepted, and neither is an `alg` the caller did not allow;
//! - an HMAC `alg` verifies only with the client secret, only when the caller opted in, and
//!   never with a key from a key set (so a public RSA or EC key can never become an HMAC
//!   secret: the algorithm-confusion attack);
//! - a `crit` header is refused (no extension is understood);
//! - a key is chosen by `kid` and by fitting the `alg` (its type, curve, `use` and `alg`); a
//!   `kid` that several fitting keys share, or no `kid` with several fitting keys, is refused
//!   rather than guessed at.

mod alg;
mod jwk;
mod jws;
mod sign;

pub use alg::Algorithm;
pub(crate) use jwk::cache_max_age;
pub use jwk::{Jwk, KeySet, KeyType};
pub use jws::{Jws, MAX_JWS_BYTES};
pub use sign::{SigningKey, sign_hmac};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Decodes strict base64url without padding (RFC 7515 §2), or `None`.
pub(crate) fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

/// Encodes base64url without padding.
pub(crate) use crate::wire::encode::base64url as b64url_encode;
