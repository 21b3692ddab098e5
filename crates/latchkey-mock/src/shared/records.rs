//! What the server remembers between requests: codes, tokens, device authorizations and
//! pushed requests. Plain data; the endpoints give it meaning.

use std::time::{Duration, SystemTime};

/// A PKCE `code_challenge_method` (RFC 7636 §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChallengeMethod {
    /// `S256`.
    S256,
    /// `plain`.
    Plain,
}

/// An authorization code waiting to be exchanged.
#[derive(Debug)]
pub(crate) struct CodeGrant {
    pub(crate) client_id: String,
    /// The `redirect_uri` parameter of the authorization request, when one was sent.
    pub(crate) redirect_uri_sent: Option<String>,
    /// The redirect URI actually used.
    pub(crate) redirect_uri: String,
    pub(crate) scope: Option<String>,
    pub(crate) resources: Vec<String>,
    pub(crate) challenge: Option<(String, ChallengeMethod)>,
    pub(crate) expires_at: SystemTime,
    pub(crate) used: bool,
    /// The grant family every token issued from this code belongs to (see
    /// [`AccessToken::family`]).
    pub(crate) family: u64,
    /// The authorization request's `nonce`, for the ID token.
    pub(crate) nonce: Option<String>,
    /// When the user authorized (the ID token's `auth_time`).
    pub(crate) auth_time: SystemTime,
    /// The authorization request's `dpop_jkt` (RFC 9449 §10): the key the code exchange's
    /// proof must be made with.
    pub(crate) dpop_jkt: Option<String>,
}

/// An access token the server issued.
#[derive(Debug)]
pub(crate) struct AccessToken {
    pub(crate) client_id: String,
    pub(crate) issued_at: SystemTime,
    pub(crate) expires_at: SystemTime,
    /// Its lifetime in seconds, as announced.
    pub(crate) lifetime: u64,
    /// Expired by hand, whatever the clock says.
    pub(crate) expired: bool,
    pub(crate) revoked: bool,
    /// Its grant family: the tokens descended from one authorization (an authorization
    /// code, a device code, or a first issuance such as token exchange), which are revoked
    /// together.
    pub(crate) family: u64,
    pub(crate) scope: Option<String>,
    /// `sub`: the user's for user grants, the client's for client credentials.
    pub(crate) subject: String,
    /// The audience: the `resource` indicators (and token exchange `audience`s).
    pub(crate) resources: Vec<String>,
    /// The thumbprint of the DPoP key the token is bound to (`cnf.jkt`), if any.
    pub(crate) jkt: Option<String>,
}

/// A refresh token the server issued.
#[derive(Debug)]
pub(crate) struct RefreshToken {
    pub(crate) client_id: String,
    pub(crate) issued_at: SystemTime,
    pub(crate) scope: Option<String>,
    /// Revoked by hand, at `/revoke` or with its whole grant family.
    pub(crate) revoked: bool,
    /// Set when a refresh grant rotated it: it is then no longer live, and presenting it
    /// again is reuse (or, within the client's grace period, a repeat of that refresh).
    pub(crate) rotated: Option<Rotation>,
    /// Its grant family (see [`AccessToken::family`]).
    pub(crate) family: u64,
    pub(crate) subject: String,
    pub(crate) resources: Vec<String>,
    /// The thumbprint of the DPoP key the token is bound to, if any: a refresh then
    /// needs a proof made with that key.
    pub(crate) jkt: Option<String>,
    /// When the user authorized, for a grant made with `openid`: the `auth_time` of the ID
    /// tokens its refreshes carry.
    pub(crate) auth_time: Option<SystemTime>,
}

/// When and into what a refresh token was rotated.
#[derive(Debug, Clone)]
pub(crate) struct Rotation {
    /// The time of the refresh that rotated it.
    pub(crate) at: SystemTime,
    /// The refresh token that refresh issued in its place.
    pub(crate) successor: String,
}

/// Where a device authorization stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeviceStatus {
    Pending,
    Approved,
    Denied,
    Used,
}

/// A device authorization (RFC 8628 §3.2) waiting for the user.
#[derive(Debug)]
pub(crate) struct DeviceGrant {
    pub(crate) device_code: String,
    pub(crate) user_code: String,
    pub(crate) client_id: String,
    pub(crate) scope: Option<String>,
    pub(crate) resources: Vec<String>,
    pub(crate) expires_at: SystemTime,
    /// The polling interval in force; `slow_down` makes it longer.
    pub(crate) interval: Duration,
    pub(crate) last_poll: Option<SystemTime>,
    pub(crate) status: DeviceStatus,
}

/// A pushed authorization request (RFC 9126 §2), kept until its `request_uri` is used.
#[derive(Debug)]
pub(crate) struct Pushed {
    pub(crate) client_id: String,
    pub(crate) params: Vec<(String, String)>,
    pub(crate) expires_at: SystemTime,
}
