//! The RFCs past RFC 6749 through each adapter: discovery (RFC 8414 and OpenID), device
//! polling (RFC 8628), revocation (RFC 7009) and introspection (RFC 7662), PAR (RFC 9126)
//! with `iss` (RFC 9207), token exchange (RFC 8693) and resource indicators (RFC 8707).
//!
//! The device cases keep to the mock's fastest interval (1 s) and a 2 s code lifetime.

use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use latchkey::{
    AccessToken, CallbackError, Client, ClientAuth, DeviceAuthorization, DeviceWait, Discovery,
    Error, ErrorCode, ResponseError, ServerMetadata, TokenType, WellKnown, token_types,
};
use latchkey_mock::{Fault, GrantType, MockClient, MockServer, MockServerBuilder};

use super::{REDIRECT, SECRET};
use crate::fixture::visit;
use crate::{Driver, Session};

const API: &str = "https://api.example/";

/// A mock with a confidential `app` (code, client credentials, refresh, token exchange) and
/// a public `tv` polling every second.
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

fn discover<D: Driver>(s: &Session<D>, issuer: &str, kind: WellKnown) -> ServerMetadata {
    s.send(Discovery::new(issuer, kind).unwrap()).unwrap()
}

/// A client built from the server's metadata, as `--issuer` does.
fn client_for<D: Driver>(s: &Session<D>, server: &MockServer, id: &str) -> Client {
    s.secret(SECRET);
    let metadata = discover(s, &server.issuer(), WellKnown::OAuthAuthorizationServer);
    let mut builder = Client::builder(id)
        .metadata(&metadata)
        .redirect_uri(REDIRECT);
    if id == "app" {
        builder = builder.client_secret(SECRET);
    }
    builder.build().unwrap()
}

/// Asks for a device code, registering it as a secret.
fn device<D: Driver>(s: &Session<D>, client: &Client) -> DeviceAuthorization {
    let auth = s.send(client.device_authorization().unwrap()).unwrap();
    s.secret(auth.device_code.expose_secret());
    auth
}

/// Metadata at both well-known paths with the exact issuer (`/` at the end is another
/// issuer, RFC 8414 §3.3), an issuer with a path, and a client built from the metadata.
pub fn discovery_at_both_well_known_paths_with_an_exact_issuer<D: Driver>() {
    let server = builder().start();
    let s = Session::<D>::new();
    let kinds = [
        WellKnown::OAuthAuthorizationServer,
        WellKnown::OpenIdConfiguration,
    ];
    for kind in kinds {
        let metadata = discover(&s, &server.issuer(), kind);
        assert_eq!(metadata.issuer, server.issuer());
        assert_eq!(
            metadata.device_authorization_endpoint,
            Some(server.device_authorization_endpoint())
        );
        assert_eq!(
            metadata.introspection_endpoint,
            Some(server.introspection_endpoint())
        );
        assert!(metadata.authorization_response_iss_parameter_supported);
    }
    let slash = format!("{}/", server.issuer());
    let err = s
        .send(Discovery::new(&slash, WellKnown::OpenIdConfiguration).unwrap())
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
    // RFC 8414 puts the well-known segment before the issuer's path.
    let tenant = MockServer::builder().issuer_path("/tenant/7").start();
    for kind in kinds {
        assert_eq!(discover(&s, &tenant.issuer(), kind).issuer, tenant.issuer());
    }
    // Basic (listed first), `iss` required.
    let client = client_for(&s, &server, "app");
    assert_eq!(client.auth_method(), ClientAuth::Basic);
    assert!(client.dialect().require_iss);
    assert_eq!(client.issuer(), Some(server.issuer().as_str()));
    assert!(!client.requires_pushed_authorization());
}

/// The device polls, is told to wait, and gets its tokens once the user approves; the
/// progress hook hears of every wait; the token carries the resource asked for.
pub fn device_flow_polls_until_the_user_approves<D: Driver>() {
    let server = Arc::new(builder().start());
    let s = Session::<D>::new();
    let client = client_for(&s, &server, "tv");
    let asked = client
        .device_authorization()
        .unwrap()
        .scope("read")
        .resource(API);
    let auth = s.send(asked).unwrap();
    s.secret(auth.device_code.expose_secret());
    assert_eq!(auth.interval, Duration::from_secs(1));
    let complete = auth.verification_uri_complete.as_deref().unwrap();
    assert!(complete.ends_with(&auth.user_code), "{complete}");
    // The user approves once the device has polled (and been told to wait) once.
    let approver = {
        let server = Arc::clone(&server);
        let user_code = auth.user_code.clone();
        thread::spawn(move || {
            while server.request_count("/token") == 0 {
                thread::sleep(Duration::from_millis(20));
            }
            server.approve_device(&user_code)
        })
    };
    let waits = Arc::new(Mutex::new(Vec::<DeviceWait>::new()));
    let seen = Arc::clone(&waits);
    let on_wait = move |w| seen.lock().unwrap().push(w);
    let tokens = s
        .poll_device_with(auth.poller(&client).unwrap(), on_wait)
        .unwrap();
    assert!(approver.join().unwrap(), "the user code was pending");
    assert_eq!(tokens.scope(), Some("read"));
    assert_eq!(server.request_count("/token"), 2);
    let waits = waits.lock().unwrap();
    let first = waits[0];
    assert_eq!(first.polls, 0);
    assert_eq!(first.interval, Duration::from_secs(1));
    assert!(first.next_poll <= Duration::from_secs(1));
    assert!(first.expires_in > Duration::from_secs(590));
    assert!(waits.iter().any(|w| w.polls == 1));
    let confidential = client_for(&s, &server, "app");
    let introspection = s
        .send(confidential.introspect(tokens.access_token()).unwrap())
        .unwrap();
    assert_eq!(introspection.aud, [API]);
}

