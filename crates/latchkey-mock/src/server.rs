//! The HTTP side: listener thread, connection handling, faults and recording.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Incoming as IncomingBody;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::body::{DribbleBody, OversizedBody, ResBody, full};
use crate::client::{Encoding, MockClient};
use crate::fault::Fault;
use crate::oauth::{Config, Incoming, Reply, State};
use crate::record::RecordedRequest;
use crate::user::MockUser;
use crate::{form, multipart};

/// Request bodies larger than this get `413 Payload Too Large` (recorded with an empty body).
const MAX_REQUEST_BODY: usize = 1024 * 1024;
/// How much of a too-large body is read and thrown away before the answer.
const MAX_DRAINED_BODY: usize = 64 * 1024 * 1024;

struct Shared {
    state: Mutex<State>,
    connections: AtomicU64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Configures a [`MockServer`] before it starts.
#[derive(Debug, Default)]
pub struct MockServerBuilder {
    clients: Vec<MockClient>,
    user: MockUser,
    record_requests: Option<bool>,
    config: Config,
}

impl MockServerBuilder {
    /// Registers a client.
    #[must_use]
    pub fn client(mut self, client: MockClient) -> Self {
        self.clients.push(client);
        self
    }

    /// The user every authorization is granted for (see [`MockUser`]).
    #[must_use]
    pub fn user(mut self, user: MockUser) -> Self {
        self.user = user;
        self
    }

    /// Whether to keep every request for [`MockServer::requests`] (default `true`). Turn it off
    /// for long benchmarks; [`MockServer::request_count`] keeps counting either way.
    #[must_use]
    pub fn record_requests(mut self, record: bool) -> Self {
        self.record_requests = Some(record);
        self
    }

    /// Gives the issuer identifier a path, e.g. `/tenant/1`: the issuer becomes
    /// `http://127.0.0.1:PORT/tenant/1`, its RFC 8414 metadata moves to
    /// `/.well-known/oauth-authorization-server/tenant/1` (the path-insertion rule, §3.1) and its
    /// OpenID metadata to `/tenant/1/.well-known/openid-configuration`. The endpoints stay where
    /// they are.
    #[must_use]
    pub fn issuer_path(mut self, path: impl Into<String>) -> Self {
        let path = path.into();
        let path = path.trim_end_matches('/');
        self.config.issuer_path = if path.is_empty() || path.starts_with('/') {
            path.to_owned()
        } else {
            format!("/{path}")
        };
        self
    }

    /// Whether authorization responses carry `iss` (RFC 9207) and the metadata says so with
    /// `authorization_response_iss_parameter_supported` (default `true`).
    #[must_use]
    pub fn issuer_parameter(mut self, send: bool) -> Self {
        self.config.issuer_parameter = send;
        self
    }

    /// Accepts only pushed authorization requests (RFC 9126 §5): `/authorize` without a
    /// `request_uri` redirects back with `invalid_request`, and the metadata says
    /// `require_pushed_authorization_requests` (default `false`).
    #[must_use]
    pub fn require_pushed_authorization_requests(mut self, require: bool) -> Self {
        self.config.require_par = require;
        self
    }

    /// The device flow's polling `interval` in seconds (default 5). A poll that comes sooner
    /// gets `slow_down`, and the interval grows by 5 s (RFC 8628 §3.5).
    #[must_use]
    pub fn device_interval(mut self, seconds: u64) -> Self {
        self.config.device_interval = seconds;
        self
    }

    /// How long device and user codes live, in seconds (default 600).
    #[must_use]
    pub fn device_code_expires_in(mut self, seconds: u64) -> Self {
        self.config.device_expires_in = seconds;
        self
    }

    /// Starts the server.
    ///
    /// # Panics
    ///
    /// If no loopback port can be bound or the background thread cannot start; see
    /// [`try_start`](Self::try_start).
    pub fn start(self) -> MockServer {
        self.try_start()
            .unwrap_or_else(|e| panic!("latchkey-mock: cannot start the server: {e}"))
    }

