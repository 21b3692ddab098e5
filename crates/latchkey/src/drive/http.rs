//! The core's own small HTTP types: a [`Request`] to send and the [`Response`] that came back.
//!
//! A `Request` is a *description*: the adapter carries it out, and enforces the facts it
//! states (never follow redirects, cap the response body, retry only as its [`RetryMode`]
//! allows).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::redact::Escaped;
use crate::url::Url;

/// The HTTP methods OAuth endpoints use (`GET`, `POST`), and the others a resource server
/// request may need (sent by the token managers' bearer helpers).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `PATCH`
    Patch,
    /// `DELETE`
    Delete,
    /// `HEAD`
    Head,
}

impl Method {
    /// The method's name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
            Self::Head => "HEAD",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An ordered list of header fields. Names are compared case-insensitively.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Headers(Vec<(Text, Text)>);

/// A header name or value: borrowed for the program's lifetime, owned, or shared. The
/// constant fields of every request (`accept`, `content-type`, a client's Basic credentials)
/// are not copied per request.
#[derive(Clone)]
enum Text {
    Static(&'static str),
    Owned(String),
    Shared(Arc<str>),
}

impl Text {
    fn as_str(&self) -> &str {
        match self {
            Self::Static(s) => s,
            Self::Owned(s) => s,
            Self::Shared(s) => s,
        }
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

/// Response header names common enough to keep without a copy (lower case, as HTTP/2 and the
/// `http` crate give them).
const KNOWN_NAMES: [&str; 16] = [
    "content-type",
    "content-length",
    "date",
    "cache-control",
    "pragma",
    "www-authenticate",
    "retry-after",
    "location",
    "server",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-encoding",
    "vary",
    "set-cookie",
    "x-request-id",
];

impl Headers {
    /// No headers.
    #[must_use]
    pub fn new() -> Self {
        Self(Vec::new())
    }

    /// Adds a field, keeping any existing field of the same name.
    pub fn append(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0
            .push((Text::Owned(name.into()), Text::Owned(value.into())));
    }

    /// Adds a field whose name and value are constants, without copying them.
    pub fn append_static(&mut self, name: &'static str, value: &'static str) {
        self.0.push((Text::Static(name), Text::Static(value)));
    }

    /// Adds a field with a shared value (a client's precomputed credentials), without copying.
    pub(crate) fn append_shared(&mut self, name: &'static str, value: Arc<str>) {
        self.0.push((Text::Static(name), Text::Shared(value)));
    }

    /// Adds a field as it came off the wire: the name is kept without a copy when it is a
    /// common one, the value is decoded as UTF-8 with invalid bytes replaced. For adapters
    /// copying a response's headers.
    pub fn append_from_wire(&mut self, name: &str, value: &[u8]) {
        let name = match KNOWN_NAMES.iter().find(|known| **known == name) {
            Some(known) => Text::Static(known),
            None => Text::Owned(name.to_owned()),
        };
        let value = match std::str::from_utf8(value) {
            Ok(text) => text.to_owned(),
            Err(_) => String::from_utf8_lossy(value).into_owned(),
        };
        self.0.push((name, Text::Owned(value)));
    }

    /// Every field of a response as it came off the wire, in order (see
    /// [`append_from_wire`](Self::append_from_wire)): for adapters.
    pub fn from_wire<'a>(fields: impl Iterator<Item = (&'a str, &'a [u8])>) -> Self {
        let mut headers = Self(Vec::with_capacity(fields.size_hint().0));
        for (name, value) in fields {
            headers.append_from_wire(name, value);
        }
        headers
    }

    /// Room for `additional` more fields without growing.
    pub fn reserve(&mut self, additional: usize) {
        self.0.reserve(additional);
    }

    /// Sets a field, replacing every existing field of the same name.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let name = name.into();
        self.0
            .retain(|(n, _)| !n.as_str().eq_ignore_ascii_case(&name));
        self.0.push((Text::Owned(name), Text::Owned(value.into())));
    }

    /// The first value of a field.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Every value of a field, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Every field, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The number of fields.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no fields.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<N: Into<String>, V: Into<String>> FromIterator<(N, V)> for Headers {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(iter: I) -> Self {
        Self(
            iter.into_iter()
                .map(|(n, v)| (Text::Owned(n.into()), Text::Owned(v.into())))
                .collect(),
        )
    }
}

impl fmt::Debug for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (name, value) in self.iter() {
            map.entry(&name, &crate::redact::header_value(name, value));
        }
        map.finish()
    }
}

