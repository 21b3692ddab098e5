//! Client-credentials requests over loopback, keep-alive, through each adapter against a raw
//! POST of the very same bytes (method, URL, headers, body) to the same `latchkey-mock` server.
//!
//! The bench thread pins itself to one core before it starts the server and the runtimes, so
//! the server thread, the tokio runtime (current-thread, on the bench thread) and any helper
//! thread inherit that single-core affinity: client and server share one core, as the issue
//! asks. `LATCHKEY_BENCH_CORE` picks the core (default 0); `none` turns pinning off.
//!
//! Paired sampling: the machines this runs on are shared, and a 2% difference is smaller than
//! the drift between two criterion runs a few seconds apart. So every measured request is
//! followed by an unmeasured request of its partner (latchkey's by raw's and the other way
//! round), and each benchmark times only its own requests: both sides see the same load, the
//! same server state and the same connection. A criterion median is the time of one request;
//! the ratio table reports throughput as raw time / library time.

use std::future::Future;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use latchkey_benches::{CLIENT_ID, CLIENT_SECRET};
use latchkey_mock::MockServer;

#[path = "common/loopback.rs"]
mod raw;
use oauth2::TokenUrl;
use oauth2::basic::BasicClient;
use raw::{RawReqwest, RawUreq, client, runtime, server, wire_request};

fn pin() {
    let wanted = std::env::var("LATCHKEY_BENCH_CORE").unwrap_or_else(|_| "0".into());
    if wanted == "none" {
        eprintln!("loopback: not pinned (LATCHKEY_BENCH_CORE=none)");
        return;
    }
    let id: usize = wanted.parse().unwrap_or(0);
    let pinned = core_affinity::get_core_ids()
        .and_then(|ids| ids.into_iter().find(|c| c.id == id))
        .is_some_and(core_affinity::set_for_current);
    if pinned {
        eprintln!("loopback: client and server pinned to core {id}");
    } else {
        eprintln!("loopback: could not pin to core {id}; running unpinned");
    }
}

/// Times `iters` calls of `own`, each followed by an untimed call of `partner`.
fn paired(iters: u64, mut own: impl FnMut(), mut partner: impl FnMut()) -> Duration {
    let mut spent = Duration::ZERO;
    for _ in 0..iters {
        let start = Instant::now();
        own();
        spent += start.elapsed();
        partner();
    }
    spent
}

/// [`paired`] for async requests, on a current-thread runtime.
fn paired_async<A, B>(
    runtime: &tokio::runtime::Runtime,
    iters: u64,
    mut own: impl FnMut() -> A,
    mut partner: impl FnMut() -> B,
) -> Duration
where
    A: Future<Output = ()>,
    B: Future<Output = ()>,
{
    runtime.block_on(async {
        let mut spent = Duration::ZERO;
        for _ in 0..iters {
            let start = Instant::now();
            own().await;
            spent += start.elapsed();
            partner().await;
        }
        spent
    })
}

/// Keep-alive check: prints how many requests and connections the last benchmark made (a
/// handful of connections for many thousand requests).
struct Tally<'a> {
    server: &'a MockServer,
    requests: usize,
    connections: u64,
}

impl<'a> Tally<'a> {
    fn new(server: &'a MockServer) -> Self {
        Self {
            server,
            requests: server.request_count("/token"),
            connections: server.connection_count(),
        }
    }

    fn report(&mut self, name: &str) {
        let (requests, connections) = (
            self.server.request_count("/token"),
            self.server.connection_count(),
        );
        if requests == self.requests {
            return; // filtered out
        }
        eprintln!(
            "{name}: {} requests (half of them its partner's) over {} new connections",
            requests - self.requests,
            connections - self.connections
        );
        self.requests = requests;
        self.connections = connections;
    }
}

fn ureq_pair(c: &mut Criterion) {
    let server = server();
    let client = client(&server);
    let raw_client = RawUreq::new(&wire_request(&client));
    let transport = latchkey_ureq::Transport::new();

    let send_raw = |timeouts: bool| drop(raw_client.post(timeouts));
    let raw = || send_raw(false);
    let latchkey = || {
        let cc = client.client_credentials().expect("confidential");
        black_box(transport.send(cc).expect("token"));
    };

    let mut g = c.benchmark_group("loopback_ureq");
    let mut tally = Tally::new(&server);
    g.bench_function("raw", |b| b.iter_custom(|n| paired(n, raw, latchkey)));
    tally.report("loopback_ureq/raw");
    g.bench_function("latchkey", |b| b.iter_custom(|n| paired(n, latchkey, raw)));
    tally.report("loopback_ureq/latchkey");
    // Context: the raw POST with the per-request timeouts latchkey-ureq sets (10 s connect,
    // 30 s overall). With a timeout on the resolve phase, ureq 3 resolves the host on a new
    // thread for every request, pooled connection or not (`DefaultResolver::resolve`).
    g.bench_function("raw_with_timeouts", |b| {
        b.iter_custom(|n| paired(n, || send_raw(true), raw));
    });
    tally.report("loopback_ureq/raw_with_timeouts");
    g.finish();
}

