//! Minting tokens and shaping token responses in the client's dialect.

use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use sha2::Digest as _;

use crate::client::{GrantType, IdTokenAlg, MockClient, ResponseStyle};
use crate::clock::{after_secs, unix_secs};
use crate::shared::records::{AccessToken, RefreshToken};
use crate::shared::state::State;

/// What a token response is issued for.
#[derive(Debug)]
pub(crate) struct Grant {
    /// The access token's scope.
    pub(crate) scope: Option<String>,
    /// A new refresh token's scope (the whole grant's).
    pub(crate) refresh_scope: Option<String>,
    /// The access token's audience.
    pub(crate) resources: Vec<String>,
    /// A new refresh token's resources (the whole grant's).
    pub(crate) refresh_resources: Vec<String>,
    /// `sub`.
    pub(crate) subject: String,
    /// The grant family the tokens join: the authorization's, from
    /// [`State::new_family`] for a first issuance.
    pub(crate) family: u64,
    /// What an ID token says beyond the grant, when the flow issues one (a code exchange or
    /// a refresh); it is issued when the scope also has `openid`.
    pub(crate) id_token: Option<IdTokenFor>,
    /// The thumbprint of the DPoP key the tokens are bound to (RFC 9449 §6), when the
    /// request carried a proof: then the answer says `token_type: DPoP`.
    pub(crate) jkt: Option<String>,
}

/// The ID token's own claims for a grant.
#[derive(Debug)]
pub(crate) struct IdTokenFor {
    /// The authorization request's `nonce` (never in a refresh's ID token).
    pub(crate) nonce: Option<String>,
    /// When the user authorized.
    pub(crate) auth_time: SystemTime,
}

/// What a token response does about refresh tokens.
#[derive(Debug)]
pub(crate) enum RefreshPlan {
    /// No refresh token.
    None,
    /// A new one.
    New,
    /// Hand back this refresh token, already issued: the one presented, or the one a
    /// rotation just minted.
    Keep(String),
}

/// Whether a token response for this scope carries a new refresh token: when the client may
/// refresh and, for Auth0-style clients, the scope has `offline_access`.
pub(crate) fn refresh_plan(client: &MockClient, scope: Option<&str>) -> RefreshPlan {
    let wants_refresh = client.allows(GrantType::RefreshToken)
        && (client.style != ResponseStyle::Auth0
            || scope.is_some_and(|s| s.split(' ').any(|v| v == "offline_access")));
    if wants_refresh {
        RefreshPlan::New
    } else {
        RefreshPlan::None
    }
}

/// Mints an access token of the client's lifetime, from `now`.
pub(crate) fn new_access_token(
    state: &mut State,
    client: &MockClient,
    grant: &Grant,
    now: SystemTime,
) -> String {
    let token = state.random_token("at_");
    state.issued_access += 1;
    state.access.insert(
        token.clone(),
        AccessToken {
            client_id: client.id.clone(),
            issued_at: now,
            expires_at: after_secs(now, client.expires_in),
            lifetime: client.expires_in,
            expired: false,
            revoked: false,
            family: grant.family,
            scope: grant.scope.clone(),
            subject: grant.subject.clone(),
            resources: grant.resources.clone(),
            jkt: grant.jkt.clone(),
        },
    );
    token
}

/// Mints a refresh token for the whole grant.
pub(crate) fn new_refresh_token(
    state: &mut State,
    client: &MockClient,
    grant: &Grant,
    now: SystemTime,
) -> String {
    let token = state.random_token("rt_");
    state.issued_refresh += 1;
    state.refresh.insert(
        token.clone(),
        RefreshToken {
            client_id: client.id.clone(),
            issued_at: now,
            scope: grant.refresh_scope.clone(),
            revoked: false,
            rotated: None,
            family: grant.family,
            subject: grant.subject.clone(),
            resources: grant.refresh_resources.clone(),
            auth_time: grant
                .id_token
                .as_ref()
                .filter(|_| has_openid(grant.scope.as_deref()))
                .map(|i| i.auth_time),
            jkt: grant.jkt.clone(),
        },
    );
    token
}