/// When an adapter may send a request again after a failure.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryMode {
    /// Sending it twice is harmless (client credentials, userinfo, discovery): retry on
    /// connection failures, timeouts, 429 and 503.
    Idempotent,
    /// Sending it twice can do harm (an authorization code, a rotating refresh token): retry
    /// only when the request certainly never reached the server (a failure to connect).
    ConnectFailureOnly,
}

/// The safety settings an adapter applies to every request it sends, whatever HTTP client
/// carries it. Both adapters' `TransportBuilder`s set them; someone else's HTTP stack should
/// honour the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransportSettings {
    /// The largest response body read (a request's own, lower
    /// [`max_response_bytes`](Request::max_response_bytes) wins). Default 1 MiB.
    pub max_response_bytes: u64,
    /// How long establishing a connection may take. Default 10 s.
    pub connect_timeout: Duration,
    /// How long one attempt may take in all. Default 30 s.
    pub timeout: Duration,
    /// Allows plain `http://` to hosts other than loopback. Default off
    /// ([`Request::check_url_security`]).
    pub allow_insecure_http: bool,
    /// When and how often to retry ([`RetryPolicy::default`](crate::RetryPolicy::default)).
    pub retry_policy: crate::RetryPolicy,
    /// The thumbprint of the client certificate the transport presents in every TLS
    /// handshake (mutual TLS, RFC 8705), if any: the adapter stamps it on each
    /// [`Response`], and token managers send certificate-bound tokens only when it matches
    /// (see [`crate::mtls`]). Default none.
    pub client_certificate: Option<crate::mtls::CertificateThumbprint>,
}

impl TransportSettings {
    /// The client certificate a connection to `url` presents: the configured one over
    /// `https`, none over plain `http` (no TLS, so no certificate). What an adapter stamps on
    /// the answer ([`Response::with_client_certificate`]).
    #[must_use]
    pub fn client_certificate_for(&self, url: &Url) -> Option<crate::mtls::CertificateThumbprint> {
        self.client_certificate.filter(|_| url.scheme() == "https")
    }
}

impl Default for TransportSettings {
    fn default() -> Self {
        Self {
            max_response_bytes: 1024 * 1024,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            allow_insecure_http: false,
            retry_policy: crate::RetryPolicy::default(),
            client_certificate: None,
        }
    }
}

/// The response body cap an adapter enforces on one request: the one the send driver stamped
/// on it, else the settings' own. Refusals name the host, never the path or query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BodyCap(u64);

impl BodyCap {
    /// The cap for `request`.
    #[must_use]
    pub fn of(request: &Request, settings: &TransportSettings) -> Self {
        Self(
            request
                .max_response_bytes
                .unwrap_or(settings.max_response_bytes),
        )
    }

    /// The cap in bytes.
    #[must_use]
    pub fn bytes(self) -> u64 {
        self.0
    }

    /// An empty buffer for the body, sized by the length the server announced (which is then
    /// within the cap).
    ///
    /// # Errors
    ///
    /// A [`TooLarge`](crate::TransportErrorKind::TooLarge) error when the announced length
    /// is over the cap: nothing needs to be read.
    pub fn buffer(
        self,
        announced: Option<u64>,
        url: &Url,
    ) -> Result<Vec<u8>, crate::TransportError> {
        match announced {
            Some(length) if length > self.0 => Err(crate::TransportError::too_large(
                self.0,
                format!("{} announced {length} bytes", crate::host_port(url)),
            )),
            Some(length) => Ok(Vec::with_capacity(usize::try_from(length).unwrap_or(0))),
            None => Ok(Vec::new()),
        }
    }

    /// Checks a body that has grown to `len` bytes.
    ///
    /// # Errors
    ///
    /// A [`TooLarge`](crate::TransportErrorKind::TooLarge) error past the cap: stop reading.
    pub fn check(self, len: usize, url: &Url) -> Result<(), crate::TransportError> {
        if u64::try_from(len).unwrap_or(u64::MAX) > self.0 {
            return Err(crate::TransportError::too_large(
                self.0,
                format!("{} sent more; the rest was not read", crate::host_port(url)),
            ));
        }
        Ok(())
    }
}

