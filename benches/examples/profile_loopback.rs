//! Sends N client-credentials requests over loopback keep-alive, for
//! `valgrind --tool=callgrind --toggle-collect='*profile_loopback::measured*'`: the client
//! side of `benches/loopback.rs`, one side at a time, so that the instructions one request
//! costs in each can be compared (callgrind counts per thread; the server thread is not
//! collected).
//!
//! Usage: `profile_loopback SIDE N`, SIDE one of `reqwest_latchkey`, `reqwest_raw`,
//! `reqwest_raw_with_timeouts`, `ureq_latchkey`, `ureq_raw`.

use std::hint::black_box;
use std::io::Read as _;
use std::time::Duration;

use latchkey::{Client, Exchange as _};
use latchkey_benches::{CLIENT_ID, CLIENT_SECRET};
use latchkey_mock::{MockClient, MockServer};

const WARM_UP: usize = 200;

fn main() {
    let mut args = std::env::args().skip(1);
    let side = args.next().unwrap_or_default();
    let n: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(2_000);
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

    if let Some(which) = side.strip_prefix("ureq_") {
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
        let mut one = || match which {
            "latchkey" => {
                let cc = client.client_credentials().expect("confidential");
                drop(black_box(transport.send(cc).expect("token")));
            }
            "raw" => {
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
                drop(black_box(bytes));
            }
            other => panic!("unknown side ureq_{other}"),
        };
        for _ in 0..WARM_UP {
            one();
        }
        measured(n, &mut one);
        return;
    }

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
    let mut builder = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
    if side == "reqwest_raw_with_timeouts" {
        builder = builder
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30));
    }
    let http = builder.build().expect("reqwest client");
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
                let request = http.post(&url).headers(headers.clone()).body(body.clone());
                let response = request.send().await.expect("send");
                drop(black_box(response.bytes().await.expect("body")));
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
