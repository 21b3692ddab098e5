//! `CallbackParams::from_fragment`, and a whole implicit-flow callback, on any UTF-8 input.
#![no_main]

use std::sync::LazyLock;
use std::time::UNIX_EPOCH;

use latchkey::{CallbackParams, Client, State};
use libfuzzer_sys::fuzz_target;

static CLIENT: LazyLock<Client> = LazyLock::new(|| {
    Client::builder("fuzz")
        .authorization_endpoint("https://auth.example/authorize")
        .build()
        .unwrap()
});

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = format!("{:?}", CallbackParams::from_fragment(s));
        let (_, pending) = CLIENT.implicit().state(State::new("s")).build().unwrap();
        if let Err(e) = pending.callback(&CLIENT, s, UNIX_EPOCH) {
            let _ = e.to_string();
        }
    }
});
