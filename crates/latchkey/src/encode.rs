//! Pure writers for URLs and request bodies: percent-encoding, base64 (RFC 4648), form, JSON
//! and multipart/form-data.

use std::fmt::Write as _;

/// RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`), the bytes written as they are.
const UNRESERVED: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~');
        b += 1;
    }
    table
};

/// The base64 alphabet (RFC 4648 §4), used with `=` padding (HTTP Basic credentials).
pub(crate) const BASE64_STANDARD: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The base64url alphabet (RFC 4648 §5), used without padding (PKCE, state).
pub(crate) const BASE64_URL: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The length of base64 of `len` bytes, with or without `=` padding.
pub(crate) const fn base64_len(len: usize, pad: bool) -> usize {
    if pad {
        len.div_ceil(3) * 4
    } else {
        (len * 4).div_ceil(3)
    }
}

/// Writes base64 of `input` in `alphabet` to the start of `out` and returns how many bytes it
/// wrote ([`base64_len`]); `out` must be at least that long.
pub(crate) fn base64_encode(input: &[u8], alphabet: &[u8; 64], pad: bool, out: &mut [u8]) -> usize {
    let symbol = |six: u32| alphabet[(six & 63) as usize];
    let whole = input.len() / 3;
    let (head, tail) = out.split_at_mut(whole * 4);
    for (group, out) in input.chunks_exact(3).zip(head.chunks_exact_mut(4)) {
        let n = u32::from(group[0]) << 16 | u32::from(group[1]) << 8 | u32::from(group[2]);
        out[0] = symbol(n >> 18);
        out[1] = symbol(n >> 12);
        out[2] = symbol(n >> 6);
        out[3] = symbol(n);
    }
    let rest = &input[whole * 3..];
    let n = match *rest {
        [] => return whole * 4,
        [a] => u32::from(a) << 16,
        [a, b, ..] => u32::from(a) << 16 | u32::from(b) << 8,
    };
    let last = [symbol(n >> 18), symbol(n >> 12), symbol(n >> 6), b'='];
    let len = if pad { 4 } else { rest.len() + 1 };
    tail[..len].copy_from_slice(&last[..len]);
    if pad && rest.len() == 1 {
        tail[2] = b'=';
    }
    whole * 4 + len
}

/// Appends base64 of `input` in `alphabet` to `out`.
pub(crate) fn base64_into(out: &mut String, input: &[u8], alphabet: &[u8; 64], pad: bool) {
    let mut buf = vec![0u8; base64_len(input.len(), pad)];
    let written = base64_encode(input, alphabet, pad, &mut buf);
    // Every alphabet symbol and `=` are ASCII.
    out.push_str(std::str::from_utf8(&buf[..written]).unwrap_or_default());
}

/// Appends `value` as the `application/x-www-form-urlencoded` byte serializer writes it
/// (WHATWG URL §5.2): `A-Z a-z 0-9 * - . _` literal, space as `+`, every other byte `%XX`.
pub(crate) fn form_urlencode_into(out: &mut String, value: &str) {
    for &b in value.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => {
                let mut hex = [0u8; 2];
                hex_upper(b, &mut hex);
                out.push('%');
                out.push(char::from(hex[0]));
                out.push(char::from(hex[1]));
            }
        }
    }
}

/// The name/value pairs of an `application/x-www-form-urlencoded` text, decoded (`+` as
/// space, `%XX` as its byte, a stray `%` kept, invalid UTF-8 replaced), for display only.
pub(crate) fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    let decode = |part: &[u8]| String::from_utf8_lossy(&form_decode(part)).into_owned();
    body.split(|&b| b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = match pair.iter().position(|&b| b == b'=') {
                Some(eq) => (&pair[..eq], &pair[eq + 1..]),
                None => (pair, &b""[..]),
            };
            (decode(name), decode(value))
        })
        .collect()
}

