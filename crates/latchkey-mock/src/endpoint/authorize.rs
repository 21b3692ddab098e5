//! `GET /authorize` (RFC 6749 §4.1.1, §4.2.1): approves at once for the configured user,
//! with PKCE (RFC 7636), `audience`, resource indicators (RFC 8707), pushed requests
//! (RFC 9126) and `iss` (RFC 9207). Errors before the redirect URI is trusted are HTML
//! pages; after it, redirects back to the client.

use std::time::{Duration, SystemTime};

use crate::client::{GrantType, MockClient};
use crate::clock::after;
use crate::endpoint::par;
use crate::shared::issue::{Grant, new_access_token};
use crate::shared::params::{Incoming, Params};
use crate::shared::records::{ChallengeMethod, CodeGrant};
use crate::shared::reply::Reply;
use crate::shared::rules::{
    check_audience, check_redirect_uri, check_resources, is_pkce_string, redirect_location,
    resolve_scope,
};
use crate::shared::state::State;

/// How long an authorization code may be exchanged.
pub(crate) const CODE_LIFETIME: Duration = Duration::from_secs(600);

/// `GET /authorize`.
pub(crate) fn handle(state: &mut State, req: &Incoming) -> Reply {
    if req.method != "GET" && req.method != "HEAD" {
        return Reply::method_not_allowed("GET");
    }
    let p = req.params();
    match p.get("request_uri") {
        Some(request_uri) => {
            match par::take_pushed(state, request_uri, p.get("client_id"), req.now) {
                Ok(pushed) => authorize(state, &pushed, true, req.now),
                Err(reply) => reply,
            }
        }
        None => authorize(state, &req.params, false, req.now),
    }
}

/// Where a validated authorization request is answered.
struct Answer {
    redirect_uri: String,
    state: Option<String>,
    iss: Option<String>,
    in_fragment: bool,
}

impl Answer {
    /// An error redirected to the client (RFC 6749 §4.1.2.1).
    fn fail(&self, error: &str, description: &str) -> Reply {
        let pairs = vec![
            ("error", error.to_owned()),
            ("error_description", description.to_owned()),
        ];
        self.send(pairs, self.in_fragment)
    }

