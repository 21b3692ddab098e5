//! The RFCs past RFC 6749 through the blocking adapter, against latchkey-mock: discovery
//! (RFC 8414 and OpenID), device polling (RFC 8628), revocation (RFC 7009) and introspection
//! (RFC 7662), PAR (RFC 9126) with `iss` (RFC 9207), token exchange (RFC 8693) and resource
//! indicators (RFC 8707).

use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use latchkey::{
    AccessToken, CallbackError, Client, ClientAuth, Discovery, Error, ErrorCode, ResponseError,
    ServerMetadata, TokenType, WellKnown, token_types,
};
use latchkey_mock::{Fault, GrantType, MockClient, MockServer, MockServerBuilder};
use latchkey_ureq::{DeviceWait, Transport};

const SECRET: &str = "ureq-protocol-secret-4e1b";
const API: &str = "https://api.example/";
const REDIRECT: &str = "http://127.0.0.1:9/callback";

fn builder() -> MockServerBuilder {
    MockServer::builder()
        .client(MockClient::new("app").secret(SECRET).grant_types([
            GrantType::AuthorizationCode,
            GrantType::ClientCredentials,
            GrantType::RefreshToken,
            GrantType::TokenExchange,
        ]))
        .client(MockClient::new("tv"))
        .device_interval(1)
}

fn discover(transport: &Transport, issuer: &str) -> ServerMetadata {
    transport
        .send(Discovery::new(issuer, WellKnown::OAuthAuthorizationServer).unwrap())
        .unwrap()
}

/// A client built from the server's metadata, as `--issuer` does.
fn client_for(server: &MockServer, id: &str) -> Client {
    let metadata = discover(&Transport::new(), &server.issuer());
    let mut builder = Client::builder(id)
        .metadata(&metadata)
        .redirect_uri(REDIRECT);
    if id == "app" {
        builder = builder.client_secret(SECRET);
    }
    builder.build().unwrap()
}

/// Follows the authorization URL to the mock and returns where it redirects.
fn visit(url: &str) -> String {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .proxy(None)
        .build()
        .into();
    let response = agent.get(url).call().unwrap();
    assert_eq!(response.status(), 302);
    response.headers()["location"].to_str().unwrap().to_owned()
}

#[test]
fn discovery_at_both_well_known_paths_with_an_exact_issuer() {
    let server = builder().start();
    let transport = Transport::new();
    for kind in [
        WellKnown::OAuthAuthorizationServer,
        WellKnown::OpenIdConfiguration,
    ] {
        let metadata = transport
            .send(Discovery::new(&server.issuer(), kind).unwrap())
            .unwrap();
        assert_eq!(metadata.issuer, server.issuer());
        assert_eq!(
            metadata.device_authorization_endpoint,
            Some(server.device_authorization_endpoint())
        );
        assert!(metadata.authorization_response_iss_parameter_supported);
    }
    // `http://127.0.0.1:PORT/` is not `http://127.0.0.1:PORT` (RFC 8414 §3.3).
    let err = transport
        .send(
            Discovery::new(
                &format!("{}/", server.issuer()),
                WellKnown::OAuthAuthorizationServer,
            )
            .unwrap(),
        )
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
    // An issuer with a path: RFC 8414 inserts the well-known segment before it.
    let tenant = MockServer::builder().issuer_path("/tenant/7").start();
    assert_eq!(
        discover(&transport, &tenant.issuer()).issuer,
        tenant.issuer()
    );
    // A client from the metadata: endpoints, Basic (listed first), `iss` required.
    let client = client_for(&server, "app");
    assert_eq!(client.auth_method(), ClientAuth::Basic);
    assert!(client.dialect().require_iss);
    assert_eq!(client.issuer(), Some(server.issuer().as_str()));
    assert!(!client.requires_pushed_authorization());
}

