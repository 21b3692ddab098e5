//! Document 004, Loop & Tie (Doorkeeper-style): authorization code with the client secret, the
//! token request as multipart/form-data (`curl -F`), a response with `created_at` and no
//! `expires_in`.

use std::time::Duration;

use latchkey::{BodyEncoding, Client, ClientAuth, Exchange, Response, State, TokenType};

use crate::support::{map, now, query};

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
