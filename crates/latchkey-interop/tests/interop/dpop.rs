//! DPoP (RFC 9449) against oidc-provider's `features.dPoP`, through both adapters: code +
//! PKCE, refresh, userinfo and client credentials with DPoP-bound tokens, the token
//! managers' resource requests to a DPoP-checking resource server of our own
//! ([`ResourceServer`]), and all of it again with server nonces required (by oidc-provider
//! and by the resource server).

use latchkey::jose::{Algorithm, SigningKey};
use latchkey::{
    Client, Dpop, Error, Lifecycle, Method, Request, Response, RetryMode, TokenSet, TokenSource,
    TokenType, Url,
};
use latchkey_interop::clients::{
    CONF_BASIC, CONF_BASIC_SECRET, DPOP_CC, DPOP_CC_SECRET, DPOP_PUBLIC,
};
use latchkey_interop::{Provider, ResourceServer, loopback_redirect_uri};
use serde_json::Value;

use crate::support::{Adapter, code_tokens};

fn dpop_client(p: &Provider, alg: Algorithm) -> (Client, Dpop) {
    let dpop = Dpop::new(SigningKey::generate(alg).expect("a key"));
    let client = p
        .client_builder(DPOP_PUBLIC)
        .redirect_uri(loopback_redirect_uri())
        .dpop(dpop.clone())
        .build()
        .expect("DPoP client");
    (client, dpop)
}

/// The token manager of the adapter sends `method` to `url` with the tokens.
fn managed(
    a: &Adapter,
    lifecycle: Lifecycle,
    tokens: Option<TokenSet>,
    origin: &str,
    requests: &[Request],
) -> Vec<Result<Response, Error>> {
    match a {
        Adapter::Ureq(transport) => {
            let mut builder = latchkey_ureq::TokenManager::builder(transport.clone(), lifecycle)
                .resource_origin(origin);
            if let Some(tokens) = tokens {
                builder = builder.tokens(tokens);
            }
            let manager = builder.build().expect("manager");
            requests.iter().map(|r| manager.execute(r)).collect()
        }
        Adapter::Reqwest(transport, runtime) => runtime.block_on(async {
            let mut builder = latchkey_reqwest::TokenManager::builder(transport.clone(), lifecycle)
                .resource_origin(origin);
            if let Some(tokens) = tokens {
                builder = builder.tokens(tokens);
            }
            let manager = builder.build().expect("manager");
            let mut answers = Vec::new();
            for request in requests {
                answers.push(manager.execute(request).await);
            }
            answers
        }),
    }
}

fn get(rs: &ResourceServer, path: &str) -> Request {
    Request::new(
        Method::Get,
        Url::parse(&format!("{}{path}", rs.base())).expect("url"),
        RetryMode::Idempotent,
    )
}

fn post(rs: &ResourceServer, path: &str) -> Request {
    let mut request = Request::new(
        Method::Post,
        Url::parse(&format!("{}{path}", rs.base())).expect("url"),
        RetryMode::ConnectFailureOnly,
    );
    request.headers.insert("content-type", "application/json");
    request.body = br#"{"n":1}"#.to_vec();
    request
}

/// The resource server's JSON answer, which must be a 200.
fn ok_json(answer: &Result<Response, Error>) -> Value {
    let answer = answer.as_ref().expect("an answer");
    assert_eq!(
        answer.status,
        200,
        "{:?}",
        String::from_utf8_lossy(&answer.body)
    );
    serde_json::from_slice(&answer.body).expect("JSON")
}

fn assert_bound(tokens: &TokenSet, dpop: &Dpop) {
    assert_eq!(tokens.token_type(), &TokenType::DPoP);
    assert_eq!(
        tokens
            .dpop_key()
            .expect("the key kept with the tokens")
            .thumbprint(),
        dpop.jkt()
    );
}

