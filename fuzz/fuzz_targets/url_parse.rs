//! `Url::parse` on any UTF-8 input: never panics, and what it accepts re-parses to itself.
#![no_main]

use latchkey::Url;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        match Url::parse(s) {
            Ok(url) => {
                let again = Url::parse(url.as_str()).expect("normalized text parses");
                assert_eq!(again, url, "normalizing is idempotent");
                let _ = (url.host_str(), url.path(), url.query(), url.fragment(), url.origin());
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
});
