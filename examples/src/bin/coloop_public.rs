//! CoLoop, public application: authorization code flow with PKCE and no secret anywhere,
//! the userinfo endpoint, and a refresh. Async, with `latchkey-reqwest` on tokio.
//!
//! Runs against latchkey-mock unless the first five variables are set (all or none):
//!
//! ```text
//! COLOOP_AUTH_URL          authorization endpoint, e.g. https://clerk.coloop.ai/oauth/authorize
//! COLOOP_TOKEN_URL         token endpoint, e.g. https://clerk.coloop.ai/oauth/token
//! COLOOP_USERINFO_URL      userinfo endpoint, e.g. https://clerk.coloop.ai/oauth/userinfo
//! COLOOP_PUBLIC_CLIENT_ID  your public application's client ID
//! COLOOP_REDIRECT_URI      its registered callback URL
//! COLOOP_SCOPE             optional, default "email profile"
//! ```
//!
//! Against CoLoop, open the printed URL, sign in, and paste the URL you land on on stdin.

use std::process::ExitCode;

use latchkey::{Client, Exchange};
use latchkey_examples::{
    Result, Target, bail, real_provider, show_claims, show_request, show_tokens, show_url, step,
    var_or,
};
use latchkey_mock::{MockClient, MockServer, ResponseStyle};
use latchkey_reqwest::Transport;

const MOCK_CLIENT_ID: &str = "coloop-public-app";
const MOCK_REDIRECT_URI: &str = "http://127.0.0.1/oauth2/callback";

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
        "COLOOP_PUBLIC_CLIENT_ID",
        "COLOOP_REDIRECT_URI",
    ])? {
        Some([auth_url, token_url, userinfo_url, client_id, redirect_uri]) => (
            Target::Real("CoLoop"),
            Client::builder(client_id)
                .authorization_endpoint(auth_url)
                .token_endpoint(token_url)
                .userinfo_endpoint(userinfo_url)
                .redirect_uri(redirect_uri),
        ),
        None => {
            let mock = MockServer::builder()
                .client(
                    MockClient::new(MOCK_CLIENT_ID)
                        .require_pkce(true)
                        .response_style(ResponseStyle::Clerk)
                        .redirect_uris([MOCK_REDIRECT_URI])
                        .expires_in(7200),
                )
                .start();
            let client = Client::builder(MOCK_CLIENT_ID)
                .authorization_endpoint(mock.authorization_endpoint())
                .token_endpoint(mock.token_endpoint())
                .userinfo_endpoint(mock.userinfo_endpoint())
                .redirect_uri(MOCK_REDIRECT_URI);
            (Target::Mock(mock), client)
        }
    };
    // A public client: no secret, only `client_id` in the body; PKCE S256 is on by default.
    let client = client.build()?;
    let transport = Transport::new();
    target.banner("CoLoop public app: code flow with PKCE, userinfo, refresh (async, reqwest)");

    step(1, "build the authorization URL (PKCE S256)");
    let (url, pending) = client.authorization_code().scope(&scope).build()?;
    show_url("authorization URL", url.as_str());

    step(2, "the user signs in; CoLoop redirects back with a code");
    let callback = target.visit_async(&url).await?;

    step(3, "exchange the code (code_verifier instead of a secret)");
    let exchange = pending.callback(&client, &callback)?;
    show_request(&exchange.request()?);
    let tokens = transport.send(exchange).await?;
    show_tokens(&tokens);

    step(4, "who signed in: the userinfo endpoint");
    let userinfo = client.userinfo(tokens.access_token())?;
    show_request(&userinfo.request()?);
    show_claims(&transport.send(userinfo).await?);

    step(5, "refresh (no secret: a public app sends only client_id)");
    let Some(refresh_token) = tokens.refresh_token() else {
        bail!("CoLoop sent no refresh token");
    };
    let refresh = client.refresh(refresh_token)?;
    show_request(&refresh.request()?);
    let renewed = transport.send(refresh).await?;
    show_tokens(&renewed);
    target.check_access_token(&renewed)
}