/// The user refuses: `access_denied`. Nobody answers: polling stops at the code's expiry
/// with `expired_token` and no HTTP status, without waiting past it.
pub fn device_flow_denied_or_expired<D: Driver>() {
    let server = builder().device_code_expires_in(2).start();
    let s = Session::<D>::new();
    let client = client_for(&s, &server, "tv");
    let auth = device(&s, &client);
    assert!(server.deny_device(&auth.user_code));
    let err = s.poll_device(auth.poller(&client).unwrap()).unwrap_err();
    assert_eq!(err.server_code(), Some(&ErrorCode::AccessDenied));

    let start = Instant::now();
    let auth = device(&s, &client);
    match s.poll_device(auth.poller(&client).unwrap()) {
        Err(Error::Server(e)) => {
            assert_eq!(e.code, ErrorCode::ExpiredToken);
            assert_eq!(e.status, None);
        }
        other => panic!("{other:?}"),
    }
    let took = start.elapsed();
    assert!(took < Duration::from_secs(3), "{took:?}");
}

/// `slow_down` adds 5 s to the interval (RFC 8628 §3.5): the next poll comes 6 s later.
pub fn device_flow_slows_down_when_told<D: Driver>() {
    let server = builder().start();
    let s = Session::<D>::new();
    let client = client_for(&s, &server, "tv");
    let auth = device(&s, &client);
    assert!(server.approve_device(&auth.user_code));
    let slow_down = r#"{"error":"slow_down"}"#;
    server.inject("/token", Fault::body(400, "application/json", slow_down), 1);
    let intervals = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&intervals);
    let start = Instant::now();
    s.poll_device_with(auth.poller(&client).unwrap(), move |w| {
        seen.lock().unwrap().push(w.interval);
    })
    .unwrap();
    let took = start.elapsed();
    assert_eq!(
        intervals.lock().unwrap().last(),
        Some(&Duration::from_secs(6))
    );
    assert!(took >= Duration::from_secs(7), "{took:?}");
    assert_eq!(server.request_count("/token"), 2);
}

/// A live token introspects as active with its scope, client and issuer; revoked (with the
/// `access_token` hint), it is inactive. Revoking an unknown token is fine (RFC 7009 §2.2);
/// a wrong secret is not.
pub fn revocation_then_introspection<D: Driver>() {
    let server = builder().start();
    let s = Session::<D>::new();
    let client = client_for(&s, &server, "app");
    let tokens = s
        .send(client.client_credentials().unwrap().scope("read"))
        .unwrap();
    s.tokens(&tokens);
    let live = s
        .send(client.introspect(tokens.access_token()).unwrap())
        .unwrap();
    assert!(live.active);
    assert_eq!(live.scope.as_deref(), Some("read"));
    assert_eq!(live.client_id.as_deref(), Some("app"));
    assert_eq!(live.iss, Some(server.issuer()));
    s.send(client.revoke(tokens.access_token()).unwrap())
        .unwrap();
    let revoked = server.requests_to("/revoke");
    assert_eq!(revoked[0].param("token_type_hint"), Some("access_token"));
    let unhinted = client
        .introspect(tokens.access_token())
        .unwrap()
        .without_hint();
    assert!(!s.send(unhinted).unwrap().active);
    let unknown = AccessToken::new("unknown-token-zzz");
    s.send(client.revoke(&unknown).unwrap()).unwrap();
    let metadata = discover(&s, &server.issuer(), WellKnown::OAuthAuthorizationServer);
    let wrong = Client::builder("app")
        .client_secret("wrong-secret")
        .metadata(&metadata)
        .build()
        .unwrap();
    let err = s
        .send(wrong.revoke(tokens.access_token()).unwrap())
        .unwrap_err();
    assert_eq!(err.server_code(), Some(&ErrorCode::InvalidClient));
}

/// Percent-encodes an `http://host:port` issuer the way the mock puts it in a query.
fn enc(s: &str) -> String {
    s.replace(':', "%3A").replace('/', "%2F")
}

