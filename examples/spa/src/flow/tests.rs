//! Both sign-ins on the host, against latchkey-mock in memory: the same code the page runs,
//! with the mock's `route` in place of `fetch`.

use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime};

use latchkey::drive::Headers;
use latchkey::drive::{SendDriver, TransportSettings};
use latchkey::{Request, Response, TransportError};
use latchkey_mock::{GrantType, Mock, MockClient};

use super::*;
use crate::config::LOOM_AUDIENCE;
use crate::drive::drive;

const SPA: &str = "http://127.0.0.1:8000/";

fn mock() -> Mock {
    Mock::builder()
        .base_url("http://127.0.0.1:8080")
        .client(
            MockClient::new("loomai-spa")
                .require_audience(LOOM_AUDIENCE)
                .redirect_uris(["http://127.0.0.1/"])
                .grant_types([GrantType::Implicit]),
        )
        .client(
            MockClient::new("loomai-spa-pkce")
                .require_audience(LOOM_AUDIENCE)
                .require_pkce(true)
                .redirect_uris(["http://127.0.0.1/"]),
        )
        .build()
}

fn config(mock: &Mock) -> SpaConfig {
    SpaConfig::from_json(
        &serde_json::json!({
            "issuer": mock.issuer(),
            "authorization_endpoint": format!("{}/authorize", mock.url()),
            "token_endpoint": format!("{}/token", mock.url()),
            "implicit_client_id": "loomai-spa",
            "code_client_id": "loomai-spa-pkce",
            "scope": "read:avatars",
        })
        .to_string(),
    )
    .unwrap()
}

/// The browser's visit to the authorization URL: the redirect's `Location`.
fn visit(mock: &Mock, url: &str) -> String {
    let answer = mock
        .route_now(latchkey_mock::Request::get(url))
        .into_response()
        .unwrap();
    assert_eq!(answer.status, 302, "{}", answer.body_text());
    answer.header("location").unwrap().to_owned()
}

/// `fetch`, played by the mock.
fn send(mock: &Mock, request: &Request) -> Result<Response, TransportError> {
    let mut outgoing = latchkey_mock::Request::new(request.method.as_str(), request.url.as_str())
        .with_body(request.body.clone());
    for (name, value) in request.headers.iter() {
        outgoing = outgoing.with_header(name, value);
    }
    let answer = mock.route_now(outgoing).into_response().unwrap();
    let headers = Headers::from_wire(
        answer
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_bytes())),
    );
    Ok(Response::new(
        answer.status,
        headers,
        answer.body,
        SystemTime::now(),
    ))
}

/// Polls a future that never waits (the mock answers at once) to its end.
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the future waited"),
    }
}

#[test]
fn the_implicit_flow_reads_the_fragment() {
    let mock = mock();
    let config = config(&mock);
    let (url, stored) = start(&config, Flow::Implicit, SPA).unwrap();
    assert!(url.contains("response_type=token"), "{url}");
    assert!(url.contains("audience="), "{url}");
    assert!(stored.contains("\"flow\":\"Implicit\""), "{stored}");
    let callback = visit(&mock, &url);
    assert!(
        callback.starts_with(SPA) && callback.contains('#'),
        "{callback}"
    );
    assert!(is_callback(&callback));
    let now = SystemTime::now();
    let (flow, finished) = finish(&config, Some(&stored), &callback, SPA, now).unwrap();
    assert_eq!(flow, Flow::Implicit);
    let Finished::Tokens(tokens) = finished else {
        panic!("the implicit flow gives tokens")
    };
    let (_, left) = expiry(&tokens, now).unwrap();
    assert!((3590..=3600).contains(&left), "{left}");
}

#[test]
fn code_and_pkce_read_the_query_and_redeem_the_code_through_the_driver() {
    let mock = mock();
    let config = config(&mock);
    let (url, stored) = start(&config, Flow::CodePkce, SPA).unwrap();
    assert!(url.contains("code_challenge_method=S256"), "{url}");
    let callback = visit(&mock, &url);
    assert!(callback.starts_with(&format!("{SPA}?")), "{callback}");
    assert!(is_callback(&callback));
    let (flow, finished) =
        finish(&config, Some(&stored), &callback, SPA, SystemTime::now()).unwrap();
    assert_eq!(flow, Flow::CodePkce);
    let Finished::Exchange(exchange) = finished else {
        panic!("the code flow gives a code to redeem")
    };
    let driver = SendDriver::new(exchange, &TransportSettings::default());
    let mut slept = Duration::ZERO;
    let tokens = ready(drive(
        driver,
        |request| std::future::ready(send(&mock, &request)),
        |duration| {
            slept += duration;
            std::future::ready(())
        },
        SystemTime::now,
    ))
    .unwrap();
    assert_eq!(slept, Duration::ZERO);
    assert!(expiry(&tokens, SystemTime::now()).is_some());
    let token_request = mock
        .requests()
        .into_iter()
        .find(|r| r.path == "/token")
        .unwrap();
    assert_eq!(token_request.param("audience"), Some(LOOM_AUDIENCE));
    assert!(token_request.param("code_verifier").is_some());
}

#[test]
fn a_forged_fragment_with_another_state_is_refused() {
    let mock = mock();
    let config = config(&mock);
    let (_, stored) = start(&config, Flow::Implicit, SPA).unwrap();
    let forged =
        format!("{SPA}#access_token=at_forged&token_type=Bearer&expires_in=3600&state=forged");
    let error = finish(&config, Some(&stored), &forged, SPA, SystemTime::now()).unwrap_err();
    let message = error.to_string();
    assert!(message.contains("state"), "{message}");
    assert!(!message.contains("at_forged"), "{message}");
    // Without a sign-in started in this tab, nothing is used either.
    let error = finish(&config, None, &forged, SPA, SystemTime::now()).unwrap_err();
    assert!(matches!(error, SpaError::NothingPending), "{error}");
}

#[test]
fn plain_page_urls_are_not_callbacks() {
    assert!(!is_callback(SPA));
    assert!(!is_callback("http://127.0.0.1:8000/?lang=en#top"));
    assert!(is_callback("http://127.0.0.1:8000/?error=access_denied"));
    assert!(is_callback("http://127.0.0.1:8000/#access_token=x&state=s"));
}
