//! The device authorization grant ([RFC 8628](https://www.rfc-editor.org/rfc/rfc8628)) for
//! devices without a browser or with little input.
//!
//! ```text
//! client.device_authorization() ─► DeviceAuthorizationRequest: Exchange<Output = DeviceAuthorization>
//!                                     │ show user_code + verification_uri to the user
//!                                     ▼ .poller(&client)
//!                                  DevicePoll ── wait(now) ─► Wait::Sleep(d) | Wait::Expired
//!                                     │ request() ─► adapter ─► handle(response)
//!                                     ▼
//!                            Poll::Pending | Poll::SlowDown | Poll::Done(TokenSet)
//! ```
//!
//! The core decides every wait (the interval, `slow_down` adding 5 s, the `expires_in`
//! deadline); adapters only sleep.

use std::time::{Duration, SystemTime};

use serde::Deserialize;

use crate::url::Url;

use crate::drive::http::{Request, Response, RetryMode};
use crate::error::{ErrorCode, ResponseError, ServerError};
use crate::token::TokenSet;
use crate::wire::error_response::unexpected;
use crate::{Client, Error, Exchange};

/// The device code grant type.
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

crate::secret::secret_type!(
    /// A device code (RFC 8628 §3.2): the device's proof while it polls.
    DeviceCode
);

/// Asks for a device code and a user code (RFC 8628 §3.1).
#[must_use = "send this exchange with an adapter"]
#[derive(Clone, Debug)]
pub struct DeviceAuthorizationRequest {
    client: Client,
    url: Url,
    scope: String,
    params: Vec<(String, String)>,
}

impl Client {
    /// Starts a device authorization grant.
    ///
    /// # Errors
    ///
    /// [`ConfigError::MissingEndpoint`](crate::ConfigError::MissingEndpoint) without a device
    /// authorization endpoint or token endpoint.
    pub fn device_authorization(&self) -> Result<DeviceAuthorizationRequest, Error> {
        self.endpoint("token")?;
        Ok(DeviceAuthorizationRequest {
            url: self.endpoint("device authorization")?.clone(),
            client: self.clone(),
            scope: String::new(),
            params: Vec::new(),
        })
    }
}

impl DeviceAuthorizationRequest {
    /// Adds scopes (space-separated values are split; duplicates dropped).
    pub fn scope(mut self, scope: impl AsRef<str>) -> Self {
        crate::flow::push_scopes(&mut self.scope, scope.as_ref());
        self
    }

    /// Adds a `resource` indicator (RFC 8707); repeatable.
    pub fn resource(self, resource: impl Into<String>) -> Self {
        self.param("resource", resource)
    }

    /// Adds a parameter (e.g. `audience`, `resource`).
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push((name.into(), value.into()));
        self
    }
}

/// What the device authorization endpoint answered (RFC 8628 §3.2).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct DeviceAuthorization {
    /// The device code, for polling.
    pub device_code: DeviceCode,
    /// The code the user types in.
    pub user_code: String,
    /// Where the user goes.
    pub verification_uri: String,
    /// Where the user goes with the code already filled in, if the server offers it.
    pub verification_uri_complete: Option<String>,
    /// How long the codes are valid.
    pub expires_in: Duration,
    /// The minimum polling interval (5 s when the server does not say).
    pub interval: Duration,
    /// When the codes expire, counted from when the answer arrived.
    pub expires_at: SystemTime,
}

/// The answer as sent. Google's older endpoints say `verification_url`.
#[derive(Deserialize)]
struct Wire {
    device_code: String,
    user_code: String,
    #[serde(alias = "verification_url")]
    verification_uri: String,
    #[serde(default, alias = "verification_url_complete")]
    verification_uri_complete: Option<String>,
    expires_in: crate::wire::token_response::Seconds,
    #[serde(default)]
    interval: Option<crate::wire::token_response::Seconds>,
}

impl DeviceAuthorizationRequest {
    /// The request, with a client assertion made at `now` when the client authenticates
    /// with a JWT (none can be made without the time).
    fn request_when(&self, now: Option<SystemTime>) -> Result<Request, Error> {
        let scope = [("scope", self.scope.as_str())];
        let params: &[(&str, &str)] = if self.scope.is_empty() { &[] } else { &scope };
        self.client.authenticated_request(
            &self.url,
            None,
            params,
            &self.params,
            true,
            RetryMode::Idempotent,
            now,
        )
    }
}

