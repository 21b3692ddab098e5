//! Pushed authorization requests (RFC 9126) followed by the code exchange.

use latchkey::{CallbackError, Error};
use latchkey_interop::Provider;
use latchkey_interop::clients::{CONF_BASIC, CONF_BASIC_SECRET, PUBLIC_PKCE};
use latchkey_interop::{login, query_param, with_query_param, without_query_param};

use crate::support::{Adapter, discovered_client as client};

/// PAR (RFC 9126) then the code exchange, for the confidential Basic client and the public
/// PKCE client; `iss` checked on the callback, and a forged or missing one refused.
fn pushed_authorization_then_code_exchange(a: &Adapter) {
    let p = Provider::expect_shared();
    for client in [
        client(a, p, CONF_BASIC, Some(CONF_BASIC_SECRET)),
        client(a, p, PUBLIC_PKCE, None),
    ] {
        let push = client
            .authorization_code()
            .scope("openid email")
            .push()
            .expect("PAR request");
        let (url, pending) = a.send(push).expect("PAR");
        assert!(
            url.as_str().starts_with(p.authorization_endpoint()),
            "{url}"
        );
        assert_eq!(
            query_param(url.as_str(), "client_id").as_deref(),
            Some(client.client_id())
        );
        assert!(query_param(url.as_str(), "request_uri").is_some(), "{url}");
        assert!(query_param(url.as_str(), "state").is_none(), "{url}");
        let callback = login(url.as_str());
        assert_eq!(
            query_param(&callback, "state").as_deref(),
            Some(pending.state().as_str())
        );
        assert_eq!(query_param(&callback, "iss").as_deref(), Some(p.issuer()));
        let tokens = a
            .send(pending.callback(&client, &callback).expect("callback"))
            .expect("code exchange");
        assert!(tokens.scopes().any(|s| s == "email"));
        assert!(tokens.id_token().is_some());
    }
    // A pushed request's callback is a callback like any other: iss is checked.
    let client = client(a, p, PUBLIC_PKCE, None);
    for (tamper, expected) in [
        (
            Box::new(|c: &str| with_query_param(c, "iss", "http://127.0.0.1:9"))
                as Box<dyn Fn(&str) -> String>,
            CallbackError::IssuerMismatch,
        ),
        (
            Box::new(|c: &str| without_query_param(c, "iss")),
            CallbackError::MissingIssuer,
        ),
    ] {
        let (url, pending) = a
            .send(client.authorization_code().push().expect("PAR request"))
            .expect("PAR");
        let callback = login(url.as_str());
        assert_eq!(
            pending.callback(&client, &tamper(&callback)).map(|_| ()),
            Err(Error::Callback(expected))
        );
    }
}

through_both! {
    drivers: [],
    adapters: [pushed_authorization_then_code_exchange],
}