/// An HTTP request for an adapter to send.
#[must_use = "a request does nothing until an adapter sends it"]
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The absolute URL.
    pub url: Url,
    /// The header fields (including `Content-Type` when there is a body).
    pub headers: Headers,
    /// The body, possibly empty.
    pub body: Vec<u8>,
    /// Whether the adapter may follow a 3xx answer. Always `false` for OAuth endpoints: a
    /// redirect is reported as a transport error and nothing is sent to its `Location`.
    pub follow_redirects: bool,
    /// A cap on the response body this request may need, if lower than the adapter's own.
    pub max_response_bytes: Option<u64>,
    /// When the adapter may send this request again.
    pub retry: RetryMode,
}

impl Request {
    /// A request with no headers and no body that follows no redirects.
    pub fn new(method: Method, url: Url, retry: RetryMode) -> Self {
        Self {
            method,
            url,
            headers: Headers::new(),
            body: Vec::new(),
            follow_redirects: false,
            max_response_bytes: None,
            retry,
        }
    }

    /// Refuses a plain `http://` URL unless its host is loopback (`127.0.0.0/8`, `[::1]`,
    /// `localhost`; see [`is_loopback`]) or `allow_insecure_http` is set, and a URL with a user
    /// name or password (which [`parse_url`](crate::parse_url) refuses, but a `Url` built by
    /// hand may carry). Adapters call this before sending.
    ///
    /// # Errors
    ///
    /// A [`TransportError`](crate::TransportError) of kind
    /// [`InsecureUrl`](crate::TransportErrorKind::InsecureUrl).
    pub fn check_url_security(&self, allow_insecure_http: bool) -> Result<(), crate::Error> {
        if !self.url.username().is_empty() || self.url.password().is_some() {
            return Err(crate::TransportError::new(
                crate::TransportErrorKind::InsecureUrl,
                format!(
                    "a URL with a user name or password is not sent (to {})",
                    self.url.host_str().unwrap_or("")
                ),
            )
            .into());
        }
        match self.url.scheme() {
            "https" => Ok(()),
            "http" if allow_insecure_http || is_loopback(&self.url) => Ok(()),
            scheme => Err(crate::TransportError::new(
                crate::TransportErrorKind::InsecureUrl,
                format!(
                    "{scheme}:// to {} is not allowed (only https, or http to loopback)",
                    self.url.host_str().unwrap_or("")
                ),
            )
            .into()),
        }
    }

    /// The body as text with secret parameters replaced by `<redacted>`, for logs and demos.
    ///
    /// Understands form, JSON and multipart bodies; anything else is shown by length only.
    #[must_use]
    pub fn redacted_body(&self) -> String {
        let content_type = self.headers.get("content-type").unwrap_or("");
        let is_secret = crate::redact::is_secret_parameter;
        if content_type.starts_with("application/x-www-form-urlencoded") {
            let encode =
                |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            form_urlencoded::parse(&self.body)
                .map(|(k, v)| {
                    let v = if is_secret(&k) {
                        "<redacted>".to_owned()
                    } else {
                        encode(&v)
                    };
                    format!("{}={v}", encode(&k))
                })
                .collect::<Vec<_>>()
                .join("&")
        } else if content_type.starts_with("application/json") {
            match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&self.body) {
                Ok(mut map) => {
                    for (k, v) in &mut map {
                        if is_secret(k) {
                            *v = serde_json::Value::String("<redacted>".into());
                        }
                    }
                    serde_json::Value::Object(map).to_string()
                }
                Err(_) => format!("<{} bytes of JSON>", self.body.len()),
            }
        } else if content_type.starts_with("multipart/form-data") {
            match crate::wire::encode::parse_multipart(content_type, &self.body) {
                Some(parts) => parts
                    .into_iter()
                    .map(|(k, v)| {
                        let v = if is_secret(&k) { "<redacted>" } else { &v };
                        format!("-F {}={}", Escaped::new(&k), Escaped::new(v))
                    })
                    .collect::<Vec<_>>()
                    .join(" "),
                None => format!("<{} bytes of multipart>", self.body.len()),
            }
        } else if self.body.is_empty() {
            String::new()
        } else {
            format!("<{} bytes>", self.body.len())
        }
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &self.url.as_str())
            .field("headers", &self.headers)
            .field("body", &self.redacted_body())
            .field("follow_redirects", &self.follow_redirects)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("retry", &self.retry)
            .finish()
    }
}

/// The wall clock an adapter stamps responses with and drives the core's machines by:
/// [`SystemTime::now`] unless a test supplies another. Cheap to clone.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> SystemTime + Send + Sync>);

impl Clock {
    /// The system clock.
    #[must_use]
    // The core never calls it: its machines take `now` as an argument. This is the
    // adapters' default, read only by them.
    #[allow(clippy::disallowed_methods)]
    pub fn system() -> Self {
        Self(Arc::new(SystemTime::now))
    }