/// The introspected `cnf.jkt` of `token` (with a confidential client).
fn introspected_jkt(a: &Adapter, p: &Provider, token: &latchkey::AccessToken) -> Option<String> {
    let introspector = p
        .client_builder(CONF_BASIC)
        .client_secret(CONF_BASIC_SECRET)
        .introspection_endpoint(p.introspection_endpoint())
        .build()
        .expect("introspecting client");
    let answer = a
        .send(introspector.introspect(token).expect("introspection"))
        .expect("introspection answer");
    assert!(answer.active);
    answer
        .extra
        .get("cnf")
        .and_then(|c| c.get("jkt"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Code + PKCE, userinfo, refresh and the token manager's resource requests, each with DPoP,
/// for an ES256 and an EdDSA key; a bound token without a proof, or with another key's, is
/// refused.
fn code_refresh_userinfo_and_resource(a: &Adapter) {
    let p = Provider::expect_shared();
    let rs = ResourceServer::start(p, false);
    for alg in [Algorithm::ES256, Algorithm::EdDSA] {
        let (client, dpop) = dpop_client(p, alg);
        let tokens = code_tokens(a, &client, "openid offline_access email");
        assert_bound(&tokens, &dpop);
        assert_eq!(
            introspected_jkt(a, p, tokens.access_token()),
            Some(dpop.jkt())
        );

        let claims = a
            .send(client.userinfo(tokens.access_token()).expect("userinfo"))
            .expect("userinfo with DPoP");
        assert_eq!(claims["sub"], "alice");

        let refreshed = a
            .send(
                client
                    .refresh(tokens.refresh_token().expect("a refresh token"))
                    .expect("refresh"),
            )
            .expect("refresh with DPoP");
        assert_bound(&refreshed, &dpop);
        assert_ne!(
            refreshed.access_token().expose_secret(),
            tokens.access_token().expose_secret()
        );

        let answers = managed(
            a,
            Lifecycle::new(client.clone(), TokenSource::User),
            Some(refreshed.clone()),
            rs.base(),
            &[get(&rs, "/items?page=2"), post(&rs, "/items")],
        );
        for (answer, method) in answers.iter().zip(["GET", "POST"]) {
            let body = ok_json(answer);
            assert_eq!(body["jkt"], dpop.jkt());
            assert_eq!(body["sub"], "alice");
            assert_eq!(body["method"], method);
        }

        // Without a proof (a client that has no key), the bound token is refused.
        let plain = p
            .client_builder(DPOP_PUBLIC)
            .redirect_uri(loopback_redirect_uri())
            .build()
            .expect("client");
        let refused = a.send(plain.userinfo(refreshed.access_token()).expect("userinfo"));
        assert!(refused.is_err(), "{refused:?}");
        // With another key's proof too.
        let (other, _) = dpop_client(p, Algorithm::ES256);
        let refused = a.send(other.userinfo(refreshed.access_token()).expect("userinfo"));
        assert!(refused.is_err(), "{refused:?}");
    }
    assert!(
        rs.answered().iter().all(|r| r.status == 200),
        "{:?}",
        rs.answered()
    );
}

/// Client credentials for a client whose tokens must be DPoP-bound; the token manager gets
/// them itself and sends resource requests with them.
fn client_credentials(a: &Adapter) {
    let p = Provider::expect_shared();
    let rs = ResourceServer::start(p, false);
    let dpop = Dpop::new(SigningKey::generate(Algorithm::ES256).expect("key"));
    let client = p
        .client_builder(DPOP_CC)
        .client_secret(DPOP_CC_SECRET)
        .dpop(dpop.clone())
        .build()
        .expect("client");
    let tokens = a
        .send(client.client_credentials().expect("cc"))
        .expect("client credentials with DPoP");
    assert_bound(&tokens, &dpop);

    let lifecycle = Lifecycle::new(
        client,
        TokenSource::ClientCredentials {
            scope: String::new(),
            params: Vec::new(),
        },
    );
    let answers = managed(a, lifecycle, None, rs.base(), &[get(&rs, "/cc")]);
    assert_eq!(ok_json(&answers[0])["jkt"], dpop.jkt());
}

/// With nonces required everywhere: oidc-provider answers the first request of each kind
/// `use_dpop_nonce` and the send driver sends it once more; the resource server too, and
/// after its nonce is rotated, once more again (never twice in a row).
fn required_nonces(a: &Adapter) {
    let p = Provider::start_with(&[("INTEROP_DPOP_NONCE", "1")]).expect("a provider");
    let rs = ResourceServer::start(&p, true);
    let (client, dpop) = dpop_client(&p, Algorithm::ES256);
    let tokens = code_tokens(a, &client, "openid offline_access");
    assert_bound(&tokens, &dpop);
    let token_endpoint = Url::parse(p.token_endpoint()).expect("url");
    assert!(
        dpop.nonce(&token_endpoint).is_some(),
        "the server's nonce is kept"
    );
    let refreshed = a
        .send(
            client
                .refresh(tokens.refresh_token().expect("rt"))
                .expect("refresh"),
        )
        .expect("refresh with a nonce");
    assert_bound(&refreshed, &dpop);
    let claims = a
        .send(client.userinfo(refreshed.access_token()).expect("userinfo"))
        .expect("userinfo with a nonce");
    assert_eq!(claims["sub"], "alice");

    let first = managed(
        a,
        Lifecycle::new(client.clone(), TokenSource::User),
        Some(refreshed.clone()),
        rs.base(),
        &[get(&rs, "/a"), get(&rs, "/b")],
    );
    ok_json(&first[0]);
    ok_json(&first[1]);
    rs.rotate_nonce();
    let second = managed(
        a,
        Lifecycle::new(client, TokenSource::User),
        Some(refreshed),
        rs.base(),
        &[post(&rs, "/c")],
    );
    ok_json(&second[0]);
    let statuses: Vec<u16> = rs.answered().iter().map(|r| r.status).collect();
    // a: challenged once, then accepted; b: the remembered nonce; c: challenged once more.
    assert_eq!(statuses, [401, 200, 200, 401, 200], "{:?}", rs.answered());
    assert_eq!(rs.nonces_issued(), 2);
    assert!(rs.answered()[0].outcome.starts_with("use_dpop_nonce"));
}

through_both! {
    drivers: [],
    adapters: [code_refresh_userinfo_and_resource, client_credentials, required_nonces],
}
