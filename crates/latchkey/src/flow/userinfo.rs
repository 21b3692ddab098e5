//! The userinfo request (OpenID Connect Core §5.3; CoLoop documents it): a GET with
//! `Authorization: Bearer` ([RFC 6750 §2.1](https://www.rfc-editor.org/rfc/rfc6750#section-2.1)).

use std::marker::PhantomData;

use crate::url::Url;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::drive::http::{Method, Request, Response, RetryMode};
use crate::error::{ErrorCode, ServerError};
use crate::secret::AccessToken;
use crate::wire::challenge::Challenge;
use crate::wire::error_response::unexpected;
use crate::{Client, Error, Exchange};

/// A userinfo request; its output is `T`, by default a JSON object.
#[must_use = "send this exchange with an adapter"]
pub struct UserInfoRequest<T = Map<String, Value>> {
    url: Url,
    access_token: AccessToken,
    subject: Option<String>,
    /// The client, for verifying a signed (`application/jwt`) answer.
    #[cfg(feature = "oidc")]
    client: Client,
    output: PhantomData<fn() -> T>,
}

impl<T> core::fmt::Debug for UserInfoRequest<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("UserInfoRequest")
            .field("url", &self.url.as_str())
            .field("access_token", &self.access_token)
            .finish()
    }
}

impl<T> Clone for UserInfoRequest<T> {
    fn clone(&self) -> Self {
        Self {
            url: self.url.clone(),
            access_token: self.access_token.clone(),
            subject: self.subject.clone(),
            #[cfg(feature = "oidc")]
            client: self.client.clone(),
            output: PhantomData,
        }
    }
}

impl Client {
    /// Starts a userinfo request with the given access token.
    ///
    /// # Errors
    ///
    /// [`ConfigError::MissingEndpoint`](crate::ConfigError::MissingEndpoint) without a
    /// userinfo endpoint.
    pub fn userinfo(&self, access_token: &AccessToken) -> Result<UserInfoRequest, Error> {
        Ok(UserInfoRequest {
            url: self.endpoint("userinfo")?.clone(),
            access_token: access_token.clone(),
            subject: None,
            #[cfg(feature = "oidc")]
            client: self.clone(),
            output: PhantomData,
        })
    }

    /// Starts a userinfo request with a token set's access token; when the set holds
    /// validated ID token claims, the answer's `sub` must be the ID token's (OpenID Connect
    /// Core §5.3.4).
    ///
    /// # Errors
    ///
    /// As for [`userinfo`](Self::userinfo).
    pub fn userinfo_for(&self, tokens: &crate::TokenSet) -> Result<UserInfoRequest, Error> {
        let request = self.userinfo(tokens.access_token())?;
        #[cfg(feature = "oidc")]
        if let Some(claims) = tokens.id_token_claims() {
            return Ok(request.subject(&claims.sub));
        }
        Ok(request)
    }
}

impl<T> UserInfoRequest<T> {
    /// Deserializes the claims into the caller's own type instead of a JSON map.
    pub fn into_type<U: DeserializeOwned>(self) -> UserInfoRequest<U> {
        UserInfoRequest {
            url: self.url,
            access_token: self.access_token,
            subject: self.subject,
            #[cfg(feature = "oidc")]
            client: self.client,
            output: PhantomData,
        }
    }

    /// Requires the answer's `sub` to be this one: the ID token's `sub` (OpenID Connect
    /// Core §5.3.4; a mismatch means the answer may be for another user).
    pub fn subject(mut self, sub: impl Into<String>) -> Self {
        self.subject = Some(sub.into());
        self
    }
}

impl<T: DeserializeOwned> Exchange for UserInfoRequest<T> {
    type Output = T;

    #[cfg(feature = "oidc")]
    fn dpop(&self) -> Option<&crate::Dpop> {
        self.client.dpop()
    }

