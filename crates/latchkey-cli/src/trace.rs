//! Recording what an exchange sent and what came back: for the demo ([`Traced`]), and for
//! `--verbose` and the retry lines of every subcommand ([`Watch`]).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

#[cfg(test)]
use latchkey::drive::Headers;
use latchkey::drive::{Action, Drive};
use latchkey::{Exchange, Request, Response, TransportError, TransportErrorKind};

use crate::output::{add_secret, header_lines, redact_pairs, seconds};
use crate::say;

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
        let mut lines = request_lines(request);
        for line in lines.iter_mut().skip(1) {
            line.insert_str(0, "  ");
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

impl<E> Traced<E> {
    /// Records `request` as the latest attempt (its credentials registered as secrets).
    fn recorded(&self, request: Request) -> Result<Request, latchkey::Error> {
        mask_credentials(&request);
        let mut record = self.record.lock().unwrap_or_else(PoisonError::into_inner);
        record.attempts = record.attempts.saturating_add(1);
        record.request = Some(request.clone());
        Ok(request)
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
        self.recorded(self.inner.request()?)
    }

    // The driver asks for each attempt's request at its time: a JWT client assertion is
    // made then (RFC 7523), so this is what it sends.
    fn request_at(&self, now: SystemTime) -> Result<Request, latchkey::Error> {
        self.recorded(self.inner.request_at(now)?)
    }

    // The DPoP key the step proves possession of: the driver adds each attempt's proof.
    fn dpop(&self) -> Option<&latchkey::Dpop> {
        self.inner.dpop()
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

    fn supplemented(&mut self, answer: Result<Response, TransportError>, now: SystemTime) {
        self.inner.supplemented(answer, now);
    }
}

/// The per-attempt time limits, for naming the one that fired.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// `--connect-timeout`.
    pub(crate) connect: Duration,
    /// `--max-time`.
    pub(crate) max_time: Duration,
}

impl Limits {
    /// What a transport failure means, in the user's terms: a timeout names the flag whose
    /// limit fired (not the HTTP library's `timeout: global`); plain HTTP behind `https://`
    /// says so. `None` for other failures, which say enough themselves.
    pub(crate) fn describe(self, error: &TransportError) -> Option<String> {
        let message = error.message();
        let host = message.split(": ").next().unwrap_or(message);
        if error.kind() == TransportErrorKind::Timeout {
            let (flag, limit) = if message.contains("connect") || message.contains("resolve") {
                ("--connect-timeout", self.connect)
            } else {
                ("--max-time", self.max_time)
            };
            return Some(format!(
                "{host}: timed out: no answer within {flag} {} s",
                seconds(limit)
            ));
        }
        if message.contains("InvalidContentType") || message.contains("corrupt message") {
            return Some(format!(
                "{host}: the server did not answer in TLS: it looks like a plain-HTTP port; use \
                 http:// for it (allowed on loopback, or with --insecure-http)"
            ));
        }
        None
    }
}

/// A driver that shows what goes over the wire while delegating: with `verbose`, each
/// request (headers and body redacted) and each answer (status, headers, body redacted);
/// and, when the driver is one that retries, one line per retry with what failed, the wait
/// and the attempt number.
#[derive(Debug)]
pub(crate) struct Watch<D> {
    inner: D,
    verbose: bool,
    /// The number of attempts allowed, when this driver's waits are retries (device polling
    /// waits are not).
    retries: Option<u32>,
    /// The time limits, for saying which one fired.
    limits: Limits,
    attempts: u32,
    /// How the last attempt ended, for the retry line.
    last: Option<String>,
}

/// With `-v`, the core's `tracing` spans and events go to stderr too, one line each: the step
/// (flow, host, path, attempt, status) and each decision (retry, renewal, lease). They hold
/// no secret by construction (see latchkey's `tracing` feature).
pub(crate) fn show_core_trace() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .without_time()
            .with_target(false)
            .with_max_level(tracing::Level::DEBUG)
            .compact()
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
    });
}

impl<D> Watch<D> {
    /// Watches a driver whose waits are retries, with at most `attempts` attempts.
    pub(crate) fn retrying(inner: D, verbose: bool, attempts: u32, limits: Limits) -> Self {
        Self {
            inner,
            verbose,
            retries: Some(attempts),
            limits,
            attempts: 0,
            last: None,
        }
    }

    /// Watches a driver whose waits are its own rhythm (device polling).
    pub(crate) fn polling(inner: D, verbose: bool, limits: Limits) -> Self {
        Self {
            inner,
            verbose,
            retries: None,
            limits,
            attempts: 0,
            last: None,
        }
    }
}

impl<D: Drive> Drive for Watch<D> {
    type Output = D::Output;

