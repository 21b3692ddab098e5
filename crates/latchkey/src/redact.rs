//! What is secret, and how text is made safe to print.
//!
//! One list of secret names ([`is_secret_parameter`], [`is_secret_header`]), one way to mask a
//! known secret in every spelling a server may echo it in ([`mask`]), and one escaping rule
//! for text that came from the network ([`Escaped`]). The core's error messages, redacted
//! request bodies and `Debug` output use them, and so does the `latchkey` command for
//! everything it writes to a terminal.

use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// What replaces a secret.
pub const REDACTED: &str = "<redacted>";

/// Names of request parameters, response members and URL query parameters whose values are
/// credentials (RFC 6749, 7009, 7523, 7636, 8628, 8693, OpenID Connect).
pub const SECRET_PARAMETERS: &[&str] = &[
    "access_token",
    "actor_token",
    "assertion",
    "client_assertion",
    "client_secret",
    "code",
    "code_verifier",
    "device_code",
    "id_token",
    "password",
    "refresh_token",
    "subject_token",
    "token",
];

/// HTTP header fields whose values are credentials (compared without regard to case).
pub const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "cookie",
    "dpop",
    "proxy-authorization",
    "set-cookie",
];

/// Secrets shorter than this are not masked in free text: masking every `ab` in a message
/// because a two-letter "secret" was given would destroy the message and protect nothing.
pub const MIN_MASKED_LEN: usize = 3;

/// True when a parameter or member of this name carries a credential.
#[must_use]
pub fn is_secret_parameter(name: &str) -> bool {
    SECRET_PARAMETERS.contains(&name)
}

/// True when a header field of this name carries a credential.
#[must_use]
pub fn is_secret_header(name: &str) -> bool {
    SECRET_HEADERS.iter().any(|s| name.eq_ignore_ascii_case(s))
}

/// A header value as it may be shown: the authentication scheme kept (`Basic <redacted>`),
/// the credential replaced.
#[must_use]
pub fn header_value(name: &str, value: &str) -> String {
    if !is_secret_header(name) {
        return value.to_owned();
    }
    match value.split_once(' ') {
        Some((scheme, _)) if !scheme.is_empty() => format!("{scheme} {REDACTED}"),
        _ => REDACTED.to_owned(),
    }
}

/// RFC 3986 unreserved characters stay literal (what latchkey and most servers write).
const PERCENT_STRICT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// What JavaScript's `encodeURIComponent` leaves literal as well: `! ' ( ) *`.
const PERCENT_COMPONENT: &AsciiSet = &PERCENT_STRICT
    .remove(b'!')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*');

/// Every spelling in which a server may echo `secret` back in a body or a message: as it is,
/// JSON-escaped (with and without `\/`, with non-ASCII as `\uXXXX`), HTML-escaped (the
/// common entity choices for `"` and `'`, also of the JSON spellings), percent-encoded (upper
/// and lower hex, strict and `encodeURIComponent` style) and form-encoded (a space as `+`).
#[must_use]
pub fn spellings(secret: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |s: String| {
        if !s.is_empty() && !out.contains(&s) {
            out.push(s);
        }
    };
    let json = serde_json::to_string(secret).unwrap_or_default();
    let json = json
        .strip_prefix('"')
        .and_then(|j| j.strip_suffix('"'))
        .unwrap_or(secret)
        .to_owned();
    let json_slash = json.replace('/', "\\/");
    let mut texts = vec![secret.to_owned()];
    for json in [json, json_slash] {
        texts.push(json_ascii_escape(&json, false));
        texts.push(json_ascii_escape(&json, true));
        texts.push(json);
    }
    for text in texts {
        for html in html_spellings(&text) {
            add(html);
        }
        add(text);
    }
    for set in [PERCENT_STRICT, PERCENT_COMPONENT] {
        let upper = utf8_percent_encode(secret, set).to_string();
        add(lower_hex(&upper));
        add(upper);
    }
    let form: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    add(lower_hex(&form));
    add(form);
    // Longest first, so that a spelling that contains another is masked whole.
    out.sort_by_key(|s| std::cmp::Reverse(s.len()));
    out
}