impl Exchange for DeviceAuthorizationRequest {
    type Output = DeviceAuthorization;

    fn request(&self) -> Result<Request, Error> {
        self.request_when(None)
    }

    fn request_at(&self, now: SystemTime) -> Result<Request, Error> {
        self.request_when(Some(now))
    }

    fn response(self, response: Response) -> Result<DeviceAuthorization, Error> {
        let secrets = [self.client.secret_str()];
        if !response.is_success() {
            return Err(crate::wire::error_response::error_response(
                &response, &secrets,
            ));
        }
        if let Some(error) = ServerError::from_json(Some(response.status), &response.body) {
            return Err(error.into());
        }
        let wire: Wire = serde_json::from_slice(&response.body).map_err(|e| {
            unexpected(
                &response,
                &format!("invalid device authorization response: {e}"),
                &secrets,
            )
        })?;
        let seconds = |s: crate::wire::token_response::Seconds, field: &'static str| match s {
            crate::wire::token_response::Seconds::Valid(n) => Ok(Duration::from_secs(n)),
            crate::wire::token_response::Seconds::Invalid => {
                Err(Error::from(ResponseError::InvalidField {
                    field,
                    reason: "not a non-negative number of seconds".into(),
                }))
            }
        };
        let expires_in = seconds(wire.expires_in, "expires_in")?;
        let interval = match wire.interval {
            Some(i) => seconds(i, "interval")?.max(Duration::from_secs(1)),
            None => Duration::from_secs(5),
        };
        let expires_at = response
            .received_at
            .checked_add(expires_in)
            .ok_or_else(|| ResponseError::InvalidField {
                field: "expires_in",
                reason: "out of range".into(),
            })?;
        Ok(DeviceAuthorization {
            device_code: DeviceCode::new(wire.device_code),
            user_code: wire.user_code,
            verification_uri: wire.verification_uri,
            verification_uri_complete: wire.verification_uri_complete,
            expires_in,
            interval,
            expires_at,
        })
    }
}

impl DeviceAuthorization {
    /// The polling state machine for this authorization.
    ///
    /// # Errors
    ///
    /// [`ConfigError::MissingEndpoint`](crate::ConfigError::MissingEndpoint) without a token
    /// endpoint.
    pub fn poller(&self, client: &Client) -> Result<DevicePoll, Error> {
        Ok(DevicePoll {
            token_endpoint: client.endpoint("token")?.clone(),
            client: client.clone(),
            device_code: self.device_code.clone(),
            interval: self.interval,
            expires_at: self.expires_at,
            last_request: None,
        })
    }
}

/// What to do before the next poll.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// Sleep this long, then send [`DevicePoll::request`].
    Sleep(Duration),
    /// The device code has expired: stop polling.
    Expired,
}

/// Where device polling stands, for a progress display (a countdown, a spinner): what
/// [`DevicePoll::progress`] reports, and what the adapters hand to their `poll_device_with`
/// hook before every poll and about once a second while waiting.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceWait {
    /// How long until the next poll.
    pub next_poll: Duration,
    /// How long until the device code expires and polling stops.
    pub expires_in: Duration,
    /// The polling interval now (it grows by 5 s with every `slow_down`).
    pub interval: Duration,
    /// Polls sent so far.
    pub polls: u32,
}

/// The outcome of one poll.
#[derive(Debug)]
#[non_exhaustive]
pub enum Poll {
    /// The user has not finished yet (`authorization_pending`): wait the interval again.
    Pending,
    /// The server asked to slow down (`slow_down`): the interval grew by 5 s.
    SlowDown,
    /// The user approved: the tokens.
    Done(Box<TokenSet>),
}

/// Polls the token endpoint for a device authorization (RFC 8628 §3.4, §3.5).
#[must_use = "poll with an adapter"]
#[derive(Clone, Debug)]
pub struct DevicePoll {
    client: Client,
    token_endpoint: Url,
    device_code: DeviceCode,
    interval: Duration,
    expires_at: SystemTime,
    last_request: Option<SystemTime>,
}

