//! Replays the fuzz corpus (`fuzz/corpus/<target>/*`) on stable, as part of `cargo test`.
//!
//! The bodies below duplicate the fuzz targets in `fuzz/fuzz_targets/` (the fuzz crate is its
//! own workspace and cannot share code with this test): keep the two in step.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::UNIX_EPOCH;

use latchkey::{
    CallbackParams, Challenge, Client, Dialect, Response, ServerError, State, TokenSet, parse_url,
};

/// `fuzz/fuzz_targets/callback_query.rs`
fn callback_query(data: &[u8]) {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = format!("{:?}", CallbackParams::from_query(s));
    }
}

static IMPLICIT_CLIENT: LazyLock<Client> = LazyLock::new(|| {
    Client::builder("fuzz")
        .authorization_endpoint("https://auth.example/authorize")
        .build()
        .unwrap()
});

/// `fuzz/fuzz_targets/implicit_fragment.rs`
fn implicit_fragment(data: &[u8]) {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = format!("{:?}", CallbackParams::from_fragment(s));
        let client = &*IMPLICIT_CLIENT;
        let (_, pending) = client.implicit().state(State::new("s")).build().unwrap();
        if let Err(e) = pending.callback(client, s, UNIX_EPOCH) {
            let _ = e.to_string();
        }
    }
}

/// `fuzz/fuzz_targets/token_response.rs`: the first byte picks the status (`'2'` is 200,
/// `'4'` 400, `'5'` 500, any other byte `b` is `100 + 2 * b`), the rest is the body.
fn token_response(data: &[u8]) {
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
}

/// `fuzz/fuzz_targets/error_response.rs`
fn error_response(data: &[u8]) {
    if let Some(e) = ServerError::from_json(Some(400), data) {
        let _ = e.to_string();
    }
    let _ = Challenge::parse_all(&String::from_utf8_lossy(data));
}

/// `fuzz/fuzz_targets/url_parse.rs`
fn url_parse(data: &[u8]) {
    if let Ok(s) = std::str::from_utf8(data) {
        match parse_url(s) {
            Ok(url) => {
                let again = parse_url(url.as_str()).expect("accepted text is accepted again");
                assert_eq!(again, url, "accepting is idempotent");
                let _ = (
                    latchkey::host_port(&url),
                    latchkey::drive::is_loopback(&url),
                );
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
}

/// `fuzz/fuzz_targets/jws.rs`
#[cfg(feature = "oidc")]
fn jws(data: &[u8]) {
    use latchkey::IdTokenClaims;
    use latchkey::jose::{Algorithm, Jws, KeySet};
    use std::time::Duration;
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
}

fn corpus(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target)
}

#[expect(
    clippy::disallowed_methods,
    reason = "a test reads its fixtures; the no-I/O rule is for the core"
)]
fn replay(target: &str, run: fn(&[u8])) {
    let dir = corpus(target);
    let mut count = 0;
    let entries =
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("corpus {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.unwrap().path();
        if !path.is_file() {
            continue;
        }
        let data = std::fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(outcome.is_ok(), "{target} panicked on {}", path.display());
        count += 1;
    }
    assert!(count > 0, "no corpus files in {}", dir.display());
}

#[test]
fn callback_query_corpus() {
    replay("callback_query", callback_query);
}

#[test]
fn implicit_fragment_corpus() {
    replay("implicit_fragment", implicit_fragment);
}

#[test]
fn token_response_corpus() {
    replay("token_response", token_response);
}

#[test]
fn error_response_corpus() {
    replay("error_response", error_response);
}

#[test]
fn url_parse_corpus() {
    replay("url_parse", url_parse);
}

#[cfg(feature = "oidc")]
#[test]
fn jws_corpus() {
    replay("jws", jws);
}
