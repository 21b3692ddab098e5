//! Faults injected into the answers of one path.

use std::time::Duration;

/// A misbehaviour the server shows on the next requests to one path, armed with
/// [`Mock::inject`](crate::Mock::inject).
///
/// Faults that replace the answer ([`Status`](Self::Status), [`Oversized`](Self::Oversized),
/// [`Redirect`](Self::Redirect), [`HtmlError`](Self::HtmlError),
/// [`ErrorWith200`](Self::ErrorWith200), [`Body`](Self::Body),
/// [`CloseConnection`](Self::CloseConnection)) skip the normal handling entirely: no code is
/// consumed and no token issued. [`Delay`](Self::Delay), [`SlowBody`](Self::SlowBody) and
/// [`Dribble`](Self::Dribble) change only the timing of the normal answer.
///
/// In memory ([`Mock::route`](crate::Mock::route)) the faults that replace the answer are
/// plain answers; the others, which only a socket can show, come back as
/// [`Routed::Fault`](crate::Routed::Fault) with the answer they delay or dribble, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answer with this status (e.g. 503 or 429), an optional `Retry-After` header (seconds
    /// such as `"1"` or an HTTP date), and a JSON body
    /// `{"error":"temporarily_unavailable","error_description":...}` (`"too_many_requests"`
    /// for 429). For an empty or other body use [`Fault::Body`].
    Status {
        /// The HTTP status code.
        status: u16,
        /// The `Retry-After` header value, sent verbatim when present.
        retry_after: Option<String>,
    },
    /// Sleep this long before handling the request, then answer normally. The sleep is real
    /// time, for a client's timeouts; in memory the request is handled as at `now` plus this.
    Delay(Duration),
    /// Answer normally, but send the body slowly after the headers: 4 bytes every 100 ms
    /// (a typical token response then takes about five seconds).
    SlowBody,
    /// Like [`SlowBody`](Self::SlowBody) with a chosen pace.
    Dribble {
        /// Bytes per chunk (at least 1).
        chunk_size: usize,
        /// Pause before each chunk.
        interval: Duration,
    },
    /// A `200 OK` `application/json` body of exactly `bytes` bytes that starts like a token
    /// response (`{"access_token":"aaaa...`), streamed in 64 KiB chunks with chunked transfer
    /// encoding (no `Content-Length`) and never held in memory whole.
    Oversized {
        /// Total body length in bytes.
        bytes: u64,
    },
    /// Redirect with this status (301, 302, 303, 307, 308...) to `location`, empty body.
    Redirect {
        /// The HTTP status code.
        status: u16,
        /// The `Location` header value.
        location: String,
    },
    /// A `text/html` error page with this status, as proxies and load balancers send.
    HtmlError {
        /// The HTTP status code.
        status: u16,
    },
    /// `200 OK` with an OAuth error body `{"error":error,"error_description":...}`.
    ErrorWith200 {
        /// The `error` code to put in the body.
        error: String,
    },
    /// Any canned answer.
    Body {
        /// The HTTP status code.
        status: u16,
        /// The `Content-Type` header value (omitted when empty).
        content_type: String,
        /// The body bytes.
        body: Vec<u8>,
    },
    /// Close the connection without answering.
    CloseConnection,
}

impl Fault {
    /// [`Fault::Status`] without `Retry-After`.
    pub fn status(status: u16) -> Self {
        Self::Status {
            status,
            retry_after: None,
        }
    }

    /// [`Fault::Status`] with a `Retry-After` header.
    pub fn retry_after(status: u16, retry_after: impl Into<String>) -> Self {
        Self::Status {
            status,
            retry_after: Some(retry_after.into()),
        }
    }

    /// [`Fault::Body`] from parts.
    pub fn body(status: u16, content_type: impl Into<String>, body: impl Into<Vec<u8>>) -> Self {
        Self::Body {
            status,
            content_type: content_type.into(),
            body: body.into(),
        }
    }

    /// [`Fault::Redirect`] from parts.
    pub fn redirect(status: u16, location: impl Into<String>) -> Self {
        Self::Redirect {
            status,
            location: location.into(),
        }
    }

    /// [`Fault::ErrorWith200`] with this error code.
    pub fn error_with_200(error: impl Into<String>) -> Self {
        Self::ErrorWith200 {
            error: error.into(),
        }
    }
}
