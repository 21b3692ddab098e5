//! OpenID Connect ID tokens: the validation of [Core §3.1.3.7](https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation)
//! and the typed [`IdTokenClaims`] it yields.
//!
//! The signature is verified first (see [`jose`](crate::jose)); then `iss` must be the
//! client's issuer exactly, `aud` must hold the `client_id` (and `azp` must be it when there
//! are several audiences or when present), `exp` and `iat` are compared with the caller's
//! `now` within a leeway (default 60 s), `nonce` must be the one sent, `auth_time` must be
//! within `max_age` when it was requested, `acr` one of those required, and `at_hash` /
//! `c_hash` must match the access token / code when present.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::IdTokenError;
use crate::jose::{Algorithm, Jws, KeySet};
use crate::url::Url;
use crate::{Client, Error};

/// The claims of a validated ID token ([OpenID Connect Core §2](https://openid.net/specs/openid-connect-core-1_0.html#IDToken)).
/// Times are seconds since the Unix epoch, as on the wire; every other claim is in `extra`.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IdTokenClaims {
    /// `iss`: the issuer.
    pub iss: String,
    /// `sub`: the end user's identifier at the issuer.
    pub sub: String,
    /// `aud`: the audiences (one string on the wire is a list of one here).
    pub aud: Vec<String>,
    /// `exp`: expiry, seconds since the epoch.
    pub exp: u64,
    /// `iat`: issue time, seconds since the epoch.
    pub iat: u64,
    /// `auth_time`: when the user authenticated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<u64>,
    /// `nonce`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// `acr`: the authentication context class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    /// `amr`: the authentication methods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amr: Option<Vec<String>>,
    /// `azp`: the authorized party.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azp: Option<String>,
    /// `at_hash`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    /// `c_hash`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub c_hash: Option<String>,
    /// Every other claim (`name`, `email`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl IdTokenClaims {
    /// Reads the claims of a (verified) payload, checking each standard claim's type.
    ///
    /// # Errors
    ///
    /// [`IdTokenError::Malformed`] when the payload is not a JSON object;
    /// [`IdTokenError::Claim`] for a required claim that is missing or a claim of the wrong
    /// type.
    pub fn from_payload(payload: &[u8]) -> Result<Self, IdTokenError> {
        let mut map: Map<String, Value> = serde_json::from_slice(payload)
            .map_err(|_| IdTokenError::Malformed("payload is not a JSON object"))?;
        let mut take = |name: &str| map.remove(name);
        let string =
            |v: Option<Value>, claim: &'static str| -> Result<Option<String>, IdTokenError> {
                match v {
                    None | Some(Value::Null) => Ok(None),
                    Some(Value::String(s)) => Ok(Some(s)),
                    Some(_) => Err(IdTokenError::claim(claim, "not a string")),
                }
            };
        let time = |v: Option<Value>, claim: &'static str| -> Result<Option<u64>, IdTokenError> {
            match v {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Number(n)) => match (n.as_u64(), n.as_f64()) {
                    (Some(secs), _) => Ok(Some(secs)),
                    // A NumericDate may have a fraction (RFC 7519 §2); whole seconds count.
                    (None, Some(f)) if f.is_finite() && (0.0..1e15).contains(&f) => {
                        Ok(Some(f as u64))
                    }
                    _ => Err(IdTokenError::claim(claim, "not a time in seconds")),
                },
                Some(_) => Err(IdTokenError::claim(claim, "not a number")),
            }
        };
        let strings =
            |v: Option<Value>, claim: &'static str| -> Result<Option<Vec<String>>, IdTokenError> {
                match v {
                    None | Some(Value::Null) => Ok(None),
                    Some(Value::String(s)) => Ok(Some(vec![s])),
                    Some(Value::Array(items)) => items
                        .into_iter()
                        .map(|item| match item {
                            Value::String(s) => Ok(s),
                            _ => Err(IdTokenError::claim(
                                claim,
                                "holds a value that is not a string",
                            )),
                        })
                        .collect::<Result<Vec<_>, _>>()
                        .map(Some),
                    Some(_) => Err(IdTokenError::claim(
                        claim,
                        "not a string or a list of strings",
                    )),
                }
            };
        let required = |v: Option<String>, claim: &'static str| {
            v.filter(|s| !s.is_empty())
                .ok_or_else(|| IdTokenError::claim(claim, "missing"))
        };
        let iss = required(string(take("iss"), "iss")?, "iss")?;
        let sub = required(string(take("sub"), "sub")?, "sub")?;
        let aud = strings(take("aud"), "aud")?
            .filter(|a| !a.is_empty())
            .ok_or_else(|| IdTokenError::claim("aud", "missing"))?;
        let exp = time(take("exp"), "exp")?.ok_or_else(|| IdTokenError::claim("exp", "missing"))?;
        let iat = time(take("iat"), "iat")?.ok_or_else(|| IdTokenError::claim("iat", "missing"))?;
        let auth_time = time(take("auth_time"), "auth_time")?;
        let nonce = string(take("nonce"), "nonce")?;
        let acr = string(take("acr"), "acr")?;
        let amr = strings(take("amr"), "amr")?;
        let azp = string(take("azp"), "azp")?;
        let at_hash = string(take("at_hash"), "at_hash")?;
        let c_hash = string(take("c_hash"), "c_hash")?;
        Ok(Self {
            iss,
            sub,
            aud,
            exp,
            iat,
            auth_time,
            nonce,
            acr,
            amr,
            azp,
            at_hash,
            c_hash,
            extra: map,
        })
    }

    /// When the token expires.
    #[must_use]
    pub fn expires_at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.exp)
    }

    /// When the token was issued.
    #[must_use]
    pub fn issued_at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.iat)
    }
}

