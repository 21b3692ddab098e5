//! The flows, one file each. Each is a small state machine by ownership: a builder borrows
//! the [`Client`], a pending value or an [`Exchange`](crate::Exchange) owns its
//! data, and consuming a step makes it impossible to use twice.

pub(crate) mod authorization_code;
pub(crate) mod client_credentials;
pub(crate) mod device;
pub(crate) mod discovery;
pub(crate) mod implicit;
pub(crate) mod introspection;
#[cfg(feature = "oidc")]
pub(crate) mod jwks;
pub(crate) mod logout;
pub(crate) mod refresh;
pub(crate) mod revocation;
pub(crate) mod token_exchange;
pub(crate) mod userinfo;

use std::fmt;

use crate::url::Url;

use crate::Client;
use crate::Error;
use crate::error::CallbackError;
use crate::state::State;
use crate::wire::encode::{percent_encode_into, percent_encoded_max_len};

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
    /// The OpenID Connect `nonce`: the caller's, or drawn when the scopes hold `openid`.
    pub(crate) nonce: Option<String>,
    /// The OpenID Connect `max_age`, in seconds.
    pub(crate) max_age: Option<u64>,
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

    /// Adds a caller's parameter; `nonce` and a numeric `max_age` become the request's own, so
    /// that the pending value knows them.
    pub(crate) fn param(&mut self, name: String, value: String) {
        match name.as_str() {
            "nonce" => self.nonce = Some(value),
            "max_age" => match value.parse() {
                Ok(seconds) => self.max_age = Some(seconds),
                Err(_) => self.params.push((name, value)),
            },
            _ => self.params.push((name, value)),
        }
    }

    /// True when the request asks for OpenID Connect (`openid` among the scopes): a nonce is
    /// then drawn unless the caller gave one.
    pub(crate) fn is_openid(&self) -> bool {
        self.scopes.iter().any(|s| s == "openid")
    }

    /// Sets a nonce made from 32 random bytes (base64url, 43 characters) when the request
    /// asks for OpenID Connect and the caller gave none.
    pub(crate) fn draw_nonce(&mut self, random: &[u8; 32]) {
        if self.nonce.is_none() && self.is_openid() {
            self.nonce = Some(crate::wire::encode::base64url(random));
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

    /// Hands every parameter of the authorization request to `sink`, in order. The scopes go
    /// as one parameter, space-separated. `response_type` and `challenge` (the PKCE
    /// `code_challenge` and its method) hold only unreserved characters: `code`/`token`,
    /// base64url, or a verifier checked by [`PkceVerifier::new`](crate::PkceVerifier::new).
    fn each_param(
        &self,
        client: &Client,
        response_type: &str,
        redirect_uri: Option<&str>,
        state: &State,
        challenge: Option<(&str, &str)>,
        sink: &mut impl ParamSink,
    ) {
        sink.unreserved("response_type", response_type);
        sink.known("client_id", client.client_id());
        if let Some(uri) = redirect_uri {
            sink.known("redirect_uri", uri);
        }
        if !self.scopes.is_empty() {
            sink.scope(&self.scopes);
        }
        sink.known("state", state.as_str());
        if let Some(nonce) = &self.nonce {
            sink.known("nonce", nonce);
        }
        if let Some(max_age) = self.max_age {
            sink.pair("max_age", &max_age.to_string());
        }
        if let Some((challenge, method)) = challenge {
            sink.unreserved("code_challenge", challenge);
            sink.unreserved("code_challenge_method", method);
        }
        // RFC 9449 §10: binds the authorization code to the client's DPoP key.
        #[cfg(feature = "oidc")]
        if let Some(dpop) = client.dpop() {
            if response_type == "code" && !self.params.iter().any(|(name, _)| name == "dpop_jkt") {
                sink.unreserved("dpop_jkt", &dpop.jkt());
            }
        }
        for (k, v) in &client.dialect().authorization_params {
            if !self.params.iter().any(|(name, _)| name == k) {
                sink.pair(k, v);
            }
        }
        for (k, v) in &self.params {
            sink.pair(k, v);
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
        // One allocation: size the URL for the worst case (every byte escaped) first.
        let mut size = MaxLen(endpoint.len());
        self.each_param(
            client,
            response_type,
            redirect_uri,
            state,
            challenge,
            &mut size,
        );
        let mut url = QueryWriter::with_capacity(endpoint, size.0);
        self.each_param(
            client,
            response_type,
            redirect_uri,
            state,
            challenge,
            &mut url,
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
            &mut pairs,
        );
        Ok(pairs)
    }
}

/// Where [`AuthorizationParams::each_param`] puts the parameters.
trait ParamSink {
    /// A parameter whose name and value may need escaping (the caller's, the dialect's).
    fn pair(&mut self, name: &str, value: &str);
    /// One of the flow's own parameters: the name needs no escaping, the value may.
    fn known(&mut self, name: &'static str, value: &str) {
        self.pair(name, value);
    }
    /// One of the flow's own parameters whose value holds only unreserved characters.
    fn unreserved(&mut self, name: &'static str, value: &str) {
        self.known(name, value);
    }
    /// The `scope` parameter: the scopes joined by spaces.
    fn scope(&mut self, scopes: &[String]);
}

/// Counts the most bytes a [`QueryWriter`] can need for the parameters.
struct MaxLen(usize);

impl ParamSink for MaxLen {
    fn pair(&mut self, name: &str, value: &str) {
        self.0 += 2 + percent_encoded_max_len(name) + percent_encoded_max_len(value);
    }

    fn known(&mut self, name: &'static str, value: &str) {
        self.0 += 2 + name.len() + percent_encoded_max_len(value);
    }

    fn unreserved(&mut self, name: &'static str, value: &str) {
        self.0 += 2 + name.len() + value.len();
    }

    fn scope(&mut self, scopes: &[String]) {
        self.0 += 2 + "scope".len();
        for scope in scopes {
            self.0 += 3 + percent_encoded_max_len(scope);
        }
    }
}

impl ParamSink for Vec<(String, String)> {
    fn pair(&mut self, name: &str, value: &str) {
        self.push((name.to_owned(), value.to_owned()));
    }

    fn scope(&mut self, scopes: &[String]) {
        self.push(("scope".to_owned(), scopes.join(" ")));
    }
}

impl ParamSink for QueryWriter {
    fn pair(&mut self, name: &str, value: &str) {
        Self::pair(self, name, value);
    }

    // The flow's parameter names and unreserved values are copied as they are: escaping
    // would leave them unchanged (checked in debug builds).
    fn known(&mut self, name: &'static str, value: &str) {
        debug_assert!(is_unreserved(name));
        self.separator();
        self.out.push_str(name);
        self.out.push('=');
        percent_encode_into(&mut self.out, value);
    }

    fn unreserved(&mut self, name: &'static str, value: &str) {
        debug_assert!(is_unreserved(name) && is_unreserved(value));
        self.separator();
        self.out.push_str(name);
        self.out.push('=');
        self.out.push_str(value);
    }

    fn scope(&mut self, scopes: &[String]) {
        // The same bytes as `pair("scope", &scopes.join(" "))`, without joining first.
        self.separator();
        self.out.push_str("scope=");
        for (i, scope) in scopes.iter().enumerate() {
            if i > 0 {
                self.out.push_str("%20");
            }
            percent_encode_into(&mut self.out, scope);
        }
    }
}

/// True when percent-encoding leaves `s` as it is.
fn is_unreserved(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
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
        Self::with_capacity(base, base.len() + 256)
    }

    /// A writer whose buffer holds `capacity` bytes before it grows.
    fn with_capacity(base: &str, capacity: usize) -> Self {
        let mut out = String::with_capacity(capacity.max(base.len()));
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
    if let Some(error) = params.server_error() {
        return Err(error.into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The URL is written in one pass, straight into a buffer sized up front; it must be
    /// exactly the pairs of a pushed request, each percent-encoded, after the endpoint.
    #[test]
    fn rendered_url_is_the_pairs_percent_encoded() {
        let client = Client::builder("my client/é")
            .authorization_endpoint("https://auth.example/authorize?tenant=a b")
            .redirect_uri("http://127.0.0.1:8080/cb?x=1&y=é")
            .authorization_param("audience", "https://api.example/ é")
            .authorization_param("prompt", "overridden")
            .build()
            .unwrap();
        let mut params = AuthorizationParams::default();
        params.add_scopes(["read:a  write:b", "é", "read:a"]);
        params
            .params
            .push(("prompt".into(), "select account".into()));
        params.params.push(("x y".into(), "1+1=2".into()));
        let redirect = client.redirect_uri().map(Url::as_str);
        for state in [State::new("st&ate=1"), State::new("abcDEF-_")] {
            for challenge in [
                None,
                Some(("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "S256")),
            ] {
                let url = params
                    .render(&client, "code", redirect, &state, challenge)
                    .unwrap();
                let endpoint = client.authorization_endpoint().unwrap().as_str();
                let mut expected = QueryWriter::new(endpoint);
                for (k, v) in params
                    .pairs(&client, "code", redirect, &state, challenge)
                    .unwrap()
                {
                    expected.pair(&k, &v);
                }
                assert_eq!(url.as_str(), expected.out);
                let mut size = MaxLen(endpoint.len());
                params.each_param(&client, "code", redirect, &state, challenge, &mut size);
                assert!(url.as_str().len() <= size.0);
            }
        }
        let url = AuthorizationParams::default()
            .render(&client, "token", None, &State::new("s"), None)
            .unwrap();
        assert_eq!(
            url.as_str(),
            "https://auth.example/authorize?tenant=a%20b&response_type=token\
             &client_id=my%20client%2F%C3%A9&state=s\
             &audience=https%3A%2F%2Fapi.example%2F%20%C3%A9&prompt=overridden"
        );
    }
}
