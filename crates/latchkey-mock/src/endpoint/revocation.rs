//! `POST /revoke`, token revocation (RFC 7009): a client revokes its own access or refresh
//! token; revoking a refresh token revokes its whole grant, the access tokens and the refresh
//! tokens rotated from the same authorization included (§2.1).

use crate::endpoint::client_auth::authenticate;
use crate::shared::params::Incoming;
use crate::shared::reply::Reply;
use crate::shared::state::State;

/// `POST /revoke`. Unknown tokens and other clients' tokens are answered `200` all the same
/// (RFC 7009 §2.2) and left alone.
pub(crate) fn handle(state: &mut State, req: &Incoming) -> Reply {
    if req.method != "POST" {
        return Reply::method_not_allowed("POST");
    }
    if let Some(why) = &req.decode_error {
        return Reply::oauth_error("invalid_request", why);
    }
    let client = match authenticate(state, req) {
        Ok(client) => client,
        Err(reply) => return reply,
    };
    let Some(token) = req.params().get("token") else {
        return Reply::oauth_error("invalid_request", "the token parameter is missing");
    };
    if let Some(record) = state.access.get_mut(token) {
        if record.client_id == client.id {
            record.revoked = true;
        }
    }
    let family = state
        .refresh
        .get(token)
        .filter(|record| record.client_id == client.id)
        .map(|record| record.family);
    if let Some(family) = family {
        state.revoke_family(family);
    }
    Reply {
        status: 200,
        headers: vec![("cache-control", "no-store".to_owned())],
        body: Vec::new(),
    }
}
