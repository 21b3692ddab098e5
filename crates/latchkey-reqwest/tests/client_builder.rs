//! What is specific to the reqwest adapter: a caller's client builder. It cannot weaken the
//! safety settings: its redirect policy is replaced, and error statuses stay answers.
//! Everything both adapters share is in `latchkey-conformance`.

mod common;

use common::fixture::{self, client, rotating_server};
use latchkey::Exchange;
use latchkey_mock::{Fault, MockServer};
use latchkey_reqwest::Transport;

#[tokio::test]
async fn a_caller_builder_never_follows_redirects() {
    let (server, target) = (rotating_server(), MockServer::start());
    let follows = reqwest::redirect::Policy::limited(10);
    let builder = reqwest::Client::builder().redirect(follows);
    let transport = Transport::builder().client_builder(builder).build();
    server.inject("/token", Fault::redirect(302, target.token_endpoint()), 1);
    let redirected = transport.send(client(&server).client_credentials().unwrap());
    fixture::assert_redirect_refused(redirected.await, 302, &target);

    // Error statuses are answers, with their headers.
    let app = client(&server);
    let tokens = transport.send(app.client_credentials().unwrap()).await;
    server.revoke_all_tokens();
    let refused = app.userinfo(tokens.unwrap().access_token()).unwrap();
    let response = transport.execute(&refused.request().unwrap()).await;
    let response = response.unwrap();
    assert_eq!(response.status, 401);
    assert!(response.headers.get("www-authenticate").is_some());
}
