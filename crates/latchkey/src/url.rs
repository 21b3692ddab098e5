//! Absolute URLs: endpoints, redirect URIs and the URL of every request.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

/// Why a string is not an absolute URL latchkey accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UrlError(&'static str);

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for UrlError {}

/// An absolute URL, parsed and normalized.
///
/// A strict parser of RFC 3986 absolute URLs whose output for `http` and `https` is the same
/// string the WHATWG URL standard (and the `url` crate) gives: the scheme and host in lower
/// case, a default port dropped, an empty path written `/`, `.` and `..` segments resolved,
/// and the characters a URL cannot hold literally percent-encoded in the path, query and
/// fragment. Where a browser would guess, it refuses with a [`UrlError`] instead:
///
/// - control characters anywhere, and spaces before or after the URL (a pasted URL with a
///   trailing newline, a header injection attempt); a space inside is written `%20`;
/// - a user name or password (`https://user:pass@host/`: credentials do not belong in a URL
///   that ends up in logs);
/// - a backslash in an `http(s)` URL (browsers read it as `/`, other software does not);
/// - a `%` not followed by two hex digits;
/// - a host with characters outside `A-Z a-z 0-9 - . _ ~`: international names must be given
///   in their ASCII (`xn--`) form, which keeps the host the server sees the one written;
/// - a host that looks like a number but is not a plain dotted-quad IPv4 address
///   (`0x7f.1`, `2130706433`, `127.1`: browsers resolve those to addresses nobody wrote).
///
/// Other schemes (a native app's `com.example.app:/callback`, RFC 8252 §7.1) are accepted with
/// the scheme lower-cased and the rest kept as written (no `.` or `..` resolved), apart from
/// percent-encoding spaces and characters outside ASCII.
///
/// Two URLs are equal when their normalized text is equal.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Url {
    /// Shared: requests copy their endpoint's URL, which then costs no allocation.
    serialization: Arc<str>,
    /// Index of the `:` after the scheme.
    scheme_end: usize,
    /// The host's range (IPv6 with its brackets), when there is an authority.
    host: Option<(usize, usize)>,
    /// The port when written and not the scheme's default.
    port: Option<u16>,
    path_start: usize,
    /// Index of the `?`.
    query_start: Option<usize>,
    /// Index of the `#`.
    fragment_start: Option<usize>,
}

/// Bytes written percent-encoded in a path (WHATWG path percent-encode set, ASCII part).
const PATH_ENCODE: &[u8] = b" \"<>`{}";
/// In a query of an `http(s)` URL (WHATWG special-query percent-encode set).
const QUERY_ENCODE: &[u8] = b" \"<>'";
/// In a query of another scheme's URL (WHATWG query percent-encode set).
const OTHER_QUERY_ENCODE: &[u8] = b" \"<>";
/// In a fragment (WHATWG fragment percent-encode set).
const FRAGMENT_ENCODE: &[u8] = b" \"<>`";
/// In another scheme's opaque path (`urn:...`): the space only.
const OPAQUE_ENCODE: &[u8] = b" ";

impl Url {
    /// Parses an absolute URL.
    ///
    /// # Errors
    ///
    /// [`UrlError`] saying what is wrong (never echoing the input, which may hold a secret).
    pub fn parse(input: &str) -> Result<Self, UrlError> {
        if input.bytes().any(|b| b < b' ' || b == 0x7f) {
            return Err(UrlError("contains a control character"));
        }
        if input.starts_with(' ') || input.ends_with(' ') {
            return Err(UrlError("starts or ends with a space"));
        }
        let scheme_end = input
            .find(':')
            .ok_or(UrlError("not an absolute URL: no scheme"))?;
        let scheme = &input[..scheme_end];
        let mut scheme_bytes = scheme.bytes();
        if !scheme_bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
            || !scheme_bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        {
            return Err(UrlError("not an absolute URL: invalid scheme"));
        }
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "http" => Some(80),
            "https" => Some(443),
            _ => None,
        };
        let special = default_port.is_some();
        let rest = &input[scheme_end + 1..];
        if special && rest.contains('\\') {
            return Err(UrlError("contains a backslash"));
        }

