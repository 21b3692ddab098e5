//! Each provider document, driven through the core: the requests it produces are checked
//! against what the document shows, then the document's own responses are fed back.
//!
//! Parameter order inside a body or query is latchkey's canonical order (`grant_type`, client
//! authentication, the flow's parameters, the dialect's); each test checks the exact bytes of
//! that rendering and that the set of parameters is exactly the document's.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use latchkey::drive::Headers;
use latchkey::{
    BodyEncoding, CallbackError, Client, ClientAuth, Error, ErrorCode, Exchange, Method,
    PkceVerifier, RefreshToken, Response, RetryMode, State, TokenType,
};

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

fn form(body: &[u8]) -> BTreeMap<String, String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .unwrap()
        .into_iter()
        .collect()
}

fn query(url: &str) -> BTreeMap<String, String> {
    form(url.split_once('?').unwrap().1.as_bytes())
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// RFC 7636 Appendix B verifier, so challenges are known values.
fn rfc_verifier() -> PkceVerifier {
    PkceVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap()
}
const RFC_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn loom_client() -> Client {
    Client::builder("CLIENT_ID")
        .authorization_endpoint("https://auth.loomai.com/authorize")
        .token_endpoint("https://auth.loomai.com/oauth/token")
        .redirect_uri("https://app.example/oauth/callback")
        .audience("https://api.loomai.com/")
        .build()
        .unwrap()
}

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

/// 001: Loom AI authorization code + PKCE, `audience` on both legs, `offline_access`, refresh.
#[test]
fn loom_ai_code_pkce_and_refresh() {
    let client = loom_client();
    let (url, pending) = client
        .authorization_code()
        .scope("openid offline_access read:avatars")
        .state(State::new("st4te"))
        .pkce_verifier(rfc_verifier())
        .build()
        .unwrap();
    assert_eq!(
        url.as_str(),
        format!(
            "https://auth.loomai.com/authorize?response_type=code&client_id=CLIENT_ID\
             &redirect_uri=https%3A%2F%2Fapp.example%2Foauth%2Fcallback\
             &scope=openid%20offline_access%20read%3Aavatars&state=st4te\
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

fn coloop_private() -> Client {
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

fn blooma(encoding: BodyEncoding) -> Client {
    Client::builder("YOUR_CLIENT_ID")
        .client_secret("YOUR_CLIENT_SECRET")
        .auth_method(ClientAuth::Post)
        .token_endpoint("https://login.blooma.ai/oauth/token")
        .token_param("audience", "https://acme.blooma.ai/api/")
        .body_encoding(encoding)
        .build()
        .unwrap()
}

const BLOOMA_RESPONSE: &str = r#"{
    "access_token": "eyJz93a...k4laUWw",
    "token_type": "Bearer",
    "scope": "USER",
    "expires_in": 86400
}"#;

/// 003: Blooma client credentials, form body.
#[test]
fn blooma_client_credentials_form() {
    let exchange = blooma(BodyEncoding::Form).client_credentials().unwrap();
    let request = exchange.request().unwrap();
    assert_eq!(request.method, Method::Post);
    assert_eq!(request.url.as_str(), "https://login.blooma.ai/oauth/token");
    assert_eq!(
        request.headers.get("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(request.retry, RetryMode::Idempotent);
    assert_eq!(
        String::from_utf8(request.body.clone()).unwrap(),
        "grant_type=client_credentials&client_id=YOUR_CLIENT_ID&client_secret=YOUR_CLIENT_SECRET\
         &audience=https%3A%2F%2Facme.blooma.ai%2Fapi%2F"
    );
    assert_eq!(
        form(&request.body),
        form(b"audience=https://acme.blooma.ai/api/&grant_type=client_credentials&client_id=YOUR_CLIENT_ID&client_secret=YOUR_CLIENT_SECRET")
    );
    let tokens = exchange
        .response(Response::json(200, BLOOMA_RESPONSE, now()))
        .unwrap();
    assert_eq!(tokens.access_token().expose_secret(), "eyJz93a...k4laUWw");
    assert_eq!(tokens.scope(), Some("USER"));
    assert_eq!(
        tokens.expires_at(),
        Some(now() + Duration::from_secs(86400))
    );
}

/// 003: Blooma client credentials, JSON body (the document's curl example).
#[test]
fn blooma_client_credentials_json() {
    let exchange = blooma(BodyEncoding::Json).client_credentials().unwrap();
    let request = exchange.request().unwrap();
    assert_eq!(
        request.headers.get("content-type"),
        Some("application/json")
    );
    assert_eq!(
        String::from_utf8(request.body.clone()).unwrap(),
        r#"{"grant_type":"client_credentials","client_id":"YOUR_CLIENT_ID","client_secret":"YOUR_CLIENT_SECRET","audience":"https://acme.blooma.ai/api/"}"#
    );
    let doc: serde_json::Value = serde_json::from_str(
        r#"{"client_id":"YOUR_CLIENT_ID","client_secret":"YOUR_CLIENT_SECRET","audience":"https://acme.blooma.ai/api/","grant_type":"client_credentials"}"#,
    )
    .unwrap();
    let sent: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(sent, doc);
    let tokens = exchange
        .response(Response::json(200, BLOOMA_RESPONSE, now()))
        .unwrap();
    assert_eq!(tokens.token_type(), &TokenType::Bearer);
}

#[test]
fn blooma_audience_and_scope_per_request() {
    let client = Client::builder("id")
        .client_secret("secret")
        .token_endpoint("https://login.blooma.ai/oauth/token")
        .build()
        .unwrap();
    let request = client
        .client_credentials()
        .unwrap()
        .scope("read write")
        .scope("read")
        .audience("https://x.blooma.ai/api/")
        .request()
        .unwrap();
    assert_eq!(
        String::from_utf8(request.body).unwrap(),
        "grant_type=client_credentials&scope=read+write&audience=https%3A%2F%2Fx.blooma.ai%2Fapi%2F"
    );
    // HTTP Basic by default for a client with a secret: base64("id:secret").
    assert_eq!(
        request.headers.get("authorization"),
        Some("Basic aWQ6c2VjcmV0")
    );
    // A public client cannot do client credentials.
    let public = Client::builder("id")
        .token_endpoint("https://login.blooma.ai/oauth/token")
        .build()
        .unwrap();
    assert!(matches!(
        public.client_credentials(),
        Err(Error::Config(latchkey::ConfigError::PublicClient(_)))
    ));
}

/// 004: Loop & Tie: code flow with the secret, token request as multipart/form-data,
/// response with `created_at` and no `expires_in`.
#[test]
fn loop_and_tie_multipart() {
    let client =
        Client::builder("6d707fe6c4e0e66c31cae50f29bb50bee26d01ee28124050064dcbebe4b56d7a")
            .client_secret("0200e9bcdb4a1e8798243306522cda45bf8cbe9209210cfdeb7017de10c20336")
            .auth_method(ClientAuth::Post)
            .authorization_endpoint("https://www.loopandtie.com/oauth2/authorize")
            .token_endpoint("https://www.loopandtie.com/oauth2/token")
            .redirect_uri("https://your.site/redirect-uri")
            .body_encoding(BodyEncoding::Multipart)
            .build()
            .unwrap();
    let (url, pending) = client
        .authorization_code()
        .state(State::new("s"))
        .no_pkce()
        .build()
        .unwrap();
    let mut doc = map(&[
        ("client_id", client.client_id()),
        ("redirect_uri", "https://your.site/redirect-uri"),
        ("response_type", "code"),
    ]);
    doc.insert("state".into(), "s".into());
    assert_eq!(query(url.as_str()), doc);

    let code = "777d8588b18023029da14506d881587ca3bf70f981823ba989a292282eeafea2";
    let exchange = pending
        .callback(
            &client,
            &format!("https://your.site/redirect-uri?code={code}&state=s"),
        )
        .unwrap();
    let request = exchange.request().unwrap();
    assert_eq!(
        request.headers.get("content-type"),
        Some("multipart/form-data; boundary=latchkey-form-boundary")
    );
    let part = |name: &str, value: &str| {
        format!(
            "--latchkey-form-boundary\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        )
    };
    let expected = [
        part("grant_type", "authorization_code"),
        part(
            "client_id",
            "6d707fe6c4e0e66c31cae50f29bb50bee26d01ee28124050064dcbebe4b56d7a",
        ),
        part(
            "client_secret",
            "0200e9bcdb4a1e8798243306522cda45bf8cbe9209210cfdeb7017de10c20336",
        ),
        part("code", code),
        part("redirect_uri", "https://your.site/redirect-uri"),
        "--latchkey-form-boundary--\r\n".to_owned(),
    ]
    .concat();
    assert_eq!(String::from_utf8(request.body.clone()).unwrap(), expected);
    // The redacted rendering reads like the document's curl -F line, without secrets.
    let shown = request.redacted_body();
    assert!(
        shown.contains("-F grant_type=authorization_code"),
        "{shown}"
    );
    assert!(!shown.contains(code));
    assert!(!shown.contains("0200e9bc"));

    let tokens = exchange
        .response(Response::json(
            200,
            r#"{
  "access_token":"lt_yourawesomeapp_YyMTbOujweXw-GtkllEfZyM7GsY",
  "token_type":"bearer",
  "created_at":1529032029
}"#,
            now(),
        ))
        .unwrap();
    assert_eq!(
        tokens.access_token().expose_secret(),
        "lt_yourawesomeapp_YyMTbOujweXw-GtkllEfZyM7GsY"
    );
    assert_eq!(tokens.token_type(), &TokenType::Bearer);
    assert_eq!(tokens.expires_at(), None, "unknown expiry: use until a 401");
    assert!(!tokens.is_expired(now() + Duration::from_secs(10 * 365 * 86400)));
}

#[test]
fn callback_error_checks_state_first() {
    let client = coloop_private();
    let start = || {
        client
            .authorization_code()
            .state(State::new("good"))
            .build()
            .unwrap()
            .1
    };
    // An error redirect with the right state is the server's error, with its description.
    let err = start()
        .callback(
            &client,
            "https://your-domain.com/oauth2/callback?error=access_denied&error_description=The+user+denied&error_uri=https%3A%2F%2Fdocs&state=good",
        )
        .unwrap_err();
    match err {
        Error::Server(e) => {
            assert_eq!(e.code, ErrorCode::AccessDenied);
            assert_eq!(e.description.as_deref(), Some("The user denied"));
            assert_eq!(e.uri.as_deref(), Some("https://docs"));
            assert_eq!(e.status, None);
        }
        other => panic!("{other:?}"),
    }
    // An error redirect with the wrong state or none is refused as such.
    assert_eq!(
        start()
            .callback(&client, "?error=access_denied&state=bad")
            .unwrap_err(),
        Error::Callback(CallbackError::StateMismatch)
    );
    assert_eq!(
        start()
            .callback(&client, "?error=access_denied")
            .unwrap_err(),
        Error::Callback(CallbackError::MissingState)
    );
    assert_eq!(
        start().callback(&client, "?state=good").unwrap_err(),
        Error::Callback(CallbackError::MissingCode)
    );
    assert_eq!(
        start()
            .callback(&client, "?code=a&state=good&state=good")
            .unwrap_err(),
        Error::Callback(CallbackError::DuplicateParameter("state".into()))
    );
    assert!(matches!(
        start()
            .callback(&client, "?code=%FF&state=good")
            .unwrap_err(),
        Error::Callback(CallbackError::Malformed(_))
    ));
}

#[test]
fn issuer_identification() {
    let client = Client::builder("id")
        .authorization_endpoint("https://as.example/authorize")
        .token_endpoint("https://as.example/token")
        .issuer("https://as.example")
        .require_issuer_parameter(true)
        .build()
        .unwrap();
    let start = || {
        client
            .authorization_code()
            .state(State::new("s"))
            .build()
            .unwrap()
            .1
    };
    assert!(
        start()
            .callback(&client, "?code=c&state=s&iss=https%3A%2F%2Fas.example")
            .is_ok()
    );
    assert_eq!(
        start()
            .callback(&client, "?code=c&state=s&iss=https%3A%2F%2Fevil.example")
            .unwrap_err(),
        Error::Callback(CallbackError::IssuerMismatch)
    );
    assert_eq!(
        start().callback(&client, "?code=c&state=s").unwrap_err(),
        Error::Callback(CallbackError::MissingIssuer)
    );
}

#[test]
fn generated_values_and_configuration_errors() {
    let client = loom_client();
    let (url, pending) = client.authorization_code().build().unwrap();
    let q = query(url.as_str());
    assert_eq!(q["state"], pending.state().as_str());
    assert_eq!(q["state"].len(), 22);
    let verifier = pending.pkce_verifier().unwrap();
    assert_eq!(
        q["code_challenge"],
        verifier.challenge(latchkey::PkceMethod::S256).as_str()
    );
    // Two requests never share state or verifier.
    let (_, other) = client.authorization_code().build().unwrap();
    assert_ne!(other.state().as_str(), pending.state().as_str());
    // plain only by opt-in.
    let (url, _) = client.authorization_code().pkce_plain().build().unwrap();
    assert_eq!(query(url.as_str())["code_challenge_method"], "plain");
    // Reserved parameters cannot be overridden.
    assert!(matches!(
        client.authorization_code().param("state", "x").build(),
        Err(Error::Config(_))
    ));
    // Missing endpoints are configuration errors when the flow starts.
    let bare = Client::builder("id").build().unwrap();
    assert!(matches!(
        bare.authorization_code().build(),
        Err(Error::Config(latchkey::ConfigError::MissingEndpoint(
            "authorization"
        )))
    ));
    assert!(matches!(
        bare.refresh(&RefreshToken::new("r")),
        Err(Error::Config(latchkey::ConfigError::MissingEndpoint(
            "token"
        )))
    ));
    // An endpoint that already has a query keeps it.
    let with_query = Client::builder("id")
        .authorization_endpoint("https://as.example/authorize?tenant=acme")
        .build()
        .unwrap();
    let (url, _) = with_query
        .authorization_code()
        .no_pkce()
        .state(State::new("s"))
        .build()
        .unwrap();
    assert_eq!(
        url.as_str(),
        "https://as.example/authorize?tenant=acme&response_type=code&client_id=id&state=s"
    );
}

#[test]
fn exchanges_are_send_and_static() {
    fn check<T: Send + 'static>(_: &T) {}
    let client = coloop_private();
    check(&client.client_credentials().unwrap());
    check(&client.refresh(&RefreshToken::new("r")).unwrap());
    check(&client.userinfo(&latchkey::AccessToken::new("a")).unwrap());
    let (_, pending) = client.authorization_code().build().unwrap();
    check(&pending);
}
