//! Loom AI, authorization code flow with PKCE, `audience` on both legs and `offline_access`,
//! then a refresh. Blocking, with `latchkey-ureq`.
//!
//! Runs against latchkey-mock unless the first four variables are set (all or none):
//!
//! ```text
//! LOOM_AUTH_URL      authorization endpoint, e.g. https://auth.loomai.com/authorize
//! LOOM_TOKEN_URL     token endpoint, e.g. https://auth.loomai.com/oauth/token
//! LOOM_CLIENT_ID     your native or mobile application's client ID (no secret)
//! LOOM_REDIRECT_URI  a redirect URI registered for it, e.g. http://127.0.0.1:8080/callback
//! LOOM_AUDIENCE      optional, default https://api.loomai.com/
//! LOOM_SCOPE         optional, default "offline_access read:avatars write:avatars"
//!                    (keep offline_access: without it there is no refresh token)
//! ```
//!
//! Against Loom AI, open the printed URL, sign in, and paste the URL you land on on stdin.

use std::process::ExitCode;

use latchkey::{Client, Exchange};
use latchkey_examples::{
    Result, Target, bail, real_provider, show_request, show_tokens, show_url, step, var_or,
};
use latchkey_mock::{MockClient, MockServer};
use latchkey_ureq::Transport;

const MOCK_CLIENT_ID: &str = "loom-native-app";
const MOCK_REDIRECT_URI: &str = "http://127.0.0.1/callback";

fn main() -> ExitCode {
    latchkey_examples::finish(run())
}

fn run() -> Result {
    let audience = var_or("LOOM_AUDIENCE", "https://api.loomai.com/");
    let scope = var_or("LOOM_SCOPE", "offline_access read:avatars write:avatars");
    let (target, client) = match real_provider([
        "LOOM_AUTH_URL",
        "LOOM_TOKEN_URL",
        "LOOM_CLIENT_ID",
        "LOOM_REDIRECT_URI",
    ])? {
        Some([auth_url, token_url, client_id, redirect_uri]) => (
            Target::Real("Loom AI"),
            Client::builder(client_id)
                .authorization_endpoint(auth_url)
                .token_endpoint(token_url)
                .redirect_uri(redirect_uri),
        ),
        None => {
            let mock = MockServer::builder()
                .client(
                    MockClient::new(MOCK_CLIENT_ID)
                        .require_pkce(true)
                        .require_audience(&audience)
                        .redirect_uris([MOCK_REDIRECT_URI])
                        .expires_in(86400),
                )
                .start();
            let client = Client::builder(MOCK_CLIENT_ID)
                .authorization_endpoint(mock.authorization_endpoint())
                .token_endpoint(mock.token_endpoint())
                .redirect_uri(MOCK_REDIRECT_URI);
            (Target::Mock(mock), client)
        }
    };
    // Loom AI's dialect: `audience` on the authorization request and on every token request.
    // A public client: no secret, so PKCE (on by default, S256) is what binds the code to us.
    let client = client.audience(audience).build()?;
    let transport = Transport::new();
    target.banner("Loom AI: authorization code + PKCE, then refresh (blocking, ureq)");

    step(
        1,
        "build the authorization URL (PKCE S256, audience, state)",
    );
    let (url, pending) = client.authorization_code().scope(&scope).build()?;
    show_url("authorization URL", url.as_str());

    step(
        2,
        "the user signs in; the provider redirects back with a code",
    );
    let callback = target.visit(&url)?;

    step(3, "exchange the code (with the PKCE verifier and audience)");
    let exchange = pending.callback(&client, &callback)?;
    show_request(&exchange.request()?);
    let tokens = transport.send(exchange)?;
    show_tokens(&tokens);
    target.check_access_token(&tokens)?;

    step(
        4,
        "refresh the access token (offline_access gave us a refresh token)",
    );
    let Some(refresh_token) = tokens.refresh_token() else {
        bail!("no refresh token: was offline_access in the scope?");
    };
    let refresh = client.refresh(refresh_token)?;
    show_request(&refresh.request()?);
    let renewed = transport.send(refresh)?;
    show_tokens(&renewed);
    target.check_access_token(&renewed)
}
