//! What is specific to the ureq adapter: its agent. A caller's agent cannot weaken the safety
//! settings (redirects, error statuses, timeouts); the transport's own agent is built with
//! them, and reaches the mock by IP literal and by name. Everything both adapters share is in
//! `latchkey-conformance`.

use std::time::Duration;

use latchkey::{Client, Error, Exchange, TransportErrorKind};
use latchkey_mock::{Fault, MockServer};
use latchkey_ureq::Transport;

#[allow(dead_code, unreachable_pub)]
#[path = "../../latchkey-conformance/src/fixture.rs"]
mod fixture;

use fixture::{SECRET, client, rotating_server};

/// An agent that follows redirects, turns 4xx into errors and times out at once.
fn permissive_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .max_redirects(10)
        .max_redirects_will_error(true)
        .http_status_as_error(true)
        .timeout_global(Some(Duration::from_nanos(1)))
        .build()
        .new_agent()
}

#[test]
fn a_caller_agent_never_follows_redirects() {
    let (server, target) = (rotating_server(), MockServer::start());
    let transport = Transport::builder().agent(permissive_agent()).build();
    server.inject("/token", Fault::redirect(307, target.token_endpoint()), 1);
    let outcome = transport.send(client(&server).client_credentials().unwrap());
    fixture::assert_redirect_refused(outcome, 307, &target);
}

#[test]
fn a_caller_agent_still_hands_back_error_statuses_with_the_transport_timeouts() {
    let server = rotating_server();
    let transport = Transport::builder().agent(permissive_agent()).build();
    // The agent's 1 ns timeout is replaced by the transport's.
    let cc = client(&server).client_credentials().unwrap();
    let tokens = transport.send(cc).unwrap();
    server.revoke_all_tokens();
    let userinfo = client(&server).userinfo(tokens.access_token()).unwrap();
    let response = transport.execute(&userinfo.request().unwrap()).unwrap();
    assert_eq!(response.status, 401);
    assert!(response.headers.get("www-authenticate").is_some());
}

/// The default agent (ureq's own resolver and connector) reaches an IP literal and a name.
#[test]
fn the_default_agent_reaches_a_literal_and_a_name() {
    let server = rotating_server();
    let transport = Transport::new();
    assert!(server.token_endpoint().starts_with("http://127.0.0.1:"));
    let by_literal = client(&server).client_credentials().unwrap();
    transport.send(by_literal).unwrap();

    let by_name = Client::builder("app")
        .client_secret(SECRET)
        .token_endpoint(format!("http://localhost:{}/token", server.addr().port()))
        .build()
        .unwrap();
    match transport.send(by_name.client_credentials().unwrap()) {
        Ok(_) => {}
        // A host whose `localhost` is only ::1 cannot reach the mock's 127.0.0.1 socket.
        Err(Error::Transport(e)) => assert_eq!(e.kind(), TransportErrorKind::Connect, "{e}"),
        Err(other) => panic!("{other}"),
    }
}

/// The transport's own agent carries every safety setting itself (its requests get no
/// per-request configuration), with the builder's timeouts; a caller's agent is kept as it
/// is (the settings then travel with every request).
#[test]
fn the_default_agent_is_built_with_the_safety_settings() {
    let transport = Transport::builder()
        .connect_timeout(Duration::from_secs(3))
        .timeout(Duration::from_secs(7))
        .build();
    let config = transport.agent().config();
    assert_eq!(config.max_redirects(), 0);
    assert!(!config.max_redirects_will_error());
    assert!(!config.save_redirect_history());
    assert!(!config.http_status_as_error());
    let timeouts = config.timeouts();
    assert_eq!(timeouts.resolve, Some(Duration::from_secs(3)));
    assert_eq!(timeouts.connect, Some(Duration::from_secs(3)));
    assert_eq!(timeouts.global, Some(Duration::from_secs(7)));

    let caller = Transport::builder()
        .agent(ureq::Agent::new_with_defaults())
        .build();
    assert_ne!(caller.agent().config().max_redirects(), 0);
}