/// Decodes one `application/x-www-form-urlencoded` name or value: `+` as a space, `%XX` as
/// its byte, a `%` not followed by two hex digits kept as it is.
pub(crate) fn form_decode(part: &[u8]) -> Vec<u8> {
    let hex = |at: usize| part.get(at).and_then(|&b| char::from(b).to_digit(16));
    let mut out = Vec::with_capacity(part.len());
    let mut i = 0;
    while i < part.len() {
        match part[i] {
            b'+' => out.push(b' '),
            b'%' => match (hex(i + 1), hex(i + 2)) {
                (Some(hi), Some(lo)) => {
                    out.push((hi * 16 + lo) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    out
}

fn hex_upper(b: u8, out: &mut [u8; 2]) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out[0] = HEX[usize::from(b >> 4)];
    out[1] = HEX[usize::from(b & 15)];
}

/// Appends `value` percent-encoded so that only RFC 3986 unreserved characters stay literal.
///
/// Spaces become `%20`, which every form and query parser accepts.
pub(crate) fn percent_encode_into(out: &mut String, value: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let bytes = value.as_bytes();
    // Runs of unreserved bytes are copied whole. A run starts at 0 or just after an escaped
    // byte, and holds only ASCII, so both its ends are character boundaries and `get` never
    // fails.
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if UNRESERVED[usize::from(b)] {
            continue;
        }
        if start < i {
            out.push_str(value.get(start..i).unwrap_or_default());
        }
        out.push('%');
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
        start = i + 1;
    }
    if start < bytes.len() {
        out.push_str(value.get(start..).unwrap_or_default());
    }
}

/// The most bytes [`percent_encode_into`] can write for `value`.
pub(crate) fn percent_encoded_max_len(value: &str) -> usize {
    value.len().saturating_mul(3)
}

/// Encodes `pairs` as `application/x-www-form-urlencoded`.
pub(crate) fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut out = String::with_capacity(pairs.iter().map(|(k, v)| k.len() + v.len() + 2).sum());
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        percent_encode_into(&mut out, k);
        out.push('=');
        percent_encode_into(&mut out, v);
    }
    out.into_bytes()
}

/// Encodes `pairs` as a JSON object of strings, in order.
pub(crate) fn json(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(pairs.iter().map(|(k, v)| k.len() + v.len() + 6).sum());
    out.push(b'{');
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        // Writing a string into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut out, k);
        out.push(b':');
        let _ = serde_json::to_writer(&mut out, v);
    }
    out.push(b'}');
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
pub(crate) fn multipart(pairs: &[(&str, &str)]) -> (String, Vec<u8>) {
    let boundary = boundary_for(pairs);
    let mut out = String::new();
    for (k, v) in pairs {
        let name = k.replace(['"', '\r', '\n'], "_");
        let _ = write!(
            out,
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{v}\r\n"
        );
    }
    let _ = write!(out, "--{boundary}--\r\n");
    (
        format!("multipart/form-data; boundary={boundary}"),
        out.into_bytes(),
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_urlencoding_matches_the_url_crate() {
        let samples = ["", "a b", "p@ss:w+rd", "~*-._", "é ü/?&=%", "\u{0}\u{7f}"];
        for sample in samples {
            let mut ours = String::new();
            form_urlencode_into(&mut ours, sample);
            let theirs: String = url::form_urlencoded::byte_serialize(sample.as_bytes()).collect();
            assert_eq!(ours, theirs);
            let body = format!("{ours}={ours}&x=%zz&&flag");
            let expected: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            assert_eq!(form_pairs(body.as_bytes()), expected);
        }
    }

    /// RFC 4648 §10 test vectors, and agreement with the `base64` crate on every length.
    #[test]
    fn base64_matches_rfc_4648_and_the_base64_crate() {
        use base64::Engine as _;
        use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            let mut out = String::new();
            base64_into(&mut out, input.as_bytes(), BASE64_STANDARD, true);
            assert_eq!(out, expected);
        }
        let bytes: Vec<u8> = (0..=255u8).rev().chain(0..=255).collect();
        for len in 0..bytes.len() {
            let input = &bytes[len % 7..len];
            let mut standard = String::new();
            base64_into(&mut standard, input, BASE64_STANDARD, true);
            assert_eq!(standard, STANDARD.encode(input));
            let mut url = String::new();
            base64_into(&mut url, input, BASE64_URL, false);
            assert_eq!(url, URL_SAFE_NO_PAD.encode(input));
            assert_eq!(url.len(), base64_len(input.len(), false));
        }
    }

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
        ] {
            let mut s = String::from("x=");
            percent_encode_into(&mut s, input);
            assert_eq!(s, format!("x={encoded}"), "{input}");
            assert!(s.len() - 2 <= percent_encoded_max_len(input));
        }
    }

    #[test]
    fn form_and_json() {
        assert_eq!(form(&[("a", "1 2"), ("b", "x=y")]), b"a=1%202&b=x%3Dy");
        assert_eq!(json(&[("b", "1"), ("a", "\"")]), br#"{"b":"1","a":"\""}"#);
    }

    #[test]
    fn multipart_round_trip_and_boundary_collision() {
        let pairs = [("code", "abc"), ("evil", "--latchkey-form-boundary\r\n")];
        let (ct, body) = multipart(&pairs);
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