        let mut out = String::with_capacity(input.len() + 1);
        out.push_str(&scheme);
        out.push(':');
        let (mut host, mut port) = (None, None);
        let after_authority = if let Some(authority_and_rest) = rest.strip_prefix("//") {
            let end = authority_and_rest
                .find(['/', '?', '#'])
                .unwrap_or(authority_and_rest.len());
            let authority = &authority_and_rest[..end];
            if authority.contains('@') {
                return Err(UrlError(
                    "a user name or password in the URL is not supported",
                ));
            }
            out.push_str("//");
            let (host_text, port_text) = split_host_port(authority)?;
            let host_start = out.len();
            write_host(&mut out, host_text, special)?;
            host = Some((host_start, out.len()));
            port = match port_text {
                None | Some("") => None,
                Some(digits) => {
                    if !digits.bytes().all(|b| b.is_ascii_digit()) {
                        return Err(UrlError("invalid port"));
                    }
                    let number: u16 = digits.parse().map_err(|_| UrlError("invalid port"))?;
                    (Some(number) != default_port).then_some(number)
                }
            };
            if let Some(port) = port {
                out.push(':');
                out.push_str(&port.to_string());
            }
            &authority_and_rest[end..]
        } else if special {
            return Err(UrlError("an http(s) URL needs //host after the scheme"));
        } else {
            rest
        };

        let path_end = after_authority
            .find(['?', '#'])
            .unwrap_or(after_authority.len());
        let path = &after_authority[..path_end];
        let path_start = out.len();
        if special {
            write_path(&mut out, path)?;
        } else {
            // Kept as written (no dot segments resolved): a redirect URI is compared with
            // the registered one character for character.
            encode_into(&mut out, path, OPAQUE_ENCODE)?;
        }
        let mut tail = &after_authority[path_end..];
        let mut query_start = None;
        if let Some(query_and_rest) = tail.strip_prefix('?') {
            let end = query_and_rest.find('#').unwrap_or(query_and_rest.len());
            query_start = Some(out.len());
            out.push('?');
            encode_into(
                &mut out,
                &query_and_rest[..end],
                if special {
                    QUERY_ENCODE
                } else {
                    OTHER_QUERY_ENCODE
                },
            )?;
            tail = &query_and_rest[end..];
        }
        let mut fragment_start = None;
        if let Some(fragment) = tail.strip_prefix('#') {
            fragment_start = Some(out.len());
            out.push('#');
            encode_into(&mut out, fragment, FRAGMENT_ENCODE)?;
        }
        Ok(Self {
            serialization: out.into(),
            scheme_end,
            host,
            port,
            path_start,
            query_start,
            fragment_start,
        })
    }

    /// The URL as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.serialization
    }

    /// The scheme, lower case (`https`).
    #[must_use]
    pub fn scheme(&self) -> &str {
        &self.serialization[..self.scheme_end]
    }

    /// The host, lower case; an IPv6 address in brackets (`[::1]`). `None` without an
    /// authority.
    #[must_use]
    pub fn host_str(&self) -> Option<&str> {
        self.host
            .map(|(start, end)| &self.serialization[start..end])
    }

    /// The port when the URL names one other than its scheme's default.
    #[must_use]
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The port, or the scheme's default (80 for `http`, 443 for `https`).
    #[must_use]
    pub fn port_or_known_default(&self) -> Option<u16> {
        self.port.or_else(|| match self.scheme() {
            "http" => Some(80),
            "https" => Some(443),
            _ => None,
        })
    }

    /// `host:port` (the port always named, the scheme's default when the URL gives none), for
    /// messages that say where without the path or query; `unknown host` without a host.
    #[must_use]
    pub fn host_port(&self) -> String {
        let host = self.host_str().unwrap_or("unknown host");
        match self.port_or_known_default() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        }
    }

    /// The path (`/` at least for `http(s)`).
    #[must_use]
    pub fn path(&self) -> &str {
        let end = self
            .query_start
            .or(self.fragment_start)
            .unwrap_or(self.serialization.len());
        &self.serialization[self.path_start..end]
    }

    /// The query, without the `?`.
    #[must_use]
    pub fn query(&self) -> Option<&str> {
        let start = self.query_start? + 1;
        let end = self.fragment_start.unwrap_or(self.serialization.len());
        Some(&self.serialization[start..end])
    }

    /// The fragment, without the `#`.
    #[must_use]
    pub fn fragment(&self) -> Option<&str> {
        Some(&self.serialization[self.fragment_start? + 1..])
    }

    /// The origin: scheme, host and port (RFC 6454); opaque for a URL that is not `http(s)`.
    #[must_use]
    pub fn origin(&self) -> Origin {
        match (self.host_str(), self.port_or_known_default()) {
            (Some(host), Some(port)) if matches!(self.scheme(), "http" | "https") => {
                Origin(Some((self.scheme().to_owned(), host.to_owned(), port)))
            }
            _ => Origin(None),
        }
    }

    /// The URL up to its query: for a URL with a new path or query built from this one.
    pub(crate) fn up_to_path(&self) -> &str {
        &self.serialization[..self.path_start]
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.serialization)
    }
}

