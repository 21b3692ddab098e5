//! Blooma, client credentials flow: a server process gets a token for itself, with the
//! `audience` of its Blooma instance, once with a JSON body and once with a form body (the
//! document shows both). Async, with `latchkey-reqwest` on tokio.
//!
//! Runs against latchkey-mock unless these variables are set (all or none):
//!
//! ```text
//! BLOOMA_TOKEN_URL      token endpoint, e.g. https://login.blooma.ai/oauth/token
//! BLOOMA_CLIENT_ID      the client ID your Blooma CX Manager gave you
//! BLOOMA_CLIENT_SECRET  its client secret
//! BLOOMA_AUDIENCE       {BASE_URL}/api/ of your dedicated Blooma instance
//! ```

use std::process::ExitCode;

use latchkey::{BodyEncoding, Client, ClientAuth, Exchange};
use latchkey_examples::{Result, Target, real_provider, show_request, show_tokens, step};
use latchkey_mock::{AuthMethod, Encoding, MockClient, MockServer};
use latchkey_reqwest::Transport;

const MOCK_CLIENT_ID: &str = "blooma-integration";
const MOCK_CLIENT_SECRET: &str = "blooma-mock-secret";
const MOCK_AUDIENCE: &str = "https://your-instance.blooma.example/api/";

/// What identifies the client, whichever server it talks to.
struct Settings {
    token_url: String,
    client_id: String,
    client_secret: String,
    audience: String,
}

impl Settings {
    /// Blooma's dialect: the secret in the body (`client_secret_post`), `audience` on every
    /// token request, and the body encoding of the caller's choice.
    fn client(&self, encoding: BodyEncoding) -> Result<Client> {
        Ok(Client::builder(&self.client_id)
            .client_secret(self.client_secret.as_str())
            .auth_method(ClientAuth::Post)
            .token_endpoint(&self.token_url)
            .token_param("audience", &self.audience)
            .body_encoding(encoding)
            .build()?)
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    latchkey_examples::finish(run().await)
}

async fn run() -> Result {
    let (target, settings) = match real_provider([
        "BLOOMA_TOKEN_URL",
        "BLOOMA_CLIENT_ID",
        "BLOOMA_CLIENT_SECRET",
        "BLOOMA_AUDIENCE",
    ])? {
        Some([token_url, client_id, client_secret, audience]) => (
            Target::Real("Blooma"),
            Settings {
                token_url,
                client_id,
                client_secret,
                audience,
            },
        ),
        None => {
            let mock = MockServer::builder()
                .client(
                    MockClient::new(MOCK_CLIENT_ID)
                        .secret(MOCK_CLIENT_SECRET)
                        .auth_method(AuthMethod::Post)
                        .encodings([Encoding::Json, Encoding::Form])
                        .require_audience(MOCK_AUDIENCE)
                        .default_scope("USER")
                        .expires_in(86400),
                )
                .start();
            let settings = Settings {
                token_url: mock.token_endpoint(),
                client_id: MOCK_CLIENT_ID.into(),
                client_secret: MOCK_CLIENT_SECRET.into(),
                audience: MOCK_AUDIENCE.into(),
            };
            (Target::Mock(mock), settings)
        }
    };
    let transport = Transport::new();
    target
        .banner("Blooma: client credentials with audience, JSON and form bodies (async, reqwest)");

    let encodings = [
        (BodyEncoding::Json, "with a JSON body (the document's curl)"),
        (
            BodyEncoding::Form,
            "with a form body (the document's example)",
        ),
    ];
    for (n, (encoding, how)) in (1..).zip(encodings) {
        step(n, &format!("request a token {how}"));
        let exchange = settings.client(encoding)?.client_credentials()?;
        show_request(&exchange.request()?);
        let tokens = transport.send(exchange).await?;
        show_tokens(&tokens);
        target.check_access_token(&tokens)?;
    }
    Ok(())
}
