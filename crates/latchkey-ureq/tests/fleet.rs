//! One grant, many processes: eight processes of a hundred threads each share one
//! `FileStore` across an expiry. The store's lease lets one of them refresh; the others wait
//! and take what it saved. The mock rotates refresh tokens, so a second refresh with the old
//! one would be refused. The test re-runs its own binary as the child processes.

use latchkey_ureq::{TokenManager, Transport};

#[allow(dead_code, unreachable_pub)]
#[path = "../../latchkey-conformance/src/fixture.rs"]
mod fixture;
#[allow(dead_code, unreachable_pub)]
#[path = "../../latchkey-conformance/src/fleet.rs"]
mod fleet;

const THREADS: usize = 100;

#[test]
fn eight_processes_of_a_hundred_threads_refresh_once() {
    if let Some((lifecycle, store)) = fleet::child() {
        let manager = TokenManager::builder(Transport::new(), lifecycle)
            .store(store)
            .build()
            .unwrap();
        let tokens = fleet::ask_threads(THREADS, || {
            manager.access_token().unwrap().expose_secret().to_owned()
        });
        return fleet::report(&tokens);
    }
    let server = fixture::rotating_server();
    let first = Transport::new()
        .send(fixture::authorization(&server))
        .unwrap();
    fleet::Fleet::new(server, first)
        .run_and_check("eight_processes_of_a_hundred_threads_refresh_once");
}