impl fmt::Debug for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Url({:?})", self.serialization)
    }
}

impl std::str::FromStr for Url {
    type Err = UrlError;

    fn from_str(s: &str) -> Result<Self, UrlError> {
        Self::parse(s)
    }
}

impl From<Url> for String {
    fn from(url: Url) -> Self {
        url.serialization.to_string()
    }
}

impl AsRef<str> for Url {
    fn as_ref(&self) -> &str {
        &self.serialization
    }
}

/// An origin (scheme, host, port), or the opaque origin of a URL that has none (check
/// [`is_tuple`](Self::is_tuple) before trusting an equality).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Origin(Option<(String, String, u16)>);

impl Origin {
    /// `scheme://host[:port]`, the port left out when it is the scheme's default; `null` for
    /// an opaque origin.
    #[must_use]
    pub fn ascii_serialization(&self) -> String {
        match &self.0 {
            Some((scheme, host, port)) => {
                let default = matches!((scheme.as_str(), port), ("http", 80) | ("https", 443));
                if default {
                    format!("{scheme}://{host}")
                } else {
                    format!("{scheme}://{host}:{port}")
                }
            }
            None => "null".to_owned(),
        }
    }

    /// True for a scheme, host and port; false for an opaque origin.
    #[must_use]
    pub fn is_tuple(&self) -> bool {
        self.0.is_some()
    }
}

/// Splits `host[:port]` (`[v6]:port` for IPv6).
fn split_host_port(authority: &str) -> Result<(&str, Option<&str>), UrlError> {
    if authority.starts_with('[') {
        let close = authority
            .find(']')
            .ok_or(UrlError("invalid IPv6 address"))?;
        let after = &authority[close + 1..];
        return match after.strip_prefix(':') {
            Some(port) => Ok((&authority[..=close], Some(port))),
            None if after.is_empty() => Ok((authority, None)),
            None => Err(UrlError("invalid IPv6 address")),
        };
    }
    Ok(match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    })
}

/// Writes a validated, lower-cased host.
fn write_host(out: &mut String, host: &str, special: bool) -> Result<(), UrlError> {
    if let Some(inner) = host.strip_prefix('[') {
        let inner = inner.strip_suffix(']').unwrap_or(inner);
        let address: Ipv6Addr = inner
            .parse()
            .map_err(|_| UrlError("invalid IPv6 address"))?;
        out.push('[');
        write_ipv6(out, address);
        out.push(']');
        return Ok(());
    }
    if host.is_empty() {
        return if special {
            Err(UrlError("no host"))
        } else {
            Ok(())
        };
    }
    if !host.is_ascii() {
        return Err(UrlError(
            "the host is not ASCII: write an international domain name in its xn-- form",
        ));
    }
    if !host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
    {
        return Err(UrlError("invalid character in the host"));
    }
    let last_label = host
        .strip_suffix('.')
        .unwrap_or(host)
        .rsplit('.')
        .next()
        .unwrap_or("");
    let numeric = !last_label.is_empty()
        && (last_label.bytes().all(|b| b.is_ascii_digit())
            || last_label
                .get(..2)
                .is_some_and(|p| p.eq_ignore_ascii_case("0x"))
                && last_label[2..].bytes().all(|b| b.is_ascii_hexdigit()));
    if special && numeric {
        // Only the plain dotted quad: std refuses leading zeros, fewer parts and hex.
        let address: Ipv4Addr = host.parse().map_err(|_| {
            UrlError("the host looks like an IPv4 address but is not a dotted quad")
        })?;
        out.push_str(&address.to_string());
        return Ok(());
    }
    if special {
        out.extend(host.chars().map(|c| c.to_ascii_lowercase()));
    } else {
        // Other schemes' hosts are opaque: kept as written.
        out.push_str(host);
    }
    Ok(())
}

