//! The requests and answers of the in-memory router ([`Mock::route`](crate::Mock::route)):
//! plain values, independent of any HTTP library.

use std::time::Duration;

/// An HTTP request handed to [`Mock::route`](crate::Mock::route) without a socket.
///
/// ```
/// use latchkey_mock::Request;
///
/// let request = Request::post_form("/token", &[("grant_type", "client_credentials")])
///     .with_header("authorization", "Basic bTJtOnM=");
/// assert_eq!(request.body, b"grant_type=client_credentials");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method, e.g. `POST` (case-sensitive, as in HTTP).
    pub method: String,
    /// Where the request goes: an origin-form target (`/token?x=1`) or an absolute URL
    /// (`http://mock.invalid/token?x=1`, whose scheme and host are not checked).
    pub target: String,
    /// The headers in order; names are matched case-insensitively.
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Vec<u8>,
}

impl Request {
    /// A request with this method and target, no headers and no body.
    pub fn new(method: impl Into<String>, target: impl Into<String>) -> Self {
        Self {
            method: method.into(),
            target: target.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A `GET` request.
    pub fn get(target: impl Into<String>) -> Self {
        Self::new("GET", target)
    }

    /// A `POST` request with an `application/x-www-form-urlencoded` body of `pairs`.
    pub fn post_form(target: impl Into<String>, pairs: &[(&str, &str)]) -> Self {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        Self::new("POST", target)
            .with_header("content-type", "application/x-www-form-urlencoded")
            .with_body(body)
    }

    /// Adds a header.
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Replaces the body.
    #[must_use]
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// The first value of the header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

/// An HTTP answer from [`Mock::route`](crate::Mock::route).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code, e.g. `200` or `302`.
    pub status: u16,
    /// The headers in order, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of the header `name` (case-insensitive), e.g. `location` after
    /// `/authorize`.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The body as text (lossy UTF-8).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// What [`Mock::route`](crate::Mock::route) made of one request: an answer, or a fault that
/// only a socket can show, said out loud.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Routed {
    /// An answer a socket sends whole and at once. Injected faults that replace the answer
    /// ([`Fault::Status`](crate::Fault::Status), [`Fault::Redirect`](crate::Fault::Redirect),
    /// [`Fault::HtmlError`](crate::Fault::HtmlError),
    /// [`Fault::ErrorWith200`](crate::Fault::ErrorWith200), [`Fault::Body`](crate::Fault::Body))
    /// come back this way too.
    Answer(Response),
    /// A misbehaviour of the connection rather than of the answer.
    Fault(SocketFault),
}

impl Routed {
    /// The answer a patient client would read in full: the one of [`Routed::Answer`],
    /// [`SocketFault::Delay`] or [`SocketFault::Dribble`]; `None` for a closed connection
    /// and an oversized body.
    pub fn response(&self) -> Option<&Response> {
        match self {
            Self::Answer(response)
            | Self::Fault(
                SocketFault::Delay { response, .. } | SocketFault::Dribble { response, .. },
            ) => Some(response),
            Self::Fault(SocketFault::Oversized { .. } | SocketFault::CloseConnection) => None,
        }
    }

    /// [`response`](Self::response), by value.
    pub fn into_response(self) -> Option<Response> {
        match self {
            Self::Answer(response)
            | Self::Fault(
                SocketFault::Delay { response, .. } | SocketFault::Dribble { response, .. },
            ) => Some(response),
            Self::Fault(SocketFault::Oversized { .. } | SocketFault::CloseConnection) => None,
        }
    }
}

/// A fault of the connection, which a socket shows by timing or by hanging up and the
/// in-memory router can only report.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SocketFault {
    /// [`Fault::Delay`](crate::Fault::Delay): the answer comes `delay` after the request.
    /// The request was handled as at `now + delay`, as a socket handles it after the pause.
    Delay {
        /// How long the socket waits before handling the request.
        delay: Duration,
        /// The answer it then sends.
        response: Response,
    },
    /// [`Fault::SlowBody`](crate::Fault::SlowBody) or [`Fault::Dribble`](crate::Fault::Dribble):
    /// the status and headers come at once, the body `chunk_size` bytes after each `interval`.
    Dribble {
        /// Bytes per chunk (at least 1).
        chunk_size: usize,
        /// The pause before each chunk.
        interval: Duration,
        /// The answer, whole.
        response: Response,
    },
    /// [`Fault::Oversized`](crate::Fault::Oversized): a `200` `application/json` answer whose
    /// body of `bytes` bytes a socket streams and memory never holds.
    Oversized {
        /// The body length in bytes.
        bytes: u64,
    },
    /// [`Fault::CloseConnection`](crate::Fault::CloseConnection): no answer at all.
    CloseConnection,
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}
