//! latchkey against a real third-party authorization server, panva's oidc-provider on
//! loopback, through both adapters: `ureq::<case>` (blocking) and `reqwest::<case>` (async,
//! the `send` future moved into `tokio::spawn`).
//!
//! Every case runs its own authorization (login and consent with `interop/login.mjs`) against
//! the binary's shared server, configures the client with the server's issuer and requires the
//! RFC 9207 `iss` parameter, and runs in a [`Session`] that fails the case if any secret (client
//! secret, code, PKCE verifier, token) shows up in anything formatted along the way.
//!
//! Without Node.js or `interop/node_modules` every case is compiled `#[ignore]`d, with the
//! reason, unless `LATCHKEY_INTEROP=required` (see the `latchkey_interop` docs).

use std::time::{Duration, SystemTime};

use latchkey::{
    AccessToken, CallbackError, Client, ClientAuth, CodeExchange, Error, ErrorCode, Exchange,
    PendingAuthorization, Request, Response, TokenSet, TokenType,
};
use latchkey_conformance::{Driver, Session, Settings};
use latchkey_interop::clients::{
    CC_CLIENT, CC_CLIENT_SECRET, CONF_BASIC, CONF_BASIC_SECRET, CONF_POST, CONF_POST_SECRET,
    PUBLIC_PKCE,
};
use latchkey_interop::{
    Login, Provider, login, loopback_redirect_uri, query_param, with_query_param,
    without_query_param,
};
use serde_json::{Map, Value};

/// The scope of the public client's authorization, as the task asks for it.
const FULL_SCOPE: &str = "openid offline_access email profile";

// ---------------------------------------------------------------------------------------------
// Drivers: the two adapters, with proxies off whatever the environment says (loopback only).
// ---------------------------------------------------------------------------------------------

/// `latchkey_ureq::Transport`, called directly.
#[derive(Debug)]
struct Ureq(latchkey_ureq::Transport);

impl Driver for Ureq {
    const NAME: &'static str = "ureq";

    fn new(settings: Settings) -> Self {
        let agent: ::ureq::Agent = ::ureq::Agent::config_builder().proxy(None).build().into();
        Self(
            latchkey_ureq::Transport::builder()
                .agent(agent)
                .max_response_bytes(settings.max_response_bytes)
                .connect_timeout(settings.connect_timeout)
                .timeout(settings.timeout)
                .retry_policy(settings.retry_policy)
                .build(),
        )
    }

    fn send<E>(&self, exchange: E) -> Result<E::Output, Error>
    where
        E: Exchange + Send + 'static,
        E::Output: Send + 'static,
    {
        self.0.send(exchange)
    }

    fn execute(&self, request: &Request) -> Result<Response, Error> {
        self.0.execute(request)
    }
}

/// `latchkey_reqwest::Transport` on a current-thread tokio runtime.
#[derive(Debug)]
struct Reqwest {
    transport: latchkey_reqwest::Transport,
    runtime: tokio::runtime::Runtime,
}

impl Driver for Reqwest {
    const NAME: &'static str = "reqwest";

