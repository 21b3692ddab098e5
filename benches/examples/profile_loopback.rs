//! Sends N client-credentials requests over loopback keep-alive, for
//! `valgrind --tool=callgrind --toggle-collect='*profile_loopback::measured*'`: the client
//! side of `benches/loopback.rs`, one side at a time, so that the instructions one request
//! costs in each can be compared (callgrind counts per thread; the server thread is not
//! collected).
//!
//! Usage: `profile_loopback SIDE N`, SIDE one of `reqwest_latchkey`, `reqwest_raw`,
//! `reqwest_raw_with_timeouts`, `ureq_latchkey`, `ureq_raw`, `ureq_raw_with_timeouts`.

use std::hint::black_box;

#[path = "../benches/common/loopback.rs"]
mod raw;
use raw::{RawReqwest, RawUreq, client, runtime, server, wire_request};

const WARM_UP: usize = 200;

fn main() {
    let mut args = std::env::args().skip(1);
    let side = args.next().unwrap_or_default();
    let n: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(2_000);
    let server = server();
    let client = client(&server);
    let wire = wire_request(&client);

    if let Some(which) = side.strip_prefix("ureq_") {
        let raw_client = RawUreq::new(&wire);
        let transport = latchkey_ureq::Transport::new();
        let mut one = || match which {
            "latchkey" => {
                let cc = client.client_credentials().expect("confidential");
                drop(black_box(transport.send(cc).expect("token")));
            }
            "raw" => drop(raw_client.post(false)),
            "raw_with_timeouts" => drop(raw_client.post(true)),
            other => panic!("unknown side ureq_{other}"),
        };
        for _ in 0..WARM_UP {
            one();
        }
        measured(n, &mut one);
        return;
    }

    let runtime = runtime();
    let http = RawReqwest::new(&wire, side == "reqwest_raw_with_timeouts");
    let transport = latchkey_reqwest::Transport::new();
    let latchkey = side == "reqwest_latchkey";
    assert!(
        latchkey || side.starts_with("reqwest_raw"),
        "unknown side {side}"
    );
    let mut one = || {
        runtime.block_on(async {
            if latchkey {
                let cc = client.client_credentials().expect("confidential");
                drop(black_box(transport.send(cc).await.expect("token")));
            } else {
                drop(http.post().await);
            }
        });
    };
    for _ in 0..WARM_UP {
        one();
    }
    measured(n, &mut one);
}

/// The loop callgrind counts.
#[inline(never)]
fn measured(n: usize, one: &mut dyn FnMut()) {
    for _ in 0..n {
        one();
    }
}
