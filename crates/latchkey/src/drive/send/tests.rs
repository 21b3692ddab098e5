//! The send driver on virtual time: every decision between attempts, with no network and no
//! sleeping.

use std::time::UNIX_EPOCH;

use super::*;
use crate::drive::http::{Headers, Method};
use crate::{Client, RetryMode, RetryPolicy};

fn at(millis: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000) + Duration::from_millis(millis)
}

fn settings() -> TransportSettings {
    TransportSettings::default()
}

fn get(url: &str, retry: RetryMode) -> Request {
    Request::new(Method::Get, Url::parse(url).unwrap(), retry)
}

fn status(code: u16, headers: &[(&str, &str)]) -> Response {
    let headers: Headers = headers.iter().map(|(n, v)| (*n, *v)).collect();
    Response::new(code, headers, Vec::new(), at(0))
}

fn sent<T: std::fmt::Debug>(action: Action<T>) -> Request {
    match action {
        Action::Send(request) => request,
        other => panic!("expected a send, got {other:?}"),
    }
}

fn slept<T: std::fmt::Debug>(action: Action<T>) -> Duration {
    match action {
        Action::Sleep(wait) => wait,
        other => panic!("expected a sleep, got {other:?}"),
    }
}

fn finished<T: std::fmt::Debug>(action: Action<T>) -> Result<T, Error> {
    match action {
        Action::Done(outcome) => outcome,
        other => panic!("expected the outcome, got {other:?}"),
    }
}

fn transport_kind<T: std::fmt::Debug>(outcome: Result<T, Error>) -> TransportErrorKind {
    match outcome {
        Err(Error::Transport(error)) => error.kind(),
        other => panic!("expected a transport error, got {other:?}"),
    }
}

#[test]
fn an_insecure_url_is_refused_before_anything_is_sent() {
    let mut driver = SendDriver::new(
        get("http://as.example/x", RetryMode::Idempotent),
        &settings(),
    );
    assert_eq!(
        transport_kind(finished(driver.next(at(0)))),
        TransportErrorKind::InsecureUrl
    );
    assert_eq!(driver.attempts(), 0);
    let mut loopback = SendDriver::new(
        get("http://127.0.0.1:1/x", RetryMode::Idempotent),
        &settings(),
    );
    let _ = sent(loopback.next(at(0)));
}

#[test]
fn the_response_cap_travels_with_the_request() {
    let mut own = get("https://as.example/x", RetryMode::Idempotent);
    own.max_response_bytes = Some(10);
    let mut driver = SendDriver::new(own, &settings());
    assert_eq!(sent(driver.next(at(0))).max_response_bytes, Some(10));
    let mut driver = SendDriver::new(
        get("https://as.example/x", RetryMode::Idempotent),
        &settings(),
    );
    assert_eq!(
        sent(driver.next(at(0))).max_response_bytes,
        Some(settings().max_response_bytes)
    );
}

#[test]
fn a_redirect_is_an_error_naming_only_the_hosts() {
    let mut driver = SendDriver::new(
        get("https://as.example/x?code=c0de", RetryMode::Idempotent),
        &settings(),
    );
    let _ = sent(driver.next(at(0)));
    driver.received(
        Ok(status(
            302,
            &[("location", "https://evil.example/steal?code=c0de")],
        )),
        at(1),
    );
    let error = finished(driver.next(at(1))).unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("evil.example") && !text.contains("c0de"),
        "{text}"
    );
    assert_eq!(
        transport_kind(Err::<(), _>(error)),
        TransportErrorKind::Redirect { status: 302 }
    );
}

#[test]
fn retry_after_is_honoured_then_the_answer_is_handed_back() {
    let mut driver = SendDriver::new(
        get("https://as.example/x", RetryMode::Idempotent),
        &settings(),
    )
    .with_jitter(0);
    let _ = sent(driver.next(at(0)));
    driver.received(Ok(status(503, &[("retry-after", "2")])), at(10));
    assert_eq!(slept(driver.next(at(10))), Duration::from_secs(2));
    let _ = sent(driver.next(at(2_010)));
    driver.received(Ok(status(200, &[])), at(2_020));
    assert_eq!(finished(driver.next(at(2_020))).unwrap().status, 200);
    assert_eq!(driver.attempts(), 2);
}

#[test]
fn backoff_doubles_and_the_total_budget_runs_on_the_callers_clock() {
    let policy = RetryPolicy::default()
        .base_delay(Duration::from_secs(1))
        .max_total(Duration::from_secs(5));
    let mut settings = settings();
    settings.retry_policy = policy;
    let mut driver = SendDriver::new(
        get("https://as.example/x", RetryMode::Idempotent),
        &settings,
    )
    .with_jitter(0);
    let _ = sent(driver.next(at(0)));
    driver.received(Ok(status(502, &[])), at(0));
    assert_eq!(slept(driver.next(at(0))), Duration::from_millis(500));
    let _ = sent(driver.next(at(500)));
    driver.received(Ok(status(502, &[])), at(500));
    assert_eq!(slept(driver.next(at(500))), Duration::from_secs(1));
    let _ = sent(driver.next(at(1_500)));
    // The clock says 4.9 s have passed: another 2 s wait would break the 5 s budget.
    driver.received(Ok(status(502, &[])), at(4_900));
    assert_eq!(finished(driver.next(at(4_900))).unwrap().status, 502);
}

