//! RP-initiated logout ([OpenID Connect RP-Initiated Logout 1.0 §2](https://openid.net/specs/openid-connect-rpinitiated-1_0.html#RPLogout)):
//! the URL to send the user's browser to, at the issuer's `end_session_endpoint`, with
//! `id_token_hint`, `client_id`, `post_logout_redirect_uri` and `state`.

use crate::flow::{AuthorizationUrl, QueryWriter};
use crate::state::State;
use crate::{Client, Error};

/// Builds a logout URL. Created by [`Client::logout`].
#[must_use = "call build() to get the logout URL"]
#[derive(Debug)]
pub struct LogoutRequest<'c> {
    client: &'c Client,
    id_token_hint: Option<String>,
    post_logout_redirect_uri: Option<String>,
    state: Option<State>,
    params: Vec<(String, String)>,
}

impl Client {
    /// Starts an RP-initiated logout URL (`client_id` is always sent).
    pub fn logout(&self) -> LogoutRequest<'_> {
        LogoutRequest {
            client: self,
            id_token_hint: None,
            post_logout_redirect_uri: None,
            state: None,
            params: Vec::new(),
        }
    }
}

impl LogoutRequest<'_> {
    /// Sends the ID token the user signed in with as `id_token_hint` (recommended: the
    /// server then knows whom to log out and may skip asking).
    pub fn id_token_hint(mut self, id_token: impl Into<String>) -> Self {
        self.id_token_hint = Some(id_token.into());
        self
    }

    /// Where the server sends the browser afterwards; it must be registered for the client.
    pub fn post_logout_redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.post_logout_redirect_uri = Some(uri.into());
        self
    }

    /// A `state` the server hands back to the post-logout redirect URI.
    pub fn state(mut self, state: State) -> Self {
        self.state = Some(state);
        self
    }

    /// Adds a parameter (e.g. `ui_locales`, `logout_hint`).
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push((name.into(), value.into()));
        self
    }

    /// The logout URL.
    ///
    /// # Errors
    ///
    /// [`ConfigError::MissingEndpoint`](crate::ConfigError::MissingEndpoint) without an
    /// end-session endpoint; [`ConfigError::InvalidUrl`](crate::ConfigError::InvalidUrl) for a
    /// post-logout redirect URI that is not a valid redirect URI;
    /// [`ConfigError::InvalidParameter`](crate::ConfigError::InvalidParameter) for a parameter
    /// the request sets itself.
    pub fn build(self) -> Result<AuthorizationUrl, Error> {
        let endpoint = self.client.endpoint("end session")?;
        const OWN: [&str; 4] = [
            "id_token_hint",
            "client_id",
            "post_logout_redirect_uri",
            "state",
        ];
        if let Some((name, _)) = self.params.iter().find(|(n, _)| OWN.contains(&n.as_str())) {
            return Err(crate::ConfigError::InvalidParameter {
                name: name.clone(),
                reason: "set by the flow itself",
            }
            .into());
        }
        let mut url = QueryWriter::new(endpoint.as_str());
        if let Some(hint) = &self.id_token_hint {
            url.pair("id_token_hint", hint);
        }
        url.pair("client_id", self.client.client_id());
        if let Some(uri) = &self.post_logout_redirect_uri {
            let uri = crate::client::parse_redirect_uri(uri)?;
            url.pair("post_logout_redirect_uri", uri.as_str());
        }
        if let Some(state) = &self.state {
            url.pair("state", state.as_str());
        }
        for (name, value) in &self.params {
            url.pair(name, value);
        }
        Ok(AuthorizationUrl(url.out))
    }
}
