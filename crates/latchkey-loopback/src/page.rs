//! The small HTML pages the listener answers with, and reading a request head.

use crate::MAX_REQUEST_HEAD;

/// A small HTML answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Page {
    status: &'static str,
    extra_headers: &'static str,
    body: String,
    head_only: bool,
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:36em;margin:4em auto;\
                     padding:0 1em;line-height:1.5}h1{font-size:1.4em}";

impl Page {
    fn html(status: &'static str, title: &str, message: &str) -> Self {
        Self {
            status,
            extra_headers: "",
            body: format!(
                "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
                 <meta name=\"viewport\" content=\"width=device-width\">\
                 <title>{title}</title><style>{STYLE}</style></head>\n\
                 <body><h1>{title}</h1><p>{message}</p></body></html>\n",
                title = escape_html(title),
                message = escape_html(message),
            ),
            head_only: false,
        }
    }

    /// The status line's code and reason (`200 OK`).
    #[cfg(test)]
    pub(crate) fn status(&self) -> &'static str {
        self.status
    }

    /// This page without its body (the answer to `HEAD`).
    pub(crate) fn head(mut self) -> Self {
        self.head_only = true;
        self
    }

    /// The callback was accepted.
    pub(crate) fn success() -> Self {
        Self::html(
            "200 OK",
            "Signed in",
            "The application received the authorization response. You can close this tab and \
             return to it.",
        )
    }

    /// The callback ended the login with an error (`message` is escaped).
    pub(crate) fn failure(message: &str) -> Self {
        Self::html(
            "400 Bad Request",
            "Authorization failed",
            &format!("{message}. Return to the application for details."),
        )
    }

    /// A request on the callback path that does not belong to this login.
    pub(crate) fn stray() -> Self {
        Self::html(
            "400 Bad Request",
            "Not this sign-in",
            "This request does not belong to the sign-in the application is waiting for (its \
             state differs). The application is still waiting.",
        )
    }

    pub(crate) fn not_found() -> Self {
        Self::html(
            "404 Not Found",
            "Not found",
            "Nothing here. The application is still waiting for the sign-in.",
        )
    }

    pub(crate) fn method_not_allowed() -> Self {
        let mut page = Self::html("405 Method Not Allowed", "Method not allowed", "Use GET.");
        page.extra_headers = "Allow: GET\r\n";
        page
    }

    pub(crate) fn bad_request() -> Self {
        Self::html("400 Bad Request", "Bad request", "Malformed request.")
    }

    pub(crate) fn too_large() -> Self {
        Self::html(
            "431 Request Header Fields Too Large",
            "Request too large",
            "The request head is too large.",
        )
    }

    /// The implicit-flow page: its script sends the fragment (or, for a server that put an
    /// error in the query, the query) to `fragment_path`, then shows the answer. It also
    /// removes the fragment from the address bar and history.
    pub(crate) fn fragment_relay(fragment_path: &str) -> Self {
        let path = js_string(fragment_path);
        Self {
            status: "200 OK",
            extra_headers: "",
            body: format!(
                "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
                 <title>Completing sign-in</title><style>{STYLE}</style></head>\n\
                 <body><h1>Completing sign-in…</h1><p id=\"m\">Handing the result to the \
                 application.</p>\n<noscript><p>JavaScript is needed to pass the result to \
                 the application; or copy this page's full address into it.</p></noscript>\n\
                 <script>\n(function () {{\n  \
                 var h = location.hash.length > 1 ? location.hash.substring(1) : \
                 location.search.substring(1);\n  \
                 try {{ history.replaceState(null, \"\", location.pathname); }} catch (e) {{}}\n  \
                 fetch({path} + \"?\" + h, {{ cache: \"no-store\" }})\n    \
                 .then(function (r) {{ return r.text(); }})\n    \
                 .then(function (t) {{ document.open(); document.write(t); document.close(); }})\n    \
                 .catch(function () {{ document.getElementById(\"m\").textContent = \
                 \"Could not reach the application.\"; }});\n}})();\n</script></body></html>\n"
            ),
            head_only: false,
        }
    }

    /// The whole answer: status line, header fields, and the body unless this answers `HEAD`.
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!(
            "HTTP/1.1 {}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
             Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\n\
             X-Content-Type-Options: nosniff\r\n{}Connection: close\r\n\r\n",
            self.status,
            self.body.len(),
            self.extra_headers,
        );
        if !self.head_only {
            out.push_str(&self.body);
        }
        out.into_bytes()
    }
}

