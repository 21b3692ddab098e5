//! The record of requests, and clearing it.

use crate::common::*;
use crate::fixtures::*;
#[test]
fn recording_and_clearing() {
    let server = providers();
    let auth = basic("basic", ODD_SECRET);
    post_form_basic(
        &server.token_endpoint(),
        &auth,
        &[("grant_type", "client_credentials"), ("scope", "a b")],
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/token");
    assert_eq!(r.query, None);
    assert_eq!(r.header("Authorization"), Some(auth.as_str()));
    assert_eq!(r.body_text(), "grant_type=client_credentials&scope=a+b");
    assert_eq!(
        r.params,
        vec![
            ("grant_type".to_owned(), "client_credentials".to_owned()),
            ("scope".to_owned(), "a b".to_owned())
        ]
    );
    assert_eq!(server.request_count("/token"), 1);
    server.clear_requests();
    assert!(server.requests().is_empty());
    assert_eq!(server.request_count("/token"), 0);
}
