//! Helpers for the token manager tests of both adapters (included by `#[path]` from
//! `latchkey-reqwest/tests/common/mod.rs` too): a movable clock, a store that records the
//! order of calls, and a mock server and client.

#![allow(dead_code, unreachable_pub)]

use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use latchkey::{Client, StoreError, TokenSet, TokenStore};
use latchkey_mock::{MockClient, MockServer, ResponseStyle};

pub const SECRET: &str = "manager-secret-5e1f0c";
pub const REDIRECT: &str = "https://app.example/callback";

/// Wall-clock time plus an offset the test moves.
#[derive(Clone, Default)]
pub struct TestClock(Arc<AtomicI64>);

impl TestClock {
    pub fn advance(&self, by: Duration) {
        self.0
            .fetch_add(i64::try_from(by.as_secs()).unwrap(), Ordering::SeqCst);
    }

    pub fn now(&self) -> SystemTime {
        let offset = self.0.load(Ordering::SeqCst);
        let now = SystemTime::now();
        if offset >= 0 {
            now + Duration::from_secs(offset.unsigned_abs())
        } else {
            now - Duration::from_secs(offset.unsigned_abs())
        }
    }

    pub fn source(&self) -> impl Fn() -> SystemTime + Send + Sync + 'static {
        let clock = self.clone();
        move || clock.now()
    }
}

/// A store that records every call (and what else the test logs) in order, and can be told
/// to fail its next saves.
#[derive(Default)]
pub struct Recorder {
    pub log: Mutex<Vec<String>>,
    held: Mutex<Option<TokenSet>>,
    fail_saves: AtomicU32,
}

impl Recorder {
    pub fn note(&self, entry: String) {
        self.log.lock().unwrap().push(entry);
    }

    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    pub fn held(&self) -> Option<TokenSet> {
        self.held.lock().unwrap().clone()
    }

    pub fn fail_next_saves(&self, n: u32) {
        self.fail_saves.store(n, Ordering::SeqCst);
    }
}

impl TokenStore for Recorder {
    fn load(&self) -> Result<Option<TokenSet>, StoreError> {
        self.note("load".into());
        Ok(self.held())
    }

    fn save(&self, tokens: &TokenSet) -> Result<(), StoreError> {
        let failing = self
            .fail_saves
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failing {
            self.note(format!(
                "save failed {}",
                tokens.access_token().expose_secret()
            ));
            return Err(StoreError::new("disk full (injected)"));
        }
        *self.held.lock().unwrap() = Some(tokens.clone());
        self.note(format!("saved {}", tokens.access_token().expose_secret()));
        Ok(())
    }
}

/// A confidential client with Clerk-style answers (a refresh token every time) that rotates
/// refresh tokens.
pub fn rotating_server() -> MockServer {
    MockServer::builder()
        .client(
            MockClient::new("app")
                .secret(SECRET)
                .response_style(ResponseStyle::Clerk)
                .rotate_refresh_tokens(true),
        )
        .record_requests(true)
        .start()
}

/// The client for `rotating_server`.
pub fn client(server: &MockServer) -> Client {
    Client::builder("app")
        .client_secret(SECRET)
        .authorization_endpoint(server.authorization_endpoint())
        .token_endpoint(server.token_endpoint())
        .userinfo_endpoint(server.userinfo_endpoint())
        .redirect_uri(REDIRECT)
        .build()
        .unwrap()
}
