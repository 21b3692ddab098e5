//! latchkey's own URL parser against the `url` crate (the WHATWG URL standard) on generated
//! valid `http(s)` URLs: the same normalized text and the same components.

use latchkey::Url;
use proptest::prelude::*;

fn mixed_case(s: String, upper: Vec<bool>) -> String {
    s.chars()
        .zip(upper.into_iter().chain(std::iter::repeat(false)))
        .map(|(c, up)| if up { c.to_ascii_uppercase() } else { c })
        .collect()
}

fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        (
            prop::collection::vec("[a-z][a-z0-9-]{0,8}", 1..4),
            prop::collection::vec(any::<bool>(), 30)
        )
            .prop_map(|(labels, upper)| mixed_case(labels.join("."), upper)),
        any::<[u8; 4]>().prop_map(|o| format!("{}.{}.{}.{}", o[0], o[1], o[2], o[3])),
        any::<u128>().prop_map(|v| format!("[{}]", std::net::Ipv6Addr::from(v))),
        any::<u32>().prop_map(|v| format!("[::ffff:{}]", std::net::Ipv4Addr::from(v))),
        (any::<u16>(), any::<u16>(), 0usize..8).prop_map(|(a, b, zeros)| {
            let mut pieces = vec!["0".to_owned(); 8];
            pieces[zeros] = format!("{a:x}");
            pieces[7 - zeros] = format!("{b:x}");
            format!("[{}]", pieces.join(":"))
        }),
        any::<[u16; 8]>().prop_map(|w| format!(
            "[{:x}:{:x}:{:x}:{:x}:{:x}:{:x}:{:x}:{:X}]",
            w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]
        )),
        Just("localhost".to_owned()),
    ]
}

/// Path, query and fragment text: unreserved, sub-delims, `:@/?`, characters that get
/// percent-encoded, valid `%XX`, dot segments and non-ASCII.
fn part() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            "[A-Za-z0-9._~!$&'()*+,;=:@/-]{1,6}",
            Just(" ".to_owned()),
            Just("\"".to_owned()),
            Just("<>".to_owned()),
            Just("`{}|^".to_owned()),
            Just("?".to_owned()),
            Just("..".to_owned()),
            Just("./".to_owned()),
            Just("../".to_owned()),
            Just("%2e".to_owned()),
            Just("%2E%2e/".to_owned()),
            "%[0-9A-Fa-f]{2}",
            "[é€😀\u{a0}]",
        ],
        0..8,
    )
    .prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn same_text_and_components_as_the_url_crate(
        scheme in prop_oneof![Just("http"), Just("https"), Just("HTTPS"), Just("Http")],
        host in host(),
        port in prop::option::of(prop_oneof![Just(80u16), Just(443u16), any::<u16>()]),
        path in part(),
        query in prop::option::of(part()),
        fragment in prop::option::of(part()),
    ) {
        let mut text = format!("{scheme}://{host}");
        if let Some(port) = port {
            text.push_str(&format!(":{port}"));
        }
        let path = path.replace('?', "");
        if !path.is_empty() {
            text.push('/');
            text.push_str(path.trim_end_matches(' '));
        }
        if let Some(query) = &query {
            text.push('?');
            text.push_str(query.trim_end_matches(' '));
        }
        if let Some(fragment) = &fragment {
            text.push('#');
            text.push_str(fragment.trim_end_matches(' '));
        }
        let ours = Url::parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        let theirs = url::Url::parse(&text).expect("a valid URL");
        prop_assert_eq!(ours.as_str(), theirs.as_str(), "{}", text);
        prop_assert_eq!(ours.scheme(), theirs.scheme());
        prop_assert_eq!(ours.host_str(), theirs.host_str());
        prop_assert_eq!(ours.port(), theirs.port());
        prop_assert_eq!(ours.port_or_known_default(), theirs.port_or_known_default());
        prop_assert_eq!(ours.path(), theirs.path());
        prop_assert_eq!(ours.query(), theirs.query());
        prop_assert_eq!(ours.fragment(), theirs.fragment());
        prop_assert_eq!(
            ours.origin().ascii_serialization(),
            theirs.origin().ascii_serialization()
        );
        // Parsing the normalized text again changes nothing.
        let again = Url::parse(ours.as_str()).unwrap();
        prop_assert_eq!(again, ours);
    }

    /// Any string: a URL or a typed error, never a panic; what parses re-parses to itself.
    #[test]
    fn never_panics_and_is_idempotent(text in "\\PC{0,40}", prefix in prop_oneof![
        Just(""), Just("https://"), Just("http://[::1]"), Just("myapp:"), Just("https://h/")
    ]) {
        let text = format!("{prefix}{text}");
        if let Ok(url) = Url::parse(&text) {
            let again = Url::parse(url.as_str()).unwrap();
            prop_assert_eq!(again, url);
        }
    }
}
