//! `BearerMiddleware` in a `reqwest_middleware::ClientWithMiddleware`, against an axum
//! resource server on loopback that accepts the tokens latchkey-mock issued (see `support`).

use latchkey_middleware::BearerMiddleware;
use reqwest::StatusCode;
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};

mod support;

use support::World;

fn client(world: &World) -> ClientWithMiddleware {
    ClientBuilder::new(reqwest::Client::new())
        .with(BearerMiddleware::new(world.manager(), world.origins()))
        .build()
}

async fn text(response: reqwest::Response) -> (StatusCode, String) {
    (response.status(), response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_goes_to_the_api_and_a_refused_one_is_renewed_once() {
    let world = World::start().await;
    let client = client(&world);

    let answer = client.get(world.api("/me")).send().await.unwrap();
    assert_eq!(text(answer).await, (StatusCode::OK, "hello".into()));
    assert_eq!(world.tokens_issued(), 1);

    world.mock.revoke_all_tokens();
    let answer = client
        .post(world.api("/echo"))
        .body("the same body twice")
        .send()
        .await
        .unwrap();
    assert_eq!(
        text(answer).await,
        (StatusCode::OK, "the same body twice".into())
    );
    assert_eq!(world.tokens_issued(), 2);
    let sent = world.seen.to("/echo");
    assert_eq!(sent.len(), 2);
    assert_ne!(sent[0], sent[1], "the retry carries the new token");

    let answer = client.get(world.api("/never")).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(world.seen.to("/never").len(), 2, "no loop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_for_another_origin_nor_for_a_redirect_to_one() {
    let world = World::start().await;
    let client = client(&world);
    let answer = client.get(world.elsewhere("/sink")).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    // reqwest follows the redirect itself, below the middleware, and drops `Authorization`
    // when it leaves the origin.
    let answer = client.get(world.api("/away")).send().await.unwrap();
    assert_eq!(text(answer).await, (StatusCode::OK, "sunk".into()));
    assert!(world.seen.to("/away")[0].is_some());
    assert_eq!(world.seen.to("/sink"), [None, None]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clones_share_one_manager_and_one_renewal() {
    let world = World::start().await;
    let client = client(&world);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (client, url) = (client.clone(), world.api("/me"));
            tokio::spawn(async move { client.get(url).send().await.unwrap().status() })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::OK);
    }
    assert_eq!(world.tokens_issued(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_that_cannot_get_a_token_is_an_error_and_nothing_is_sent() {
    let world = World::start().await;
    world.mock.inject(
        "/token",
        latchkey_mock::Fault::Status {
            status: 400,
            retry_after: None,
        },
        1,
    );
    let error = client(&world)
        .get(world.api("/me"))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(error, reqwest_middleware::Error::Middleware(_)),
        "{error}"
    );
    assert!(world.seen.to("/me").is_empty());
}
