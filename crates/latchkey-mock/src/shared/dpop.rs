//! DPoP proofs (RFC 9449 §4.3) as the mock checks them, at the authorization server and at
//! userinfo: `typ`, `alg`, the signature with the header's public `jwk`, `htm`, `htu`, `iat`
//! within a window of the server's time, `jti` never seen before, the server nonce when one
//! is required, and `ath` at a resource. The JOSE work (parsing, JWK, signature, thumbprint)
//! is latchkey's core `jose` module; this module only decides.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use latchkey::jose::{Algorithm, Jwk, Jws};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::clock::{after, unix_secs};
use crate::record::DpopProof;
use crate::shared::params::Incoming;
use crate::shared::reply::Reply;
use crate::shared::state::State;

/// The algorithms a proof may be signed with (`dpop_signing_alg_values_supported`).
pub(crate) const PROOF_ALGS: [Algorithm; 4] = [
    Algorithm::ES256,
    Algorithm::EdDSA,
    Algorithm::RS256,
    Algorithm::PS256,
];

/// How far a proof's `iat` may be from the server's time, either way.
pub(crate) const IAT_WINDOW: Duration = Duration::from_secs(60);

/// How many proof `jti`s are remembered at most.
pub(crate) const JTI_MEMORY: usize = 10_000;

/// The private members of a JWK (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2): none may be
/// in a proof's header.
const PRIVATE_MEMBERS: [&str; 9] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k", "r"];

/// Server-wide DPoP settings and state.
#[derive(Debug)]
pub(crate) struct DpopState {
    /// Whether a proof must carry the current nonce.
    pub(crate) nonce_required: bool,
    /// The current nonce.
    pub(crate) nonce: String,
    /// Answer `token_type: Bearer` to a request with a proof (the token is bound all the same).
    pub(crate) answer_bearer: bool,
    /// `jti`s seen.
    pub(crate) jtis: super::replay::ReplayCache,
    /// Every proof received, with what became of it.
    pub(crate) received: Vec<DpopProof>,
    /// How many `use_dpop_nonce` answers were sent.
    pub(crate) nonce_challenges: u64,
}

impl DpopState {
    pub(crate) fn new(nonce_required: bool) -> Self {
        Self {
            nonce_required,
            nonce: String::new(),
            answer_bearer: false,
            jtis: super::replay::ReplayCache::new(JTI_MEMORY),
            received: Vec::new(),
            nonce_challenges: 0,
        }
    }
}

/// Why a proof was not accepted.
#[derive(Debug)]
pub(crate) enum ProofError {
    /// `invalid_dpop_proof`, with a description.
    Invalid(String),
    /// `use_dpop_nonce`: the nonce is missing or not the current one.
    Nonce(String),
}

impl ProofError {
    /// The authorization server's answer (RFC 9449 §5, §8): `400 invalid_dpop_proof`, or
    /// `400 use_dpop_nonce` with a `DPoP-Nonce` header.
    pub(crate) fn at_server(self, state: &mut State) -> Reply {
        match self {
            Self::Invalid(why) => Reply::oauth_error("invalid_dpop_proof", &why),
            Self::Nonce(why) => {
                let nonce = current_nonce(state);
                state.dpop.nonce_challenges += 1;
                let mut reply = Reply::oauth_error("use_dpop_nonce", &why);
                reply.headers.push(("dpop-nonce", nonce));
                reply
            }
        }
    }

    /// A resource's answer (RFC 9449 §7.1, §9): `401` with
    /// `WWW-Authenticate: DPoP error="invalid_dpop_proof"` or `error="use_dpop_nonce"` (and
    /// then a `DPoP-Nonce` header).
    pub(crate) fn at_resource(self, state: &mut State) -> Reply {
        match self {
            Self::Invalid(why) => dpop_challenge("invalid_dpop_proof", &why),
            Self::Nonce(why) => {
                let nonce = current_nonce(state);
                state.dpop.nonce_challenges += 1;
                let mut reply = dpop_challenge("use_dpop_nonce", &why);
                reply.headers.push(("dpop-nonce", nonce));
                reply
            }
        }
    }
}

