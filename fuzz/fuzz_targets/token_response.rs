//! `TokenSet::from_response` with the default and a lenient dialect.
//!
//! The first byte picks the status (`'2'` is 200, `'4'` 400, `'5'` 500, any other byte `b` is
//! `100 + 2 * b`); the rest is the body.
#![no_main]

use std::time::UNIX_EPOCH;

use latchkey::{Dialect, Response, TokenSet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((&first, body)) = data.split_first() {
        let status = match first {
            b'1'..=b'5' => u16::from(first - b'0') * 100,
            b => 100 + 2 * u16::from(b),
        };
        let response = Response::json(status, body, UNIX_EPOCH);
        let mut lenient = Dialect::default();
        lenient.missing_token_type_is_bearer = true;
        lenient.accept_any_token_type = true;
        for dialect in [Dialect::default(), lenient] {
            if let Err(e) = TokenSet::from_response(&response, &dialect, &["s3cr3t"]) {
                let _ = e.to_string();
            }
        }
    }
});