    /// Starts the server: binds `127.0.0.1:0` and serves from a tokio runtime on a dedicated
    /// background thread, so it works the same from synchronous code and from inside any
    /// async runtime.
    ///
    /// # Errors
    ///
    /// If no loopback port can be bound or the runtime or thread cannot be created.
    pub fn try_start(self) -> io::Result<MockServer> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let url = format!("http://{addr}");
        let mut state = State::new(url.clone(), self.config, self.clients, self.user);
        state.recording = self.record_requests.unwrap_or(true);
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            connections: AtomicU64::new(0),
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (shutdown, stopped) = oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<io::Result<()>>();
        let thread_shared = Arc::clone(&shared);
        let thread = thread::Builder::new()
            .name(format!("latchkey-mock-{}", addr.port()))
            .spawn(move || {
                runtime.block_on(async move {
                    match TcpListener::from_std(listener) {
                        Ok(listener) => {
                            let _ = ready_tx.send(Ok(()));
                            tokio::spawn(accept_loop(listener, thread_shared));
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    }
                    let _ = stopped.await;
                });
                // Dropping the runtime cancels every connection task and closes its socket.
                drop(runtime);
            })?;
        let ready = ready_rx
            .recv()
            .unwrap_or_else(|_| Err(io::Error::other("server thread exited early")));
        let server = MockServer {
            addr,
            url,
            shared,
            shutdown: Some(shutdown),
            thread: Some(thread),
        };
        ready.map(|()| server)
    }
}

/// An OAuth 2.0 authorization server running in-process on a loopback port.
///
/// Endpoints: `GET /authorize`, `POST /token`, `GET|POST /userinfo`, `POST /revoke`
/// (RFC 7009), `POST /introspect` (RFC 7662), `POST /device_authorization` and `GET /device`
/// (RFC 8628), `POST /par` (RFC 9126), and the metadata at
/// `GET /.well-known/oauth-authorization-server` (RFC 8414) and
/// `GET /.well-known/openid-configuration`. Dropping the server stops it, closes every
/// connection, frees the port and joins its thread.
///
/// ```
/// use latchkey_mock::{MockClient, MockServer};
///
/// let server = MockServer::builder()
///     .client(MockClient::new("app").secret("s3cret"))
///     .start();
/// assert!(server.token_endpoint().starts_with("http://127.0.0.1:"));
/// assert!(server.token_endpoint().ends_with("/token"));
/// ```
pub struct MockServer {
    addr: SocketAddr,
    url: String,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl fmt::Debug for MockServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockServer")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl MockServer {
    /// Starts a server with no clients registered (add them with [`add_client`](Self::add_client)).
    ///
    /// # Panics
    ///
    /// See [`MockServerBuilder::start`].
    pub fn start() -> Self {
        Self::builder().start()
    }

    /// A builder for a server with clients and a user set up front.
    pub fn builder() -> MockServerBuilder {
        MockServerBuilder::default()
    }

    /// Stops the server (the same as dropping it).
    pub fn shutdown(self) {}

    /// The bound address (`127.0.0.1` and an ephemeral port).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL, `http://127.0.0.1:PORT`, also the issuer identifier unless
    /// [`MockServerBuilder::issuer_path`] gave it a path.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The issuer identifier: `http://127.0.0.1:PORT` plus the issuer path, if any.
    pub fn issuer(&self) -> String {
        self.shared.lock().issuer.clone()
    }

    /// The URL of `path` on this server (`path` starts with `/`).
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// `http://127.0.0.1:PORT/authorize`.
    pub fn authorization_endpoint(&self) -> String {
        self.endpoint("/authorize")
    }

    /// `http://127.0.0.1:PORT/token`.
    pub fn token_endpoint(&self) -> String {
        self.endpoint("/token")
    }

    /// `http://127.0.0.1:PORT/userinfo`.
    pub fn userinfo_endpoint(&self) -> String {
        self.endpoint("/userinfo")
    }

    /// `http://127.0.0.1:PORT/revoke` (RFC 7009 token revocation).
    pub fn revocation_endpoint(&self) -> String {
        self.endpoint("/revoke")
    }