    fn next(&mut self, now: SystemTime) -> Action<D::Output> {
        let action = self.inner.next(now);
        match &action {
            Action::Send(request) => {
                self.attempts = self.attempts.saturating_add(1);
                mask_credentials(request);
                if self.verbose {
                    for (i, line) in request_lines(request).iter().enumerate() {
                        say!("{} {line}", if i == 0 { ">" } else { "> " });
                    }
                }
            }
            Action::Sleep(wait) => {
                if let (Some(allowed), Some(last)) = (self.retries, self.last.take()) {
                    say!(
                        "latchkey: {last}; retrying in {} s (attempt {} of {allowed})",
                        seconds(*wait),
                        self.attempts.saturating_add(1)
                    );
                }
            }
            Action::Done(_) => {}
        }
        action
    }

    fn received(&mut self, answer: Result<Response, TransportError>, now: SystemTime) {
        match &answer {
            Ok(response) => {
                if self.verbose {
                    say!("< HTTP {}", response.status);
                    for line in header_lines(&response.headers) {
                        say!("<  {line}");
                    }
                    let body = response_body(response);
                    if !body.is_empty() {
                        say!("<  body: {body}");
                    }
                }
                self.last = Some(format!("HTTP {}", response.status));
            }
            Err(error) => {
                let text = self
                    .limits
                    .describe(error)
                    .unwrap_or_else(|| error.message().to_owned());
                if self.verbose {
                    say!("< no answer: {text}");
                }
                self.last = Some(text);
            }
        }
        self.inner.received(answer, now);
    }
}

/// Masks, on stderr from now on, the credentials in a request's `Authorization` header.
fn mask_credentials(request: &Request) {
    for value in request.headers.get_all("authorization") {
        add_secret(value);
        if let Some((_, credentials)) = value.split_once(' ') {
            add_secret(credentials.trim());
        }
    }
}

/// The request as lines: `METHOD URL`, the header fields (credentials redacted), and the
/// body with secret parameters redacted.
fn request_lines(request: &Request) -> Vec<String> {
    let mut lines = vec![format!("{} {}", request.method, request.url)];
    lines.extend(header_lines(&request.headers));
    let body = request.redacted_body();
    if !body.is_empty() {
        lines.push(format!("body: {body}"));
    }
    lines
}

/// Longest response body shown by `-v` when it is not JSON.
const MAX_SHOWN_BODY: usize = 2000;

/// A response body as `-v` shows it: JSON with every credential member (at any depth)
/// replaced by `<redacted>`; other text cut at [`MAX_SHOWN_BODY`] characters (the stderr
/// redactor still masks every known secret in it).
pub(crate) fn response_body(response: &Response) -> String {
    if response.body.is_empty() {
        return String::new();
    }
    if let Ok(mut json) = serde_json::from_slice::<serde_json::Value>(&response.body) {
        redact_json(&mut json);
        return json.to_string();
    }
    let form = response
        .content_type()
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    match std::str::from_utf8(&response.body) {
        // A form-encoded token response (GitHub style), or text shaped like one.
        Ok(text) if form || (text.contains('=') && !text.trim().contains(char::is_whitespace)) => {
            redact_pairs(text.trim())
        }
        Ok(text) if text.chars().count() > MAX_SHOWN_BODY => {
            let cut: String = text.chars().take(MAX_SHOWN_BODY).collect();
            format!("{cut}… ({} bytes in all)", response.body.len())
        }
        Ok(text) => text.to_owned(),
        Err(_) => format!("<{} bytes>", response.body.len()),
    }
}

/// Replaces the value of every credential member of `value`, at any depth.
fn redact_json(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, member) in map.iter_mut() {
                if latchkey::redact::is_secret_parameter(key) {
                    *member = serde_json::Value::String(latchkey::redact::REDACTED.into());
                } else {
                    redact_json(member);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_json),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_bodies_lose_their_credentials() {
        let body = r#"{"access_token":"at-secret","nested":{"refresh_token":"rt"},"list":[{"id_token":"x"}],"expires_in":60}"#;
        let response = Response::json(200, body, SystemTime::UNIX_EPOCH);
        let shown = response_body(&response);
        assert!(!shown.contains("at-secret"), "{shown}");
        assert!(!shown.contains("\"rt\""), "{shown}");
        assert!(!shown.contains("\"x\""), "{shown}");
        assert!(shown.contains("\"expires_in\":60"), "{shown}");
        let form = Response::new(
            200,
            Headers::new(),
            b"access_token=gho_secret&scope=repo&token_type=bearer".to_vec(),
            SystemTime::UNIX_EPOCH,
        );
        assert_eq!(
            response_body(&form),
            "access_token=<redacted>&scope=repo&token_type=bearer"
        );
        let text = Response::new(
            400,
            Headers::new(),
            "x".repeat(3000).into_bytes(),
            SystemTime::UNIX_EPOCH,
        );
        assert!(response_body(&text).ends_with("(3000 bytes in all)"));
    }
}
