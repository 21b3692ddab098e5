//! Recording what an exchange sent and what came back, for `--verbose` and the demo.

use std::sync::{Arc, Mutex, PoisonError};

use latchkey::{Exchange, Request, Response};

use crate::output::{add_secret, header_lines};

/// What one exchange did: the request (the last attempt's), how many attempts, the final
/// status.
#[derive(Debug, Default, Clone)]
pub(crate) struct Record {
    /// The request as last sent.
    pub(crate) request: Option<Request>,
    /// Attempts made (more than one when the adapter retried).
    pub(crate) attempts: u32,
    /// The status of the answer handed to the exchange.
    pub(crate) status: Option<u16>,
}

impl Record {
    /// The request as lines: `METHOD URL`, the header fields (credentials redacted), and
    /// the body with secret parameters redacted.
    pub(crate) fn request_lines(&self) -> Vec<String> {
        let Some(request) = &self.request else {
            return Vec::new();
        };
        let mut lines = vec![format!("{} {}", request.method, request.url)];
        lines.extend(
            header_lines(&request.headers)
                .into_iter()
                .map(|h| format!("  {h}")),
        );
        let body = request.redacted_body();
        if !body.is_empty() {
            lines.push(format!("  body: {body}"));
        }
        lines
    }

    /// `HTTP 200` (and `after N attempts` when retried), or a note that no answer came.
    pub(crate) fn status_line(&self) -> String {
        let attempts = if self.attempts > 1 {
            format!(" after {} attempts", self.attempts)
        } else {
            String::new()
        };
        match self.status {
            Some(status) => format!("HTTP {status}{attempts}"),
            None => format!("no usable answer{attempts}"),
        }
    }
}

/// An exchange that records itself into a shared [`Record`] while delegating.
#[derive(Debug)]
pub(crate) struct Traced<E> {
    inner: E,
    record: Arc<Mutex<Record>>,
}

impl<E> Traced<E> {
    /// Wraps `inner`; the returned handle reads the record (see [`snapshot`]).
    pub(crate) fn new(inner: E) -> (Self, Arc<Mutex<Record>>) {
        let record = Arc::new(Mutex::new(Record::default()));
        (
            Self {
                inner,
                record: Arc::clone(&record),
            },
            record,
        )
    }
}

/// A copy of the record behind `handle`.
pub(crate) fn snapshot(handle: &Mutex<Record>) -> Record {
    handle
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}

impl<E: Exchange> Exchange for Traced<E> {
    type Output = E::Output;

    fn request(&self) -> Result<Request, latchkey::Error> {
        let request = self.inner.request()?;
        // Credentials in headers (Basic, Bearer) are masked on stderr from now on.
        for value in request.headers.get_all("authorization") {
            add_secret(value);
            if let Some((_, credentials)) = value.split_once(' ') {
                add_secret(credentials.trim());
            }
        }
        let mut record = self.record.lock().unwrap_or_else(PoisonError::into_inner);
        record.attempts = record.attempts.saturating_add(1);
        record.request = Some(request.clone());
        Ok(request)
    }

    fn response(self, response: Response) -> Result<Self::Output, latchkey::Error> {
        self.record
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .status = Some(response.status);
        self.inner.response(response)
    }

    // The JWK set fetch an ID token may need before its answer is read (the core's send
    // driver sends it): passed through, untraced.
    fn supplement(&self, response: &Response) -> Option<Request> {
        self.inner.supplement(response)
    }

    fn supplemented(
        &mut self,
        answer: Result<Response, latchkey::TransportError>,
        now: std::time::SystemTime,
    ) {
        self.inner.supplemented(answer, now);
    }
}
