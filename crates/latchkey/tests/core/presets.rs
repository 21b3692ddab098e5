//! `latchkey::providers`: every preset's endpoints and dialect as its documentation gives
//! them, refused inputs, and a round trip of each against latchkey-mock configured to behave
//! as that provider documents (its answers' shape, its client authentication, its required
//! parameters), through the in-memory router with the preset's paths mapped to the mock's.

use latchkey::drive::{Action, Drive, SendDriver, TransportSettings};
use latchkey::providers::{self, Provider};
use latchkey::{BodyEncoding, ClientAuth, Error, Exchange, Request, TokenSet};
use latchkey_mock::{AuthMethod, Encoding, Fault, Mock, MockClient, ResponseStyle};

use crate::support::{mock_answer, now, query};

const REDIRECT: &str = "http://127.0.0.1/callback";

#[test]
fn each_preset_has_the_documented_endpoints_and_dialect() {
    let github = providers::github();
    assert_eq!(
        github.token_endpoint,
        "https://github.com/login/oauth/access_token"
    );
    assert_eq!(github.auth_method, Some(ClientAuth::Post));
    assert!(github.issuer.is_none() && github.revocation_endpoint.is_none());

    let google = providers::google();
    let client = google
        .client("g")
        .client_secret("s")
        .redirect_uri(REDIRECT)
        .build()
        .unwrap();
    let (url, _) = client
        .authorization_code()
        .scope("openid email")
        .build()
        .unwrap();
    let params = query(url.as_str());
    assert!(
        url.as_str()
            .starts_with("https://accounts.google.com/o/oauth2/v2/auth?")
    );
    assert_eq!(params["access_type"], "offline");
    assert_eq!(params["prompt"], "consent");
    assert_eq!(client.issuer(), Some("https://accounts.google.com"));

    let entra = providers::microsoft("contoso.onmicrosoft.com").unwrap();
    assert_eq!(
        entra.token_endpoint,
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
    );
    assert_eq!(
        entra.device_authorization_endpoint.as_deref(),
        Some("https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/devicecode")
    );
    assert_eq!(entra.refresh_scope, Some("offline_access"));

    let auth0 = providers::auth0("example.eu.auth0.com").unwrap();
    assert_eq!(
        auth0.issuer.as_deref(),
        Some("https://example.eu.auth0.com/")
    );
    assert_eq!(
        auth0.token_endpoint,
        "https://example.eu.auth0.com/oauth/token"
    );
    assert_eq!(
        auth0.revocation_endpoint.as_deref(),
        Some("https://example.eu.auth0.com/oauth/revoke")
    );

    let okta = providers::okta("dev-123.okta.com", "default").unwrap();
    assert_eq!(
        okta.issuer.as_deref(),
        Some("https://dev-123.okta.com/oauth2/default")
    );
    assert_eq!(
        okta.introspection_endpoint.as_deref(),
        Some("https://dev-123.okta.com/oauth2/default/v1/introspect")
    );

    let keycloak = providers::keycloak("https://sso.example.com/auth/", "acme").unwrap();
    assert_eq!(
        keycloak.issuer.as_deref(),
        Some("https://sso.example.com/auth/realms/acme")
    );
    assert_eq!(
        keycloak.token_endpoint,
        "https://sso.example.com/auth/realms/acme/protocol/openid-connect/token"
    );

    let gitlab = providers::gitlab("https://gitlab.com").unwrap();
    assert_eq!(gitlab.token_endpoint, "https://gitlab.com/oauth/token");
    assert_eq!(
        gitlab.device_authorization_endpoint.as_deref(),
        Some("https://gitlab.com/oauth/authorize_device")
    );
}

