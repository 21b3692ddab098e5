//! `GET|POST /userinfo`: the user's claims for a live access token, sent as `Bearer`
//! (RFC 6750) or, for a DPoP-bound token, as `DPoP` with a proof whose `ath` is the token's
//! hash (RFC 9449 §7). A bound token sent as `Bearer`, or with another key's proof, is
//! refused.

use crate::shared::dpop::{self, dpop_challenge};
use crate::shared::params::Incoming;
use crate::shared::reply::Reply;
use crate::shared::state::State;

/// `GET|POST /userinfo`.
pub(crate) fn handle(state: &mut State, req: &Incoming) -> Reply {
    if req.method != "GET" && req.method != "POST" {
        return Reply::method_not_allowed("GET, POST");
    }
    let Some(value) = &req.authorization else {
        return Reply::invalid_token("no bearer token was sent");
    };
    let (scheme, token) = value.trim().split_once(' ').unwrap_or((value, ""));
    let token = token.trim();
    if scheme.eq_ignore_ascii_case("dpop") {
        return with_proof(state, req, token);
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Reply::invalid_token("the Authorization header is not a Bearer token");
    }
    match state.live_access_token(token, req.now) {
        Ok(record) if record.jkt.is_some() => dpop_challenge(
            "invalid_token",
            "the access token is DPoP-bound: send it as Authorization: DPoP with a proof",
        ),
        Ok(_) => Reply::json(200, &state.user.claims()),
        Err(why) => Reply::invalid_token(why),
    }
}

/// `Authorization: DPoP <token>` with a `DPoP` proof of the token's key.
fn with_proof(state: &mut State, req: &Incoming, token: &str) -> Reply {
    if req.dpop.is_empty() {
        return dpop_challenge(
            "invalid_dpop_proof",
            "Authorization: DPoP needs a DPoP proof header",
        );
    }
    let jkt = match dpop::verify(state, req, Some(token)) {
        Ok(jkt) => jkt,
        Err(e) => return e.at_resource(state),
    };
    match state.live_access_token(token, req.now) {
        Ok(record) => match &record.jkt {
            None => dpop_challenge(
                "invalid_token",
                "the access token is not DPoP-bound: send it as Bearer",
            ),
            Some(bound) if Some(bound) != jkt.as_ref() => dpop_challenge(
                "invalid_token",
                "the DPoP proof's key is not the one the access token is bound to",
            ),
            Some(_) => Reply::json(200, &state.user.claims()),
        },
        Err(why) => dpop_challenge("invalid_token", why),
    }
}