/// Writes an IPv6 address as the URL standard does: eight lower-case hex pieces, the first
/// longest run of two or more zero pieces as `::`, and no dotted IPv4 tail (std's `Display`
/// writes `::ffff:127.0.0.1`; the standard, `::ffff:7f00:1`).
fn write_ipv6(out: &mut String, address: Ipv6Addr) {
    let pieces = address.segments();
    let (mut best_start, mut best_len) = (8, 1);
    let mut i = 0;
    while i < 8 {
        let start = i;
        while i < 8 && pieces[i] == 0 {
            i += 1;
        }
        if i - start > best_len {
            (best_start, best_len) = (start, i - start);
        }
        i = i.max(start + 1);
    }
    let mut i = 0;
    while i < 8 {
        if i == best_start {
            out.push_str(if i == 0 { "::" } else { ":" });
            i += best_len;
            continue;
        }
        out.push_str(&format!("{:x}", pieces[i]));
        if i < 7 {
            out.push(':');
        }
        i += 1;
    }
}

/// Writes an `http(s)` path: `/` when empty, `.` and `..` segments resolved
/// (also written `%2e`), other characters as [`encode_into`] writes them.
fn write_path(out: &mut String, path: &str) -> Result<(), UrlError> {
    let mut segments: Vec<&str> = Vec::new();
    let mut parts = path.strip_prefix('/').unwrap_or(path).split('/').peekable();
    while let Some(segment) = parts.next() {
        let last = parts.peek().is_none();
        if is_double_dot(segment) {
            segments.pop();
            if last {
                segments.push("");
            }
        } else if is_single_dot(segment) {
            if last {
                segments.push("");
            }
        } else {
            segments.push(segment);
        }
    }
    for segment in &segments {
        out.push('/');
        encode_into(out, segment, PATH_ENCODE)?;
    }
    if segments.is_empty() {
        out.push('/');
    }
    Ok(())
}

fn is_single_dot(segment: &str) -> bool {
    segment == "." || segment.eq_ignore_ascii_case("%2e")
}

fn is_double_dot(segment: &str) -> bool {
    matches!(segment.len(), 2 | 4 | 6)
        && matches!(
            segment.to_ascii_lowercase().as_str(),
            ".." | ".%2e" | "%2e." | "%2e%2e"
        )
}

