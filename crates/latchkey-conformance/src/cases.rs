//! The conformance cases, each generic over a [`Driver`].
//!
//! Flows × dialects first, then faults, then what every transport is; the token managers'
//! cases are in `manager.rs`, the protocols past RFC 6749 in `protocol.rs`. Each case starts
//! its own [`MockServer`] (and, where it needs one, a tiny `std::net` server on loopback), so
//! cases run in parallel.

use std::fmt::Debug;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use latchkey::{
    AccessToken, AuthorizationRequest, BodyEncoding, Client, ClientAuth, ClientBuilder,
    CodeExchange, Error, ErrorCode, Exchange, Method, Request, ResponseError, RetryMode,
    RetryPolicy, State, TokenType, TransportErrorKind, Url,
};
use latchkey_mock::{AuthMethod, Encoding, Fault, MockClient, MockServer, ResponseStyle};

use crate::fixture::visit;
use crate::{Driver, Session, Settings};

mod dpop;
mod manager;
mod protocol;

pub use dpop::{
    dpop_client_credentials_answers_the_nonce_challenge_once,
    dpop_code_refresh_and_userinfo_are_bound_to_the_key, dpop_downgrade_to_bearer_is_refused,
    dpop_replayed_proof_is_refused, dpop_with_private_key_jwt_at_par_and_device_under_a_nonce,
    jwt_client_authentication_at_token_revocation_and_introspection,
    replayed_expired_or_misaddressed_assertions_are_refused,
};
pub use manager::{
    a_panicking_renewer_wedges_nobody, manager_execute_never_follows_a_redirect_with_the_token,
    manager_execute_never_sends_the_token_to_another_origin,
    manager_execute_renews_once_and_retries_once_after_invalid_token,
    manager_execute_retries_only_once, manager_execute_returns_other_answers_as_they_are,
    manager_execute_sends_the_bearer_token, manager_is_clone_send_sync_debug_without_secrets,
    reauthorize_until_set_tokens, the_store_is_written_before_any_caller_gets_the_token,
};
pub use protocol::{
    device_flow_denied_or_expired, device_flow_polls_until_the_user_approves,
    device_flow_slows_down_when_told, discovery_at_both_well_known_paths_with_an_exact_issuer,
    pushed_authorization_with_iss_checked, revocation_then_introspection,
    token_exchange_and_resource_indicators,
};

const SECRET: &str = "conformance-client-secret-41d7";
const REDIRECT: &str = "http://127.0.0.1:9/callback";
const AUDIENCE: &str = "https://api.conformance.example/";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A client builder pointed at the mock's endpoints.
fn endpoints(server: &MockServer, id: &str) -> ClientBuilder {
    Client::builder(id)
        .authorization_endpoint(server.authorization_endpoint())
        .token_endpoint(server.token_endpoint())
        .userinfo_endpoint(server.userinfo_endpoint())
        .redirect_uri(REDIRECT)
}

/// A confidential client registered with the mock under `id`.
fn confidential(id: &str) -> MockClient {
    MockClient::new(id).secret(SECRET)
}

/// Runs the authorization step at the mock and accepts the callback; registers the verifier
/// and the code as secrets.
fn authorize<D: Driver>(
    s: &Session<D>,
    client: &Client,
    request: AuthorizationRequest<'_>,
) -> CodeExchange {
    let (url, pending) = request.build().expect("authorization request");
    s.note(format!("{pending:?}"));
    if let Some(verifier) = pending.pkce_verifier() {
        s.secret(verifier.expose_secret());
    }
    let location = visit(url.as_str());
    let exchange = pending.callback(client, &location).expect("callback");
    s.secret(exchange.code().expose_secret());
    exchange
}

/// The transport error's kind and `Display`, or a panic naming what came instead.
fn transport_error<T: Debug>(result: Result<T, Error>) -> (TransportErrorKind, String) {
    match result {
        Err(Error::Transport(e)) => (e.kind(), e.to_string()),
        other => panic!("expected a transport error, got {other:?}"),
    }
}

/// The one request the mock saw at `path`.
fn only_request(server: &MockServer, path: &str) -> latchkey_mock::RecordedRequest {
    let mut requests = server.requests_to(path);
    assert_eq!(requests.len(), 1, "requests to {path}: {requests:?}");
    requests.remove(0)
}

/// Asserts a token set looks like the mock's: non-empty token, bearer, a lifetime.
fn assert_bearer(tokens: &latchkey::TokenSet, expires_in: u64) {
    assert!(!tokens.access_token().expose_secret().is_empty());
    assert_eq!(tokens.token_type(), &TokenType::Bearer);
    let expires_at = tokens.expires_at().expect("an expiry");
    let left = expires_at
        .duration_since(SystemTime::now())
        .expect("not expired");
    assert!(
        left <= Duration::from_secs(expires_in)
            && left + Duration::from_secs(60) >= Duration::from_secs(expires_in),
        "{left:?}"
    );
}

/// An exchange whose request asks for a lower response cap than the transport's.
#[derive(Debug)]
struct Capped<E>(E, u64);

impl<E: Exchange> Exchange for Capped<E> {
    type Output = E::Output;

    fn request(&self) -> Result<Request, Error> {
        let mut request = self.0.request()?;
        request.max_response_bytes = Some(self.1);
        Ok(request)
    }

    fn response(self, response: latchkey::Response) -> Result<E::Output, Error> {
        self.0.response(response)
    }
}

