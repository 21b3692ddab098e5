//! No secret ever appears in `Debug` or `Display` of anything the core hands out.

use std::time::{Duration, UNIX_EPOCH};

use latchkey::drive::Headers;
use latchkey::{
    AccessToken, BodyEncoding, Client, ClientAuth, Exchange, PkceVerifier, RefreshToken, Response,
    State,
};

const CLIENT_SECRET: &str = "S3CRET-client-value";
const CODE: &str = "C0DE-authorization-value";
const VERIFIER: &str = "V3RIFIER-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const ACCESS: &str = "ACC3SS-token-value";
const REFRESH: &str = "R3FRESH-token-value";
const SECRETS: [&str; 5] = [CLIENT_SECRET, CODE, VERIFIER, ACCESS, REFRESH];

fn assert_clean(what: &str, text: &str) {
    assert_clean_of(what, text, &SECRETS);
}

fn assert_clean_of(what: &str, text: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(!text.contains(secret), "{what} leaks {secret}: {text}");
    }
    // Basic credentials are base64 of the secret: that must not show either.
    assert!(
        !text.contains("UzNDUkVU"),
        "{what} leaks a Basic header: {text}"
    );
}

fn check_debug<T: std::fmt::Debug>(what: &str, value: &T) {
    assert_clean(what, &format!("{value:?}"));
    assert_clean(what, &format!("{value:#?}"));
}

/// An error must not show the secrets its request carried, nor any credential in a JSON
/// answer. (Free text echoing a token the client never had cannot be recognised; it is
/// bounded and escaped instead.)
fn check_error(what: &str, err: &latchkey::Error, known: &[&str], json: bool) {
    let secrets: Vec<&str> = if json {
        SECRETS.to_vec()
    } else {
        known.to_vec()
    };
    for text in [format!("{err:?}"), format!("{err:#?}"), err.to_string()] {
        assert_clean_of(what, &text, &secrets);
    }
}

fn clients() -> Vec<Client> {
    let mut out = Vec::new();
    for auth in [ClientAuth::Basic, ClientAuth::Post] {
        for body in [
            BodyEncoding::Form,
            BodyEncoding::Json,
            BodyEncoding::Multipart,
        ] {
            out.push(
                Client::builder("client")
                    .client_secret(CLIENT_SECRET)
                    .auth_method(auth)
                    .body_encoding(body)
                    .authorization_endpoint("https://as.example/authorize")
                    .token_endpoint("https://as.example/token")
                    .userinfo_endpoint("https://as.example/userinfo")
                    .redirect_uri("https://app.example/cb")
                    .build()
                    .unwrap(),
            );
        }
    }
    out
}

