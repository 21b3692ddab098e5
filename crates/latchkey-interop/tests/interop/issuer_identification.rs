//! RFC 9207: `iss` required on every authorization response, success or error, and compared
//! with the issuer; a tampered or missing one is refused before the response is believed.

use latchkey::{CallbackError, Error, ErrorCode};
use latchkey_conformance::{Driver, Session};
use latchkey_interop::clients::PUBLIC_PKCE;
use latchkey_interop::{Login, Provider, query_param, with_query_param, without_query_param};

use crate::support::{
    Adapter, assert_tokens, authorize, copy, discovered_client as client, public_client, tokens,
};

/// RFC 9207: a callback whose `iss` is not the issuer is a mix-up and is refused before its
/// code is looked at; one without `iss` is refused because the server promises it; the
/// untouched callback is accepted and its code works.
fn tampered_iss_is_rejected<D: Driver>() {
    let p = Provider::expect_shared();
    assert!(p.promises_iss(), "discovery does not promise iss");
    let s = Session::<D>::new();
    let client = public_client(p);
    let (pending, callback) = authorize(&s, p, &client, "openid", &Login::new());
    let missing = copy(&pending);
    let genuine = copy(&pending);

    let other_issuer = format!("{}/other", p.issuer());
    let tampered = with_query_param(&callback, "iss", &other_issuer);
    assert_eq!(
        pending.callback(&client, &tampered).map(|_| ()),
        Err(Error::Callback(CallbackError::IssuerMismatch))
    );
    let stripped = without_query_param(&callback, "iss");
    assert_eq!(
        missing.callback(&client, &stripped).map(|_| ()),
        Err(Error::Callback(CallbackError::MissingIssuer))
    );
    let tokens = tokens(&s, genuine.callback(&client, &callback).expect("callback"));
    assert_tokens(&tokens, &["openid"], true);
}

/// An error response carries `iss` too, and it is checked before the error is believed.
fn iss_on_error_responses(a: &Adapter) {
    let p = Provider::expect_shared();
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

through_both! {
    drivers: [tampered_iss_is_rejected],
    adapters: [iss_on_error_responses],
}
