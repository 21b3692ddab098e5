//! Token revocation (RFC 7009): the request with and without `token_type_hint`, success and the
//! server's error.

use std::time::UNIX_EPOCH;

use latchkey::{AccessToken, ErrorCode, Exchange, RefreshToken, Response};

use crate::support::discovered_client as client;

#[test]
fn revocation() {
    let client = client();
    let revoke = client.revoke(&RefreshToken::new("rt-123")).unwrap();
    let request = revoke.request().unwrap();
    assert_eq!(request.url.as_str(), "https://as.example/token/revocation");
    assert_eq!(
        String::from_utf8(request.body).unwrap(),
        "client_id=app&client_secret=s3cret&token=rt-123&token_type_hint=refresh_token"
    );
    assert!(!format!("{revoke:?}").contains("rt-123"));
    assert_eq!(
        revoke.clone().response(Response::json(200, "", UNIX_EPOCH)),
        Ok(())
    );
    let err = revoke
        .response(Response::json(
            400,
            r#"{"error":"unsupported_token_type"}"#,
            UNIX_EPOCH,
        ))
        .unwrap_err();
    assert_eq!(err.server_code(), Some(&ErrorCode::UnsupportedTokenType));
    let no_hint = client
        .revoke(&AccessToken::new("at"))
        .unwrap()
        .without_hint();
    assert_eq!(
        String::from_utf8(no_hint.request().unwrap().body).unwrap(),
        "client_id=app&client_secret=s3cret&token=at"
    );
}
