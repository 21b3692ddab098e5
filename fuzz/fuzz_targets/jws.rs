//! The JOSE parsers on any UTF-8 input: `Jws::parse`, the claims of whatever payload it
//! yields, and `KeySet::from_json` on the same bytes. Never panics; nothing verifies against
//! an empty key set or a made-up secret.
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use latchkey::IdTokenClaims;
use latchkey::jose::{Algorithm, Jws, KeySet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        match Jws::parse(s) {
            Ok(jws) => {
                let _ = format!("{jws:?}");
                let _ = IdTokenClaims::from_payload(jws.unverified_payload());
                assert!(jws.verify_with(&KeySet::empty(), &Algorithm::ALL).is_err());
                assert!(jws.verify_hmac(b"s3cret", &Algorithm::ALL).is_err());
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
    let _ = KeySet::from_json(data, UNIX_EPOCH, Duration::ZERO);
});
