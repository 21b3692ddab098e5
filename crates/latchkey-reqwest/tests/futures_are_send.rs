//! Every future of the async adapter is `Send`, so that it can run in `tokio::spawn`: the
//! transport's, the device polling's, and the token manager's.

use std::future::Future;
use std::time::SystemTime;

use latchkey::{
    AccessToken, Client, Exchange, Lifecycle, RefreshToken, Response, TokenSet, TokenSource,
    TokenType,
};
use latchkey_reqwest::{TokenManager, Transport};

fn send<F: Future + Send>(_: F) {}

fn client() -> Client {
    Client::builder("app")
        .client_secret("futures-secret-8c2d")
        .authorization_endpoint("http://127.0.0.1:9/authorize")
        .token_endpoint("http://127.0.0.1:9/token")
        .userinfo_endpoint("http://127.0.0.1:9/userinfo")
        .device_authorization_endpoint("http://127.0.0.1:9/device")
        .redirect_uri("http://127.0.0.1:9/callback")
        .build()
        .unwrap()
}

#[test]
fn every_transport_future_is_send() {
    let client = client();
    let transport = Transport::new();
    let (_, pending) = client.authorization_code().build().unwrap();
    let state = pending.state().as_str().to_owned();
    let callback = format!("http://127.0.0.1:9/callback?code=c&state={state}");
    let code = pending.callback(&client, &callback).unwrap();
    send(transport.send(code));
    send(transport.send(client.client_credentials().unwrap()));
    send(transport.send(client.refresh(&RefreshToken::new("r")).unwrap()));
    let userinfo = client.userinfo(&AccessToken::new("a")).unwrap();
    let request = userinfo.request().unwrap();
    send(transport.send(userinfo));
    send(transport.execute(&request));
}

#[test]
fn the_polling_future_is_send() {
    let client = client();
    let answer = Response::json(
        200,
        r#"{"device_code":"d","user_code":"u","verification_uri":"https://x/","expires_in":60}"#,
        SystemTime::now(),
    );
    let auth = client
        .device_authorization()
        .unwrap()
        .response(answer)
        .unwrap();
    let transport = Transport::new();
    send(transport.poll_device(auth.poller(&client).unwrap()));
    send(transport.poll_device_with(auth.poller(&client).unwrap(), |_| {}));
}

#[test]
fn every_manager_future_is_send() {
    let client = client();
    let transport = Transport::new();
    let userinfo = client.userinfo(&AccessToken::new("a")).unwrap();
    let request = userinfo.request().unwrap();
    let manager = TokenManager::new(transport, Lifecycle::new(client, TokenSource::User));
    send(manager.access_token());
    send(manager.force_refresh());
    send(manager.execute(&request));
    let tokens = TokenSet::new(AccessToken::new("a"), TokenType::Bearer);
    send(manager.set_tokens(tokens));
}
