//! Document 002, CoLoop (Clerk-style): a private app's code flow with `client_secret` in the
//! body, a public app's PKCE, userinfo, refresh.

use std::time::Duration;

use latchkey::drive::Headers;
use latchkey::{Client, ClientAuth, Exchange, Method, RefreshToken, Response, RetryMode, State};

use crate::support::{RFC_CHALLENGE, form, map, now, query, rfc_verifier};

/// The private application of the document (also used by flow tests that need a
/// confidential client with every endpoint).
pub(crate) fn coloop_private() -> Client {
    Client::builder("your_client_id")
        .client_secret("your_client_secret")
        .auth_method(ClientAuth::Post)
        .authorization_endpoint("https://clerk.coloop.ai/oauth/authorize")
        .token_endpoint("https://clerk.coloop.ai/oauth/token")
        .userinfo_endpoint("https://clerk.coloop.ai/oauth/userinfo")
        .redirect_uri("https://your-domain.com/oauth2/callback")
        .build()
        .unwrap()
}

/// 002: CoLoop private application: code flow with `client_secret` in the body, userinfo,
/// refresh with the secret.
#[test]
fn coloop_private_app() {
    let client = coloop_private();
    let (url, pending) = client
        .authorization_code()
        .scope("email profile")
        .state(State::new("xyz"))
        .no_pkce()
        .build()
        .unwrap();
    assert_eq!(
        url.as_str(),
        "https://clerk.coloop.ai/oauth/authorize?response_type=code&client_id=your_client_id\
         &redirect_uri=https%3A%2F%2Fyour-domain.com%2Foauth2%2Fcallback&scope=email%20profile&state=xyz"
    );
    let mut doc = map(&[
        ("client_id", "your_client_id"),
        ("redirect_uri", "https://your-domain.com/oauth2/callback"),
        ("response_type", "code"),
        ("scope", "email profile"),
    ]);
    doc.insert("state".into(), "xyz".into()); // latchkey always sends state (CSRF).
    assert_eq!(query(url.as_str()), doc);

    let exchange = pending
        .callback(
            &client,
            "https://your-domain.com/oauth2/callback?code=authorization_code_from_callback&state=xyz",
        )
        .unwrap();
    let request = exchange.request().unwrap();
    // Byte for byte what the document's URLSearchParams produces.
    assert_eq!(
        String::from_utf8(request.body.clone()).unwrap(),
        "grant_type=authorization_code&client_id=your_client_id&client_secret=your_client_secret\
         &code=authorization_code_from_callback&redirect_uri=https%3A%2F%2Fyour-domain.com%2Foauth2%2Fcallback"
    );
    assert_eq!(request.headers.get("authorization"), None);
    let tokens = exchange
        .response(Response::json(
            200,
            r#"{"access_token":"...","refresh_token":"r...","scope":"email profile","token_type":"bearer","expires_in":7200}"#,
            now(),
        ))
        .unwrap();
    assert_eq!(tokens.scopes().collect::<Vec<_>>(), ["email", "profile"]);
    assert_eq!(tokens.expires_at(), Some(now() + Duration::from_secs(7200)));

    // Userinfo, into a JSON map and into the caller's own type.
    let userinfo = client.userinfo(tokens.access_token()).unwrap();
    let request = userinfo.request().unwrap();
    assert_eq!(request.method, Method::Get);
    assert_eq!(
        request.url.as_str(),
        "https://clerk.coloop.ai/oauth/userinfo"
    );
    assert_eq!(request.headers.get("authorization"), Some("Bearer ..."));
    assert_eq!(request.retry, RetryMode::Idempotent);
    let claims_json = r#"{"email":"user@example.com","email_verified":true,"name":"John Doe"}"#;
    let claims = userinfo
        .clone()
        .response(Response::json(200, claims_json, now()))
        .unwrap();
    assert_eq!(claims["email"], "user@example.com");
    #[derive(serde::Deserialize)]
    struct User {
        email: String,
        email_verified: bool,
    }
    let user: User = userinfo
        .clone()
        .into_type::<User>()
        .response(Response::json(200, claims_json, now()))
        .unwrap();
    assert_eq!(user.email, "user@example.com");
    assert!(user.email_verified);
    // 401 with a Bearer challenge is a typed invalid_token.
    let mut headers = Headers::new();
    headers.append(
        "WWW-Authenticate",
        r#"Bearer realm="coloop", error="invalid_token", error_description="expired""#,
    );
    let err = userinfo
        .response(Response::new(401, headers, Vec::new(), now()))
        .unwrap_err();
    assert!(err.is_invalid_token());

    // Refresh with the secret (private app).
    let refresh = client
        .refresh(&RefreshToken::new("your_refresh_token"))
        .unwrap();
    assert_eq!(
        form(&refresh.request().unwrap().body),
        map(&[
            ("grant_type", "refresh_token"),
            ("client_id", "your_client_id"),
            ("refresh_token", "your_refresh_token"),
            ("client_secret", "your_client_secret"),
        ])
    );
    // Rotation: a new refresh token replaces the old one.
    let rotated = refresh
        .response(Response::json(
            200,
            r#"{"access_token":"a2","refresh_token":"r2","token_type":"bearer","expires_in":7200}"#,
            now(),
        ))
        .unwrap();
    assert_eq!(rotated.refresh_token().unwrap().expose_secret(), "r2");
}

/// 002: CoLoop public application: PKCE, no secret anywhere.
#[test]
fn coloop_public_app() {
    let client = Client::builder("your_client_id")
        .authorization_endpoint("https://clerk.coloop.ai/oauth/authorize")
        .token_endpoint("https://clerk.coloop.ai/oauth/token")
        .redirect_uri("https://your-domain.com/oauth2/callback")
        .build()
        .unwrap();
    let (url, pending) = client
        .authorization_code()
        .scope("email profile")
        .state(State::new("s"))
        .pkce_verifier(rfc_verifier())
        .build()
        .unwrap();
    let q = query(url.as_str());
    assert_eq!(q["code_challenge"], RFC_CHALLENGE);
    assert_eq!(q["code_challenge_method"], "S256");
    let exchange = pending.callback(&client, "?code=c0de&state=s").unwrap();
    assert_eq!(
        String::from_utf8(exchange.request().unwrap().body).unwrap(),
        "grant_type=authorization_code&client_id=your_client_id&code=c0de\
         &code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk\
         &redirect_uri=https%3A%2F%2Fyour-domain.com%2Foauth2%2Fcallback"
    );
    let refresh = client.refresh(&RefreshToken::new("rt")).unwrap();
    assert_eq!(
        form(&refresh.request().unwrap().body),
        map(&[
            ("grant_type", "refresh_token"),
            ("client_id", "your_client_id"),
            ("refresh_token", "rt"),
        ])
    );
}
