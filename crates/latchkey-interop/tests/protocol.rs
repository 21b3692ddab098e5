//! The RFCs past RFC 6749 against a real third-party server, panva's oidc-provider on
//! loopback, through both adapters (`ureq::<case>` blocking, `reqwest::<case>` async):
//! discovery at both well-known paths with the exact issuer check (RFC 8414, OpenID Connect
//! Discovery), the device flow end to end with `login.mjs --device` acting as the user
//! (RFC 8628), introspection of live tokens and revocation then introspection showing
//! `active: false` (RFC 7662, RFC 7009), PAR followed by the code exchange (RFC 9126), and
//! `iss` required and compared on every authorization response (RFC 9207): every client here
//! is built from the discovered metadata, which promises `iss`.
//!
//! Not covered here because `interop/server.mjs` leaves them off: token exchange (RFC 8693;
//! oidc-provider has no built-in grant for it) and resource indicators (RFC 8707;
//! `resourceIndicators` is disabled there).
//!
//! Found here: oidc-provider 9.13.3 ends a device authorization that asked for no `openid`
//! scope with `access_denied` once the user has logged in (its page says "The Sign-in request
//! was interrupted"), so the device cases ask for `openid`, and one uses that to see
//! `access_denied` come through the poller.
//!
//! Without Node.js or `interop/node_modules` every case passes trivially after one "skipped"
//! line on stderr, unless `LATCHKEY_INTEROP=required`.

use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use latchkey::{
    AccessToken, CallbackError, Client, Discovery, Error, ErrorCode, Exchange, ResponseError,
    ServerMetadata, TokenSet, TokenType, WellKnown,
};
use latchkey_interop::clients::{
    CC_CLIENT, CC_CLIENT_SECRET, CONF_BASIC, CONF_BASIC_SECRET, DEVICE_CLIENT, PUBLIC_PKCE,
};
use latchkey_interop::{
    Login, Provider, interop_dir, login, loopback_redirect_uri, query_param, with_query_param,
    without_query_param,
};

/// One of the two adapters, with proxies off (loopback only).
enum Adapter {
    Ureq(latchkey_ureq::Transport),
    Reqwest(latchkey_reqwest::Transport, tokio::runtime::Runtime),
}

impl Adapter {
    fn ureq() -> Self {
        let agent: ::ureq::Agent = ::ureq::Agent::config_builder().proxy(None).build().into();
        Self::Ureq(latchkey_ureq::Transport::builder().agent(agent).build())
    }

    fn reqwest() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let transport = latchkey_reqwest::Transport::builder()
            .client_builder(::reqwest::Client::builder().no_proxy())
            .build();
        Self::Reqwest(transport, runtime)
    }

    fn send<E: Exchange + Send>(&self, exchange: E) -> Result<E::Output, Error>
    where
        E::Output: Send,
    {
        match self {
            Self::Ureq(transport) => transport.send(exchange),
            Self::Reqwest(transport, runtime) => runtime.block_on(transport.send(exchange)),
        }
    }

    fn poll_device(&self, poll: latchkey::DevicePoll) -> Result<TokenSet, Error> {
        match self {
            Self::Ureq(transport) => transport.poll_device(poll),
            Self::Reqwest(transport, runtime) => runtime.block_on(transport.poll_device(poll)),
        }
    }
}

/// The server's metadata, discovered the RFC 8414 way.
fn metadata(a: &Adapter, p: &Provider) -> ServerMetadata {
    a.send(Discovery::new(p.issuer(), WellKnown::OAuthAuthorizationServer).expect("issuer"))
        .expect("discovery")
}

/// A client configured from the discovered metadata only: endpoints, issuer, `iss` required.
fn client(a: &Adapter, p: &Provider, id: &str, secret: Option<&str>) -> Client {
    let mut builder = Client::builder(id)
        .metadata(&metadata(a, p))
        .redirect_uri(loopback_redirect_uri());
    if let Some(secret) = secret {
        builder = builder.client_secret(secret);
    }
    builder.build().expect("client")
}

/// Logs in as alice through the authorization code flow and exchanges the code.
fn code_tokens(a: &Adapter, client: &Client, scope: &str) -> TokenSet {
    let (url, pending) = client
        .authorization_code()
        .scope(scope)
        .build()
        .expect("authorization request");
    let callback = login(url.as_str());
    a.send(pending.callback(client, &callback).expect("callback"))
        .expect("code exchange")
}

