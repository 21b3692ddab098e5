//! The authorization server proper: synchronous handlers over shared state. The RFCs past
//! RFC 6749 (device grant, introspection, PAR, token exchange) are in [`protocol`].

mod protocol;

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use url::{Host, Url};

use crate::client::{AuthMethod, Encoding, GrantType, MockClient, ResponseStyle};
use crate::fault::Fault;
use crate::form;
use crate::record::RecordedRequest;
use crate::user::MockUser;

/// How long an authorization code may be exchanged.
const CODE_LIFETIME: Duration = Duration::from_secs(600);

/// Server-wide settings from the [`MockServerBuilder`](crate::MockServerBuilder).
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// The issuer's path (empty, or `/x/y`).
    pub(crate) issuer_path: String,
    /// Send `iss` in authorization responses (RFC 9207).
    pub(crate) issuer_parameter: bool,
    /// Accept only pushed authorization requests (RFC 9126 §5).
    pub(crate) require_par: bool,
    /// The device flow's polling interval, seconds.
    pub(crate) device_interval: u64,
    /// The device code lifetime, seconds.
    pub(crate) device_expires_in: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            issuer_path: String::new(),
            issuer_parameter: true,
            require_par: false,
            device_interval: 5,
            device_expires_in: 600,
        }
    }
}

/// A response before it becomes an HTTP response.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    pub(crate) fn json(status: u16, value: &Value) -> Self {
        Self {
            status,
            headers: vec![
                ("content-type", "application/json".to_owned()),
                ("cache-control", "no-store".to_owned()),
                ("pragma", "no-cache".to_owned()),
            ],
            body: value.to_string().into_bytes(),
        }
    }

    /// An RFC 6749 §5.2 error; `invalid_client` is a 401 with `WWW-Authenticate: Basic`.
    pub(crate) fn oauth_error(error: &str, description: &str) -> Self {
        let status = if error == "invalid_client" { 401 } else { 400 };
        let mut reply = Self::json(
            status,
            &json!({ "error": error, "error_description": description }),
        );
        if status == 401 {
            reply.headers.push((
                "www-authenticate",
                "Basic realm=\"latchkey-mock\"".to_owned(),
            ));
        }
        reply
    }

    pub(crate) fn html(status: u16, title: &str, message: &str) -> Self {
        let body = format!(
            "<!DOCTYPE html>\n<html><head><title>{title}</title></head>\
             <body><h1>{title}</h1><p>{message}</p></body></html>\n",
            title = escape_html(title),
            message = escape_html(message),
        );
        Self {
            status,
            headers: vec![("content-type", "text/html; charset=utf-8".to_owned())],
            body: body.into_bytes(),
        }
    }

    fn redirect(location: String) -> Self {
        Self {
            status: 302,
            headers: vec![
                ("location", location),
                ("cache-control", "no-store".to_owned()),
            ],
            body: Vec::new(),
        }
    }

    fn method_not_allowed(allow: &'static str) -> Self {
        let mut reply = Self::json(
            405,
            &json!({ "error": "invalid_request", "error_description": format!("method not allowed; use {allow}") }),
        );
        reply.headers.push(("allow", allow.to_owned()));
        reply
    }

    fn invalid_token(description: &str) -> Self {
        let mut reply = Self::json(
            401,
            &json!({ "error": "invalid_token", "error_description": description }),
        );
        reply.headers.push((
            "www-authenticate",
            format!("Bearer error=\"invalid_token\", error_description=\"{description}\""),
        ));
        reply
    }
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A decoded request, as the handlers need it.
#[derive(Debug)]
pub(crate) struct Incoming {
    pub(crate) method: String,
    pub(crate) authorization: Option<String>,
    pub(crate) params: Vec<(String, String)>,
    pub(crate) encoding: Option<Encoding>,
    pub(crate) media_type: Option<String>,
    pub(crate) decode_error: Option<String>,
}

/// Parameter look-ups with RFC 6749 §3.1 rules: a parameter sent without a value is absent.
struct Params<'a>(&'a [(String, String)]);

