//! Helpers for the token manager tests: the shared ones, and a login at the mock.

#![allow(dead_code, unreachable_pub)]

#[path = "shared.rs"]
mod shared;
pub use shared::*;

/// `GET /authorize` without following the redirect; the `Location` it answers with.
pub fn visit(url: &str) -> String {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .max_redirects(0)
        .max_redirects_will_error(false)
        .http_status_as_error(false)
        .proxy(None)
        .build()
        .into();
    let response = agent.get(url).call().expect("GET /authorize");
    assert_eq!(response.status().as_u16(), 302);
    response
        .headers()
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned()
}
