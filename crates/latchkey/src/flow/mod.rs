//! The flows, one file each. Each is a small state machine by ownership: a builder borrows
//! the [`Client`], a pending value or an [`Exchange`](crate::Exchange) owns its
//! data, and consuming a step makes it impossible to use twice.

pub mod authorization_code;
pub mod client_credentials;
pub mod device;
pub mod discovery;
pub mod implicit;
pub mod introspection;
pub mod refresh;
pub mod revocation;
pub mod token_exchange;
pub mod userinfo;

use std::fmt;

use url::Url;

use crate::Client;
use crate::Error;
use crate::encode::percent_encode_into;
use crate::error::{CallbackError, ErrorCode, ServerError};
use crate::state::State;

/// The URL to send the user's browser to. Not secret (it travels through the browser), but
/// the `state` in it is what the callback is checked against.
#[must_use = "send the user to this URL"]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizationUrl(pub(crate) String);

impl AuthorizationUrl {
    /// The URL as text, for a `Location` header or a link.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The URL as text.
    #[must_use]
    pub fn into_string(self) -> String {
        self.0
    }

    /// The URL parsed.
    ///
    /// # Errors
    ///
    /// Never in practice: the endpoint was validated when the client was built.
    pub fn to_url(&self) -> Result<Url, Error> {
        Url::parse(&self.0).map_err(|e| {
            crate::error::ConfigError::InvalidUrl {
                which: "authorization",
                reason: e.to_string(),
            }
            .into()
        })
    }
}

impl fmt::Display for AuthorizationUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for AuthorizationUrl {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Parameters a caller may not override: the flow sets them.
const RESERVED: [&str; 7] = [
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
];

/// The parts of an authorization request that both redirect flows share.
#[derive(Debug, Default)]
pub(crate) struct AuthorizationParams {
    pub(crate) scopes: Vec<String>,
    pub(crate) redirect_uri: Option<String>,
    pub(crate) params: Vec<(String, String)>,
    pub(crate) state: Option<State>,
}

impl AuthorizationParams {
    pub(crate) fn add_scopes<I, S>(&mut self, scopes: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for scope in scopes {
            for s in scope.as_ref().split(' ').filter(|s| !s.is_empty()) {
                if !self.scopes.iter().any(|have| have == s) {
                    self.scopes.push(s.to_owned());
                }
            }
        }
    }

    /// The redirect URI to use: the request's own, else the client's.
    pub(crate) fn resolve_redirect_uri(&self, client: &Client) -> Result<Option<String>, Error> {
        match &self.redirect_uri {
            Some(uri) => Ok(Some(crate::client::parse_redirect_uri(uri)?.into())),
            None => Ok(client.redirect_uri().map(|u| u.as_str().to_owned())),
        }
    }

    /// Checks that no caller parameter overrides one the flow sets.
    fn check_reserved(&self) -> Result<(), Error> {
        for (name, _) in &self.params {
            if RESERVED.contains(&name.as_str()) {
                return Err(crate::error::ConfigError::InvalidParameter {
                    name: name.clone(),
                    reason: "set by the flow itself",
                }
                .into());
            }
        }
        Ok(())
    }

    /// Calls `f` with every parameter of the authorization request, in order. The scope is
    /// passed as one space-separated value.
    fn each_param(
        &self,
        client: &Client,
        response_type: &str,
        redirect_uri: Option<&str>,
        state: &State,
        challenge: Option<(&str, &str)>,
        mut f: impl FnMut(&str, &str),
    ) {
        f("response_type", response_type);
        f("client_id", client.client_id());
        if let Some(uri) = redirect_uri {
            f("redirect_uri", uri);
        }
        if !self.scopes.is_empty() {
            f("scope", &self.scopes.join(" "));
        }
        f("state", state.as_str());
        if let Some((challenge, method)) = challenge {
            f("code_challenge", challenge);
            f("code_challenge_method", method);
        }
        for (k, v) in &client.dialect().authorization_params {
            if !self.params.iter().any(|(name, _)| name == k) {
                f(k, v);
            }
        }
        for (k, v) in &self.params {
            f(k, v);
        }
    }

