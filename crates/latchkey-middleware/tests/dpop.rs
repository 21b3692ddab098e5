//! DPoP-bound tokens in the HTTP stack: `AuthLayer` (around a hyper client) and
//! `BearerMiddleware` send `Authorization: DPoP` with a fresh proof to latchkey-mock's userinfo
//! endpoint, which checks the proof (signature, `htm`, `htu`, `ath`, `jti`, the binding) and,
//! in nonce mode, challenges with `use_dpop_nonce`: answered once, never twice.

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client as Hyper;
use hyper_util::rt::TokioExecutor;
use latchkey::jose::{Algorithm, SigningKey};
use latchkey::{Client, Dpop, Lifecycle, TokenSource, TokenType};
use latchkey_conformance::fixture::{REDIRECT, visit};
use latchkey_middleware::{AuthLayer, BearerMiddleware, Origins};
use latchkey_mock::{MockClient, MockServer};
use tower::{Service as _, ServiceBuilder, ServiceExt as _};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dpop_tokens_carry_a_proof_and_a_resource_nonce_is_answered_once() {
    let mock = MockServer::builder()
        .client(MockClient::new("spa").require_pkce(true))
        .dpop_nonce_required(true)
        .record_requests(true)
        .start();
    let dpop = Dpop::new(SigningKey::generate(Algorithm::ES256).unwrap());
    let client = Client::builder("spa")
        .authorization_endpoint(mock.authorization_endpoint())
        .token_endpoint(mock.token_endpoint())
        .userinfo_endpoint(mock.userinfo_endpoint())
        .redirect_uri(REDIRECT)
        .dpop(dpop.clone())
        .build()
        .unwrap();
    let (url, pending) = client.authorization_code().scope("openid").build().unwrap();
    let location = tokio::task::spawn_blocking(move || visit(url.as_str()))
        .await
        .unwrap();
    let transport = latchkey_reqwest::Transport::new();
    let tokens = transport
        .send(pending.callback(&client, &location).unwrap())
        .await
        .unwrap();
    assert_eq!(tokens.token_type(), &TokenType::DPoP);
    let manager = latchkey_reqwest::TokenManager::builder(
        transport,
        Lifecycle::new(client, TokenSource::User),
    )
    .tokens(tokens)
    .build()
    .unwrap();
    let origins = Origins::new().allow(&mock.userinfo_endpoint()).unwrap();
    let challenges = mock.dpop_nonce_challenges();

    // tower: a fresh nonce for userinfo (the token endpoint's was answered by the driver).
    mock.rotate_dpop_nonce();
    let mut service = ServiceBuilder::new()
        .layer(AuthLayer::new(manager.clone(), origins.clone()))
        .service(Hyper::builder(TokioExecutor::new()).build_http::<Full<Bytes>>());
    let request = Request::get(mock.userinfo_endpoint())
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = service.ready().await.unwrap().call(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(
        mock.dpop_nonce_challenges(),
        challenges + 1,
        "one challenge, one retry"
    );
    let seen = mock.requests_to("/userinfo");
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().all(|r| {
        r.header("authorization")
            .is_some_and(|a| a.starts_with("DPoP "))
            && r.header("dpop").is_some()
    }));

    // reqwest-middleware: the nonce is remembered (no challenge), then rotated (one more).
    let http = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(BearerMiddleware::new(manager, origins))
        .build();
    let answer = http.get(mock.userinfo_endpoint()).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(mock.dpop_nonce_challenges(), challenges + 1);
    mock.rotate_dpop_nonce();
    let answer = http.get(mock.userinfo_endpoint()).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(mock.dpop_nonce_challenges(), challenges + 2);
    assert_eq!(mock.requests_to("/userinfo").len(), 5);
}
