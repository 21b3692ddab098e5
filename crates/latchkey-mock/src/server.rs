//! The socket layer: a loopback listener on a background thread whose every request goes
//! through the in-memory router ([`Mock`]). This file only converts between hyper and the
//! router's [`Request`](crate::Request) and [`Routed`], and shows the faults a socket
//! can: waiting, dribbling, streaming an oversized body, hanging up.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Incoming as IncomingBody;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{StatusCode, header::HeaderName};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::body::{DribbleBody, OversizedBody, ResBody, full};
use crate::http::{Request, Response, Routed, SocketFault};
use crate::router::{MAX_REQUEST_BODY, Mock};

/// How much of a too-large body is read and thrown away before the answer.
const MAX_DRAINED_BODY: usize = 64 * 1024 * 1024;

/// An OAuth 2.0 authorization server running in-process on a loopback port: a [`Mock`]
/// behind a socket.
///
/// Endpoints: `GET /authorize`, `POST /token`, `GET|POST /userinfo`, `POST /revoke`
/// (RFC 7009), `POST /introspect` (RFC 7662), `POST /device_authorization` and `GET /device`
/// (RFC 8628), `POST /par` (RFC 9126), and the metadata at
/// `GET /.well-known/oauth-authorization-server` (RFC 8414) and
/// `GET /.well-known/openid-configuration`. Every inspection and control method of [`Mock`]
/// (counts, records, faults, device approval...) is available on the server through `Deref`.
/// Dropping the server stops it, closes every connection, frees the port and joins its thread.
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
    mock: Mock,
    addr: SocketAddr,
    connections: Arc<AtomicU64>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl fmt::Debug for MockServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockServer")
            .field("url", &self.mock.url())
            .finish_non_exhaustive()
    }
}

impl Deref for MockServer {
    type Target = Mock;

    fn deref(&self) -> &Mock {
        &self.mock
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
    /// Serves `mock` on `listener` from a tokio runtime on a dedicated background thread.
    pub(crate) fn serve(listener: std::net::TcpListener, mock: Mock) -> io::Result<Self> {
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let connections = Arc::new(AtomicU64::new(0));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (shutdown, stopped) = oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<io::Result<()>>();
        let served = mock.clone();
        let counter = Arc::clone(&connections);
        let thread = thread::Builder::new()
            .name(format!("latchkey-mock-{}", addr.port()))
            .spawn(move || {
                runtime.block_on(async move {
                    match TcpListener::from_std(listener) {
                        Ok(listener) => {
                            let _ = ready_tx.send(Ok(()));
                            tokio::spawn(accept_loop(listener, served, counter));
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
        let server = Self {
            mock,
            addr,
            connections,
            shutdown: Some(shutdown),
            thread: Some(thread),
        };
        ready.map(|()| server)
    }

    /// Stops the server (the same as dropping it).
    pub fn shutdown(self) {}

    /// The bound address (`127.0.0.1` and an ephemeral port).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The router behind the socket, to clone or to call [`Mock::route`] on directly; it
    /// shares every client, token, fault and record with the server.
    pub fn mock(&self) -> &Mock {
        &self.mock
    }

    /// How many TCP connections were accepted (a keep-alive client reuses one).
    pub fn connection_count(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }
}

async fn accept_loop(listener: TcpListener, mock: Mock, connections: Arc<AtomicU64>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // E.g. out of file descriptors: back off instead of spinning.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        connections.fetch_add(1, Ordering::Relaxed);
        let mock = mock.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| handle(mock.clone(), req));
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

/// One request: into the router's types, through [`Mock::receive`], the fault's pause if
/// any, [`Mock::respond`] at the clock's time, and back into hyper's types.
async fn handle(
    mock: Mock,
    req: hyper::Request<IncomingBody>,
) -> Result<hyper::Response<ResBody>, Hangup> {
    let (parts, body) = req.into_parts();
    let Ok((body, too_large)) = read_body(body).await else {
        return Err(Hangup);
    };
    let request = Request {
        method: parts.method.as_str().to_owned(),
        target: parts.uri.to_string(),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: body.into(),
    };
    let arrival = mock.receive(request, too_large);
    if let Some(delay) = arrival.delay() {
        tokio::time::sleep(delay).await;
    }
    match mock.respond(mock.now(), arrival) {
        Routed::Answer(response) | Routed::Fault(SocketFault::Delay { response, .. }) => {
            Ok(into_hyper(response, full))
        }
        Routed::Fault(SocketFault::Dribble {
            chunk_size,
            interval,
            response,
        }) => Ok(into_hyper(response, |body| {
            DribbleBody::new(Bytes::from(body), chunk_size, interval).boxed()
        })),
        Routed::Fault(SocketFault::Oversized { bytes }) => {
            let mut response = hyper::Response::new(OversizedBody::new(bytes).boxed());
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            Ok(response)
        }
        Routed::Fault(SocketFault::CloseConnection) => Err(Hangup),
    }
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

/// A router [`Response`] as a hyper response, its body made by `body`.
fn into_hyper(
    response: Response,
    body: impl FnOnce(Vec<u8>) -> ResBody,
) -> hyper::Response<ResBody> {
    let mut out = hyper::Response::new(body(response.body));
    *out.status_mut() =
        StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in response.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            out.headers_mut().append(name, value);
        }
    }
    out
}
