//! Interleaved A/B timing of the loopback pairs, for a machine too busy for criterion: rounds
//! of a batch through the adapter and a batch of the raw client (order alternating), client
//! and server pinned to one core as in `benches/loopback.rs`. Prints, per pair, the median
//! time per request of each side over the rounds and the median of the per-round ratios
//! (raw / adapter, the throughput ratio). Both sides of a round see the same load, which two
//! criterion benchmarks a minute apart do not.
//!
//! A second line per pair compares the adapter with the raw client plus the core's own work
//! (building the exchange and its request, reading the token response): what is left is the
//! adapter's.
//!
//! Usage: `ab_loopback [reqwest|ureq|both] [ROUNDS] [BATCH]` (defaults: both, 40, 500).

use std::hint::black_box;
use std::io::Read as _;
use std::time::{Duration, Instant, SystemTime};

use latchkey::{Client, Exchange as _, Response};
use latchkey_benches::{CLIENT_ID, CLIENT_SECRET};
use latchkey_mock::{MockClient, MockServer};

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "both".into());
    let rounds: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(40);
    let batch: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(500);
    if let Some(core) = core_affinity::get_core_ids().and_then(|ids| ids.into_iter().next()) {
        core_affinity::set_for_current(core);
    }
    let server = MockServer::builder()
        .client(MockClient::new(CLIENT_ID).secret(CLIENT_SECRET))
        .record_requests(false)
        .start();
    let client = Client::builder(CLIENT_ID)
        .client_secret(CLIENT_SECRET)
        .token_endpoint(server.token_endpoint())
        .build()
        .expect("client");
    let wire = client.client_credentials().expect("confidential").request();
    let url = wire.url.as_str().to_owned();

    if which == "ureq" || which == "both" {
        let headers: Vec<(String, String)> = wire
            .headers
            .iter()
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect();
        let body = &wire.body;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .max_redirects(0)
            .http_status_as_error(false)
            .build()
            .into();
        let transport = latchkey_ureq::Transport::new();
        let mut adapter = || {
            let cc = client.client_credentials().expect("confidential");
            black_box(transport.send(cc).expect("token"));
        };
        let mut raw = || {
            let mut request = agent.post(&url);
            for (n, v) in &headers {
                request = request.header(n, v);
            }
            let response = request.send(&body[..]).expect("send");
            assert_eq!(response.status(), 200);
            let mut bytes = Vec::new();
            response
                .into_body()
                .into_reader()
                .read_to_end(&mut bytes)
                .expect("body");
            black_box(bytes);
        };
        report(
            "ureq",
            rounds,
            batch,
            &mut |n| time(n, &mut adapter),
            &mut |n| time(n, &mut raw),
        );
        // Context: the raw POST plus the core's own work on each side of it (building the
        // exchange and its request, reading the token response), without any adapter.
        let mut raw_plus_core = || {
            let cc = client.client_credentials().expect("confidential");
            drop(black_box(cc.request()));
            let mut request = agent.post(&url);
            for (n, v) in &headers {
                request = request.header(n, v);
            }
            let response = request.send(&body[..]).expect("send");
            let mut bytes = Vec::new();
            response
                .into_body()
                .into_reader()
                .read_to_end(&mut bytes)
                .expect("body");
            black_box(
                cc.response(Response::json(200, bytes, SystemTime::now()))
                    .expect("token"),
            );
        };
        report(
            "ureq (raw + core work)",
            rounds,
            batch,
            &mut |n| time(n, &mut adapter),
            &mut |n| time(n, &mut raw_plus_core),
        );
    }

    if which == "reqwest" || which == "both" {
        let mut headers = reqwest::header::HeaderMap::new();
        for (n, v) in wire.headers.iter() {
            headers.append(
                reqwest::header::HeaderName::from_bytes(n.as_bytes()).expect("name"),
                reqwest::header::HeaderValue::from_str(v).expect("value"),
            );
        }
        let body = bytes::Bytes::from(wire.body);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("reqwest client");
        let transport = latchkey_reqwest::Transport::new();
        let mut adapter = |n: usize| {
            runtime.block_on(async {
                let start = Instant::now();
                for _ in 0..n {
                    let cc = client.client_credentials().expect("confidential");
                    black_box(transport.send(cc).await.expect("token"));
                }
                start.elapsed()
            })
        };
        let mut raw = |n: usize| {
            runtime.block_on(async {
                let start = Instant::now();
                for _ in 0..n {
                    let request = http.post(&url).headers(headers.clone()).body(body.clone());
                    let response = request.send().await.expect("send");
                    assert_eq!(response.status(), 200);
                    black_box(response.bytes().await.expect("body"));
                }
                start.elapsed()
            })
        };
        report("reqwest", rounds, batch, &mut adapter, &mut raw);
        let mut raw_plus_core = |n: usize| {
            runtime.block_on(async {
                let start = Instant::now();
                for _ in 0..n {
                    let cc = client.client_credentials().expect("confidential");
                    drop(black_box(cc.request()));
                    let request = http.post(&url).headers(headers.clone()).body(body.clone());
                    let response = request.send().await.expect("send");
                    let bytes = response.bytes().await.expect("body");
                    let answer = Response::json(200, bytes.to_vec(), SystemTime::now());
                    black_box(cc.response(answer).expect("token"));
                }
                start.elapsed()
            })
        };
        report(
            "reqwest (raw + core work)",
            rounds,
            batch,
            &mut adapter,
            &mut raw_plus_core,
        );
    }
}

fn time(n: usize, one: &mut dyn FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        one();
    }
    start.elapsed()
}

fn report(
    name: &str,
    rounds: usize,
    batch: usize,
    adapter: &mut dyn FnMut(usize) -> Duration,
    raw: &mut dyn FnMut(usize) -> Duration,
) {
    // Warm-up: connections, allocator, caches.
    adapter(batch);
    raw(batch);
    let (mut a, mut r, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let (ta, tr) = if round % 2 == 0 {
            let ta = adapter(batch);
            (ta, raw(batch))
        } else {
            let tr = raw(batch);
            (adapter(batch), tr)
        };
        let (ta, tr) = (per_request(ta, batch), per_request(tr, batch));
        a.push(ta);
        r.push(tr);
        ratios.push(tr / ta);
    }
    let (ma, mr, mratio) = (median(&mut a), median(&mut r), median(&mut ratios));
    println!(
        "{name}: adapter {ma:.2} µs, raw {mr:.2} µs per request (medians of {rounds} rounds of \
         {batch}); median ratio raw/adapter {mratio:.3}× ({:+.2} µs/request)",
        ma - mr
    );
}

fn per_request(d: Duration, n: usize) -> f64 {
    d.as_secs_f64() * 1e6 / n as f64
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
