//! CoLoop, private application: authorization code flow with `client_secret` in the request
//! body, the userinfo endpoint, and a refresh that sends the secret again. Async, with
//! `latchkey-reqwest` on tokio.
//!
//! Runs against latchkey-mock unless the first six variables are set (all or none):
//!
//! ```text
//! COLOOP_AUTH_URL       authorization endpoint, e.g. https://clerk.coloop.ai/oauth/authorize
//! COLOOP_TOKEN_URL      token endpoint, e.g. https://clerk.coloop.ai/oauth/token
//! COLOOP_USERINFO_URL   userinfo endpoint, e.g. https://clerk.coloop.ai/oauth/userinfo
//! COLOOP_CLIENT_ID      your private application's client ID
//! COLOOP_CLIENT_SECRET  its client secret
//! COLOOP_REDIRECT_URI   its registered callback URL, e.g. https://your-domain.com/oauth2/callback
//! COLOOP_SCOPE          optional, default "email profile"
//! ```
//!
//! Against CoLoop, open the printed URL, sign in, and paste the URL you land on on stdin.

use std::process::ExitCode;

use latchkey::{Client, ClientAuth, Exchange};
use latchkey_examples::{
    Result, Target, bail, real_provider, show, show_claims, show_request, show_tokens, show_url,
    step, var_or,
};
use latchkey_mock::{AuthMethod, MockClient, MockServer, ResponseStyle};
use latchkey_reqwest::Transport;

const MOCK_CLIENT_ID: &str = "coloop-private-app";
const MOCK_CLIENT_SECRET: &str = "coloop-mock-secret";
const MOCK_REDIRECT_URI: &str = "https://your-domain.com/oauth2/callback";

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    latchkey_examples::finish(run().await)
}

async fn run() -> Result {
    let scope = var_or("COLOOP_SCOPE", "email profile");
    let (target, client) = match real_provider([
        "COLOOP_AUTH_URL",
        "COLOOP_TOKEN_URL",
        "COLOOP_USERINFO_URL",
        "COLOOP_CLIENT_ID",
        "COLOOP_CLIENT_SECRET",
        "COLOOP_REDIRECT_URI",
    ])? {
        Some(
            [
                auth_url,
                token_url,
                userinfo_url,
                client_id,
                secret,
                redirect_uri,
            ],
        ) => (
            Target::Real("CoLoop"),
            Client::builder(client_id)
                .client_secret(secret)
                .authorization_endpoint(auth_url)
                .token_endpoint(token_url)
                .userinfo_endpoint(userinfo_url)
                .redirect_uri(redirect_uri),
        ),
        None => {
            let mock = MockServer::builder()
                .client(
                    MockClient::new(MOCK_CLIENT_ID)
                        .secret(MOCK_CLIENT_SECRET)
                        .auth_method(AuthMethod::Post)
                        .response_style(ResponseStyle::Clerk)
                        .rotate_refresh_tokens(true)
                        .redirect_uris([MOCK_REDIRECT_URI])
                        .expires_in(7200),
                )
                .start();
            let client = Client::builder(MOCK_CLIENT_ID)
                .client_secret(MOCK_CLIENT_SECRET)
                .authorization_endpoint(mock.authorization_endpoint())
                .token_endpoint(mock.token_endpoint())
                .userinfo_endpoint(mock.userinfo_endpoint())
                .redirect_uri(MOCK_REDIRECT_URI);
            (Target::Mock(mock), client)
        }
    };
    // CoLoop's dialect for private apps: the secret goes in the body (`client_secret_post`),
    // not in an Authorization header. PKCE stays on as well (RFC 9700 §2.1.1); the document
    // shows it only for public apps, and the server accepts it from both.
    let client = client.auth_method(ClientAuth::Post).build()?;
    let transport = Transport::new();
    target.banner("CoLoop private app: code flow, userinfo, refresh (async, reqwest)");

    step(1, "build the authorization URL");
    let (url, pending) = client.authorization_code().scope(&scope).build()?;
    show_url("authorization URL", url.as_str());

    step(2, "the user signs in; CoLoop redirects back with a code");
    let callback = target.visit_async(&url).await?;

    step(3, "exchange the code (client_secret in the form body)");
    let exchange = pending.callback(&client, &callback)?;
    show_request(&exchange.request()?);
    let tokens = transport.send(exchange).await?;
    show_tokens(&tokens);

    step(
        4,
        "who signed in: the userinfo endpoint (Authorization: Bearer)",
    );
    let userinfo = client.userinfo(tokens.access_token())?;
    show_request(&userinfo.request()?);
    show_claims(&transport.send(userinfo).await?);

    step(
        5,
        "refresh (client_secret again, as the document says for private apps)",
    );
    let Some(refresh_token) = tokens.refresh_token() else {
        bail!("CoLoop sent no refresh token");
    };
    let refresh = client.refresh(refresh_token)?;
    show_request(&refresh.request()?);
    let renewed = transport.send(refresh).await?;
    show_tokens(&renewed);
    let rotated = renewed
        .refresh_token()
        .is_some_and(|new| new.expose_secret() != refresh_token.expose_secret());
    show("refresh token rotated", rotated);

    step(6, "the new access token works on userinfo");
    let userinfo = client.userinfo(renewed.access_token())?;
    show_request(&userinfo.request()?);
    show_claims(&transport.send(userinfo).await?);
    Ok(())
}
