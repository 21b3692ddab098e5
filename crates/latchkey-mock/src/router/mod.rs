//! The in-memory router, [`Mock`]: one request in, one [`Routed`] out, on whatever time the
//! caller says. The socket server is a thin layer over it.

mod control;
mod cors;
mod decode;
mod traffic;

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use crate::clock::{Clock, after};
use crate::endpoint::{
    authorize, device, introspection, metadata, par, revocation, token, userinfo,
};
use crate::fault::Fault;
use crate::http::{Request, Response, Routed, SocketFault};
use crate::record::RecordedRequest;
use crate::shared::params::Incoming;
use crate::shared::reply::Reply;
use crate::shared::state::State;
use cors::Cors;
use decode::{Decoded, decode, split_target};
use traffic::{Traffic, canned_answer};

/// Request bodies larger than this get `413 Payload Too Large` (recorded with an empty body).
pub(crate) const MAX_REQUEST_BODY: usize = 1024 * 1024;

/// How [`Fault::SlowBody`] paces the body: 4 bytes every 100 ms.
const SLOW_BODY: (usize, Duration) = (4, Duration::from_millis(100));

struct Shared {
    state: Mutex<State>,
    traffic: Mutex<Traffic>,
    clock: Clock,
}

/// The authorization server without a socket: registered clients, the user, grants, tokens,
/// armed faults and the record of requests, answering [`Request`]s in memory with
/// [`route`](Self::route).
///
/// Built by [`MockServerBuilder::build`](crate::MockServerBuilder::build), or found inside a
/// running [`MockServer`](crate::MockServer) (which dereferences to its `Mock`, so everything
/// here works on a server too). Clones share one server.
///
/// ```
/// use std::time::Duration;
/// use latchkey_mock::{MockClient, MockClock, MockServer, Request};
///
/// let clock = MockClock::new();
/// let mock = MockServer::builder()
///     .client(MockClient::new("m2m").secret("s").expires_in(60))
///     .clock(clock.clone())
///     .build();
/// let token = mock
///     .route_now(
///         Request::post_form("/token", &[("grant_type", "client_credentials")])
///             .with_header("authorization", "Basic bTJtOnM="),
///     )
///     .into_response()
///     .unwrap();
/// assert_eq!(token.status, 200);
/// let body: serde_json::Value = serde_json::from_slice(&token.body).unwrap();
/// let access = body["access_token"].as_str().unwrap();
/// assert!(mock.access_token_active(access));
/// clock.advance(Duration::from_secs(60));
/// assert!(!mock.access_token_active(access));
/// ```
#[derive(Clone)]
pub struct Mock {
    shared: Arc<Shared>,
}

impl fmt::Debug for Mock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mock")
            .field("url", &self.lock().base)
            .finish_non_exhaustive()
    }
}

/// A request that came in: counted, recorded, and with the fault armed for its path taken.
#[derive(Debug)]
pub(crate) struct Arrival {
    path: String,
    method: String,
    authorization: Option<String>,
    dpop: Vec<String>,
    decoded: Decoded,
    too_large: bool,
    fault: Option<Fault>,
    cors: Cors,
}

impl Arrival {
    /// How long a socket waits before handling it ([`Fault::Delay`]).
    pub(crate) fn delay(&self) -> Option<Duration> {
        match self.fault {
            Some(Fault::Delay(delay)) => Some(delay),
            _ => None,
        }
    }
}

impl Mock {
    pub(crate) fn new(state: State, clock: Clock, recording: bool) -> Self {
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(state),
                traffic: Mutex::new(Traffic {
                    recording,
                    ..Traffic::default()
                }),
                clock,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn traffic(&self) -> MutexGuard<'_, Traffic> {
        self.shared
            .traffic
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Answers `request` as at `now`, with no socket. The request is counted and recorded and
    /// uses up an armed fault exactly as over HTTP. Faults that a socket shows by timing or by
    /// hanging up come back as [`Routed::Fault`]; after [`Fault::Delay`] the request is handled
    /// as at `now` plus the delay. A body over 1 MiB gets `413`, as over HTTP.
    ///
    /// Time-dependent answers (expiry of codes, tokens and device codes, the device polling
    /// interval, `created_at`, introspection's `iat` and `exp`) follow `now`; the inspection
    /// methods such as [`access_token_active`](Self::access_token_active) follow the builder's
    /// [clock](crate::MockServerBuilder::clock). Pass [`now`](Self::now) to keep them in step,
    /// or use [`route_now`](Self::route_now).
    pub fn route(&self, now: SystemTime, request: Request) -> Routed {
        let too_large = request.body.len() > MAX_REQUEST_BODY;
        let arrival = self.receive(request, too_large);
        let now = arrival.delay().map_or(now, |delay| after(now, delay));
        self.respond(now, arrival)
    }

    /// [`route`](Self::route) at the time of the builder's clock.
    pub fn route_now(&self, request: Request) -> Routed {
        self.route(self.now(), request)
    }

    /// The time of the builder's [clock](crate::MockServerBuilder::clock): the system's unless a
    /// [`MockClock`](crate::MockClock) was given.
    pub fn now(&self) -> SystemTime {
        self.shared.clock.now()
    }

    /// Counts and records a request and takes the fault armed for its path. `too_large` says
    /// that its body went over [`MAX_REQUEST_BODY`] (and was dropped).
    pub(crate) fn receive(&self, request: Request, too_large: bool) -> Arrival {
        let Request {
            method,
            target,
            headers,
            body,
        } = request;
        let (path, query) = split_target(&target);
        let cors = Cors::new(&self.lock().config.cors_origins, &method, &headers);
        let body = if too_large { Vec::new() } else { body };
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let authorization = header("authorization");
        let dpop = headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("dpop"))
            .map(|(_, v)| v.clone())
            .collect();
        let decoded = if too_large {
            Decoded::failed("request body too large")
        } else {
            decode(
                &method,
                header("content-type").as_deref(),
                query.as_deref(),
                &body,
            )
        };
        let mut traffic = self.traffic();
        // A preflight is recorded, but leaves the fault for the request it announces.
        let fault = if too_large || cors.is_preflight() {
            None
        } else {
            traffic.take_fault(&path)
        };
        traffic.note(RecordedRequest {
            method: method.clone(),
            path: path.clone(),
            query,
            headers: headers
                .into_iter()
                .map(|(name, value)| (name.to_ascii_lowercase(), value))
                .collect(),
            body,
            params: decoded.params.clone(),
            encoding: decoded.encoding,
        });
        drop(traffic);
        Arrival {
            path,
            method,
            authorization,
            dpop,
            decoded,
            too_large,
            fault,
            cors,
        }
    }