    fn request(&self) -> Result<Request, Error> {
        let mut request = Request::new(Method::Get, self.url.clone(), RetryMode::Idempotent);
        #[cfg(feature = "oidc")]
        let scheme = if self.client.dpop().is_some() {
            "DPoP"
        } else {
            "Bearer"
        };
        #[cfg(not(feature = "oidc"))]
        let scheme = "Bearer";
        request.headers.append(
            "authorization",
            format!("{scheme} {}", self.access_token.expose_secret()),
        );
        request.headers.append_static("accept", "application/json");
        Ok(request)
    }

    fn response(self, response: Response) -> Result<T, Error> {
        let secrets = [self.access_token.expose_secret()];
        if !response.is_success() {
            return Err(resource_error(&response, &secrets));
        }
        // A signed answer (OpenID Connect Core §5.3.2) is verified like an ID token; its
        // claims are then read as a plain answer's would be.
        #[cfg(feature = "oidc")]
        let verified;
        #[allow(unused_mut)]
        let mut body: &[u8] = &response.body;
        #[cfg(feature = "oidc")]
        if is_jwt(&response) {
            verified = self.client.verify_signed_userinfo(&response.body)?;
            body = &verified;
        }
        if let Some(expected) = &self.subject {
            #[derive(serde::Deserialize)]
            struct Subject<'a> {
                #[serde(borrow, default)]
                sub: Option<std::borrow::Cow<'a, str>>,
            }
            let sub = serde_json::from_slice::<Subject<'_>>(body)
                .ok()
                .and_then(|s| s.sub);
            match sub {
                Some(sub) if sub == expected.as_str() => {}
                Some(_) => {
                    return Err(crate::ResponseError::InvalidField {
                        field: "sub",
                        reason: "not the ID token's sub (OpenID Connect Core §5.3.4)".into(),
                    }
                    .into());
                }
                None => return Err(crate::ResponseError::MissingField("sub").into()),
            }
        }
        serde_json::from_slice(body).map_err(|e| {
            unexpected(
                &response,
                &format!("claims did not deserialize: {e}"),
                &secrets,
            )
        })
    }

    #[cfg(feature = "oidc")]
    fn supplement(&self, response: &Response) -> Option<Request> {
        if !response.is_success() || !is_jwt(response) {
            return None;
        }
        let jwt = std::str::from_utf8(&response.body).ok()?;
        crate::id_token::keys_needed_for(&self.client, jwt.trim(), response.received_at)
    }

    #[cfg(feature = "oidc")]
    fn supplemented(
        &mut self,
        answer: Result<Response, crate::TransportError>,
        now: std::time::SystemTime,
    ) {
        crate::id_token::keys_received(&self.client, answer.as_ref().ok(), now);
    }
}

/// True for a signed userinfo answer (`Content-Type: application/jwt`).
#[cfg(feature = "oidc")]
fn is_jwt(response: &Response) -> bool {
    response.content_type().is_some_and(|ct| {
        ct.split(';')
            .next()
            .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/jwt"))
    })
}

/// Turns a resource server's refusal into an error: the `WWW-Authenticate: Bearer` challenge
/// (RFC 6750 §3) when there is one, else a JSON error body, else the raw response.
pub(crate) fn resource_error(response: &Response, secrets: &[&str]) -> Error {
    if let Some(challenge) = Challenge::find(response.headers.get_all("www-authenticate"), "Bearer")
    {
        let code = match challenge.param("error") {
            Some(code) => ErrorCode::parse(code),
            None if response.status == 403 => ErrorCode::InsufficientScope,
            None => ErrorCode::InvalidToken,
        };
        return ServerError {
            code,
            description: challenge.param("error_description").map(|d| {
                crate::wire::error_response::bounded(
                    d,
                    crate::wire::error_response::MAX_DESCRIPTION,
                )
            }),
            uri: challenge.param("error_uri").map(str::to_owned),
            status: Some(response.status),
        }
        .into();
    }
    if let Some(error) = ServerError::from_json(Some(response.status), &response.body) {
        return error.into();
    }
    if response.status == 401 {
        return ServerError {
            status: Some(401),
            ..ServerError::new(ErrorCode::InvalidToken)
        }
        .into();
    }
    unexpected(response, "the resource server refused the request", secrets)
}
