//! latchkey's URL rules on top of the `url` crate, on generated URLs: a valid `http(s)` URL is
//! accepted as exactly the `url` crate's, anything the `url` crate would repair or guess at is
//! refused without echoing the query, and only real loopback hosts count as loopback.

use latchkey::drive::is_loopback;
use latchkey::{Client, Method, Request, RetryMode, Url, parse_url};
use proptest::prelude::*;

fn mixed_case(s: String, upper: Vec<bool>) -> String {
    s.chars()
        .zip(upper.into_iter().chain(std::iter::repeat(false)))
        .map(|(c, up)| {
            if up {
                c.to_uppercase().next().unwrap_or(c)
            } else {
                c
            }
        })
        .collect()
}

fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        (
            // No `xn--` label: not every one is valid punycode.
            prop::collection::vec("[a-wyz][a-z0-9-]{0,8}", 1..4),
            prop::collection::vec(any::<bool>(), 30)
        )
            .prop_map(|(labels, upper)| mixed_case(labels.join("."), upper)),
        // International names: the `url` crate writes them in their `xn--` form.
        (
            prop::collection::vec("[a-zäöüéß][a-zäöü0-9]{0,6}", 1..3),
            prop::collection::vec(any::<bool>(), 30)
        )
            .prop_map(|(labels, upper)| mixed_case(labels.join(".") + ".example", upper)),
        any::<[u8; 4]>().prop_map(|o| format!("{}.{}.{}.{}", o[0], o[1], o[2], o[3])),
        any::<u128>().prop_map(|v| format!("[{}]", std::net::Ipv6Addr::from(v))),
        any::<u32>().prop_map(|v| format!("[::ffff:{}]", std::net::Ipv4Addr::from(v))),
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
            Just("../".to_owned()),
            Just("%2e".to_owned()),
            "%[0-9A-Fa-f]{2}",
            "[é€😀\u{a0}]",
        ],
        0..8,
    )
    .prop_map(|pieces| pieces.concat())
}

prop_compose! {
    /// A valid `http(s)` URL without a fragment (an endpoint), as text.
    fn endpoint()(
        scheme in prop_oneof![Just("http"), Just("https"), Just("HTTPS")],
        host in host(),
        port in prop::option::of(prop_oneof![Just(80u16), Just(443u16), any::<u16>()]),
        path in part(),
        query in prop::option::of(part()),
    ) -> String {
        let mut text = format!("{scheme}://{host}");
        if let Some(port) = port {
            text.push_str(&format!(":{port}"));
        }
        let path = path.replace(['?', '#'], "");
        if !path.is_empty() {
            text.push('/');
            text.push_str(path.trim_end_matches(' '));
        }
        if let Some(query) = query {
            text.push('?');
            text.push_str(query.replace('#', "").trim_end_matches(' '));
        }
        text
    }
}

