//! Fault injection: every kind, ordering and counts.

mod common;

use std::io::Read;
use std::time::{Duration, Instant};

use common::*;
use latchkey_mock::{Fault, MockClient, MockServer};

fn server() -> MockServer {
    MockServer::builder()
        .client(MockClient::new("m2m").secret("s"))
        .client(MockClient::new("spa"))
        .start()
}

fn cc(server: &MockServer) -> Resp {
    post_form_basic(
        &server.token_endpoint(),
        &basic("m2m", "s"),
        &[("grant_type", "client_credentials")],
    )
}

#[test]
fn status_with_retry_after_then_normal() {
    let server = server();
    server.inject("/token", Fault::retry_after(503, "1"), 2);
    server.inject(
        "/token",
        Fault::retry_after(429, "Wed, 21 Oct 2015 07:28:00 GMT"),
        1,
    );
    for _ in 0..2 {
        let resp = cc(&server);
        assert_eq!(resp.status, 503);
        assert_eq!(resp.header("retry-after"), Some("1"));
        assert_eq!(resp.json()["error"], "temporarily_unavailable");
    }
    let resp = cc(&server);
    assert_eq!(resp.status, 429);
    assert_eq!(
        resp.header("retry-after"),
        Some("Wed, 21 Oct 2015 07:28:00 GMT")
    );
    assert_eq!(cc(&server).status, 200);
    assert_eq!(server.request_count("/token"), 4);
    assert_eq!(server.issued_access_tokens(), 1);

    server.inject("/token", Fault::status(500), 1);
    let resp = cc(&server);
    assert_eq!(resp.status, 500);
    assert_eq!(resp.header("retry-after"), None);
}

#[test]
fn faults_apply_per_path_only() {
    let server = server();
    server.inject("/userinfo", Fault::status(503), 1);
    assert_eq!(cc(&server).status, 200);
    assert_eq!(get(&server.userinfo_endpoint(), &[]).status, 503);
    assert_eq!(get(&server.userinfo_endpoint(), &[]).status, 401);
    server.inject("/token", Fault::status(503), 5);
    server.clear_faults();
    assert_eq!(cc(&server).status, 200);
    server.inject("/token", Fault::status(503), 0);
    assert_eq!(cc(&server).status, 200);
}

