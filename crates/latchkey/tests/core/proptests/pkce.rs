//! Property tests for PKCE (RFC 7636 §4.1, §4.2) and `state`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use latchkey::{PkceMethod, PkceVerifier, State};
use proptest::prelude::*;
use sha2::{Digest, Sha256};

/// RFC 7636 §4.1: `unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"`.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn is_url_safe_base64(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A valid verifier: 43 to 128 unreserved characters.
fn valid_verifier() -> impl Strategy<Value = String> {
    "[A-Za-z0-9._~-]{43,128}"
}

/// Any character a verifier must not contain.
fn forbidden_char() -> impl Strategy<Value = char> {
    any::<char>().prop_filter("must not be unreserved", |c| {
        !(c.is_ascii() && is_unreserved(*c as u8))
    })
}

proptest! {
    #[test]
    fn verifier_from_random_bytes_is_in_range(bytes in proptest::collection::vec(any::<u8>(), 32..=96)) {
        let verifier = PkceVerifier::from_random_bytes_checked(&bytes).unwrap();
        let s = verifier.expose_secret();
        prop_assert!((43..=128).contains(&s.len()), "length {}", s.len());
        prop_assert!(s.bytes().all(is_unreserved));
        prop_assert_eq!(s, URL_SAFE_NO_PAD.encode(&bytes));
        // What the generator makes, the checker accepts.
        prop_assert!(PkceVerifier::new(s).is_ok());
    }

    #[test]
    fn fixed_size_random_bytes_agree_with_checked(bytes in any::<[u8; 32]>()) {
        let a = PkceVerifier::from_random_bytes(&bytes);
        let b = PkceVerifier::from_random_bytes_checked(&bytes).unwrap();
        prop_assert_eq!(a.expose_secret(), b.expose_secret());
        prop_assert_eq!(a.expose_secret().len(), 43);
    }

    #[test]
    fn random_bytes_out_of_range_are_refused(
        bytes in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..32),
            proptest::collection::vec(any::<u8>(), 97..200),
        ]
    ) {
        prop_assert!(PkceVerifier::from_random_bytes_checked(&bytes).is_err());
    }

    #[test]
    fn s256_challenge_is_base64url_sha256(verifier in valid_verifier()) {
        let v = PkceVerifier::new(verifier.clone()).unwrap();
        prop_assert_eq!(v.expose_secret(), verifier.as_str());
        let expected = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let challenge = v.challenge(PkceMethod::S256);
        prop_assert_eq!(challenge.as_str(), expected.as_str());
        prop_assert_eq!(challenge.method(), PkceMethod::S256);
        prop_assert_eq!(challenge.as_str().len(), 43);
        prop_assert!(!challenge.as_str().contains('='));
        let plain = v.challenge(PkceMethod::Plain);
        prop_assert_eq!(plain.as_str(), verifier.as_str());
    }

    #[test]
    fn verifier_with_a_forbidden_char_is_refused(
        (verifier, at) in "[A-Za-z0-9._~-]{42,127}".prop_flat_map(|s| {
            let len = s.len();
            (Just(s), 0..=len)
        }),
        bad in forbidden_char(),
    ) {
        let mut verifier = verifier;
        verifier.insert(at, bad);
        prop_assert!(PkceVerifier::new(verifier).is_err());
    }

    #[test]
    fn verifier_of_wrong_length_is_refused(
        verifier in prop_oneof!["[A-Za-z0-9._~-]{0,42}", "[A-Za-z0-9._~-]{129,300}"]
    ) {
        prop_assert!(PkceVerifier::new(verifier).is_err());
    }

    #[test]
    fn any_string_is_accepted_only_when_valid(s in any::<String>()) {
        let valid = (43..=128).contains(&s.len()) && s.bytes().all(is_unreserved);
        prop_assert_eq!(PkceVerifier::new(s).is_ok(), valid);
    }

    #[test]
    fn state_from_random_bytes_is_22_url_safe_chars(bytes in any::<[u8; 16]>()) {
        let state = State::from_random_bytes(&bytes);
        prop_assert_eq!(state.as_str().len(), 22);
        prop_assert!(is_url_safe_base64(state.as_str()));
        prop_assert!(state.matches(&URL_SAFE_NO_PAD.encode(bytes)));
    }
}

#[test]
fn generated_states_are_22_url_safe_chars() {
    let mut seen = std::collections::HashSet::new();
    for _ in 0..256 {
        let state = State::generate().unwrap();
        assert_eq!(state.as_str().len(), 22);
        assert!(is_url_safe_base64(state.as_str()), "{}", state.as_str());
        assert!(seen.insert(state.as_str().to_owned()), "repeated state");
    }
}

#[test]
fn generated_verifiers_are_valid() {
    for _ in 0..256 {
        let verifier = PkceVerifier::generate().unwrap();
        assert_eq!(verifier.expose_secret().len(), 43);
        assert!(PkceVerifier::new(verifier.expose_secret()).is_ok());
    }
}