    /// Renders the authorization URL.
    pub(crate) fn render(
        &self,
        client: &Client,
        response_type: &str,
        redirect_uri: Option<&str>,
        state: &State,
        challenge: Option<(&str, &str)>,
    ) -> Result<AuthorizationUrl, Error> {
        let endpoint = client.endpoint("authorization")?.as_str();
        self.check_reserved()?;
        let mut url = QueryWriter::new(endpoint);
        self.each_param(
            client,
            response_type,
            redirect_uri,
            state,
            challenge,
            |k, v| {
                url.pair(k, v);
            },
        );
        Ok(AuthorizationUrl(url.out))
    }

    /// The authorization request's parameters as pairs (for a pushed authorization request).
    pub(crate) fn pairs(
        &self,
        client: &Client,
        response_type: &str,
        redirect_uri: Option<&str>,
        state: &State,
        challenge: Option<(&str, &str)>,
    ) -> Result<Vec<(String, String)>, Error> {
        self.check_reserved()?;
        let mut pairs = Vec::new();
        self.each_param(
            client,
            response_type,
            redirect_uri,
            state,
            challenge,
            |k, v| {
                pairs.push((k.to_owned(), v.to_owned()));
            },
        );
        Ok(pairs)
    }
}

/// Adds space-separated scopes to a scope string, dropping duplicates.
pub(crate) fn push_scopes(scopes: &mut String, more: &str) {
    for s in more.split(' ').filter(|s| !s.is_empty()) {
        if !scopes.split(' ').any(|have| have == s) {
            if !scopes.is_empty() {
                scopes.push(' ');
            }
            scopes.push_str(s);
        }
    }
}

/// Appends query parameters to a URL that may already have a query.
pub(crate) struct QueryWriter {
    pub(crate) out: String,
    first: bool,
}

impl QueryWriter {
    pub(crate) fn new(base: &str) -> Self {
        let mut out = String::with_capacity(base.len() + 256);
        out.push_str(base);
        Self {
            out,
            first: !base.contains('?'),
        }
    }

    fn separator(&mut self) {
        self.out.push(if self.first { '?' } else { '&' });
        self.first = false;
    }

    pub(crate) fn pair(&mut self, name: &str, value: &str) {
        self.separator();
        percent_encode_into(&mut self.out, name);
        self.out.push('=');
        percent_encode_into(&mut self.out, value);
    }
}

/// Checks what every authorization response must satisfy: `state`, then `iss` (RFC 9207),
/// then the error form (RFC 6749 §4.1.2.1). State is checked first so that a forged error
/// cannot be passed off as this flow's.
pub(crate) fn check_authorization_response(
    params: &crate::CallbackParams<'_>,
    state: &State,
    issuer: Option<&str>,
    require_iss: bool,
) -> Result<(), Error> {
    match params.state.as_deref() {
        None => return Err(CallbackError::MissingState.into()),
        Some(received) if !state.matches(received) => {
            return Err(CallbackError::StateMismatch.into());
        }
        Some(_) => {}
    }
    match (params.iss.as_deref(), issuer) {
        (Some(iss), Some(expected)) if iss != expected => {
            return Err(CallbackError::IssuerMismatch.into());
        }
        (None, _) if require_iss => return Err(CallbackError::MissingIssuer.into()),
        _ => {}
    }
    if let Some(code) = params.error.as_deref() {
        return Err(ServerError {
            code: ErrorCode::parse(code),
            description: params
                .error_description
                .as_deref()
                .map(|d| crate::error::bounded(d, crate::error::MAX_DESCRIPTION)),
            uri: params
                .error_uri
                .as_deref()
                .map(|u| crate::error::bounded(u, crate::error::MAX_DESCRIPTION)),
            status: None,
        }
        .into());
    }
    Ok(())
}
