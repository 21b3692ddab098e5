//! What the interop cases share: the two adapters as conformance drivers (for the cases
//! generic over `D: Driver`, run in a `Session` that fails them if a secret shows up in
//! anything formatted), the helpers those cases use, and `Adapter`, one adapter or the other,
//! for the cases whose clients are built from the discovered metadata.

use std::time::{Duration, SystemTime};

use latchkey::{
    AccessToken, Client, ClientAuth, CodeExchange, Discovery, Error, ErrorCode, Exchange,
    PendingAuthorization, ServerMetadata, TokenSet, TokenType, WellKnown,
};
use latchkey_conformance::{Driver, Session};
use latchkey_interop::clients::PUBLIC_PKCE;
use latchkey_interop::{Login, Provider, login, loopback_redirect_uri, query_param};
use serde_json::{Map, Value};

/// The scope of the public client's authorization, as the task asks for it.
pub(crate) const FULL_SCOPE: &str = "openid offline_access email profile";

// ---------------------------------------------------------------------------------------------
// Drivers: the two adapters as the conformance suite drives them.
// ---------------------------------------------------------------------------------------------

pub(crate) use latchkey_conformance::{Reqwest, Ureq};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// The public client (PKCE required), on a loopback redirect URI with a port.
pub(crate) fn public_client(p: &Provider) -> Client {
    p.client_builder(PUBLIC_PKCE)
        .redirect_uri(loopback_redirect_uri())
        .build()
        .expect("public client")
}

/// A confidential client, authenticating with `auth` (whatever it is registered for).
pub(crate) fn confidential(p: &Provider, id: &str, secret: &str, auth: ClientAuth) -> Client {
    p.client_builder(id)
        .client_secret(secret)
        .auth_method(auth)
        .redirect_uri(loopback_redirect_uri())
        .build()
        .expect("confidential client")
}

/// Builds the authorization request, registers its verifier, and lets `login` answer it.
/// Checks the redirect: the client's redirect URI, the same state, and the server's `iss`.
pub(crate) fn authorize<D: Driver>(
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
pub(crate) fn code<D: Driver>(
    s: &Session<D>,
    p: &Provider,
    client: &Client,
    scope: &str,
) -> CodeExchange {
    let (pending, callback) = authorize(s, p, client, scope, &Login::new());
    pending
        .callback(client, &callback)
        .unwrap_or_else(|e| panic!("[{}] callback refused: {e}", D::NAME))
}

/// Sends an exchange that must succeed, registering the tokens as secrets.
pub(crate) fn tokens<D: Driver, E>(s: &Session<D>, exchange: E) -> TokenSet
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
pub(crate) fn copy(pending: &PendingAuthorization) -> PendingAuthorization {
    serde_json::from_str(&serde_json::to_string(pending).expect("serialize")).expect("deserialize")
}

/// Asserts an oidc-provider token set: opaque bearer token, 3600 s, the scopes, and a refresh
/// token when `refresh` says so.
pub(crate) fn assert_tokens(tokens: &TokenSet, scopes: &[&str], refresh: bool) {
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

/// Asserts that an ID token came along and that the core validated it (signature against the
/// provider's JWK set, `iss`, `aud`, `exp`, `nonce`...): its claims are alice's.
pub(crate) fn assert_id_token(tokens: &TokenSet) {
    let id_token = tokens.id_token().expect("an id_token for scope openid");
    assert_eq!(id_token.split('.').count(), 3, "{id_token}");
    let claims = tokens.id_token_claims().expect("validated ID token claims");
    assert_eq!(claims.sub, "alice");
}

/// The server's OAuth error code and HTTP status, or a panic naming what came instead.
pub(crate) fn server_error<T: std::fmt::Debug>(
    result: Result<T, Error>,
) -> (ErrorCode, Option<u16>) {
    match result {
        Err(Error::Server(e)) => (e.code, e.status),
        other => panic!("expected a server error, got {other:?}"),
    }
}

/// Userinfo claims for an access token.
pub(crate) fn userinfo<D: Driver>(
    s: &Session<D>,
    client: &Client,
    token: &AccessToken,
) -> Result<Map<String, Value>, Error> {
    s.send(client.userinfo(token).expect("userinfo request"))
}

// ---------------------------------------------------------------------------------------------
// One adapter or the other, for the cases whose clients come from the discovered metadata.
// ---------------------------------------------------------------------------------------------

/// One of the two adapters, with proxies off (loopback only).
pub(crate) enum Adapter {
    Ureq(latchkey_ureq::Transport),
    Reqwest(latchkey_reqwest::Transport, tokio::runtime::Runtime),
}

impl Adapter {
    pub(crate) fn ureq() -> Self {
        let agent: ::ureq::Agent = ::ureq::Agent::config_builder().proxy(None).build().into();
        Self::Ureq(latchkey_ureq::Transport::builder().agent(agent).build())
    }

    pub(crate) fn reqwest() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let transport = latchkey_reqwest::Transport::builder()
            .client_builder(::reqwest::Client::builder().no_proxy())
            .build();
        Self::Reqwest(transport, runtime)
    }

    pub(crate) fn send<E: Exchange + Send>(&self, exchange: E) -> Result<E::Output, Error>
    where
        E::Output: Send,
    {
        match self {
            Self::Ureq(transport) => transport.send(exchange),
            Self::Reqwest(transport, runtime) => runtime.block_on(transport.send(exchange)),
        }
    }

    pub(crate) fn poll_device(&self, poll: latchkey::DevicePoll) -> Result<TokenSet, Error> {
        match self {
            Self::Ureq(transport) => transport.poll_device(poll),
            Self::Reqwest(transport, runtime) => runtime.block_on(transport.poll_device(poll)),
        }
    }
}

/// The server's metadata, discovered the RFC 8414 way.
pub(crate) fn metadata(a: &Adapter, p: &Provider) -> ServerMetadata {
    a.send(Discovery::new(p.issuer(), WellKnown::OAuthAuthorizationServer).expect("issuer"))
        .expect("discovery")
}

/// A client configured from the discovered metadata only: endpoints, issuer, `iss` required.
pub(crate) fn discovered_client(
    a: &Adapter,
    p: &Provider,
    id: &str,
    secret: Option<&str>,
) -> Client {
    let mut builder = Client::builder(id)
        .metadata(&metadata(a, p))
        .redirect_uri(loopback_redirect_uri());
    if let Some(secret) = secret {
        builder = builder.client_secret(secret);
    }
    builder.build().expect("client")
}

/// Logs in as alice through the authorization code flow and exchanges the code.
pub(crate) fn code_tokens(a: &Adapter, client: &Client, scope: &str) -> TokenSet {
    let (url, pending) = client
        .authorization_code()
        .scope(scope)
        .build()
        .expect("authorization request");
    let callback = login(url.as_str());
    a.send(pending.callback(client, &callback).expect("callback"))
        .expect("code exchange")
}