    fn new(settings: Settings) -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let transport = latchkey_reqwest::Transport::builder()
            .client_builder(::reqwest::Client::builder().no_proxy())
            .max_response_bytes(settings.max_response_bytes)
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.timeout)
            .retry_policy(settings.retry_policy)
            .build();
        Self { transport, runtime }
    }

    fn send<E>(&self, exchange: E) -> Result<E::Output, Error>
    where
        E: Exchange + Send + 'static,
        E::Output: Send + 'static,
    {
        let transport = self.transport.clone();
        let task = async move { transport.send(exchange).await };
        self.runtime
            .block_on(async move { tokio::spawn(task).await })
            .expect("the send task panicked")
    }

    fn execute(&self, request: &Request) -> Result<Response, Error> {
        self.runtime.block_on(self.transport.execute(request))
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// The public client (PKCE required), on a loopback redirect URI with a port.
fn public_client(p: &Provider) -> Client {
    p.client_builder(PUBLIC_PKCE)
        .redirect_uri(loopback_redirect_uri())
        .build()
        .expect("public client")
}

/// A confidential client, authenticating with `auth` (whatever it is registered for).
fn confidential(p: &Provider, id: &str, secret: &str, auth: ClientAuth) -> Client {
    p.client_builder(id)
        .client_secret(secret)
        .auth_method(auth)
        .redirect_uri(loopback_redirect_uri())
        .build()
        .expect("confidential client")
}

/// Builds the authorization request, registers its verifier, and lets `login` answer it.
/// Checks the redirect: the client's redirect URI, the same state, and the server's `iss`.
fn authorize<D: Driver>(
    s: &Session<D>,
    p: &Provider,
    client: &Client,
    scope: &str,
    login: &Login<'_>,
) -> (PendingAuthorization, String) {
    let (url, pending) = client
        .authorization_code()
        .scope(scope)
        .build()
        .expect("authorization request");
    s.note(format!("{pending:?}"));
    if let Some(verifier) = pending.pkce_verifier() {
        s.secret(verifier.expose_secret());
    }
    assert!(
        url.as_str().starts_with(p.authorization_endpoint()),
        "{url}"
    );
    assert_eq!(
        query_param(url.as_str(), "code_challenge_method").as_deref(),
        Some("S256")
    );
    let callback = login.run(url.as_str());
    let redirect = client.redirect_uri().expect("a redirect URI").as_str();
    assert!(
        callback.starts_with(&format!("{redirect}?")),
        "{callback} is not on {redirect}"
    );
    assert_eq!(
        query_param(&callback, "state").as_deref(),
        Some(pending.state().as_str())
    );
    assert_eq!(
        query_param(&callback, "iss").as_deref(),
        Some(p.issuer()),
        "RFC 9207 iss missing or wrong in {callback}"
    );
    if let Some(code) = query_param(&callback, "code") {
        s.secret(&code);
    }
    (pending, callback)
}

/// Authorizes as `alice` and accepts the callback.
fn code<D: Driver>(s: &Session<D>, p: &Provider, client: &Client, scope: &str) -> CodeExchange {
    let (pending, callback) = authorize(s, p, client, scope, &Login::new());
    pending
        .callback(client, &callback)
        .unwrap_or_else(|e| panic!("[{}] callback refused: {e}", D::NAME))
}

/// Sends an exchange that must succeed, registering the tokens as secrets.
fn tokens<D: Driver, E>(s: &Session<D>, exchange: E) -> TokenSet
where
    E: Exchange<Output = TokenSet> + std::fmt::Debug + Send + 'static,
{
    let tokens = s
        .send(exchange)
        .unwrap_or_else(|e| panic!("[{}] token request failed: {e}", D::NAME));
    s.tokens(&tokens);
    tokens
}

/// A copy of a pending authorization (it is `Serialize + Deserialize` for session stores),
/// so that one callback can be offered to it twice.
fn copy(pending: &PendingAuthorization) -> PendingAuthorization {
    serde_json::from_str(&serde_json::to_string(pending).expect("serialize")).expect("deserialize")
}

/// Asserts an oidc-provider token set: opaque bearer token, 3600 s, the scopes, and a refresh
/// token when `refresh` says so.
fn assert_tokens(tokens: &TokenSet, scopes: &[&str], refresh: bool) {
    assert!(tokens.access_token().expose_secret().len() >= 32);
    assert_eq!(tokens.token_type(), &TokenType::Bearer);
    assert_eq!(tokens.expires_in(), Some(3600));
    let left = tokens
        .expires_at()
        .expect("an expiry")
        .duration_since(SystemTime::now())
        .expect("not expired");
    assert!(left > Duration::from_secs(3500) && left <= Duration::from_secs(3600));
    for scope in scopes {
        assert!(
            tokens.scopes().any(|s| s == *scope),
            "{scope} not granted: {:?}",
            tokens.scope()
        );
    }
    assert_eq!(tokens.refresh_token().is_some(), refresh, "refresh token");
}

/// Asserts that an ID token came along (three base64url parts; not validated here).
fn assert_id_token(tokens: &TokenSet) {
    let id_token = tokens.id_token().expect("an id_token for scope openid");
    assert_eq!(id_token.split('.').count(), 3, "{id_token}");
}

/// The server's OAuth error code and HTTP status, or a panic naming what came instead.
fn server_error<T: std::fmt::Debug>(result: Result<T, Error>) -> (ErrorCode, Option<u16>) {
    match result {
        Err(Error::Server(e)) => (e.code, e.status),
        other => panic!("expected a server error, got {other:?}"),
    }
}

/// Userinfo claims for an access token.
fn userinfo<D: Driver>(
    s: &Session<D>,
    client: &Client,
    token: &AccessToken,
) -> Result<Map<String, Value>, Error> {
    s.send(client.userinfo(token).expect("userinfo request"))
}

// ---------------------------------------------------------------------------------------------
// Cases, each generic over the driver
// ---------------------------------------------------------------------------------------------

/// Authorization code + PKCE with the public client: tokens, ID token, refresh token, the
/// `offline_access` scope kept, and userinfo claims for alice.
fn code_pkce_public<D: Driver>() {
    let p = Provider::expect_shared();
    let s = Session::<D>::new();
    let client = public_client(p);
    let exchange = code(&s, p, &client, FULL_SCOPE);
    let tokens = tokens(&s, exchange);
    assert_tokens(
        &tokens,
        &["openid", "offline_access", "email", "profile"],
        true,
    );
    assert_id_token(&tokens);
    let claims = userinfo(&s, &client, tokens.access_token()).expect("userinfo");
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["email"], "alice@example.com");
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["name"], "Alice");
}

