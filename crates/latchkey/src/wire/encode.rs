//! Request bodies: form, JSON and multipart/form-data, and the percent-encoding of URL
//! query values.
//!
//! Encodings come from maintained crates: `percent-encoding` and `form_urlencoded` (the `url`
//! crate's own), `serde_json`. Only the multipart writer is ours: no maintained crate writes a
//! multipart body without I/O.

use std::fmt::Write as _;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::error::ConfigError;

/// Every byte but the RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`) is escaped.
const NOT_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Appends `value` percent-encoded so that only RFC 3986 unreserved characters stay literal.
///
/// Spaces become `%20`, which every query parser accepts (a `+` is read as a space only by
/// form parsers).
pub(crate) fn percent_encode_into(out: &mut String, value: &str) {
    out.extend(utf8_percent_encode(value, NOT_UNRESERVED));
}

/// The most bytes [`percent_encode_into`] can write for `value`.
pub(crate) fn percent_encoded_max_len(value: &str) -> usize {
    value.len().saturating_mul(3)
}

/// Encodes `pairs` as `application/x-www-form-urlencoded` (WHATWG URL §5.2: a space as `+`).
pub(crate) fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
        .into_bytes()
}

/// Encodes `pairs` as a JSON object of strings, in order.
pub(crate) fn json(pairs: &[(&str, &str)]) -> Vec<u8> {
    use serde::Serializer as _;
    let mut out = Vec::with_capacity(pairs.iter().map(|(k, v)| k.len() + v.len() + 6).sum());
    // Writing strings into a Vec cannot fail.
    let _ = serde_json::Serializer::new(&mut out).collect_map(pairs.iter().map(|(k, v)| (k, v)));
    out
}

/// The boundary used for multipart bodies, lengthened if any value happens to contain it.
fn boundary_for(pairs: &[(&str, &str)]) -> String {
    let mut boundary = String::from("latchkey-form-boundary");
    let mut n = 0u32;
    while pairs
        .iter()
        .any(|(k, v)| k.contains(boundary.as_str()) || v.contains(boundary.as_str()))
    {
        n += 1;
        boundary = format!("latchkey-form-boundary-{n}");
    }
    boundary
}

/// Encodes `pairs` as `multipart/form-data` (RFC 7578), as `curl -F name=value` does.
///
/// Returns the `Content-Type` header value (with its boundary) and the body.
///
/// # Errors
///
/// [`ConfigError::InvalidParameter`] for a name with `"`, `\`, CR or LF: it cannot be written
/// in a `Content-Disposition` name without an escaping that parsers disagree on (a strict
/// parser reads `\client_id` as `client_id`), so it is refused rather than rewritten.
pub(crate) fn multipart(pairs: &[(&str, &str)]) -> Result<(String, Vec<u8>), ConfigError> {
    if let Some((name, _)) = pairs
        .iter()
        .find(|(name, _)| name.contains(['"', '\\', '\r', '\n']))
    {
        return Err(ConfigError::InvalidParameter {
            name: (*name).to_owned(),
            reason: "a multipart/form-data field name cannot hold \", \\, CR or LF",
        });
    }
    let boundary = boundary_for(pairs);
    let mut out = String::new();
    for (name, value) in pairs {
        let _ = write!(
            out,
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        );
    }
    let _ = write!(out, "--{boundary}--\r\n");
    Ok((
        format!("multipart/form-data; boundary={boundary}"),
        out.into_bytes(),
    ))
}

/// Parses a multipart/form-data body of text fields. Returns `None` when it is not one.
pub(crate) fn parse_multipart(content_type: &str, body: &[u8]) -> Option<Vec<(String, String)>> {
    let boundary = content_type
        .split(';')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("boundary="))?
        .trim_matches('"');
    let body = std::str::from_utf8(body).ok()?;
    let delimiter = format!("--{boundary}");
    let mut parts = Vec::new();
    for chunk in body.split(delimiter.as_str()).skip(1) {
        if chunk.starts_with("--") {
            break;
        }
        let chunk = chunk.strip_prefix("\r\n")?;
        let (head, value) = chunk.split_once("\r\n\r\n")?;
        let value = value.strip_suffix("\r\n")?;
        let name = head
            .split("\r\n")
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))?
            .split(';')
            .map(str::trim)
            .find_map(|p| p.strip_prefix("name="))?
            .trim_matches('"');
        parts.push((name.to_owned(), value.to_owned()));
    }
    Some(parts)
}

/// Base64url without padding (RFC 4648 §5): random values sent as text (a nonce), JOSE parts.
pub(crate) fn base64url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoding_keeps_unreserved() {
        let mut s = String::new();
        percent_encode_into(&mut s, "a-b.c_d~e f/g:h&é");
        assert_eq!(s, "a-b.c_d~e%20f%2Fg%3Ah%26%C3%A9");
        for (input, encoded) in [
            ("", ""),
            ("é", "%C3%A9"),
            ("aé", "a%C3%A9"),
            ("éa", "%C3%A9a"),
            ("a😀b", "a%F0%9F%98%80b"),
            ("%", "%25"),
            ("~~", "~~"),
            ("*+", "%2A%2B"),
        ] {
            let mut s = String::from("x=");
            percent_encode_into(&mut s, input);
            assert_eq!(s, format!("x={encoded}"), "{input}");
            assert!(s.len() - 2 <= percent_encoded_max_len(input));
        }
    }

    #[test]
    fn form_and_json() {
        assert_eq!(form(&[("a", "1 2"), ("b", "x=y+z")]), b"a=1+2&b=x%3Dy%2Bz");
        assert_eq!(json(&[("b", "1"), ("a", "\"")]), br#"{"b":"1","a":"\""}"#);
        assert_eq!(json(&[]), b"{}");
    }

    #[test]
    fn multipart_round_trip_and_boundary_collision() {
        let pairs = [("code", "abc"), ("evil", "--latchkey-form-boundary\r\n")];
        let (ct, body) = multipart(&pairs).unwrap();
        assert!(ct.ends_with("boundary=latchkey-form-boundary-1"));
        let parsed = parse_multipart(&ct, &body).unwrap();
        assert_eq!(
            parsed,
            vec![
                ("code".to_owned(), "abc".to_owned()),
                ("evil".to_owned(), "--latchkey-form-boundary\r\n".to_owned())
            ]
        );
    }
}
