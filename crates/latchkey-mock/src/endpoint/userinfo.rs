//! `GET|POST /userinfo`: the user's claims for a live bearer token (RFC 6750 errors).

use crate::shared::params::Incoming;
use crate::shared::reply::Reply;
use crate::shared::state::State;

/// `GET|POST /userinfo`.
pub(crate) fn handle(state: &State, req: &Incoming) -> Reply {
    if req.method != "GET" && req.method != "POST" {
        return Reply::method_not_allowed("GET, POST");
    }
    let Some(value) = &req.authorization else {
        return Reply::invalid_token("no bearer token was sent");
    };
    let (scheme, token) = value.trim().split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Reply::invalid_token("the Authorization header is not a Bearer token");
    }
    match state.live_access_token(token.trim(), req.now) {
        Ok(_) => Reply::json(200, &state.user.claims()),
        Err(why) => Reply::invalid_token(why),
    }
}
