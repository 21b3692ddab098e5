//! An answer before it becomes an HTTP response, and the shapes every endpoint answers with.

use serde_json::{Value, json};

use crate::http::Response;

/// A response with static header names, as the endpoints build it.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    /// A JSON body that no cache may keep (RFC 6749 §5.1).
    pub(crate) fn json(status: u16, value: &Value) -> Self {
        Self {
            status,
            headers: vec![
                ("content-type", "application/json".to_owned()),
                ("cache-control", "no-store".to_owned()),
                ("pragma", "no-cache".to_owned()),
            ],
            body: value.to_string().into_bytes(),
        }
    }

    /// A body of this content type (none when empty), and nothing else.
    pub(crate) fn raw(status: u16, content_type: &str, body: Vec<u8>) -> Self {
        let headers = if content_type.is_empty() {
            Vec::new()
        } else {
            vec![("content-type", content_type.to_owned())]
        };
        Self {
            status,
            headers,
            body,
        }
    }

    /// An RFC 6749 §5.2 error; `invalid_client` is a 401 with `WWW-Authenticate: Basic`.
    pub(crate) fn oauth_error(error: &str, description: &str) -> Self {
        let status = if error == "invalid_client" { 401 } else { 400 };
        let mut reply = Self::json(
            status,
            &json!({ "error": error, "error_description": description }),
        );
        if status == 401 {
            reply.headers.push((
                "www-authenticate",
                "Basic realm=\"latchkey-mock\"".to_owned(),
            ));
        }
        reply
    }

    /// A small HTML page (the user-facing endpoints' errors), its text escaped.
    pub(crate) fn html(status: u16, title: &str, message: &str) -> Self {
        let body = format!(
            "<!DOCTYPE html>\n<html><head><title>{title}</title></head>\
             <body><h1>{title}</h1><p>{message}</p></body></html>\n",
            title = escape_html(title),
            message = escape_html(message),
        );
        Self::raw(status, "text/html; charset=utf-8", body.into_bytes())
    }

    /// `302 Found` to `location`.
    pub(crate) fn redirect(location: String) -> Self {
        Self {
            status: 302,
            headers: vec![
                ("location", location),
                ("cache-control", "no-store".to_owned()),
            ],
            body: Vec::new(),
        }
    }

    /// `405 Method Not Allowed` with `Allow`.
    pub(crate) fn method_not_allowed(allow: &'static str) -> Self {
        let mut reply = Self::json(
            405,
            &json!({ "error": "invalid_request", "error_description": format!("method not allowed; use {allow}") }),
        );
        reply.headers.push(("allow", allow.to_owned()));
        reply
    }

    /// A protected resource's `401` for a bad bearer token (RFC 6750 §3).
    pub(crate) fn invalid_token(description: &str) -> Self {
        let mut reply = Self::json(
            401,
            &json!({ "error": "invalid_token", "error_description": description }),
        );
        reply.headers.push((
            "www-authenticate",
            format!("Bearer error=\"invalid_token\", error_description=\"{description}\""),
        ));
        reply
    }
}

impl From<Reply> for Response {
    fn from(reply: Reply) -> Self {
        Self {
            status: reply.status,
            headers: reply
                .headers
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value))
                .collect(),
            body: reply.body,
        }
    }
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped() {
        let reply = Reply::html(400, "<t>", "a&b \"c\" 'd'");
        let body = String::from_utf8(reply.body).unwrap();
        assert!(body.contains("<title>&lt;t&gt;</title>"));
        assert!(body.contains("a&amp;b &quot;c&quot; &#39;d&#39;"));
    }
}
