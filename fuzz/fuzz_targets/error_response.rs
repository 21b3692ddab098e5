//! `ServerError::from_json` on any bytes, `Challenge::parse_all` on them as (lossy) text.
#![no_main]

use latchkey::{Challenge, ServerError};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(e) = ServerError::from_json(Some(400), data) {
        let _ = e.to_string();
    }
    let _ = Challenge::parse_all(&String::from_utf8_lossy(data));
});
