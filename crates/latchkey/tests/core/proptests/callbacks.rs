//! Property tests for the callback parsers (query and fragment): parse and render round-trip,
//! duplicates refused, percent-decoded bytes must be UTF-8, no input panics.

use std::borrow::Cow;

use latchkey::{CallbackError, CallbackParams};
use proptest::prelude::*;

/// The parameters `CallbackParams` has a field for, in field order.
const KNOWN: [&str; 10] = [
    "code",
    "state",
    "error",
    "error_description",
    "error_uri",
    "iss",
    "access_token",
    "token_type",
    "expires_in",
    "scope",
];

/// A parameter name or value: arbitrary Unicode, with extra weight on the characters that
/// mean something in a URL or in form encoding.
pub(super) fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ -~]{0,24}",
        "[&=+%#?/;:@ ,~.*é€\u{0}\u{7f}😀]{0,12}",
        "(%[0-9A-Fa-f]{0,2}|\\+|[a-z]){0,8}",
    ]
}

fn extra_name() -> impl Strategy<Value = String> {
    text().prop_filter("not a known parameter", |n| !KNOWN.contains(&n.as_str()))
}

/// Callback parameters with unique names, in random order.
fn pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    (
        proptest::collection::vec(proptest::option::of(text()), KNOWN.len()),
        proptest::collection::btree_map(extra_name(), text(), 0..6),
    )
        .prop_map(|(known, extra)| {
            let mut pairs: Vec<(String, String)> = KNOWN
                .iter()
                .zip(known)
                .filter_map(|(name, value)| value.map(|v| ((*name).to_owned(), v)))
                .collect();
            pairs.extend(extra);
            pairs
        })
        .prop_shuffle()
}

/// What parsing `pairs` must give: known names in their fields, the rest in order.
fn expected(pairs: &[(String, String)]) -> CallbackParams<'static> {
    let mut p = CallbackParams::default();
    for (name, value) in pairs {
        let v = Some(Cow::Owned(value.clone()));
        match name.as_str() {
            "code" => p.code = v,
            "state" => p.state = v,
            "error" => p.error = v,
            "error_description" => p.error_description = v,
            "error_uri" => p.error_uri = v,
            "iss" => p.iss = v,
            "access_token" => p.access_token = v,
            "token_type" => p.token_type = v,
            "expires_in" => p.expires_in = v,
            "scope" => p.scope = v,
            _ => p
                .extra
                .push((Cow::Owned(name.clone()), Cow::Owned(value.clone()))),
        }
    }
    p
}

/// `application/x-www-form-urlencoded` through `url`'s serializer (space as `+`).
fn render_form(pairs: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// Every byte outside the RFC 3986 unreserved set as `%XX` (space as `%20`).
fn render_percent(pairs: &[(String, String)], lower_hex: bool) -> String {
    fn encode(s: &str, lower_hex: bool, out: &mut String) {
        for b in s.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                out.push(b as char);
            } else if lower_hex {
                out.push_str(&format!("%{b:02x}"));
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    let mut out = String::new();
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        encode(name, lower_hex, &mut out);
        out.push('=');
        encode(value, lower_hex, &mut out);
    }
    out
}

/// Each rendering of `pairs`, as a query and as a fragment, in every form the parsers take.
fn parse_all_forms(pairs: &[(String, String)], lower_hex: bool) -> Result<(), TestCaseError> {
    let want = expected(pairs);
    let want_pairs: Vec<(&str, &str)> = want.iter().collect();
    let renderings = [
        serde_urlencoded::to_string(pairs).unwrap(),
        render_form(pairs),
        render_percent(pairs, lower_hex),
    ];
    for q in &renderings {
        let inputs: [(&str, String); 7] = [
            ("query/url", format!("https://app.example/cb?{q}")),
            ("query/url+frag", format!("https://app.example/cb?{q}#x=1")),
            ("query/?", format!("?{q}")),
            ("query/bare", q.clone()),
            ("fragment/url", format!("https://app/cb#{q}")),
            ("fragment/#", format!("#{q}")),
            ("fragment/bare", q.clone()),
        ];
        for (form, input) in &inputs {
            let got = if form.starts_with("query") {
                CallbackParams::from_query(input)
            } else {
                CallbackParams::from_fragment(input)
            };
            let got = got.map_err(|e| TestCaseError::fail(format!("{form} {input:?}: {e}")))?;
            let got_pairs: Vec<(&str, &str)> = got.iter().collect();
            prop_assert_eq!(&got_pairs, &want_pairs, "{} {:?}", form, input);
            prop_assert!(got == want, "{} {:?}", form, input);
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn callback_parse_render_round_trip(pairs in pairs(), lower_hex in any::<bool>()) {
        parse_all_forms(&pairs, lower_hex)?;
    }

    #[test]
    fn duplicated_known_parameter_is_refused(
        pairs in pairs(),
        which in 0..KNOWN.len(),
        first in text(),
        second in text(),
        at in any::<proptest::sample::Index>(),
        gap in any::<proptest::sample::Index>(),
    ) {
        let name = KNOWN[which];
        let mut pairs: Vec<(String, String)> =
            pairs.into_iter().filter(|(n, _)| n != name).collect();
        let i = at.index(pairs.len() + 1);
        pairs.insert(i, (name.to_owned(), first));
        let j = i + 1 + gap.index(pairs.len() - i);
        pairs.insert(j, (name.to_owned(), second));
        let q = render_form(&pairs);
        let want = Err(CallbackError::DuplicateParameter(name.to_owned()));
        let query = format!("https://app.example/cb?{q}");
        let fragment = format!("https://app/cb#{q}");
        prop_assert_eq!(CallbackParams::from_query(&query), want.clone());
        prop_assert_eq!(CallbackParams::from_fragment(&fragment), want);
    }

    #[test]
    fn percent_decoded_bytes_must_be_utf8(bytes in proptest::collection::vec(any::<u8>(), 0..16)) {
        let encoded: String = bytes.iter().map(|b| format!("%{b:02X}")).collect();
        let input = format!("?state=s&code={encoded}");
        let got = CallbackParams::from_query(&input);
        match String::from_utf8(bytes) {
            Ok(s) => {
                let got = got.unwrap();
                prop_assert_eq!(got.code.as_deref(), Some(s.as_str()));
            }
            Err(_) => prop_assert!(matches!(got, Err(CallbackError::Malformed(_))), "{:?}", got),
        }
    }

    #[test]
    fn callback_parsers_never_panic(
        s in prop_oneof![
            any::<String>(),
            "[%&=+#?a-z0-9:/. ]{0,40}",
            "(%[0-9a-fA-F]{0,2}|[&=#?+]|code|state|é){0,16}",
        ]
    ) {
        let q = CallbackParams::from_query(&s);
        let f = CallbackParams::from_fragment(&s);
        let p = CallbackParams::parse_pairs(&s);
        // Displaying whatever came out must not panic either.
        let _ = format!("{q:?} {f:?} {p:?}");
        if let Err(e) = q { let _ = e.to_string(); }
    }

    #[test]
    fn callback_parsers_never_panic_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let s = String::from_utf8_lossy(&bytes);
        let _ = CallbackParams::from_query(&s);
        let _ = CallbackParams::from_fragment(&s);
    }
}