/// Whether `scope` asks for OpenID Connect.
fn has_openid(scope: Option<&str>) -> bool {
    scope.is_some_and(|s| s.split(' ').any(|v| v == "openid"))
}

/// The signed ID token for `grant`, when it asks for one: `iss`, `sub`, `aud`, `exp`, `iat`,
/// `auth_time`, `nonce` (when the request had one) and, except for EdDSA, `at_hash`.
fn id_token(
    state: &mut State,
    client: &MockClient,
    grant: &Grant,
    access_token: &str,
    now: SystemTime,
) -> Option<String> {
    let claims_for = grant
        .id_token
        .as_ref()
        .filter(|_| has_openid(grant.scope.as_deref()))?;
    let iat = unix_secs(now);
    let mut claims = json!({
        "iss": state.issuer,
        "sub": grant.subject,
        "aud": client.id,
        "exp": iat + client.expires_in,
        "iat": iat,
        "auth_time": unix_secs(claims_for.auth_time),
    });
    if let Some(nonce) = &claims_for.nonce {
        claims["nonce"] = nonce.as_str().into();
    }
    let alg = client.id_token_alg;
    // at_hash (OpenID Connect Core §3.1.3.6): the left half of the access token's hash, with
    // the hash of the signing algorithm (left out for EdDSA, whose hash the spec leaves open).
    let digest = match alg {
        IdTokenAlg::ES384 => Some(sha2::Sha384::digest(access_token.as_bytes()).to_vec()),
        IdTokenAlg::EdDSA => None,
        _ => Some(sha2::Sha256::digest(access_token.as_bytes()).to_vec()),
    };
    if let Some(digest) = digest {
        claims["at_hash"] = URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2]).into();
    }
    let secret = client.secret.as_deref().unwrap_or_default().as_bytes();
    Some(state.keys.sign(alg, &claims, secret))
}

/// Issues an access token (and maybe a refresh token) and shapes the response body.
pub(crate) fn issue(
    state: &mut State,
    client: &MockClient,
    grant: &Grant,
    plan: RefreshPlan,
    now: SystemTime,
) -> Value {
    let access = new_access_token(state, client, grant, now);
    let id_token = id_token(state, client, grant, &access, now);
    let scope = grant.scope.clone();
    let refresh = match plan {
        RefreshPlan::None => None,
        RefreshPlan::Keep(token) => Some(token),
        RefreshPlan::New => Some(new_refresh_token(state, client, grant, now)),
    };
    let bound = grant.jkt.is_some() && !state.dpop.answer_bearer;
    let mut body = Map::new();
    let mut put = |k: &str, v: Value| {
        body.insert(k.to_owned(), v);
    };
    match client.style {
        ResponseStyle::Auth0 => {
            put("access_token", access.into());
            put("token_type", token_type(bound, "Bearer"));
            put("expires_in", client.expires_in.into());
            if let Some(scope) = scope {
                put("scope", scope.into());
            }
            if let Some(refresh) = refresh {
                put("refresh_token", refresh.into());
            }
        }
        ResponseStyle::Clerk => {
            put("access_token", access.into());
            if let Some(refresh) = refresh {
                put("refresh_token", refresh.into());
            }
            put("scope", scope.unwrap_or_default().into());
            put("token_type", token_type(bound, "bearer"));
            put("expires_in", client.expires_in.into());
        }
        ResponseStyle::Doorkeeper => {
            put("access_token", access.into());
            put("token_type", token_type(bound, "bearer"));
            put("created_at", unix_secs(now).into());
            if let Some(refresh) = refresh {
                put("refresh_token", refresh.into());
            }
        }
    }
    if let Some(id_token) = id_token {
        body.insert("id_token".to_owned(), id_token.into());
    }
    Value::Object(body)
}

/// `token_type`: `DPoP` for a bound token, else the dialect's spelling of `Bearer`.
fn token_type(bound: bool, bearer: &str) -> Value {
    if bound { "DPoP" } else { bearer }.into()
}