/// A loopback port with nothing listening on it.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// Reads one HTTP/1.1 request (headers and a `Content-Length` body) from `stream`.
fn read_request(stream: &TcpStream) {
    let mut reader = BufReader::new(stream);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
fn http_date(time: SystemTime) -> String {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let days = i64::try_from(secs / 86_400).expect("days");
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
        [usize::try_from(days % 7).expect("weekday")];
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{weekday}, {day:02} {} {year} {:02}:{:02}:{:02} GMT",
        months[usize::try_from(month - 1).expect("month")],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

// ---------------------------------------------------------------------------------------------
// Flows × dialects
// ---------------------------------------------------------------------------------------------

/// Authorization code + PKCE S256, public client (`none`), form body, Auth0-style answer with a
/// refresh token for `offline_access`.
pub fn code_pkce_public_form<D: Driver>() {
    let server = MockServer::builder()
        .client(MockClient::new("public-app").require_pkce(true))
        .start();
    let s = Session::<D>::new();
    let client = endpoints(&server, "public-app").build().unwrap();
    let exchange = authorize(
        &s,
        &client,
        client.authorization_code().scope("openid offline_access"),
    );
    let tokens = s.send(exchange).unwrap();
    s.tokens(&tokens);
    assert_bearer(&tokens, 3600);
    assert!(tokens.refresh_token().is_some());
    assert_eq!(tokens.scope(), Some("openid offline_access"));

    let seen = only_request(&server, "/token");
    assert_eq!(seen.encoding, Some(Encoding::Form));
    assert_eq!(seen.param("client_id"), Some("public-app"));
    assert!(seen.param("code_verifier").is_some());
    assert_eq!(seen.param("redirect_uri"), Some(REDIRECT));
    assert_eq!(seen.header("authorization"), None);
}

/// Authorization code, confidential client with HTTP Basic (`client_secret_basic`).
pub fn code_confidential_basic<D: Driver>() {
    let server = MockServer::builder()
        .client(confidential("basic-app"))
        .start();
    let s = Session::<D>::new();
    s.secret(SECRET);
    let client = endpoints(&server, "basic-app")
        .client_secret(SECRET)
        .build()
        .unwrap();
    let exchange = authorize(&s, &client, client.authorization_code().scope("read"));
    let tokens = s.send(exchange).unwrap();
    s.tokens(&tokens);
    assert_bearer(&tokens, 3600);

    let seen = only_request(&server, "/token");
    assert!(seen.header("authorization").unwrap().starts_with("Basic "));
    assert_eq!(seen.param("client_secret"), None);
}

/// Authorization code, `client_secret_post` in a JSON body, `audience` required on both the
/// authorization and the token request (Auth0 / Blooma).
pub fn code_post_json_audience<D: Driver>() {
    let server = MockServer::builder()
        .client(
            confidential("json-app")
                .auth_method(AuthMethod::Post)
                .encodings([Encoding::Json])
                .require_audience(AUDIENCE),
        )
        .start();
    let s = Session::<D>::new();
    s.secret(SECRET);
    let client = endpoints(&server, "json-app")
        .client_secret(SECRET)
        .auth_method(ClientAuth::Post)
        .body_encoding(BodyEncoding::Json)
        .audience(AUDIENCE)
        .build()
        .unwrap();
    let exchange = authorize(&s, &client, client.authorization_code());
    let tokens = s.send(exchange).unwrap();
    s.tokens(&tokens);
    assert_bearer(&tokens, 3600);

    let seen = only_request(&server, "/token");
    assert_eq!(seen.encoding, Some(Encoding::Json));
    assert_eq!(seen.param("audience"), Some(AUDIENCE));
    assert_eq!(seen.param("client_secret"), Some(SECRET));
    assert_eq!(seen.header("authorization"), None);
}

/// Authorization code, `client_secret_post` in a multipart body, Doorkeeper-style answer
/// (`token_type: bearer`, `created_at`, no `expires_in`) (Loop & Tie).
pub fn code_multipart_doorkeeper<D: Driver>() {
    let server = MockServer::builder()
        .client(
            confidential("doorkeeper-app")
                .auth_method(AuthMethod::Post)
                .encodings([Encoding::Multipart])
                .response_style(ResponseStyle::Doorkeeper),
        )
        .start();
    let s = Session::<D>::new();
    s.secret(SECRET);
    let client = endpoints(&server, "doorkeeper-app")
        .client_secret(SECRET)
        .auth_method(ClientAuth::Post)
        .body_encoding(BodyEncoding::Multipart)
        .build()
        .unwrap();
    let exchange = authorize(&s, &client, client.authorization_code().scope("public"));
    let tokens = s.send(exchange).unwrap();
    s.tokens(&tokens);
    assert_eq!(tokens.token_type(), &TokenType::Bearer);
    assert_eq!(tokens.expires_at(), None);
    let created_at = tokens.extra()["created_at"].as_u64().expect("created_at");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(created_at.abs_diff(now) < 60, "{created_at} vs {now}");
    assert_eq!(
        only_request(&server, "/token").encoding,
        Some(Encoding::Multipart)
    );
}

/// Authorization code, Clerk-style answer (`token_type: bearer`, refresh token always).
pub fn code_clerk_style<D: Driver>() {
    let server = MockServer::builder()
        .client(
            confidential("clerk-app")
                .auth_method(AuthMethod::Post)
                .response_style(ResponseStyle::Clerk)
                .expires_in(7200),
        )
        .start();
    let s = Session::<D>::new();
    s.secret(SECRET);
    let client = endpoints(&server, "clerk-app")
        .client_secret(SECRET)
        .auth_method(ClientAuth::Post)
        .build()
        .unwrap();
    let exchange = authorize(&s, &client, client.authorization_code().scope("email"));
    let tokens = s.send(exchange).unwrap();
    s.tokens(&tokens);
    assert_bearer(&tokens, 7200);
    assert!(tokens.refresh_token().is_some());
}

/// The implicit grant: the token comes in the `Location` fragment; the adapter then uses it at
/// the userinfo endpoint.
pub fn implicit_fragment_then_userinfo<D: Driver>() {
    let server = MockServer::builder()
        .client(MockClient::new("implicit-app"))
        .start();
    let s = Session::<D>::new();
    let client = endpoints(&server, "implicit-app").build().unwrap();
    let (url, pending) = client.implicit().scope("profile").build().unwrap();
    let location = visit(url.as_str());
    let fragment = Url::parse(&location).unwrap().fragment().map(str::to_owned);
    assert!(fragment.is_some_and(|f| f.contains("access_token=")));
    let tokens = pending
        .callback(&client, &location, SystemTime::now())
        .unwrap();
    s.tokens(&tokens);
    assert_bearer(&tokens, 3600);

    let claims = s
        .send(client.userinfo(tokens.access_token()).unwrap())
        .unwrap();
    assert_eq!(claims["sub"], "mock-user-1");
}

/// Client credentials with HTTP Basic and a form body; the default scope comes back.
pub fn client_credentials_basic<D: Driver>() {
    let server = MockServer::builder()
        .client(confidential("cc-basic").default_scope("USER"))
        .start();
    let s = Session::<D>::new();
    s.secret(SECRET);
    let client = endpoints(&server, "cc-basic")
        .client_secret(SECRET)
        .build()
        .unwrap();
    let tokens = s.send(client.client_credentials().unwrap()).unwrap();
    s.tokens(&tokens);
    assert_bearer(&tokens, 3600);
    assert_eq!(tokens.scope(), Some("USER"));
    assert!(tokens.refresh_token().is_none());
    let seen = only_request(&server, "/token");
    assert_eq!(seen.param("grant_type"), Some("client_credentials"));
    assert!(seen.header("authorization").is_some());
}

/// Client credentials, `client_secret_post`, JSON body, `audience` required (Blooma).
pub fn client_credentials_post_json_audience<D: Driver>() {
    let server = MockServer::builder()
        .client(
            confidential("cc-json")
                .auth_method(AuthMethod::Post)
                .encodings([Encoding::Form, Encoding::Json])
                .require_audience(AUDIENCE)
                .expires_in(86_400),
        )
        .start();
    let s = Session::<D>::new();
    s.secret(SECRET);
    let client = endpoints(&server, "cc-json")
        .client_secret(SECRET)
        .auth_method(ClientAuth::Post)
        .body_encoding(BodyEncoding::Json)
        .build()
        .unwrap();
    let tokens = s
        .send(client.client_credentials().unwrap().audience(AUDIENCE))
        .unwrap();
    s.tokens(&tokens);
    assert_bearer(&tokens, 86_400);
    let seen = only_request(&server, "/token");
    assert_eq!(seen.encoding, Some(Encoding::Json));
    assert_eq!(seen.param("audience"), Some(AUDIENCE));
}

/// Client credentials, `client_secret_post`, multipart body, Doorkeeper-style answer.
pub fn client_credentials_multipart_doorkeeper<D: Driver>() {
    let server = MockServer::builder()
        .client(
            confidential("cc-multipart")
                .auth_method(AuthMethod::Post)
                .encodings([Encoding::Multipart])
                .response_style(ResponseStyle::Doorkeeper),
        )
        .start();
    let s = Session::<D>::new();
    s.secret(SECRET);
    let client = endpoints(&server, "cc-multipart")
        .client_secret(SECRET)
        .auth_method(ClientAuth::Post)
        .body_encoding(BodyEncoding::Multipart)
        .build()
        .unwrap();
    let tokens = s.send(client.client_credentials().unwrap()).unwrap();
    s.tokens(&tokens);
    assert!(tokens.extra().contains_key("created_at"));
    assert_eq!(
        only_request(&server, "/token").encoding,
        Some(Encoding::Multipart)
    );
}

/// A dialect mismatch is the server's own error, not a transport error: a missing `audience`
/// (400 `invalid_request`) and the wrong client authentication (401 `invalid_client`).
pub fn dialect_mismatch_is_server_error<D: Driver>() {
    let server = MockServer::builder()
        .client(confidential("needs-audience").require_audience(AUDIENCE))
        .client(confidential("needs-basic"))
        .start();
    let s = Session::<D>::new();
    s.secret(SECRET);
    let client = endpoints(&server, "needs-audience")
        .client_secret(SECRET)
        .build()
        .unwrap();
    match s.send(client.client_credentials().unwrap()) {
        Err(Error::Server(e)) => {
            assert_eq!(e.code, ErrorCode::InvalidRequest);
            assert_eq!(e.status, Some(400));
        }
        other => panic!("{other:?}"),
    }
    let client = endpoints(&server, "needs-basic")
        .client_secret(SECRET)
        .auth_method(ClientAuth::Post)
        .build()
        .unwrap();
    match s.send(client.client_credentials().unwrap()) {
        Err(Error::Server(e)) => {
            assert_eq!(e.code, ErrorCode::InvalidClient);
            assert_eq!(e.status, Some(401));
        }
        other => panic!("{other:?}"),
    }
}

/// Refresh without rotation (Auth0 style: no new refresh token in the answer): the old one is
/// kept and works again.
pub fn refresh_without_rotation<D: Driver>() {
    let server = MockServer::builder()
        .client(MockClient::new("refresh-app"))
        .start();
    let s = Session::<D>::new();
    let client = endpoints(&server, "refresh-app").build().unwrap();
    let exchange = authorize(
        &s,
        &client,
        client.authorization_code().scope("offline_access"),
    );
    let first = s.send(exchange).unwrap();
    s.tokens(&first);
    let refresh_token = first.refresh_token().unwrap().clone();

    let second = s.send(client.refresh(&refresh_token).unwrap()).unwrap();
    s.tokens(&second);
    assert_ne!(
        second.access_token().expose_secret(),
        first.access_token().expose_secret()
    );
    assert_eq!(
        second.refresh_token().unwrap().expose_secret(),
        refresh_token.expose_secret()
    );
    let third = s.send(client.refresh(&refresh_token).unwrap()).unwrap();
    s.tokens(&third);
    assert_eq!(server.refresh_count(), 2);
}

/// Refresh with rotation: a new refresh token every time; presenting an old one again is
/// reuse, refused with `invalid_grant`, and the whole grant is revoked.
pub fn refresh_with_rotation<D: Driver>() {
    let server = MockServer::builder()
        .client(
            confidential("rotating-app")
                .response_style(ResponseStyle::Clerk)
                .rotate_refresh_tokens(true),
        )
        .start();
    let s = Session::<D>::new();
    s.secret(SECRET);
    let client = endpoints(&server, "rotating-app")
        .client_secret(SECRET)
        .build()
        .unwrap();
    let exchange = authorize(&s, &client, client.authorization_code());
    let first = s.send(exchange).unwrap();
    s.tokens(&first);
    let old = first.refresh_token().unwrap().clone();

    let second = s.send(client.refresh(&old).unwrap()).unwrap();
    s.tokens(&second);
    let new = second.refresh_token().unwrap();
    assert_ne!(new.expose_secret(), old.expose_secret());

    let third = s.send(client.refresh(new).unwrap()).unwrap();
    s.tokens(&third);

    // Presenting a rotated refresh token again is reuse: refused, and the server revokes the
    // whole grant (as oidc-provider, Auth0 and Okta do), the newest refresh token included.
    let reused = s.send(client.refresh(&old).unwrap());
    assert!(
        reused.as_ref().is_err_and(Error::is_invalid_grant),
        "{reused:?}"
    );
    let newest = third.refresh_token().unwrap();
    assert!(server.grant_revoked(newest.expose_secret()));
    let after = s.send(client.refresh(newest).unwrap());
    assert!(
        after.as_ref().is_err_and(Error::is_invalid_grant),
        "{after:?}"
    );
}

/// Userinfo with a valid token returns the claims.
pub fn userinfo_valid<D: Driver>() {
    let server = MockServer::builder()
        .client(confidential("userinfo-app"))
        .start();
    let s = Session::<D>::new();
    s.secret(SECRET);
    let client = endpoints(&server, "userinfo-app")
        .client_secret(SECRET)
        .build()
        .unwrap();
    let tokens = s.send(client.client_credentials().unwrap()).unwrap();
    s.tokens(&tokens);
    let claims = s
        .send(client.userinfo(tokens.access_token()).unwrap())
        .unwrap();
    assert_eq!(claims["sub"], "mock-user-1");
    assert_eq!(claims["email"], "user@example.com");
    let seen = only_request(&server, "/userinfo");
    assert!(seen.header("authorization").unwrap().starts_with("Bearer "));
}

/// Userinfo with a revoked token: `invalid_token` from the `WWW-Authenticate` challenge, and
/// `execute` hands the 401 back as a response with every header.
pub fn userinfo_invalid_token<D: Driver>() {
    let server = MockServer::builder()
        .client(confidential("revoked-app"))
        .start();
    let s = Session::<D>::new();
    s.secret(SECRET);
    let client = endpoints(&server, "revoked-app")
        .client_secret(SECRET)
        .build()
        .unwrap();
    let tokens = s.send(client.client_credentials().unwrap()).unwrap();
    s.tokens(&tokens);
    server.revoke_all_tokens();

    let result = s.send(client.userinfo(tokens.access_token()).unwrap());
    assert!(
        result.as_ref().is_err_and(Error::is_invalid_token),
        "{result:?}"
    );
    match result {
        Err(Error::Server(e)) => assert_eq!(e.status, Some(401)),
        other => panic!("{other:?}"),
    }

    let request = client
        .userinfo(tokens.access_token())
        .unwrap()
        .request()
        .unwrap();
    let before = SystemTime::now();
    let response = s.execute(&request).unwrap();
    assert_eq!(response.status, 401);
    assert!(
        response
            .headers
            .get("www-authenticate")
            .is_some_and(|v| v.starts_with("Bearer") && v.contains("invalid_token"))
    );
    assert_eq!(response.headers.get("cache-control"), Some("no-store"));
    assert!(response.received_at >= before && response.received_at <= SystemTime::now());
}

// ---------------------------------------------------------------------------------------------
// Faults
// ---------------------------------------------------------------------------------------------

/// A redirect from the token endpoint is refused (302 on a code exchange, 307 on client
/// credentials); a second server standing in for the redirect target sees nothing, and the
/// message names the status and the target host but not the target's query.
pub fn redirect_is_not_followed<D: Driver>() {
    let server = MockServer::builder()
        .client(confidential("redirected-app"))
        .start();
    let target = MockServer::builder()
        .client(confidential("redirected-app"))
        .start();
    let s = Session::<D>::new();
    s.secret(SECRET);
    let client = endpoints(&server, "redirected-app")
        .client_secret(SECRET)
        .build()
        .unwrap();
    let location = format!("{}?leaked=query-value-73", target.token_endpoint());

    let exchange = authorize(&s, &client, client.authorization_code());
    server.inject("/token", Fault::redirect(302, location.clone()), 1);
    let (kind, message) = transport_error(s.send(exchange));
    assert_eq!(kind, TransportErrorKind::Redirect { status: 302 });
    assert!(message.contains("302"), "{message}");
    assert!(message.contains("127.0.0.1"), "{message}");
    assert!(!message.contains("query-value-73"), "{message}");

    server.inject("/token", Fault::redirect(307, location), 1);
    let (kind, _) = transport_error(s.send(client.client_credentials().unwrap()));
    assert_eq!(kind, TransportErrorKind::Redirect { status: 307 });

    assert_eq!(
        server.request_count("/token"),
        2,
        "a redirect is not retried"
    );
    assert_eq!(
        target.requests().len(),
        0,
        "the redirect target was contacted"
    );
}

/// A 50 MB body (chunked, no `Content-Length`) is refused with `TooLarge` after reading just
/// past the 1 MiB cap, quickly, and is not retried.
pub fn oversized_body_is_refused<D: Driver>() {
    let server = MockServer::builder()
        .client(confidential("big-app"))
        .start();
    let s = Session::<D>::new();
    s.secret(SECRET);
    let client = endpoints(&server, "big-app")
        .client_secret(SECRET)
        .build()
        .unwrap();
    server.inject(
        "/token",
        Fault::Oversized {
            bytes: 50 * 1024 * 1024,
        },
        1,
    );
    let start = Instant::now();
    let (kind, _) = transport_error(s.send(client.client_credentials().unwrap()));
    assert_eq!(kind, TransportErrorKind::TooLarge { limit: 1024 * 1024 });
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(server.request_count("/token"), 1);
}

/// A `Content-Length` over the cap is refused before any of the body is read: the server
/// here announces 50 MB, sends a few bytes and stalls, and the answer still comes at once.
/// A request's own lower cap wins over the transport's.
pub fn content_length_over_cap_is_refused_at_once<D: Driver>() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (done, wait) = mpsc::channel::<()>();
    let stalled = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        read_request(&stream);
        let _ = stream.write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 52428800\r\n\r\n{\"access_token\":\"",
        );
        let _ = wait.recv_timeout(Duration::from_secs(10));
    });
    let s = Session::<D>::new();
    s.secret(SECRET);
    let client = Client::builder("stalled-app")
        .client_secret(SECRET)
        .token_endpoint(format!("http://127.0.0.1:{port}/token"))
        .build()
        .unwrap();
    let start = Instant::now();
    let (kind, message) = transport_error(s.send(client.client_credentials().unwrap()));
    assert_eq!(kind, TransportErrorKind::TooLarge { limit: 1024 * 1024 });
    assert!(message.contains("52428800"), "{message}");
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    let _ = done.send(());
    stalled.join().unwrap();

    // The request's own cap (64 bytes) is lower than the transport's.
    let server = MockServer::builder()
        .client(confidential("capped-app"))
        .start();
    let client = endpoints(&server, "capped-app")
        .client_secret(SECRET)
        .build()
        .unwrap();
    let (kind, _) = transport_error(s.send(Capped(client.client_credentials().unwrap(), 64)));
    assert_eq!(kind, TransportErrorKind::TooLarge { limit: 64 });
}