/// Hostile answers that echo every secret back.
fn hostile_responses() -> Vec<Response> {
    let echo = SECRETS.join(" ");
    let at = UNIX_EPOCH + Duration::from_secs(1);
    let mut html = Headers::new();
    html.append("content-type", "text/html");
    vec![
        Response::new(
            500,
            html.clone(),
            format!("<html>{echo}</html>").into_bytes(),
            at,
        ),
        Response::new(200, html, format!("<html>{echo}</html>").into_bytes(), at),
        Response::json(
            200,
            format!(r#"{{"access_token":5,"refresh_token":"{REFRESH}"}}"#),
            at,
        ),
        Response::json(
            200,
            format!(
                r#"{{"token_type":"bearer","id_token":"{ACCESS}","nested":{{"code":"{CODE}"}}}}"#
            ),
            at,
        ),
        Response::json(
            200,
            format!(
                r#"{{"access_token":"{ACCESS}","refresh_token":"{REFRESH}","token_type":"bearer","expires_in":[1]}}"#
            ),
            at,
        ),
        Response::json(
            200,
            format!(r#"{{"access_token":"{ACCESS}","token_type":"mac"}}"#),
            at,
        ),
        Response::json(
            200,
            format!(
                r#"{{"access_token":"{ACCESS}","token_type":"bearer","expires_in":"{REFRESH}"}}"#
            ),
            at,
        ),
        Response::json(
            400,
            r#"{"error":"invalid_grant","error_description":"bad code"}"#,
            at,
        ),
        Response::json(401, format!("not json {echo}"), at),
    ]
}

#[test]
fn nothing_secret_in_debug_or_display() {
    let at = UNIX_EPOCH + Duration::from_secs(1);
    for client in clients() {
        check_debug("client", &client);
        let (url, pending) = client
            .authorization_code()
            .state(State::new("state-value"))
            .pkce_verifier(PkceVerifier::new(VERIFIER).unwrap())
            .build()
            .unwrap();
        assert_clean("authorization URL", url.as_str());
        check_debug("pending", &pending);
        let exchange = pending
            .callback(
                &client,
                &format!("https://app.example/cb?code={CODE}&state=state-value"),
            )
            .unwrap();
        check_debug("code exchange", &exchange);
        check_debug("code exchange request", &exchange.request().unwrap());
        assert_clean(
            "redacted body",
            &exchange.request().unwrap().redacted_body(),
        );

        let refresh = client.refresh(&RefreshToken::new(REFRESH)).unwrap();
        check_debug("refresh", &refresh);
        check_debug("refresh request", &refresh.request().unwrap());
        let cc = client.client_credentials().unwrap();
        check_debug("client credentials request", &cc.request().unwrap());
        let userinfo = client.userinfo(&AccessToken::new(ACCESS)).unwrap();
        check_debug("userinfo", &userinfo);
        check_debug("userinfo request", &userinfo.request().unwrap());

        for response in hostile_responses() {
            check_debug("response", &response);
            let json = serde_json::from_slice::<serde_json::Value>(&response.body).is_ok();
            if let Err(e) = exchange.clone().response(response.clone()) {
                check_error(
                    "code exchange error",
                    &e,
                    &[CLIENT_SECRET, CODE, VERIFIER],
                    json,
                );
            }
            if let Err(e) = refresh.clone().response(response.clone()) {
                check_error("refresh error", &e, &[CLIENT_SECRET, REFRESH], json);
            }
            if let Err(e) = userinfo.clone().response(response.clone()) {
                check_error("userinfo error", &e, &[ACCESS], json);
            }
        }
        let tokens = refresh
            .clone()
            .response(Response::json(
                200,
                format!(r#"{{"access_token":"{ACCESS}","token_type":"bearer","refresh_token":"{REFRESH}"}}"#),
                at,
            ))
            .unwrap();
        check_debug("token set", &tokens);
    }
    // The callback parser's own view of a code.
    let query = format!("?code={CODE}&access_token={ACCESS}");
    let params = latchkey::CallbackParams::from_query(&query).unwrap();
    check_debug("callback params", &params);
    // Every secret newtype.
    check_debug("secret", &latchkey::ClientSecret::new(CLIENT_SECRET));
    check_debug("code", &latchkey::AuthorizationCode::new(CODE));
    check_debug("verifier", &PkceVerifier::new(VERIFIER).unwrap());
    check_debug("access", &AccessToken::new(ACCESS));
    check_debug("refresh", &RefreshToken::new(REFRESH));
}

/// A token endpoint that echoes the client secret back in its error, in every spelling a
/// server may use: none of them reaches an error message.
#[test]
fn an_echoed_secret_is_masked_in_every_spelling() {
    let secret = "p\"ss\\wo'rd-1234 <&>/é";
    let json_escaped = serde_json::to_string(secret).unwrap();
    let json_escaped = json_escaped.trim_matches('"');
    let html_escaped = "p&quot;ss\\wo&#39;rd-1234 &lt;&amp;&gt;/é";
    let html_go = "p&#34;ss\\wo&#39;rd-1234 &lt;&amp;&gt;/é";
    let percent = "p%22ss%5Cwo%27rd-1234%20%3C%26%3E%2F%C3%A9";
    let percent_lower = "p%22ss%5cwo%27rd-1234%20%3c%26%3e%2f%c3%a9";
    let form: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    let spellings = [
        secret,
        json_escaped,
        html_escaped,
        html_go,
        percent,
        percent_lower,
        form.as_str(),
    ];
    let at = UNIX_EPOCH + Duration::from_secs(1);
    let mut bodies: Vec<(&str, String)> = Vec::new();
    for spelling in spellings {
        bodies.push(("text/plain", format!("rejected cid:{spelling}")));
        bodies.push(("text/html", format!("<p>rejected cid:{spelling}</p>")));
        bodies.push((
            "application/json",
            format!(
                r#"{{"message":"rejected cid:{}"}}"#,
                spelling.replace('\\', "\\\\").replace('"', "\\\"")
            ),
        ));
    }
    // The review's case: the secret JSON-escaped inside a JSON message.
    bodies.push((
        "application/json",
        r#"{"message":"rejected cid:p\"ss\\wo'rd-1234 <&>/é"}"#.to_owned(),
    ));
    for auth in [ClientAuth::Basic, ClientAuth::Post] {
        let client = Client::builder("cid")
            .client_secret(secret)
            .auth_method(auth)
            .token_endpoint("https://as.example/token")
            .build()
            .unwrap();
        for (content_type, body) in &bodies {
            let mut headers = Headers::new();
            headers.append("content-type", *content_type);
            let response = Response::new(500, headers, body.clone().into_bytes(), at);
            let err = client
                .client_credentials()
                .unwrap()
                .response(response)
                .unwrap_err();
            for text in [err.to_string(), format!("{err:?}")] {
                for spelling in spellings {
                    assert!(
                        !text.contains(spelling),
                        "{content_type} body {body:?} leaks {spelling:?}: {text}"
                    );
                }
                // And not in the spelling `Debug` gives the raw secret either.
                let debug = format!("{secret:?}");
                assert!(!text.contains(debug.trim_matches('"')), "{text}");
                assert!(text.contains("<redacted>"), "{text}");
            }
        }
    }
}
