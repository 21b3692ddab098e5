//! Document 000, Loom AI (Auth0-style): the implicit flow for single-page apps,
//! `response_type=token` with `audience`, the token returned in the URL fragment.

use std::time::Duration;

use latchkey::{CallbackError, Error, ErrorCode, State, TokenType};

use super::loom_client;
use crate::support::{map, now, query};

/// 000: Loom AI implicit flow.
#[test]
fn loom_ai_implicit() {
    let client = loom_client();
    let (url, pending) = client
        .implicit()
        .scope("read:avatars write:avatars")
        .state(State::new("0xdeadbeef"))
        .build()
        .unwrap();
    assert_eq!(
        url.as_str(),
        "https://auth.loomai.com/authorize?response_type=token&client_id=CLIENT_ID\
         &redirect_uri=https%3A%2F%2Fapp.example%2Foauth%2Fcallback\
         &scope=read%3Aavatars%20write%3Aavatars&state=0xdeadbeef\
         &audience=https%3A%2F%2Fapi.loomai.com%2F"
    );
    // The document's request, as a set of parameters.
    assert_eq!(
        query(url.as_str()),
        map(&[
            ("response_type", "token"),
            ("client_id", "CLIENT_ID"),
            ("audience", "https://api.loomai.com/"),
            ("scope", "read:avatars write:avatars"),
            ("redirect_uri", "https://app.example/oauth/callback"),
            ("state", "0xdeadbeef"),
        ])
    );
    // The document's 302 Location.
    let location = "https://app.example/oauth/callback#access_token=ACCESS_TOKEN&\
                    scope=AUTHORIZED_SCOPES&expires_in=3600&token_type=Bearer&state=0xdeadbeef";
    let tokens = pending.callback(&client, location, now()).unwrap();
    assert_eq!(tokens.access_token().expose_secret(), "ACCESS_TOKEN");
    assert_eq!(tokens.token_type(), &TokenType::Bearer);
    assert_eq!(tokens.scope(), Some("AUTHORIZED_SCOPES"));
    assert_eq!(tokens.expires_at(), Some(now() + Duration::from_secs(3600)));
    assert!(tokens.refresh_token().is_none());
}

#[test]
fn loom_ai_implicit_error_and_forged_state() {
    let client = loom_client();
    let build = || {
        client
            .implicit()
            .state(State::new("0xdeadbeef"))
            .build()
            .unwrap()
            .1
    };
    let err = build()
        .callback(
            &client,
            "https://app.example/oauth/callback#error=access_denied&error_description=User+said+no&state=0xdeadbeef",
            now(),
        )
        .unwrap_err();
    assert_eq!(err.server_code(), Some(&ErrorCode::AccessDenied));
    let forged = build()
        .callback(
            &client,
            "#access_token=evil&token_type=Bearer&state=0xbad",
            now(),
        )
        .unwrap_err();
    assert_eq!(forged, Error::Callback(CallbackError::StateMismatch));
    let no_state = build()
        .callback(&client, "#access_token=evil&token_type=Bearer", now())
        .unwrap_err();
    assert_eq!(no_state, Error::Callback(CallbackError::MissingState));
    let no_token = build()
        .callback(&client, "#token_type=Bearer&state=0xdeadbeef", now())
        .unwrap_err();
    assert_eq!(no_token, Error::Callback(CallbackError::MissingAccessToken));
}
