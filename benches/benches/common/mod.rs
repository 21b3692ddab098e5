//! The operations measured, one function each, shared by the criterion bench (`core.rs`) and
//! the callgrind driver (`examples/profile.rs`) so both measure exactly the same code.

#![allow(dead_code, unreachable_pub)]

use std::convert::Infallible;
use std::hint::black_box;

use latchkey::{
    AuthorizationUrl, CallbackParams, Client, CodeExchange, Dialect, Exchange,
    PendingAuthorization, PendingImplicit, PkceChallenge, PkceMethod, PkceVerifier, Response,
    State, TokenSet,
};
use latchkey_benches::{
    AUDIENCE, AUTHORIZATION_ENDPOINT, CALLBACK_FRAGMENT, CALLBACK_QUERY, CLIENT_ID, CLIENT_SECRET,
    REDIRECT_URI, SCOPES, STATE, TOKEN_ENDPOINT, TOKEN_JSON, VERIFIER, now,
};
use oauth2::basic::{BasicClient, BasicTokenResponse};
use oauth2::{
    AuthUrl, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet, HttpResponse,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenUrl,
};

pub type OAuth2Client =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// Everything the operations need, built once.
pub struct Fixtures {
    pub latchkey: Client,
    pub oauth2: OAuth2Client,
    pub dialect: Dialect,
    /// The token response as latchkey's adapters hand it over.
    pub response: Response,
    /// The token response as oauth2's HTTP clients hand it over.
    pub http_response: HttpResponse,
    pub state: State,
}

impl Fixtures {
    pub fn new() -> Self {
        Self {
            latchkey: Client::builder(CLIENT_ID)
                .client_secret(CLIENT_SECRET)
                .authorization_endpoint(AUTHORIZATION_ENDPOINT)
                .token_endpoint(TOKEN_ENDPOINT)
                .redirect_uri(REDIRECT_URI)
                .build()
                .expect("latchkey client"),
            oauth2: BasicClient::new(ClientId::new(CLIENT_ID.into()))
                .set_client_secret(ClientSecret::new(CLIENT_SECRET.into()))
                .set_auth_uri(AuthUrl::new(AUTHORIZATION_ENDPOINT.into()).expect("auth url"))
                .set_token_uri(TokenUrl::new(TOKEN_ENDPOINT.into()).expect("token url"))
                .set_redirect_uri(RedirectUrl::new(REDIRECT_URI.into()).expect("redirect url")),
            dialect: Dialect::default(),
            response: Response::json(200, TOKEN_JSON, now()),
            http_response: http::Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .body(TOKEN_JSON.as_bytes().to_vec())
                .expect("response"),
            state: State::new(STATE),
        }
    }

    /// A pending authorization code flow whose state is [`STATE`] (setup, not measured).
    pub fn pending_code(&self) -> PendingAuthorization {
        self.latchkey
            .authorization_code()
            .state(State::new(STATE))
            .build()
            .expect("pending")
            .1
    }

    /// A pending implicit flow whose state is [`STATE`] (setup, not measured).
    pub fn pending_implicit(&self) -> PendingImplicit {
        self.latchkey
            .implicit()
            .state(State::new(STATE))
            .build()
            .expect("pending")
            .1
    }
}

pub fn latchkey_authorization_url(f: &Fixtures) -> (AuthorizationUrl, PendingAuthorization) {
    black_box(&f.latchkey)
        .authorization_code()
        .scope(SCOPES[0])
        .scope(SCOPES[1])
        .param("audience", AUDIENCE)
        .build()
        .expect("url")
}

/// The same authorization URL with the state and verifier supplied by the caller: what
/// remains of [`latchkey_authorization_url`] without the OS call.
pub fn latchkey_authorization_url_supplied(
    f: &Fixtures,
) -> (AuthorizationUrl, PendingAuthorization) {
    black_box(&f.latchkey)
        .authorization_code()
        .scope(SCOPES[0])
        .scope(SCOPES[1])
        .param("audience", AUDIENCE)
        .state(State::new(STATE))
        .pkce_verifier(PkceVerifier::new(VERIFIER).expect("verifier"))
        .build()
        .expect("url")
}

