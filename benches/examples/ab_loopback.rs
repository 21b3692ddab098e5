//! Interleaved A/B timing of the loopback pairs, for a machine too busy for criterion: rounds
//! of a batch through the adapter and a batch of the raw client (order alternating), client
//! and server pinned to one core as in `benches/loopback.rs`. Prints, per pair, the median
//! time per request of each side over the rounds and the median of the per-round ratios
//! (raw / adapter, the throughput ratio). Both sides of a round see the same load, which two
//! criterion benchmarks a minute apart do not.
//!
//! A second line per pair compares the adapter with the raw client plus the core's own work
//! (building the exchange and its request, reading the token response): what is left is the
//! adapter's. For ureq, a third compares it with the raw client given the adapter's timeouts.
//!
//! Usage: `ab_loopback [reqwest|ureq|both] [ROUNDS] [BATCH]` (defaults: both, 40, 500).

use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime};

use latchkey::{Exchange as _, Response};

#[path = "../benches/common/loopback.rs"]
mod raw;
use raw::{RawReqwest, RawUreq, client, runtime, server, wire_request};

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "both".into());
    let rounds: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(40);
    let batch: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(500);
    if let Some(core) = core_affinity::get_core_ids().and_then(|ids| ids.into_iter().next()) {
        core_affinity::set_for_current(core);
    }
    let server = server();
    let client = client(&server);
    let wire = wire_request(&client);

    if which == "ureq" || which == "both" {
        let raw_client = RawUreq::new(&wire);
        let transport = latchkey_ureq::Transport::new();
        let mut adapter = || {
            let cc = client.client_credentials().expect("confidential");
            black_box(transport.send(cc).expect("token"));
        };
        let mut raw = || drop(raw_client.post(false));
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
            drop(black_box(cc.request().expect("request")));
            let bytes = raw_client.post(false);
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
        // Context: the raw POST with the timeouts the adapter sets. With any overall timeout,
        // ureq looks the host up on a new thread for every request, IP literals included.
        let mut raw_with_timeouts = || drop(raw_client.post(true));
        report(
            "ureq (raw with the adapter's timeouts)",
            rounds,
            batch,
            &mut |n| time(n, &mut adapter),
            &mut |n| time(n, &mut raw_with_timeouts),
        );
    }

    if which == "reqwest" || which == "both" {
        let runtime = runtime();
        let http = RawReqwest::new(&wire, false);
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
                    drop(http.post().await);
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
                    drop(black_box(cc.request().expect("request")));
                    let bytes = http.post().await;
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