impl DevicePoll {
    /// The current polling interval.
    #[must_use]
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// When the device code expires.
    #[must_use]
    pub fn expires_at(&self) -> SystemTime {
        self.expires_at
    }

    /// How long to wait at `now` before the next poll, or that the code has expired. The
    /// first poll also waits one interval (the user needs time to act anyway).
    #[must_use]
    pub fn wait(&self, now: SystemTime) -> Wait {
        if now >= self.expires_at {
            return Wait::Expired;
        }
        let next = self.last_request.unwrap_or(now) + self.interval;
        if next >= self.expires_at {
            // One last poll right at the deadline is pointless: the code is dead by then.
            return match self.expires_at.duration_since(now) {
                Ok(left) if left > Duration::from_millis(500) => {
                    Wait::Sleep(left - Duration::from_millis(500))
                }
                _ => Wait::Expired,
            };
        }
        Wait::Sleep(next.duration_since(now).unwrap_or(Duration::ZERO))
    }

    /// Where polling stands, for a progress display: `next_poll` is how long until the next
    /// poll (the adapter's own sleep clock), `polls` how many were sent.
    #[must_use]
    pub fn progress(&self, now: SystemTime, next_poll: Duration, polls: u32) -> DeviceWait {
        DeviceWait {
            next_poll,
            expires_in: self.expires_at.duration_since(now).unwrap_or_default(),
            interval: self.interval,
            polls,
        }
    }

    /// The error when the device code runs out before the user acts ([`Wait::Expired`]):
    /// `expired_token`, as the server itself would say (RFC 8628 §3.5), with no HTTP status
    /// since no poll was sent.
    #[must_use]
    pub fn expired_error(&self) -> Error {
        let mut error = ServerError::new(ErrorCode::ExpiredToken);
        error.description = Some("the device code expired before the user approved it".to_owned());
        error.into()
    }

    /// The token request to send now. `now` is recorded so the next wait counts from it.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when the client's dialect parameters cannot be written in its body
    /// encoding (see [`Exchange::request`]).
    pub fn request(&mut self, now: SystemTime) -> Result<Request, Error> {
        self.last_request = Some(now);
        #[allow(unused_mut)]
        let mut request = self.client.token_request(
            &self.token_endpoint,
            DEVICE_CODE_GRANT,
            &[("device_code", self.device_code.expose_secret())],
            &[],
            RetryMode::Idempotent,
            Some(now),
        )?;
        // A poll is sent as a plain request, so its DPoP proof is put on here, at `now`.
        #[cfg(feature = "oidc")]
        if let Some(dpop) = self.client.dpop() {
            let proof = dpop.proof(&request.method, &request.url, now, None)?;
            request.headers.insert("DPoP", proof);
        }
        Ok(request)
    }