/// A pushed authorization request (no PKCE challenge in the URL), the callback's `iss`
/// checked: a forged or missing one is refused (mix-up defence); without PAR, a server
/// that requires it sends the user back with `invalid_request`.
pub fn pushed_authorization_with_iss_checked<D: Driver>() {
    let server = builder()
        .require_pushed_authorization_requests(true)
        .start();
    let s = Session::<D>::new();
    let client = client_for(&s, &server, "app");
    assert!(client.requires_pushed_authorization());
    let (url, pending) = s
        .send(client.authorization_code().scope("openid").push().unwrap())
        .unwrap();
    s.secret(pending.pkce_verifier().unwrap().expose_secret());
    assert!(url.as_str().contains("request_uri="), "{url}");
    assert!(!url.as_str().contains("code_challenge"), "{url}");
    let callback = visit(url.as_str());
    assert!(callback.contains("&iss="), "{callback}");
    let exchange = pending.callback(&client, &callback).unwrap();
    s.secret(exchange.code().expose_secret());
    let tokens = s.send(exchange).unwrap();
    s.tokens(&tokens);
    assert_eq!(tokens.scope(), Some("openid"));
    assert_eq!(tokens.token_type(), &TokenType::Bearer);

    let issuer = format!("iss={}", enc(&server.issuer()));
    for (from, to) in [
        (issuer.clone(), "iss=https%3A%2F%2Fevil.example".to_owned()),
        (format!("&{issuer}"), String::new()),
    ] {
        let (url, pending) = s.send(client.authorization_code().push().unwrap()).unwrap();
        let callback = visit(url.as_str()).replace(&from, &to);
        let err = pending.callback(&client, &callback).unwrap_err();
        let expected = if to.is_empty() {
            CallbackError::MissingIssuer
        } else {
            CallbackError::IssuerMismatch
        };
        assert_eq!(err, Error::Callback(expected));
    }

    let (url, pending) = client.authorization_code().build().unwrap();
    let err = pending.callback(&client, &visit(url.as_str())).unwrap_err();
    assert_eq!(err.server_code(), Some(&ErrorCode::InvalidRequest));
}

/// A token for a resource (RFC 8707) exchanged (RFC 8693) for one with another audience,
/// with and without the resource, and for a refresh token with an actor; a subject that is
/// no token, and a resource that is not an absolute URL without a fragment, are refused.
pub fn token_exchange_and_resource_indicators<D: Driver>() {
    let server = builder().start();
    let s = Session::<D>::new();
    let client = client_for(&s, &server, "app");
    let for_api = client
        .client_credentials()
        .unwrap()
        .resource(API)
        .scope("read");
    let subject = s.send(for_api).unwrap();
    s.tokens(&subject);
    let introspection = s
        .send(client.introspect(subject.access_token()).unwrap())
        .unwrap();
    assert_eq!(introspection.aud, [API]);

    let subject_token = subject.access_token().expose_secret();
    let exchange = || {
        client
            .token_exchange(subject_token, token_types::ACCESS_TOKEN)
            .unwrap()
    };
    let mut exchanged = Vec::new();
    for (resource, audience) in [(Some(API), vec![API, "backend"]), (None, vec!["backend"])] {
        let mut asked = exchange().audience("backend");
        if let Some(resource) = resource {
            asked = asked.resource(resource);
        }
        let tokens = s.send(asked).unwrap();
        s.tokens(&tokens);
        assert_eq!(tokens.issued_token_type(), Some(token_types::ACCESS_TOKEN));
        assert_eq!(tokens.token_type(), &TokenType::Bearer);
        let introspection = s
            .send(client.introspect(tokens.access_token()).unwrap())
            .unwrap();
        assert_eq!(introspection.aud, audience);
        exchanged.push(tokens);
    }

    let actor_token = exchanged[0].access_token().expose_secret();
    let refresh = s
        .send(
            exchange()
                .actor(actor_token, token_types::ACCESS_TOKEN)
                .requested_token_type(token_types::REFRESH_TOKEN),
        )
        .unwrap();
    s.tokens(&refresh);
    assert_eq!(
        refresh.issued_token_type(),
        Some(token_types::REFRESH_TOKEN)
    );
    assert_eq!(refresh.token_type(), &TokenType::Other("N_A".into()));

    let bogus = client
        .token_exchange("not-a-token", token_types::ACCESS_TOKEN)
        .unwrap();
    let err = s.send(bogus).unwrap_err();
    assert_eq!(err.server_code(), Some(&ErrorCode::InvalidRequest));
    for resource in ["relative", "https://a.example/#f"] {
        let asked = client.client_credentials().unwrap().resource(resource);
        let err = s.send(asked).unwrap_err();
        assert_eq!(
            err.server_code(),
            Some(&ErrorCode::InvalidTarget),
            "{resource}"
        );
    }
}
