//! From a request's target, headers and body to the parameters the endpoints read: the
//! query string for `GET` and `HEAD`, else a form, JSON or multipart body.

use serde_json::Value;

use crate::client::Encoding;
use crate::{form, multipart};

/// The parameters of a request, or why there are none.
#[derive(Debug, Default)]
pub(crate) struct Decoded {
    pub(crate) params: Vec<(String, String)>,
    pub(crate) encoding: Option<Encoding>,
    pub(crate) media_type: Option<String>,
    pub(crate) error: Option<String>,
}

impl Decoded {
    /// Nothing decoded, for this reason.
    pub(crate) fn failed(why: &str) -> Self {
        Self {
            error: Some(why.to_owned()),
            ..Self::default()
        }
    }
}

/// The path and query of a target: origin-form (`/token?x=1`) or an absolute URL. Anything
/// else is taken as a path, which no endpoint has.
pub(crate) fn split_target(target: &str) -> (String, Option<String>) {
    let origin_form = if target.starts_with('/') {
        target.to_owned()
    } else {
        match url::Url::parse(target) {
            Ok(url) => match url.query() {
                Some(query) => format!("{}?{query}", url.path()),
                None => url.path().to_owned(),
            },
            Err(_) => return (target.to_owned(), None),
        }
    };
    let without_fragment = origin_form.split('#').next().unwrap_or_default();
    match without_fragment.split_once('?') {
        Some((path, query)) => (path.to_owned(), Some(query.to_owned())),
        None => (without_fragment.to_owned(), None),
    }
}

/// Decodes the parameters of a request.
pub(crate) fn decode(
    method: &str,
    content_type: Option<&str>,
    query: Option<&str>,
    body: &[u8],
) -> Decoded {
    if method == "GET" || method == "HEAD" {
        return match form::parse(query.unwrap_or("").as_bytes()) {
            Ok(params) => Decoded {
                params,
                ..Decoded::default()
            },
            Err(e) => Decoded::failed(&e),
        };
    }
    let Some(content_type) = content_type else {
        if body.is_empty() {
            return Decoded::default();
        }
        return Decoded::failed("the request has a body but no Content-Type");
    };
    let (media_type, _) = multipart::parse_header_params(content_type);
    let result = match media_type.as_str() {
        "application/x-www-form-urlencoded" => form::parse(body).map(|p| (p, Encoding::Form)),
        "application/json" => parse_json(body).map(|p| (p, Encoding::Json)),
        "multipart/form-data" => multipart::boundary(content_type)
            .and_then(|boundary| multipart::parse(body, &boundary))
            .map(|p| (p, Encoding::Multipart)),
        other => Err(format!("unsupported Content-Type `{other}`")),
    };
    let mut decoded = match result {
        Ok((params, encoding)) => Decoded {
            params,
            encoding: Some(encoding),
            ..Decoded::default()
        },
        Err(e) => Decoded::failed(&e),
    };
    decoded.media_type = Some(media_type);
    decoded
}

/// A flat JSON object of strings, numbers and booleans (`null` members are left out).
fn parse_json(body: &[u8]) -> Result<Vec<(String, String)>, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not valid JSON: {e}"))?;
    let Value::Object(map) = value else {
        return Err("the JSON body must be an object".to_owned());
    };
    let mut params = Vec::with_capacity(map.len());
    for (name, value) in map {
        let value = match value {
            Value::Null => continue,
            Value::String(s) => s,
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            Value::Array(_) | Value::Object(_) => {
                return Err(format!("JSON parameter `{name}` must be a string"));
            }
        };
        params.push((name, value));
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_in_origin_and_absolute_form() {
        let split = |t: &str| split_target(t);
        assert_eq!(split("/token"), ("/token".to_owned(), None));
        assert_eq!(
            split("/authorize?a=1&b=2#frag"),
            ("/authorize".to_owned(), Some("a=1&b=2".to_owned()))
        );
        assert_eq!(
            split("http://mock.invalid/device?user_code=X"),
            ("/device".to_owned(), Some("user_code=X".to_owned()))
        );
        assert_eq!(split("http://mock.invalid"), ("/".to_owned(), None));
        assert_eq!(split("*"), ("*".to_owned(), None));
        assert_eq!(split(""), (String::new(), None));
    }

    #[test]
    fn bodies_by_content_type() {
        let json = decode(
            "POST",
            Some("application/json"),
            None,
            br#"{"a":"1","b":2,"c":null}"#,
        );
        assert_eq!(json.encoding, Some(Encoding::Json));
        assert_eq!(json.params.len(), 2);
        let nested = decode("POST", Some("application/json"), None, br#"{"a":[1]}"#);
        assert!(nested.error.unwrap().contains("must be a string"));
        let odd = decode("POST", Some("text/plain; charset=x"), None, b"x");
        assert_eq!(odd.media_type.as_deref(), Some("text/plain"));
        assert!(odd.error.unwrap().contains("text/plain"));
        assert!(decode("POST", None, None, b"x").error.is_some());
        assert!(decode("POST", None, None, b"").error.is_none());
        let get = decode("GET", Some("application/json"), Some("a=%41"), b"ignored");
        assert_eq!(get.params, vec![("a".to_owned(), "A".to_owned())]);
        assert_eq!(get.encoding, None);
    }
}
