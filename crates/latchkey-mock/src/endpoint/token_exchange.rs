//! The token exchange grant (RFC 8693) at the token endpoint: a live access or refresh token
//! is exchanged for a new access or refresh token, with `resource` and `audience`.

use std::time::SystemTime;

use serde_json::{Map, Value};

use crate::client::{GrantType, MockClient};
use crate::shared::issue::{Grant, new_access_token, new_refresh_token};
use crate::shared::params::Params;
use crate::shared::reply::Reply;
use crate::shared::rules::{check_resources, resolve_scope};
use crate::shared::state::State;

/// RFC 8693 §3 token type identifiers the mock understands.
const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
const REFRESH_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:refresh_token";

/// `grant_type=urn:ietf:params:oauth:grant-type:token-exchange`.
pub(crate) fn exchange(
    state: &mut State,
    client: &MockClient,
    p: &Params<'_>,
    now: SystemTime,
    jkt: Option<&str>,
) -> Reply {
    let invalid = |why: &str| Reply::oauth_error("invalid_request", why);
    if !client.allows(GrantType::TokenExchange) {
        return Reply::oauth_error(
            "unauthorized_client",
            "the client may not use the token exchange grant",
        );
    }
    let (Some(subject_token), Some(subject_type)) =
        (p.get("subject_token"), p.get("subject_token_type"))
    else {
        return invalid("subject_token and subject_token_type are required (RFC 8693 §2.1)");
    };
    let (subject, subject_scope) = match exchanged_token(state, subject_token, subject_type, now) {
        Ok(found) => found,
        Err(why) => return invalid(&format!("the subject_token {why}")),
    };
    match (p.get("actor_token"), p.get("actor_token_type")) {
        (None, None) => {}
        (Some(actor), Some(kind)) => {
            if let Err(why) = exchanged_token(state, actor, kind, now) {
                return invalid(&format!("the actor_token {why}"));
            }
        }
        _ => return invalid("actor_token and actor_token_type go together (RFC 8693 §2.1)"),
    }
    let scope = match p.get("scope") {
        None => subject_scope,
        Some(_) => match resolve_scope(client, p.get("scope")) {
            Ok(scope) => scope,
            Err(why) => return Reply::oauth_error("invalid_scope", &why),
        },
    };
    let mut resources = match check_resources(client, &p.all("resource")) {
        Ok(resources) => resources,
        Err(why) => return Reply::oauth_error("invalid_target", &why),
    };
    resources.extend(p.all("audience").into_iter().map(str::to_owned));
    let issued = Grant {
        scope: scope.clone(),
        refresh_scope: scope.clone(),
        resources: resources.clone(),
        refresh_resources: resources,
        subject,
        // An exchanged token starts a grant of its own.
        family: state.new_family(),
        id_token: None,
        jkt: jkt.map(str::to_owned),
    };
    let mut body = Map::new();
    match p.get("requested_token_type").unwrap_or(ACCESS_TOKEN_TYPE) {
        ACCESS_TOKEN_TYPE => {
            let token = new_access_token(state, client, &issued, now);
            body.insert("access_token".into(), token.into());
            body.insert("issued_token_type".into(), ACCESS_TOKEN_TYPE.into());
            let bound = jkt.is_some() && !state.dpop.answer_bearer;
            body.insert(
                "token_type".into(),
                if bound { "DPoP" } else { "Bearer" }.into(),
            );
            body.insert("expires_in".into(), client.expires_in.into());
        }
        REFRESH_TOKEN_TYPE => {
            // RFC 8693 §2.2.1: a token that is not an access token goes in `access_token`
            // all the same, with token_type "N_A".
            let token = new_refresh_token(state, client, &issued, now);
            body.insert("access_token".into(), token.into());
            body.insert("issued_token_type".into(), REFRESH_TOKEN_TYPE.into());
            body.insert("token_type".into(), "N_A".into());
        }
        other => {
            return invalid(&format!(
                "requested_token_type `{other}` is not supported (access_token or refresh_token)"
            ));
        }
    }
    if let Some(scope) = scope {
        body.insert("scope".into(), scope.into());
    }
    Reply::json(200, &Value::Object(body))
}

/// The subject (`sub`) and scope of a token given to token exchange, if it is live at `now`.
fn exchanged_token(
    state: &State,
    token: &str,
    kind: &str,
    now: SystemTime,
) -> Result<(String, Option<String>), String> {
    match kind {
        ACCESS_TOKEN_TYPE => state
            .live_access_token(token, now)
            .map(|record| (record.subject.clone(), record.scope.clone()))
            .map_err(|_| "is not an active access token".to_owned()),
        REFRESH_TOKEN_TYPE => state
            .live_refresh_token(token)
            .map(|record| (record.subject.clone(), record.scope.clone()))
            .ok_or_else(|| "is not an active refresh token".to_owned()),
        other => Err(format!(
            "has type `{other}`, which latchkey-mock does not accept (access_token or refresh_token)"
        )),
    }
}