    /// `http://127.0.0.1:PORT/introspect` (RFC 7662 token introspection).
    pub fn introspection_endpoint(&self) -> String {
        self.endpoint("/introspect")
    }

    /// `http://127.0.0.1:PORT/device_authorization` (RFC 8628 device authorization).
    pub fn device_authorization_endpoint(&self) -> String {
        self.endpoint("/device_authorization")
    }

    /// `http://127.0.0.1:PORT/par` (RFC 9126 pushed authorization requests).
    pub fn pushed_authorization_request_endpoint(&self) -> String {
        self.endpoint("/par")
    }

    /// Approves the device authorization with this user code, as the user would on the
    /// verification page (`-` and case are ignored). False when no pending authorization
    /// has it.
    pub fn approve_device(&self, user_code: &str) -> bool {
        self.shared.lock().decide_device(user_code, true)
    }

    /// Denies the device authorization with this user code: the next poll gets
    /// `access_denied`. False when no pending authorization has it.
    pub fn deny_device(&self, user_code: &str) -> bool {
        self.shared.lock().decide_device(user_code, false)
    }

    /// The user codes of the device authorizations still waiting for the user, oldest first.
    pub fn pending_user_codes(&self) -> Vec<String> {
        self.shared.lock().pending_user_codes()
    }

    /// Registers (or replaces) a client while the server runs.
    pub fn add_client(&self, client: MockClient) {
        self.shared.lock().clients.insert(client.id.clone(), client);
    }

    /// Makes the next authorization request that passes validation fail with `error` (e.g.
    /// `access_denied`), redirected to the client. Calls queue up.
    pub fn deny_next_authorization(&self, error: &str) {
        self.shared.lock().deny_next.push_back(error.to_owned());
    }

    /// Arms `fault` for the next `times` requests to `path` (e.g. `/token`). Faults armed for
    /// the same path are used in the order they were armed.
    pub fn inject(&self, path: &str, fault: Fault, times: usize) {
        if times == 0 {
            return;
        }
        self.shared
            .lock()
            .faults
            .entry(path.to_owned())
            .or_default()
            .push_back((fault, times));
    }