impl Params<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, v)| n == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    fn count(&self, name: &str) -> usize {
        self.0.iter().filter(|(n, _)| n == name).count()
    }

    /// Every non-empty value of `name`, in order (for repeatable parameters).
    fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(n, v)| n == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The first parameter sent more than once (RFC 6749 §3.1, §3.2), `resource` excepted
    /// (RFC 8707 lets it repeat).
    fn duplicate(&self) -> Option<&str> {
        self.duplicate_except(&["resource"])
    }

    /// The first parameter sent more than once that is not in `repeatable`.
    fn duplicate_except(&self, repeatable: &[&str]) -> Option<&str> {
        self.0.iter().enumerate().find_map(|(i, (name, _))| {
            (!repeatable.contains(&name.as_str()) && self.0[..i].iter().any(|(n, _)| n == name))
                .then_some(name.as_str())
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChallengeMethod {
    S256,
    Plain,
}

#[derive(Debug)]
struct CodeGrant {
    client_id: String,
    /// The `redirect_uri` parameter of the authorization request, when one was sent.
    redirect_uri_sent: Option<String>,
    /// The redirect URI actually used.
    redirect_uri: String,
    scope: Option<String>,
    resources: Vec<String>,
    challenge: Option<(String, ChallengeMethod)>,
    expires_at: Instant,
    used: bool,
}

#[derive(Debug)]
struct AccessToken {
    client_id: String,
    expires_at: Instant,
    expired: bool,
    revoked: bool,
    origin_code: Option<String>,
    scope: Option<String>,
    /// `sub`: the user's for user grants, the client's for client credentials.
    subject: String,
    /// The audience: the `resource` indicators (and token exchange `audience`s).
    resources: Vec<String>,
    /// Unix seconds.
    issued_at: u64,
    lifetime: u64,
}

#[derive(Debug)]
struct RefreshToken {
    client_id: String,
    scope: Option<String>,
    revoked: bool,
    origin_code: Option<String>,
    subject: String,
    resources: Vec<String>,
    issued_at: u64,
}

/// What a token response is issued for.
#[derive(Debug, Default)]
struct Grant {
    /// The access token's scope.
    scope: Option<String>,
    /// A new refresh token's scope (the whole grant's).
    refresh_scope: Option<String>,
    /// The access token's audience.
    resources: Vec<String>,
    /// A new refresh token's resources (the whole grant's).
    refresh_resources: Vec<String>,
    /// `sub`.
    subject: String,
    /// The authorization code (or device code) the grant came from.
    origin: Option<String>,
}

/// What a token response does about refresh tokens.
enum RefreshPlan {
    None,
    New,
    Keep(String),
}

/// Everything the server knows. Guarded by one mutex, never held across an await.
#[derive(Debug)]
pub(crate) struct State {
    /// The issuer identifier.
    pub(crate) issuer: String,
    /// `http://127.0.0.1:PORT`, where the endpoints are.
    base: String,
    config: Config,
    pub(crate) clients: HashMap<String, MockClient>,
    pub(crate) user: MockUser,
    codes: HashMap<String, CodeGrant>,
    access: HashMap<String, AccessToken>,
    refresh: HashMap<String, RefreshToken>,
    devices: Vec<protocol::DeviceGrant>,
    pushed: HashMap<String, protocol::Pushed>,
    pub(crate) deny_next: VecDeque<String>,
    pub(crate) faults: HashMap<String, VecDeque<(Fault, usize)>>,
    pub(crate) requests: Vec<RecordedRequest>,
    pub(crate) counts: HashMap<String, usize>,
    pub(crate) recording: bool,
    pub(crate) refresh_count: u64,
    pub(crate) issued_access: u64,
    pub(crate) issued_refresh: u64,
    token_counter: u64,
}

impl State {
    pub(crate) fn new(
        base: String,
        config: Config,
        clients: Vec<MockClient>,
        user: MockUser,
    ) -> Self {
        Self {
            issuer: format!("{base}{}", config.issuer_path),
            base,
            config,
            clients: clients.into_iter().map(|c| (c.id.clone(), c)).collect(),
            user,
            codes: HashMap::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            devices: Vec::new(),
            pushed: HashMap::new(),
            deny_next: VecDeque::new(),
            faults: HashMap::new(),
            requests: Vec::new(),
            counts: HashMap::new(),
            recording: true,
            refresh_count: 0,
            issued_access: 0,
            issued_refresh: 0,
            token_counter: 0,
        }
    }

    /// Takes one use of the first fault armed for `path`.
    pub(crate) fn take_fault(&mut self, path: &str) -> Option<Fault> {
        let queue = self.faults.get_mut(path)?;
        let (fault, remaining) = queue.front_mut()?;
        let fault = fault.clone();
        *remaining -= 1;
        if *remaining == 0 {
            queue.pop_front();
        }
        if queue.is_empty() {
            self.faults.remove(path);
        }
        Some(fault)
    }

    pub(crate) fn route(&mut self, path: &str, req: &Incoming) -> Reply {
        match path {
            "/authorize" => {
                if req.method == "GET" || req.method == "HEAD" {
                    self.authorize(&req.params)
                } else {
                    Reply::method_not_allowed("GET")
                }
            }
            "/token" => self.token(req),
            "/userinfo" => self.userinfo(req),
            "/revoke" => self.revoke(req),
            "/introspect" => self.introspect(req),
            "/device_authorization" => self.device_authorization(req),
            "/device" => self.device_page(&req.params),
            "/par" => self.pushed_authorization(req),
            _ if self.is_metadata_path(path) => self.metadata(),
            _ => Reply::json(
                404,
                &json!({ "error": "not_found", "error_description": format!("no endpoint at {path}") }),
            ),
        }
    }

    fn random_token(&mut self, prefix: &str) -> String {
        self.token_counter += 1;
        let mut bytes = [0u8; 24];
        if getrandom::fill(&mut bytes).is_err() {
            // No OS randomness: still unique, merely predictable.
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            let digest = Sha256::new()
                .chain_update(self.token_counter.to_le_bytes())
                .chain_update(nanos.to_le_bytes())
                .chain_update(self.issuer.as_bytes())
                .finalize();
            bytes.copy_from_slice(&digest[..24]);
        }
        format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
    }

    // ----- /authorize -----

    fn authorize(&mut self, params: &[(String, String)]) -> Reply {
        let p = Params(params);
        match p.get("request_uri") {
            Some(request_uri) => match self.take_pushed(request_uri, p.get("client_id")) {
                Ok(pushed) => self.authorize_checked(&pushed, true),
                Err(reply) => reply,
            },
            None => self.authorize_checked(params, false),
        }
    }

    /// The authorization request proper; `pushed` when its parameters came through PAR.
    fn authorize_checked(&mut self, params: &[(String, String)], pushed: bool) -> Reply {
        let p = Params(params);
        for name in ["client_id", "redirect_uri"] {
            if p.count(name) > 1 {
                return Reply::html(
                    400,
                    "invalid_request",
                    &format!("the {name} parameter was sent more than once"),
                );
            }
        }
        let Some(client_id) = p.get("client_id") else {
            return Reply::html(400, "invalid_request", "the client_id parameter is missing");
        };
        let Some(client) = self.clients.get(client_id).cloned() else {
            return Reply::html(
                400,
                "invalid_client",
                &format!("unknown client_id `{client_id}`"),
            );
        };
        let redirect_uri_sent = p.get("redirect_uri").map(str::to_owned);
        let redirect_uri = match &redirect_uri_sent {
            Some(uri) => {
                if let Err(why) = check_redirect_uri(&client, uri) {
                    return Reply::html(400, "invalid_request", &why);
                }
                uri.clone()
            }
            None => match client.redirect_uris.as_slice() {
                [only] => only.clone(),
                _ => {
                    return Reply::html(
                        400,
                        "invalid_request",
                        "the redirect_uri parameter is missing and the client has not exactly one registered",
                    );
                }
            },
        };

        let response_type = p.get("response_type");
        let in_fragment = response_type == Some("token");
        let state = p.get("state").map(str::to_owned);
        let iss = self.config.issuer_parameter.then(|| self.issuer.clone());
        let fail = |error: &str, description: &str| {
            let mut pairs = vec![
                ("error", error.to_owned()),
                ("error_description", description.to_owned()),
            ];
            if let Some(state) = &state {
                pairs.push(("state", state.clone()));
            }
            if let Some(iss) = &iss {
                pairs.push(("iss", iss.clone()));
            }
            Reply::redirect(redirect_location(&redirect_uri, &pairs, in_fragment))
        };
        if self.config.require_par && !pushed {
            return fail(
                "invalid_request",
                "this server accepts only pushed authorization requests (RFC 9126): use the PAR endpoint",
            );
        }

        if let Some(name) = p.duplicate() {
            return fail(
                "invalid_request",
                &format!("the {name} parameter was sent more than once"),
            );
        }
        let grant = match response_type {
            None => return fail("invalid_request", "the response_type parameter is missing"),
            Some("code") => GrantType::AuthorizationCode,
            Some("token") => GrantType::Implicit,
            Some(other) => {
                return fail(
                    "unsupported_response_type",
                    &format!("response_type `{other}` is not supported"),
                );
            }
        };
        if !client.allows(grant) {
            return fail(
                "unauthorized_client",
                &format!("the client may not use the {} grant", grant.as_str()),
            );
        }
        if let Err(why) = check_audience(&client, p.get("audience"), true) {
            return fail("invalid_request", &why);
        }
        let scope = match resolve_scope(&client, p.get("scope")) {
            Ok(scope) => scope,
            Err(why) => return fail("invalid_scope", &why),
        };
        let resources = match check_resources(&client, &p.all("resource")) {
            Ok(resources) => resources,
            Err(why) => return fail("invalid_target", &why),
        };

        let challenge = if grant == GrantType::AuthorizationCode {
            match (p.get("code_challenge"), p.get("code_challenge_method")) {
                (None, Some(_)) => {
                    return fail(
                        "invalid_request",
                        "code_challenge_method was sent without code_challenge",
                    );
                }
                (None, None) if client.require_pkce => {
                    return fail(
                        "invalid_request",
                        "PKCE is required: send code_challenge and code_challenge_method",
                    );
                }
                (None, None) => None,
                (Some(challenge), method) => {
                    let method = match method.unwrap_or("plain") {
                        "S256" => ChallengeMethod::S256,
                        "plain" => ChallengeMethod::Plain,
                        other => {
                            return fail(
                                "invalid_request",
                                &format!(
                                    "code_challenge_method `{other}` is not supported; use S256 or plain"
                                ),
                            );
                        }
                    };
                    if !is_pkce_string(challenge) {
                        return fail(
                            "invalid_request",
                            "code_challenge must be 43 to 128 unreserved characters",
                        );
                    }
                    Some((challenge.to_owned(), method))
                }
            }
        } else {
            None
        };

        if let Some(error) = self.deny_next.pop_front() {
            return fail(&error, "the authorization request was denied");
        }

        if grant == GrantType::Implicit {
            let token = self.new_access_token(
                &client,
                &Grant {
                    scope: scope.clone(),
                    resources,
                    subject: self.user.sub.clone(),
                    ..Grant::default()
                },
            );
            let mut pairs = vec![
                ("access_token", token),
                ("token_type", "Bearer".to_owned()),
                ("expires_in", client.expires_in.to_string()),
            ];
            if let Some(scope) = scope {
                pairs.push(("scope", scope));
            }
            if let Some(state) = state {
                pairs.push(("state", state));
            }
            if let Some(iss) = iss {
                pairs.push(("iss", iss));
            }
            return Reply::redirect(redirect_location(&redirect_uri, &pairs, true));
        }

        let code = self.random_token("code_");
        self.codes.insert(
            code.clone(),
            CodeGrant {
                client_id: client.id.clone(),
                redirect_uri_sent,
                redirect_uri: redirect_uri.clone(),
                scope,
                resources,
                challenge,
                expires_at: Instant::now() + CODE_LIFETIME,
                used: false,
            },
        );
        let mut pairs = vec![("code", code)];
        if let Some(state) = state {
            pairs.push(("state", state));
        }
        if let Some(iss) = iss {
            pairs.push(("iss", iss));
        }
        Reply::redirect(redirect_location(&redirect_uri, &pairs, false))
    }

    // ----- /token -----

    fn token(&mut self, req: &Incoming) -> Reply {
        if req.method != "POST" {
            return Reply::method_not_allowed("POST");
        }
        if let Some(why) = &req.decode_error {
            return Reply::oauth_error("invalid_request", why);
        }
        let p = Params(&req.params);
        let token_exchange = GrantType::TokenExchange.as_str();
        // RFC 8693 §2.1 lets token exchange repeat `audience` too.
        let repeatable: &[&str] = if p.get("grant_type") == Some(token_exchange) {
            &["resource", "audience"]
        } else {
            &["resource"]
        };
        if let Some(name) = p.duplicate_except(repeatable) {
            return Reply::oauth_error(
                "invalid_request",
                &format!("the {name} parameter was sent more than once"),
            );
        }
        let client = match self.authenticate(req, &p) {
            Ok(client) => client,
            Err(reply) => return reply,
        };
        match p.get("grant_type") {
            None => Reply::oauth_error("invalid_request", "the grant_type parameter is missing"),
            Some("authorization_code") => self.grant_code(&client, &p),
            Some("client_credentials") => self.grant_client_credentials(&client, &p),
            Some("refresh_token") => self.grant_refresh(&client, &p),
            Some(grant) if grant == GrantType::DeviceCode.as_str() => {
                self.grant_device_code(&client, &p)
            }
            Some(grant) if grant == token_exchange => self.grant_token_exchange(&client, &p),
            Some(other) => Reply::oauth_error(
                "unsupported_grant_type",
                &format!("grant_type `{other}` is not supported"),
            ),
        }
    }

    /// Identifies and authenticates the client of a request to the token, revocation,
    /// introspection, device authorization or PAR endpoint.
    fn authenticate(&self, req: &Incoming, p: &Params<'_>) -> Result<MockClient, Reply> {
        let invalid_client = |why: &str| Err(Reply::oauth_error("invalid_client", why));
        let basic = match &req.authorization {
            None => None,
            Some(value) => {
                let (scheme, rest) = value.trim().split_once(' ').unwrap_or((value, ""));
                if !scheme.eq_ignore_ascii_case("basic") {
                    return invalid_client(&format!(
                        "unsupported Authorization scheme `{scheme}`; clients authenticate with Basic"
                    ));
                }
                match decode_basic(rest.trim()) {
                    Ok(pair) => Some(pair),
                    Err(why) => return invalid_client(&why),
                }
            }
        };
        let body_id = p.get("client_id");
        let body_secret = p.get("client_secret");
        if basic.is_some() && body_secret.is_some() {
            return Err(Reply::oauth_error(
                "invalid_request",
                "the client used more than one authentication method (Basic and client_secret)",
            ));
        }
        let id = match (&basic, body_id) {
            (Some((basic_id, _)), Some(body_id)) if basic_id != body_id => {
                return Err(Reply::oauth_error(
                    "invalid_request",
                    "client_id in the body differs from the one in the Basic credentials",
                ));
            }
            (Some((basic_id, _)), _) => basic_id.as_str(),
            (None, Some(body_id)) => body_id,
            (None, None) => {
                return invalid_client("client authentication is required (no client_id)");
            }
        };
        let Some(client) = self.clients.get(id) else {
            return invalid_client(&format!("unknown client `{id}`"));
        };
        if let Some(encoding) = req.encoding {
            if !client.encodings.contains(&encoding) {
                let accepted: Vec<&str> = client.encodings.iter().map(|e| e.media_type()).collect();
                return Err(Reply::oauth_error(
                    "invalid_request",
                    &format!(
                        "Content-Type `{}` is not accepted for client `{id}` (accepted: {})",
                        req.media_type
                            .as_deref()
                            .unwrap_or_else(|| encoding.media_type()),
                        accepted.join(", ")
                    ),
                ));
            }
        }
        let expected = client.secret.as_deref().unwrap_or("");
        let method = client.effective_auth_method();
        match method {
            AuthMethod::Basic => match (&basic, body_secret) {
                (Some((_, secret)), _) if secret == expected => Ok(client.clone()),
                (Some(_), _) => invalid_client("client authentication failed"),
                (None, Some(_)) => invalid_client(&format!(
                    "client `{id}` authenticates with client_secret_basic, but the secret was sent in the request body"
                )),
                (None, None) => invalid_client(&format!(
                    "client `{id}` must authenticate with HTTP Basic (client_secret_basic)"
                )),
            },
            AuthMethod::Post => match (&basic, body_secret) {
                (Some(_), _) => invalid_client(&format!(
                    "client `{id}` authenticates with client_secret_post, but the secret was sent with HTTP Basic"
                )),
                (None, Some(secret)) if secret == expected => Ok(client.clone()),
                (None, Some(_)) => invalid_client("client authentication failed"),
                (None, None) => invalid_client(&format!(
                    "client `{id}` must send client_secret in the request body (client_secret_post)"
                )),
            },
            AuthMethod::None => {
                if basic.is_some() || body_secret.is_some() {
                    invalid_client(&format!(
                        "client `{id}` is a public client (token_endpoint_auth_method none) and must not send a secret"
                    ))
                } else {
                    Ok(client.clone())
                }
            }
        }
    }

    fn grant_code(&mut self, client: &MockClient, p: &Params<'_>) -> Reply {
        if !client.allows(GrantType::AuthorizationCode) {
            return Reply::oauth_error(
                "unauthorized_client",
                "the client may not use the authorization_code grant",
            );
        }
        let Some(code) = p.get("code") else {
            return Reply::oauth_error("invalid_request", "the code parameter is missing");
        };
        let Some(grant) = self.codes.get(code) else {
            return Reply::oauth_error("invalid_grant", "unknown authorization code");
        };
        if grant.used {
            let code = code.to_owned();
            self.revoke_origin(&code);
            return Reply::oauth_error(
                "invalid_grant",
                "the authorization code was already used; every token issued from it is revoked",
            );
        }
        if Instant::now() >= grant.expires_at {
            return Reply::oauth_error("invalid_grant", "the authorization code has expired");
        }
        if grant.client_id != client.id {
            return Reply::oauth_error(
                "invalid_grant",
                "the authorization code was issued to another client",
            );
        }
        match (&grant.redirect_uri_sent, p.get("redirect_uri")) {
            (Some(sent), Some(given)) if sent == given => {}
            (Some(_), Some(_)) => {
                return Reply::oauth_error(
                    "invalid_grant",
                    "redirect_uri differs from the one in the authorization request",
                );
            }
            (Some(_), None) => {
                return Reply::oauth_error(
                    "invalid_grant",
                    "redirect_uri is required: the authorization request included one",
                );
            }
            (None, Some(given)) if given != grant.redirect_uri => {
                return Reply::oauth_error(
                    "invalid_grant",
                    "redirect_uri differs from the client's registered redirect URI",
                );
            }
            (None, _) => {}
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
                let computed = match method {
                    ChallengeMethod::S256 => {
                        URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
                    }
                    ChallengeMethod::Plain => verifier.to_owned(),
                };
                if &computed != challenge {
                    return Reply::oauth_error(
                        "invalid_grant",
                        "PKCE verification failed: code_verifier does not match code_challenge",
                    );
                }
            }
        }
        let resources = match narrow_resources(client, &grant.resources, &p.all("resource")) {
            Ok(resources) => resources,
            Err(why) => return Reply::oauth_error("invalid_target", &why),
        };
        let issued = Grant {
            scope: grant.scope.clone(),
            refresh_scope: grant.scope.clone(),
            resources,
            refresh_resources: grant.resources.clone(),
            subject: self.user.sub.clone(),
            origin: Some(code.to_owned()),
        };
        if let Some(grant) = self.codes.get_mut(code) {
            grant.used = true;
        }
        let plan = refresh_plan(client, issued.scope.as_deref());
        let body = self.issue(client, &issued, plan);
        Reply::json(200, &body)
    }

    fn grant_client_credentials(&mut self, client: &MockClient, p: &Params<'_>) -> Reply {
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
            resources,
            subject: client.id.clone(),
            ..Grant::default()
        };
        let body = self.issue(client, &issued, RefreshPlan::None);
        Reply::json(200, &body)
    }

    fn grant_refresh(&mut self, client: &MockClient, p: &Params<'_>) -> Reply {
        if !client.allows(GrantType::RefreshToken) {
            return Reply::oauth_error(
                "unauthorized_client",
                "the client may not use the refresh_token grant",
            );
        }
        let Some(presented) = p.get("refresh_token") else {
            return Reply::oauth_error("invalid_request", "the refresh_token parameter is missing");
        };
        let Some(record) = self.refresh.get(presented) else {
            return Reply::oauth_error("invalid_grant", "unknown refresh token");
        };
        if record.revoked {
            return Reply::oauth_error(
                "invalid_grant",
                "the refresh token was revoked or already rotated",
            );
        }
        if record.client_id != client.id {
            return Reply::oauth_error(
                "invalid_grant",
                "the refresh token was issued to another client",
            );
        }
        if let Err(why) = check_audience(client, p.get("audience"), false) {
            return Reply::oauth_error("invalid_request", &why);
        }
        let granted = record.scope.clone();
        let origin = record.origin_code.clone();
        let subject = record.subject.clone();
        let granted_resources = record.resources.clone();
        let resources = match narrow_resources(client, &granted_resources, &p.all("resource")) {
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
        let presented = presented.to_owned();
        let plan = if client.rotate_refresh_tokens {
            if let Some(old) = self.refresh.get_mut(&presented) {
                old.revoked = true;
            }
            RefreshPlan::New
        } else if client.style == ResponseStyle::Auth0 {
            RefreshPlan::None
        } else {
            RefreshPlan::Keep(presented)
        };
        self.refresh_count += 1;
        let issued = Grant {
            scope: access_scope,
            refresh_scope: granted,
            resources,
            refresh_resources: granted_resources,
            subject,
            origin,
        };
        let body = self.issue(client, &issued, plan);
        Reply::json(200, &body)
    }

    fn new_access_token(&mut self, client: &MockClient, grant: &Grant) -> String {
        let token = self.random_token("at_");
        self.issued_access += 1;
        self.access.insert(
            token.clone(),
            AccessToken {
                client_id: client.id.clone(),
                expires_at: Instant::now() + Duration::from_secs(client.expires_in),
                expired: false,
                revoked: false,
                origin_code: grant.origin.clone(),
                scope: grant.scope.clone(),
                subject: grant.subject.clone(),
                resources: grant.resources.clone(),
                issued_at: unix_now(),
                lifetime: client.expires_in,
            },
        );
        token
    }

    fn new_refresh_token(&mut self, client: &MockClient, grant: &Grant) -> String {
        let token = self.random_token("rt_");
        self.issued_refresh += 1;
        self.refresh.insert(
            token.clone(),
            RefreshToken {
                client_id: client.id.clone(),
                scope: grant.refresh_scope.clone(),
                revoked: false,
                origin_code: grant.origin.clone(),
                subject: grant.subject.clone(),
                resources: grant.refresh_resources.clone(),
                issued_at: unix_now(),
            },
        );
        token
    }

    /// Issues an access token (and maybe a refresh token) and shapes the response body.
    fn issue(&mut self, client: &MockClient, grant: &Grant, plan: RefreshPlan) -> Value {
        let access = self.new_access_token(client, grant);
        let scope = grant.scope.clone();
        let refresh = match plan {
            RefreshPlan::None => None,
            RefreshPlan::Keep(token) => Some(token),
            RefreshPlan::New => Some(self.new_refresh_token(client, grant)),
        };
        let mut body = Map::new();
        let mut put = |k: &str, v: Value| {
            body.insert(k.to_owned(), v);
        };
        match client.style {
            ResponseStyle::Auth0 => {
                put("access_token", access.into());
                put("token_type", "Bearer".into());
                put("expires_in", client.expires_in.into());
                if let Some(scope) = scope {
                    put("scope", scope.into());
                }
                if let Some(refresh) = refresh {
                    put("refresh_token", refresh.into());
                }
            }
            ResponseStyle::Clerk => {
                put("access_token", access.into());
                if let Some(refresh) = refresh {
                    put("refresh_token", refresh.into());
                }
                put("scope", scope.unwrap_or_default().into());
                put("token_type", "bearer".into());
                put("expires_in", client.expires_in.into());
            }
            ResponseStyle::Doorkeeper => {
                put("access_token", access.into());
                put("token_type", "bearer".into());
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                put("created_at", now.into());
                if let Some(refresh) = refresh {
                    put("refresh_token", refresh.into());
                }
            }
        }
        Value::Object(body)
    }

    fn revoke_origin(&mut self, code: &str) {
        let origin = Some(code);
        for token in self.access.values_mut() {
            if token.origin_code.as_deref() == origin {
                token.revoked = true;
            }
        }
        for token in self.refresh.values_mut() {
            if token.origin_code.as_deref() == origin {
                token.revoked = true;
            }
        }
    }

    // ----- /userinfo -----

    fn userinfo(&mut self, req: &Incoming) -> Reply {
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
        match self.access_token_status(token.trim()) {
            Ok(()) => Reply::json(200, &self.user.claims()),
            Err(why) => Reply::invalid_token(why),
        }
    }

    pub(crate) fn access_token_status(&self, token: &str) -> Result<(), &'static str> {
        let Some(record) = self.access.get(token) else {
            return Err("unknown access token");
        };
        if record.revoked {
            Err("the access token was revoked")
        } else if record.expired || Instant::now() >= record.expires_at {
            Err("the access token has expired")
        } else {
            Ok(())
        }
    }

    pub(crate) fn refresh_token_active(&self, token: &str) -> bool {
        self.refresh.get(token).is_some_and(|t| !t.revoked)
    }

    pub(crate) fn expire_all_access_tokens(&mut self) {
        for token in self.access.values_mut() {
            token.expired = true;
        }
    }

    pub(crate) fn revoke_all_tokens(&mut self) {
        for token in self.access.values_mut() {
            token.revoked = true;
        }
        for token in self.refresh.values_mut() {
            token.revoked = true;
        }
    }

    // ----- /revoke (RFC 7009) -----

    fn revoke(&mut self, req: &Incoming) -> Reply {
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
        if let Some(record) = self.access.get_mut(token) {
            if record.client_id == client.id {
                record.revoked = true;
            }
        }
        let mut origin = None;
        if let Some(record) = self.refresh.get_mut(token) {
            if record.client_id == client.id {
                record.revoked = true;
                origin = record.origin_code.clone();
            }
        }
        // RFC 7009 §2.1: revoking a refresh token also invalidates the access tokens of the
        // same grant.
        if let Some(origin) = origin {
            self.revoke_origin(&origin);
        }
        Reply {
            status: 200,
            headers: vec![("cache-control", "no-store".to_owned())],
            body: Vec::new(),
        }
    }

    // ----- metadata (RFC 8414) -----

    /// RFC 8414 §3.1 (`/.well-known/oauth-authorization-server` + issuer path) or OpenID
    /// Connect Discovery (issuer path + `/.well-known/openid-configuration`).
    fn is_metadata_path(&self, path: &str) -> bool {
        let issuer_path = &self.config.issuer_path;
        path.strip_prefix("/.well-known/oauth-authorization-server") == Some(issuer_path)
            || path.strip_suffix("/.well-known/openid-configuration") == Some(issuer_path)
    }

    fn metadata(&self) -> Reply {
        let base = &self.base;
        let auth_methods = ["client_secret_basic", "client_secret_post", "none"];
        Reply::json(
            200,
            &json!({
                "issuer": self.issuer,
                "authorization_endpoint": format!("{base}/authorize"),
                "token_endpoint": format!("{base}/token"),
                "userinfo_endpoint": format!("{base}/userinfo"),
                "revocation_endpoint": format!("{base}/revoke"),
                "introspection_endpoint": format!("{base}/introspect"),
                "device_authorization_endpoint": format!("{base}/device_authorization"),
                "pushed_authorization_request_endpoint": format!("{base}/par"),
                "require_pushed_authorization_requests": self.config.require_par,
                "authorization_response_iss_parameter_supported": self.config.issuer_parameter,
                "response_types_supported": ["code", "token"],
                "grant_types_supported": [
                    "authorization_code",
                    "implicit",
                    "client_credentials",
                    "refresh_token",
                    GrantType::DeviceCode.as_str(),
                    GrantType::TokenExchange.as_str(),
                ],
                "token_endpoint_auth_methods_supported": auth_methods,
                "revocation_endpoint_auth_methods_supported": auth_methods,
                "introspection_endpoint_auth_methods_supported": auth_methods,
                "code_challenge_methods_supported": ["S256", "plain"],
            }),
        )
    }
}

/// Decodes `Basic` credentials: base64 of `urlencode(id) ":" urlencode(secret)` (RFC 6749 §2.3.1).
fn decode_basic(encoded: &str) -> Result<(String, String), String> {
    let raw = STANDARD
        .decode(encoded)
        .map_err(|_| "malformed Basic credentials: not base64".to_owned())?;
    let raw =
        String::from_utf8(raw).map_err(|_| "malformed Basic credentials: not UTF-8".to_owned())?;
    let (id, secret) = raw
        .split_once(':')
        .ok_or_else(|| "malformed Basic credentials: no `:`".to_owned())?;
    let id = form::decode_component(id).map_err(|e| format!("malformed Basic client id: {e}"))?;
    let secret =
        form::decode_component(secret).map_err(|e| format!("malformed Basic secret: {e}"))?;
    Ok((id, secret))
}

/// Seconds since the Unix epoch.
fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Whether a token response for this scope carries a new refresh token: when the client may
/// refresh and, for Auth0-style clients, the scope has `offline_access`.
fn refresh_plan(client: &MockClient, scope: Option<&str>) -> RefreshPlan {
    let wants_refresh = client.allows(GrantType::RefreshToken)
        && (client.style != ResponseStyle::Auth0
            || scope.is_some_and(|s| s.split(' ').any(|v| v == "offline_access")));
    if wants_refresh {
        RefreshPlan::New
    } else {
        RefreshPlan::None
    }
}

/// Checks `resource` indicators (RFC 8707 §2): absolute URIs without a fragment, and in the
/// client's allowed list when it has one. The error is for `invalid_target`.
fn check_resources(client: &MockClient, requested: &[&str]) -> Result<Vec<String>, String> {
    let mut out = Vec::with_capacity(requested.len());
    for resource in requested {
        match Url::parse(resource) {
            Ok(url) if url.fragment().is_none() => {}
            _ => {
                return Err(format!(
                    "resource `{resource}` is not an absolute URI without a fragment (RFC 8707 §2)"
                ));
            }
        }
        if let Some(allowed) = &client.allowed_resources {
            if !allowed.iter().any(|a| a == resource) {
                return Err(format!(
                    "resource `{resource}` is not allowed for this client"
                ));
            }
        }
        if !out.iter().any(|r| r == resource) {
            out.push((*resource).to_owned());
        }
    }
    Ok(out)
}

/// The resources of a token request against a grant's: the ones asked for, each of which the
/// grant must include when it named any (RFC 8707 §2.2), or else the grant's own.
fn narrow_resources(
    client: &MockClient,
    granted: &[String],
    requested: &[&str],
) -> Result<Vec<String>, String> {
    let requested = check_resources(client, requested)?;
    if requested.is_empty() {
        return Ok(granted.to_vec());
    }
    if !granted.is_empty() {
        if let Some(extra) = requested.iter().find(|r| !granted.contains(r)) {
            return Err(format!(
                "resource `{extra}` was not part of the authorization"
            ));
        }
    }
    Ok(requested)
}

/// RFC 7636 §4.1: 43 to 128 characters from `[A-Za-z0-9-._~]`.
fn is_pkce_string(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

fn normalize_scope(scope: &str) -> String {
    scope
        .split(' ')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn resolve_scope(client: &MockClient, requested: Option<&str>) -> Result<Option<String>, String> {
    let Some(requested) = requested else {
        return Ok(client.default_scope.clone());
    };
    if let Some(allowed) = &client.allowed_scopes {
        if let Some(bad) = requested
            .split(' ')
            .find(|s| !s.is_empty() && !allowed.iter().any(|a| a == s))
        {
            return Err(format!("scope `{bad}` is not allowed for this client"));
        }
    }
    let scope = normalize_scope(requested);
    Ok(if scope.is_empty() {
        client.default_scope.clone()
    } else {
        Some(scope)
    })
}

/// Checks `audience` against the client's requirement; `required` says whether it must be sent.
fn check_audience(client: &MockClient, sent: Option<&str>, required: bool) -> Result<(), String> {
    match (&client.audience, sent) {
        (None, _) => Ok(()),
        (Some(expected), Some(sent)) if sent == expected => Ok(()),
        (Some(expected), Some(sent)) => Err(format!(
            "audience `{sent}` is not valid for this client; expected `{expected}`"
        )),
        (Some(_), None) if !required => Ok(()),
        (Some(expected), None) => Err(format!(
            "the audience parameter is required (expected `{expected}`)"
        )),
    }
}

fn check_redirect_uri(client: &MockClient, uri: &str) -> Result<(), String> {
    let parsed =
        Url::parse(uri).map_err(|e| format!("redirect_uri `{uri}` is not an absolute URI: {e}"))?;
    if parsed.fragment().is_some() {
        return Err(format!("redirect_uri `{uri}` must not contain a fragment"));
    }
    if client.redirect_uris.is_empty()
        || client
            .redirect_uris
            .iter()
            .any(|registered| redirect_matches(registered, uri))
    {
        Ok(())
    } else {
        Err(format!(
            "redirect_uri `{uri}` is not registered for client `{}`",
            client.id
        ))
    }
}

/// Exact match, or for `http` loopback URIs a match that ignores the port (RFC 8252 §7.3).
fn redirect_matches(registered: &str, given: &str) -> bool {
    if registered == given {
        return true;
    }
    let (Ok(mut registered), Ok(mut given)) = (Url::parse(registered), Url::parse(given)) else {
        return false;
    };
    let loopback = |u: &Url| {
        u.scheme() == "http"
            && match u.host() {
                Some(Host::Ipv4(ip)) => ip.is_loopback(),
                Some(Host::Ipv6(ip)) => ip.is_loopback(),
                Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
                None => false,
            }
    };
    if !loopback(&registered) || !loopback(&given) {
        return false;
    }
    if registered.set_port(None).is_err() || given.set_port(None).is_err() {
        return false;
    }
    registered == given
}

/// `base` with `pairs` added to its query, or put in its fragment.
fn redirect_location(base: &str, pairs: &[(&str, String)], in_fragment: bool) -> String {
    let Ok(mut url) = Url::parse(base) else {
        return base.to_owned();
    };
    if in_fragment {
        let fragment = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())))
            .finish();
        url.set_fragment(Some(&fragment));
    } else {
        url.query_pairs_mut()
            .extend_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())));
    }
    url.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_redirects_ignore_the_port_only() {
        assert!(redirect_matches(
            "http://127.0.0.1/cb",
            "http://127.0.0.1:51234/cb"
        ));
        assert!(redirect_matches(
            "http://127.0.0.1:80/cb",
            "http://127.0.0.1:1/cb"
        ));
        assert!(redirect_matches(
            "http://[::1]:8080/cb",
            "http://[::1]:9090/cb"
        ));
        assert!(redirect_matches(
            "http://localhost/cb",
            "http://localhost:3000/cb"
        ));
        assert!(!redirect_matches(
            "http://127.0.0.1/cb",
            "http://127.0.0.1:5000/other"
        ));
        assert!(!redirect_matches(
            "http://127.0.0.1/cb",
            "http://localhost:5000/cb"
        ));
        assert!(!redirect_matches(
            "https://app.example/cb",
            "https://app.example:444/cb"
        ));
        assert!(!redirect_matches(
            "https://127.0.0.1/cb",
            "https://127.0.0.1:444/cb"
        ));
        assert!(redirect_matches(
            "https://app.example/cb",
            "https://app.example/cb"
        ));
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        // "a b:c%3Ad" → id "a b", secret "c:d"
        let encoded = STANDARD.encode("a+b:c%3Ad");
        assert_eq!(
            decode_basic(&encoded).unwrap(),
            ("a b".to_owned(), "c:d".to_owned())
        );
        assert!(decode_basic("%%%").is_err());
        assert!(decode_basic(&STANDARD.encode("nocolon")).is_err());
    }

    #[test]
    fn pkce_strings() {
        assert!(is_pkce_string(&"a".repeat(43)));
        assert!(is_pkce_string(&"-._~aZ09".repeat(16)));
        assert!(!is_pkce_string(&"a".repeat(42)));
        assert!(!is_pkce_string(&"a".repeat(129)));
        assert!(!is_pkce_string(&format!("{}+", "a".repeat(43))));
    }

    #[test]
    fn redirect_location_appends() {
        let pairs = [("code", "x y".to_owned()), ("state", "s&t".to_owned())];
        assert_eq!(
            redirect_location("https://a.example/cb?keep=1", &pairs, false),
            "https://a.example/cb?keep=1&code=x+y&state=s%26t"
        );
        assert_eq!(
            redirect_location("https://a.example/cb", &pairs, true),
            "https://a.example/cb#code=x+y&state=s%26t"
        );
    }
}