/// The documented providers' presets send what the hand-configured clients of
/// `providers/*.rs` (the documents' own examples) send.
#[test]
fn the_documented_providers_presets_send_what_their_documents_show() {
    let blooma = providers::blooma("https://acme.blooma.ai/api/")
        .client("YOUR_CLIENT_ID")
        .client_secret("YOUR_CLIENT_SECRET")
        .build()
        .unwrap();
    let request = blooma.client_credentials().unwrap().request().unwrap();
    assert_eq!(request.url.as_str(), "https://login.blooma.ai/oauth/token");
    assert_eq!(
        request.headers.get("content-type"),
        Some("application/json")
    );
    assert_eq!(
        String::from_utf8(request.body).unwrap(),
        r#"{"grant_type":"client_credentials","client_id":"YOUR_CLIENT_ID","client_secret":"YOUR_CLIENT_SECRET","audience":"https://acme.blooma.ai/api/"}"#
    );

    let loom = providers::loom_ai()
        .client("app")
        .redirect_uri(REDIRECT)
        .build()
        .unwrap();
    let (url, _) = loom
        .authorization_code()
        .scope("offline_access")
        .build()
        .unwrap();
    let params = query(url.as_str());
    assert!(
        url.as_str()
            .starts_with("https://auth.loomai.com/authorize?")
    );
    assert_eq!(params["audience"], "https://api.loomai.com/");
    assert_eq!(params["code_challenge_method"], "S256");

    let loop_and_tie = providers::loop_and_tie()
        .client("lt")
        .client_secret("lt-secret")
        .redirect_uri(REDIRECT)
        .build()
        .unwrap();
    assert_eq!(
        loop_and_tie.dialect().body_encoding,
        BodyEncoding::Multipart
    );
    let coloop = providers::coloop()
        .client("c")
        .client_secret("cs")
        .build()
        .unwrap();
    assert_eq!(coloop.auth_method(), ClientAuth::Post);
}

#[test]
fn inputs_that_would_change_a_presets_urls_are_refused() {
    for tenant in ["", "a/b", "a?b", "a#b", "..%2f", "ten ant"] {
        assert!(providers::microsoft(tenant).is_err(), "{tenant:?}");
    }
    for domain in [
        "evil.example/path",
        "u:p@host.example",
        "host.example/?q=1",
        "ftp://host.example",
    ] {
        assert!(providers::auth0(domain).is_err(), "{domain:?}");
        assert!(providers::okta(domain, "default").is_err(), "{domain:?}");
    }
    assert!(providers::okta("dev-1.okta.com", "a/../b").is_err());
    assert!(providers::keycloak("https://sso.example.com", "re/alm").is_err());
    assert!(providers::gitlab("https://gitlab.example.com/?x=1").is_err());
    assert!(matches!(
        providers::keycloak("https://sso.example.com", ""),
        Err(Error::Config(_))
    ));
    // A base URL with a path keeps it; `at` moves every endpoint and keeps the paths.
    let moved = providers::keycloak("https://sso.example.com/auth", "acme")
        .unwrap()
        .at("http://127.0.0.1:8080")
        .unwrap();
    assert_eq!(
        moved.token_endpoint,
        "http://127.0.0.1:8080/auth/realms/acme/protocol/openid-connect/token"
    );
    assert_eq!(
        moved.issuer.as_deref(),
        Some("http://127.0.0.1:8080/auth/realms/acme")
    );
    assert!(providers::github().at("not a url").is_err());
}

/// Sends `exchange` to the mock, each request's path mapped from the preset's to the mock's.
fn send<E: Exchange>(mock: &Mock, preset: &Provider, exchange: E) -> Result<E::Output, Error> {
    let mut driver = SendDriver::new(exchange, &TransportSettings::default());
    loop {
        match driver.next(now()) {
            Action::Send(request) => {
                let answer = mock_answer(mock, &to_mock(preset, &request), now());
                driver.received(answer, now());
            }
            Action::Sleep(_) => {}
            Action::Done(outcome) => return outcome,
        }
    }
}

