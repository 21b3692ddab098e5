//! Client authentication: a confidential client that sends its secret the way it is not
//! registered for (HTTP Basic or the body) is refused by the strict server.

use latchkey::{ClientAuth, ErrorCode};
use latchkey_conformance::{Driver, Session};
use latchkey_interop::clients::{CONF_BASIC, CONF_BASIC_SECRET, CONF_POST, CONF_POST_SECRET};
use latchkey_interop::{Login, Provider};

use crate::support::{assert_tokens, authorize, confidential, copy, server_error, tokens};

/// A client authenticating with the wrong one of Basic and body secrets gets `invalid_client`
/// (401) from the strict server; the same code then works with the right method, so the
/// refusal was about the method alone.
fn wrong_auth_method<D: Driver>(id: &str, secret: &str, registered: ClientAuth, used: ClientAuth) {
    let p = Provider::expect_shared();
    let s = Session::<D>::new();
    s.secret(secret);
    let wrong = confidential(p, id, secret, used);
    let (pending, callback) = authorize(&s, p, &wrong, "openid", &Login::new());
    let retry = copy(&pending);
    let exchange = pending.callback(&wrong, &callback).expect("callback");
    assert_eq!(
        server_error(s.send(exchange)),
        (ErrorCode::InvalidClient, Some(401)),
        "[{}] {id} registered for {registered:?} authenticated with {used:?}",
        D::NAME
    );
    // Same redirect URI (it is part of the code's binding), the registered method.
    let right = p
        .client_builder(id)
        .client_secret(secret)
        .auth_method(registered)
        .redirect_uri(wrong.redirect_uri().expect("redirect").as_str())
        .build()
        .expect("client");
    let tokens = tokens(&s, retry.callback(&right, &callback).expect("callback"));
    assert_tokens(&tokens, &["openid"], true);
}

fn basic_client_sending_post_is_invalid_client<D: Driver>() {
    wrong_auth_method::<D>(
        CONF_BASIC,
        CONF_BASIC_SECRET,
        ClientAuth::Basic,
        ClientAuth::Post,
    );
}

fn post_client_sending_basic_is_invalid_client<D: Driver>() {
    wrong_auth_method::<D>(
        CONF_POST,
        CONF_POST_SECRET,
        ClientAuth::Post,
        ClientAuth::Basic,
    );
}

through_both! {
    drivers: [basic_client_sending_post_is_invalid_client, post_client_sending_basic_is_invalid_client],
    adapters: [],
}
