//! The client credentials grant with `cc-client`.

use latchkey::{ClientAuth, ErrorCode};
use latchkey_conformance::{Driver, Session};
use latchkey_interop::Provider;
use latchkey_interop::clients::{CC_CLIENT, CC_CLIENT_SECRET};

use crate::support::{assert_tokens, confidential, server_error, tokens};

/// Client credentials with `cc-client` (Basic): a bearer token for `api:read`, no refresh
/// token. The body secret and a wrong secret are `invalid_client`.
fn client_credentials<D: Driver>() {
    let p = Provider::expect_shared();
    let s = Session::<D>::new();
    s.secret(CC_CLIENT_SECRET);
    let client = confidential(p, CC_CLIENT, CC_CLIENT_SECRET, ClientAuth::Basic);
    let tokens = tokens(
        &s,
        client
            .client_credentials()
            .expect("client credentials")
            .scope("api:read"),
    );
    assert_tokens(&tokens, &["api:read"], false);
    assert_eq!(tokens.scope(), Some("api:read"));
    assert!(tokens.id_token().is_none());

    let post = confidential(p, CC_CLIENT, CC_CLIENT_SECRET, ClientAuth::Post);
    let result = s.send(post.client_credentials().expect("cc").scope("api:read"));
    assert_eq!(server_error(result), (ErrorCode::InvalidClient, Some(401)));

    let wrong_secret = "cc-client-secret-but-wrong";
    s.secret(wrong_secret);
    let wrong = confidential(p, CC_CLIENT, wrong_secret, ClientAuth::Basic);
    let result = s.send(wrong.client_credentials().expect("cc").scope("api:read"));
    assert_eq!(server_error(result), (ErrorCode::InvalidClient, Some(401)));
}

through_both! {
    drivers: [client_credentials],
    adapters: [],
}
