//! Mutual TLS (RFC 8705) in the core, on canned metadata: the TLS client authentication
//! methods, `mtls_endpoint_aliases`, and certificate-bound token sets in the renewal machine.

use std::time::{Duration, UNIX_EPOCH};

use latchkey::manage::{Poll, RenewalMachine};
use latchkey::{
    AccessToken, CertificateThumbprint, Client, ClientAuth, ConfigError, Discovery, Error,
    Exchange, Lifecycle, RefreshToken, Response, ServerMetadata, TokenSet, TokenSource, TokenType,
    WellKnown,
};

use crate::support::form;

/// Canned metadata of `https://as.example` with mTLS aliases on `https://mtls.as.example`.
fn metadata(methods: &str) -> ServerMetadata {
    let body = format!(
        r#"{{
        "issuer": "https://as.example",
        "authorization_endpoint": "https://as.example/auth",
        "token_endpoint": "https://as.example/token",
        "userinfo_endpoint": "https://as.example/me",
        "revocation_endpoint": "https://as.example/token/revocation",
        "introspection_endpoint": "https://as.example/token/introspection",
        "device_authorization_endpoint": "https://as.example/device/auth",
        "pushed_authorization_request_endpoint": "https://as.example/request",
        "end_session_endpoint": "https://as.example/logout",
        "token_endpoint_auth_methods_supported": {methods},
        "tls_client_certificate_bound_access_tokens": true,
        "mtls_endpoint_aliases": {{
            "token_endpoint": "https://mtls.as.example/token",
            "userinfo_endpoint": "https://mtls.as.example/me",
            "revocation_endpoint": "https://mtls.as.example/token/revocation",
            "introspection_endpoint": "https://mtls.as.example/token/introspection",
            "device_authorization_endpoint": "https://mtls.as.example/device/auth",
            "pushed_authorization_request_endpoint": "https://mtls.as.example/request",
            "unknown_endpoint": "https://mtls.as.example/unknown",
            "not_a_string": 7
        }}
    }}"#
    );
    Discovery::new("https://as.example", WellKnown::OAuthAuthorizationServer)
        .unwrap()
        .response(Response::json(200, body, UNIX_EPOCH))
        .unwrap()
}

const BOTH: &str = r#"["tls_client_auth", "self_signed_tls_client_auth", "client_secret_basic"]"#;

fn tls_client(auth: ClientAuth) -> Client {
    Client::builder("app")
        .metadata(&metadata(BOTH))
        .auth_method(auth)
        .redirect_uri("http://127.0.0.1/cb")
        .build()
        .unwrap()
}

#[test]
fn tls_client_auth_sends_client_id_and_no_secret_to_the_aliases() {
    for auth in [
        ClientAuth::TlsClientAuth,
        ClientAuth::SelfSignedTlsClientAuth,
    ] {
        let client = tls_client(auth);
        assert!(client.uses_mutual_tls());
        assert!(client.is_confidential());
        assert_eq!(client.auth_method(), auth);
        assert_eq!(ClientAuth::from_name(auth.as_str()), Some(auth));
        let request = client.client_credentials().unwrap().request().unwrap();
        assert_eq!(request.url.as_str(), "https://mtls.as.example/token");
        assert_eq!(request.headers.get("authorization"), None);
        let body = form(&request.body);
        assert_eq!(body.get("client_id").map(String::as_str), Some("app"));
        assert_eq!(
            body.get("grant_type").map(String::as_str),
            Some("client_credentials")
        );
        assert!(!body.contains_key("client_secret"));
        assert!(!body.contains_key("client_assertion"));

        let refresh = client.refresh(&RefreshToken::new("rt")).unwrap();
        assert_eq!(
            refresh.request().unwrap().url.as_str(),
            "https://mtls.as.example/token"
        );
        let token = AccessToken::new("at");
        let urls = [
            client.userinfo(&token).unwrap().request().unwrap().url,
            client.revoke(&token).unwrap().request().unwrap().url,
            client.introspect(&token).unwrap().request().unwrap().url,
            client
                .device_authorization()
                .unwrap()
                .request()
                .unwrap()
                .url,
            client
                .authorization_code()
                .push()
                .unwrap()
                .request()
                .unwrap()
                .url,
        ];
        let urls: Vec<&str> = urls.iter().map(|u| u.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://mtls.as.example/me",
                "https://mtls.as.example/token/revocation",
                "https://mtls.as.example/token/introspection",
                "https://mtls.as.example/device/auth",
                "https://mtls.as.example/request",
            ]
        );
        // The browser's endpoints keep their URLs.
        assert_eq!(
            client.authorization_endpoint().map(|u| u.as_str()),
            Some("https://as.example/auth")
        );
        assert_eq!(
            client.end_session_endpoint().map(|u| u.as_str()),
            Some("https://as.example/logout")
        );
        assert_eq!(
            client.token_endpoint().map(|u| u.as_str()),
            Some("https://mtls.as.example/token")
        );
    }
}