/// A `401` with a `DPoP` challenge (RFC 9449 §7.1) naming the algorithms accepted.
pub(crate) fn dpop_challenge(error: &str, description: &str) -> Reply {
    let mut reply = Reply::json(
        401,
        &json!({ "error": error, "error_description": description }),
    );
    let algs: Vec<&str> = PROOF_ALGS.iter().map(|a| a.as_str()).collect();
    reply.headers.push((
        "www-authenticate",
        format!(
            "DPoP algs=\"{}\", error=\"{error}\", error_description=\"{}\"",
            algs.join(" "),
            description.replace(['"', '\\'], "'")
        ),
    ));
    reply
}

/// The current nonce, made on first use.
pub(crate) fn current_nonce(state: &mut State) -> String {
    if state.dpop.nonce.is_empty() {
        state.dpop.nonce = state.random_token("n-");
    }
    state.dpop.nonce.clone()
}

/// `base64url(SHA-256(token))`: a resource proof's `ath` (RFC 9449 §4.2).
pub(crate) fn ath(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// Checks the `DPoP` header of `req`, sent to `req.url`: `Ok(None)` when there is none,
/// else the thumbprint of the proof's key. `access_token` is the token a resource request
/// carries (then `ath` must match it). Every proof is recorded, accepted or not.
pub(crate) fn verify(
    state: &mut State,
    req: &Incoming,
    access_token: Option<&str>,
) -> Result<Option<String>, ProofError> {
    let proof = match req.dpop.as_slice() {
        [] => return Ok(None),
        [one] => one.as_str(),
        _ => {
            return Err(record(
                state,
                req,
                None,
                ProofError::Invalid("more than one DPoP header was sent".to_owned()),
            ));
        }
    };
    let mut jkt = None;
    match check(state, req, proof, access_token, &mut jkt).err() {
        None => {
            state.dpop.received.push(DpopProof {
                path: req.path.clone(),
                jkt: jkt.clone(),
                nonce: claim_nonce(proof),
                error: None,
            });
            Ok(jkt)
        }
        Some(e) => Err(record(state, req, jkt, e)),
    }
}

/// Records a refused proof and hands the error back.
fn record(state: &mut State, req: &Incoming, jkt: Option<String>, e: ProofError) -> ProofError {
    let error = match &e {
        ProofError::Invalid(_) => "invalid_dpop_proof",
        ProofError::Nonce(_) => "use_dpop_nonce",
    };
    let nonce = req.dpop.first().and_then(|p| claim_nonce(p));
    state.dpop.received.push(DpopProof {
        path: req.path.clone(),
        jkt,
        nonce,
        error: Some(error.to_owned()),
    });
    e
}

/// The `nonce` claim of a proof, unverified (for the record).
fn claim_nonce(proof: &str) -> Option<String> {
    let jws = Jws::parse(proof).ok()?;
    let claims: Value = serde_json::from_slice(jws.unverified_payload()).ok()?;
    claims.get("nonce")?.as_str().map(str::to_owned)
}

fn check(
    state: &mut State,
    req: &Incoming,
    proof: &str,
    access_token: Option<&str>,
    jkt: &mut Option<String>,
) -> Result<(), ProofError> {
    let invalid = |why: String| Err(ProofError::Invalid(why));
    let jws = match Jws::parse(proof) {
        Ok(jws) => jws,
        Err(e) => return invalid(format!("the DPoP proof is not a signed JWT: {e}")),
    };
    if jws.typ() != Some("dpop+jwt") {
        return invalid("the DPoP proof's typ must be dpop+jwt".to_owned());
    }
    if !PROOF_ALGS.contains(&jws.alg()) {
        return invalid(format!(
            "the DPoP proof's alg {} is not accepted (ES256, EdDSA, RS256, PS256)",
            jws.alg()
        ));
    }
    let Some(Value::Object(members)) = jws.header().get("jwk") else {
        return invalid("the DPoP proof's header has no jwk object".to_owned());
    };
    if let Some(private) = PRIVATE_MEMBERS.iter().find(|m| members.contains_key(**m)) {
        return invalid(format!(
            "the DPoP proof's jwk has the private member `{private}`"
        ));
    }
    let Some(key) = Jwk::from_json(&Value::Object(members.clone())) else {
        return invalid("the DPoP proof's jwk is not a usable public key".to_owned());
    };
    if let Err(e) = jws.verify_key(&key) {
        return invalid(format!("the DPoP proof does not verify with its jwk: {e}"));
    }
    *jkt = Some(key.thumbprint());
    let Ok(Value::Object(claims)) = serde_json::from_slice::<Value>(jws.unverified_payload())
    else {
        return invalid("the DPoP proof's payload is not a JSON object".to_owned());
    };
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let Some(jti) = text("jti").filter(|j| !j.is_empty()) else {
        return invalid("the DPoP proof has no jti".to_owned());
    };
    if text("htm") != Some(req.method.as_str()) {
        return invalid(format!(
            "the DPoP proof's htm is not {} (the request's method)",
            req.method
        ));
    }
    match text("htu") {
        Some(htu) if htu.contains(['?', '#']) => {
            return invalid("the DPoP proof's htu must have no query and no fragment".to_owned());
        }
        Some(htu) if same_target(htu, &req.url) => {}
        Some(_) => {
            return invalid(format!(
                "the DPoP proof's htu is not {} (the request's URL without query and fragment)",
                req.url
            ));
        }
        None => return invalid("the DPoP proof has no htu".to_owned()),
    }
    let Some(iat) = claims.get("iat").and_then(Value::as_u64) else {
        return invalid("the DPoP proof has no numeric iat".to_owned());
    };
    let now = unix_secs(req.now);
    if iat.abs_diff(now) > IAT_WINDOW.as_secs() {
        return invalid(format!(
            "the DPoP proof's iat is more than {} s from the server's time",
            IAT_WINDOW.as_secs()
        ));
    }
    if let Some(token) = access_token {
        if text("ath") != Some(ath(token).as_str()) {
            return invalid(
                "the DPoP proof's ath is not the hash of the access token sent".to_owned(),
            );
        }
    }
    if state.dpop.nonce_required {
        let nonce = current_nonce(state);
        match text("nonce") {
            Some(sent) if sent == nonce => {}
            Some(_) => {
                return Err(ProofError::Nonce(
                    "the DPoP proof's nonce is not the current one".to_owned(),
                ));
            }
            None => {
                return Err(ProofError::Nonce(
                    "this server requires a nonce in DPoP proofs".to_owned(),
                ));
            }
        }
    }
    // Last, so that a proof refused for another reason does not use up its jti.
    let key = format!("{}:{jti}", jkt.as_deref().unwrap_or_default());
    let until = after(req.now, IAT_WINDOW * 2);
    if !state.dpop.jtis.first_use(&key, req.now, until) {
        return invalid("the DPoP proof's jti was already used (a replayed proof)".to_owned());
    }
    Ok(())
}

/// Whether the proof's `htu` names `url`: the same scheme, host, port and path (RFC 9449
/// §4.3 point 9, compared as RFC 3986 §6.2.2 and §6.2.3 normal forms by the URL parser).
fn same_target(htu: &str, url: &str) -> bool {
    let (Ok(htu), Ok(url)) = (url::Url::parse(htu), url::Url::parse(url)) else {
        return false;
    };
    htu.query().is_none()
        && htu.fragment().is_none()
        && htu.scheme() == url.scheme()
        && htu.host() == url.host()
        && htu.port_or_known_default() == url.port_or_known_default()
        && htu.path() == url.path()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn htu_is_compared_without_query_and_in_normal_form() {
        let url = "http://127.0.0.1:8080/token";
        assert!(same_target("http://127.0.0.1:8080/token", url));
        assert!(same_target("HTTP://127.0.0.1:8080/token", url));
        assert!(!same_target("http://127.0.0.1:8080/token?x=1", url));
        assert!(!same_target("http://127.0.0.1:8081/token", url));
        assert!(!same_target("https://127.0.0.1:8080/token", url));
        assert!(!same_target("http://127.0.0.1:8080/tokens", url));
        assert!(!same_target("/token", url));
        assert!(same_target(
            "https://a.example:443/x",
            "https://a.example/x"
        ));
    }
}