/// What one flow expects of its ID token beyond the client's settings: the `nonce` it sent,
/// the `max_age` it asked for, the access token and code it holds (for `at_hash` and
/// `c_hash`), and, after a refresh, the claims of the ID token it replaces.
#[non_exhaustive]
#[derive(Clone, Debug, Default)]
pub struct IdTokenExpectations {
    /// The `nonce` sent with the authorization request; `None` when none was (then the
    /// token must carry none, or, after a refresh, the original's).
    pub nonce: Option<String>,
    /// The `max_age` sent, in seconds: `auth_time` is then required and must be recent.
    pub max_age: Option<u64>,
    /// The access token issued with the ID token (checked against `at_hash`).
    pub access_token: Option<crate::AccessToken>,
    /// The authorization code (checked against `c_hash`).
    pub code: Option<crate::AuthorizationCode>,
    /// After a refresh: the claims of the original ID token (OpenID Connect Core §12.2).
    pub original: Option<IdTokenClaims>,
    /// The token comes from a refresh (no authorization request, so no nonce of its own): a
    /// `nonce` it carries must be the original's when that is known, and is not checked
    /// otherwise (servers such as oidc-provider repeat the original nonce).
    pub refresh: bool,
}

impl IdTokenExpectations {
    /// Nothing beyond the client's settings.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Expects this `nonce`.
    #[must_use]
    pub fn nonce(mut self, nonce: impl Into<String>) -> Self {
        self.nonce = Some(nonce.into());
        self
    }

    /// Expects an `auth_time` at most `max_age` seconds old.
    #[must_use]
    pub fn max_age(mut self, max_age: u64) -> Self {
        self.max_age = Some(max_age);
        self
    }

    /// Checks `at_hash` against this access token.
    #[must_use]
    pub fn access_token(mut self, access_token: impl Into<String>) -> Self {
        self.access_token = Some(crate::AccessToken::new(access_token));
        self
    }

    /// Checks `c_hash` against this code.
    #[must_use]
    pub fn code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(crate::AuthorizationCode::new(code));
        self
    }

    /// Expects a refreshed token (OpenID Connect Core §12.2): no nonce of its own.
    #[must_use]
    pub fn refreshed(mut self) -> Self {
        self.refresh = true;
        self
    }

    /// Expects a refreshed token of the same `iss` and `sub` as `original` (and, if it has
    /// a nonce, the original's).
    #[must_use]
    pub fn refreshed_from(mut self, original: IdTokenClaims) -> Self {
        self.original = Some(original);
        self.refresh = true;
        self
    }
}

/// The issuer's keys as the client caches them: one [`KeySet`] shared by every clone of the
/// client, replaced whole when a fetch lands.
#[derive(Clone, Debug, Default)]
pub(crate) struct KeyCache(Arc<ArcSwap<KeySet>>);

