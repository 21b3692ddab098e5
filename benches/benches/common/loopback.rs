//! What the loopback benchmark (`loopback.rs`) and its two examples (`ab_loopback`,
//! `profile_loopback`) share: the server, the client, and the raw ureq / reqwest clients that
//! send the very bytes latchkey sends (method, URL, headers, body).

#![allow(dead_code, unreachable_pub)]

use std::hint::black_box;
use std::io::Read as _;
use std::time::Duration;

use latchkey::{Client, Exchange as _, Request};
use latchkey_benches::{CLIENT_ID, CLIENT_SECRET};
use latchkey_mock::{MockClient, MockServer};

/// The timeouts latchkey's adapters set (10 s to connect, 30 s in all), for the raw clients'
/// "with timeouts" variants.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// See [`CONNECT_TIMEOUT`].
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// A server with one confidential client, not recording requests.
pub fn server() -> MockServer {
    MockServer::builder()
        .client(MockClient::new(CLIENT_ID).secret(CLIENT_SECRET))
        .record_requests(false)
        .start()
}

/// The confidential client of [`server`] (HTTP Basic, form body).
pub fn client(server: &MockServer) -> Client {
    Client::builder(CLIENT_ID)
        .client_secret(CLIENT_SECRET)
        .token_endpoint(server.token_endpoint())
        .build()
        .expect("client")
}

/// The request latchkey sends; the raw clients send exactly these bytes.
pub fn wire_request(client: &Client) -> Request {
    client
        .client_credentials()
        .expect("confidential")
        .request()
        .expect("request")
}

/// A plain ureq agent (no redirects, statuses as answers) posting latchkey's bytes.
pub struct RawUreq {
    agent: ureq::Agent,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RawUreq {
    /// For the request `wire`.
    pub fn new(wire: &Request) -> Self {
        Self {
            agent: ureq::Agent::config_builder()
                .max_redirects(0)
                .http_status_as_error(false)
                .build()
                .into(),
            url: wire.url.as_str().to_owned(),
            headers: wire
                .headers
                .iter()
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
                .collect(),
            body: wire.body.clone(),
        }
    }

    /// One POST, the answer read whole; with `timeouts`, the adapter's two timeouts set on
    /// the request.
    pub fn post(&self, timeouts: bool) -> Vec<u8> {
        let mut request = self.agent.post(&self.url);
        if timeouts {
            request = request
                .config()
                .timeout_connect(Some(CONNECT_TIMEOUT))
                .timeout_global(Some(TIMEOUT))
                .build();
        }
        for (n, v) in &self.headers {
            request = request.header(n, v);
        }
        let response = request.send(&self.body[..]).expect("send");
        assert_eq!(response.status(), 200);
        let mut bytes = Vec::new();
        response
            .into_body()
            .into_reader()
            .read_to_end(&mut bytes)
            .expect("body");
        black_box(bytes)
    }
}

/// A plain reqwest client (no redirects) posting latchkey's bytes.
pub struct RawReqwest {
    http: reqwest::Client,
    url: String,
    headers: reqwest::header::HeaderMap,
    body: bytes::Bytes,
}

impl RawReqwest {
    /// For the request `wire`; with `timeouts`, the client has the adapter's two timeouts.
    pub fn new(wire: &Request, timeouts: bool) -> Self {
        let mut headers = reqwest::header::HeaderMap::new();
        for (n, v) in wire.headers.iter() {
            headers.append(
                reqwest::header::HeaderName::from_bytes(n.as_bytes()).expect("name"),
                reqwest::header::HeaderValue::from_str(v).expect("value"),
            );
        }
        let mut builder = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
        if timeouts {
            builder = builder.connect_timeout(CONNECT_TIMEOUT).timeout(TIMEOUT);
        }
        Self {
            http: builder.build().expect("reqwest client"),
            url: wire.url.as_str().to_owned(),
            headers,
            body: bytes::Bytes::from(wire.body.clone()),
        }
    }

    /// One POST, the answer read whole.
    pub async fn post(&self) -> bytes::Bytes {
        let request = self
            .http
            .post(&self.url)
            .headers(self.headers.clone())
            .body(self.body.clone());
        let response = request.send().await.expect("send");
        assert_eq!(response.status(), 200);
        black_box(response.bytes().await.expect("body"))
    }
}

/// A current-thread tokio runtime, as the async benchmarks use.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}