/// Authorization code with the confidential `client_secret_basic` client.
fn code_confidential_basic<D: Driver>() {
    let p = Provider::expect_shared();
    let s = Session::<D>::new();
    s.secret(CONF_BASIC_SECRET);
    let client = confidential(p, CONF_BASIC, CONF_BASIC_SECRET, ClientAuth::Basic);
    let tokens = tokens(&s, code(&s, p, &client, "openid email"));
    assert_tokens(&tokens, &["openid", "email"], true);
    assert_id_token(&tokens);
    let claims = userinfo(&s, &client, tokens.access_token()).expect("userinfo");
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["email"], "alice@example.com");
}

/// Authorization code with the confidential `client_secret_post` client.
fn code_confidential_post<D: Driver>() {
    let p = Provider::expect_shared();
    let s = Session::<D>::new();
    s.secret(CONF_POST_SECRET);
    let client = confidential(p, CONF_POST, CONF_POST_SECRET, ClientAuth::Post);
    let tokens = tokens(&s, code(&s, p, &client, "openid offline_access"));
    assert_tokens(&tokens, &["openid", "offline_access"], true);
    assert_id_token(&tokens);
}

/// A client authenticating with the wrong one of Basic and body secrets gets `invalid_client`
/// (401) from the strict server; the same code then works with the right method, so the
/// refusal was about the method alone.
fn wrong_auth_method<D: Driver>(id: &str, secret: &str, registered: ClientAuth, used: ClientAuth) {
    let p = Provider::expect_shared();
    let s = Session::<D>::new();
    s.secret(secret);
    let wrong = confidential(p, id, secret, used);
    let (pending, callback) = authorize(&s, p, &wrong, "openid", &Login::new());
    let retry = copy(&pending);
    let exchange = pending.callback(&wrong, &callback).expect("callback");
    assert_eq!(
        server_error(s.send(exchange)),
        (ErrorCode::InvalidClient, Some(401)),
        "[{}] {id} registered for {registered:?} authenticated with {used:?}",
        D::NAME
    );
    // Same redirect URI (it is part of the code's binding), the registered method.
    let right = p
        .client_builder(id)
        .client_secret(secret)
        .auth_method(registered)
        .redirect_uri(wrong.redirect_uri().expect("redirect").as_str())
        .build()
        .expect("client");
    let tokens = tokens(&s, retry.callback(&right, &callback).expect("callback"));
    assert_tokens(&tokens, &["openid"], true);
}

fn basic_client_sending_post_is_invalid_client<D: Driver>() {
    wrong_auth_method::<D>(
        CONF_BASIC,
        CONF_BASIC_SECRET,
        ClientAuth::Basic,
        ClientAuth::Post,
    );
}

fn post_client_sending_basic_is_invalid_client<D: Driver>() {
    wrong_auth_method::<D>(
        CONF_POST,
        CONF_POST_SECRET,
        ClientAuth::Post,
        ClientAuth::Basic,
    );
}

