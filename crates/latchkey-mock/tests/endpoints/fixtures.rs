//! The servers and helpers several endpoint modules share: [`providers`], clients shaped
//! after the providers latchkey targets, and [`extensions`], clients for the RFCs past 6749.

use latchkey_mock::{
    AuthMethod, Encoding, GrantType, MockClient, MockServer, MockServerBuilder, MockUser,
    ResponseStyle,
};
use serde_json::Value;

use crate::common::*;

pub(crate) const LOOM_AUD: &str = "https://api.loomai.com/";
pub(crate) const ODD_SECRET: &str = "s3cr+t/=:%&é";
pub(crate) const SECRET: &str = "conf-secret-9d1e";
pub(crate) const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
pub(crate) const EXCHANGE_GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
pub(crate) const ACCESS_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
pub(crate) const REFRESH_TYPE: &str = "urn:ietf:params:oauth:token-type:refresh_token";
pub(crate) const API: &str = "https://api.example/";

/// Loom AI, CoLoop, Blooma, Loop & Tie and a Basic client with an awkward secret.
pub(crate) fn providers() -> MockServer {
    MockServer::builder()
        // Loom AI: public native app, PKCE, audience, Auth0 answers.
        .client(
            MockClient::new("loom")
                .require_audience(LOOM_AUD)
                .require_pkce(true),
        )
        // CoLoop private app: secret in the body, Clerk answers.
        .client(
            MockClient::new("coloop")
                .secret("coloop-secret")
                .auth_method(AuthMethod::Post)
                .response_style(ResponseStyle::Clerk)
                .expires_in(7200),
        )
        // CoLoop public app (PKCE) with rotation.
        .client(
            MockClient::new("coloop-public")
                .response_style(ResponseStyle::Clerk)
                .rotate_refresh_tokens(true),
        )
        // Blooma: client credentials, form or JSON, audience.
        .client(
            MockClient::new("blooma")
                .secret("blooma-secret")
                .auth_method(AuthMethod::Post)
                .encodings([Encoding::Form, Encoding::Json])
                .require_audience("https://tenant.example/api/")
                .default_scope("USER")
                .expires_in(86400),
        )
        // Loop & Tie: multipart, Doorkeeper answers.
        .client(
            MockClient::new("looptie")
                .secret("looptie-secret")
                .auth_method(AuthMethod::Post)
                .encodings([Encoding::Multipart])
                .response_style(ResponseStyle::Doorkeeper),
        )
        // A Basic client with a secret that needs form-encoding.
        .client(MockClient::new("basic").secret(ODD_SECRET))
        .user(
            MockUser::new("user-42")
                .email("u42@example.com")
                .name("Ada")
                .claim("locale", "en"),
        )
        .start()
}

/// `conf` (every grant), `tv` (public), `picky` (restricted resources) and `web` (code only),
/// not started.
pub(crate) fn extensions_builder() -> MockServerBuilder {
    MockServer::builder()
        .client(MockClient::new("conf").secret(SECRET).grant_types([
            GrantType::AuthorizationCode,
            GrantType::ClientCredentials,
            GrantType::RefreshToken,
            GrantType::DeviceCode,
            GrantType::TokenExchange,
        ]))
        .client(MockClient::new("tv"))
        .client(
            MockClient::new("picky")
                .secret(SECRET)
                .allowed_resources([API]),
        )
        .client(MockClient::new("web").grant_types([GrantType::AuthorizationCode]))
        .device_interval(1)
}

/// [`extensions_builder`], started.
pub(crate) fn extensions() -> MockServer {
    extensions_builder().start()
}

pub(crate) fn token(server: &MockServer, pairs: &[(&str, &str)]) -> Resp {
    post_form(&server.token_endpoint(), pairs)
}

pub(crate) fn exchange_loom(server: &MockServer, scope: &str) -> Value {
    let code = get_code(
        server,
        "loom",
        &[
            ("audience", LOOM_AUD),
            ("scope", scope),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ],
    );
    let resp = token(
        server,
        &[
            ("grant_type", "authorization_code"),
            ("audience", LOOM_AUD),
            ("client_id", "loom"),
            ("code", &code),
            ("code_verifier", VERIFIER),
            ("redirect_uri", REDIRECT),
        ],
    );
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    assert!(
        resp.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    resp.json()
}

pub(crate) fn keys(json: &Value) -> Vec<String> {
    let mut keys: Vec<String> = json.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

pub(crate) fn token_at(server: &MockServer, path: &str, pairs: &[(&str, &str)]) -> Resp {
    post_form(&server.endpoint(path), pairs)
}

pub(crate) fn conf() -> String {
    basic("conf", SECRET)
}

pub(crate) fn client_credentials(server: &MockServer, extra: &[(&str, &str)]) -> Value {
    let mut pairs = vec![("grant_type", "client_credentials")];
    pairs.extend_from_slice(extra);
    let resp = post_form_basic(&server.token_endpoint(), &conf(), &pairs);
    assert_eq!(resp.status, 200, "{}", resp.body);
    resp.json()
}

pub(crate) fn introspect(server: &MockServer, auth: &str, token: &str) -> Value {
    let resp = post_form_basic(&server.introspection_endpoint(), auth, &[("token", token)]);
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    resp.json()
}