    /// Handles the answer to a poll.
    ///
    /// # Errors
    ///
    /// [`Error::Server`] with `access_denied` (the user said no), `expired_token` (too late) or
    /// any other error code; [`Error::Response`] for an unusable answer.
    pub fn handle(&mut self, response: Response) -> Result<Poll, Error> {
        #[cfg(feature = "oidc")]
        if let Some(dpop) = self.client.dpop() {
            dpop.remember(&self.token_endpoint, &response);
            // The server wants its nonce in the proof: the next poll carries it.
            if crate::dpop::asks_for_nonce(&response) {
                return Ok(Poll::Pending);
            }
        }
        match TokenSet::from_response(
            &response,
            self.client.dialect(),
            &[self.device_code.expose_secret(), self.client.secret_str()],
        ) {
            Ok(mut tokens) => {
                self.client.check_token_type(&mut tokens)?;
                Ok(Poll::Done(Box::new(tokens)))
            }
            Err(Error::Server(ServerError {
                code: ErrorCode::AuthorizationPending,
                ..
            })) => Ok(Poll::Pending),
            Err(Error::Server(ServerError {
                code: ErrorCode::SlowDown,
                ..
            })) => {
                self.interval += Duration::from_secs(5);
                Ok(Poll::SlowDown)
            }
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn at(s: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(s)
    }

    fn client() -> Client {
        Client::builder("tv")
            .token_endpoint("https://as.example/token")
            .device_authorization_endpoint("https://as.example/device")
            .build()
            .unwrap()
    }

    #[test]
    fn device_flow_state_machine() {
        let client = client();
        let start = client.device_authorization().unwrap().scope("read");
        let request = start.request().unwrap();
        assert_eq!(request.url.as_str(), "https://as.example/device");
        assert_eq!(
            String::from_utf8(request.body).unwrap(),
            "client_id=tv&scope=read"
        );
        let auth = start
            .response(Response::json(
                200,
                r#"{"device_code":"GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS","user_code":"WDJB-MJHT","verification_uri":"https://example.com/device","verification_uri_complete":"https://example.com/device?user_code=WDJB-MJHT","expires_in":1800,"interval":5}"#,
                at(1000),
            ))
            .unwrap();
        assert_eq!(auth.user_code, "WDJB-MJHT");
        assert_eq!(auth.expires_at, at(2800));
        assert!(!format!("{auth:?}").contains("GmRhmh"));
        let mut poll = auth.poller(&client).unwrap();
        assert_eq!(poll.wait(at(1000)), Wait::Sleep(Duration::from_secs(5)));
        let request = poll.request(at(1005)).unwrap();
        assert_eq!(
            String::from_utf8(request.body).unwrap(),
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&client_id=tv&device_code=GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS"
        );
        let pending = Response::json(400, r#"{"error":"authorization_pending"}"#, at(1005));
        assert!(matches!(poll.handle(pending), Ok(Poll::Pending)));
        assert_eq!(poll.wait(at(1005)), Wait::Sleep(Duration::from_secs(5)));
        let _ = poll.request(at(1010)).unwrap();
        let slow = Response::json(400, r#"{"error":"slow_down"}"#, at(1010));
        assert!(matches!(poll.handle(slow), Ok(Poll::SlowDown)));
        assert_eq!(poll.interval(), Duration::from_secs(10));
        assert_eq!(poll.wait(at(1010)), Wait::Sleep(Duration::from_secs(10)));
        let _ = poll.request(at(1020)).unwrap();
        let denied = Response::json(400, r#"{"error":"access_denied"}"#, at(1020));
        assert_eq!(
            poll.clone().handle(denied).unwrap_err().server_code(),
            Some(&ErrorCode::AccessDenied)
        );
        let expired = Response::json(400, r#"{"error":"expired_token"}"#, at(1020));
        assert_eq!(
            poll.clone().handle(expired).unwrap_err().server_code(),
            Some(&ErrorCode::ExpiredToken)
        );
        let done = Response::json(
            200,
            r#"{"access_token":"at","token_type":"Bearer","expires_in":60}"#,
            at(1020),
        );
        assert!(
            matches!(poll.handle(done), Ok(Poll::Done(t)) if t.access_token().expose_secret() == "at")
        );
        assert_eq!(poll.wait(at(2800)), Wait::Expired);
        // Overdue: poll at once.
        assert_eq!(poll.wait(at(2795)), Wait::Sleep(Duration::ZERO));
        // A poll that would land past the deadline is moved just before it.
        let _ = poll.request(at(2792)).unwrap();
        assert_eq!(
            poll.wait(at(2792)),
            Wait::Sleep(Duration::from_millis(7500))
        );
        let _ = poll.request(at(2799)).unwrap();
        assert_eq!(poll.wait(at(2799)), Wait::Sleep(Duration::from_millis(500)));
        assert_eq!(
            poll.wait(at(2799) + Duration::from_millis(600)),
            Wait::Expired
        );
    }

    #[test]
    fn defaults_and_bad_answers() {
        let client = client();
        let auth = client
            .device_authorization()
            .unwrap()
            .response(Response::json(
                200,
                r#"{"device_code":"d","user_code":"u","verification_url":"https://x/device","expires_in":"600"}"#,
                at(0),
            ))
            .unwrap();
        assert_eq!(auth.interval, Duration::from_secs(5));
        assert_eq!(auth.verification_uri, "https://x/device");
        for body in [
            r#"{"device_code":"d"}"#,
            "<html>",
            r#"{"error":"invalid_client"}"#,
        ] {
            assert!(
                client
                    .device_authorization()
                    .unwrap()
                    .response(Response::json(200, body, at(0)))
                    .is_err()
            );
        }
    }
}
