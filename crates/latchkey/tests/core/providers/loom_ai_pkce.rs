//! Document 001, Loom AI (Auth0-style): authorization code + PKCE (S256) for native apps,
//! `audience` on both legs, a refresh token with `offline_access`.

use std::time::Duration;

use latchkey::{Exchange, Method, Response, RetryMode, State};

use super::loom_client;
use crate::support::{RFC_CHALLENGE, form, map, now, rfc_verifier};

/// 001: Loom AI authorization code + PKCE, `audience` on both legs, `offline_access`, refresh.
#[test]
fn loom_ai_code_pkce_and_refresh() {
    let client = loom_client();
    let (url, pending) = client
        .authorization_code()
        .scope("openid offline_access read:avatars")
        .state(State::new("st4te"))
        .nonce("n0nce")
        .pkce_verifier(rfc_verifier())
        .build()
        .unwrap();
    assert_eq!(
        url.as_str(),
        format!(
            "https://auth.loomai.com/authorize?response_type=code&client_id=CLIENT_ID\
             &redirect_uri=https%3A%2F%2Fapp.example%2Foauth%2Fcallback\
             &scope=openid%20offline_access%20read%3Aavatars&state=st4te&nonce=n0nce\
             &code_challenge={RFC_CHALLENGE}&code_challenge_method=S256\
             &audience=https%3A%2F%2Fapi.loomai.com%2F"
        )
    );
    // Pending survives a trip through a session store.
    let stored = serde_json::to_string(&pending).unwrap();
    let pending: latchkey::PendingAuthorization = serde_json::from_str(&stored).unwrap();

    let exchange = pending
        .callback(
            &client,
            "https://app.example/oauth/callback?code=AUTH_CODE&state=st4te",
        )
        .unwrap();
    let request = exchange.request().unwrap();
    assert_eq!(request.method, Method::Post);
    assert_eq!(request.url.as_str(), "https://auth.loomai.com/oauth/token");
    assert_eq!(
        request.headers.get("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(request.headers.get("authorization"), None);
    assert_eq!(request.retry, RetryMode::ConnectFailureOnly);
    assert!(!request.follow_redirects);
    assert_eq!(
        String::from_utf8(request.body.clone()).unwrap(),
        "grant_type=authorization_code&client_id=CLIENT_ID&code=AUTH_CODE\
         &code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk\
         &redirect_uri=https%3A%2F%2Fapp.example%2Foauth%2Fcallback\
         &audience=https%3A%2F%2Fapi.loomai.com%2F"
    );
    assert_eq!(
        form(&request.body),
        map(&[
            ("grant_type", "authorization_code"),
            ("audience", "https://api.loomai.com/"),
            ("client_id", "CLIENT_ID"),
            ("code", "AUTH_CODE"),
            (
                "code_verifier",
                "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
            ),
            ("redirect_uri", "https://app.example/oauth/callback"),
        ])
    );
    let tokens = exchange
        .response(Response::json(
            200,
            r#"{"access_token":"AT1","refresh_token":"RT1","token_type":"Bearer","expires_in":86400,"scope":"openid offline_access read:avatars"}"#,
            now(),
        ))
        .unwrap();
    assert_eq!(tokens.refresh_token().unwrap().expose_secret(), "RT1");
    assert_eq!(
        tokens.expires_at(),
        Some(now() + Duration::from_secs(86400))
    );

    // Refresh: public client, audience kept, no rotation in the answer keeps RT1.
    let refresh = client.refresh(tokens.refresh_token().unwrap()).unwrap();
    let request = refresh.request().unwrap();
    assert_eq!(
        String::from_utf8(request.body).unwrap(),
        "grant_type=refresh_token&client_id=CLIENT_ID&refresh_token=RT1\
         &audience=https%3A%2F%2Fapi.loomai.com%2F"
    );
    let renewed = refresh
        .response(Response::json(
            200,
            r#"{"access_token":"AT2","token_type":"Bearer","expires_in":86400}"#,
            now(),
        ))
        .unwrap();
    assert_eq!(renewed.access_token().expose_secret(), "AT2");
    assert_eq!(renewed.refresh_token().unwrap().expose_secret(), "RT1");
}
