//! `CallbackParams::from_query` on any UTF-8 input.
#![no_main]

use latchkey::CallbackParams;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = format!("{:?}", CallbackParams::from_query(s));
    }
});
