//! `POST /introspect`, token introspection (RFC 7662): `active`, and for a live token its
//! scope, client, subject, audience, issuer and times.

use serde_json::{Map, Value, json};

use crate::client::AuthMethod;
use crate::clock::unix_secs;
use crate::endpoint::client_auth::authenticate;
use crate::shared::params::Incoming;
use crate::shared::reply::Reply;
use crate::shared::state::State;

/// `POST /introspect`.
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
    let inactive = || Reply::json(200, &json!({ "active": false }));
    // A public client may only ask about its own tokens; a confidential one about any.
    let confidential = client.effective_auth_method() != AuthMethod::None;
    let may_see = |owner: &str| confidential || owner == client.id;
    let mut claims = Map::new();
    let mut put = |k: &str, v: Value| {
        claims.insert(k.to_owned(), v);
    };
    if state.access.contains_key(token) {
        let Ok(record) = state.live_access_token(token, req.now) else {
            return inactive();
        };
        if !may_see(&record.client_id) {
            return inactive();
        }
        let issued_at = unix_secs(record.issued_at);
        put("active", true.into());
        if let Some(scope) = &record.scope {
            put("scope", scope.clone().into());
        }
        put("client_id", record.client_id.clone().into());
        match &record.jkt {
            // RFC 9449 §6.2: a bound token's confirmation is its key's thumbprint.
            Some(jkt) => {
                put("token_type", "DPoP".into());
                put("cnf", json!({ "jkt": jkt }));
            }
            None => put("token_type", "Bearer".into()),
        }
        put("exp", issued_at.saturating_add(record.lifetime).into());
        put("iat", issued_at.into());
        put("sub", record.subject.clone().into());
        put_audience(&mut put, &record.resources);
    } else if state.refresh.contains_key(token) {
        let Some(record) = state.live_refresh_token(token) else {
            return inactive();
        };
        if !may_see(&record.client_id) {
            return inactive();
        }
        put("active", true.into());
        if let Some(scope) = &record.scope {
            put("scope", scope.clone().into());
        }
        put("client_id", record.client_id.clone().into());
        put("token_type", "refresh_token".into());
        if let Some(jkt) = &record.jkt {
            put("cnf", json!({ "jkt": jkt }));
        }
        put("iat", unix_secs(record.issued_at).into());
        put("sub", record.subject.clone().into());
        put_audience(&mut put, &record.resources);
    } else {
        return inactive();
    }
    put("iss", state.issuer.clone().into());
    Reply::json(200, &Value::Object(claims))
}

/// `aud`: one string for one audience, an array for several, nothing for none (RFC 7662 §2.2).
fn put_audience(put: &mut impl FnMut(&str, Value), resources: &[String]) {
    match resources {
        [] => {}
        [one] => put("aud", one.clone().into()),
        many => put("aud", many.to_vec().into()),
    }
}