    /// Disarms every fault not yet used.
    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    /// Every request received so far (unless recording was turned off), oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// The recorded requests to `path`, oldest first.
    pub fn requests_to(&self, path: &str) -> Vec<RecordedRequest> {
        self.shared
            .lock()
            .requests
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    /// How many requests reached `path` (counted even when recording is off).
    pub fn request_count(&self, path: &str) -> usize {
        self.shared.lock().counts.get(path).copied().unwrap_or(0)
    }

    /// Forgets recorded requests and resets the per-path counts.
    pub fn clear_requests(&self) {
        let mut state = self.shared.lock();
        state.requests.clear();
        state.counts.clear();
    }

    /// How many `refresh_token` grants succeeded.
    pub fn refresh_count(&self) -> u64 {
        self.shared.lock().refresh_count
    }

    /// How many access tokens were issued (token endpoint and implicit grant).
    pub fn issued_access_tokens(&self) -> u64 {
        self.shared.lock().issued_access
    }

    /// How many distinct refresh tokens were issued.
    pub fn issued_refresh_tokens(&self) -> u64 {
        self.shared.lock().issued_refresh
    }

    /// How many TCP connections were accepted (a keep-alive client reuses one).
    pub fn connection_count(&self) -> u64 {
        self.shared.connections.load(Ordering::Relaxed)
    }

    /// Whether `token` is an access token the server would accept now.
    pub fn access_token_active(&self, token: &str) -> bool {
        self.shared.lock().access_token_status(token).is_ok()
    }

    /// Whether `token` is a refresh token the server would accept now.
    pub fn refresh_token_active(&self, token: &str) -> bool {
        self.shared.lock().refresh_token_active(token)
    }

    /// Expires every access token issued so far, as if its lifetime had run out.
    pub fn expire_all_access_tokens(&self) {
        self.shared.lock().expire_all_access_tokens();
    }

    /// Revokes every access and refresh token issued so far.
    pub fn revoke_all_tokens(&self) {
        self.shared.lock().revoke_all_tokens();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // E.g. out of file descriptors: back off instead of spinning.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        shared.connections.fetch_add(1, Ordering::Relaxed);
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let service = service_fn(move |req| handle(Arc::clone(&shared), req));
            let _ = http1::Builder::new()
                .keep_alive(true)
                .header_read_timeout(None)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Returned by the service to make hyper drop the connection without answering.
#[derive(Debug)]
struct Hangup;

impl fmt::Display for Hangup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection closed by fault injection")
    }
}

impl std::error::Error for Hangup {}

struct Decoded {
    params: Vec<(String, String)>,
    encoding: Option<Encoding>,
    media_type: Option<String>,
    error: Option<String>,
}

fn decode(
    method: &Method,
    content_type: Option<&str>,
    query: Option<&str>,
    body: &[u8],
) -> Decoded {
    let mut decoded = Decoded {
        params: Vec::new(),
        encoding: None,
        media_type: None,
        error: None,
    };
    if method == Method::GET || method == Method::HEAD {
        match form::parse(query.unwrap_or("").as_bytes()) {
            Ok(params) => decoded.params = params,
            Err(e) => decoded.error = Some(e),
        }
        return decoded;
    }
    let Some(content_type) = content_type else {
        if !body.is_empty() {
            decoded.error = Some("the request has a body but no Content-Type".to_owned());
        }
        return decoded;
    };
    let (media_type, _) = multipart::parse_header_params(content_type);
    decoded.media_type = Some(media_type.clone());
    let result = match media_type.as_str() {
        "application/x-www-form-urlencoded" => form::parse(body).map(|p| (p, Encoding::Form)),
        "application/json" => parse_json(body).map(|p| (p, Encoding::Json)),
        "multipart/form-data" => multipart::boundary(content_type)
            .and_then(|boundary| multipart::parse(body, &boundary))
            .map(|p| (p, Encoding::Multipart)),
        other => Err(format!("unsupported Content-Type `{other}`")),
    };
    match result {
        Ok((params, encoding)) => {
            decoded.params = params;
            decoded.encoding = Some(encoding);
        }
        Err(e) => decoded.error = Some(e),
    }
    decoded
}

fn parse_json(body: &[u8]) -> Result<Vec<(String, String)>, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not valid JSON: {e}"))?;
    let Value::Object(map) = value else {
        return Err("the JSON body must be an object".to_owned());
    };
    let mut params = Vec::with_capacity(map.len());
    for (name, value) in map {
        let value = match value {
            Value::Null => continue,
            Value::String(s) => s,
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            Value::Array(_) | Value::Object(_) => {
                return Err(format!("JSON parameter `{name}` must be a string"));
            }
        };
        params.push((name, value));
    }
    Ok(params)
}

/// Reads the request body. Past [`MAX_REQUEST_BODY`] the rest is read and discarded (up to
/// [`MAX_DRAINED_BODY`]) so that the client, still writing, reliably sees the 413 instead of a
/// reset connection; the flag says the body was too large.
async fn read_body(mut body: IncomingBody) -> Result<(Bytes, bool), hyper::Error> {
    let mut kept = BytesMut::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame?.into_data() else {
            continue;
        };
        seen = seen.saturating_add(data.len());
        if seen <= MAX_REQUEST_BODY {
            kept.extend_from_slice(&data);
        } else if seen > MAX_DRAINED_BODY {
            break;
        }
    }
    if seen > MAX_REQUEST_BODY {
        Ok((Bytes::new(), true))
    } else {
        Ok((kept.freeze(), false))
    }
}