/// Both well-known documents, the same issuer; a different spelling of it is refused.
fn discovery_at_both_well_known_paths(a: &Adapter) {
    let Some(p) = Provider::shared() else { return };
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

/// The device flow end to end: the adapter polls while `login.mjs --device` enters the user
/// code, logs in as alice and consents on the provider's pages.
fn device_flow(a: &Adapter) {
    let Some(p) = Provider::shared() else { return };
    let client = client(a, p, DEVICE_CLIENT, None);
    let auth = a
        .send(
            client
                .device_authorization()
                .expect("device endpoint")
                .scope("openid offline_access"),
        )
        .expect("device authorization");
    assert!(auth.verification_uri.starts_with(p.issuer()));
    assert!(
        auth.verification_uri_complete
            .as_deref()
            .is_some_and(|u| u.starts_with(&auth.verification_uri))
    );
    let user = {
        let uri = auth.verification_uri.clone();
        let code = auth.user_code.clone();
        thread::spawn(move || {
            let output = Command::new("node")
                .arg(interop_dir().join("login.mjs"))
                .args(["--device", &uri, &code])
                .stdin(Stdio::null())
                .output()
                .expect("node interop/login.mjs --device");
            assert!(
                output.status.success(),
                "login.mjs --device failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        })
    };
    let tokens = a
        .poll_device(auth.poller(&client).expect("poller"))
        .expect("device tokens");
    user.join().expect("the user's side");
    assert_eq!(tokens.token_type(), &TokenType::Bearer);
    assert!(tokens.refresh_token().is_some());
    assert!(tokens.id_token().is_some());
    // The public client may introspect its own token.
    let live = a
        .send(
            client
                .introspect(tokens.access_token())
                .expect("introspection"),
        )
        .expect("introspect");
    assert!(live.active);
    assert_eq!(live.sub.as_deref(), Some("alice"));
    assert_eq!(live.client_id.as_deref(), Some(DEVICE_CLIENT));
}

/// The user's side ends without consent (see the module docs): the poller stops with the
/// server's `access_denied`.
fn device_flow_access_denied(a: &Adapter) {
    let Some(p) = Provider::shared() else { return };
    let client = client(a, p, DEVICE_CLIENT, None);
    let auth = a
        .send(client.device_authorization().expect("device endpoint"))
        .expect("device authorization");
    let (uri, code) = (auth.verification_uri.clone(), auth.user_code.clone());
    let user = thread::spawn(move || {
        // login.mjs reports the interrupted sign-in as a failure; that is the point here.
        let _ = Command::new("node")
            .arg(interop_dir().join("login.mjs"))
            .args(["--device", &uri, &code])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    });
    let err = a
        .poll_device(auth.poller(&client).expect("poller"))
        .unwrap_err();
    user.join().expect("the user's side");
    match err {
        Error::Server(e) => {
            assert_eq!(e.code, ErrorCode::AccessDenied);
            assert_eq!(e.status, Some(400));
        }
        other => panic!("expected access_denied, got {other:?}"),
    }
}

/// A device code is redeemed once: polling again with it, after the tokens came, is
/// `invalid_grant`.
fn device_code_is_single_use(a: &Adapter) {
    let Some(p) = Provider::shared() else { return };
    let client = client(a, p, DEVICE_CLIENT, None);
    let auth = a
        .send(
            client
                .device_authorization()
                .expect("device endpoint")
                .scope("openid"),
        )
        .expect("device authorization");
    let poll = auth.poller(&client).expect("poller");
    let (code, uri) = (auth.user_code, auth.verification_uri);
    let user = thread::spawn(move || {
        let status = Command::new("node")
            .arg(interop_dir().join("login.mjs"))
            .args(["--device", &uri, &code])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .status()
            .expect("login.mjs");
        assert!(status.success());
    });
    a.poll_device(poll.clone()).expect("device tokens");
    user.join().expect("the user's side");
    let err = a.poll_device(poll).unwrap_err();
    assert_eq!(err.server_code(), Some(&ErrorCode::InvalidGrant), "{err:?}");
}

/// Introspection of a live token (RFC 7662), revocation (RFC 7009), then introspection
/// showing `active: false`; for a client-credentials access token and for a refresh token
/// from the code flow (revoked with its hint).
fn revocation_then_introspection(a: &Adapter) {
    let Some(p) = Provider::shared() else { return };
    let cc = client(a, p, CC_CLIENT, Some(CC_CLIENT_SECRET));
    let tokens = a
        .send(cc.client_credentials().expect("cc").scope("api:read"))
        .expect("client credentials");
    let live = a
        .send(cc.introspect(tokens.access_token()).expect("introspection"))
        .expect("introspect");
    assert!(live.active);
    assert_eq!(live.client_id.as_deref(), Some(CC_CLIENT));
    assert_eq!(live.scope.as_deref(), Some("api:read"));
    assert_eq!(live.iss.as_deref(), Some(p.issuer()));
    assert!(live.exp.is_some_and(|exp| exp > live.iat.unwrap_or(0)));
    a.send(cc.revoke(tokens.access_token()).expect("revocation"))
        .expect("revoke");
    let dead = a
        .send(cc.introspect(tokens.access_token()).expect("introspection"))
        .expect("introspect");
    assert!(!dead.active);
    assert_eq!(dead.extra.len(), 0, "an inactive token says nothing more");

    let basic = client(a, p, CONF_BASIC, Some(CONF_BASIC_SECRET));
    let tokens = code_tokens(a, &basic, "openid offline_access");
    let refresh = tokens.refresh_token().expect("a refresh token");
    let live = a
        .send(basic.introspect(refresh).expect("introspection"))
        .expect("introspect");
    assert!(live.active);
    assert_eq!(live.sub.as_deref(), Some("alice"));
    a.send(basic.revoke(refresh).expect("revocation"))
        .expect("revoke");
    let dead = a
        .send(
            basic
                .introspect(refresh)
                .expect("introspection")
                .without_hint(),
        )
        .expect("introspect");
    assert!(!dead.active);
    // Revoking an unknown token is not an error (RFC 7009 §2.2).
    a.send(
        basic
            .revoke(&AccessToken::new("no-such-token-at-all"))
            .expect("revocation"),
    )
    .expect("revoke unknown");
}

/// PAR (RFC 9126) then the code exchange, for the confidential Basic client and the public
/// PKCE client; `iss` checked on the callback, and a forged or missing one refused.
fn pushed_authorization_then_code_exchange(a: &Adapter) {
    let Some(p) = Provider::shared() else { return };
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

/// An error response carries `iss` too, and it is checked before the error is believed.
fn iss_on_error_responses(a: &Adapter) {
    let Some(p) = Provider::shared() else { return };
    let client = client(a, p, PUBLIC_PKCE, None);
    let (url, pending) = a
        .send(client.authorization_code().push().expect("PAR request"))
        .expect("PAR");
    let callback = Login::new().deny().run(url.as_str());
    assert_eq!(query_param(&callback, "iss").as_deref(), Some(p.issuer()));
    let err = pending
        .callback(&client, &callback)
        .map(|_| ())
        .unwrap_err();
    assert_eq!(err.server_code(), Some(&ErrorCode::AccessDenied));
}

macro_rules! through_both {
    ($($case:ident),+ $(,)?) => {
        mod ureq {
            $( #[test] fn $case() { super::$case(&super::Adapter::ureq()); } )+
        }
        mod reqwest {
            $( #[test] fn $case() { super::$case(&super::Adapter::reqwest()); } )+
        }
    };
}

through_both! {
    discovery_at_both_well_known_paths,
    device_flow,
    device_code_is_single_use,
    device_flow_access_denied,
    revocation_then_introspection,
    pushed_authorization_then_code_exchange,
    iss_on_error_responses,
}

/// The device flow's polling is bounded by the core: it never polls faster than the
/// server's interval, so oidc-provider never answers `slow_down`.
#[test]
fn device_polling_respects_the_interval() {
    let Some(p) = Provider::shared() else { return };
    let a = Adapter::ureq();
    let client = client(&a, p, DEVICE_CLIENT, None);
    let auth = a
        .send(
            client
                .device_authorization()
                .expect("device endpoint")
                .scope("openid"),
        )
        .expect("device authorization");
    assert!(auth.interval >= Duration::from_secs(1));
    let polls = Arc::new(Mutex::new(0u32));
    let seen = Arc::clone(&polls);
    let uri = auth.verification_uri.clone();
    let code = auth.user_code.clone();
    let user = thread::spawn(move || {
        // Let the device poll (and be told to wait) once before the user shows up.
        while *seen.lock().expect("lock") == 0 {
            thread::sleep(Duration::from_millis(50));
        }
        let status = Command::new("node")
            .arg(interop_dir().join("login.mjs"))
            .args(["--device", &uri, &code])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .status()
            .expect("login.mjs");
        assert!(status.success());
    });
    let Adapter::Ureq(transport) = &a else {
        unreachable!()
    };
    let tokens = transport
        .poll_device_with(auth.poller(&client).expect("poller"), |w| {
            *polls.lock().expect("lock") = w.polls;
            assert_eq!(w.interval, auth.interval, "slowed down");
        })
        .expect("device tokens");
    user.join().expect("the user's side");
    assert!(*polls.lock().expect("lock") >= 1);
    assert_eq!(tokens.token_type(), &TokenType::Bearer);
}
