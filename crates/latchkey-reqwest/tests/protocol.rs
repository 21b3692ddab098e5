//! The RFCs past RFC 6749 through the async adapter, against latchkey-mock: discovery
//! (RFC 8414 and OpenID), device polling (RFC 8628) with cancellation, revocation (RFC 7009)
//! and introspection (RFC 7662), PAR (RFC 9126) with `iss` (RFC 9207), token exchange
//! (RFC 8693) and resource indicators (RFC 8707).

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use latchkey::{
    CallbackError, Client, Discovery, Error, ErrorCode, ResponseError, ServerMetadata, TokenType,
    WellKnown, token_types,
};
use latchkey_mock::{Fault, GrantType, MockClient, MockServer, MockServerBuilder};
use latchkey_reqwest::{DeviceWait, Transport};

const SECRET: &str = "reqwest-protocol-secret-7a2c";
const API: &str = "https://api.example/";
const REDIRECT: &str = "http://127.0.0.1:9/callback";

fn builder() -> MockServerBuilder {
    MockServer::builder()
        .client(MockClient::new("app").secret(SECRET).grant_types([
            GrantType::AuthorizationCode,
            GrantType::ClientCredentials,
            GrantType::TokenExchange,
        ]))
        .client(MockClient::new("tv"))
        .device_interval(1)
}

async fn discover(issuer: &str, kind: WellKnown) -> Result<ServerMetadata, Error> {
    Transport::new()
        .send(Discovery::new(issuer, kind).unwrap())
        .await
}

/// A client built from the server's metadata, as `--issuer` does.
async fn client(server: &MockServer, id: &str) -> Client {
    let metadata = discover(&server.issuer(), WellKnown::OpenIdConfiguration)
        .await
        .unwrap();
    let mut builder = Client::builder(id)
        .metadata(&metadata)
        .redirect_uri(REDIRECT);
    if id == "app" {
        builder = builder.client_secret(SECRET);
    }
    builder.build().unwrap()
}

/// Follows the authorization URL to the mock and returns where it redirects.
async fn visit(url: &str) -> String {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap();
    let response = http.get(url).send().await.unwrap();
    assert_eq!(response.status(), 302);
    response.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn discovery_at_both_well_known_paths_with_an_exact_issuer() {
    let server = builder().start();
    for kind in [
        WellKnown::OAuthAuthorizationServer,
        WellKnown::OpenIdConfiguration,
    ] {
        let metadata = discover(&server.issuer(), kind).await.unwrap();
        assert_eq!(metadata.issuer, server.issuer());
        assert_eq!(
            metadata.introspection_endpoint,
            Some(server.introspection_endpoint())
        );
    }
    let err = discover(
        &format!("{}/", server.issuer()),
        WellKnown::OpenIdConfiguration,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Response(ResponseError::InvalidField {
                field: "issuer",
                ..
            })
        ),
        "{err:?}"
    );
    let tenant = MockServer::builder().issuer_path("/tenant/7").start();
    for kind in [
        WellKnown::OAuthAuthorizationServer,
        WellKnown::OpenIdConfiguration,
    ] {
        assert_eq!(
            discover(&tenant.issuer(), kind).await.unwrap().issuer,
            tenant.issuer()
        );
    }
}

#[tokio::test]
async fn device_flow_polls_until_the_user_approves() {
    let server = Arc::new(builder().start());
    let client = client(&server, "tv").await;
    let transport = Transport::new();
    let auth = transport
        .send(client.device_authorization().unwrap().scope("read"))
        .await
        .unwrap();
    let approver = {
        let server = Arc::clone(&server);
        let user_code = auth.user_code.clone();
        tokio::spawn(async move {
            while server.request_count("/token") == 0 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            assert!(server.approve_device(&user_code));
        })
    };
    let waits = Arc::new(Mutex::new(Vec::<DeviceWait>::new()));
    let seen = Arc::clone(&waits);
    // The polling future is Send: it runs in a task of its own.
    let poll = auth.poller(&client).unwrap();
    let polling = tokio::spawn(async move {
        transport
            .poll_device_with(poll, move |w| seen.lock().unwrap().push(w))
            .await
    });
    let tokens = polling.await.unwrap().unwrap();
    approver.await.unwrap();
    assert_eq!(tokens.scope(), Some("read"));
    assert_eq!(server.request_count("/token"), 2);
    let waits = waits.lock().unwrap();
    assert_eq!(waits[0].polls, 0);
    assert_eq!(waits[0].interval, Duration::from_secs(1));
    assert!(waits.iter().any(|w| w.polls == 1));
}