/// A server slower than the timeout gives `Timeout`: before the headers (a code exchange,
/// not retried) and while the body trickles in; client credentials are retried and succeed.
pub fn slow_server_times_out<D: Driver>() {
    let server = MockServer::builder()
        .client(confidential("slow-app"))
        .start();
    let s = Session::<D>::with(Settings {
        timeout: Duration::from_millis(300),
        ..Settings::default()
    });
    s.secret(SECRET);
    let client = endpoints(&server, "slow-app")
        .client_secret(SECRET)
        .build()
        .unwrap();

    let exchange = authorize(&s, &client, client.authorization_code());
    server.inject("/token", Fault::Delay(Duration::from_secs(2)), 1);
    let start = Instant::now();
    let (kind, _) = transport_error(s.send(exchange));
    assert_eq!(kind, TransportErrorKind::Timeout);
    assert!(
        start.elapsed() < Duration::from_millis(1500),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(
        server.request_count("/token"),
        1,
        "a code exchange is not resent"
    );

    server.clear_requests();
    server.inject(
        "/token",
        Fault::Dribble {
            chunk_size: 4,
            interval: Duration::from_millis(100),
        },
        1,
    );
    let exchange = authorize(&s, &client, client.authorization_code());
    let (kind, message) = transport_error(s.send(exchange));
    assert_eq!(kind, TransportErrorKind::Timeout, "{message}");
    assert!(message.contains("body"), "{message}");

    server.clear_requests();
    server.inject("/token", Fault::Delay(Duration::from_secs(2)), 1);
    let tokens = s.send(client.client_credentials().unwrap()).unwrap();
    s.tokens(&tokens);
    assert_eq!(
        server.request_count("/token"),
        2,
        "client credentials are resent"
    );
}

/// 503 with `Retry-After: 1`: client credentials and userinfo wait and succeed on the second
/// request.
pub fn retry_after_503_is_retried_when_idempotent<D: Driver>() {
    let server = MockServer::builder()
        .client(confidential("retry-app"))
        .start();
    let s = Session::<D>::new();
    s.secret(SECRET);
    let client = endpoints(&server, "retry-app")
        .client_secret(SECRET)
        .build()
        .unwrap();

    server.inject("/token", Fault::retry_after(503, "1"), 1);
    let start = Instant::now();
    let tokens = s.send(client.client_credentials().unwrap()).unwrap();
    s.tokens(&tokens);
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(server.request_count("/token"), 2);

    server.inject("/userinfo", Fault::retry_after(503, "1"), 1);
    let claims = s
        .send(client.userinfo(tokens.access_token()).unwrap())
        .unwrap();
    assert_eq!(claims["sub"], "mock-user-1");
    assert_eq!(server.request_count("/userinfo"), 2);
}

/// 503 with `Retry-After: 1` on a code exchange: not resent (the code may have been used);
/// the server's own 503 error comes back.
pub fn retry_after_503_is_not_retried_for_code<D: Driver>() {
    let server = MockServer::builder()
        .client(confidential("once-app"))
        .start();
    let s = Session::<D>::new();
    s.secret(SECRET);
    let client = endpoints(&server, "once-app")
        .client_secret(SECRET)
        .build()
        .unwrap();
    let exchange = authorize(&s, &client, client.authorization_code());
    server.inject("/token", Fault::retry_after(503, "1"), 1);
    let start = Instant::now();
    match s.send(exchange) {
        Err(Error::Server(e)) => {
            assert_eq!(e.code, ErrorCode::TemporarilyUnavailable);
            assert_eq!(e.status, Some(503));
        }
        other => panic!("{other:?}"),
    }
    assert!(start.elapsed() < Duration::from_secs(1));
    assert_eq!(server.request_count("/token"), 1);

    // The same answer through `execute`: a response, with `Retry-After` passed through.
    server.inject("/token", Fault::retry_after(503, "1"), 1);
    let request = client.client_credentials().unwrap().request().unwrap();
    let response = s.execute(&request).unwrap();
    assert_eq!(response.status, 503);
    assert_eq!(response.headers.get("retry-after"), Some("1"));
    assert_eq!(server.request_count("/token"), 2, "execute never retries");
}

/// 429 with an HTTP-date `Retry-After`: client credentials wait until then and succeed.
pub fn retry_429_with_http_date<D: Driver>() {
    let server = MockServer::builder()
        .client(confidential("busy-app"))
        .start();
    let s = Session::<D>::new();
    s.secret(SECRET);
    let client = endpoints(&server, "busy-app")
        .client_secret(SECRET)
        .build()
        .unwrap();
    let at = SystemTime::now() + Duration::from_secs(2);
    server.inject("/token", Fault::retry_after(429, http_date(at)), 1);
    let start = Instant::now();
    let tokens = s.send(client.client_credentials().unwrap()).unwrap();
    s.tokens(&tokens);
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(900), "{waited:?}");
    assert!(waited < Duration::from_secs(4), "{waited:?}");
    assert_eq!(server.request_count("/token"), 2);
}