/// `json` (already JSON-escaped) with every non-ASCII character written `\uXXXX`.
fn json_ascii_escape(json: &str, upper: bool) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
            continue;
        }
        let mut units = [0u16; 2];
        for unit in c.encode_utf16(&mut units) {
            if upper {
                out.push_str(&format!("\\u{unit:04X}"));
            } else {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

/// The HTML-escaped spellings of `text`: `& < >` as named entities, `"` and `'` in each of the
/// entity forms template engines use. Empty when `text` has nothing to escape.
fn html_spellings(text: &str) -> Vec<String> {
    if !text.contains(['&', '<', '>', '"', '\'']) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for quote in ["&quot;", "&#34;", "&#x22;"] {
        for apostrophe in ["&#39;", "&#x27;", "&apos;", "'"] {
            let mut s = String::with_capacity(text.len() + 16);
            for c in text.chars() {
                match c {
                    '&' => s.push_str("&amp;"),
                    '<' => s.push_str("&lt;"),
                    '>' => s.push_str("&gt;"),
                    '"' => s.push_str(quote),
                    '\'' => s.push_str(apostrophe),
                    c => s.push(c),
                }
            }
            if !out.contains(&s) {
                out.push(s);
            }
        }
    }
    out
}

/// `%XX` escapes with lower-case hex digits.
fn lower_hex(encoded: &str) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut hex_left = 0;
    for c in encoded.chars() {
        if c == '%' {
            hex_left = 2;
            out.push(c);
        } else if hex_left > 0 {
            hex_left -= 1;
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `text` with every spelling ([`spellings`]) of every secret of at least
/// [`MIN_MASKED_LEN`] characters replaced by [`REDACTED`].
#[must_use]
pub fn mask(text: &str, secrets: &[&str]) -> String {
    let mut all: Vec<String> = secrets
        .iter()
        .filter(|s| s.chars().count() >= MIN_MASKED_LEN)
        .flat_map(|s| spellings(s))
        .collect();
    all.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = text.to_owned();
    for spelling in &all {
        if out.contains(spelling.as_str()) {
            out = out.replace(spelling.as_str(), REDACTED);
        }
    }
    out
}

/// True for characters that must never reach a log or a terminal raw: C0 and C1 controls
/// (ESC, CR, LF, BEL, backspace, CSI...), DEL, the line and paragraph separators, zero-width
/// characters and the byte order mark, and the bidirectional marks, embeddings, overrides and
/// isolates (CVE-2021-42574, "Trojan Source").
#[must_use]
pub fn is_dangerous(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2069}'
                | '\u{feff}'
        )
}

/// Displays text that came from the network on one line, safe for a log or a terminal: `\n`,
/// `\r` and `\t` by name, every other [dangerous](is_dangerous) character as `\u{..}`.
///
/// [`Escaped::quoted`] also escapes `"` and `\`, for text shown between quotes.
#[derive(Clone, Copy, Debug)]
pub struct Escaped<'a> {
    text: &'a str,
    quoted: bool,
}

impl<'a> Escaped<'a> {
    /// Escapes the dangerous characters of `text`.
    #[must_use]
    pub fn new(text: &'a str) -> Self {
        Self {
            text,
            quoted: false,
        }
    }

    /// Escapes the dangerous characters of `text`, and `"` and `\` as `\"` and `\\`.
    #[must_use]
    pub fn quoted(text: &'a str) -> Self {
        Self { text, quoted: true }
    }
}

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.text;
        while let Some((at, c)) = rest
            .char_indices()
            .find(|&(_, c)| is_dangerous(c) || (self.quoted && matches!(c, '"' | '\\')))
        {
            f.write_str(&rest[..at])?;
            match c {
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                '\t' => f.write_str("\\t")?,
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                c => write!(f, "\\u{{{:x}}}", u32::from(c))?,
            }
            rest = &rest[at + c.len_utf8()..];
        }
        f.write_str(rest)
    }
}

/// [`Escaped`] as a `String`.
#[must_use]
pub fn escape(text: &str) -> String {
    Escaped::new(text).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_is_masked() {
        let secret = "p\"ss\\wo'rd/é <&>+*~ 1234";
        let spellings = spellings(secret);
        for expected in [
            secret,
            r#"p\"ss\\wo'rd/é <&>+*~ 1234"#,
            r#"p\"ss\\wo'rd\/\u00e9 <&>+*~ 1234"#,
            r#"p\"ss\\wo'rd/\u00E9 <&>+*~ 1234"#,
            "p&quot;ss\\wo&#39;rd/é &lt;&amp;&gt;+*~ 1234",
            "p&#34;ss\\wo&#39;rd/é &lt;&amp;&gt;+*~ 1234",
            "p\\&quot;ss\\\\wo&#39;rd/é &lt;&amp;&gt;+*~ 1234",
            "p%22ss%5Cwo%27rd%2F%C3%A9%20%3C%26%3E%2B%2A~%201234",
            "p%22ss%5cwo%27rd%2f%c3%a9%20%3c%26%3e%2b%2a~%201234",
            "p%22ss%5Cwo'rd%2F%C3%A9%20%3C%26%3E%2B*~%201234",
            "p%22ss%5Cwo%27rd%2F%C3%A9+%3C%26%3E%2B*%7E+1234",
        ] {
            assert!(spellings.iter().any(|s| s == expected), "{expected}");
            let text = format!("rejected cid:{expected} (try again)");
            assert_eq!(
                mask(&text, &[secret]),
                "rejected cid:<redacted> (try again)"
            );
        }
    }

    #[test]
    fn short_secrets_are_not_masked_in_free_text() {
        assert_eq!(mask("an ab", &["ab"]), "an ab");
        assert_eq!(mask("an abc", &["abc"]), "an <redacted>");
    }

    #[test]
    fn one_escaping_rule() {
        let hostile = "a\nb\r\tc\u{1b}[2J\u{7f}\u{85}\u{2028}\u{061c}\u{feff}\u{202e}d\"\\é";
        assert_eq!(
            escape(hostile),
            "a\\nb\\r\\tc\\u{1b}[2J\\u{7f}\\u{85}\\u{2028}\\u{61c}\\u{feff}\\u{202e}d\"\\é"
        );
        assert_eq!(
            Escaped::quoted(hostile).to_string(),
            "a\\nb\\r\\tc\\u{1b}[2J\\u{7f}\\u{85}\\u{2028}\\u{61c}\\u{feff}\\u{202e}d\\\"\\\\é"
        );
    }

    #[test]
    fn secret_headers_keep_their_scheme() {
        assert_eq!(
            header_value("Authorization", "Basic abc"),
            "Basic <redacted>"
        );
        assert_eq!(header_value("DPoP", "eyJ.x.y"), "<redacted>");
        assert_eq!(
            header_value("accept", "application/json"),
            "application/json"
        );
    }
}
