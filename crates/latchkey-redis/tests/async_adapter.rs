//! The async adapter on a `RedisStore`: `latchkey-reqwest`'s manager calls the store on
//! tokio's blocking pool. Two managers, each with its own store object (as two processes
//! would have), share one grant across an expiry; their tasks ask at once. The Redis lease
//! lets one manager refresh, and the other adopts what it saved.

use std::time::{Duration, SystemTime};

use latchkey::TokenStore as _;
use latchkey_redis::RedisStore;
use latchkey_reqwest::{TokenManager, Transport};

#[allow(dead_code, unreachable_pub)]
#[path = "../../latchkey-conformance/src/fixture.rs"]
mod fixture;
#[macro_use]
mod support;

use support::RedisServer;

const TASKS: usize = 200;

redis_test! {
    fn two_async_managers_on_one_redis_store_refresh_once() {
        let redis = RedisServer::start();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let server = fixture::rotating_server();
        let first = runtime
            .block_on(Transport::new().send(fixture::authorization(&server)))
            .unwrap();
        let store = || {
            RedisStore::builder(&redis.url(), "async")
                .encryption_key([0x11; 32])
                .build()
                .unwrap()
        };
        let shared = store();
        let expired = SystemTime::now() - Duration::from_secs(3600);
        shared
            .save(&first.clone().with_expires_at(Some(expired)))
            .unwrap();

        let managers: Vec<_> = (0..2)
            .map(|_| {
                TokenManager::builder(Transport::new(), fixture::lifecycle(&server))
                    .store(store())
                    .build()
                    .unwrap()
            })
            .collect();
        let tokens = runtime.block_on(async {
            let tasks: Vec<_> = (0..TASKS)
                .map(|i| {
                    let manager = managers[i % 2].clone();
                    tokio::spawn(async move { manager.access_token().await })
                })
                .collect();
            let mut tokens = Vec::with_capacity(TASKS);
            for task in tasks {
                tokens.push(task.await.unwrap().unwrap().expose_secret().to_owned());
            }
            tokens
        });

        assert_eq!(server.refresh_count(), 1, "one refresh for both managers");
        let saved = shared.load().unwrap().expect("a token set");
        let token = saved.access_token().expose_secret();
        assert_ne!(token, first.access_token().expose_secret());
        assert!(tokens.iter().all(|t| t == token));
        let refresh = saved.refresh_token().expect("a refresh token");
        assert!(server.refresh_token_active(refresh.expose_secret()));
        assert_eq!(shared.version().unwrap(), 2);
    }
}