/// An HTML error page (as a proxy sends) becomes `ResponseError::Unexpected` with the status
/// and content type; 500 is not retried, nor is a 502 for a code exchange.
pub fn html_error_page_is_unexpected<D: Driver>() {
    let server = MockServer::builder()
        .client(confidential("html-app"))
        .start();
    let s = Session::<D>::new();
    s.secret(SECRET);
    let client = endpoints(&server, "html-app")
        .client_secret(SECRET)
        .build()
        .unwrap();
    server.inject("/token", Fault::HtmlError { status: 500 }, 1);
    match s.send(client.client_credentials().unwrap()) {
        Err(Error::Response(ResponseError::Unexpected {
            status,
            content_type,
            ..
        })) => {
            assert_eq!(status, 500);
            assert!(content_type.is_some_and(|c| c.starts_with("text/html")));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.request_count("/token"), 1);

    let exchange = authorize(&s, &client, client.authorization_code());
    server.inject("/token", Fault::HtmlError { status: 502 }, 1);
    match s.send(exchange) {
        Err(Error::Response(ResponseError::Unexpected { status: 502, .. })) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(server.request_count("/token"), 2);
}

/// A token endpoint that echoes the client secret back in its error page, in each spelling a
/// server may use (raw, JSON-escaped, HTML-escaped, percent- and form-encoded): no spelling
/// reaches the error's `Debug` or `Display`, through either adapter.
pub fn echoed_secret_is_masked_in_every_spelling<D: Driver>() {
    const ODD_SECRET: &str = "conf\"ss\\wo'rd <&>/\u{e9}-41d7";
    let spellings = [
        ODD_SECRET,
        r#"conf\"ss\\wo'rd <&>/\u00e9-41d7"#,
        "conf\\\"ss\\\\wo'rd <&>/\u{e9}-41d7",
        "conf&quot;ss\\wo&#39;rd &lt;&amp;&gt;/\u{e9}-41d7",
        "conf%22ss%5Cwo%27rd%20%3C%26%3E%2F%C3%A9-41d7",
        "conf%22ss%5Cwo%27rd+%3C%26%3E%2F%C3%A9-41d7",
    ];
    let server = MockServer::builder()
        .client(MockClient::new("echo-app").secret(ODD_SECRET))
        .start();
    let s = Session::<D>::new();
    for spelling in spellings {
        s.secret(spelling);
    }
    for auth in [ClientAuth::Basic, ClientAuth::Post] {
        let client = endpoints(&server, "echo-app")
            .client_secret(ODD_SECRET)
            .auth_method(auth)
            .build()
            .unwrap();
        for spelling in spellings {
            let json_string =
                serde_json::to_string(&format!("rejected client {spelling}")).unwrap();
            for (content_type, body) in [
                ("text/html", format!("<p>rejected client {spelling}</p>")),
                (
                    "application/json",
                    format!(r#"{{"message":{json_string}}}"#),
                ),
            ] {
                server.inject("/token", Fault::body(500, content_type, body), 1);
                match s.send(client.client_credentials().unwrap()) {
                    Err(Error::Response(ResponseError::Unexpected { excerpt, .. })) => {
                        assert!(excerpt.contains("<redacted>"), "{excerpt}");
                    }
                    other => panic!("{other:?}"),
                }
            }
        }
    }
    s.check_secrets();
}

/// An OAuth error in a 200 answer is the server's error.
pub fn error_with_200_is_server_error<D: Driver>() {
    let server = MockServer::builder()
        .client(confidential("ok-error-app"))
        .start();
    let s = Session::<D>::new();
    s.secret(SECRET);
    let client = endpoints(&server, "ok-error-app")
        .client_secret(SECRET)
        .build()
        .unwrap();
    server.inject("/token", Fault::error_with_200("invalid_scope"), 1);
    match s.send(client.client_credentials().unwrap()) {
        Err(Error::Server(e)) => {
            assert_eq!(e.code, ErrorCode::InvalidScope);
            assert_eq!(e.status, Some(200));
        }
        other => panic!("{other:?}"),
    }
}

/// Plain `http://` to a host that is not loopback is refused before any I/O (a `.invalid`
/// name, which would fail DNS otherwise; a name under `localhost`, which DNS may point
/// anywhere), by `send` and by `execute`.
pub fn insecure_http_is_refused<D: Driver>() {
    let s = Session::<D>::new();
    s.secret(SECRET);
    for (endpoint, host) in [
        ("http://example.invalid/token", "example.invalid"),
        ("http://evil.localhost:8080/token", "evil.localhost"),
    ] {
        let client = Client::builder("insecure-app")
            .client_secret(SECRET)
            .token_endpoint(endpoint)
            .build()
            .unwrap();
        let start = Instant::now();
        let (kind, message) = transport_error(s.send(client.client_credentials().unwrap()));
        assert_eq!(kind, TransportErrorKind::InsecureUrl);
        assert!(message.contains(host), "{message}");
        let (kind, _) =
            transport_error(s.execute(&client.client_credentials().unwrap().request().unwrap()));
        assert_eq!(kind, TransportErrorKind::InsecureUrl);
        assert!(start.elapsed() < Duration::from_millis(100));
    }
}

/// A closed port gives `Connect`.
pub fn connection_refused_is_connect<D: Driver>() {
    let s = Session::<D>::with(Settings {
        retry_policy: RetryPolicy::never(),
        ..Settings::default()
    });
    s.secret(SECRET);
    let client = Client::builder("refused-app")
        .client_secret(SECRET)
        .token_endpoint(format!("http://127.0.0.1:{}/token", closed_port()))
        .build()
        .unwrap();
    let (kind, message) = transport_error(s.send(client.client_credentials().unwrap()));
    assert_eq!(kind, TransportErrorKind::Connect, "{message}");
    assert!(message.contains("127.0.0.1"), "{message}");
}

/// A code exchange *is* retried when connecting failed (the code never left): the port is
/// closed at first and a server starts listening on it a little later; it sees exactly one
/// request, and the exchange succeeds.
pub fn connect_failure_is_retried_for_code<D: Driver>() {
    let port = closed_port();
    let (ready, listening) = mpsc::channel::<()>();
    let late = thread::spawn(move || {
        thread::sleep(Duration::from_millis(100));
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("rebind the port");
        let _ = ready.send(());
        let (mut stream, _) = listener.accept().unwrap();
        read_request(&stream);
        let body = r#"{"access_token":"late-server-access-token-9b2","token_type":"Bearer","expires_in":60}"#;
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        drop(stream);
        // Any second connection within a while would be a resent code.
        listener.set_nonblocking(true).unwrap();
        thread::sleep(Duration::from_millis(300));
        1 + usize::from(listener.accept().is_ok())
    });
    let s = Session::<D>::with(Settings {
        retry_policy: RetryPolicy::with_retries(8)
            .base_delay(Duration::from_millis(50))
            .max_delay(Duration::from_secs(1)),
        ..Settings::default()
    });
    s.secret(SECRET);
    let client = Client::builder("late-app")
        .client_secret(SECRET)
        .authorization_endpoint("http://127.0.0.1:9/authorize")
        .token_endpoint(format!("http://127.0.0.1:{port}/token"))
        .redirect_uri(REDIRECT)
        .build()
        .unwrap();
    let (_, pending) = client
        .authorization_code()
        .state(State::new("late-state"))
        .build()
        .unwrap();
    s.secret(pending.pkce_verifier().unwrap().expose_secret());
    let exchange = pending
        .callback(
            &client,
            &format!("{REDIRECT}?code=late-code-6e1f0&state=late-state"),
        )
        .unwrap();
    s.secret("late-code-6e1f0");
    let tokens = s.send(exchange).unwrap();
    s.tokens(&tokens);
    assert!(
        listening.try_recv().is_ok(),
        "the server was listening before the exchange succeeded"
    );
    assert_eq!(late.join().unwrap(), 1, "the code was sent exactly once");
}

/// A connection closed without an answer may have carried the request: a code exchange is
/// not resent (`Other`), client credentials are, and succeed.
pub fn dropped_connection_is_other<D: Driver>() {
    let server = MockServer::builder()
        .client(confidential("hangup-app"))
        .start();
    let s = Session::<D>::new();
    s.secret(SECRET);
    let client = endpoints(&server, "hangup-app")
        .client_secret(SECRET)
        .build()
        .unwrap();
    let exchange = authorize(&s, &client, client.authorization_code());
    server.inject("/token", Fault::CloseConnection, 1);
    let (kind, message) = transport_error(s.send(exchange));
    assert_eq!(kind, TransportErrorKind::Other, "{message}");
    assert_eq!(server.request_count("/token"), 1);

    server.inject("/token", Fault::CloseConnection, 1);
    let tokens = s.send(client.client_credentials().unwrap()).unwrap();
    s.tokens(&tokens);
    assert_eq!(server.request_count("/token"), 3);
}

/// `execute` sends one GET as described and returns a 200 with its body.
pub fn execute_sends_one_request<D: Driver>() {
    let server = MockServer::builder()
        .client(confidential("execute-app"))
        .start();
    let s = Session::<D>::new();
    s.secret(SECRET);
    let client = endpoints(&server, "execute-app")
        .client_secret(SECRET)
        .build()
        .unwrap();
    let tokens = s.send(client.client_credentials().unwrap()).unwrap();
    s.tokens(&tokens);
    let url = Url::parse(&server.endpoint("/.well-known/oauth-authorization-server")).unwrap();
    let mut request = Request::new(Method::Get, url, RetryMode::Idempotent);
    request.headers.append("accept", "application/json");
    let response = s.execute(&request).unwrap();
    assert_eq!(response.status, 200);
    assert!(
        response
            .content_type()
            .is_some_and(|c| c.starts_with("application/json"))
    );
    assert!(String::from_utf8_lossy(&response.body).contains("token_endpoint"));

    let bogus = AccessToken::new("bogus-access-token-0000");
    s.secret(bogus.expose_secret());
    let response = s
        .execute(&client.userinfo(&bogus).unwrap().request().unwrap())
        .unwrap();
    assert_eq!(response.status, 401);
}

/// Every header, repeated ones in order, and the body arrive as the request described them.
pub fn headers_and_body_arrive_as_sent<D: Driver>() {
    let server = MockServer::builder().start();
    let s = Session::<D>::new();
    let url = Url::parse(&server.endpoint("/.well-known/oauth-authorization-server")).unwrap();
    let mut request = Request::new(Method::Post, url, RetryMode::Idempotent);
    request.headers.append("content-type", "text/plain");
    request.headers.append("x-twice", "1");
    request.headers.append("x-twice", "2");
    request.body = b"exactly these bytes".to_vec();
    let _ = s.execute(&request).unwrap();
    let seen = server.requests();
    let seen = seen.last().unwrap();
    let twice: Vec<&str> = seen
        .headers
        .iter()
        .filter(|(n, _)| n == "x-twice")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(twice, ["1", "2"], "{}", D::NAME);
    assert_eq!(seen.body, b"exactly these bytes", "{}", D::NAME);
}

/// A header the HTTP client cannot write is refused before anything is sent, and not tried
/// again.
pub fn an_invalid_header_is_refused_before_sending<D: Driver>() {
    let server = MockServer::builder().start();
    let s = Session::<D>::new();
    let url = Url::parse(&server.endpoint("/.well-known/oauth-authorization-server")).unwrap();
    for (name, value) in [("x-bad", "a\r\nb"), ("bad name", "v")] {
        let mut request = Request::new(Method::Get, url.clone(), RetryMode::Idempotent);
        request.headers.append(name, value);
        let error = s.execute(&request).unwrap_err();
        assert!(
            matches!(error, Error::Transport(_)),
            "{}: {error:?}",
            D::NAME
        );
        let error = s.send(request).unwrap_err();
        assert!(
            matches!(error, Error::Transport(_)),
            "{}: {error:?}",
            D::NAME
        );
    }
    assert!(server.requests().is_empty(), "{}", D::NAME);
}

/// A transport is cheap to clone, `Debug` (showing its settings), `Send + Sync`, has a
/// default, and builds.
pub fn transport_is_cheap_clone_debug_send_sync<D: Driver>() {
    fn check<T: Clone + Debug + Send + Sync + Default + 'static>() {}
    check::<D::Transport>();
    let transport = D::build(Settings {
        max_response_bytes: 7,
        ..Settings::default()
    })
    .unwrap();
    let debug = format!("{transport:?}");
    assert!(
        debug.contains("max_response_bytes: 7"),
        "{}: {debug}",
        D::NAME
    );
    let copy = transport.clone();
    assert_eq!(format!("{copy:?}"), format!("{transport:?}"));
    let default = format!("{:?}", D::Transport::default());
    assert!(
        default.contains("max_response_bytes: 1048576"),
        "{}: {default}",
        D::NAME
    );
}

/// Every case's name, in order, for the macro in `tests/conformance.rs` to check against.
pub const ALL: &[&str] = &[
    "code_pkce_public_form",
    "code_confidential_basic",
    "code_post_json_audience",
    "code_multipart_doorkeeper",
    "code_clerk_style",
    "implicit_fragment_then_userinfo",
    "client_credentials_basic",
    "client_credentials_post_json_audience",
    "client_credentials_multipart_doorkeeper",
    "dialect_mismatch_is_server_error",
    "refresh_without_rotation",
    "refresh_with_rotation",
    "userinfo_valid",
    "userinfo_invalid_token",
    "redirect_is_not_followed",
    "oversized_body_is_refused",
    "content_length_over_cap_is_refused_at_once",
    "slow_server_times_out",
    "retry_after_503_is_retried_when_idempotent",
    "retry_after_503_is_not_retried_for_code",
    "retry_429_with_http_date",
    "html_error_page_is_unexpected",
    "echoed_secret_is_masked_in_every_spelling",
    "error_with_200_is_server_error",
    "insecure_http_is_refused",
    "connection_refused_is_connect",
    "connect_failure_is_retried_for_code",
    "dropped_connection_is_other",
    "execute_sends_one_request",
    "headers_and_body_arrive_as_sent",
    "an_invalid_header_is_refused_before_sending",
    "transport_is_cheap_clone_debug_send_sync",
    "manager_execute_sends_the_bearer_token",
    "manager_execute_renews_once_and_retries_once_after_invalid_token",
    "manager_execute_retries_only_once",
    "manager_execute_returns_other_answers_as_they_are",
    "manager_execute_never_sends_the_token_to_another_origin",
    "manager_execute_never_follows_a_redirect_with_the_token",
    "the_store_is_written_before_any_caller_gets_the_token",
    "a_panicking_renewer_wedges_nobody",
    "reauthorize_until_set_tokens",
    "manager_is_clone_send_sync_debug_without_secrets",
    "discovery_at_both_well_known_paths_with_an_exact_issuer",
    "device_flow_polls_until_the_user_approves",
    "device_flow_denied_or_expired",
    "device_flow_slows_down_when_told",
    "revocation_then_introspection",
    "pushed_authorization_with_iss_checked",
    "token_exchange_and_resource_indicators",
    "dpop_code_refresh_and_userinfo_are_bound_to_the_key",
    "dpop_client_credentials_answers_the_nonce_challenge_once",
    "dpop_downgrade_to_bearer_is_refused",
    "dpop_replayed_proof_is_refused",
    "jwt_client_authentication_at_token_revocation_and_introspection",
    "replayed_expired_or_misaddressed_assertions_are_refused",
    "dpop_with_private_key_jwt_at_par_and_device_under_a_nonce",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates() {
        assert_eq!(
            http_date(UNIX_EPOCH + Duration::from_secs(784_111_777)),
            "Sun, 06 Nov 1994 08:49:37 GMT"
        );
        let now = SystemTime::now();
        let parsed = latchkey::drive::parse_http_date(&http_date(now)).unwrap();
        assert!(now.duration_since(parsed).unwrap() < Duration::from_secs(1));
    }
}