#[test]
fn device_flow_polls_until_the_user_approves() {
    let server = Arc::new(builder().start());
    let client = client_for(&server, "tv");
    let transport = Transport::new();
    let auth = transport
        .send(
            client
                .device_authorization()
                .unwrap()
                .scope("read")
                .resource(API),
        )
        .unwrap();
    assert_eq!(auth.interval, Duration::from_secs(1));
    assert!(
        auth.verification_uri_complete
            .as_deref()
            .unwrap()
            .ends_with(&auth.user_code)
    );
    // The user approves once the device has polled (and been told to wait) once.
    let approver = {
        let server = Arc::clone(&server);
        let user_code = auth.user_code.clone();
        thread::spawn(move || {
            while server.request_count("/token") == 0 {
                thread::sleep(Duration::from_millis(20));
            }
            assert!(server.approve_device(&user_code));
        })
    };
    let waits = Mutex::new(Vec::<DeviceWait>::new());
    let tokens = transport
        .poll_device_with(auth.poller(&client).unwrap(), |w| {
            waits.lock().unwrap().push(w);
        })
        .unwrap();
    approver.join().unwrap();
    assert_eq!(tokens.scope(), Some("read"));
    assert_eq!(server.request_count("/token"), 2);
    let waits = waits.into_inner().unwrap();
    let first = waits[0];
    assert_eq!(first.polls, 0);
    assert_eq!(first.interval, Duration::from_secs(1));
    assert!(first.next_poll <= Duration::from_secs(1));
    assert!(first.expires_in > Duration::from_secs(590));
    assert!(waits.iter().any(|w| w.polls == 1));
    // The introspected token carries the resource.
    let confidential = client_for(&server, "app");
    let introspection = transport
        .send(confidential.introspect(tokens.access_token()).unwrap())
        .unwrap();
    assert_eq!(introspection.aud, [API]);
}