/// Refresh with the public client: the refresh token rotates; the old one then fails with
/// `invalid_grant`, and that reuse revokes the grant, so the new one fails too (RFC 9700
/// §4.14.2 reuse detection).
fn refresh_rotates_for_the_public_client<D: Driver>() {
    let p = Provider::expect_shared();
    let s = Session::<D>::new();
    let client = public_client(p);
    let first = tokens(&s, code(&s, p, &client, FULL_SCOPE));
    let old = first.refresh_token().expect("a refresh token").clone();

    let second = tokens(&s, client.refresh(&old).expect("refresh"));
    assert_tokens(&second, &["openid", "offline_access"], true);
    let new = second.refresh_token().expect("a rotated refresh token");
    assert_ne!(new.expose_secret(), old.expose_secret(), "not rotated");
    assert_ne!(
        second.access_token().expose_secret(),
        first.access_token().expose_secret()
    );
    let claims = userinfo(&s, &client, second.access_token()).expect("userinfo");
    assert_eq!(claims["sub"], "alice");

    let replay = s.send(client.refresh(&old).expect("refresh"));
    assert_eq!(server_error(replay), (ErrorCode::InvalidGrant, Some(400)));
    let after = s.send(client.refresh(new).expect("refresh"));
    assert_eq!(server_error(after), (ErrorCode::InvalidGrant, Some(400)));
}

/// Refresh with both confidential clients: a new access token, no rotation (oidc-provider
/// rotates confidential clients' tokens only late in their life), so the token set keeps the
/// refresh token, which works again.
fn refresh_keeps_the_token_for_confidential_clients<D: Driver>() {
    let p = Provider::expect_shared();
    let s = Session::<D>::new();
    for (id, secret, auth) in [
        (CONF_BASIC, CONF_BASIC_SECRET, ClientAuth::Basic),
        (CONF_POST, CONF_POST_SECRET, ClientAuth::Post),
    ] {
        s.secret(secret);
        let client = confidential(p, id, secret, auth);
        let first = tokens(&s, code(&s, p, &client, "openid offline_access email"));
        let refresh = first.refresh_token().expect("a refresh token").clone();
        let second = tokens(&s, client.refresh(&refresh).expect("refresh"));
        assert_tokens(&second, &["openid", "offline_access", "email"], true);
        assert_eq!(
            second.refresh_token().map(|t| t.expose_secret()),
            Some(refresh.expose_secret()),
            "{id}: the refresh token was not kept"
        );
        assert_ne!(
            second.access_token().expose_secret(),
            first.access_token().expose_secret()
        );
        let third = tokens(&s, client.refresh(&refresh).expect("refresh"));
        assert_tokens(&third, &["openid"], true);
        // A narrower scope on refresh (RFC 6749 §6).
        let narrow = tokens(
            &s,
            client.refresh(&refresh).expect("refresh").scope("openid"),
        );
        assert_eq!(narrow.scope(), Some("openid"));
    }
}

/// Userinfo: the claims follow the user and the scopes; a bogus token is `invalid_token`.
fn userinfo_claims_follow_user_and_scope<D: Driver>() {
    let p = Provider::expect_shared();
    let s = Session::<D>::new();
    let client = public_client(p);

    let (pending, callback) = authorize(
        &s,
        p,
        &client,
        "openid email profile",
        &Login::new().user("Bob"),
    );
    let tokens_bob = tokens(&s, pending.callback(&client, &callback).expect("callback"));
    let claims = userinfo(&s, &client, tokens_bob.access_token()).expect("userinfo");
    assert_eq!(claims["sub"], "Bob");
    assert_eq!(claims["email"], "bob@example.com");
    assert_eq!(claims["name"], "Bob");

    let only_openid = tokens(&s, code(&s, p, &client, "openid"));
    let claims = userinfo(&s, &client, only_openid.access_token()).expect("userinfo");
    assert_eq!(claims["sub"], "alice");
    assert!(!claims.contains_key("email"), "{claims:?}");
    assert!(!claims.contains_key("name"), "{claims:?}");

    let bogus = AccessToken::new("not-a-token-issued-by-this-server");
    s.secret(bogus.expose_secret());
    assert_eq!(
        server_error(userinfo(&s, &client, &bogus)),
        (ErrorCode::InvalidToken, Some(401))
    );
}

