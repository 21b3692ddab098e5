//! Starting, stopping, keep-alive, concurrency, and use from sync and async code.

mod common;

use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use common::*;
use latchkey_mock::{MockClient, MockServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[test]
fn sync_start_accessors_and_drop_frees_the_port() {
    let server = MockServer::start();
    let addr = server.addr();
    assert!(addr.ip().is_loopback());
    assert_ne!(addr.port(), 0);
    assert_eq!(server.url(), format!("http://127.0.0.1:{}", addr.port()));
    assert_eq!(
        server.authorization_endpoint(),
        format!("{}/authorize", server.url())
    );
    assert_eq!(server.token_endpoint(), format!("{}/token", server.url()));
    assert_eq!(
        server.userinfo_endpoint(),
        format!("{}/userinfo", server.url())
    );
    assert!(format!("{server:?}").contains(&server.url()));

    // Leave an idle keep-alive connection open: the drop must not wait for it.
    let agent = agent();
    let resp = finish(agent.get(&server.userinfo_endpoint()).call());
    assert_eq!(resp.status, 401);
    let start = Instant::now();
    drop(server);
    assert!(start.elapsed() < Duration::from_secs(2));
    assert!(TcpStream::connect(addr).is_err());
    let rebound = TcpListener::bind(addr).expect("port is free after drop");
    drop(rebound);
    // The pooled connection is dead.
    assert!(
        agent
            .get(&format!("http://{addr}/userinfo"))
            .call()
            .is_err()
    );
}

#[test]
fn explicit_shutdown() {
    let server = MockServer::start();
    let addr = server.addr();
    server.shutdown();
    assert!(TcpStream::connect(addr).is_err());
}

#[test]
fn keep_alive_reuses_one_connection() {
    let server = MockServer::builder()
        .client(MockClient::new("m2m").secret("s"))
        .record_requests(false)
        .start();
    let agent = agent();
    let auth = basic("m2m", "s");
    for _ in 0..50 {
        let resp = finish(
            agent
                .post(&server.token_endpoint())
                .header("authorization", &auth)
                .header("content-type", "application/x-www-form-urlencoded")
                .send("grant_type=client_credentials"),
        );
        assert_eq!(resp.status, 200);
    }
    assert_eq!(server.connection_count(), 1);
    assert_eq!(server.request_count("/token"), 50);
    assert!(server.requests().is_empty());
    assert_eq!(server.issued_access_tokens(), 50);
}

#[test]
fn concurrent_clients() {
    let server = MockServer::builder()
        .client(MockClient::new("m2m").secret("s"))
        .start();
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                let agent = agent();
                for _ in 0..25 {
                    let resp = finish(
                        agent
                            .post(&server.token_endpoint())
                            .header("authorization", &basic("m2m", "s"))
                            .header("content-type", "application/x-www-form-urlencoded")
                            .send("grant_type=client_credentials"),
                    );
                    assert_eq!(resp.status, 200);
                }
            });
        }
    });
    assert_eq!(server.issued_access_tokens(), 200);
    assert_eq!(server.requests().len(), 200);
}

#[test]
fn clients_added_at_runtime_and_servers_are_independent() {
    let a = MockServer::start();
    let b = MockServer::start();
    assert_ne!(a.addr(), b.addr());
    a.add_client(MockClient::new("late"));
    assert!(!get_code(&a, "late", &[]).is_empty());
    assert_eq!(
        authorize(
            &b,
            &[
                ("response_type", "code"),
                ("client_id", "late"),
                ("redirect_uri", REDIRECT)
            ]
        )
        .status,
        400
    );
    assert_eq!(b.request_count("/authorize"), 1);
    assert_eq!(a.request_count("/authorize"), 1);
}

async fn raw_get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

#[tokio::test]
async fn works_inside_a_tokio_runtime() {
    let server = MockServer::builder().client(MockClient::new("spa")).start();
    let response = raw_get(server.addr(), "/.well-known/oauth-authorization-server").await;
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(response.contains(&server.token_endpoint()));

    let response = raw_get(
        server.addr(),
        &format!(
            "/authorize?response_type=code&client_id=spa&redirect_uri={}&state=a",
            url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
        ),
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 302 Found\r\n"), "{response}");
    assert!(
        response
            .to_ascii_lowercase()
            .contains("location: https://app.example/callback?code=")
    );

    // Timing faults run on the server's own runtime, not this one.
    server.inject(
        "/userinfo",
        latchkey_mock::Fault::Delay(Duration::from_millis(200)),
        1,
    );
    let start = Instant::now();
    let response = raw_get(server.addr(), "/userinfo").await;
    assert!(start.elapsed() >= Duration::from_millis(200));
    assert!(response.starts_with("HTTP/1.1 401"), "{response}");

    let addr = server.addr();
    drop(server);
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn started_and_dropped_in_spawned_tasks() {
    let handle = tokio::spawn(async {
        let server = MockServer::start();
        let addr = server.addr();
        let response = raw_get(addr, "/nothing-here").await;
        drop(server);
        (addr, response)
    });
    let (addr, response) = handle.await.unwrap();
    assert!(response.starts_with("HTTP/1.1 404"), "{response}");
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[test]
fn large_request_bodies_are_refused() {
    let server = MockServer::start();
    let body = "a=".to_owned() + &"x".repeat(2 * 1024 * 1024);
    let resp = post(
        &server.token_endpoint(),
        "application/x-www-form-urlencoded",
        &body,
        &[],
    );
    assert_eq!(resp.status, 413);
    assert_eq!(server.request_count("/token"), 1);
    assert!(server.requests()[0].body.is_empty());
    // The server carries on.
    assert_eq!(get(&server.userinfo_endpoint(), &[]).status, 401);
}
