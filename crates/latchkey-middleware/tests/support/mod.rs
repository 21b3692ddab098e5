//! A resource server on loopback (axum) that accepts the access tokens latchkey-mock issued
//! and still considers active, a second server on another port that records what reaches
//! it, and a token manager for the mock's client-credentials client.

#![allow(dead_code, unreachable_pub)]

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use latchkey::manage::bearer::Origins;
use latchkey::{Client, Lifecycle, TokenSource};
use latchkey_mock::{MockClient, MockServer};

/// One request a server saw: its path and its `Authorization` header, if any.
type Request = (String, Option<String>);

/// What the servers saw.
#[derive(Clone, Default)]
pub struct Seen(Arc<Mutex<Vec<Request>>>);

impl Seen {
    fn note(&self, path: &str, headers: &HeaderMap) {
        let auth = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        self.lock().push((path.to_owned(), auth));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Request>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The requests to `path`, with their `Authorization` headers.
    pub fn to(&self, path: &str) -> Vec<Option<String>> {
        self.lock()
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, a)| a.clone())
            .collect()
    }
}

/// The mock, the resource server (`api`), the other server (`elsewhere`), what they saw.
pub struct World {
    pub mock: Arc<MockServer>,
    pub api: SocketAddr,
    pub elsewhere: SocketAddr,
    pub seen: Seen,
}

#[derive(Clone)]
struct Api {
    mock: Arc<MockServer>,
    seen: Seen,
    elsewhere: SocketAddr,
}

/// `401` with the RFC 6750 challenge that says the token itself is no good.
fn invalid_token() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(
            header::WWW_AUTHENTICATE,
            r#"Bearer realm="api", error="invalid_token""#,
        )],
    )
        .into_response()
}

/// Whether the request carries a token the mock issued and has not revoked.
fn authorized(api: &Api, headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|token| api.mock.access_token_active(token))
}

async fn me(State(api): State<Api>, headers: HeaderMap) -> Response {
    api.seen.note("/me", &headers);
    if authorized(&api, &headers) {
        "hello".into_response()
    } else {
        invalid_token()
    }
}

async fn echo(State(api): State<Api>, headers: HeaderMap, body: String) -> Response {
    api.seen.note("/echo", &headers);
    if authorized(&api, &headers) {
        body.into_response()
    } else {
        invalid_token()
    }
}

async fn never(State(api): State<Api>, headers: HeaderMap) -> Response {
    api.seen.note("/never", &headers);
    invalid_token()
}

async fn away(State(api): State<Api>, headers: HeaderMap) -> Response {
    api.seen.note("/away", &headers);
    let location = format!("http://{}/sink", api.elsewhere);
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

async fn sink(State(seen): State<Seen>, headers: HeaderMap) -> &'static str {
    seen.note("/sink", &headers);
    "sunk"
}

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("a loopback port");
    let addr = listener.local_addr().expect("its address");
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

impl World {
    /// Starts the mock (client credentials for `svc`) and both servers.
    pub async fn start() -> Self {
        let mock = Arc::new(
            MockServer::builder()
                .client(MockClient::new("svc").secret("svc-secret-9d1e"))
                .record_requests(true)
                .start(),
        );
        let seen = Seen::default();
        let elsewhere = serve(
            Router::new()
                .route("/sink", any(sink))
                .with_state(seen.clone()),
        )
        .await;
        let api = Api {
            mock: Arc::clone(&mock),
            seen: seen.clone(),
            elsewhere,
        };
        let api = serve(
            Router::new()
                .route("/me", get(me))
                .route("/echo", axum::routing::post(echo))
                .route("/never", get(never))
                .route("/away", get(away))
                .with_state(api),
        )
        .await;
        Self {
            mock,
            api,
            elsewhere,
            seen,
        }
    }

    /// A token manager for `svc` (client credentials).
    pub fn manager(&self) -> latchkey_reqwest::TokenManager {
        let client = Client::builder("svc")
            .client_secret("svc-secret-9d1e")
            .token_endpoint(self.mock.token_endpoint())
            .build()
            .expect("the mock's client");
        let source = TokenSource::ClientCredentials {
            scope: String::new(),
            params: Vec::new(),
        };
        latchkey_reqwest::TokenManager::new(
            latchkey_reqwest::Transport::new(),
            Lifecycle::new(client, source),
        )
    }

    /// The resource server's origin, the only one allowed.
    pub fn origins(&self) -> Origins {
        Origins::new()
            .allow(&format!("http://{}", self.api))
            .expect("an origin")
    }

    pub fn api(&self, path: &str) -> String {
        format!("http://{}{path}", self.api)
    }

    pub fn elsewhere(&self, path: &str) -> String {
        format!("http://{}{path}", self.elsewhere)
    }

    /// Requests the mock's token endpoint answered.
    pub fn tokens_issued(&self) -> usize {
        self.mock.request_count("/token")
    }
}