#[test]
fn a_faulted_exchange_does_not_use_the_code() {
    let server = server();
    let code = get_code(&server, "spa", &[]);
    let params = [
        ("grant_type", "authorization_code"),
        ("client_id", "spa"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
    ];
    server.inject("/token", Fault::status(502), 1);
    assert_eq!(post_form(&server.token_endpoint(), &params).status, 502);
    assert_eq!(post_form(&server.token_endpoint(), &params).status, 200);
    // The faulted request was still recorded.
    assert_eq!(server.requests_to("/token").len(), 2);
    assert_eq!(
        server.requests_to("/token")[0].param("code"),
        Some(code.as_str())
    );
}

#[test]
fn delay_then_normal_answer() {
    let server = server();
    server.inject("/token", Fault::Delay(Duration::from_millis(300)), 1);
    let start = Instant::now();
    let resp = cc(&server);
    assert!(start.elapsed() >= Duration::from_millis(300));
    assert_eq!(resp.status, 200);
    assert!(resp.json()["access_token"].is_string());

    // A client with a shorter timeout gives up.
    server.inject("/token", Fault::Delay(Duration::from_millis(1500)), 1);
    let result = agent_with(Some(Duration::from_millis(200)))
        .post(&server.token_endpoint())
        .header("authorization", &basic("m2m", "s"))
        .header("content-type", "application/x-www-form-urlencoded")
        .send("grant_type=client_credentials");
    assert!(result.is_err());
}

#[test]
fn slow_body_sends_headers_then_dribbles() {
    let server = server();
    server.inject("/token", Fault::SlowBody, 1);
    let start = Instant::now();
    let mut response = agent()
        .post(&server.token_endpoint())
        .header("authorization", &basic("m2m", "s"))
        .header("content-type", "application/x-www-form-urlencoded")
        .send("grant_type=client_credentials")
        .unwrap();
    // Headers come at once...
    assert!(start.elapsed() < Duration::from_millis(900));
    assert_eq!(response.status().as_u16(), 200);
    // ...the body does not: the first read yields at most one 4-byte chunk.
    let mut reader = response.body_mut().as_reader();
    let mut buf = [0u8; 64];
    let n = reader.read(&mut buf).unwrap();
    assert!((1..=4).contains(&n), "{n}");
    drop(response);

    // A body-read timeout fires.
    server.inject("/token", Fault::SlowBody, 1);
    let result = agent_with(Some(Duration::from_millis(500)))
        .post(&server.token_endpoint())
        .header("authorization", &basic("m2m", "s"))
        .header("content-type", "application/x-www-form-urlencoded")
        .send("grant_type=client_credentials")
        .and_then(|mut r| r.body_mut().read_to_string());
    assert!(result.is_err());

    // A patient client gets the whole normal answer.
    server.inject(
        "/token",
        Fault::Dribble {
            chunk_size: 16,
            interval: Duration::from_millis(5),
        },
        1,
    );
    let resp = cc(&server);
    assert_eq!(resp.status, 200);
    assert!(resp.json()["access_token"].is_string());
}

#[test]
fn oversized_body_is_streamed() {
    let server = server();
    // 50 MB: read the start, then hang up; the server must cope.
    server.inject("/token", Fault::Oversized { bytes: 50_000_000 }, 1);
    let mut response = agent()
        .post(&server.token_endpoint())
        .header("content-type", "application/x-www-form-urlencoded")
        .send("grant_type=client_credentials")
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response.headers().get("content-type").unwrap(),
        "application/json"
    );
    assert!(response.headers().get("content-length").is_none());
    let mut reader = response.body_mut().as_reader();
    let mut start = vec![0u8; 1 << 20];
    reader.read_exact(&mut start).unwrap();
    assert!(start.starts_with(br#"{"access_token":"aaaa"#));
    drop(reader);
    drop(response);

    // 8 MB read to the end: exact length, valid JSON shape.
    server.inject("/token", Fault::Oversized { bytes: 8_000_000 }, 1);
    let mut response = agent()
        .post(&server.token_endpoint())
        .header("content-type", "application/x-www-form-urlencoded")
        .send("")
        .unwrap();
    let mut total = 0u64;
    let mut tail = Vec::new();
    let mut reader = response.body_mut().as_reader();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = reader.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        total += n as u64;
        tail = buf[..n].to_vec();
    }
    assert_eq!(total, 8_000_000);
    assert!(tail.ends_with(br#"aa"}"#));
    drop(reader);
    drop(response);

    // The server is still fine.
    assert_eq!(cc(&server).status, 200);
}

#[test]
fn redirect_to_another_server() {
    let server = server();
    let elsewhere = MockServer::start();
    for status in [302, 307] {
        server.inject(
            "/token",
            Fault::redirect(status, elsewhere.token_endpoint()),
            1,
        );
        let resp = cc(&server);
        assert_eq!(resp.status, status);
        assert_eq!(
            resp.header("location"),
            Some(elsewhere.token_endpoint().as_str())
        );
        assert_eq!(resp.body, "");
    }
    assert_eq!(elsewhere.request_count("/token"), 0);
    assert!(elsewhere.requests().is_empty());
}

#[test]
fn html_error_page() {
    let server = server();
    server.inject("/token", Fault::HtmlError { status: 502 }, 1);
    let resp = cc(&server);
    assert_eq!(resp.status, 502);
    assert!(
        resp.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(resp.body.contains("502 Bad Gateway"));
    assert!(serde_json::from_str::<serde_json::Value>(&resp.body).is_err());
}

#[test]
fn error_with_200() {
    let server = server();
    server.inject("/token", Fault::error_with_200("invalid_grant"), 1);
    let resp = cc(&server);
    assert_eq!(resp.status, 200);
    let json = resp.json();
    assert_eq!(json["error"], "invalid_grant");
    assert!(json["error_description"].is_string());
    assert!(json.get("access_token").is_none());
}

#[test]
fn canned_bodies() {
    let server = server();
    server.inject("/token", Fault::body(503, "", ""), 1);
    server.inject(
        "/token",
        Fault::Body {
            status: 200,
            content_type: "application/json".into(),
            body: br#"{"access_token":"canned","token_type":"bearer"}"#.to_vec(),
        },
        1,
    );
    let empty = cc(&server);
    assert_eq!(empty.status, 503);
    assert_eq!(empty.body, "");
    assert_eq!(empty.header("content-type"), None);
    let canned = cc(&server);
    assert_eq!(canned.json()["access_token"], "canned");
}

#[test]
fn close_connection_without_answer() {
    let server = server();
    server.inject("/token", Fault::CloseConnection, 1);
    let result = agent()
        .post(&server.token_endpoint())
        .header("authorization", &basic("m2m", "s"))
        .header("content-type", "application/x-www-form-urlencoded")
        .send("grant_type=client_credentials");
    assert!(result.is_err());
    assert_eq!(cc(&server).status, 200);
}
