//! The device authorization grant (RFC 8628) end to end, with `login.mjs --device` acting as
//! the user: tokens, denial, a device code used twice, polling at the server's interval.
//!
//! Found here: oidc-provider 9.13.3 ends a device authorization that asked for no `openid`
//! scope with `access_denied` once the user has logged in (its page says "The Sign-in request
//! was interrupted"), so the device cases ask for `openid`, and one uses that to see
//! `access_denied` come through the poller.

use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use latchkey::{Error, ErrorCode, TokenType};
use latchkey_interop::clients::DEVICE_CLIENT;
use latchkey_interop::{Provider, interop_dir};

use crate::support::{Adapter, discovered_client as client};

/// The device flow end to end: the adapter polls while `login.mjs --device` enters the user
/// code, logs in as alice and consents on the provider's pages.
fn device_flow(a: &Adapter) {
    let p = Provider::expect_shared();
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
    let p = Provider::expect_shared();
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
    let p = Provider::expect_shared();
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

/// The device flow's polling is bounded by the core: it never polls faster than the
/// server's interval, so oidc-provider never answers `slow_down`.
#[test]
#[cfg_attr(
    not(interop_server),
    ignore = "interop: node or interop/node_modules missing; run `cd interop && npm ci` or set LATCHKEY_INTEROP=required"
)]
fn device_polling_respects_the_interval() {
    let p = Provider::expect_shared();
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

through_both! {
    drivers: [],
    adapters: [device_flow, device_code_is_single_use, device_flow_access_denied],
}