    /// `pairs` plus `state` and `iss`, in the query or the fragment.
    fn send(&self, mut pairs: Vec<(&'static str, String)>, in_fragment: bool) -> Reply {
        if let Some(state) = &self.state {
            pairs.push(("state", state.clone()));
        }
        if let Some(iss) = &self.iss {
            pairs.push(("iss", iss.clone()));
        }
        Reply::redirect(redirect_location(&self.redirect_uri, &pairs, in_fragment))
    }
}

/// The authorization request proper; `pushed` when its parameters came through PAR.
fn authorize(
    state: &mut State,
    params: &[(String, String)],
    pushed: bool,
    now: SystemTime,
) -> Reply {
    let p = Params(params);
    let (client, redirect_uri_sent, redirect_uri) = match trusted_redirect(state, &p) {
        Ok(found) => found,
        Err(page) => return page,
    };
    let response_type = p.get("response_type");
    let answer = Answer {
        redirect_uri: redirect_uri.clone(),
        state: p.get("state").map(str::to_owned),
        iss: state.config.issuer_parameter.then(|| state.issuer.clone()),
        in_fragment: response_type == Some("token"),
    };
    if state.config.require_par && !pushed {
        return answer.fail(
            "invalid_request",
            "this server accepts only pushed authorization requests (RFC 9126): use the PAR endpoint",
        );
    }
    if let Some(name) = p.duplicate() {
        return answer.fail(
            "invalid_request",
            &format!("the {name} parameter was sent more than once"),
        );
    }
    let grant = match response_type {
        None => return answer.fail("invalid_request", "the response_type parameter is missing"),
        Some("code") => GrantType::AuthorizationCode,
        Some("token") => GrantType::Implicit,
        Some(other) => {
            return answer.fail(
                "unsupported_response_type",
                &format!("response_type `{other}` is not supported"),
            );
        }
    };
    if !client.allows(grant) {
        return answer.fail(
            "unauthorized_client",
            &format!("the client may not use the {} grant", grant.as_str()),
        );
    }
    if let Err(why) = check_audience(&client, p.get("audience"), true) {
        return answer.fail("invalid_request", &why);
    }
    let scope = match resolve_scope(&client, p.get("scope")) {
        Ok(scope) => scope,
        Err(why) => return answer.fail("invalid_scope", &why),
    };
    let resources = match check_resources(&client, &p.all("resource")) {
        Ok(resources) => resources,
        Err(why) => return answer.fail("invalid_target", &why),
    };
    let challenge = if grant == GrantType::AuthorizationCode {
        match challenge(&client, &p) {
            Ok(challenge) => challenge,
            Err(why) => return answer.fail("invalid_request", &why),
        }
    } else {
        None
    };
    if let Some(error) = state.deny_next.pop_front() {
        return answer.fail(&error, "the authorization request was denied");
    }

    if grant == GrantType::Implicit {
        let issued = Grant {
            scope: scope.clone(),
            refresh_scope: None,
            resources,
            refresh_resources: Vec::new(),
            subject: state.user.sub.clone(),
            family: state.new_family(),
            id_token: None,
            jkt: None,
        };
        let token = new_access_token(state, &client, &issued, now);
        let mut pairs = vec![
            ("access_token", token),
            ("token_type", "Bearer".to_owned()),
            ("expires_in", client.expires_in.to_string()),
        ];
        if let Some(scope) = scope {
            pairs.push(("scope", scope));
        }
        return answer.send(pairs, true);
    }

    let code = state.random_token("code_");
    let family = state.new_family();
    state.codes.insert(
        code.clone(),
        CodeGrant {
            client_id: client.id.clone(),
            redirect_uri_sent,
            redirect_uri,
            scope,
            resources,
            challenge,
            expires_at: after(now, CODE_LIFETIME),
            used: false,
            family,
            nonce: p.get("nonce").map(str::to_owned),
            auth_time: now,
            dpop_jkt: p.get("dpop_jkt").map(str::to_owned),
        },
    );
    answer.send(vec![("code", code)], false)
}

/// The client and the redirect URI it may be sent to: the one in the request, checked, or
/// its only registered one. Anything wrong here is shown to the user, never redirected.
fn trusted_redirect(
    state: &State,
    p: &Params<'_>,
) -> Result<(MockClient, Option<String>, String), Reply> {
    for name in ["client_id", "redirect_uri"] {
        if p.count(name) > 1 {
            return Err(Reply::html(
                400,
                "invalid_request",
                &format!("the {name} parameter was sent more than once"),
            ));
        }
    }
    let Some(client_id) = p.get("client_id") else {
        return Err(Reply::html(
            400,
            "invalid_request",
            "the client_id parameter is missing",
        ));
    };
    let Some(client) = state.clients.get(client_id).cloned() else {
        return Err(Reply::html(
            400,
            "invalid_client",
            &format!("unknown client_id `{client_id}`"),
        ));
    };
    let sent = p.get("redirect_uri").map(str::to_owned);
    let used = match &sent {
        Some(uri) => {
            check_redirect_uri(&client, uri)
                .map_err(|why| Reply::html(400, "invalid_request", &why))?;
            uri.clone()
        }
        None => match client.redirect_uris.as_slice() {
            [only] => only.clone(),
            _ => {
                return Err(Reply::html(
                    400,
                    "invalid_request",
                    "the redirect_uri parameter is missing and the client has not exactly one registered",
                ));
            }
        },
    };
    Ok((client, sent, used))
}

/// The PKCE challenge of a code request (RFC 7636 §4.3), if any.
fn challenge(
    client: &MockClient,
    p: &Params<'_>,
) -> Result<Option<(String, ChallengeMethod)>, String> {
    match (p.get("code_challenge"), p.get("code_challenge_method")) {
        (None, Some(_)) => Err("code_challenge_method was sent without code_challenge".to_owned()),
        (None, None) if client.require_pkce => {
            Err("PKCE is required: send code_challenge and code_challenge_method".to_owned())
        }
        (None, None) => Ok(None),
        (Some(challenge), method) => {
            let method = match method.unwrap_or("plain") {
                "S256" => ChallengeMethod::S256,
                "plain" => ChallengeMethod::Plain,
                other => {
                    return Err(format!(
                        "code_challenge_method `{other}` is not supported; use S256 or plain"
                    ));
                }
            };
            if !is_pkce_string(challenge) {
                return Err("code_challenge must be 43 to 128 unreserved characters".to_owned());
            }
            Ok(Some((challenge.to_owned(), method)))
        }
    }
}