impl KeyCache {
    pub(crate) fn get(&self) -> Arc<KeySet> {
        self.0.load_full()
    }

    pub(crate) fn set(&self, keys: KeySet) {
        self.0.store(Arc::new(keys));
    }
}

/// The client's ID token settings.
#[derive(Clone, Debug)]
pub(crate) struct IdTokenSettings {
    pub(crate) jwks_uri: Option<Url>,
    /// The algorithms the client allows; `None` for the default.
    pub(crate) algorithms: Option<Vec<Algorithm>>,
    /// `id_token_signing_alg_values_supported` from the metadata (without `none`).
    pub(crate) metadata_algorithms: Option<Vec<Algorithm>>,
    pub(crate) allow_hmac: bool,
    pub(crate) leeway: Duration,
    pub(crate) acr_values: Vec<String>,
    pub(crate) keys: KeyCache,
    /// True when keys were handed to the builder (validation on even without `jwks_uri`).
    pub(crate) has_static_keys: bool,
}

impl Default for IdTokenSettings {
    fn default() -> Self {
        Self {
            jwks_uri: None,
            algorithms: None,
            metadata_algorithms: None,
            allow_hmac: false,
            leeway: DEFAULT_LEEWAY,
            acr_values: Vec::new(),
            keys: KeyCache::default(),
            has_static_keys: false,
        }
    }
}

/// The default clock leeway for `exp`, `iat` and `auth_time`.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);

impl IdTokenSettings {
    /// The algorithms allowed: the client's own list, else the metadata's, else RS256
    /// (OpenID Connect Discovery's default). Never `none`.
    pub(crate) fn allowed(&self) -> Vec<Algorithm> {
        let mut allowed = self
            .algorithms
            .clone()
            .or_else(|| self.metadata_algorithms.clone())
            .unwrap_or_else(|| vec![Algorithm::RS256]);
        if !self.allow_hmac {
            allowed.retain(|a| !a.is_hmac());
        }
        allowed
    }

    /// True when ID tokens this client receives are validated: it knows its issuer and has a
    /// way to verify signatures (a `jwks_uri`, keys, or HMAC opted in).
    pub(crate) fn active(&self, issuer: Option<&str>) -> bool {
        issuer.is_some() && (self.jwks_uri.is_some() || self.has_static_keys || self.allow_hmac)
    }
}

impl Client {
    /// The issuer's keys as this client (and its clones) cache them.
    #[must_use]
    pub fn key_set(&self) -> Arc<KeySet> {
        self.id_token_settings().keys.get()
    }

    /// Replaces the cached keys (after a [`Jwks`](crate::Jwks) fetch the client did not
    /// drive itself).
    pub fn set_key_set(&self, keys: KeySet) {
        self.id_token_settings().keys.set(keys);
    }

    /// The JWS algorithms this client accepts for ID tokens: those set with
    /// [`ClientBuilder::id_token_algorithms`](crate::ClientBuilder::id_token_algorithms),
    /// else the metadata's `id_token_signing_alg_values_supported`, else RS256; HMAC ones
    /// only with [`ClientBuilder::id_token_hmac`](crate::ClientBuilder::id_token_hmac).
    #[must_use]
    pub fn id_token_algorithms(&self) -> Vec<Algorithm> {
        self.id_token_settings().allowed()
    }

    /// True when this client validates the ID tokens it receives: it has an issuer and a
    /// `jwks_uri`, keys, or HMAC opted in.
    #[must_use]
    pub fn validates_id_tokens(&self) -> bool {
        self.id_token_settings().active(self.issuer())
    }