/// [`oauth2_authorization_url`] with the state and verifier supplied by the caller.
pub fn oauth2_authorization_url_supplied(f: &Fixtures) -> (url::Url, CsrfToken, PkceCodeVerifier) {
    let verifier = PkceCodeVerifier::new(VERIFIER.into());
    let challenge = PkceCodeChallenge::from_code_verifier_sha256(&verifier);
    let (url, state) = black_box(&f.oauth2)
        .authorize_url(|| CsrfToken::new(STATE.into()))
        .add_scope(Scope::new(SCOPES[0].into()))
        .add_scope(Scope::new(SCOPES[1].into()))
        .add_extra_param("audience", AUDIENCE)
        .set_pkce_challenge(challenge)
        .url();
    (url, state, verifier)
}

pub fn oauth2_authorization_url(f: &Fixtures) -> (url::Url, CsrfToken, PkceCodeVerifier) {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = black_box(&f.oauth2)
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new(SCOPES[0].into()))
        .add_scope(Scope::new(SCOPES[1].into()))
        .add_extra_param("audience", AUDIENCE)
        .set_pkce_challenge(challenge)
        .url();
    (url, state, verifier)
}

pub fn latchkey_pkce() -> (PkceVerifier, PkceChallenge) {
    let verifier = PkceVerifier::generate().expect("random");
    let challenge = verifier.challenge(PkceMethod::S256);
    (verifier, challenge)
}

pub fn oauth2_pkce() -> (PkceCodeChallenge, PkceCodeVerifier) {
    PkceCodeChallenge::new_random_sha256()
}

pub fn latchkey_token(f: &Fixtures) -> TokenSet {
    TokenSet::from_response(black_box(&f.response), &f.dialect, &[]).expect("token")
}

/// What `oauth2` does with a token response (`endpoint::endpoint_response`, private to the
/// crate, reproduced line for line): status check, `Content-Type` check, then
/// `serde_path_to_error` over `serde_json` into `BasicTokenResponse`.
pub fn oauth2_token(f: &Fixtures) -> BasicTokenResponse {
    let response = black_box(&f.http_response);
    assert_eq!(response.status(), http::StatusCode::OK);
    if let Some(ct) = response.headers().get(http::header::CONTENT_TYPE) {
        let json = ct
            .to_str()
            .ok()
            .filter(|ct| ct.to_lowercase().starts_with("application/json"));
        assert!(json.is_some());
    }
    serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(
        response.body().as_slice(),
    ))
    .expect("token")
}

pub fn latchkey_callback_query(f: &Fixtures, pending: PendingAuthorization) -> CodeExchange {
    pending
        .callback(&f.latchkey, black_box(CALLBACK_QUERY))
        .expect("code")
}

/// The parse and the state check alone, without building the code exchange.
pub fn latchkey_callback_query_parse(f: &Fixtures) -> CallbackParams<'static> {
    let p = CallbackParams::from_query(black_box(CALLBACK_QUERY)).expect("parse");
    assert!(f.state.matches(p.state.as_deref().unwrap_or_default()));
    p
}

pub fn latchkey_callback_fragment(f: &Fixtures, pending: PendingImplicit) -> TokenSet {
    pending
        .callback(&f.latchkey, black_box(CALLBACK_FRAGMENT), now())
        .expect("token")
}

/// A whole client-credentials exchange without the network, through latchkey's public API.
pub fn latchkey_client_credentials(f: &Fixtures) -> TokenSet {
    let exchange = black_box(&f.latchkey)
        .client_credentials()
        .expect("confidential");
    let request = exchange.request().expect("request");
    black_box(&request);
    exchange.response(f.response.clone()).expect("token")
}

/// The same through oauth2's public API, with an HTTP "client" that answers at once.
pub fn oauth2_client_credentials(f: &Fixtures) -> BasicTokenResponse {
    let http = |request: oauth2::HttpRequest| {
        black_box(&request);
        Ok::<_, Infallible>(f.http_response.clone())
    };
    black_box(&f.oauth2)
        .exchange_client_credentials()
        .request(&http)
        .expect("token")
}
