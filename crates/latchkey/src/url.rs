//! Absolute URLs: endpoints, redirect URIs and the URL of every request.
//!
//! A URL is a [`url::Url`], the parser reqwest uses, so that what latchkey checks is what the
//! client connects to. [`parse_url`] adds latchkey's rules on top of it: it refuses what the
//! `url` crate would silently repair or guess at.

use std::cell::Cell;

use url::{Host, ParseError, SyntaxViolation};

pub use url::Url;

/// Why a string is not an absolute URL latchkey accepts.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UrlError(&'static str);

/// Parses an absolute URL with the [`url`] crate (so Unicode host names become their
/// punycode `xn--` form, the scheme and host are lower-cased, a default port is dropped and
/// `.`/`..` segments are resolved, as for any `url` user), and refuses where the `url` crate
/// would silently repair or guess:
///
/// - control characters anywhere, and spaces before or after the URL (a pasted URL with a
///   trailing newline, a header injection attempt): the `url` crate strips them; a space
///   inside is written `%20`;
/// - a user name or password (`https://user:pass@host/`: credentials do not belong in a URL
///   that ends up in logs);
/// - a backslash in an `http(s)` URL (read as `/` by the URL standard, not by other software),
///   and an `http(s)` URL without exactly `//` before the host (`https:host/`,
///   `https:///host`);
/// - a `%` not followed by two hex digits;
/// - in an `http(s)` host, a `%` (decoded by the URL standard: `%6cocalhost` is `localhost`)
///   and a number that is not a plain dotted-quad IPv4 address (`0x7f.1`, `2130706433`,
///   `127.1`, `127.0.0.01`: read as an address nobody wrote).
///
/// Any scheme is accepted (a native app's `com.example.app:/callback`, RFC 8252 §7.1); the
/// client's endpoints are further held to `http(s)` without a fragment when it is built.
///
/// # Errors
///
/// [`UrlError`] saying what is wrong, never echoing the input (which may hold a secret in
/// its query).
pub fn parse_url(input: &str) -> Result<Url, UrlError> {
    if input.bytes().any(|b| b < b' ' || b == 0x7f) {
        return Err(UrlError("contains a control character"));
    }
    if input.starts_with(' ') || input.ends_with(' ') {
        return Err(UrlError("starts or ends with a space"));
    }
    let refused: Cell<Option<&'static str>> = Cell::new(None);
    let note = |violation: SyntaxViolation| {
        if refused.get().is_none() {
            refused.set(refused_violation(violation));
        }
    };
    let url = Url::options()
        .syntax_violation_callback(Some(&note))
        .parse(input)
        .map_err(parse_error)?;
    // Also in the query and fragment, where the `url` crate keeps it as written.
    if url.is_special() && input.contains('\\') {
        return Err(UrlError("contains a backslash"));
    }
    if let Some(reason) = refused.get() {
        return Err(UrlError(reason));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlError(CREDENTIALS));
    }
    if url.is_special() {
        check_special_host(input, &url)?;
    }
    // A URL the `url` crate does not read back the same from its own text is ambiguous (the
    // fuzzer found `file://h//h://[::1:1:1:1]/x`, whose host moves into the path on a second
    // reading): refused, so that whatever is accepted means one thing.
    match Url::parse(url.as_str()) {
        Ok(again) if again.as_str() == url.as_str() && again.host() == url.host() => Ok(url),
        _ => Err(UrlError("does not read back the same from its own text")),
    }
}

const CREDENTIALS: &str = "a user name or password in the URL is not supported";

/// The repairs of the `url` crate that latchkey refuses.
fn refused_violation(violation: SyntaxViolation) -> Option<&'static str> {
    Some(match violation {
        SyntaxViolation::Backslash => "contains a backslash",
        SyntaxViolation::EmbeddedCredentials | SyntaxViolation::UnencodedAtSign => CREDENTIALS,
        SyntaxViolation::ExpectedDoubleSlash => "an http(s) URL needs //host after the scheme",
        SyntaxViolation::PercentDecode => "a % is not followed by two hex digits",
        SyntaxViolation::C0SpaceIgnored
        | SyntaxViolation::TabOrNewlineIgnored
        | SyntaxViolation::NullInFragment => "contains a control character",
        // Characters that are percent-encoded (a space, non-ASCII text) and `file:` details.
        _ => return None,
    })
}

/// The `url` crate's error as a message of latchkey's.
fn parse_error(error: ParseError) -> UrlError {
    UrlError(match error {
        ParseError::RelativeUrlWithoutBase => "not an absolute URL: no scheme",
        ParseError::EmptyHost => "no host",
        ParseError::InvalidPort => "invalid port",
        ParseError::InvalidIpv4Address => "invalid IPv4 address",
        ParseError::InvalidIpv6Address => "invalid IPv6 address",
        ParseError::InvalidDomainCharacter => "invalid character in the host",
        // Not a valid (international) domain name: a space, a bad `xn--` label, ...
        ParseError::IdnaError => "invalid host name",
        _ => "not a valid URL",
    })
}

/// Refuses an `http(s)` host that the `url` crate decoded from another form: percent-encoded,
/// or an IPv4 address not written as a plain dotted quad.
fn check_special_host(input: &str, url: &Url) -> Result<(), UrlError> {
    // Exactly `scheme://` precedes the host: the callback refused any other slashes.
    let Some(authority) = input
        .find(':')
        .and_then(|colon| input.get(colon + 3..))
        .map(|rest| &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())])
    else {
        return Ok(());
    };
    match url.host() {
        Some(Host::Domain(_)) if authority.contains('%') => {
            Err(UrlError("invalid character in the host"))
        }
        Some(Host::Ipv4(address)) => {
            let written = authority
                .rsplit_once(':')
                .map_or(authority, |(host, _port)| host);
            if written == address.to_string() {
                Ok(())
            } else {
                Err(UrlError(
                    "the host looks like an IPv4 address but is not a dotted quad",
                ))
            }
        }
        _ => Ok(()),
    }
}

