//! The RFCs past RFC 6749: the device authorization grant (RFC 8628), token introspection
//! (RFC 7662), pushed authorization requests (RFC 9126) and token exchange (RFC 8693).

use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use super::{
    Grant, GrantType, Incoming, MockClient, Params, Reply, State, check_audience,
    check_redirect_uri, check_resources, refresh_plan, resolve_scope,
};

/// How long a pushed request's `request_uri` may be used.
const PUSHED_LIFETIME: Duration = Duration::from_secs(60);
/// How much sooner than the interval a poll may come before it gets `slow_down` (network
/// jitter between the client's clock and ours).
const POLL_TOLERANCE: Duration = Duration::from_millis(250);
/// The `request_uri` prefix of RFC 9126 §2.2.
const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";
/// RFC 8693 §3 token type identifiers the mock understands.
const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
const REFRESH_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:refresh_token";

/// Where a device authorization stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DeviceStatus {
    Pending,
    Approved,
    Denied,
    Used,
}

/// A device authorization (RFC 8628 §3.2) waiting for the user.
#[derive(Debug)]
pub(super) struct DeviceGrant {
    device_code: String,
    user_code: String,
    client_id: String,
    scope: Option<String>,
    resources: Vec<String>,
    expires_at: Instant,
    interval: Duration,
    last_poll: Option<Instant>,
    status: DeviceStatus,
}

/// A pushed authorization request (RFC 9126 §2), kept until its `request_uri` is used.
#[derive(Debug)]
pub(super) struct Pushed {
    client_id: String,
    params: Vec<(String, String)>,
    expires_at: Instant,
}

