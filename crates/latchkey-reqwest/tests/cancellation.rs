//! Cancellation, which only the async adapter has: a caller that goes away cancels only its
//! own wait; a renewal task that goes away (its runtime shut down) is taken over by the next
//! caller; a polling future that is dropped polls no more.

mod common;

use std::time::{Duration, Instant};

use common::fixture::{Expiry, SECRET};
use common::{access_tokens, logged_in, until_requests};
use latchkey::Client;
use latchkey_mock::{Fault, MockClient, MockServer, ResponseStyle};
use latchkey_reqwest::Transport;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_refreshing_caller_cancelled_mid_flight_cancels_nothing() {
    let expiry = Expiry::new();
    let (manager, first) = logged_in(&expiry).await;
    expiry.clock.advance(Duration::from_secs(3600));
    let slow = Fault::Delay(Duration::from_millis(300));
    expiry.server.inject("/token", slow, 1);
    let start = Instant::now();
    // The task that starts the refresh is aborted while the request is in flight...
    let starter = tokio::spawn({
        let manager = manager.clone();
        async move { manager.access_token().await }
    });
    until_requests(&expiry.server, "/token", 1).await;
    // ...and so is a waiter, at a timeout.
    let impatient = tokio::time::timeout(Duration::from_millis(20), manager.access_token()).await;
    assert!(impatient.is_err());
    starter.abort();
    assert!(starter.await.unwrap_err().is_cancelled());
    // The others still get the one new token, and the rotated refresh token is saved.
    let handed = access_tokens(&manager, 100).await;
    expiry.one_refresh(&first, &handed, start.elapsed());
}

#[test]
fn a_renewal_task_dropped_mid_flight_is_taken_over_by_the_next_caller() {
    // No rotation here: the abandoned request may still be processed by the server.
    let app = MockClient::new("app")
        .secret(SECRET)
        .response_style(ResponseStyle::Clerk);
    let expiry = Expiry::at(MockServer::builder().client(app).start());
    let first_runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (manager, first) = first_runtime.block_on(logged_in(&expiry));
    expiry.clock.advance(Duration::from_secs(3600));
    let stuck = Fault::Delay(Duration::from_secs(2));
    expiry.server.inject("/token", stuck, 1);
    first_runtime.block_on(async {
        let waiting = tokio::spawn({
            let manager = manager.clone();
            async move { manager.access_token().await }
        });
        until_requests(&expiry.server, "/token", 1).await;
        drop(waiting);
    });
    // The runtime, and the renewal task with it, goes away mid-request.
    drop(first_runtime);

    let second_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let start = Instant::now();
    let handed = second_runtime.block_on(access_tokens(&manager, 100));
    // Taken over at once, not after the abandoned request's 2 s.
    let took = start.elapsed();
    assert!(took < Duration::from_secs(1), "{took:?}");
    let new = handed[0].expose_secret();
    assert_ne!(new, first.access_token().expose_secret());
    assert!(handed.iter().all(|t| t.expose_secret() == new));
    assert_eq!(expiry.server.request_count("/token"), 2);
}

#[tokio::test]
async fn dropping_the_polling_future_stops_polling() {
    let server = MockServer::builder()
        .client(MockClient::new("tv"))
        .device_interval(1)
        .start();
    let client = Client::builder("tv")
        .token_endpoint(server.token_endpoint())
        .device_authorization_endpoint(server.device_authorization_endpoint())
        .build()
        .unwrap();
    let transport = Transport::new();
    let asked = client.device_authorization().unwrap();
    let auth = transport.send(asked).await.unwrap();
    let polling = transport.poll_device(auth.poller(&client).unwrap());
    // One poll at 1 s (pending), cancelled halfway to the next.
    let outcome = tokio::time::timeout(Duration::from_millis(1500), polling).await;
    assert!(outcome.is_err(), "{outcome:?}");
    assert_eq!(server.request_count("/token"), 1);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(server.request_count("/token"), 1);
}
