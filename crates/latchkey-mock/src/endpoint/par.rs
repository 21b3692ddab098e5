//! `POST /par`, pushed authorization requests (RFC 9126): the client pushes its
//! authorization request and gets a one-time `request_uri` for `/authorize`.

use std::time::{Duration, SystemTime};

use serde_json::json;

use crate::clock::after;
use crate::endpoint::client_auth::authenticate;
use crate::shared::dpop;
use crate::shared::params::Incoming;
use crate::shared::records::Pushed;
use crate::shared::reply::Reply;
use crate::shared::rules::check_redirect_uri;
use crate::shared::state::State;

/// How long a pushed request's `request_uri` may be used.
pub(crate) const PUSHED_LIFETIME: Duration = Duration::from_secs(60);
/// The `request_uri` prefix of RFC 9126 §2.2.
const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// `POST /par`.
pub(crate) fn handle(state: &mut State, req: &Incoming) -> Reply {
    if req.method != "POST" {
        return Reply::method_not_allowed("POST");
    }
    let p = match req.unique_params(&[]) {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    let client = match authenticate(state, req) {
        Ok(client) => client,
        Err(reply) => return reply,
    };
    // RFC 9449 §10.1: a proof at PAR binds the code to its key, as dpop_jkt does; with both,
    // they must name the same key.
    let proof_jkt = match dpop::verify(state, req, None) {
        Ok(jkt) => jkt,
        Err(e) => return e.at_server(state),
    };
    if let (Some(proof), Some(param)) = (&proof_jkt, p.get("dpop_jkt")) {
        if proof != param {
            return Reply::oauth_error(
                "invalid_dpop_proof",
                "dpop_jkt is not the thumbprint of the DPoP proof's key",
            );
        }
    }
    if p.get("request_uri").is_some() {
        return Reply::oauth_error(
            "invalid_request",
            "request_uri must not be pushed (RFC 9126 §2.1)",
        );
    }
    if p.get("response_type").is_none() {
        return Reply::oauth_error("invalid_request", "the response_type parameter is missing");
    }
    match p.get("redirect_uri") {
        Some(uri) => {
            if let Err(why) = check_redirect_uri(&client, uri) {
                return Reply::oauth_error("invalid_request", &why);
            }
        }
        None if client.redirect_uris.len() != 1 => {
            return Reply::oauth_error(
                "invalid_request",
                "the redirect_uri parameter is missing and the client has not exactly one registered",
            );
        }
        None => {}
    }
    // The rest is checked when the request_uri is used (RFC 9126 §2.1 allows that).
    let mut params: Vec<(String, String)> = req
        .params
        .iter()
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                "client_id" | "client_secret" | "client_assertion" | "client_assertion_type"
            )
        })
        .cloned()
        .collect();
    params.insert(0, ("client_id".to_owned(), client.id.clone()));
    if let (Some(jkt), None) = (proof_jkt, p.get("dpop_jkt")) {
        params.push(("dpop_jkt".to_owned(), jkt));
    }
    let request_uri = format!("{REQUEST_URI_PREFIX}{}", state.random_token(""));
    state.pushed.insert(
        request_uri.clone(),
        Pushed {
            client_id: client.id,
            params,
            expires_at: after(req.now, PUSHED_LIFETIME),
        },
    );
    Reply::json(
        201,
        &json!({ "request_uri": request_uri, "expires_in": PUSHED_LIFETIME.as_secs() }),
    )
}

/// The parameters pushed under `request_uri`, once (RFC 9126 §4), for `client_id`; an HTML
/// error page for `/authorize` otherwise.
pub(crate) fn take_pushed(
    state: &mut State,
    request_uri: &str,
    client_id: Option<&str>,
    now: SystemTime,
) -> Result<Vec<(String, String)>, Reply> {
    state.pushed.retain(|_, pushed| now < pushed.expires_at);
    let Some(pushed) = state.pushed.get(request_uri) else {
        return Err(Reply::html(
            400,
            "invalid_request_uri",
            "the request_uri is unknown, expired or already used",
        ));
    };
    if client_id != Some(pushed.client_id.as_str()) {
        return Err(Reply::html(
            400,
            "invalid_request",
            "the client_id does not match the pushed authorization request",
        ));
    }
    Ok(state
        .pushed
        .remove(request_uri)
        .map(|pushed| pushed.params)
        .unwrap_or_default())
}
