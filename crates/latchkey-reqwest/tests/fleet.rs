//! One grant, many processes: eight processes of a thousand tasks each share one `FileStore`
//! across an expiry. The store's lease (taken on the blocking pool) lets one of them refresh;
//! the others wait and take what it saved. The test re-runs its own binary as the children.

use latchkey_reqwest::{TokenManager, Transport};

#[allow(dead_code, unreachable_pub)]
#[path = "../../latchkey-conformance/src/fixture.rs"]
mod fixture;
#[allow(dead_code, unreachable_pub)]
#[path = "../../latchkey-conformance/src/fleet.rs"]
mod fleet;
#[allow(unreachable_pub)]
#[path = "../../latchkey-conformance/src/fleet_tasks.rs"]
mod fleet_tasks;

const TASKS: usize = 1_000;

#[test]
fn eight_processes_of_a_thousand_tasks_refresh_once() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    if let Some((lifecycle, store)) = fleet::child() {
        let manager = TokenManager::builder(Transport::new(), lifecycle)
            .store(store)
            .build()
            .unwrap();
        let tokens = fleet_tasks::ask_tasks(&runtime, TASKS, || {
            let manager = manager.clone();
            async move {
                manager
                    .access_token()
                    .await
                    .unwrap()
                    .expose_secret()
                    .to_owned()
            }
        });
        return fleet::report(&tokens);
    }
    let server = fixture::rotating_server();
    let first = runtime
        .block_on(Transport::new().send(fixture::authorization(&server)))
        .unwrap();
    fleet::Fleet::new(server, first)
        .run_and_check("eight_processes_of_a_thousand_tasks_refresh_once");
}
