//! `POST /token` (RFC 6749 §3.2): the `authorization_code`, `client_credentials` and
//! `refresh_token` grants here; the device code (RFC 8628) and token exchange (RFC 8693)
//! grants in their own modules.

use std::time::SystemTime;

use crate::client::{GrantType, MockClient, ResponseStyle};
use crate::clock::since;
use crate::endpoint::client_auth::authenticate;
use crate::endpoint::{device, token_exchange};
use crate::shared::dpop;
use crate::shared::issue::{
    Grant, IdTokenFor, RefreshPlan, issue, new_refresh_token, refresh_plan,
};
use crate::shared::params::{Incoming, Params};
use crate::shared::records::Rotation;
use crate::shared::reply::Reply;
use crate::shared::rules::{
    check_audience, check_resources, is_pkce_string, narrow_resources, normalize_scope,
    pkce_matches, resolve_scope,
};
use crate::shared::state::State;

/// `POST /token`.
pub(crate) fn handle(state: &mut State, req: &Incoming) -> Reply {
    if req.method != "POST" {
        return Reply::method_not_allowed("POST");
    }
    let token_exchange = GrantType::TokenExchange.as_str();
    // RFC 8693 §2.1 lets token exchange repeat `audience` too.
    let repeatable: &[&str] = if req.params().get("grant_type") == Some(token_exchange) {
        &["resource", "audience"]
    } else {
        &["resource"]
    };
    let p = match req.unique_params(repeatable) {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    let client = match authenticate(state, req) {
        Ok(client) => client,
        Err(reply) => return reply,
    };
    // The proof is checked before the grant, so a refused proof uses up no code.
    let jkt = match dpop::verify(state, req, None) {
        Ok(jkt) => jkt,
        Err(e) => return e.at_server(state),
    };
    if client.require_dpop && jkt.is_none() {
        return Reply::oauth_error(
            "invalid_dpop_proof",
            &format!("client `{}` must send a DPoP proof", client.id),
        );
    }
    let now = req.now;
    let jkt = jkt.as_deref();
    match p.get("grant_type") {
        None => Reply::oauth_error("invalid_request", "the grant_type parameter is missing"),
        Some("authorization_code") => authorization_code(state, &client, &p, now, jkt),
        Some("client_credentials") => client_credentials(state, &client, &p, now, jkt),
        Some("refresh_token") => refresh_token(state, &client, &p, now, jkt),
        Some(grant) if grant == GrantType::DeviceCode.as_str() => {
            device::poll(state, &client, &p, now, jkt)
        }
        Some(grant) if grant == token_exchange => {
            token_exchange::exchange(state, &client, &p, now, jkt)
        }
        Some(other) => Reply::oauth_error(
            "unsupported_grant_type",
            &format!("grant_type `{other}` is not supported"),
        ),
    }
}

/// The `authorization_code` grant (RFC 6749 §4.1.3) with PKCE (RFC 7636 §4.5).
fn authorization_code(
    state: &mut State,
    client: &MockClient,
    p: &Params<'_>,
    now: SystemTime,
    jkt: Option<&str>,
) -> Reply {
    if !client.allows(GrantType::AuthorizationCode) {
        return Reply::oauth_error(
            "unauthorized_client",
            "the client may not use the authorization_code grant",
        );
    }
    let Some(code) = p.get("code") else {
        return Reply::oauth_error("invalid_request", "the code parameter is missing");
    };
    let Some(grant) = state.codes.get(code) else {
        return Reply::oauth_error("invalid_grant", "unknown authorization code");
    };
    if grant.used {
        let family = grant.family;
        state.revoke_family(family);
        return Reply::oauth_error(
            "invalid_grant",
            "the authorization code was already used; every token issued from it is revoked",
        );
    }
    if now >= grant.expires_at {
        return Reply::oauth_error("invalid_grant", "the authorization code has expired");
    }
    if grant.client_id != client.id {
        return Reply::oauth_error(
            "invalid_grant",
            "the authorization code was issued to another client",
        );
    }
    let redirect_error = match (&grant.redirect_uri_sent, p.get("redirect_uri")) {
        (Some(sent), Some(given)) if sent == given => None,
        (Some(_), Some(_)) => {
            Some("redirect_uri differs from the one in the authorization request")
        }
        (Some(_), None) => Some("redirect_uri is required: the authorization request included one"),
        (None, Some(given)) if given != grant.redirect_uri => {
            Some("redirect_uri differs from the client's registered redirect URI")
        }
        (None, _) => None,
    };
    if let Some(why) = redirect_error {
        return Reply::oauth_error("invalid_grant", why);
    }
    if let Err(why) = check_audience(client, p.get("audience"), true) {
        return Reply::oauth_error("invalid_request", &why);
    }
    match (&grant.challenge, p.get("code_verifier")) {
        (None, None) => {}
        (None, Some(_)) => {
            return Reply::oauth_error(
                "invalid_grant",
                "code_verifier was sent but the authorization request had no code_challenge",
            );
        }
        (Some(_), None) => {
            return Reply::oauth_error(
                "invalid_request",
                "the code_verifier parameter is missing (the authorization request used PKCE)",
            );
        }
        (Some((challenge, method)), Some(verifier)) => {
            if !is_pkce_string(verifier) {
                return Reply::oauth_error(
                    "invalid_request",
                    "code_verifier must be 43 to 128 unreserved characters",
                );
            }
            if !pkce_matches(challenge, *method, verifier) {
                return Reply::oauth_error(
                    "invalid_grant",
                    "PKCE verification failed: code_verifier does not match code_challenge",
                );
            }
        }
    }
    // RFC 9449 §10: a code requested with dpop_jkt is exchanged only with a proof of that key.
    match (&grant.dpop_jkt, jkt) {
        (None, _) => {}
        (Some(_), None) => {
            return Reply::oauth_error(
                "invalid_dpop_proof",
                "the authorization request had dpop_jkt: the code exchange needs a DPoP proof",
            );
        }
        (Some(expected), Some(jkt)) if expected != jkt => {
            return Reply::oauth_error(
                "invalid_dpop_proof",
                "the DPoP proof's key is not the one dpop_jkt named in the authorization request",
            );
        }
        (Some(_), Some(_)) => {}
    }
    let resources = match narrow_resources(client, &grant.resources, &p.all("resource")) {
        Ok(resources) => resources,
        Err(why) => return Reply::oauth_error("invalid_target", &why),
    };
    let issued = Grant {
        jkt: jkt.map(str::to_owned),
        scope: grant.scope.clone(),
        refresh_scope: grant.scope.clone(),
        resources,
        refresh_resources: grant.resources.clone(),
        subject: state.user.sub.clone(),
        family: grant.family,
        id_token: Some(IdTokenFor {
            nonce: grant.nonce.clone(),
            auth_time: grant.auth_time,
        }),
    };
    if let Some(grant) = state.codes.get_mut(code) {
        grant.used = true;
    }
    let plan = refresh_plan(client, issued.scope.as_deref());
    Reply::json(200, &issue(state, client, &issued, plan, now))
}

/// The `client_credentials` grant (RFC 6749 §4.4).
fn client_credentials(
    state: &mut State,
    client: &MockClient,
    p: &Params<'_>,
    now: SystemTime,
    jkt: Option<&str>,
) -> Reply {
    if !client.allows(GrantType::ClientCredentials) {
        return Reply::oauth_error(
            "unauthorized_client",
            "the client may not use the client_credentials grant",
        );
    }
    if let Err(why) = check_audience(client, p.get("audience"), true) {
        return Reply::oauth_error("invalid_request", &why);
    }
    let scope = match resolve_scope(client, p.get("scope")) {
        Ok(scope) => scope,
        Err(why) => return Reply::oauth_error("invalid_scope", &why),
    };
    let resources = match check_resources(client, &p.all("resource")) {
        Ok(resources) => resources,
        Err(why) => return Reply::oauth_error("invalid_target", &why),
    };
    let issued = Grant {
        scope,
        refresh_scope: None,
        resources,
        refresh_resources: Vec::new(),
        subject: client.id.clone(),
        family: state.new_family(),
        id_token: None,
        jkt: jkt.map(str::to_owned),
    };
    Reply::json(200, &issue(state, client, &issued, RefreshPlan::None, now))
}

/// The `refresh_token` grant (RFC 6749 §6), with rotation when the client asks for it, and
/// then reuse detection: a rotated refresh token presented again within the client's
/// [grace period](MockClient::refresh_reuse_grace) repeats the refresh (a new access token,
/// and the newest refresh token of the chain back, nothing rotated or revoked); after it, it
/// is taken for a stolen token and the whole grant is revoked.
fn refresh_token(
    state: &mut State,
    client: &MockClient,
    p: &Params<'_>,
    now: SystemTime,
    jkt: Option<&str>,
) -> Reply {
    if !client.allows(GrantType::RefreshToken) {
        return Reply::oauth_error(
            "unauthorized_client",
            "the client may not use the refresh_token grant",
        );
    }
    let Some(presented) = p.get("refresh_token") else {
        return Reply::oauth_error("invalid_request", "the refresh_token parameter is missing");
    };
    let Some(record) = state.refresh.get(presented) else {
        return Reply::oauth_error("invalid_grant", "unknown refresh token");
    };
    if record.revoked {
        return Reply::oauth_error("invalid_grant", "the refresh token was revoked");
    }
    if record.client_id != client.id {
        return Reply::oauth_error(
            "invalid_grant",
            "the refresh token was issued to another client",
        );
    }
    // RFC 9449 §5: a bound refresh token is used only with a proof of its key; an unbound
    // one may be refreshed into a bound access token.
    match (&record.jkt, jkt) {
        (Some(_), None) => {
            return Reply::oauth_error(
                "invalid_dpop_proof",
                "the refresh token is DPoP-bound: the refresh needs a DPoP proof of its key",
            );
        }
        (Some(bound), Some(jkt)) if bound != jkt => {
            return Reply::oauth_error(
                "invalid_dpop_proof",
                "the DPoP proof's key is not the one the refresh token is bound to",
            );
        }
        _ => {}
    }
    let bound_to = record.jkt.clone().or_else(|| jkt.map(str::to_owned));
    // A rotated token: within the grace period the refresh is repeated and answered with the
    // newest refresh token of the chain, which must still be live.
    let mut repeated = None;
    if let Some(rotation) = &record.rotated {
        let grace = client.refresh_reuse_grace;
        if since(now, rotation.at) >= grace {
            let family = record.family;
            state.refresh_reuse_count += 1;
            if !client.detect_refresh_reuse {
                return Reply::oauth_error(
                    "invalid_grant",
                    "the refresh token was already used and rotated",
                );
            }
            state.revoke_family(family);
            return Reply::oauth_error(
                "invalid_grant",
                "refresh token reuse: the refresh token was already used and rotated, so the \
                 grant is revoked with every access and refresh token issued from it",
            );
        }
        let head = state.rotation_head(presented);
        if state.live_refresh_token(head).is_none() {
            return Reply::oauth_error("invalid_grant", "the refresh token was revoked");
        }
        repeated = Some(head.to_owned());
    }
    if let Err(why) = check_audience(client, p.get("audience"), false) {
        return Reply::oauth_error("invalid_request", &why);
    }
    let granted = record.scope.clone();
    let resources = match narrow_resources(client, &record.resources, &p.all("resource")) {
        Ok(resources) => resources,
        Err(why) => return Reply::oauth_error("invalid_target", &why),
    };
    let access_scope = match p.get("scope") {
        None => granted.clone(),
        Some(requested) => {
            let allowed: Vec<&str> = granted.as_deref().unwrap_or("").split(' ').collect();
            if let Some(extra) = requested
                .split(' ')
                .find(|s| !s.is_empty() && !allowed.contains(s))
            {
                return Reply::oauth_error(
                    "invalid_scope",
                    &format!("scope `{extra}` exceeds the scope originally granted"),
                );
            }
            Some(normalize_scope(requested))
        }
    };
    let issued = Grant {
        scope: access_scope,
        refresh_scope: granted,
        resources,
        refresh_resources: record.resources.clone(),
        subject: record.subject.clone(),
        family: record.family,
        // OpenID Connect Core §12.2: no nonce in a refreshed ID token.
        id_token: record.auth_time.map(|auth_time| IdTokenFor {
            nonce: None,
            auth_time,
        }),
        jkt: bound_to,
    };
    let plan = if let Some(head) = repeated {
        state.refresh_grace_count += 1;
        RefreshPlan::Keep(head)
    } else if client.rotate_refresh_tokens {
        let successor = new_refresh_token(state, client, &issued, now);
        if let Some(old) = state.refresh.get_mut(presented) {
            old.rotated = Some(Rotation {
                at: now,
                successor: successor.clone(),
            });
        }
        RefreshPlan::Keep(successor)
    } else if client.style == ResponseStyle::Auth0 {
        RefreshPlan::None
    } else {
        RefreshPlan::Keep(presented.to_owned())
    };
    state.refresh_count += 1;
    Reply::json(200, &issue(state, client, &issued, plan, now))
}