/// Something the `url` crate would repair or guess at, put into an endpoint.
#[derive(Clone, Debug)]
enum Defect {
    /// A control character at a byte offset (moved to the next character boundary).
    Control(u8, usize),
    LeadingSpace,
    TrailingSpace,
    UserInfo(&'static str),
    Backslash(usize),
    NumericHost(u32, u8),
    PercentInHost,
    StrayPercent,
    Slashes(&'static str),
}

fn defect() -> impl Strategy<Value = Defect> {
    prop_oneof![
        (prop_oneof![0u8..0x20, Just(0x7f)], any::<usize>())
            .prop_map(|(b, at)| Defect::Control(b, at)),
        Just(Defect::LeadingSpace),
        Just(Defect::TrailingSpace),
        prop_oneof![Just("user:pass@"), Just("user@"), Just("@"), Just(":@")]
            .prop_map(Defect::UserInfo),
        any::<usize>().prop_map(Defect::Backslash),
        (any::<u32>(), 0u8..4).prop_map(|(ip, form)| Defect::NumericHost(ip, form)),
        Just(Defect::PercentInHost),
        Just(Defect::StrayPercent),
        prop_oneof![Just(":"), Just(":/"), Just(":///"), Just(":\\\\")].prop_map(Defect::Slashes),
    ]
}

/// The text between `scheme://` and the path.
fn host_range(text: &str) -> (usize, usize) {
    let start = text.find("://").unwrap() + 3;
    let end = text[start..]
        .find(['/', '?', '#'])
        .map_or(text.len(), |i| start + i);
    (start, end)
}

/// `endpoint` with `defect` put in, and `?secret=SECRETVALUE` as its query.
fn spoil(endpoint: &str, defect: &Defect) -> String {
    let mut text = endpoint.split('?').next().unwrap().to_owned();
    text.push_str("?secret=SECRETVALUE");
    let boundary = |text: &str, at: usize| {
        let mut at = at % (text.len() + 1);
        while !text.is_char_boundary(at) {
            at += 1;
        }
        at
    };
    let (host_start, host_end) = host_range(&text);
    match defect {
        Defect::Control(b, at) => {
            let at = boundary(&text, *at);
            text.insert(at, char::from(*b));
        }
        Defect::LeadingSpace => text.insert(0, ' '),
        Defect::TrailingSpace => text.push(' '),
        Defect::UserInfo(info) => text.insert_str(host_start, info),
        Defect::Backslash(at) => {
            let at = boundary(&text, *at);
            text.insert(at, '\\');
        }
        Defect::NumericHost(ip, form) => {
            let [a, b, c, d] = ip.to_be_bytes();
            let host = match form {
                0 => ip.to_string(),
                1 => format!("0x{a:x}.{b}.{c}.{d}"),
                2 => format!("{a}.{}", u32::from_be_bytes([0, b, c, d])),
                _ => format!("{a}.{b}.{c}.0{d}"),
            };
            text.replace_range(host_start..host_end, &host);
        }
        Defect::PercentInHost => text.replace_range(host_start..host_end, "%6cocalhost"),
        Defect::StrayPercent => text.push_str("%z"),
        Defect::Slashes(slashes) => {
            let colon = text.find(':').unwrap();
            text.replace_range(colon..host_start, slashes);
        }
    }
    text
}

#[test]
fn spoiled_examples() {
    let endpoint = "https://as.example:8443/token?x=1";
    for (defect, expected) in [
        (
            Defect::Control(b'\n', 5),
            "https\n://as.example:8443/token?secret=SECRETVALUE",
        ),
        (
            Defect::UserInfo("user@"),
            "https://user@as.example:8443/token?secret=SECRETVALUE",
        ),
        (
            Defect::NumericHost(0x7f00_0001, 1),
            "https://0x7f.0.0.1/token?secret=SECRETVALUE",
        ),
        (
            Defect::NumericHost(0x7f00_0001, 2),
            "https://127.1/token?secret=SECRETVALUE",
        ),
        (
            Defect::NumericHost(0x7f00_0001, 3),
            "https://127.0.0.01/token?secret=SECRETVALUE",
        ),
        (
            Defect::Slashes(":///"),
            "https:///as.example:8443/token?secret=SECRETVALUE",
        ),
        (
            Defect::StrayPercent,
            "https://as.example:8443/token?secret=SECRETVALUE%z",
        ),
    ] {
        assert_eq!(spoil(endpoint, &defect), expected);
        assert!(parse_url(expected).is_err(), "{expected}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// A valid endpoint is accepted as exactly what the `url` crate makes of it, by
    /// `parse_url` and by the client builder, and its text is accepted again unchanged.
    #[test]
    fn valid_urls_are_the_url_crates(text in endpoint()) {
        let theirs = Url::parse(&text).expect("a valid URL");
        let ours = parse_url(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(&ours, &theirs);
        let again = parse_url(ours.as_str());
        prop_assert_eq!(again.as_ref(), Ok(&ours));
        let client = Client::builder("id").token_endpoint(&text).build()
            .map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(client.token_endpoint(), Some(&theirs));
    }

    /// What the `url` crate would repair or guess at is refused, and the message never
    /// holds the query.
    #[test]
    fn repairs_and_guesses_are_refused(text in endpoint(), defect in defect()) {
        let spoiled = spoil(&text, &defect);
        let error = match parse_url(&spoiled) {
            Ok(url) => return Err(TestCaseError::fail(format!("{spoiled:?} accepted as {url}"))),
            Err(error) => error.to_string(),
        };
        prop_assert!(!error.contains("SECRETVALUE"), "{}", error);
        let built = Client::builder("id").token_endpoint(&spoiled).build();
        let message = built.map(|_| ()).unwrap_err().to_string();
        prop_assert_eq!(message, format!("invalid token URL: {error}"));
    }

    /// Any string: a URL or an error, never a panic; what is accepted is accepted again
    /// unchanged.
    #[test]
    fn never_panics_and_is_idempotent(text in prop_oneof![
        "\\PC{0,40}",
        "[a-zA-Z0-9:/\\\\.?#@%\\[\\] é-]{0,30}",
    ], prefix in prop_oneof![
        Just(""), Just("https://"), Just("http://[::1]"), Just("myapp:"), Just("myapp://"),
        Just("https://h/"), Just("HP:/"),
    ]) {
        let text = format!("{prefix}{text}");
        if let Ok(url) = parse_url(&text) {
            prop_assert_eq!(parse_url(url.as_str()), Ok(url));
        }
    }

    /// Only `localhost`, `127.0.0.0/8` and `[::1]` are loopback; plain `http` goes nowhere
    /// else.
    #[test]
    fn only_real_loopback_is_loopback(
        name in "[a-z][a-z0-9]{0,8}",
        ip in any::<u32>(),
        port in any::<u16>(),
    ) {
        let check = |host: &str| {
            let url = parse_url(&format!("http://{host}:{port}/token")).unwrap();
            let secure = Request::new(Method::Post, url.clone(), RetryMode::Idempotent)
                .check_url_security(false)
                .is_ok();
            prop_assert_eq!(secure, is_loopback(&url));
            Ok(is_loopback(&url))
        };
        let [_, b, c, d] = ip.to_be_bytes();
        let in_127 = format!("127.{b}.{c}.{d}");
        for host in ["localhost", "LocalHost", "[::1]", in_127.as_str()] {
            prop_assert!(check(host)?, "{} is loopback", host);
        }
        let address = std::net::Ipv4Addr::from(ip);
        prop_assert_eq!(check(&address.to_string())?, address.is_loopback());
        let under = format!("{name}.localhost");
        let over = format!("localhost.{name}");
        let named = format!("{name}.127.0.0.1.example");
        for host in [
            under.as_str(),
            over.as_str(),
            named.as_str(),
            "localhost.",
            "[::ffff:127.0.0.1]",
        ] {
            prop_assert!(!check(host)?, "{} is not loopback", host);
        }
        let not_https: Url = parse_url(&format!("ftp://localhost:{port}/")).unwrap();
        prop_assert!(is_loopback(&not_https));
    }
}