    /// Validates an ID token with the cached keys (or the client secret for HMAC) at `now`:
    /// signature, then every claim check (see the [module docs](crate::id_token)).
    ///
    /// # Errors
    ///
    /// [`Error::IdToken`] naming the check that failed.
    pub fn validate_id_token(
        &self,
        id_token: &str,
        expect: &IdTokenExpectations,
        now: SystemTime,
    ) -> Result<IdTokenClaims, Error> {
        let settings = self.id_token_settings();
        let jws = Jws::parse(id_token)?;
        let allowed = settings.allowed();
        let payload = if jws.alg().is_hmac() {
            if !settings.allow_hmac {
                return Err(IdTokenError::HmacNotAllowed(jws.alg().as_str()).into());
            }
            let secret = self.secret_str();
            if secret.is_empty() {
                return Err(IdTokenError::HmacNotAllowed(jws.alg().as_str()).into());
            }
            jws.verify_hmac(secret.as_bytes(), &allowed)?
        } else {
            jws.verify_with(&self.key_set(), &allowed)?
        };
        let claims = IdTokenClaims::from_payload(payload)?;
        check_claims(self, settings, &claims, jws.alg(), expect, now)?;
        Ok(claims)
    }
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn check_claims(
    client: &Client,
    settings: &IdTokenSettings,
    claims: &IdTokenClaims,
    alg: Algorithm,
    expect: &IdTokenExpectations,
    now: SystemTime,
) -> Result<(), IdTokenError> {
    let fail = IdTokenError::claim;
    let issuer = client
        .issuer()
        .ok_or_else(|| fail("iss", "the client has no issuer to compare with"))?;
    if claims.iss != issuer {
        return Err(fail("iss", "not the client's issuer"));
    }
    let client_id = client.client_id();
    if !claims.aud.iter().any(|a| a == client_id) {
        return Err(fail("aud", "does not contain the client_id"));
    }
    match claims.azp.as_deref() {
        Some(azp) if azp != client_id => return Err(fail("azp", "not the client_id")),
        None if claims.aud.len() > 1 => {
            return Err(fail("azp", "missing although there are several audiences"));
        }
        _ => {}
    }
    let now = secs(now);
    let leeway = settings.leeway.as_secs();
    if now >= claims.exp.saturating_add(leeway) {
        return Err(fail("exp", "the token has expired"));
    }
    if claims.iat > now.saturating_add(leeway) {
        return Err(fail("iat", "issued in the future"));
    }
    match (&expect.nonce, &claims.nonce) {
        (Some(sent), Some(got)) => {
            if !crate::secret::constant_time_eq(sent.as_bytes(), got.as_bytes()) {
                return Err(fail("nonce", "not the nonce sent"));
            }
        }
        (Some(_), None) => return Err(fail("nonce", "missing")),
        (None, Some(got)) if expect.refresh => {
            if let Some(original) = &expect.original {
                if original.nonce.as_deref() != Some(got.as_str()) {
                    return Err(fail("nonce", "not the original ID token's"));
                }
            }
        }
        (None, Some(_)) => return Err(fail("nonce", "present although none was sent")),
        (None, None) => {}
    }
    if let Some(max_age) = expect.max_age {
        let auth_time = claims
            .auth_time
            .ok_or_else(|| fail("auth_time", "missing although max_age was requested"))?;
        if now > auth_time.saturating_add(max_age).saturating_add(leeway) {
            return Err(fail("auth_time", "older than the max_age requested"));
        }
    }
    if !settings.acr_values.is_empty() {
        match &claims.acr {
            Some(acr) if settings.acr_values.iter().any(|a| a == acr) => {}
            Some(_) => return Err(fail("acr", "not one of the values required")),
            None => return Err(fail("acr", "missing although required")),
        }
    }
    if let (Some(at_hash), Some(token)) = (&claims.at_hash, &expect.access_token) {
        if *at_hash != alg.half_hash(token.expose_secret()) {
            return Err(fail("at_hash", "does not match the access token"));
        }
    }
    if let (Some(c_hash), Some(code)) = (&claims.c_hash, &expect.code) {
        if *c_hash != alg.half_hash(code.expose_secret()) {
            return Err(fail("c_hash", "does not match the code"));
        }
    }
    if let Some(original) = &expect.original {
        if claims.iss != original.iss {
            return Err(fail("iss", "not the original ID token's"));
        }
        if claims.sub != original.sub {
            return Err(fail("sub", "not the original ID token's"));
        }
    }
    Ok(())
}

/// Validates the `id_token` of a token set just received, if there is one and the client
/// validates ID tokens, and keeps its claims in the set.
pub(crate) fn validate_in(
    client: &Client,
    tokens: &mut crate::TokenSet,
    mut expect: IdTokenExpectations,
    now: SystemTime,
) -> Result<(), Error> {
    if !client.validates_id_tokens() {
        return Ok(());
    }
    let Some(id_token) = tokens.id_token() else {
        return Ok(());
    };
    expect.access_token = Some(tokens.access_token().clone());
    let claims = client.validate_id_token(id_token, &expect, now)?;
    tokens.id_token_claims = Some(Box::new(claims));
    Ok(())
}

impl Client {
    /// Verifies a signed userinfo answer (`application/jwt`, OpenID Connect Core §5.3.2) with
    /// the cached keys and the client's ID token algorithms, checks its `iss` and `aud`, and
    /// returns its claims as JSON.
    pub(crate) fn verify_signed_userinfo(&self, body: &[u8]) -> Result<Vec<u8>, Error> {
        let settings = self.id_token_settings();
        let text = std::str::from_utf8(body)
            .map_err(|_| IdTokenError::Malformed("signed userinfo is not UTF-8"))?;
        let jws = Jws::parse(text.trim())?;
        let allowed = settings.allowed();
        let payload = if jws.alg().is_hmac() && settings.allow_hmac {
            jws.verify_hmac(self.secret_str().as_bytes(), &allowed)?
        } else {
            jws.verify_with(&self.key_set(), &allowed)?
        };
        #[derive(Deserialize)]
        struct Signed {
            iss: Option<String>,
            aud: Option<Value>,
        }
        let signed: Signed = serde_json::from_slice(payload)
            .map_err(|_| IdTokenError::Malformed("payload is not a JSON object"))?;
        if signed.iss.is_none() || signed.iss.as_deref() != self.issuer() {
            return Err(IdTokenError::claim("iss", "not the client's issuer").into());
        }
        let client_id = self.client_id();
        let audience = match &signed.aud {
            Some(Value::String(aud)) => aud == client_id,
            Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(client_id)),
            _ => false,
        };
        if !audience {
            return Err(IdTokenError::claim("aud", "does not contain the client_id").into());
        }
        Ok(payload.to_vec())
    }
}