#[test]
fn aliases_are_used_only_with_mutual_tls() {
    let plain = Client::builder("app")
        .client_secret("s3cret")
        .metadata(&metadata(BOTH))
        .build()
        .unwrap();
    assert!(!plain.uses_mutual_tls());
    assert_eq!(plain.auth_method(), ClientAuth::Basic);
    assert_eq!(
        plain.token_endpoint().map(|u| u.as_str()),
        Some("https://as.example/token")
    );
    // Certificate-bound tokens with a secret: mutual TLS switched on by hand.
    let bound = Client::builder("app")
        .client_secret("s3cret")
        .metadata(&metadata(BOTH))
        .mutual_tls(true)
        .build()
        .unwrap();
    assert_eq!(
        bound.userinfo_endpoint().map(|u| u.as_str()),
        Some("https://mtls.as.example/me")
    );
    let request = bound.client_credentials().unwrap().request().unwrap();
    assert!(request.headers.get("authorization").is_some());
    // And off by hand, with a TLS method, for a server without aliases in front.
    let off = Client::builder("app")
        .metadata(&metadata(BOTH))
        .auth_method(ClientAuth::TlsClientAuth)
        .mutual_tls(false)
        .build()
        .unwrap();
    assert_eq!(
        off.token_endpoint().map(|u| u.as_str()),
        Some("https://as.example/token")
    );
    // Set by hand, without discovery.
    let by_hand = Client::builder("app")
        .token_endpoint("https://as.example/token")
        .mtls_endpoint_alias("token_endpoint", "https://mtls.as.example/token")
        .auth_method(ClientAuth::SelfSignedTlsClientAuth)
        .build()
        .unwrap();
    assert_eq!(
        by_hand.token_endpoint().map(|u| u.as_str()),
        Some("https://mtls.as.example/token")
    );
}