/// `request` with its path replaced by the mock's path for the same endpoint.
fn to_mock(preset: &Provider, request: &Request) -> Request {
    let endpoints = [
        (Some(&preset.token_endpoint), "/token"),
        (preset.authorization_endpoint.as_ref(), "/authorize"),
        (preset.userinfo_endpoint.as_ref(), "/userinfo"),
        (preset.revocation_endpoint.as_ref(), "/revoke"),
        (
            preset.device_authorization_endpoint.as_ref(),
            "/device_authorization",
        ),
    ];
    let path = request.url.path();
    let mock_path = endpoints
        .iter()
        .find(|(url, _)| url.is_some_and(|u| u.ends_with(path)))
        .map_or(path, |(_, mock_path)| mock_path);
    let mut mapped = request.clone();
    mapped.url.set_path(mock_path);
    mapped
}

/// The user approves at the mock: the authorization request (path mapped), then the
/// callback to the client's pending value and the code exchange; the token set.
fn log_in(mock: &Mock, preset: &Provider, client: &latchkey::Client, scope: &str) -> TokenSet {
    let (url, pending) = client.authorization_code().scope(scope).build().unwrap();
    let url = url.to_url().unwrap();
    let mut request = Request::new(latchkey::Method::Get, url, latchkey::RetryMode::Idempotent);
    request = to_mock(preset, &request);
    let answer = mock_answer(mock, &request, now()).unwrap();
    let location = answer.headers.get("location").expect("a redirect back");
    let exchange = pending.callback(client, location).expect("a code");
    send(mock, preset, exchange).expect("tokens")
}

