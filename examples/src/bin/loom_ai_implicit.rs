//! Loom AI, implicit flow: the access token comes back in the redirect's URL fragment.
//!
//! Legacy: RFC 9700 §2.1.2 advises against the implicit grant. `loom_ai_pkce` shows the flow
//! to prefer. No token request is made, so no HTTP adapter is involved.
//!
//! Runs against latchkey-mock unless the first three variables are set (all or none):
//!
//! ```text
//! LOOM_AUTH_URL      authorization endpoint, e.g. https://auth.loomai.com/authorize
//! LOOM_CLIENT_ID     your application's client ID
//! LOOM_REDIRECT_URI  a redirect URI registered for it, e.g. https://app.example/oauth/callback
//! LOOM_AUDIENCE      optional, default https://api.loomai.com/
//! LOOM_SCOPE         optional, default "read:avatars write:avatars"
//! ```
//!
//! Against Loom AI, open the printed URL, sign in, and paste the URL you land on (fragment
//! included) on stdin.

use std::process::ExitCode;
use std::time::SystemTime;

use latchkey::Client;
use latchkey_examples::{Result, Target, real_provider, show_tokens, show_url, step, var_or};
use latchkey_mock::{GrantType, MockClient, MockServer};

const MOCK_CLIENT_ID: &str = "loom-web-app";
const MOCK_REDIRECT_URI: &str = "https://app.example/oauth/callback";

fn main() -> ExitCode {
    latchkey_examples::finish(run())
}

fn run() -> Result {
    let audience = var_or("LOOM_AUDIENCE", "https://api.loomai.com/");
    let scope = var_or("LOOM_SCOPE", "read:avatars write:avatars");
    let (target, client) =
        match real_provider(["LOOM_AUTH_URL", "LOOM_CLIENT_ID", "LOOM_REDIRECT_URI"])? {
            Some([auth_url, client_id, redirect_uri]) => (
                Target::Real("Loom AI"),
                Client::builder(client_id)
                    .authorization_endpoint(auth_url)
                    .redirect_uri(redirect_uri),
            ),
            None => {
                let mock = MockServer::builder()
                    .client(
                        MockClient::new(MOCK_CLIENT_ID)
                            .grant_types([GrantType::Implicit])
                            .require_audience(&audience)
                            .redirect_uris([MOCK_REDIRECT_URI]),
                    )
                    .start();
                let client = Client::builder(MOCK_CLIENT_ID)
                    .authorization_endpoint(mock.authorization_endpoint())
                    .redirect_uri(MOCK_REDIRECT_URI);
                (Target::Mock(mock), client)
            }
        };
    // Loom AI's dialect: `audience` on the authorization request (Auth0-style).
    let client = client.audience(audience).build()?;
    target.banner("Loom AI: implicit flow (legacy)");

    step(
        1,
        "build the authorization URL (response_type=token, audience, state)",
    );
    let (url, pending) = client.implicit().scope(&scope).build()?;
    show_url("authorization URL", url.as_str());

    step(2, "the user signs in; the provider redirects back");
    let callback = target.visit(&url)?;

    step(3, "read the token from the fragment (state checked first)");
    let tokens = pending.callback(&client, &callback, SystemTime::now())?;
    show_tokens(&tokens);
    target.check_access_token(&tokens)
}
