//! Loop & Tie, authorization code flow: the token request is `multipart/form-data` (what the
//! document's `curl -F` sends) with the secret in the body, and the answer carries
//! `created_at` but no `expires_in`, so the token's expiry is unknown. Blocking, with
//! `latchkey-ureq`.
//!
//! Runs against latchkey-mock unless these variables are set (all or none):
//!
//! ```text
//! LOOP_AND_TIE_AUTH_URL       authorization endpoint, e.g. https://www.loopandtie.com/oauth2/authorize
//! LOOP_AND_TIE_TOKEN_URL      token endpoint, e.g. https://www.loopandtie.com/oauth2/token
//! LOOP_AND_TIE_CLIENT_ID      the client_id Loop & Tie issued
//! LOOP_AND_TIE_CLIENT_SECRET  the client_secret Loop & Tie issued
//! LOOP_AND_TIE_REDIRECT_URI   your registered redirect URI, e.g. https://your.site/redirect-uri
//! ```
//!
//! Against Loop & Tie, open the printed URL, sign in, and paste the URL you land on on stdin.

use std::process::ExitCode;

use latchkey::{BodyEncoding, Client, ClientAuth, Exchange};
use latchkey_examples::{
    Result, Target, real_provider, show, show_request, show_tokens, show_url, step,
};
use latchkey_mock::{AuthMethod, Encoding, MockClient, MockServer, ResponseStyle};
use latchkey_ureq::Transport;

const MOCK_CLIENT_ID: &str = "loop-and-tie-app";
const MOCK_CLIENT_SECRET: &str = "loop-and-tie-mock-secret";
const MOCK_REDIRECT_URI: &str = "https://your.site/redirect-uri";

fn main() -> ExitCode {
    latchkey_examples::finish(run())
}

fn run() -> Result {
    let (target, client) = match real_provider([
        "LOOP_AND_TIE_AUTH_URL",
        "LOOP_AND_TIE_TOKEN_URL",
        "LOOP_AND_TIE_CLIENT_ID",
        "LOOP_AND_TIE_CLIENT_SECRET",
        "LOOP_AND_TIE_REDIRECT_URI",
    ])? {
        Some([auth_url, token_url, client_id, secret, redirect_uri]) => (
            Target::Real("Loop & Tie"),
            Client::builder(client_id)
                .client_secret(secret)
                .authorization_endpoint(auth_url)
                .token_endpoint(token_url)
                .redirect_uri(redirect_uri),
        ),
        None => {
            let mock = MockServer::builder()
                .client(
                    MockClient::new(MOCK_CLIENT_ID)
                        .secret(MOCK_CLIENT_SECRET)
                        .auth_method(AuthMethod::Post)
                        .encodings([Encoding::Multipart])
                        .response_style(ResponseStyle::Doorkeeper)
                        .redirect_uris([MOCK_REDIRECT_URI]),
                )
                .start();
            let client = Client::builder(MOCK_CLIENT_ID)
                .client_secret(MOCK_CLIENT_SECRET)
                .authorization_endpoint(mock.authorization_endpoint())
                .token_endpoint(mock.token_endpoint())
                .redirect_uri(MOCK_REDIRECT_URI);
            (Target::Mock(mock), client)
        }
    };
    // Loop & Tie's dialect: id and secret as multipart form fields.
    let client = client
        .auth_method(ClientAuth::Post)
        .body_encoding(BodyEncoding::Multipart)
        .build()?;
    let transport = Transport::new();
    target.banner("Loop & Tie: code flow, multipart token request, created_at (blocking, ureq)");

    step(1, "build the authorization URL");
    // The document's request has no PKCE parameters, so they are left out; `state` is kept
    // (CSRF protection). Turn PKCE on if Loop & Tie ever documents it.
    let (url, pending) = client.authorization_code().no_pkce().build()?;
    show_url("authorization URL", url.as_str());

    step(
        2,
        "the user signs in and clicks Authorize; Loop & Tie redirects back with a code",
    );
    let callback = target.visit(&url)?;

    step(3, "exchange the code (multipart/form-data, like curl -F)");
    let exchange = pending.callback(&client, &callback)?;
    show_request(&exchange.request()?);
    let tokens = transport.send(exchange)?;
    show_tokens(&tokens);
    if let Some(created_at) = tokens.extra().get("created_at") {
        show("created_at", created_at);
    }
    target.check_access_token(&tokens)
}
