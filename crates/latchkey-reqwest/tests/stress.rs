//! The async token manager under load: ten thousand tasks across an expiry, and exactly one
//! refresh at the mock. The manager's decisions are tested once, on virtual time, in the
//! core; its bearer requests and saves over HTTP in `latchkey-conformance`. This checks the
//! lock, the `watch` and the renewal task around them.

mod common;

use std::time::Instant;

use common::{access_tokens, fixture::Expiry, logged_in};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_tasks_across_an_expiry_send_one_refresh() {
    let expiry = Expiry::new();
    let (manager, first) = logged_in(&expiry).await;
    let token = manager.access_token().await.unwrap();
    expiry.fresh(&first, &token);

    expiry.pass();
    let start = Instant::now();
    let handed = access_tokens(&manager, 10_000).await;
    expiry.one_refresh(&first, &handed, start.elapsed());
}
