//! The device authorization grant (RFC 8628): `POST /device_authorization`, the `GET /device`
//! verification page, the user's decision, and polling the token endpoint with
//! `authorization_pending` and `slow_down`.

use std::time::{Duration, SystemTime};

use serde_json::json;

use crate::client::{GrantType, MockClient};
use crate::clock::{after_secs, since};
use crate::endpoint::client_auth::authenticate;
use crate::shared::issue::{Grant, issue, refresh_plan};
use crate::shared::params::{Incoming, Params};
use crate::shared::records::{DeviceGrant, DeviceStatus};
use crate::shared::reply::Reply;
use crate::shared::rules::{check_audience, check_resources, resolve_scope};
use crate::shared::state::State;

/// How much sooner than the interval a poll may come before it gets `slow_down` (jitter
/// between the client's clock and ours).
const POLL_TOLERANCE: Duration = Duration::from_millis(250);
/// How much longer the interval gets with each `slow_down` (RFC 8628 §3.5).
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);

/// `POST /device_authorization` (RFC 8628 §3.1).
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
    if !client.allows(GrantType::DeviceCode) {
        return Reply::oauth_error(
            "unauthorized_client",
            "the client may not use the device authorization grant",
        );
    }
    if let Err(why) = check_audience(&client, p.get("audience"), false) {
        return Reply::oauth_error("invalid_request", &why);
    }
    let scope = match resolve_scope(&client, p.get("scope")) {
        Ok(scope) => scope,
        Err(why) => return Reply::oauth_error("invalid_scope", &why),
    };
    let resources = match check_resources(&client, &p.all("resource")) {
        Ok(resources) => resources,
        Err(why) => return Reply::oauth_error("invalid_target", &why),
    };
    let device_code = state.random_token("dc_");
    let user_code = new_user_code(state);
    let interval = state.config.device_interval;
    let expires_in = state.config.device_expires_in;
    state.devices.push(DeviceGrant {
        device_code: device_code.clone(),
        user_code: user_code.clone(),
        client_id: client.id,
        scope,
        resources,
        expires_at: after_secs(req.now, expires_in),
        interval: Duration::from_secs(interval),
        last_poll: None,
        status: DeviceStatus::Pending,
    });
    let verification_uri = format!("{}/device", state.base);
    Reply::json(
        200,
        &json!({
            "device_code": device_code,
            "user_code": user_code,
            "verification_uri": verification_uri,
            "verification_uri_complete": format!("{verification_uri}?user_code={user_code}"),
            "expires_in": expires_in,
            "interval": interval,
        }),
    )
}

/// `GET /device`: the verification page. With `user_code` it approves at once, as
/// `/authorize` does; without, it shows a form asking for the code.
pub(crate) fn page(state: &mut State, req: &Incoming) -> Reply {
    let Some(user_code) = req.params().get("user_code") else {
        let mut reply = Reply::html(200, "Device login", "Enter the code shown on your device.");
        let form = "<form method=\"get\"><input name=\"user_code\" autofocus>\
                    <button>Continue</button></form></body>";
        reply.body = String::from_utf8_lossy(&reply.body)
            .replace("</body>", form)
            .into_bytes();
        return reply;
    };
    if decide(state, user_code, true, req.now) {
        Reply::html(200, "Device approved", "You can go back to your device.")
    } else {
        Reply::html(
            400,
            "invalid_request",
            &format!("no device is waiting for the code `{user_code}`"),
        )
    }
}

/// Approves (or denies) the authorization still pending at `now` with this user code.
pub(crate) fn decide(state: &mut State, user_code: &str, approve: bool, now: SystemTime) -> bool {
    let wanted = normalize_user_code(user_code);
    let Some(grant) = state.devices.iter_mut().find(|g| {
        g.status == DeviceStatus::Pending
            && now < g.expires_at
            && normalize_user_code(&g.user_code) == wanted
    }) else {
        return false;
    };
    grant.status = if approve {
        DeviceStatus::Approved
    } else {
        DeviceStatus::Denied
    };
    true
}

