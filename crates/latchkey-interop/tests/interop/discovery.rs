//! Discovery (RFC 8414, OpenID Connect Discovery): what the other cases rely on from the
//! document, and both well-known documents read with the exact issuer check.

use latchkey::{Discovery, Error, ResponseError, WellKnown};
use latchkey_interop::Provider;
use serde_json::Value;

use crate::support::Adapter;

/// What the cases rely on from discovery: the issuer, RFC 9207, the methods, S256.
#[test]
#[cfg_attr(
    not(interop_server),
    ignore = "interop: node or interop/node_modules missing; run `cd interop && npm ci` or set LATCHKEY_INTEROP=required"
)]
fn discovery_advertises_what_the_cases_rely_on() {
    let p = Provider::expect_shared();
    let d = p.discovery();
    assert_eq!(d["issuer"], p.issuer());
    assert_eq!(d["authorization_response_iss_parameter_supported"], true);
    let methods: Vec<&str> = d["token_endpoint_auth_methods_supported"]
        .as_array()
        .expect("auth methods")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for method in ["client_secret_basic", "client_secret_post", "none"] {
        assert!(methods.contains(&method), "{methods:?}");
    }
    assert_eq!(
        d["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    for member in [
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
    ] {
        assert!(p.endpoint(member).starts_with(p.issuer()));
    }
}

/// Both well-known documents, the same issuer; a different spelling of it is refused.
fn discovery_at_both_well_known_paths(a: &Adapter) {
    let p = Provider::expect_shared();
    let mut seen = Vec::new();
    for kind in [
        WellKnown::OAuthAuthorizationServer,
        WellKnown::OpenIdConfiguration,
    ] {
        let discovery = Discovery::new(p.issuer(), kind).expect("issuer");
        let m = a.send(discovery).expect("discovery");
        assert_eq!(m.issuer, p.issuer());
        assert!(m.authorization_response_iss_parameter_supported);
        assert!(!m.require_pushed_authorization_requests);
        assert_eq!(m.supports_pkce_s256(), Some(true));
        for endpoint in [
            &m.token_endpoint,
            &m.introspection_endpoint,
            &m.revocation_endpoint,
            &m.device_authorization_endpoint,
            &m.pushed_authorization_request_endpoint,
        ] {
            assert!(
                endpoint
                    .as_deref()
                    .is_some_and(|e| e.starts_with(p.issuer())),
                "{endpoint:?}"
            );
        }
        seen.push(m);
    }
    assert_eq!(seen[0], seen[1], "the two documents differ");
    // RFC 8414 §3.3: `http://127.0.0.1:PORT/` is another issuer.
    let other = format!("{}/", p.issuer());
    let err = a
        .send(Discovery::new(&other, WellKnown::OpenIdConfiguration).expect("issuer"))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Response(ResponseError::InvalidField {
                field: "issuer",
                ..
            })
        ),
        "{err:?}"
    );
}

through_both! {
    drivers: [],
    adapters: [discovery_at_both_well_known_paths],
}
