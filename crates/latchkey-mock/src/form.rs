//! `application/x-www-form-urlencoded` decoding (WHATWG URL standard, §5.1).

/// Decodes one form-urlencoded component: `+` is a space and `%XX` a byte.
///
/// Malformed escapes are kept literally, as the URL standard says; bytes that do
/// not form UTF-8 are an error.
pub(crate) fn decode_component(input: &str) -> Result<String, String> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => match (
                bytes.get(i + 1).and_then(hex),
                bytes.get(i + 2).and_then(hex),
            ) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| format!("`{input}` does not decode to UTF-8"))
}

fn hex(b: &u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Parses a whole form-urlencoded string into name/value pairs, in order, keeping duplicates.
pub(crate) fn parse(input: &[u8]) -> Result<Vec<(String, String)>, String> {
    let text = std::str::from_utf8(input).map_err(|_| "form body is not UTF-8".to_owned())?;
    let mut pairs = Vec::new();
    for piece in text.split('&') {
        if piece.is_empty() {
            continue;
        }
        let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
        pairs.push((decode_component(name)?, decode_component(value)?));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plus_and_escapes() {
        assert_eq!(decode_component("a+b%2Bc%3A%25").unwrap(), "a b+c:%");
        assert_eq!(decode_component("%zz%4").unwrap(), "%zz%4");
        assert_eq!(decode_component("caf%C3%A9").unwrap(), "café");
        assert!(decode_component("%FF").is_err());
    }

    #[test]
    fn parses_pairs_in_order_with_duplicates() {
        let pairs = parse(b"a=1&&b=&c&a=2%263").unwrap();
        let expected = [("a", "1"), ("b", ""), ("c", ""), ("a", "2&3")];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
        assert_eq!(pairs, expected);
    }
}
