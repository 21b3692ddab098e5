//! What is specific to the reqwest adapter: a caller's client builder cannot weaken the safety
//! settings, and every future is `Send`. Everything both adapters share is in
//! `latchkey-conformance`.

use std::future::Future;

use latchkey::{AccessToken, Client, Error, Exchange, RefreshToken, TransportErrorKind};
use latchkey_mock::{Fault, MockClient, MockServer};
use latchkey_reqwest::Transport;

const SECRET: &str = "reqwest-adapter-secret-8c2d";

fn client(server: &MockServer) -> Client {
    Client::builder("app")
        .client_secret(SECRET)
        .authorization_endpoint(server.authorization_endpoint())
        .token_endpoint(server.token_endpoint())
        .userinfo_endpoint(server.userinfo_endpoint())
        .redirect_uri("http://127.0.0.1:9/callback")
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_caller_builder_never_follows_redirects() {
    let server = MockServer::builder()
        .client(MockClient::new("app").secret(SECRET))
        .start();
    let target = MockServer::start();
    let builder = reqwest::Client::builder().redirect(reqwest::redirect::Policy::limited(10));
    let transport = Transport::builder().client_builder(builder).build();
    server.inject("/token", Fault::redirect(302, target.token_endpoint()), 1);
    match transport
        .send(client(&server).client_credentials().unwrap())
        .await
    {
        Err(Error::Transport(e)) => {
            assert_eq!(e.kind(), TransportErrorKind::Redirect { status: 302 });
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(target.requests().len(), 0);

    // Error statuses are answers, with their headers.
    let tokens = transport
        .send(client(&server).client_credentials().unwrap())
        .await
        .unwrap();
    server.revoke_all_tokens();
    let request = client(&server)
        .userinfo(tokens.access_token())
        .unwrap()
        .request()
        .unwrap();
    let response = transport.execute(&request).await.unwrap();
    assert_eq!(response.status, 401);
    assert!(response.headers.get("www-authenticate").is_some());
}

#[test]
fn every_future_is_send() {
    fn send<F: Future + Send>(_: F) {}
    let server = MockServer::start();
    let client = client(&server);
    let transport = Transport::new();
    let (_, pending) = client.authorization_code().build().unwrap();
    let state = pending.state().as_str().to_owned();
    let code = pending
        .callback(
            &client,
            &format!("http://127.0.0.1:9/callback?code=c&state={state}"),
        )
        .unwrap();
    send(transport.send(code));
    send(transport.send(client.client_credentials().unwrap()));
    send(transport.send(client.refresh(&RefreshToken::new("r")).unwrap()));
    let userinfo = client.userinfo(&AccessToken::new("a")).unwrap();
    let request = userinfo.request().unwrap();
    send(transport.send(userinfo));
    send(transport.execute(&request));
}

#[test]
fn transport_is_cheap_clone_debug_send_sync() {
    fn check<T: Clone + std::fmt::Debug + Send + Sync + Default + 'static>() {}
    check::<Transport>();
    let debug = format!("{:?}", Transport::builder().max_response_bytes(7).build());
    assert!(debug.contains("max_response_bytes: 7"), "{debug}");
    assert!(Transport::builder().try_build().is_ok());
}