/// `host:port` of `url` (the port always named, the scheme's default when the URL gives
/// none), for messages that say where without the path or query; `unknown host` without a
/// host.
#[must_use]
pub fn host_port(url: &Url) -> String {
    let host = url.host_str().unwrap_or("unknown host");
    match url.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(input: &str) -> String {
        parse_url(input)
            .unwrap_or_else(|e| panic!("{input}: {e}"))
            .as_str()
            .to_owned()
    }

    #[test]
    fn normalizes_as_the_url_crate() {
        for (input, expected) in [
            ("https://AS.Example.COM", "https://as.example.com/"),
            ("HTTPS://as.example:443/token", "https://as.example/token"),
            ("http://127.0.0.1:80/cb", "http://127.0.0.1/cb"),
            (
                "http://[0:0:0:0:0:0:0:1]:3000/cb?x=1",
                "http://[::1]:3000/cb?x=1",
            ),
            ("http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/"),
            ("https://h/a/./b/../c", "https://h/a/c"),
            ("https://h/a b?c d#e f", "https://h/a%20b?c%20d#e%20f"),
            ("https://h/é?q=é#é", "https://h/%C3%A9?q=%C3%A9#%C3%A9"),
            ("https://h:/p", "https://h/p"),
            (
                "com.Example.App:/oauth2redirect",
                "com.example.app:/oauth2redirect",
            ),
            ("myapp://CallBack/x?y=1", "myapp://CallBack/x?y=1"),
            ("urn:ietf:wg:oauth:2.0:oob", "urn:ietf:wg:oauth:2.0:oob"),
        ] {
            assert_eq!(ok(input), expected, "{input}");
            assert_eq!(ok(input), Url::parse(input).unwrap().as_str(), "{input}");
        }
    }

    #[test]
    fn unicode_hosts_become_punycode() {
        assert_eq!(
            ok("https://bücher.example/token"),
            "https://xn--bcher-kva.example/token"
        );
        assert_eq!(
            ok("https://BÜCHER.example:8443/"),
            "https://xn--bcher-kva.example:8443/"
        );
        assert_eq!(
            parse_url("https://xn--bcher-kva.example/").unwrap(),
            parse_url("https://bücher.example/").unwrap()
        );
    }

    #[test]
    fn refuses_what_the_url_crate_would_repair_or_guess_at() {
        for (input, reason) in [
            ("", "no scheme"),
            ("as.example/token", "no scheme"),
            ("/token", "no scheme"),
            ("1http://h/", "no scheme"),
            ("https://h/\n", "control"),
            ("https://h/a\tb", "control"),
            ("https://h/\u{1}", "control"),
            ("https://h/\u{7f}", "control"),
            (" https://h/", "space"),
            ("https://h/ ", "space"),
            ("https://a b/", "invalid host"),
            ("https://user:pass@h/", "password"),
            ("https://user@h/", "password"),
            ("https://@h/", "password"),
            ("myapp://user@h/", "password"),
            ("https://h\\evil.example/", "backslash"),
            ("https://h/a\\b", "backslash"),
            ("https:\\\\h/", "backslash"),
            ("https://h/?q=a\\b", "backslash"),
            ("https://h/#a\\b", "backslash"),
            ("https://h/%zz", "hex"),
            ("https://h/?q=%4", "hex"),
            ("https://h^/", "invalid host"),
            ("https://%6cocalhost/", "character in the host"),
            ("https://0x7f.1/", "dotted quad"),
            ("https://2130706433/", "dotted quad"),
            ("https://127.1/", "dotted quad"),
            ("https://127.0.0.01/", "dotted quad"),
            ("https://127.0.0.1./", "dotted quad"),
            ("https://%31%32%37.0.0.1/", "dotted quad"),
            ("https://1.2.3.256/", "IPv4"),
            ("https://h:99999/", "port"),
            ("https://h:8o/", "port"),
            ("https:///path", "//host"),
            ("https:h/path", "//host"),
            ("https:////h/path", "//host"),
            ("https://", "no host"),
            ("https://[::1/", "IPv6"),
            ("https://[::g]/", "IPv6"),
            ("https://xn--a.example/", "invalid host"),
        ] {
            let error = parse_url(input).expect_err(input).to_string();
            assert!(error.contains(reason), "{input:?}: {error}");
        }
    }

    #[test]
    fn errors_never_echo_the_input() {
        for input in [
            "https://h/?token=SECRET%zz",
            "https://u:SECRET@h/",
            "https://h/?token=SECRET\n",
        ] {
            let error = parse_url(input).unwrap_err();
            assert!(!error.to_string().contains("SECRET"));
            assert!(!format!("{error:?}").contains("SECRET"));
        }
    }

    #[test]
    fn host_and_port() {
        let url = parse_url("https://AS.example:8443/a/b?x=1&y=2#frag").unwrap();
        assert_eq!(host_port(&url), "as.example:8443");
        assert_eq!(host_port(&parse_url("https://h/").unwrap()), "h:443");
        assert_eq!(host_port(&parse_url("http://[::1]/").unwrap()), "[::1]:80");
        assert_eq!(host_port(&parse_url("myapp:/cb").unwrap()), "unknown host");
    }
}
