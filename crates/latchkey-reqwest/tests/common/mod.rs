//! What the reqwest adapter's own tests share: the fixture of `latchkey-conformance`
//! (included by its path), a logged-in manager, and many tasks at once.

#![allow(dead_code, unreachable_pub)]

use std::time::{Duration, Instant};

use latchkey::TokenSet;
use latchkey_mock::MockServer;
use latchkey_reqwest::{TokenManager, Transport};

#[path = "../../../latchkey-conformance/src/fixture.rs"]
pub mod fixture;

/// The user logs in at `expiry`'s mock; a manager of the tokens, on `expiry`'s clock.
pub async fn logged_in(expiry: &fixture::Expiry) -> (TokenManager, TokenSet) {
    let transport = Transport::builder().clock(expiry.clock.source()).build();
    let first = transport.send(expiry.authorization()).await.unwrap();
    (expiry.manage(transport, &first), first)
}

/// `tasks` tasks that each ask `manager` for an access token; the tokens in order (a panic
/// or an error fails the test).
pub async fn access_tokens(manager: &TokenManager, tasks: usize) -> Vec<latchkey::AccessToken> {
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let manager = manager.clone();
            tokio::spawn(async move { manager.access_token().await })
        })
        .collect();
    let mut tokens = Vec::with_capacity(tasks);
    for handle in handles {
        tokens.push(handle.await.unwrap().unwrap());
    }
    tokens
}

/// Waits (5 s at most) until the mock has received `n` requests on `path`.
pub async fn until_requests(server: &MockServer, path: &str, n: usize) {
    let start = Instant::now();
    while server.request_count(path) < n {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "no request to {path}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}