#[test]
fn a_code_exchange_is_never_sent_twice_once_it_may_have_arrived() {
    let once = || {
        SendDriver::new(
            get("https://as.example/token", RetryMode::ConnectFailureOnly),
            &settings(),
        )
    };
    // A 503: the server saw the code. Handed back, not resent.
    let mut driver = once();
    let _ = sent(driver.next(at(0)));
    driver.received(Ok(status(503, &[("retry-after", "1")])), at(0));
    assert_eq!(finished(driver.next(at(0))).unwrap().status, 503);
    // A timeout after sending: may have arrived.
    let mut driver = once();
    let _ = sent(driver.next(at(0)));
    driver.received(
        Err(TransportError::new(TransportErrorKind::Timeout, "slow")),
        at(0),
    );
    assert_eq!(
        transport_kind(finished(driver.next(at(0)))),
        TransportErrorKind::Timeout
    );
    // A refused connection, or a connect timeout marked as never sent: safe to resend.
    for error in [
        TransportError::new(TransportErrorKind::Connect, "refused"),
        TransportError::new(TransportErrorKind::Timeout, "connect timed out").never_sent(),
    ] {
        let mut driver = once();
        let _ = sent(driver.next(at(0)));
        driver.received(Err(error), at(0));
        slept(driver.next(at(0)));
        let _ = sent(driver.next(at(300)));
    }
}

#[test]
fn a_final_failure_is_not_retried_and_misuse_is_an_error() {
    let mut driver = SendDriver::new(
        get("https://as.example/x", RetryMode::Idempotent),
        &settings(),
    );
    let _ = sent(driver.next(at(0)));
    driver.received(
        Err(TransportError::new(TransportErrorKind::Other, "cannot build").final_failure()),
        at(0),
    );
    assert!(finished(driver.next(at(0))).is_err());
    assert!(
        finished(driver.next(at(0))).is_err(),
        "asked again after Done"
    );
    let mut driver = SendDriver::new(
        get("https://as.example/x", RetryMode::Idempotent),
        &settings(),
    );
    driver.received(Ok(status(200, &[])), at(0));
    assert!(
        finished(driver.next(at(0))).is_err(),
        "an answer to nothing"
    );
}

#[test]
fn once_never_retries() {
    let mut driver = SendDriver::once(
        get("https://as.example/x", RetryMode::Idempotent),
        &settings(),
    );
    let _ = sent(driver.next(at(0)));
    driver.received(
        Err(TransportError::new(TransportErrorKind::Connect, "refused")),
        at(0),
    );
    assert_eq!(
        transport_kind(finished(driver.next(at(0)))),
        TransportErrorKind::Connect
    );
}

#[test]
fn an_exchange_gets_its_answer_parsed() {
    let client = Client::builder("svc")
        .client_secret("s3cret")
        .token_endpoint("https://as.example/token")
        .build()
        .unwrap();
    let step = client.client_credentials().unwrap().scope("read");
    let mut driver = SendDriver::new(step, &settings());
    let request = sent(driver.next(at(0)));
    assert_eq!(request.url.as_str(), "https://as.example/token");
    driver.received(
        Ok(Response::json(
            200,
            r#"{"access_token":"at","token_type":"Bearer","expires_in":60}"#,
            at(5),
        )),
        at(5),
    );
    let tokens = finished(driver.next(at(5))).unwrap();
    assert_eq!(tokens.expires_at(), Some(at(5) + Duration::from_secs(60)));
}

/// An exchange that needs `supplement` answered before it reads its answer, and reports what
/// it was handed.
#[derive(Debug)]
struct Needs {
    supplement: &'static str,
    seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Exchange for Needs {
    type Output = u16;

    fn request(&self) -> Result<Request, Error> {
        Ok(get(
            "https://as.example/token",
            RetryMode::ConnectFailureOnly,
        ))
    }

    fn response(self, response: Response) -> Result<u16, Error> {
        Ok(response.status)
    }

    fn supplement(&self, _response: &Response) -> Option<Request> {
        Some(get(self.supplement, RetryMode::Idempotent))
    }

    fn supplemented(&mut self, answer: Result<Response, TransportError>, _now: SystemTime) {
        let seen = match answer {
            Ok(response) => format!("status {}", response.status),
            Err(error) => format!("{:?}", error.kind()),
        };
        self.seen.lock().unwrap().push(seen);
    }
}

#[test]
fn a_supplement_is_sent_once_between_the_answer_and_its_reading() {
    let seen = std::sync::Arc::default();
    let exchange = Needs {
        supplement: "https://as.example/jwks",
        seen: std::sync::Arc::clone(&seen),
    };
    let mut driver = SendDriver::new(exchange, &settings());
    let first = sent(driver.next(at(0)));
    assert_eq!(first.url.path(), "/token");
    driver.received(Ok(status(201, &[])), at(1));
    let second = sent(driver.next(at(2)));
    assert_eq!(second.url.path(), "/jwks");
    assert_eq!(
        second.max_response_bytes,
        Some(settings().max_response_bytes)
    );
    // Whatever the supplement's fate, the held answer is read: here a failed fetch.
    driver.received(
        Err(TransportError::new(TransportErrorKind::Timeout, "slow")),
        at(3),
    );
    assert_eq!(finished(driver.next(at(4))).unwrap(), 201);
    assert_eq!(*seen.lock().unwrap(), ["Timeout"]);
    assert!(finished(driver.next(at(5))).is_err(), "done means done");
}

#[test]
fn a_supplement_to_an_insecure_url_is_not_sent() {
    let seen = std::sync::Arc::default();
    let exchange = Needs {
        supplement: "http://evil.example/jwks",
        seen: std::sync::Arc::clone(&seen),
    };
    let mut driver = SendDriver::new(exchange, &settings());
    let _ = sent(driver.next(at(0)));
    driver.received(Ok(status(200, &[])), at(1));
    assert_eq!(finished(driver.next(at(2))).unwrap(), 200);
    assert_eq!(*seen.lock().unwrap(), ["InsecureUrl"]);
}