#[test]
fn device_flow_denied_or_expired() {
    let server = builder().device_code_expires_in(2).start();
    let client = client_for(&server, "tv");
    let transport = Transport::new();
    let auth = transport
        .send(client.device_authorization().unwrap())
        .unwrap();
    assert!(server.deny_device(&auth.user_code));
    let err = transport
        .poll_device(auth.poller(&client).unwrap())
        .unwrap_err();
    assert_eq!(err.server_code(), Some(&ErrorCode::AccessDenied));

    // Nobody answers: polling stops at the deadline with expired_token and no HTTP status.
    let start = Instant::now();
    let auth = transport
        .send(client.device_authorization().unwrap())
        .unwrap();
    match transport.poll_device(auth.poller(&client).unwrap()) {
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

#[test]
fn device_flow_slows_down_when_told() {
    let server = builder().start();
    let client = client_for(&server, "tv");
    let transport = Transport::new();
    let auth = transport
        .send(client.device_authorization().unwrap())
        .unwrap();
    assert!(server.approve_device(&auth.user_code));
    server.inject(
        "/token",
        Fault::body(400, "application/json", r#"{"error":"slow_down"}"#),
        1,
    );
    let mut intervals = Vec::new();
    let start = Instant::now();
    transport
        .poll_device_with(auth.poller(&client).unwrap(), |w| {
            intervals.push(w.interval)
        })
        .unwrap();
    assert_eq!(intervals.last(), Some(&Duration::from_secs(6)));
    assert!(
        start.elapsed() >= Duration::from_secs(7),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn revocation_then_introspection() {
    let server = builder().start();
    let client = client_for(&server, "app");
    let transport = Transport::new();
    let tokens = transport
        .send(client.client_credentials().unwrap().scope("read"))
        .unwrap();
    let live = transport
        .send(client.introspect(tokens.access_token()).unwrap())
        .unwrap();
    assert!(live.active);
    assert_eq!(live.scope.as_deref(), Some("read"));
    assert_eq!(live.client_id.as_deref(), Some("app"));
    assert_eq!(live.iss, Some(server.issuer()));
    transport
        .send(client.revoke(tokens.access_token()).unwrap())
        .unwrap();
    let revoked = server.requests_to("/revoke");
    assert_eq!(revoked[0].param("token_type_hint"), Some("access_token"));
    let dead = transport
        .send(
            client
                .introspect(tokens.access_token())
                .unwrap()
                .without_hint(),
        )
        .unwrap();
    assert!(!dead.active);
    // Revoking an unknown token is fine (RFC 7009 §2.2); a wrong secret is not.
    transport
        .send(client.revoke(&AccessToken::new("zzz")).unwrap())
        .unwrap();
    let wrong = Client::builder("app")
        .client_secret("wrong")
        .metadata(&discover(&transport, &server.issuer()))
        .build()
        .unwrap();
    let err = transport
        .send(wrong.revoke(tokens.access_token()).unwrap())
        .unwrap_err();
    assert_eq!(err.server_code(), Some(&ErrorCode::InvalidClient));
}

#[test]
fn pushed_authorization_with_iss_checked() {
    let server = builder()
        .require_pushed_authorization_requests(true)
        .start();
    let client = client_for(&server, "app");
    let transport = Transport::new();
    assert!(client.requires_pushed_authorization());

    let (url, pending) = transport
        .send(client.authorization_code().scope("openid").push().unwrap())
        .unwrap();
    assert!(url.as_str().contains("request_uri="), "{url}");
    assert!(!url.as_str().contains("code_challenge"), "{url}");
    let callback = visit(url.as_str());
    let tokens = transport
        .send(pending.callback(&client, &callback).unwrap())
        .unwrap();
    assert_eq!(tokens.scope(), Some("openid"));
    assert_eq!(tokens.token_type(), &TokenType::Bearer);

    // A forged or missing `iss` is refused (mix-up defence).
    for (from, to) in [
        (
            format!("iss={}", enc(&server.issuer())),
            "iss=https%3A%2F%2Fevil.example".to_owned(),
        ),
        (format!("&iss={}", enc(&server.issuer())), String::new()),
    ] {
        let (url, pending) = transport
            .send(client.authorization_code().push().unwrap())
            .unwrap();
        let callback = visit(url.as_str()).replace(&from, &to);
        let err = pending.callback(&client, &callback).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Callback(CallbackError::IssuerMismatch | CallbackError::MissingIssuer)
            ),
            "{err:?}"
        );
    }

    // Without PAR, this server redirects back with an error (iss checked first).
    let (url, pending) = client.authorization_code().build().unwrap();
    let err = pending.callback(&client, &visit(url.as_str())).unwrap_err();
    assert_eq!(err.server_code(), Some(&ErrorCode::InvalidRequest));
}

/// Percent-encodes an `http://host:port` issuer the way the mock puts it in a query.
fn enc(s: &str) -> String {
    s.replace(':', "%3A").replace('/', "%2F")
}

#[test]
fn token_exchange_and_resource_indicators() {
    let server = builder().start();
    let client = client_for(&server, "app");
    let transport = Transport::new();
    let subject = transport
        .send(
            client
                .client_credentials()
                .unwrap()
                .resource(API)
                .scope("read"),
        )
        .unwrap();
    let introspection = transport
        .send(client.introspect(subject.access_token()).unwrap())
        .unwrap();
    assert_eq!(introspection.aud, [API]);

    let exchanged = transport
        .send(
            client
                .token_exchange(
                    subject.access_token().expose_secret(),
                    token_types::ACCESS_TOKEN,
                )
                .unwrap()
                .resource(API)
                .audience("backend"),
        )
        .unwrap();
    assert_eq!(
        exchanged.issued_token_type(),
        Some(token_types::ACCESS_TOKEN)
    );
    assert_eq!(exchanged.token_type(), &TokenType::Bearer);
    let introspection = transport
        .send(client.introspect(exchanged.access_token()).unwrap())
        .unwrap();
    assert_eq!(introspection.aud, [API, "backend"]);

    let refresh = transport
        .send(
            client
                .token_exchange(
                    subject.access_token().expose_secret(),
                    token_types::ACCESS_TOKEN,
                )
                .unwrap()
                .actor(
                    exchanged.access_token().expose_secret(),
                    token_types::ACCESS_TOKEN,
                )
                .requested_token_type(token_types::REFRESH_TOKEN),
        )
        .unwrap();
    assert_eq!(
        refresh.issued_token_type(),
        Some(token_types::REFRESH_TOKEN)
    );
    assert_eq!(refresh.token_type(), &TokenType::Other("N_A".into()));

    let err = transport
        .send(
            client
                .token_exchange("not-a-token", token_types::ACCESS_TOKEN)
                .unwrap(),
        )
        .unwrap_err();
    assert_eq!(err.server_code(), Some(&ErrorCode::InvalidRequest));
    let err = transport
        .send(client.client_credentials().unwrap().resource("relative"))
        .unwrap_err();
    assert_eq!(err.server_code(), Some(&ErrorCode::InvalidTarget));
}