/// Client credentials with `cc-client` (Basic): a bearer token for `api:read`, no refresh
/// token. The body secret and a wrong secret are `invalid_client`.
fn client_credentials<D: Driver>() {
    let p = Provider::expect_shared();
    let s = Session::<D>::new();
    s.secret(CC_CLIENT_SECRET);
    let client = confidential(p, CC_CLIENT, CC_CLIENT_SECRET, ClientAuth::Basic);
    let tokens = tokens(
        &s,
        client
            .client_credentials()
            .expect("client credentials")
            .scope("api:read"),
    );
    assert_tokens(&tokens, &["api:read"], false);
    assert_eq!(tokens.scope(), Some("api:read"));
    assert!(tokens.id_token().is_none());

    let post = confidential(p, CC_CLIENT, CC_CLIENT_SECRET, ClientAuth::Post);
    let result = s.send(post.client_credentials().expect("cc").scope("api:read"));
    assert_eq!(server_error(result), (ErrorCode::InvalidClient, Some(401)));

    let wrong_secret = "cc-client-secret-but-wrong";
    s.secret(wrong_secret);
    let wrong = confidential(p, CC_CLIENT, wrong_secret, ClientAuth::Basic);
    let result = s.send(wrong.client_credentials().expect("cc").scope("api:read"));
    assert_eq!(server_error(result), (ErrorCode::InvalidClient, Some(401)));
}

/// RFC 9207: a callback whose `iss` is not the issuer is a mix-up and is refused before its
/// code is looked at; one without `iss` is refused because the server promises it; the
/// untouched callback is accepted and its code works.
fn tampered_iss_is_rejected<D: Driver>() {
    let p = Provider::expect_shared();
    assert!(p.promises_iss(), "discovery does not promise iss");
    let s = Session::<D>::new();
    let client = public_client(p);
    let (pending, callback) = authorize(&s, p, &client, "openid", &Login::new());
    let missing = copy(&pending);
    let genuine = copy(&pending);

    let other_issuer = format!("{}/other", p.issuer());
    let tampered = with_query_param(&callback, "iss", &other_issuer);
    assert_eq!(
        pending.callback(&client, &tampered).map(|_| ()),
        Err(Error::Callback(CallbackError::IssuerMismatch))
    );
    let stripped = without_query_param(&callback, "iss");
    assert_eq!(
        missing.callback(&client, &stripped).map(|_| ()),
        Err(Error::Callback(CallbackError::MissingIssuer))
    );
    let tokens = tokens(&s, genuine.callback(&client, &callback).expect("callback"));
    assert_tokens(&tokens, &["openid"], true);
}

/// Cancelling at the login page: the provider redirects with `error=access_denied` (and
/// `iss`), which becomes `Error::Server` without an HTTP status. A tampered `iss` on the error
/// redirect is still a mix-up.
fn access_denied<D: Driver>() {
    let p = Provider::expect_shared();
    let s = Session::<D>::new();
    let client = public_client(p);
    let (pending, callback) = authorize(&s, p, &client, FULL_SCOPE, &Login::new().deny());
    assert_eq!(query_param(&callback, "code"), None, "{callback}");
    let tampered = copy(&pending);
    match pending.callback(&client, &callback) {
        Err(Error::Server(e)) => {
            assert_eq!(e.code, ErrorCode::AccessDenied);
            assert_eq!(e.status, None);
        }
        other => panic!("expected access_denied, got {other:?}"),
    }
    let forged = with_query_param(&callback, "iss", "http://127.0.0.1:9/");
    assert_eq!(
        tampered.callback(&client, &forged).map(|_| ()),
        Err(Error::Callback(CallbackError::IssuerMismatch))
    );
}

/// PKCE is really checked: a different verifier for the same code is `invalid_grant`. The
/// failed attempt does not consume the code in oidc-provider 9.13.3, so the genuine verifier
/// then works: the refusal was about the verifier alone.
fn wrong_pkce_verifier_is_invalid_grant<D: Driver>() {
    let p = Provider::expect_shared();
    let s = Session::<D>::new();
    let client = public_client(p);
    let (pending, callback) = authorize(&s, p, &client, "openid", &Login::new());
    let genuine = copy(&pending);
    let mut json: Value = serde_json::to_value(&pending).expect("serialize");
    let other = "x".repeat(43) + "-other-verifier";
    s.secret(&other);
    json["pkce_verifier"] = Value::String(other);
    let forged: PendingAuthorization = serde_json::from_value(json).expect("deserialize");
    let exchange = forged.callback(&client, &callback).expect("callback");
    assert_eq!(
        server_error(s.send(exchange)),
        (ErrorCode::InvalidGrant, Some(400))
    );
    let tokens = tokens(&s, genuine.callback(&client, &callback).expect("callback"));
    assert_tokens(&tokens, &["openid"], true);
}

