//! Property tests for the JOSE parsers: no input makes the JWS parser, the claims reader or
//! the JWK set reader panic, whether it is noise, three base64url parts of noise, or JSON
//! close to the real thing.

use std::time::{Duration, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use latchkey::IdTokenClaims;
use latchkey::jose::{Algorithm, Jws, KeySet};
use proptest::prelude::*;

/// JSON values built from the members a JOSE header, a claim set or a JWK has.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        "[ -~]{0,12}".prop_map(serde_json::Value::from),
        prop::sample::select(vec![
            "none", "RS256", "HS256", "ES256", "EdDSA", "RSA", "EC", "OKP", "oct", "P-256",
            "P-384", "Ed25519", "sig", "enc", "AQAB", "",
        ])
        .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::vec((member(), inner), 0..6)
                .prop_map(|members| serde_json::Value::Object(members.into_iter().collect())),
        ]
    })
}

fn member() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "alg",
            "kid",
            "typ",
            "crit",
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "nonce",
            "azp",
            "auth_time",
            "amr",
            "keys",
            "kty",
            "crv",
            "x",
            "y",
            "n",
            "e",
            "use",
            "key_ops",
            "d",
        ])
        .prop_map(str::to_owned),
        "[a-z]{1,6}",
    ]
}

fn part() -> impl Strategy<Value = String> {
    prop_oneof![
        json_value().prop_map(|v| URL_SAFE_NO_PAD.encode(v.to_string())),
        prop::collection::vec(any::<u8>(), 0..80).prop_map(|b| URL_SAFE_NO_PAD.encode(b)),
        "[A-Za-z0-9_=+/.-]{0,40}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn the_jws_parser_never_panics_on_noise(token in any::<String>()) {
        if let Err(e) = Jws::parse(&token) {
            let _ = e.to_string();
        }
    }

    #[test]
    fn the_jws_parser_never_panics_on_three_parts(
        header in part(),
        payload in part(),
        signature in part(),
        dots in 0usize..4,
    ) {
        let mut token = format!("{header}.{payload}.{signature}");
        for _ in 0..dots {
            token.push('.');
        }
        match Jws::parse(&token) {
            Ok(jws) => {
                let _ = format!("{jws:?}");
                let _ = IdTokenClaims::from_payload(jws.unverified_payload());
                let empty = KeySet::empty();
                prop_assert!(jws.verify_with(&empty, &Algorithm::ALL).is_err());
                prop_assert!(jws.verify_hmac(b"s3cret", &Algorithm::ALL).is_err());
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }

    #[test]
    fn the_claims_and_key_set_readers_never_panic(value in json_value()) {
        let bytes = value.to_string().into_bytes();
        if let Err(e) = IdTokenClaims::from_payload(&bytes) {
            let _ = e.to_string();
        }
        let doc = serde_json::json!({ "keys": [value] }).to_string();
        let set = KeySet::from_json(doc.as_bytes(), UNIX_EPOCH, Duration::ZERO).unwrap();
        let _ = format!("{set:?}");
        let _ = KeySet::from_json(&bytes, UNIX_EPOCH, Duration::ZERO);
    }
}
