//! Property tests for the `WWW-Authenticate` challenge parser: no input panics, rendered
//! challenges parse back.

use latchkey::Challenge;
use proptest::prelude::*;

fn quote(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

proptest! {
    #[test]
    fn challenge_parser_never_panics(
        s in prop_oneof![
            any::<String>(),
            "[A-Za-z =,\"\\\\\t!#é]{0,40}",
            "(Bearer|Basic|DPoP|realm|error|=|==|,| |\"|\\\\|é){0,20}",
        ]
    ) {
        for c in Challenge::parse_all(&s) {
            prop_assert!(!c.scheme.is_empty());
        }
    }

    #[test]
    fn challenge_parser_never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = Challenge::parse_all(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn rendered_challenges_parse_back(
        challenges in proptest::collection::vec(
            (
                "[A-Za-z][A-Za-z0-9-]{0,10}",
                proptest::collection::vec(("[A-Za-z_][A-Za-z0-9_]{0,10}", any::<String>()), 0..4),
            ),
            1..4,
        )
    ) {
        let header = challenges
            .iter()
            .map(|(scheme, params)| {
                let params: Vec<String> =
                    params.iter().map(|(k, v)| format!("{k}={}", quote(v))).collect();
                if params.is_empty() { scheme.clone() } else { format!("{scheme} {}", params.join(", ")) }
            })
            .collect::<Vec<_>>()
            .join(", ");
        let parsed = Challenge::parse_all(&header);
        prop_assert_eq!(parsed.len(), challenges.len(), "{:?}", header);
        for (got, (scheme, params)) in parsed.iter().zip(&challenges) {
            prop_assert_eq!(&got.scheme, scheme);
            let want: Vec<(String, String)> =
                params.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.clone())).collect();
            prop_assert_eq!(&got.params, &want, "{:?}", header);
        }
    }
}