/// A user code as typed: upper case, without separators.
fn normalize_user_code(code: &str) -> String {
    code.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

impl State {
    /// A fresh `XXXX-XXXX` user code from the RFC 8628 §6.1 alphabet (no vowels, no digits).
    fn user_code(&mut self) -> String {
        const ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
        let seed = self.random_token("");
        let mut code: String = seed
            .bytes()
            .take(8)
            .map(|b| char::from(ALPHABET[usize::from(b) % ALPHABET.len()]))
            .collect();
        code.insert(4, '-');
        code
    }

    // ----- /device_authorization (RFC 8628 §3.1) -----

    pub(super) fn device_authorization(&mut self, req: &Incoming) -> Reply {
        if req.method != "POST" {
            return Reply::method_not_allowed("POST");
        }
        if let Some(why) = &req.decode_error {
            return Reply::oauth_error("invalid_request", why);
        }
        let p = Params(&req.params);
        if let Some(name) = p.duplicate() {
            return Reply::oauth_error(
                "invalid_request",
                &format!("the {name} parameter was sent more than once"),
            );
        }
        let client = match self.authenticate(req, &p) {
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
        let device_code = self.random_token("dc_");
        let user_code = self.user_code();
        let interval = self.config.device_interval;
        let expires_in = self.config.device_expires_in;
        self.devices.push(DeviceGrant {
            device_code: device_code.clone(),
            user_code: user_code.clone(),
            client_id: client.id,
            scope,
            resources,
            expires_at: Instant::now() + Duration::from_secs(expires_in),
            interval: Duration::from_secs(interval),
            last_poll: None,
            status: DeviceStatus::Pending,
        });
        let verification_uri = format!("{}/device", self.base);
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

    /// Approves (or denies) the pending authorization with this user code.
    pub(crate) fn decide_device(&mut self, user_code: &str, approve: bool) -> bool {
        let wanted = normalize_user_code(user_code);
        let now = Instant::now();
        let Some(grant) = self.devices.iter_mut().find(|g| {
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

    pub(crate) fn pending_user_codes(&self) -> Vec<String> {
        let now = Instant::now();
        self.devices
            .iter()
            .filter(|g| g.status == DeviceStatus::Pending && now < g.expires_at)
            .map(|g| g.user_code.clone())
            .collect()
    }

    /// `GET /device`: the verification page. With `user_code` it approves at once, as
    /// `/authorize` does; without, it shows a form asking for the code.
    pub(super) fn device_page(&mut self, params: &[(String, String)]) -> Reply {
        let p = Params(params);
        let Some(user_code) = p.get("user_code") else {
            let mut reply =
                Reply::html(200, "Device login", "Enter the code shown on your device.");
            let form = "<form method=\"get\"><input name=\"user_code\" autofocus>\
                        <button>Continue</button></form></body>";
            reply.body = String::from_utf8_lossy(&reply.body)
                .replace("</body>", form)
                .into_bytes();
            return reply;
        };
        if self.decide_device(user_code, true) {
            Reply::html(200, "Device approved", "You can go back to your device.")
        } else {
            Reply::html(
                400,
                "invalid_request",
                &format!("no device is waiting for the code `{user_code}`"),
            )
        }
    }

    // ----- the device_code grant (RFC 8628 §3.4, §3.5) -----

    pub(super) fn grant_device_code(&mut self, client: &MockClient, p: &Params<'_>) -> Reply {
        if !client.allows(GrantType::DeviceCode) {
            return Reply::oauth_error(
                "unauthorized_client",
                "the client may not use the device authorization grant",
            );
        }
        let Some(device_code) = p.get("device_code") else {
            return Reply::oauth_error("invalid_request", "the device_code parameter is missing");
        };
        let now = Instant::now();
        let Some(grant) = self
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
            .is_some_and(|last| now + POLL_TOLERANCE < last + grant.interval);
        grant.last_poll = Some(now);
        if too_soon {
            grant.interval += Duration::from_secs(5);
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
                    subject: self.user.sub.clone(),
                    origin: Some(device_code.to_owned()),
                };
                let plan = refresh_plan(client, issued.scope.as_deref());
                let body = self.issue(client, &issued, plan);
                Reply::json(200, &body)
            }
        }
    }

    // ----- /introspect (RFC 7662) -----

    pub(super) fn introspect(&mut self, req: &Incoming) -> Reply {
        if req.method != "POST" {
            return Reply::method_not_allowed("POST");
        }
        if let Some(why) = &req.decode_error {
            return Reply::oauth_error("invalid_request", why);
        }
        let p = Params(&req.params);
        let client = match self.authenticate(req, &p) {
            Ok(client) => client,
            Err(reply) => return reply,
        };
        let Some(token) = p.get("token") else {
            return Reply::oauth_error("invalid_request", "the token parameter is missing");
        };
        let inactive = || Reply::json(200, &json!({ "active": false }));
        // A public client may only ask about its own tokens; a confidential one about any.
        let may_see = |owner: &str| client.secret.is_some() || owner == client.id;
        let mut claims = Map::new();
        let mut put = |k: &str, v: Value| {
            claims.insert(k.to_owned(), v);
        };
        if let Some(record) = self.access.get(token) {
            if self.access_token_status(token).is_err() || !may_see(&record.client_id) {
                return inactive();
            }
            put("active", true.into());
            if let Some(scope) = &record.scope {
                put("scope", scope.clone().into());
            }
            put("client_id", record.client_id.clone().into());
            put("token_type", "Bearer".into());
            put("exp", (record.issued_at + record.lifetime).into());
            put("iat", record.issued_at.into());
            put("sub", record.subject.clone().into());
            put_audience(&mut put, &record.resources);
            put("iss", self.issuer.clone().into());
        } else if let Some(record) = self.refresh.get(token) {
            if record.revoked || !may_see(&record.client_id) {
                return inactive();
            }
            put("active", true.into());
            if let Some(scope) = &record.scope {
                put("scope", scope.clone().into());
            }
            put("client_id", record.client_id.clone().into());
            put("token_type", "refresh_token".into());
            put("iat", record.issued_at.into());
            put("sub", record.subject.clone().into());
            put_audience(&mut put, &record.resources);
            put("iss", self.issuer.clone().into());
        } else {
            return inactive();
        }
        Reply::json(200, &Value::Object(claims))
    }

    // ----- /par (RFC 9126) -----

    pub(super) fn pushed_authorization(&mut self, req: &Incoming) -> Reply {
        if req.method != "POST" {
            return Reply::method_not_allowed("POST");
        }
        if let Some(why) = &req.decode_error {
            return Reply::oauth_error("invalid_request", why);
        }
        let p = Params(&req.params);
        if let Some(name) = p.duplicate() {
            return Reply::oauth_error(
                "invalid_request",
                &format!("the {name} parameter was sent more than once"),
            );
        }
        let client = match self.authenticate(req, &p) {
            Ok(client) => client,
            Err(reply) => return reply,
        };
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
            .filter(|(k, _)| k != "client_id" && k != "client_secret")
            .cloned()
            .collect();
        params.insert(0, ("client_id".to_owned(), client.id.clone()));
        let request_uri = format!("{REQUEST_URI_PREFIX}{}", self.random_token(""));
        self.pushed.insert(
            request_uri.clone(),
            Pushed {
                client_id: client.id,
                params,
                expires_at: Instant::now() + PUSHED_LIFETIME,
            },
        );
        Reply::json(
            201,
            &json!({ "request_uri": request_uri, "expires_in": PUSHED_LIFETIME.as_secs() }),
        )
    }

    /// The parameters pushed under `request_uri`, once (RFC 9126 §4), for `client_id`.
    pub(super) fn take_pushed(
        &mut self,
        request_uri: &str,
        client_id: Option<&str>,
    ) -> Result<Vec<(String, String)>, Reply> {
        let now = Instant::now();
        self.pushed.retain(|_, pushed| now < pushed.expires_at);
        let Some(pushed) = self.pushed.get(request_uri) else {
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
        Ok(self
            .pushed
            .remove(request_uri)
            .map(|pushed| pushed.params)
            .unwrap_or_default())
    }

    // ----- the token exchange grant (RFC 8693) -----

    /// The subject (`sub`) and scope of a token given to token exchange, if it is live.
    fn exchanged_token(&self, token: &str, kind: &str) -> Result<(String, Option<String>), String> {
        match kind {
            ACCESS_TOKEN_TYPE => match self.access.get(token) {
                Some(record) if self.access_token_status(token).is_ok() => {
                    Ok((record.subject.clone(), record.scope.clone()))
                }
                _ => Err("is not an active access token".to_owned()),
            },
            REFRESH_TOKEN_TYPE => match self.refresh.get(token) {
                Some(record) if !record.revoked => {
                    Ok((record.subject.clone(), record.scope.clone()))
                }
                _ => Err("is not an active refresh token".to_owned()),
            },
            other => Err(format!(
                "has type `{other}`, which latchkey-mock does not accept (access_token or refresh_token)"
            )),
        }
    }

    pub(super) fn grant_token_exchange(&mut self, client: &MockClient, p: &Params<'_>) -> Reply {
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
        let (subject, subject_scope) = match self.exchanged_token(subject_token, subject_type) {
            Ok(found) => found,
            Err(why) => return invalid(&format!("the subject_token {why}")),
        };
        match (p.get("actor_token"), p.get("actor_token_type")) {
            (None, None) => {}
            (Some(actor), Some(kind)) => {
                if let Err(why) = self.exchanged_token(actor, kind) {
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
            origin: None,
        };
        let mut body = Map::new();
        match p.get("requested_token_type").unwrap_or(ACCESS_TOKEN_TYPE) {
            ACCESS_TOKEN_TYPE => {
                let token = self.new_access_token(client, &issued);
                body.insert("access_token".into(), token.into());
                body.insert("issued_token_type".into(), ACCESS_TOKEN_TYPE.into());
                body.insert("token_type".into(), "Bearer".into());
                body.insert("expires_in".into(), client.expires_in.into());
            }
            REFRESH_TOKEN_TYPE => {
                // RFC 8693 §2.2.1: a token that is not an access token goes in
                // `access_token` all the same, with token_type "N_A".
                let token = self.new_refresh_token(client, &issued);
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
}

/// `aud`: one string for one audience, an array for several, nothing for none (RFC 7662 §2.2).
fn put_audience(put: &mut impl FnMut(&str, Value), resources: &[String]) {
    match resources {
        [] => {}
        [one] => put("aud", one.clone().into()),
        many => put("aud", many.to_vec().into()),
    }
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