/// The user codes still waiting for the user at `now`, oldest first.
pub(crate) fn pending_user_codes(state: &State, now: SystemTime) -> Vec<String> {
    state
        .devices
        .iter()
        .filter(|g| g.status == DeviceStatus::Pending && now < g.expires_at)
        .map(|g| g.user_code.clone())
        .collect()
}

/// The `device_code` grant at the token endpoint (RFC 8628 §3.4, §3.5).
pub(crate) fn poll(
    state: &mut State,
    client: &MockClient,
    p: &Params<'_>,
    now: SystemTime,
    jkt: Option<&str>,
) -> Reply {
    if !client.allows(GrantType::DeviceCode) {
        return Reply::oauth_error(
            "unauthorized_client",
            "the client may not use the device authorization grant",
        );
    }
    let Some(device_code) = p.get("device_code") else {
        return Reply::oauth_error("invalid_request", "the device_code parameter is missing");
    };
    let subject = state.user.sub.clone();
    let Some(grant) = state
        .devices
        .iter_mut()
        .find(|g| g.device_code == device_code)
    else {
        return Reply::oauth_error("invalid_grant", "unknown device code");
    };
    if grant.client_id != client.id {
        return Reply::oauth_error(
            "invalid_grant",
            "the device code was issued to another client",
        );
    }
    if grant.status == DeviceStatus::Used {
        return Reply::oauth_error("invalid_grant", "the device code was already used");
    }
    if now >= grant.expires_at {
        return Reply::oauth_error("expired_token", "the device code has expired");
    }
    let too_soon = grant
        .last_poll
        .is_some_and(|last| since(now, last) + POLL_TOLERANCE < grant.interval);
    grant.last_poll = Some(now);
    if too_soon {
        grant.interval = grant.interval.saturating_add(SLOW_DOWN_STEP);
        return Reply::oauth_error(
            "slow_down",
            &format!(
                "polling too fast; wait {} s between polls",
                grant.interval.as_secs()
            ),
        );
    }
    match grant.status {
        DeviceStatus::Pending => Reply::oauth_error(
            "authorization_pending",
            "the user has not approved the device yet",
        ),
        DeviceStatus::Denied => {
            grant.status = DeviceStatus::Used;
            Reply::oauth_error("access_denied", "the user denied the device")
        }
        DeviceStatus::Used => Reply::oauth_error("invalid_grant", "already used"),
        DeviceStatus::Approved => {
            grant.status = DeviceStatus::Used;
            let issued = Grant {
                scope: grant.scope.clone(),
                refresh_scope: grant.scope.clone(),
                resources: grant.resources.clone(),
                refresh_resources: grant.resources.clone(),
                subject,
                family: state.new_family(),
                id_token: None,
                jkt: jkt.map(str::to_owned),
            };
            let plan = refresh_plan(client, issued.scope.as_deref());
            Reply::json(200, &issue(state, client, &issued, plan, now))
        }
    }
}

/// A fresh `XXXX-XXXX` user code from the RFC 8628 §6.1 alphabet (no vowels, no digits).
fn new_user_code(state: &mut State) -> String {
    const ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
    let seed = state.random_token("");
    let mut code: String = seed
        .bytes()
        .take(8)
        .map(|b| char::from(ALPHABET[usize::from(b) % ALPHABET.len()]))
        .collect();
    code.insert(4, '-');
    code
}

/// A user code as typed: upper case, without separators.
fn normalize_user_code(code: &str) -> String {
    code.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_ignore_case_and_separators() {
        assert_eq!(normalize_user_code("wdjb-mjht"), "WDJBMJHT");
        assert_eq!(normalize_user_code(" WDJB MJHT "), "WDJBMJHT");
    }
}