/// A JavaScript string literal for `text`, safe inside a `<script>` element: every character
/// outside plain ASCII letters, digits, `/`, `-`, `.` and `_` is a `\uXXXX` escape.
fn js_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for unit in text.encode_utf16() {
        match char::from_u32(u32::from(unit)) {
            Some(c) if c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '.' | '_') => {
                out.push(c);
            }
            _ => out.push_str(&format!("\\u{unit:04x}")),
        }
    }
    out.push('"');
    out
}

/// Escapes text for HTML element content and attribute values.
pub(crate) fn escape_html(text: &str) -> String {
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

/// What the bytes read so far from a connection are.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Head {
    /// A whole request head: its method and request target.
    Request {
        /// `GET`, `HEAD`, ...
        method: String,
        /// The origin-form target: the path and the query.
        target: String,
    },
    /// Not all of the head has arrived yet.
    Partial,
    /// Not a request this listener serves: answer with this page and close.
    Refuse(Page),
}

/// Reads `bytes` as an HTTP/1 request head (with httparse, the parser hyper uses).
pub(crate) fn parse_head(bytes: &[u8]) -> Head {
    let mut fields = [httparse::EMPTY_HEADER; 64];
    let mut request = httparse::Request::new(&mut fields);
    match request.parse(bytes) {
        Ok(httparse::Status::Complete(_)) => match (request.method, request.path) {
            (Some(method), Some(target)) if target.starts_with('/') => Head::Request {
                method: method.to_owned(),
                target: target.to_owned(),
            },
            _ => Head::Refuse(Page::bad_request()),
        },
        Ok(httparse::Status::Partial) if bytes.len() >= MAX_REQUEST_HEAD => {
            Head::Refuse(Page::too_large())
        }
        Ok(httparse::Status::Partial) => Head::Partial,
        Err(httparse::Error::TooManyHeaders) => Head::Refuse(Page::too_large()),
        Err(_) => Head::Refuse(Page::bad_request()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_and_script_text_is_escaped() {
        assert_eq!(
            escape_html("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(js_string("/cb/fragment"), "\"/cb/fragment\"");
        assert_eq!(
            js_string("/a</script>\"é"),
            "\"/a\\u003c/script\\u003e\\u0022\\u00e9\""
        );
        let page = Page::failure("<script>alert(1)</script>");
        let body = String::from_utf8(page.to_bytes()).unwrap();
        assert!(!body.contains("<script>alert"), "{body}");
        assert!(body.contains("&lt;script&gt;alert(1)"), "{body}");
    }

    #[test]
    fn heads_are_parsed_partial_or_refused() {
        assert_eq!(
            parse_head(b"GET /cb?code=c&state=s HTTP/1.1\r\nHost: x\r\n\r\n"),
            Head::Request {
                method: "GET".into(),
                target: "/cb?code=c&state=s".into()
            }
        );
        assert_eq!(parse_head(b"GET /cb HTTP/1.1\r\nHost:"), Head::Partial);
        for bad in [
            &b"GET http://evil.example/ HTTP/1.1\r\n\r\n"[..],
            b"G\x01T / HTTP/1.1\r\n\r\n",
            b"GET / SPDY/3\r\n\r\n",
        ] {
            assert_eq!(parse_head(bad), Head::Refuse(Page::bad_request()));
        }
        let long = format!("GET /{} HTTP/1.1\r\n", "a".repeat(MAX_REQUEST_HEAD));
        assert_eq!(parse_head(long.as_bytes()), Head::Refuse(Page::too_large()));
        let many: String = std::iter::once("GET / HTTP/1.1\r\n".to_owned())
            .chain((0..100).map(|i| format!("X-{i}: y\r\n")))
            .chain(std::iter::once("\r\n".to_owned()))
            .collect();
        assert_eq!(parse_head(many.as_bytes()), Head::Refuse(Page::too_large()));
        let head = Page::not_found().head().to_bytes();
        assert!(String::from_utf8(head).unwrap().ends_with("\r\n\r\n"));
    }
}
