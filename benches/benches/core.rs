//! The sans-I/O operations, latchkey against `oauth2` 5.x (or against the baseline the issue
//! names where `oauth2` has no such operation), on the inputs of `latchkey_benches`.
//!
//! Group and function names are what `src/bin/ratios.rs` reads back from
//! `target/criterion/`. The operations themselves live in `common/mod.rs`, shared with the
//! callgrind driver (`examples/profile.rs`).

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use latchkey_benches::{
    CALLBACK_FRAGMENT, CALLBACK_QUERY, STATE, TOKEN_JSON, baseline_callback_fragment,
    baseline_callback_query, floor_getrandom, floor_getrandom_48, floor_pkce, floor_pkce_os_call,
    floor_thread_rng, floor_token, floor_token_owned, now,
};

mod common;
use common::Fixtures;

fn authorization_url(c: &mut Criterion) {
    let f = Fixtures::new();
    let mut g = c.benchmark_group("authorization_url");
    // latchkey draws its 48 random bytes (verifier and state) with one getrandom system call
    // inside the measured call; oauth2 draws them from rand's ThreadRng (user space).
    g.bench_function("latchkey", |b| {
        b.iter(|| common::latchkey_authorization_url(&f));
    });
    g.bench_function("oauth2", |b| {
        b.iter(|| common::oauth2_authorization_url(&f))
    });
    // Context: both with the randomness supplied by the caller, and the one getrandom call of
    // 48 B latchkey makes, alone.
    g.bench_function("latchkey_supplied_randomness", |b| {
        b.iter(|| common::latchkey_authorization_url_supplied(&f));
    });
    g.bench_function("oauth2_supplied_randomness", |b| {
        b.iter(|| common::oauth2_authorization_url_supplied(&f));
    });
    g.bench_function("getrandom_48", |b| b.iter(floor_getrandom_48));
    g.finish();
}

fn pkce(c: &mut Criterion) {
    let mut g = c.benchmark_group("pkce");
    // latchkey: 32 bytes from getrandom (a system call) on every call; oauth2: rand's ThreadRng.
    g.bench_function("latchkey", |b| b.iter(common::latchkey_pkce));
    g.bench_function("oauth2", |b| b.iter(common::oauth2_pkce));
    // The floor (32 random bytes + base64url of them + SHA-256 of the 43 characters) with
    // ThreadRng as its source, as the issue defined it, and with a getrandom system call: the
    // source latchkey uses.
    g.bench_function("floor", |b| b.iter(floor_pkce));
    g.bench_function("floor_os_call", |b| b.iter(floor_pkce_os_call));
    // Context: the 32 random bytes alone, from getrandom directly, through latchkey's
    // `random::fill` (the same system call) and from rand's ThreadRng (oauth2's source).
    g.bench_function("getrandom_32", |b| b.iter(floor_getrandom));
    g.bench_function("random_fill_32_latchkey", |b| {
        b.iter(|| {
            let mut bytes = [0u8; 32];
            latchkey::random::fill(&mut bytes).expect("random");
            bytes
        });
    });
    g.bench_function("random_32_thread_rng", |b| b.iter(floor_thread_rng));
    g.finish();
}

fn token_response(c: &mut Criterion) {
    let f = Fixtures::new();
    let mut g = c.benchmark_group("token_response");
    g.bench_function("latchkey", |b| b.iter(|| common::latchkey_token(&f)));
    g.bench_function("oauth2", |b| b.iter(|| common::oauth2_token(&f)));
    g.bench_function("floor", |b| {
        b.iter(|| floor_token(black_box(TOKEN_JSON.as_bytes())).expect("token"));
    });
    g.bench_function("floor_owned", |b| {
        b.iter(|| floor_token_owned(black_box(TOKEN_JSON.as_bytes())).expect("token"));
    });
    g.finish();
}

fn callback_query(c: &mut Criterion) {
    let f = Fixtures::new();
    let mut g = c.benchmark_group("callback_query");
    g.bench_function("latchkey", |b| {
        b.iter_batched(
            || f.pending_code(),
            |p| common::latchkey_callback_query(&f, p),
            BatchSize::SmallInput,
        );
    });
    g.bench_function("baseline", |b| {
        b.iter(|| baseline_callback_query(black_box(CALLBACK_QUERY), STATE).expect("code"));
    });
    g.bench_function("latchkey_parse_only", |b| {
        b.iter(|| common::latchkey_callback_query_parse(&f));
    });
    g.finish();
}

fn callback_fragment(c: &mut Criterion) {
    let f = Fixtures::new();
    let mut g = c.benchmark_group("callback_fragment");
    g.bench_function("latchkey", |b| {
        b.iter_batched(
            || f.pending_implicit(),
            |p| common::latchkey_callback_fragment(&f, p),
            BatchSize::SmallInput,
        );
    });
    g.bench_function("baseline", |b| {
        b.iter(|| {
            baseline_callback_fragment(black_box(CALLBACK_FRAGMENT), STATE, now()).expect("token")
        });
    });
    g.finish();
}

/// Not in the table: a whole client-credentials exchange without the network (build
/// the request, read the answer), through each library's public API. It bounds the library
/// overhead the loopback benches look for.
fn client_credentials_in_memory(c: &mut Criterion) {
    let f = Fixtures::new();
    let mut g = c.benchmark_group("client_credentials_in_memory");
    g.bench_function("latchkey", |b| {
        b.iter(|| common::latchkey_client_credentials(&f));
    });
    g.bench_function("oauth2", |b| {
        b.iter(|| common::oauth2_client_credentials(&f));
    });
    g.finish();
}

criterion_group!(
    benches,
    authorization_url,
    pkce,
    token_response,
    callback_query,
    callback_fragment,
    client_credentials_in_memory
);
criterion_main!(benches);
