//! JWT client assertions (RFC 7523 §2.2, §3): `private_key_jwt` (verified with the client's
//! registered public key) and `client_secret_jwt` (HS256 over its secret). The claims are
//! checked strictly: `iss` = `sub` = the client, `aud` the issuer or the token endpoint (or,
//! at PAR, the PAR endpoint, which RFC 9126 §2 also allows), `exp`
//! in the future and at most five minutes away, and a `jti` never seen before. The JOSE work
//! is latchkey's core `jose` module; this module only decides.

use std::time::Duration;

use latchkey::jose::{Algorithm, Jwk, Jws};
use serde_json::Value;

use crate::client::{AuthMethod, MockClient};
use crate::clock::{after_secs, unix_secs};
use crate::shared::state::State;

/// The `client_assertion_type` of a JWT (RFC 7523 §2.2).
pub(crate) const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The algorithms a `private_key_jwt` assertion may be signed with.
pub(crate) const KEY_ALGS: [Algorithm; 4] = [
    Algorithm::RS256,
    Algorithm::PS256,
    Algorithm::ES256,
    Algorithm::EdDSA,
];

/// How far in the future an assertion's `exp` may be.
pub(crate) const MAX_LIFETIME: Duration = Duration::from_secs(300);

/// How far ahead of the server's time `iat` and `nbf` may be (clock skew).
const SKEW_SECS: u64 = 60;

/// How many assertion `jti`s are remembered at most.
pub(crate) const JTI_MEMORY: usize = 10_000;

/// The `iss` of an assertion, read before verification to find the client.
pub(crate) fn unverified_issuer(assertion: &str) -> Option<String> {
    let jws = Jws::parse(assertion).ok()?;
    let claims: Value = serde_json::from_slice(jws.unverified_payload()).ok()?;
    claims.get("iss")?.as_str().map(str::to_owned)
}

/// Verifies `assertion` for `client`, sent to `path` at `now`; the error is the
/// `invalid_client` description. A good assertion's `jti` is remembered.
pub(crate) fn verify(
    state: &mut State,
    client: &MockClient,
    assertion: &str,
    path: &str,
    now: std::time::SystemTime,
) -> Result<(), String> {
    let jws = Jws::parse(assertion)
        .map_err(|e| format!("the client_assertion is not a signed JWT: {e}"))?;
    let payload = match client.effective_auth_method() {
        AuthMethod::PrivateKeyJwt => {
            let Some(registered) = client.jwt_key.as_deref() else {
                return Err(format!(
                    "client `{}` has no registered public key",
                    client.id
                ));
            };
            let Some(key) = read_key(registered) else {
                return Err(format!(
                    "client `{}`'s registered public key cannot be read (a public JWK or PEM)",
                    client.id
                ));
            };
            if !KEY_ALGS.contains(&jws.alg()) {
                return Err(format!(
                    "client_assertion alg {} is not accepted for private_key_jwt (RS256, PS256, ES256, EdDSA)",
                    jws.alg()
                ));
            }
            jws.verify_key(&key).map_err(|e| {
                format!("the client_assertion does not verify with the client's key: {e}")
            })?;
            jws.unverified_payload()
        }
        AuthMethod::ClientSecretJwt => {
            let secret = client.secret.as_deref().unwrap_or_default();
            jws.verify_hmac(secret.as_bytes(), &[Algorithm::HS256])
                .map_err(|e| {
                    format!(
                        "the client_assertion does not verify as HS256 with the client secret: {e}"
                    )
                })?
        }
        other => {
            return Err(format!(
                "client `{}` authenticates with {}, not with a client assertion",
                client.id,
                other.as_str()
            ));
        }
    };
    let Ok(Value::Object(claims)) = serde_json::from_slice::<Value>(payload) else {
        return Err("the client_assertion's payload is not a JSON object".to_owned());
    };
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    if text("iss") != Some(client.id.as_str()) || text("sub") != Some(client.id.as_str()) {
        return Err(format!(
            "the client_assertion's iss and sub must both be the client_id `{}`",
            client.id
        ));
    }
    let token_endpoint = format!("{}/token", state.base);
    let par_endpoint = format!("{}/par", state.base);
    let accepted = |aud: &str| {
        aud == state.issuer || aud == token_endpoint || (path == "/par" && aud == par_endpoint)
    };
    let aud_ok = match claims.get("aud") {
        Some(Value::String(aud)) => accepted(aud),
        Some(Value::Array(auds)) => auds.iter().filter_map(Value::as_str).any(accepted),
        _ => false,
    };
    if !aud_ok {
        return Err(format!(
            "the client_assertion's aud must be the issuer `{}` or the token endpoint `{token_endpoint}`",
            state.issuer
        ));
    }
    let now_secs = unix_secs(now);
    let Some(exp) = claims.get("exp").and_then(Value::as_u64) else {
        return Err("the client_assertion has no numeric exp".to_owned());
    };
    if exp <= now_secs {
        return Err("the client_assertion has expired (exp is past)".to_owned());
    }
    if exp - now_secs > MAX_LIFETIME.as_secs() {
        return Err(format!(
            "the client_assertion's exp is more than {} s away",
            MAX_LIFETIME.as_secs()
        ));
    }
    for name in ["iat", "nbf"] {
        match claims.get(name) {
            None => {}
            Some(value) => match value.as_u64() {
                Some(t) if t <= now_secs + SKEW_SECS => {}
                Some(_) => {
                    return Err(format!("the client_assertion's {name} is in the future"));
                }
                None => return Err(format!("the client_assertion's {name} is not a number")),
            },
        }
    }
    let Some(jti) = text("jti").filter(|j| !j.is_empty()) else {
        return Err("the client_assertion has no jti".to_owned());
    };
    let key = format!("{}:{jti}", client.id);
    let until = after_secs(now, exp - now_secs + SKEW_SECS);
    if !state.assertion_jtis.first_use(&key, now, until) {
        return Err(
            "the client_assertion's jti was already used (a replayed assertion)".to_owned(),
        );
    }
    Ok(())
}

/// A registered public key: a JWK (JSON text) or a PEM `PUBLIC KEY`.
fn read_key(text: &str) -> Option<Jwk> {
    if text.trim_start().starts_with("-----BEGIN") {
        Jwk::from_public_key_pem(text)
    } else {
        let json: Value = serde_json::from_str(text).ok()?;
        Jwk::from_json(&json)
    }
}
