//! Parameters a caller adds to requests: resource indicators (RFC 8707) repeat on every leg,
//! a token parameter may not repeat one the flow or client authentication sets, and a multipart
//! field name that cannot be written unambiguously is refused.

use std::time::Duration;

use latchkey::{Client, ClientAuth, Error, Exchange, RefreshToken, State};

use crate::support::discovered_client as client;

#[test]
fn resource_indicators_repeat_on_every_leg() {
    let client = client();
    let (url, _) = Client::builder("app")
        .authorization_endpoint("https://as.example/auth")
        .build()
        .unwrap()
        .authorization_code()
        .no_pkce()
        .state(State::new("s"))
        .resource("https://a.example/")
        .resource("https://b.example/")
        .build()
        .unwrap();
    assert!(
        url.as_str()
            .ends_with("&resource=https%3A%2F%2Fa.example%2F&resource=https%3A%2F%2Fb.example%2F")
    );
    let body = String::from_utf8(
        client
            .client_credentials()
            .unwrap()
            .resource("https://a.example/")
            .resource("https://b.example/")
            .request()
            .unwrap()
            .body,
    )
    .unwrap();
    assert!(
        body.ends_with("&resource=https%3A%2F%2Fa.example%2F&resource=https%3A%2F%2Fb.example%2F")
    );
    let body = String::from_utf8(
        client
            .refresh(&RefreshToken::new("r"))
            .unwrap()
            .resource("https://a.example/")
            .request()
            .unwrap()
            .body,
    )
    .unwrap();
    assert!(body.ends_with("&resource=https%3A%2F%2Fa.example%2F"));
    let _ = Duration::ZERO;
}

/// A caller's token parameter may not repeat one the flow or client authentication sets: a
/// body with `client_id` twice is read differently by different servers (many JSON parsers
/// keep the last one).
#[test]
fn reserved_token_parameters_are_refused() {
    use latchkey::{BodyEncoding, ConfigError, PkceVerifier};
    for body in [
        BodyEncoding::Form,
        BodyEncoding::Json,
        BodyEncoding::Multipart,
    ] {
        let client = Client::builder("cid")
            .client_secret("client-secret-value")
            .auth_method(ClientAuth::Post)
            .body_encoding(body)
            .authorization_endpoint("https://as.example/auth")
            .token_endpoint("https://as.example/token")
            .redirect_uri("https://app.example/cb")
            .build()
            .unwrap();
        let refused = |result: Result<latchkey::Request, Error>, name: &str| match result {
            Err(Error::Config(ConfigError::InvalidParameter { name: n, .. })) => {
                assert_eq!(n, name);
            }
            other => panic!("{body:?} {name}: {other:?}"),
        };
        for name in [
            "grant_type",
            "client_id",
            "client_secret",
            "code",
            "code_verifier",
            "redirect_uri",
            "refresh_token",
            "client_assertion",
            "client_assertion_type",
        ] {
            refused(
                client
                    .client_credentials()
                    .unwrap()
                    .param(name, "x")
                    .request(),
                name,
            );
            refused(
                client
                    .refresh(&RefreshToken::new("rt-value"))
                    .unwrap()
                    .param(name, "x")
                    .request(),
                name,
            );
            let (_, pending) = client
                .authorization_code()
                .state(State::new("st"))
                .pkce_verifier(PkceVerifier::new("v".repeat(43)).unwrap())
                .build()
                .unwrap();
            let exchange = pending
                .callback(&client, "https://app.example/cb?code=c&state=st")
                .unwrap();
            refused(exchange.param(name, "x").request(), name);
        }
        // A parameter the flow itself sends is refused too (scope, set by `.scope()`).
        refused(
            client
                .client_credentials()
                .unwrap()
                .scope("read")
                .param("scope", "admin")
                .request(),
            "scope",
        );
        // Repeatable parameters the flow does not own still repeat (RFC 8707).
        let request = client
            .client_credentials()
            .unwrap()
            .resource("https://a.example/")
            .resource("https://b.example/")
            .request()
            .unwrap();
        let text = String::from_utf8(request.body).unwrap();
        assert_eq!(text.matches("resource").count(), 2, "{text}");
        assert_eq!(text.matches("client_id").count(), 1, "{text}");
    }
}

/// A multipart field name with a backslash, quote, CR or LF cannot be written so that every
/// parser reads the same name: refused with a typed error, never rewritten.
#[test]
fn multipart_field_names_that_cannot_be_written_are_refused() {
    use latchkey::{BodyEncoding, ConfigError};
    let client = Client::builder("cid")
        .client_secret("client-secret-value")
        .body_encoding(BodyEncoding::Multipart)
        .token_endpoint("https://as.example/token")
        .build()
        .unwrap();
    for name in ["\\client_id", "a\"b", "a\rb", "a\nContent-Type: x"] {
        let result = client
            .client_credentials()
            .unwrap()
            .param(name, "v")
            .request();
        match result {
            Err(err @ Error::Config(ConfigError::InvalidParameter { .. })) => {
                let text = err.to_string();
                assert!(!text.contains(['\r', '\n']), "{text:?}");
            }
            other => panic!("{name:?}: {other:?}"),
        }
    }
    // Names a form or JSON body can carry are fine there.
    let form = Client::builder("cid")
        .client_secret("client-secret-value")
        .token_endpoint("https://as.example/token")
        .build()
        .unwrap();
    assert!(
        form.client_credentials()
            .unwrap()
            .param("a\"b", "v")
            .request()
            .is_ok()
    );
}