    /// Answers a request that came in, as at `now`: the endpoint's answer, or the fault's.
    pub(crate) fn respond(&self, now: SystemTime, mut arrival: Arrival) -> Routed {
        if arrival.cors.is_preflight() {
            return Routed::Answer(arrival.cors.preflight_answer());
        }
        let cors = std::mem::take(&mut arrival.cors);
        cors.decorate(self.answer(now, arrival))
    }

    /// [`respond`](Self::respond) before CORS.
    fn answer(&self, now: SystemTime, arrival: Arrival) -> Routed {
        if arrival.too_large {
            let mut reply = Reply::oauth_error("invalid_request", "request body too large");
            reply.status = 413;
            return Routed::Answer(sendable(reply));
        }
        let fault = arrival.fault.clone();
        if let Some(reply) = fault.as_ref().and_then(canned_answer) {
            return Routed::Answer(sendable(reply));
        }
        let answer = |arrival| sendable(self.dispatch(now, arrival));
        match fault {
            Some(Fault::Delay(delay)) => Routed::Fault(SocketFault::Delay {
                delay,
                response: answer(arrival),
            }),
            Some(Fault::SlowBody) => Routed::Fault(SocketFault::Dribble {
                chunk_size: SLOW_BODY.0,
                interval: SLOW_BODY.1,
                response: answer(arrival),
            }),
            Some(Fault::Dribble {
                chunk_size,
                interval,
            }) => Routed::Fault(SocketFault::Dribble {
                chunk_size: chunk_size.max(1),
                interval,
                response: answer(arrival),
            }),
            Some(Fault::Oversized { bytes }) => Routed::Fault(SocketFault::Oversized { bytes }),
            Some(Fault::CloseConnection) => Routed::Fault(SocketFault::CloseConnection),
            _ => Routed::Answer(answer(arrival)),
        }
    }

    /// The endpoint for the path.
    fn dispatch(&self, now: SystemTime, arrival: Arrival) -> Reply {
        let mut state = self.lock();
        let state = &mut *state;
        let req = Incoming {
            now,
            method: arrival.method,
            authorization: arrival.authorization,
            dpop: arrival.dpop,
            url: format!("{}{}", state.base, arrival.path),
            path: arrival.path.clone(),
            params: arrival.decoded.params,
            encoding: arrival.decoded.encoding,
            media_type: arrival.decoded.media_type,
            decode_error: arrival.decoded.error,
        };
        match arrival.path.as_str() {
            "/authorize" => authorize::handle(state, &req),
            "/token" => token::handle(state, &req),
            "/userinfo" => userinfo::handle(state, &req),
            "/revoke" => revocation::handle(state, &req),
            "/introspect" => introspection::handle(state, &req),
            "/device_authorization" => device::handle(state, &req),
            "/device" => device::page(state, &req),
            "/par" => par::handle(state, &req),
            "/jwks" => Reply::json(200, &state.keys.jwks()),
            path if metadata::is_metadata_path(state, path) => metadata::handle(state),
            path => Reply::json(
                404,
                &serde_json::json!({ "error": "not_found", "error_description": format!("no endpoint at {path}") }),
            ),
        }
    }
}

/// A reply as a socket can send it: a status HTTP allows (else 500) and no header value
/// with control characters (such a header is left out).
fn sendable(reply: Reply) -> Response {
    let mut response = Response::from(reply);
    if !(100..=999).contains(&response.status) {
        response.status = 500;
    }
    response.headers.retain(|(_, value)| {
        value
            .bytes()
            .all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f))
    });
    response
}