/// A code is single-use: sending the exchange again is `invalid_grant`, and oidc-provider then
/// revokes what the code produced (RFC 6749 §4.1.2), so the access token stops working.
fn code_replay_is_invalid_grant_and_revokes<D: Driver>() {
    let p = Provider::expect_shared();
    let s = Session::<D>::new();
    let client = public_client(p);
    let exchange = code(&s, p, &client, "openid email");
    let replay = exchange.clone();
    let tokens = tokens(&s, exchange);
    userinfo(&s, &client, tokens.access_token()).expect("userinfo before the replay");
    assert_eq!(
        server_error(s.send(replay)),
        (ErrorCode::InvalidGrant, Some(400))
    );
    assert_eq!(
        server_error(userinfo(&s, &client, tokens.access_token())),
        (ErrorCode::InvalidToken, Some(401))
    );
}

// ---------------------------------------------------------------------------------------------
// Stamped out for both adapters
// ---------------------------------------------------------------------------------------------

/// Declares one test per case for one driver.
macro_rules! suite {
    ($adapter:ident: $driver:ty; $($case:ident),+) => {
        mod $adapter {
            $(
                #[test]
                #[cfg_attr(
                    not(interop_server),
                    ignore = "interop: node or interop/node_modules missing; run `cd interop && npm ci` or set LATCHKEY_INTEROP=required"
                )]
                fn $case() {
                    super::$case::<$driver>();
                }
            )+
        }
    };
}

/// Every case, for both adapters.
macro_rules! interop {
    ($($case:ident),+ $(,)?) => {
        suite!(ureq: super::Ureq; $($case),+);
        suite!(reqwest: super::Reqwest; $($case),+);
    };
}

interop! {
    code_pkce_public,
    code_confidential_basic,
    code_confidential_post,
    basic_client_sending_post_is_invalid_client,
    post_client_sending_basic_is_invalid_client,
    refresh_rotates_for_the_public_client,
    refresh_keeps_the_token_for_confidential_clients,
    userinfo_claims_follow_user_and_scope,
    client_credentials,
    tampered_iss_is_rejected,
    access_denied,
    wrong_pkce_verifier_is_invalid_grant,
    code_replay_is_invalid_grant_and_revokes,
}

// ---------------------------------------------------------------------------------------------
// Adapter-independent
// ---------------------------------------------------------------------------------------------

/// What the cases rely on from discovery: the issuer, RFC 9207, the methods, S256.
#[test]
#[cfg_attr(
    not(interop_server),
    ignore = "interop: node or interop/node_modules missing; run `cd interop && npm ci` or set LATCHKEY_INTEROP=required"
)]
fn discovery_advertises_what_the_cases_rely_on() {
    let p = Provider::expect_shared();
    let d = p.discovery();
    assert_eq!(d["issuer"], p.issuer());
    assert_eq!(d["authorization_response_iss_parameter_supported"], true);
    let methods: Vec<&str> = d["token_endpoint_auth_methods_supported"]
        .as_array()
        .expect("auth methods")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for method in ["client_secret_basic", "client_secret_post", "none"] {
        assert!(methods.contains(&method), "{methods:?}");
    }
    assert_eq!(
        d["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    for member in [
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
    ] {
        assert!(p.endpoint(member).starts_with(p.issuer()));
    }
}

/// `login` on its own: a plain authorization URL comes back as a loopback callback with a
/// code, the state and `iss` (and the redirect is never requested).
#[test]
#[cfg_attr(
    not(interop_server),
    ignore = "interop: node or interop/node_modules missing; run `cd interop && npm ci` or set LATCHKEY_INTEROP=required"
)]
fn login_returns_the_callback_without_requesting_it() {
    let p = Provider::expect_shared();
    let client = public_client(p);
    let (url, pending) = client
        .authorization_code()
        .scope("openid")
        .build()
        .expect("authorization request");
    let callback = login(url.as_str());
    assert!(callback.starts_with("http://127.0.0.1:"), "{callback}");
    assert!(query_param(&callback, "code").is_some_and(|c| c.len() >= 32));
    assert_eq!(
        query_param(&callback, "state").as_deref(),
        Some(pending.state().as_str())
    );
    assert_eq!(query_param(&callback, "iss").as_deref(), Some(p.issuer()));
}