#[test]
fn a_tls_method_the_server_does_not_list_is_refused() {
    let refused = Client::builder("app")
        .metadata(&metadata(r#"["client_secret_basic", "tls_client_auth"]"#))
        .auth_method(ClientAuth::SelfSignedTlsClientAuth)
        .build()
        .unwrap_err();
    assert!(
        matches!(&refused, Error::Config(ConfigError::InvalidParameter { name, .. }) if name == "token_endpoint_auth_method"),
        "{refused:?}"
    );
    let bad_alias = Client::builder("app")
        .token_endpoint("https://as.example/token")
        .mtls_endpoint_alias("token_endpoint", "ftp://mtls.as.example/token")
        .auth_method(ClientAuth::TlsClientAuth)
        .build();
    assert!(matches!(
        bad_alias,
        Err(Error::Config(ConfigError::InvalidUrl {
            which: "token",
            ..
        }))
    ));
}

fn thumbprint(name: &str) -> CertificateThumbprint {
    CertificateThumbprint::of_der(name.as_bytes())
}

#[test]
fn token_sets_from_a_certificate_connection_are_bound_to_it() {
    let client = tls_client(ClientAuth::TlsClientAuth);
    let body = r#"{"access_token":"at","token_type":"Bearer","expires_in":600}"#;
    let answer =
        Response::json(200, body, UNIX_EPOCH).with_client_certificate(Some(thumbprint("client")));
    let tokens = client
        .client_credentials()
        .unwrap()
        .response(answer)
        .unwrap();
    assert_eq!(tokens.certificate_binding(), Some(&thumbprint("client")));
    // Kept by the stores.
    let json = serde_json::to_string(&tokens).unwrap();
    let back: TokenSet = serde_json::from_str(&json).unwrap();
    assert_eq!(back.certificate_binding(), Some(&thumbprint("client")));
    // Without a certificate: bound to nothing.
    let plain = client
        .client_credentials()
        .unwrap()
        .response(Response::json(200, body, UNIX_EPOCH))
        .unwrap();
    assert_eq!(plain.certificate_binding(), None);
    assert!(
        !serde_json::to_string(&plain)
            .unwrap()
            .contains("certificate")
    );
}

#[test]
fn introspection_shows_the_cnf_thumbprint() {
    let client = tls_client(ClientAuth::TlsClientAuth);
    let x5t = thumbprint("client").to_string();
    let body = format!(r#"{{"active":true,"cnf":{{"x5t#S256":"{x5t}"}}}}"#);
    let seen = client
        .introspect(&AccessToken::new("at"))
        .unwrap()
        .response(Response::json(200, body, UNIX_EPOCH))
        .unwrap();
    assert_eq!(seen.certificate_thumbprint(), Some(thumbprint("client")));
    let none = client
        .introspect(&AccessToken::new("at"))
        .unwrap()
        .response(Response::json(
            200,
            r#"{"active":true,"cnf":{"jkt":"x"}}"#,
            UNIX_EPOCH,
        ))
        .unwrap();
    assert_eq!(none.certificate_thumbprint(), None);
}

fn machine(tokens: TokenSet, transport: Option<CertificateThumbprint>) -> RenewalMachine {
    let lifecycle = Lifecycle::new(tls_client(ClientAuth::TlsClientAuth), TokenSource::User);
    RenewalMachine::new(lifecycle, Some(tokens)).with_client_certificate(transport)
}

#[test]
fn the_renewal_machine_hands_out_bound_tokens_only_over_their_certificate() {
    let now = UNIX_EPOCH + Duration::from_secs(1000);
    let bound = TokenSet::new(AccessToken::new("at"), TokenType::Bearer)
        .with_expires_at(Some(now + Duration::from_secs(600)))
        .with_refresh_token(Some(RefreshToken::new("rt")))
        .with_certificate_binding(Some(thumbprint("client")));
    let mut same = machine(bound.clone(), Some(thumbprint("client")));
    assert!(matches!(same.poll(now, false), Ok(Poll::Use(_))));
    assert!(same.usable_until().is_some());
    for transport in [Some(thumbprint("other")), None] {
        let mut other = machine(bound.clone(), transport);
        assert!(other.usable(now, false).is_none());
        assert!(other.usable_until().is_none());
        let refused = other.poll(now, false).unwrap_err();
        assert_eq!(
            refused,
            Error::Config(ConfigError::CertificateBound {
                token: thumbprint("client"),
                transport,
            })
        );
        let message = refused.to_string();
        assert!(
            message.contains(&thumbprint("client").to_string()),
            "{message}"
        );
        assert!(!message.contains("at\""), "{message}");
        // Forced renewal: refused too, before any refresh is sent.
        assert!(other.poll(now, true).is_err());
    }
    // A token bound to nothing goes anywhere.
    let free = bound.with_certificate_binding(None);
    let mut any = machine(free, Some(thumbprint("other")));
    assert!(matches!(any.poll(now, false), Ok(Poll::Use(_))));
}
