//! latchkey's URL rules on top of the `url` crate (`parse_url`, and the client's endpoint and
//! redirect URI checks) on any UTF-8 input: never panics, and what is accepted is accepted
//! again unchanged from its own text.
#![no_main]

use latchkey::{Client, parse_url};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        match parse_url(s) {
            Ok(url) => {
                let again = parse_url(url.as_str()).expect("accepted text is accepted again");
                assert_eq!(again, url, "accepting is idempotent");
                let _ = (latchkey::host_port(&url), latchkey::drive::is_loopback(&url));
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
        let built = Client::builder("fuzz")
            .token_endpoint(s)
            .redirect_uri(s)
            .build();
        if let Err(e) = built {
            let _ = e.to_string();
        }
    }
});
