//! RFCs past the provider documents, driven through the core with canned responses: discovery
//! (RFC 8414), revocation (RFC 7009), introspection (RFC 7662), PAR (RFC 9126), issuer
//! identification (RFC 9207), resource indicators (RFC 8707).

use std::time::{Duration, UNIX_EPOCH};

use latchkey::{
    AccessToken, Client, ClientAuth, Discovery, Error, ErrorCode, Exchange, RefreshToken, Response,
    ServerMetadata, State, WellKnown,
};

fn metadata() -> ServerMetadata {
    let body = r#"{
        "issuer": "https://as.example",
        "authorization_endpoint": "https://as.example/auth",
        "token_endpoint": "https://as.example/token",
        "userinfo_endpoint": "https://as.example/me",
        "revocation_endpoint": "https://as.example/token/revocation",
        "introspection_endpoint": "https://as.example/token/introspection",
        "device_authorization_endpoint": "https://as.example/device/auth",
        "pushed_authorization_request_endpoint": "https://as.example/request",
        "require_pushed_authorization_requests": true,
        "authorization_response_iss_parameter_supported": true,
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
        "code_challenge_methods_supported": ["S256"]
    }"#;
    Discovery::new("https://as.example", WellKnown::OAuthAuthorizationServer)
        .unwrap()
        .response(Response::json(200, body, UNIX_EPOCH))
        .unwrap()
}

fn client() -> Client {
    Client::builder("app")
        .client_secret("s3cret")
        .metadata(&metadata())
        .redirect_uri("http://127.0.0.1/cb")
        .build()
        .unwrap()
}

#[test]
fn client_from_metadata() {
    let m = metadata();
    assert_eq!(m.supports_pkce_s256(), Some(true));
    let client = client();
    assert_eq!(client.issuer(), Some("https://as.example"));
    assert_eq!(
        client.token_endpoint().unwrap().as_str(),
        "https://as.example/token"
    );
    assert!(client.requires_pushed_authorization());
    assert!(client.dialect().require_iss);
    // Basic is not listed, post is: the secret goes in the body.
    assert_eq!(client.auth_method(), ClientAuth::Post);
    // An explicit choice wins.
    let basic = Client::builder("app")
        .client_secret("s")
        .metadata(&m)
        .auth_method(ClientAuth::Basic)
        .build()
        .unwrap();
    assert_eq!(basic.auth_method(), ClientAuth::Basic);
}

#[test]
fn pushed_authorization_request() {
    let client = client();
    let push = client
        .authorization_code()
        .scope("openid")
        .state(State::new("st"))
        .resource("https://api.example/")
        .push()
        .unwrap();
    let request = push.request().unwrap();
    assert_eq!(request.url.as_str(), "https://as.example/request");
    let body = String::from_utf8(request.body).unwrap();
    assert!(
        body.starts_with("client_id=app&client_secret=s3cret&response_type=code&redirect_uri="),
        "{body}"
    );
    assert!(body.contains("&scope=openid&state=st&code_challenge="));
    assert!(body.ends_with("&resource=https%3A%2F%2Fapi.example%2F"));
    let (url, pending) = push
        .response(Response::json(
            201,
            r#"{"request_uri":"urn:ietf:params:oauth:request_uri:6esc_11ACC5bwc014ltc14eY22c","expires_in":60}"#,
            UNIX_EPOCH,
        ))
        .unwrap();
    assert_eq!(
        url.as_str(),
        "https://as.example/auth?client_id=app&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A6esc_11ACC5bwc014ltc14eY22c"
    );
    // The pending value checks state and iss as usual.
    let exchange = pending
        .callback(
            &client,
            "http://127.0.0.1/cb?code=c&state=st&iss=https%3A%2F%2Fas.example",
        )
        .unwrap();
    assert!(
        String::from_utf8(exchange.request().unwrap().body)
            .unwrap()
            .contains("code_verifier=")
    );
    // A PAR error is the server's error.
    let push = client.authorization_code().push().unwrap();
    let err = push
        .response(Response::json(
            400,
            r#"{"error":"invalid_request","error_description":"bad redirect_uri"}"#,
            UNIX_EPOCH,
        ))
        .unwrap_err();
    assert_eq!(err.server_code(), Some(&ErrorCode::InvalidRequest));
}

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

#[test]
fn introspection() {
    let client = client();
    let ask = client.introspect(&AccessToken::new("at-1")).unwrap();
    assert_eq!(
        String::from_utf8(ask.request().unwrap().body).unwrap(),
        "client_id=app&client_secret=s3cret&token=at-1&token_type_hint=access_token"
    );
    let live = ask
        .clone()
        .response(Response::json(
            200,
            r#"{"active":true,"client_id":"l238j323ds-23ij4","username":"jdoe","scope":"read write dolphin","sub":"Z5O3upPC88QrAjx00dis","aud":"https://protected.example.net/resource","iss":"https://server.example.com/","exp":1419356238,"iat":1419350238,"extension_field":"twenty-seven"}"#,
            UNIX_EPOCH,
        ))
        .unwrap();
    assert!(live.active);
    assert_eq!(live.aud, ["https://protected.example.net/resource"]);
    assert_eq!(live.exp, Some(1419356238));
    assert_eq!(live.extra["extension_field"], "twenty-seven");
    let dead = ask
        .clone()
        .response(Response::json(200, r#"{"active":false}"#, UNIX_EPOCH))
        .unwrap();
    assert!(!dead.active);
    assert!(matches!(
        ask.response(Response::json(200, "<html>", UNIX_EPOCH)),
        Err(Error::Response(_))
    ));
}

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
