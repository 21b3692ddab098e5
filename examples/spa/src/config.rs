//! [`SpaConfig`]: the authorization server and the app's registrations, read from
//! `config.json` next to the page.

use latchkey::{Client, Error};
use serde::Deserialize;

/// The Loom AI API's audience (seed document 000), sent on both legs of each flow.
pub const LOOM_AUDIENCE: &str = "https://api.loomai.com/";

/// What the app needs to know about the authorization server.
///
/// ```
/// let config = latchkey_spa::config::SpaConfig::from_json(r#"{
///     "issuer": "http://127.0.0.1:8080",
///     "authorization_endpoint": "http://127.0.0.1:8080/authorize",
///     "token_endpoint": "http://127.0.0.1:8080/token",
///     "implicit_client_id": "loomai-spa",
///     "code_client_id": "loomai-spa-pkce",
///     "scope": "read:avatars"
/// }"#)?;
/// assert_eq!(config.audience, latchkey_spa::config::LOOM_AUDIENCE);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Deserialize)]
pub struct SpaConfig {
    /// The issuer identifier (checked against `iss` in authorization responses).
    pub issuer: String,
    /// The authorization endpoint.
    pub authorization_endpoint: String,
    /// The token endpoint (called with `fetch`: it must allow the page's origin, CORS).
    pub token_endpoint: String,
    /// The public client for the implicit flow.
    pub implicit_client_id: String,
    /// The public client for the code flow with PKCE.
    pub code_client_id: String,
    /// The `audience` parameter (default [`LOOM_AUDIENCE`]).
    #[serde(default = "default_audience")]
    pub audience: String,
    /// The scope asked for.
    pub scope: String,
}

fn default_audience() -> String {
    LOOM_AUDIENCE.to_owned()
}

impl SpaConfig {
    /// Reads `config.json`.
    ///
    /// # Errors
    ///
    /// When the text is not such a JSON object.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The public client (no secret) with this id, coming back to `redirect_uri`.
    ///
    /// # Errors
    ///
    /// When an endpoint is not a usable URL.
    pub fn client(&self, client_id: &str, redirect_uri: &str) -> Result<Client, Error> {
        Client::builder(client_id)
            .issuer(&self.issuer)
            .authorization_endpoint(&self.authorization_endpoint)
            .token_endpoint(&self.token_endpoint)
            .redirect_uri(redirect_uri)
            .audience(&self.audience)
            .build()
    }
}
