//! `AuthLayer` around a hyper client, against an axum resource server on loopback that
//! accepts the tokens latchkey-mock issued (see `support`).

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use latchkey_middleware::{AuthError, AuthLayer};
use tower::{Service, ServiceBuilder, ServiceExt as _};
use tower_http::follow_redirect::FollowRedirectLayer;

mod support;

use support::World;

type Hyper = Client<HttpConnector, Full<Bytes>>;

fn hyper() -> Hyper {
    Client::builder(TokioExecutor::new()).build_http()
}

fn get(url: &str) -> Request<Full<Bytes>> {
    Request::get(url).body(Full::new(Bytes::new())).unwrap()
}

/// Sends `request` through `service`; the status and the body.
async fn send<S, E>(service: &mut S, request: Request<Full<Bytes>>) -> (StatusCode, String)
where
    S: Service<Request<Full<Bytes>>, Response = http::Response<hyper::body::Incoming>, Error = E>,
    E: std::fmt::Debug,
{
    let response = service.ready().await.unwrap().call(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_goes_to_the_api_and_a_refused_one_is_renewed_once() {
    let world = World::start().await;
    let mut service = ServiceBuilder::new()
        .layer(AuthLayer::new(world.manager(), world.origins()))
        .service(hyper());

    assert_eq!(
        send(&mut service, get(&world.api("/me"))).await,
        (StatusCode::OK, "hello".into())
    );
    assert_eq!(world.tokens_issued(), 1);
    let sent = world.seen.to("/me");
    assert!(
        sent[0].as_deref().is_some_and(|a| a.starts_with("Bearer ")),
        "{sent:?}"
    );

    // The server revokes every token: the next request is refused once, the manager renews,
    // and the request (body included) goes again with the new token.
    world.mock.revoke_all_tokens();
    let post = Request::post(world.api("/echo"))
        .body(Full::new(Bytes::from_static(b"the same body twice")))
        .unwrap();
    assert_eq!(
        send(&mut service, post).await,
        (StatusCode::OK, "the same body twice".into())
    );
    assert_eq!(world.tokens_issued(), 2);
    let sent = world.seen.to("/echo");
    assert_eq!(sent.len(), 2);
    assert_ne!(sent[0], sent[1], "the retry carries the new token");

    // A server that refuses every token: one renewal, one retry, then its 401 as it is.
    let (status, _) = send(&mut service, get(&world.api("/never"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(world.seen.to("/never").len(), 2, "no loop");
    assert_eq!(world.tokens_issued(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_for_another_origin_nor_for_a_redirect_to_one() {
    let world = World::start().await;
    let mut service = ServiceBuilder::new()
        .layer(FollowRedirectLayer::new())
        .layer(AuthLayer::new(world.manager(), world.origins()))
        .service(hyper());

    assert_eq!(
        send(&mut service, get(&world.elsewhere("/sink"))).await.0,
        StatusCode::OK
    );
    // The API redirects to the other origin: the redirect layer sits outside, so the second
    // hop passes the origin check again, and gets no token.
    assert_eq!(
        send(&mut service, get(&world.api("/away"))).await,
        (StatusCode::OK, "sunk".into())
    );
    assert!(
        world.seen.to("/away")[0].is_some(),
        "the API itself got the token"
    );
    assert_eq!(
        world.seen.to("/sink"),
        [None, None],
        "never to the other origin"
    );
    // A relative URI cannot be checked: it gets no token either.
    let mut bare = ServiceBuilder::new()
        .layer(AuthLayer::new(world.manager(), world.origins()))
        .service(tower::service_fn(
            |request: Request<Full<Bytes>>| async move {
                let auth = request.headers().get(http::header::AUTHORIZATION).cloned();
                Ok::<_, std::convert::Infallible>(http::Response::new(auth))
            },
        ));
    let answer = bare.ready().await.unwrap().call(get("/me")).await.unwrap();
    assert!(answer.body().is_none());
    // An absolute URI at the API gets it, marked sensitive (kept out of `Debug` and HPACK).
    let answer = bare
        .ready()
        .await
        .unwrap()
        .call(get(&world.api("/me")))
        .await
        .unwrap();
    let header = answer.body().as_ref().expect("a token");
    assert!(header.is_sensitive());
    assert!(!format!("{answer:?}").contains(&header.to_str().unwrap()[7..]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clones_share_one_manager_and_one_renewal() {
    let world = World::start().await;
    let service = ServiceBuilder::new()
        .layer(AuthLayer::new(world.manager(), world.origins()))
        .service(hyper());
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let mut service = service.clone();
            let url = world.api("/me");
            tokio::spawn(async move { send(&mut service, get(&url)).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), (StatusCode::OK, "hello".into()));
    }
    assert_eq!(
        world.tokens_issued(),
        1,
        "one token for fifty requests on fifty clones"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_that_cannot_get_a_token_is_a_typed_error_and_nothing_is_sent() {
    let world = World::start().await;
    world.mock.inject(
        "/token",
        latchkey_mock::Fault::Status {
            status: 400,
            retry_after: None,
        },
        1,
    );
    let mut service = ServiceBuilder::new()
        .layer(AuthLayer::new(world.manager(), world.origins()))
        .service(hyper());
    let error = service
        .ready()
        .await
        .unwrap()
        .call(get(&world.api("/me")))
        .await
        .unwrap_err();
    assert!(matches!(error, AuthError::Token(_)), "{error}");
    assert!(world.seen.to("/me").is_empty());
}