/// The JWK set request to send before a token answer can be validated: when the client
/// validates ID tokens, has a `jwks_uri`, the answer carries an `id_token`, and the cached
/// set is stale, or lacks the token's key and may be fetched again (at most once per
/// [`KeySet::REFETCH_INTERVAL`]).
pub(crate) fn keys_needed(client: &Client, response: &crate::Response) -> Option<crate::Request> {
    let settings = client.id_token_settings();
    if !settings.active(client.issuer()) || !response.is_success() {
        return None;
    }
    #[derive(Deserialize)]
    struct Peek<'a> {
        #[serde(borrow)]
        id_token: Option<std::borrow::Cow<'a, str>>,
    }
    let peek: Peek<'_> = serde_json::from_slice(&response.body).ok()?;
    keys_needed_for(client, &peek.id_token?, response.received_at)
}

/// The JWK set request to send before `jws` can be verified at `now`, if the client has a
/// `jwks_uri` and its cached set is stale or lacks the key (see [`keys_needed`]).
pub(crate) fn keys_needed_for(
    client: &Client,
    jws: &str,
    now: SystemTime,
) -> Option<crate::Request> {
    let settings = client.id_token_settings();
    let jwks_uri = settings.jwks_uri.as_ref()?;
    let jws = Jws::parse(jws).ok()?;
    if jws.alg().is_hmac() {
        return None;
    }
    let keys = client.key_set();
    let missing = !keys.has_key_for(jws.kid(), jws.alg()) && keys.may_refetch(now);
    // A stale set is fetched again too, but a failing server is asked at most every 30 s.
    let stale = keys.is_stale(now) && keys.may_refetch(now);
    (stale || missing).then(|| crate::flow::jwks::Jwks::at(jwks_uri.clone()).request_value())
}

/// Takes the answer to a [`keys_needed`] request into the client's cache. A failed fetch
/// leaves the keys as they were but records the attempt at `now`, so that the next unknown
/// `kid` waits out [`KeySet::REFETCH_INTERVAL`] too.
pub(crate) fn keys_received(client: &Client, answer: Option<&crate::Response>, now: SystemTime) {
    match answer.map(crate::flow::jwks::Jwks::read) {
        Some(Ok(keys)) => client.set_key_set(keys),
        _ => client.set_key_set(client.key_set().attempted(now)),
    }
}
