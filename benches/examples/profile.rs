//! Runs one benchmarked operation N times, for `valgrind --tool=callgrind` (see
//! `benches/profile.sh`, which collects only inside [`measured`], the loop, and divides the
//! instruction count by N).
//!
//! Usage: `profile OPERATION N`; `profile list` names the operations.

use std::hint::black_box;

use latchkey_benches::{
    CALLBACK_FRAGMENT, CALLBACK_QUERY, STATE, TOKEN_JSON, baseline_callback_fragment,
    baseline_callback_query, floor_getrandom, floor_pkce, floor_pkce_os_call, floor_token,
    floor_token_owned, now,
};

#[path = "../benches/common/mod.rs"]
mod common;
use common::Fixtures;

const OPERATIONS: &[&str] = &[
    "authorization_url/latchkey",
    "authorization_url/oauth2",
    "authorization_url/latchkey_supplied_randomness",
    "authorization_url/oauth2_supplied_randomness",
    "pkce/latchkey",
    "pkce/oauth2",
    "pkce/floor",
    "pkce/getrandom_32",
    "pkce/floor_os_call",
    "token_response/latchkey",
    "token_response/oauth2",
    "token_response/floor",
    "token_response/floor_owned",
    "callback_query/latchkey",
    "callback_query/baseline",
    "callback_query/latchkey_parse_only",
    "callback_fragment/latchkey",
    "callback_fragment/baseline",
    "client_credentials_in_memory/latchkey",
    "client_credentials_in_memory/oauth2",
];

fn main() {
    let mut args = std::env::args().skip(1);
    let op = args.next().unwrap_or_else(|| "list".into());
    if op == "list" {
        for op in OPERATIONS {
            println!("{op}");
        }
        return;
    }
    let n: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(10_000);
    let f = Fixtures::new();
    // The callbacks consume a pending value: made here, outside the measured loop.
    let pending_code: Vec<_> = if op == "callback_query/latchkey" {
        (0..n).map(|_| f.pending_code()).collect()
    } else {
        Vec::new()
    };
    let pending_implicit: Vec<_> = if op == "callback_fragment/latchkey" {
        (0..n).map(|_| f.pending_implicit()).collect()
    } else {
        Vec::new()
    };
    measured(&op, n, &f, pending_code, pending_implicit);
}

/// The loop callgrind counts (`--toggle-collect=*profile::measured*`).
#[inline(never)]
fn measured(
    op: &str,
    n: usize,
    f: &Fixtures,
    mut pending_code: Vec<latchkey::PendingAuthorization>,
    mut pending_implicit: Vec<latchkey::PendingImplicit>,
) {
    let f = black_box(f);
    for _ in 0..n {
        match op {
            "authorization_url/latchkey" => drop(black_box(common::latchkey_authorization_url(f))),
            "authorization_url/oauth2" => drop(black_box(common::oauth2_authorization_url(f))),
            "authorization_url/latchkey_supplied_randomness" => {
                drop(black_box(common::latchkey_authorization_url_supplied(f)));
            }
            "authorization_url/oauth2_supplied_randomness" => {
                drop(black_box(common::oauth2_authorization_url_supplied(f)));
            }
            "pkce/latchkey" => drop(black_box(common::latchkey_pkce())),
            "pkce/oauth2" => drop(black_box(common::oauth2_pkce())),
            "pkce/floor" => drop(black_box(floor_pkce())),
            "pkce/getrandom_32" => drop(black_box(floor_getrandom())),
            "pkce/floor_os_call" => drop(black_box(floor_pkce_os_call())),
            "token_response/latchkey" => drop(black_box(common::latchkey_token(f))),
            "token_response/oauth2" => drop(black_box(common::oauth2_token(f))),
            "token_response/floor" => drop(black_box(
                floor_token(black_box(TOKEN_JSON.as_bytes())).expect("token"),
            )),
            "token_response/floor_owned" => drop(black_box(
                floor_token_owned(black_box(TOKEN_JSON.as_bytes())).expect("token"),
            )),
            "callback_query/latchkey" => {
                let p = pending_code.pop().expect("prepared");
                drop(black_box(common::latchkey_callback_query(f, p)));
            }
            "callback_query/baseline" => drop(black_box(
                baseline_callback_query(black_box(CALLBACK_QUERY), STATE).expect("code"),
            )),
            "callback_query/latchkey_parse_only" => {
                drop(black_box(common::latchkey_callback_query_parse(f)));
            }
            "callback_fragment/latchkey" => {
                let p = pending_implicit.pop().expect("prepared");
                drop(black_box(common::latchkey_callback_fragment(f, p)));
            }
            "callback_fragment/baseline" => drop(black_box(
                baseline_callback_fragment(black_box(CALLBACK_FRAGMENT), STATE, now())
                    .expect("token"),
            )),
            "client_credentials_in_memory/latchkey" => {
                drop(black_box(common::latchkey_client_credentials(f)));
            }
            "client_credentials_in_memory/oauth2" => {
                drop(black_box(common::oauth2_client_credentials(f)));
            }
            other => {
                eprintln!("unknown operation {other}; `profile list` names them");
                std::process::exit(2);
            }
        }
    }
}