async fn handle(
    shared: Arc<Shared>,
    req: Request<IncomingBody>,
) -> Result<Response<ResBody>, Hangup> {
    let (parts, body) = req.into_parts();
    let Ok((body, too_large)) = read_body(body).await else {
        return Err(Hangup);
    };
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query();
    let content_type = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let decoded = if too_large {
        Decoded {
            params: Vec::new(),
            encoding: None,
            media_type: None,
            error: Some("request body too large".to_owned()),
        }
    } else {
        decode(&parts.method, content_type, query, &body)
    };

    let fault = {
        let mut state = shared.lock();
        *state.counts.entry(path.clone()).or_default() += 1;
        if state.recording {
            let headers = parts
                .headers
                .iter()
                .map(|(name, value)| {
                    (
                        name.as_str().to_owned(),
                        String::from_utf8_lossy(value.as_bytes()).into_owned(),
                    )
                })
                .collect();
            state.requests.push(RecordedRequest {
                method: parts.method.as_str().to_owned(),
                path: path.clone(),
                query: query.map(str::to_owned),
                headers,
                body: body.to_vec(),
                params: decoded.params.clone(),
                encoding: decoded.encoding,
            });
        }
        if too_large {
            None
        } else {
            state.take_fault(&path)
        }
    };
    if too_large {
        let reply = Reply::oauth_error("invalid_request", "request body too large");
        let mut response = into_response(reply, None);
        *response.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
        return Ok(response);
    }

    let mut dribble = None;
    match fault {
        None => {}
        Some(Fault::Delay(delay)) => tokio::time::sleep(delay).await,
        Some(Fault::SlowBody) => dribble = Some((4, Duration::from_millis(100))),
        Some(Fault::Dribble {
            chunk_size,
            interval,
        }) => dribble = Some((chunk_size, interval)),
        Some(Fault::CloseConnection) => return Err(Hangup),
        Some(fault) => return Ok(fault_response(fault)),
    }

    let incoming = Incoming {
        method: parts.method.as_str().to_owned(),
        authorization: parts
            .headers
            .get(AUTHORIZATION)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
        params: decoded.params,
        encoding: decoded.encoding,
        media_type: decoded.media_type,
        decode_error: decoded.error,
    };
    let reply = shared.lock().route(&path, &incoming);
    Ok(into_response(reply, dribble))
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn into_response(reply: Reply, dribble: Option<(usize, Duration)>) -> Response<ResBody> {
    let body = match dribble {
        Some((chunk_size, interval)) => {
            DribbleBody::new(Bytes::from(reply.body), chunk_size, interval).boxed()
        }
        None => full(reply.body),
    };
    let mut response = Response::new(body);
    *response.status_mut() = status(reply.status);
    for (name, value) in reply.headers {
        if let Ok(value) = HeaderValue::try_from(value) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

fn fault_response(fault: Fault) -> Response<ResBody> {
    let simple = |code: u16, content_type: &str, body: Vec<u8>| Reply {
        status: code,
        headers: if content_type.is_empty() {
            Vec::new()
        } else {
            vec![("content-type", content_type.to_owned())]
        },
        body,
    };
    let reply = match fault {
        Fault::Status {
            status: code,
            retry_after,
        } => {
            let error = if code == 429 {
                "too_many_requests"
            } else {
                "temporarily_unavailable"
            };
            let body = json!({
                "error": error,
                "error_description": format!("injected HTTP {code}"),
            });
            let mut reply = Reply::json(code, &body);
            if let Some(retry_after) = retry_after {
                reply.headers.push(("retry-after", retry_after));
            }
            reply
        }
        Fault::Oversized { bytes } => {
            let mut response = Response::new(OversizedBody::new(bytes).boxed());
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            return response;
        }
        Fault::Redirect {
            status: code,
            location,
        } => Reply {
            status: code,
            headers: vec![("location", location)],
            body: Vec::new(),
        },
        Fault::HtmlError { status: code } => {
            let reason = status(code).canonical_reason().unwrap_or("Error");
            return into_response(
                Reply::html(code, &format!("{code} {reason}"), "injected error page"),
                None,
            );
        }
        Fault::ErrorWith200 { error } => Reply::json(
            200,
            &json!({ "error": error, "error_description": "injected error with HTTP 200" }),
        ),
        Fault::Body {
            status: code,
            content_type,
            body,
        } => simple(code, &content_type, body),
        // Timing faults and hang-ups are handled by the caller.
        Fault::Delay(_) | Fault::SlowBody | Fault::Dribble { .. } | Fault::CloseConnection => {
            simple(500, "", Vec::new())
        }
    };
    into_response(reply, None)
}