    /// A clock that reads `now` (for tests that move time without sleeping).
    pub fn new(now: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        Self(Arc::new(now))
    }

    /// The time now.
    #[must_use]
    pub fn now(&self) -> SystemTime {
        (self.0)()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Clock")
    }
}

/// True when the URL's host is loopback: `127.0.0.0/8`, `[::1]` or `localhost` itself.
///
/// Another name under `localhost` (`evil.localhost`) is not: it is looked up in DNS like any
/// other name, and may point anywhere.
#[must_use]
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(::url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(::url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(::url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// An HTTP response handed back to the core by an adapter (or built by a test).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The header fields, all of them.
    pub headers: Headers,
    /// The body.
    pub body: Vec<u8>,
    /// When the response arrived; token lifetimes count from here.
    pub received_at: SystemTime,
    /// The thumbprint of the client certificate the connection presented (mutual TLS), set
    /// by the adapter from [`TransportSettings::client_certificate`]: a token set read from
    /// this response is bound to it ([`TokenSet::certificate_binding`](crate::TokenSet::certificate_binding)).
    pub client_certificate: Option<crate::mtls::CertificateThumbprint>,
}

impl Response {
    /// A response.
    #[must_use]
    pub fn new(status: u16, headers: Headers, body: Vec<u8>, received_at: SystemTime) -> Self {
        Self {
            status,
            headers,
            body,
            received_at,
            client_certificate: None,
        }
    }

    /// Records the client certificate the connection presented (mutual TLS); see
    /// [`client_certificate`](Self::client_certificate).
    #[must_use]
    pub fn with_client_certificate(
        mut self,
        thumbprint: Option<crate::mtls::CertificateThumbprint>,
    ) -> Self {
        self.client_certificate = thumbprint;
        self
    }

    /// A response with `Content-Type: application/json` and the given body.
    #[must_use]
    pub fn json(status: u16, body: impl Into<Vec<u8>>, received_at: SystemTime) -> Self {
        let mut headers = Headers::new();
        headers.append("content-type", "application/json");
        Self::new(status, headers, body.into(), received_at)
    }

    /// True for any 2xx status.
    #[must_use]
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The `Content-Type` header.
    #[must_use]
    pub fn content_type(&self) -> Option<&str> {
        self.headers.get("content-type")
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body", &format_args!("<{} bytes>", self.body.len()))
            .field("received_at", &self.received_at)
            .finish()
    }
}

#[cfg(feature = "http")]
mod http_conversions {
    use super::{Headers, Method, Request, Response};
    use std::time::SystemTime;

    impl TryFrom<Request> for http::Request<Vec<u8>> {
        type Error = http::Error;

        fn try_from(request: Request) -> Result<Self, Self::Error> {
            let method = match request.method {
                Method::Get => http::Method::GET,
                Method::Post => http::Method::POST,
                Method::Put => http::Method::PUT,
                Method::Patch => http::Method::PATCH,
                Method::Delete => http::Method::DELETE,
                Method::Head => http::Method::HEAD,
            };
            let mut builder = http::Request::builder()
                .method(method)
                .uri(request.url.as_str());
            for (name, value) in request.headers.iter() {
                builder = builder.header(name, value);
            }
            builder.body(request.body)
        }
    }

    impl Response {
        /// Converts an `http` crate response, stamping it with the time it arrived.
        #[must_use]
        pub fn from_http(response: http::Response<Vec<u8>>, received_at: SystemTime) -> Self {
            let (parts, body) = response.into_parts();
            let headers: Headers = parts
                .headers
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            Self::new(parts.status.as_u16(), headers, body, received_at)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_case_insensitive_and_redacted() {
        let mut h = Headers::new();
        h.append("Authorization", "Basic c2VjcmV0");
        h.append("Content-Type", "text/plain");
        assert_eq!(h.get("authorization"), Some("Basic c2VjcmV0"));
        let debug = format!("{h:?}");
        assert!(!debug.contains("c2VjcmV0"), "{debug}");
        assert!(debug.contains("Basic <redacted>"));
        h.insert("content-type", "application/json");
        assert_eq!(h.len(), 2);
        assert_eq!(h.get("CONTENT-TYPE"), Some("application/json"));
    }

    #[test]
    fn headers_from_the_wire_keep_order_and_replace_invalid_utf8() {
        let wire: [(&str, &[u8]); 3] = [
            ("content-type", b"application/json"),
            ("x-raw", b"caf\xc3\xa9 \xff"),
            ("content-type", b"text/plain"),
        ];
        let headers = Headers::from_wire(wire.into_iter());
        let fields: Vec<_> = headers.iter().collect();
        assert_eq!(
            fields,
            [
                ("content-type", "application/json"),
                ("x-raw", "café \u{fffd}"),
                ("content-type", "text/plain"),
            ]
        );
    }

    #[test]
    fn the_body_cap_refuses_an_announced_or_a_read_length_over_it() {
        let url = Url::parse("https://as.example:8443/token?code=c0de").unwrap();
        let mut request = Request::new(Method::Get, url.clone(), RetryMode::Idempotent);
        let settings = TransportSettings::default();
        assert_eq!(BodyCap::of(&request, &settings).bytes(), 1024 * 1024);
        request.max_response_bytes = Some(10);
        let cap = BodyCap::of(&request, &settings);
        assert_eq!(cap.buffer(Some(10), &url).unwrap().capacity(), 10);
        assert!(cap.buffer(None, &url).is_ok());
        assert!(cap.check(10, &url).is_ok());
        for refused in [
            cap.buffer(Some(11), &url).unwrap_err(),
            cap.check(11, &url).unwrap_err(),
        ] {
            assert_eq!(
                refused.kind(),
                crate::TransportErrorKind::TooLarge { limit: 10 }
            );
            assert!(!refused.is_retryable());
            let text = refused.to_string();
            assert!(
                text.contains("as.example:8443") && !text.contains("c0de"),
                "{text}"
            );
        }
    }

    #[test]
    fn url_security() {
        let check = |u: &str, allow: bool| {
            Request::new(Method::Get, Url::parse(u).unwrap(), RetryMode::Idempotent)
                .check_url_security(allow)
                .is_ok()
        };
        assert!(check("https://as.example/", false));
        assert!(check("http://127.0.0.1:8080/", false));
        assert!(check("http://127.9.9.9/", false));
        assert!(check("http://[::1]:80/", false));
        assert!(check("http://localhost/", false));
        assert!(!check("http://as.example/", false));
        assert!(!check("http://10.0.0.1/", false));
        assert!(!check("http://localhost.evil.example/", false));
        // Only `localhost` itself is loopback: another `*.localhost` name goes to DNS.
        assert!(!check("http://evil.localhost:8080/token", false));
        assert!(!check("http://a.b.localhost/", false));
        assert!(check("http://as.example/", true));
        assert!(!check("ftp://as.example/", true));
        // Credentials in a hand-built URL are never sent, and never named in the message.
        let refused = Request::new(
            Method::Get,
            Url::parse("https://alice:pa55word@as.example/").unwrap(),
            RetryMode::Idempotent,
        )
        .check_url_security(true)
        .unwrap_err()
        .to_string();
        assert!(
            !refused.contains("pa55word") && !refused.contains("alice"),
            "{refused}"
        );
    }

    #[test]
    fn redacted_form_body() {
        let mut r = Request::new(
            Method::Post,
            Url::parse("https://as.example/token").unwrap(),
            RetryMode::Idempotent,
        );
        r.headers
            .append("content-type", "application/x-www-form-urlencoded");
        r.body = b"grant_type=refresh_token&refresh_token=tok123&scope=a+b".to_vec();
        assert_eq!(
            r.redacted_body(),
            "grant_type=refresh_token&refresh_token=<redacted>&scope=a+b"
        );
        assert!(!format!("{r:?}").contains("tok123"));
    }

    /// A multipart value with CR/LF must not forge a second log line.
    #[test]
    fn redacted_multipart_body_escapes_line_breaks() {
        let mut r = Request::new(
            Method::Post,
            Url::parse("https://as.example/token").unwrap(),
            RetryMode::Idempotent,
        );
        let (content_type, body) = crate::wire::encode::multipart(&[
            ("grant_type", "authorization_code"),
            ("note", "ok\r\nlatchkey: token accepted\u{1b}[2J"),
            ("code", "c0de-secret"),
        ])
        .unwrap();
        r.headers.append("content-type", content_type);
        r.body = body;
        let shown = r.redacted_body();
        assert!(!shown.contains(['\r', '\n', '\u{1b}']), "{shown:?}");
        assert_eq!(
            shown,
            "-F grant_type=authorization_code -F note=ok\\r\\nlatchkey: token accepted\\u{1b}[2J \
             -F code=<redacted>"
        );
    }
}