/// Appends `text`, percent-encoding bytes outside ASCII and those in `set`, and refusing a `%`
/// not followed by two hex digits.
fn encode_into(out: &mut String, text: &str, set: &[u8]) -> Result<(), UrlError> {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'%'
            && !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
        {
            return Err(UrlError("a % is not followed by two hex digits"));
        }
        if b.is_ascii() && !set.contains(&b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(input: &str) -> String {
        Url::parse(input)
            .unwrap_or_else(|e| panic!("{input}: {e}"))
            .as_str()
            .to_owned()
    }

    #[test]
    fn normalizes_like_the_url_standard() {
        for (input, expected) in [
            ("https://AS.Example.COM", "https://as.example.com/"),
            ("HTTPS://as.example:443/token", "https://as.example/token"),
            ("http://127.0.0.1:80/cb", "http://127.0.0.1/cb"),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080/"),
            ("http://[::1]:3000/cb?x=1", "http://[::1]:3000/cb?x=1"),
            ("http://[0:0:0:0:0:0:0:1]/", "http://[::1]/"),
            ("http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/"),
            ("http://[1:0:0:2:0:0:0:3]/", "http://[1:0:0:2::3]/"),
            ("http://[1:0:0:2:0:0:3:4]/", "http://[1::2:0:0:3:4]/"),
            ("http://[1:2:3:4:5:6:7:0]/", "http://[1:2:3:4:5:6:7:0]/"),
            ("http://[1:2:3:4:5:6:0:0]/", "http://[1:2:3:4:5:6::]/"),
            ("http://[::]/", "http://[::]/"),
            ("https://h/a/./b/../c", "https://h/a/c"),
            ("https://h/a/%2e%2E/b/.", "https://h/b/"),
            ("https://h/../../x", "https://h/x"),
            ("https://h/a b?c d#e f", "https://h/a%20b?c%20d#e%20f"),
            ("https://h/é?q=é#é", "https://h/%C3%A9?q=%C3%A9#%C3%A9"),
            ("https://h/{x}?a=\"'<>", "https://h/%7Bx%7D?a=%22%27%3C%3E"),
            ("https://h:/p", "https://h/p"),
            ("https://h/p?", "https://h/p?"),
            ("https://h/p#", "https://h/p#"),
            (
                "com.Example.App:/oauth2redirect",
                "com.example.app:/oauth2redirect",
            ),
            ("myapp://callback/x?y=1", "myapp://callback/x?y=1"),
            ("myapp://CallBack", "myapp://CallBack"),
            ("hp:/.//x", "hp:/.//x"),
            ("myapp://h/a/../b", "myapp://h/a/../b"),
            ("urn:ietf:wg:oauth:2.0:oob", "urn:ietf:wg:oauth:2.0:oob"),
        ] {
            assert_eq!(ok(input), expected, "{input}");
        }
    }

    #[test]
    fn components() {
        let url = Url::parse("https://AS.example:8443/a/b?x=1&y=2#frag").unwrap();
        assert_eq!(url.scheme(), "https");
        assert_eq!(url.host_str(), Some("as.example"));
        assert_eq!(url.port(), Some(8443));
        assert_eq!(url.port_or_known_default(), Some(8443));
        assert_eq!(url.path(), "/a/b");
        assert_eq!(url.query(), Some("x=1&y=2"));
        assert_eq!(url.fragment(), Some("frag"));
        assert_eq!(url.up_to_path(), "https://as.example:8443");
        assert_eq!(url.host_port(), "as.example:8443");
        assert_eq!(Url::parse("https://h/").unwrap().host_port(), "h:443");
        assert_eq!(Url::parse("myapp:/cb").unwrap().host_port(), "unknown host");
        let url = Url::parse("http://[::1]/#f").unwrap();
        assert_eq!(url.host_str(), Some("[::1]"));
        assert_eq!(url.port_or_known_default(), Some(80));
        assert_eq!(
            (url.path(), url.query(), url.fragment()),
            ("/", None, Some("f"))
        );
        let url = Url::parse("com.example.app:/cb").unwrap();
        assert_eq!((url.host_str(), url.path()), (None, "/cb"));
    }

    #[test]
    fn origins() {
        let a = Url::parse("https://api.example/v1").unwrap().origin();
        let b = Url::parse("https://API.example:443/other?q")
            .unwrap()
            .origin();
        let c = Url::parse("https://api.example:8443/").unwrap().origin();
        let d = Url::parse("http://api.example/").unwrap().origin();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
        assert_eq!(a.ascii_serialization(), "https://api.example");
        assert_eq!(c.ascii_serialization(), "https://api.example:8443");
        let opaque = Url::parse("myapp:/x").unwrap().origin();
        assert!(!opaque.is_tuple());
        assert_eq!(opaque.ascii_serialization(), "null");
    }

    #[test]
    fn refuses_what_a_browser_would_guess_at() {
        for (input, reason) in [
            ("", "no scheme"),
            ("as.example/token", "no scheme"),
            ("/token", "no scheme"),
            ("1http://h/", "invalid scheme"),
            ("https://h/\n", "control"),
            ("https://h/\t", "control"),
            (" https://h/", "space"),
            ("https://h/ ", "space"),
            ("https://a b/", "character in the host"),
            ("https://user:pass@h/", "password"),
            ("https://h\\evil.example/", "backslash"),
            ("https://h/%zz", "hex"),
            ("https://h/%4", "hex"),
            ("https://exämple.com/", "xn--"),
            ("https://h^/", "character in the host"),
            ("https://0x7f.1/", "dotted quad"),
            ("https://2130706433/", "dotted quad"),
            ("https://127.1/", "dotted quad"),
            ("https://127.0.0.01/", "dotted quad"),
            ("https://h:99999/", "port"),
            ("https://h:8o/", "port"),
            ("https:///path", "no host"),
            ("https:h/path", "//host"),
            ("https://[::1/", "IPv6"),
            ("https://[::g]/", "IPv6"),
            ("https://[::1]x/", "IPv6"),
        ] {
            let error = Url::parse(input).expect_err(input).to_string();
            assert!(error.contains(reason), "{input:?}: {error}");
        }
    }

    #[test]
    fn errors_never_echo_the_input() {
        let error = Url::parse("https://h/?token=SECRET%zz").unwrap_err();
        assert!(!error.to_string().contains("SECRET"));
        assert!(!format!("{error:?}").contains("SECRET"));
    }
}
