//! The blocking token manager under load: a thousand threads across an expiry, and exactly
//! one refresh at the mock. The manager's decisions are tested once, on virtual time, in the
//! core; its bearer requests and saves over HTTP in `latchkey-conformance`. This checks the
//! lock and the `Condvar` around them.

use std::sync::Barrier;
use std::thread;
use std::time::Instant;

use latchkey::AccessToken;
use latchkey_ureq::{TokenManager, Transport};

#[allow(dead_code, unreachable_pub)]
#[path = "../../latchkey-conformance/src/fixture.rs"]
mod fixture;

/// `f` from `threads` threads released at once (small stacks: there are many).
fn at_once(threads: usize, f: impl Fn() -> AccessToken + Sync) -> Vec<AccessToken> {
    let barrier = Barrier::new(threads);
    let start = || {
        barrier.wait();
        f()
    };
    thread::scope(|scope| {
        let small = || thread::Builder::new().stack_size(256 * 1024);
        let handles: Vec<_> = (0..threads)
            .map(|_| small().spawn_scoped(scope, start).unwrap())
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

#[test]
fn a_thousand_threads_across_an_expiry_send_one_refresh() {
    let expiry = fixture::Expiry::new();
    let transport = Transport::builder().clock(expiry.clock.source()).build();
    let first = transport.send(expiry.authorization()).unwrap();
    let manager: TokenManager = expiry.manage(transport, &first);
    expiry.fresh(&first, &manager.access_token().unwrap());

    expiry.pass();
    let start = Instant::now();
    let handed = at_once(1_000, || manager.access_token().unwrap());
    expiry.one_refresh(&first, &handed, start.elapsed());
}
