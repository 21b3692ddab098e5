//! A small, strict `multipart/form-data` parser (RFC 7578 over RFC 2046 §5.1).

/// Splits a header value such as `multipart/form-data; boundary="a b"` into its
/// lower-cased first item and its `name=value` parameters (names lower-cased,
/// quoted-string values unquoted and unescaped).
pub(crate) fn parse_header_params(value: &str) -> (String, Vec<(String, String)>) {
    let (head, mut rest) = match value.find(';') {
        Some(i) => (&value[..i], &value[i + 1..]),
        None => (value, ""),
    };
    let mut params = Vec::new();
    loop {
        rest = rest.trim_start_matches([' ', '\t', ';']);
        if rest.is_empty() {
            break;
        }
        let name_end = rest.find(['=', ';']).unwrap_or(rest.len());
        let name = rest[..name_end].trim().to_ascii_lowercase();
        rest = &rest[name_end..];
        let Some(after_eq) = rest.strip_prefix('=') else {
            // A parameter without a value: skip it.
            params.push((name, String::new()));
            continue;
        };
        let after_eq = after_eq.trim_start_matches([' ', '\t']);
        let mut value = String::new();
        if let Some(quoted) = after_eq.strip_prefix('"') {
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            value.push(escaped);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => value.push(c),
                }
            }
            rest = &quoted[end.min(quoted.len())..];
            // Skip anything up to the next parameter.
            rest = rest.find(';').map_or("", |i| &rest[i..]);
        } else {
            let end = after_eq.find(';').unwrap_or(after_eq.len());
            value.push_str(after_eq[..end].trim());
            rest = &after_eq[end..];
        }
        params.push((name, value));
    }
    (head.trim().to_ascii_lowercase(), params)
}

/// The `boundary` parameter of a `multipart/form-data` content type.
pub(crate) fn boundary(content_type: &str) -> Result<String, String> {
    let (_, params) = parse_header_params(content_type);
    let boundary = params
        .into_iter()
        .find(|(name, _)| name == "boundary")
        .map(|(_, value)| value)
        .ok_or_else(|| "multipart/form-data content type has no boundary parameter".to_owned())?;
    if boundary.is_empty() || boundary.len() > 70 {
        return Err(format!(
            "multipart boundary must be 1 to 70 characters, got {}",
            boundary.len()
        ));
    }
    Ok(boundary)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Parses a `multipart/form-data` body into its fields, in order.
///
/// Each part must carry `Content-Disposition: form-data; name="..."`; its content
/// (everything between the blank line after its headers and the CRLF that starts
/// the next delimiter) must be UTF-8. A preamble before the first delimiter and an
/// epilogue after the closing one are ignored.
pub(crate) fn parse(body: &[u8], boundary: &str) -> Result<Vec<(String, String)>, String> {
    let dash_boundary = format!("--{boundary}");
    let delimiter = format!("\r\n--{boundary}");
    let dash_boundary = dash_boundary.as_bytes();
    let delimiter = delimiter.as_bytes();

    let mut pos = if body.starts_with(dash_boundary) {
        dash_boundary.len()
    } else {
        find(body, delimiter)
            .map(|i| i + delimiter.len())
            .ok_or_else(|| "multipart body does not contain the boundary".to_owned())?
    };
    let mut fields = Vec::new();
    loop {
        let rest = &body[pos..];
        if rest.starts_with(b"--") {
            return Ok(fields);
        }
        // Transport padding, then the CRLF that ends the delimiter line.
        let padding = rest
            .iter()
            .take_while(|b| **b == b' ' || **b == b'\t')
            .count();
        pos += padding;
        if !body[pos..].starts_with(b"\r\n") {
            return Err("multipart delimiter is not followed by CRLF".to_owned());
        }
        pos += 2;

        // Header section: ends at the first empty line.
        let (headers, content_start) = if body[pos..].starts_with(b"\r\n") {
            (&body[pos..pos], pos + 2)
        } else {
            let end = find(&body[pos..], b"\r\n\r\n")
                .ok_or_else(|| "multipart part headers are not terminated".to_owned())?;
            (&body[pos..pos + end], pos + end + 4)
        };
        let headers =
            std::str::from_utf8(headers).map_err(|_| "multipart part headers are not UTF-8")?;
        let mut name = None;
        for line in headers.split("\r\n") {
            let Some((header, value)) = line.split_once(':') else {
                return Err(format!("malformed multipart part header `{line}`"));
            };
            if header.trim().eq_ignore_ascii_case("content-disposition") {
                let (kind, params) = parse_header_params(value);
                if kind != "form-data" {
                    return Err(format!(
                        "multipart part disposition is `{kind}`, expected `form-data`"
                    ));
                }
                name = params
                    .into_iter()
                    .find(|(p, _)| p == "name")
                    .map(|(_, v)| v);
            }
        }
        let name = name.ok_or_else(|| {
            "multipart part has no `Content-Disposition: form-data; name=...` header".to_owned()
        })?;

        let content_len = find(&body[content_start..], delimiter)
            .ok_or_else(|| "multipart body has no closing delimiter".to_owned())?;
        let content = &body[content_start..content_start + content_len];
        let value = String::from_utf8(content.to_vec())
            .map_err(|_| format!("multipart field `{name}` is not UTF-8"))?;
        fields.push((name, value));
        pos = content_start + content_len + delimiter.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn boundary_plain_and_quoted() {
        assert_eq!(
            boundary("multipart/form-data; boundary=----abc123").unwrap(),
            "----abc123"
        );
        assert_eq!(
            boundary("multipart/form-data;charset=utf-8; Boundary=\"a b;c\\\"d\"").unwrap(),
            "a b;c\"d"
        );
        assert!(boundary("multipart/form-data").is_err());
        assert!(boundary("multipart/form-data; boundary=\"\"").is_err());
    }

    #[test]
    fn parses_curl_style_body() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"client_id\"\r\n\r\nabc\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"code\"\r\nContent-Type: text/plain\r\n\r\nline1\r\nline2\r\n\
--XyZ\r\ncontent-disposition: form-data; name=empty\r\n\r\n\r\n--XyZ--\r\n";
        assert_eq!(
            parse(body, "XyZ").unwrap(),
            pairs(&[
                ("client_id", "abc"),
                ("code", "line1\r\nline2"),
                ("empty", "")
            ])
        );
    }

    #[test]
    fn preamble_padding_and_epilogue() {
        let body = b"this is a preamble\r\n--b  \r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b--epilogue";
        assert_eq!(parse(body, "b").unwrap(), pairs(&[("a", "1")]));
    }

    #[test]
    fn content_may_contain_boundary_lookalikes() {
        let body =
            b"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx--b\r\n-b\r\n--b--\r\n";
        assert_eq!(parse(body, "b").unwrap(), pairs(&[("a", "x--b\r\n-b")]));
    }

    #[test]
    fn rejects_malformed() {
        assert!(parse(b"no boundary here", "b").is_err());
        assert!(
            parse(
                b"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1",
                "b"
            )
            .is_err()
        );
        assert!(parse(b"--b\r\nContent-Type: text/plain\r\n\r\n1\r\n--b--", "b").is_err());
        assert!(
            parse(
                b"--b\nContent-Disposition: form-data; name=\"a\"\n\n1\n--b--",
                "b"
            )
            .is_err()
        );
        assert!(
            parse(
                b"--b\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\n1\r\n--b--",
                "b"
            )
            .is_err()
        );
    }
}