#[test]
fn each_preset_round_trips_against_the_mock_behaving_as_its_provider_documents() {
    const BASE: &str = "https://as.example";
    let mock = |client: MockClient| {
        Mock::builder()
            .base_url(BASE)
            .client(client)
            .record_requests(true)
            // Most of these providers send no RFC 9207 `iss` (and the mock's issuer is not
            // theirs): the dialects are what is tested here.
            .issuer_parameter(false)
            .build()
    };

    // GitHub: secret in the body, lowercase bearer, no expires_in (Doorkeeper-shaped answers
    // are the closest), and an error sent with HTTP 200.
    let github = providers::github().at(BASE).unwrap();
    let m = mock(
        MockClient::new("gh")
            .secret("gh-secret")
            .auth_method(AuthMethod::Post)
            .response_style(ResponseStyle::Doorkeeper)
            .redirect_uris([REDIRECT]),
    );
    let client = github
        .client("gh")
        .client_secret("gh-secret")
        .redirect_uri(REDIRECT)
        .build()
        .unwrap();
    let tokens = log_in(&m, &github, &client, "repo");
    assert!(tokens.expires_at().is_none());
    m.inject("/token", Fault::error_with_200("bad_verification_code"), 1);
    let refused = client.refresh(&latchkey::RefreshToken::new("rt")).unwrap();
    let error = send(&m, &github, refused).unwrap_err();
    assert_eq!(
        error.server_code().map(|c| c.as_str()),
        Some("bad_verification_code")
    );

    // Google: access_type=offline and prompt=consent reach the server; a refresh token comes
    // back (the mock's Clerk-style answers always carry one).
    let google = providers::google().at(BASE).unwrap();
    let m = mock(
        MockClient::new("g")
            .secret("g-secret")
            .auth_method(AuthMethod::Post)
            .response_style(ResponseStyle::Clerk)
            .redirect_uris([REDIRECT]),
    );
    let client = google
        .client("g")
        .client_secret("g-secret")
        .redirect_uri(REDIRECT)
        .build()
        .unwrap();
    let tokens = log_in(&m, &google, &client, "email");
    assert!(tokens.refresh_token().is_some());
    let sent = &m.requests_to("/authorize")[0];
    let sent = sent.query.as_deref().unwrap_or_default();
    assert!(sent.contains("access_type=offline") && sent.contains("prompt=consent"));

    // Entra, Auth0, Okta, Loom AI: a refresh token only with offline_access (Auth0-style).
    for preset in [
        providers::microsoft("common").unwrap(),
        providers::auth0("tenant.auth0.com").unwrap(),
        providers::okta("dev-1.okta.com", "default").unwrap(),
        providers::loom_ai(),
    ] {
        let preset = preset.at(BASE).unwrap();
        let mut mock_client = MockClient::new("app")
            .redirect_uris([REDIRECT])
            .require_pkce(true);
        if preset.name == "loom-ai" {
            mock_client = mock_client.require_audience("https://api.loomai.com/");
        }
        let m = mock(mock_client);
        let client = preset
            .client("app")
            .auth_method(ClientAuth::None)
            .redirect_uri(REDIRECT)
            .build()
            .unwrap();
        let scope = preset.refresh_scope.expect("an offline scope");
        assert!(
            log_in(&m, &preset, &client, "read")
                .refresh_token()
                .is_none(),
            "{}",
            preset.name
        );
        let tokens = log_in(&m, &preset, &client, &format!("read {scope}"));
        assert!(tokens.refresh_token().is_some(), "{}", preset.name);
    }

    // Keycloak, GitLab, CoLoop: Basic or body secrets, a refresh token every time.
    for (preset, method) in [
        (
            providers::keycloak("https://sso.example.com", "acme").unwrap(),
            AuthMethod::Basic,
        ),
        (
            providers::gitlab("https://gitlab.com").unwrap(),
            AuthMethod::Basic,
        ),
        (providers::coloop(), AuthMethod::Post),
    ] {
        let preset = preset.at(BASE).unwrap();
        let m = mock(
            MockClient::new("app")
                .secret("app-secret")
                .auth_method(method)
                .response_style(ResponseStyle::Clerk)
                .redirect_uris([REDIRECT]),
        );
        let client = preset
            .client("app")
            .client_secret("app-secret")
            .redirect_uri(REDIRECT)
            .build()
            .unwrap();
        let tokens = log_in(&m, &preset, &client, "read");
        let refreshed = send(
            &m,
            &preset,
            client.refresh(tokens.refresh_token().unwrap()).unwrap(),
        );
        assert!(refreshed.is_ok(), "{}: {refreshed:?}", preset.name);
    }

    // Blooma: client credentials, JSON body, audience required.
    let blooma = providers::blooma("https://acme.blooma.ai/api/")
        .at(BASE)
        .unwrap();
    let m = mock(
        MockClient::new("svc")
            .secret("svc-secret")
            .auth_method(AuthMethod::Post)
            .encodings([Encoding::Json, Encoding::Form])
            .require_audience("https://acme.blooma.ai/api/"),
    );
    let client = blooma
        .client("svc")
        .client_secret("svc-secret")
        .build()
        .unwrap();
    let answer = send(&m, &blooma, client.client_credentials().unwrap());
    assert!(answer.is_ok(), "{answer:?}");
    let sent = &m.requests_to("/token")[0];
    assert_eq!(sent.header("content-type"), Some("application/json"));

    // Loop & Tie: a multipart token request, an answer with created_at.
    let lt = providers::loop_and_tie().at(BASE).unwrap();
    let m = mock(
        MockClient::new("lt")
            .secret("lt-secret")
            .auth_method(AuthMethod::Post)
            .encodings([Encoding::Multipart])
            .response_style(ResponseStyle::Doorkeeper)
            .redirect_uris([REDIRECT]),
    );
    let client = lt
        .client("lt")
        .client_secret("lt-secret")
        .redirect_uri(REDIRECT)
        .build()
        .unwrap();
    let tokens = log_in(&m, &lt, &client, "read");
    assert!(!tokens.access_token().expose_secret().is_empty());
    let sent = &m.requests_to("/token")[0];
    assert!(
        sent.header("content-type")
            .is_some_and(|t| t.starts_with("multipart/form-data"))
    );
}