fn reqwest_pair(c: &mut Criterion) {
    let server = server();
    let client = client(&server);
    let wire = wire_request(&client);
    let runtime = runtime();
    let http = RawReqwest::new(&wire, false);
    // The same with the timeouts latchkey-reqwest sets on its client.
    let http_with_timeouts = RawReqwest::new(&wire, true);
    let transport = latchkey_reqwest::Transport::new();

    let raw = || async { drop(http.post().await) };
    let latchkey = || {
        let cc = client.client_credentials().expect("confidential");
        let transport = &transport;
        async move {
            black_box(transport.send(cc).await.expect("token"));
        }
    };

    let mut g = c.benchmark_group("loopback_reqwest");
    let mut tally = Tally::new(&server);
    g.bench_function("raw", |b| {
        b.iter_custom(|n| paired_async(&runtime, n, raw, latchkey));
    });
    tally.report("loopback_reqwest/raw");
    g.bench_function("latchkey", |b| {
        b.iter_custom(|n| paired_async(&runtime, n, latchkey, raw));
    });
    tally.report("loopback_reqwest/latchkey");
    g.bench_function("raw_with_timeouts", |b| {
        b.iter_custom(|n| {
            paired_async(
                &runtime,
                n,
                || async { drop(http_with_timeouts.post().await) },
                raw,
            )
        });
    });
    tally.report("loopback_reqwest/raw_with_timeouts");
    g.finish();
}

/// The reference point: `oauth2` over its own reqwest (0.12) client against a raw
/// reqwest 0.12 POST of the same bytes through the same client.
fn oauth2_reqwest_pair(c: &mut Criterion) {
    let server = server();
    let client = client(&server);
    let wire = wire_request(&client);
    let url = wire.url.as_str().to_owned();
    let mut headers = reqwest012::header::HeaderMap::new();
    for (n, v) in wire.headers.iter() {
        headers.append(
            reqwest012::header::HeaderName::from_bytes(n.as_bytes()).expect("name"),
            reqwest012::header::HeaderValue::from_str(v).expect("value"),
        );
    }
    let body = bytes::Bytes::from(wire.body);

    let runtime = runtime();
    let http = reqwest012::Client::builder()
        .redirect(reqwest012::redirect::Policy::none())
        .build()
        .expect("reqwest client");
    let oauth2 = BasicClient::new(oauth2::ClientId::new(CLIENT_ID.into()))
        .set_client_secret(oauth2::ClientSecret::new(CLIENT_SECRET.into()))
        .set_token_uri(TokenUrl::new(server.token_endpoint()).expect("token url"));

    let raw = || {
        let request = http.post(&url).headers(headers.clone()).body(body.clone());
        async move {
            let response = request.send().await.expect("send");
            assert_eq!(response.status(), 200);
            black_box(response.bytes().await.expect("body"));
        }
    };
    let peer = || {
        let (oauth2, http) = (&oauth2, &http);
        async move {
            let token = oauth2
                .exchange_client_credentials()
                .request_async(http)
                .await
                .expect("token");
            black_box(token);
        }
    };

    let mut g = c.benchmark_group("loopback_oauth2_reqwest");
    let mut tally = Tally::new(&server);
    g.bench_function("raw", |b| {
        b.iter_custom(|n| paired_async(&runtime, n, raw, peer));
    });
    tally.report("loopback_oauth2_reqwest/raw");
    g.bench_function("oauth2", |b| {
        b.iter_custom(|n| paired_async(&runtime, n, peer, raw));
    });
    tally.report("loopback_oauth2_reqwest/oauth2");
    g.finish();
}

fn config() -> Criterion {
    pin();
    Criterion::default()
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(6))
        .configure_from_args()
}

criterion_group! {
    name = benches;
    config = config();
    targets = ureq_pair, reqwest_pair, oauth2_reqwest_pair
}
criterion_main!(benches);
