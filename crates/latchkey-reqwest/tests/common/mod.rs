//! Helpers for the token manager tests: the shared ones, and a login at the mock.

#![allow(dead_code, unreachable_pub)]

#[path = "../../../latchkey-ureq/tests/common/shared.rs"]
mod shared;
pub use shared::*;

/// `GET /authorize` without following the redirect; the `Location` it answers with.
pub async fn visit(url: &str) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap();
    let response = client.get(url).send().await.expect("GET /authorize");
    assert_eq!(response.status().as_u16(), 302);
    response
        .headers()
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned()
}