#[tokio::test]
async fn device_flow_denied_or_expired() {
    let server = builder().device_code_expires_in(2).start();
    let client = client(&server, "tv").await;
    let transport = Transport::new();
    let auth = transport
        .send(client.device_authorization().unwrap())
        .await
        .unwrap();
    assert!(server.deny_device(&auth.user_code));
    let err = transport
        .poll_device(auth.poller(&client).unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.server_code(), Some(&ErrorCode::AccessDenied));

    let start = Instant::now();
    let auth = transport
        .send(client.device_authorization().unwrap())
        .await
        .unwrap();
    match transport.poll_device(auth.poller(&client).unwrap()).await {
        Err(Error::Server(e)) => {
            assert_eq!(e.code, ErrorCode::ExpiredToken);
            assert_eq!(e.status, None);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn device_flow_slows_down_when_told() {
    let server = builder().start();
    let client = client(&server, "tv").await;
    let transport = Transport::new();
    let auth = transport
        .send(client.device_authorization().unwrap())
        .await
        .unwrap();
    assert!(server.approve_device(&auth.user_code));
    server.inject(
        "/token",
        Fault::body(400, "application/json", r#"{"error":"slow_down"}"#),
        1,
    );
    let mut intervals = Vec::new();
    transport
        .poll_device_with(auth.poller(&client).unwrap(), |w| {
            intervals.push(w.interval);
        })
        .await
        .unwrap();
    assert_eq!(intervals.last(), Some(&Duration::from_secs(6)));
    assert_eq!(server.request_count("/token"), 2);
}

#[tokio::test]
async fn dropping_the_polling_future_stops_polling() {
    let server = builder().start();
    let client = client(&server, "tv").await;
    let transport = Transport::new();
    let auth = transport
        .send(client.device_authorization().unwrap())
        .await
        .unwrap();
    let polling = transport.poll_device(auth.poller(&client).unwrap());
    // One poll at 1 s (pending), cancelled halfway to the next.
    let outcome = tokio::time::timeout(Duration::from_millis(1500), polling).await;
    assert!(outcome.is_err(), "{outcome:?}");
    assert_eq!(server.request_count("/token"), 1);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(server.request_count("/token"), 1);
}

#[test]
fn the_polling_future_is_send() {
    fn send<F: Future + Send>(_: F) {}
    let server = builder().start();
    let client = Client::builder("tv")
        .token_endpoint(server.token_endpoint())
        .device_authorization_endpoint(server.device_authorization_endpoint())
        .build()
        .unwrap();
    let auth = latchkey::Exchange::response(
        client.device_authorization().unwrap(),
        latchkey::Response::json(
            200,
            r#"{"device_code":"d","user_code":"u","verification_uri":"https://x/","expires_in":60}"#,
            std::time::SystemTime::now(),
        ),
    )
    .unwrap();
    let transport = Transport::new();
    send(transport.poll_device(auth.poller(&client).unwrap()));
    send(transport.poll_device_with(auth.poller(&client).unwrap(), |_| {}));
}

#[tokio::test]
async fn revocation_then_introspection() {
    let server = builder().start();
    let client = client(&server, "app").await;
    let transport = Transport::new();
    let tokens = transport
        .send(client.client_credentials().unwrap().scope("read"))
        .await
        .unwrap();
    let live = transport
        .send(client.introspect(tokens.access_token()).unwrap())
        .await
        .unwrap();
    assert!(live.active);
    assert_eq!(live.scope.as_deref(), Some("read"));
    transport
        .send(client.revoke(tokens.access_token()).unwrap())
        .await
        .unwrap();
    let dead = transport
        .send(client.introspect(tokens.access_token()).unwrap())
        .await
        .unwrap();
    assert!(!dead.active);
}

#[tokio::test]
async fn pushed_authorization_with_iss_checked() {
    let server = builder()
        .require_pushed_authorization_requests(true)
        .start();
    let client = client(&server, "app").await;
    let transport = Transport::new();
    assert!(client.requires_pushed_authorization());
    let (url, pending) = transport
        .send(client.authorization_code().scope("openid").push().unwrap())
        .await
        .unwrap();
    let callback = visit(url.as_str()).await;
    assert!(callback.contains("&iss="), "{callback}");
    let tokens = transport
        .send(pending.callback(&client, &callback).unwrap())
        .await
        .unwrap();
    assert_eq!(tokens.scope(), Some("openid"));

    let (url, pending) = transport
        .send(client.authorization_code().push().unwrap())
        .await
        .unwrap();
    let callback = visit(url.as_str()).await;
    let forged = format!(
        "{}&iss=https%3A%2F%2Fevil.example",
        callback.split("&iss=").next().unwrap()
    );
    let err = pending.callback(&client, &forged).unwrap_err();
    assert_eq!(err, Error::Callback(CallbackError::IssuerMismatch));
}

#[tokio::test]
async fn token_exchange_and_resource_indicators() {
    let server = builder().start();
    let client = client(&server, "app").await;
    let transport = Transport::new();
    let subject = transport
        .send(client.client_credentials().unwrap().resource(API))
        .await
        .unwrap();
    let exchanged = transport
        .send(
            client
                .token_exchange(
                    subject.access_token().expose_secret(),
                    token_types::ACCESS_TOKEN,
                )
                .unwrap()
                .audience("backend"),
        )
        .await
        .unwrap();
    assert_eq!(
        exchanged.issued_token_type(),
        Some(token_types::ACCESS_TOKEN)
    );
    assert_eq!(exchanged.token_type(), &TokenType::Bearer);
    let introspection = transport
        .send(client.introspect(exchanged.access_token()).unwrap())
        .await
        .unwrap();
    assert_eq!(introspection.aud, ["backend"]);
    let err = transport
        .send(
            client
                .client_credentials()
                .unwrap()
                .resource("https://a.example/#f"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.server_code(), Some(&ErrorCode::InvalidTarget));
}
