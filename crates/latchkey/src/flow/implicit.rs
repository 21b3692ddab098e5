//! The implicit grant ([RFC 6749 §4.2](https://www.rfc-editor.org/rfc/rfc6749#section-4.2)).
//!
//! # Legacy
//!
//! RFC 9700 §2.1.2 says clients should not use the implicit grant: the access token travels
//! in the URL fragment, where browser history, extensions and referrers can see it, and there
//! is no way to bind it to the client. Prefer the authorization code flow with PKCE. It is here,
//! fully working, because providers such as Loom AI still document it.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::error::CallbackError;
use crate::flow::{AuthorizationParams, AuthorizationUrl, check_authorization_response};
use crate::state::State;
use crate::token::TokenSet;
use crate::wire::callback::CallbackParams;
use crate::wire::token_response::{RawToken, Seconds};
use crate::{Client, Error, random};

/// Builds an implicit-flow request. Created by [`Client::implicit`].
#[must_use = "call build() to get the authorization URL"]
#[derive(Debug)]
pub struct ImplicitRequest<'c> {
    client: &'c Client,
    params: AuthorizationParams,
}

impl Client {
    /// Starts an implicit flow (`response_type=token`).
    ///
    /// # Legacy
    ///
    /// RFC 9700 §2.1.2 says clients should not use the implicit grant: the access token
    /// travels in the URL fragment, where browser history, extensions and referrers can see
    /// it, and there is no way to bind it to the client. Prefer the authorization code flow
    /// with PKCE. It is here, fully working, because providers such as Loom AI still
    /// document it.
    pub fn implicit(&self) -> ImplicitRequest<'_> {
        ImplicitRequest {
            client: self,
            params: AuthorizationParams::default(),
        }
    }
}

impl ImplicitRequest<'_> {
    /// Adds scopes; a value with spaces is split.
    pub fn scope(mut self, scope: impl AsRef<str>) -> Self {
        self.params.add_scopes([scope]);
        self
    }

    /// Adds several scopes.
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.params.add_scopes(scopes);
        self
    }

    /// Uses this redirect URI instead of the client's default.
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.params.redirect_uri = Some(uri.into());
        self
    }

    /// Adds a parameter (e.g. `audience`).
    ///
    /// `nonce` and `max_age` given this way are the same as [`nonce`](Self::nonce) and
    /// [`max_age`](Self::max_age): kept in the pending value and checked in the ID token.
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.param(name.into(), value.into());
        self
    }

    /// Uses a caller-chosen state instead of a fresh random one.
    pub fn state(mut self, state: State) -> Self {
        self.params.state = Some(state);
        self
    }

    /// Uses a caller-chosen OpenID Connect `nonce` instead of a fresh random one (drawn
    /// whenever the scopes hold `openid`).
    pub fn nonce(mut self, nonce: impl Into<String>) -> Self {
        self.params.nonce = Some(nonce.into());
        self
    }

    /// Sends OpenID Connect `max_age` (seconds).
    pub fn max_age(mut self, seconds: u64) -> Self {
        self.params.max_age = Some(seconds);
        self
    }

    /// Produces the URL to send the user to and the pending value to keep.
    ///
    /// # Errors
    ///
    /// As for [`AuthorizationRequest::build`](crate::AuthorizationRequest::build).
    pub fn build(mut self) -> Result<(AuthorizationUrl, PendingImplicit), Error> {
        let redirect_uri = self.params.resolve_redirect_uri(self.client)?;
        let need_nonce = self.params.nonce.is_none() && self.params.is_openid();
        // One OS call: 16 bytes of state, 32 of nonce.
        let mut bytes = [0u8; 48];
        if self.params.state.is_none() || need_nonce {
            random::fill(&mut bytes)?;
        }
        let (s, n) = bytes.split_at(16);
        self.params
            .draw_nonce(n.try_into().map_err(|_| Error::Random)?);
        let state = match self.params.state.clone() {
            Some(state) => state,
            None => State::from_random_bytes(s.try_into().map_err(|_| Error::Random)?),
        };
        let url =
            self.params
                .render(self.client, "token", redirect_uri.as_deref(), &state, None)?;
        Ok((
            url,
            PendingImplicit {
                state,
                issuer: self.client.issuer().map(str::to_owned),
                require_iss: self.client.dialect().require_iss,
                nonce: self.params.nonce,
                max_age: self.params.max_age,
            },
        ))
    }
}

/// What to keep until the implicit callback arrives.
#[must_use = "keep this until the callback arrives"]
#[derive(Debug, Serialize, Deserialize)]
pub struct PendingImplicit {
    state: State,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    issuer: Option<String>,
    #[serde(default)]
    require_iss: bool,
    /// The OpenID Connect `nonce` sent, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nonce: Option<String>,
    /// The OpenID Connect `max_age` sent, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_age: Option<u64>,
}

impl PendingImplicit {
    /// The OpenID Connect `nonce` sent with the request (drawn when the scopes hold
    /// `openid`).
    #[must_use]
    pub fn nonce(&self) -> Option<&str> {
        self.nonce.as_deref()
    }

    /// The state sent with the request.
    #[must_use]
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Accepts the callback URL (or just its fragment) and yields the token set. `now` is when
    /// the callback arrived; `expires_in` counts from it.
    ///
    /// # Errors
    ///
    /// [`Error::Callback`] for a malformed callback, missing or mismatched state, or no access
    /// token; [`Error::Server`] for an error redirect; [`Error::Response`] for an unusable
    /// token type or lifetime.
    pub fn callback(
        self,
        client: &Client,
        callback: &str,
        now: SystemTime,
    ) -> Result<TokenSet, Error> {
        let params = CallbackParams::from_fragment(callback)?;
        self.accept(client, &params, now)
    }

    /// Like [`callback`](Self::callback), for parameters already parsed.
    ///
    /// # Errors
    ///
    /// As for [`callback`](Self::callback).
    pub fn accept(
        self,
        client: &Client,
        params: &CallbackParams<'_>,
        now: SystemTime,
    ) -> Result<TokenSet, Error> {
        check_authorization_response(
            params,
            &self.state,
            self.issuer.as_deref(),
            self.require_iss,
        )?;
        if params.access_token.is_none() {
            return Err(CallbackError::MissingAccessToken.into());
        }
        let mut extra = serde_json::Map::new();
        for (k, v) in &params.extra {
            extra.insert(k.to_string(), serde_json::Value::String(v.to_string()));
        }
        let raw = RawToken {
            access_token: params.access_token.clone(),
            token_type: params.token_type.clone(),
            expires_in: params.expires_in.as_deref().map(Seconds::parse_str),
            scope: params.scope.as_deref().map(str::to_owned),
            extra,
            ..RawToken::default()
        };
        #[allow(unused_mut)]
        let mut tokens = raw.into_token_set(client.dialect(), now, None)?;
        // An `id_token` in the fragment (response_type `id_token token`) is validated with
        // the client's cached keys: fetch them first ([`Client::jwks`]).
        #[cfg(feature = "oidc")]
        {
            let mut expect = crate::IdTokenExpectations::new();
            expect.nonce = self.nonce;
            expect.max_age = self.max_age;
            crate::id_token::validate_in(client, &mut tokens, expect, now)?;
        }
        Ok(tokens)
    }
}
