//! The shared context of every subcommand: the flag groups ([`options`]), the plain
//! [`Common`] settings a subcommand fills from the groups it flattens, and what is built from
//! them: the [`Client`] (with `--issuer`'s metadata), the [`Wire`] requests go over (with
//! `-v` and the retry lines), checking endpoints, and printing the result.
//!
//! The `cmd` modules import from here; nothing here imports from them.

mod keys;
pub(crate) mod options;
mod tls;

use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use latchkey::drive::{DevicePolling, SendDriver, TransportSettings};
use latchkey::providers::{self, Provider};
use latchkey::{
    BodyEncoding, Client, ClientAuth, DevicePoll, DeviceWait, Discovery, Error, ErrorCode,
    Exchange, ResponseError, RetryPolicy, ServerMetadata, TokenSet, Url, WellKnown,
};
use latchkey_ureq::Transport;
use serde::Serialize;

use self::options::{
    AuthMethod, Body, IssuerArgs, NetworkArgs, Output, ProviderName, ScopeArgs, SecretArgs,
    WellKnownDoc,
};
use crate::failure::Failure;
use crate::output::{Object, add_secret, add_token_secrets, print_json, print_lines, token_object};
use crate::say;
use crate::trace::{Limits, Watch};

/// The endpoint flags a subcommand has (those it does not have stay `None`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Endpoints {
    pub(crate) auth_url: Option<String>,
    pub(crate) token_url: Option<String>,
    pub(crate) userinfo_url: Option<String>,
    pub(crate) device_url: Option<String>,
    pub(crate) revocation_url: Option<String>,
    pub(crate) introspection_url: Option<String>,
    pub(crate) par_url: Option<String>,
    pub(crate) end_session_url: Option<String>,
}

/// What building the client and sending need, filled by each subcommand from the flag
/// groups it flattens; a group it does not have stays empty.
#[derive(Debug, Clone)]
pub(crate) struct Common {
    pub(crate) issuer: IssuerArgs,
    pub(crate) endpoints: Endpoints,
    pub(crate) client_id: String,
    pub(crate) secret: SecretArgs,
    pub(crate) scope: ScopeArgs,
    /// `--param`: on the authorization request and the token requests.
    pub(crate) params: Vec<(String, String)>,
    /// `--auth-param`: on the authorization request only.
    pub(crate) auth_params: Vec<(String, String)>,
    /// `--token-param`: on the token requests only.
    pub(crate) token_params: Vec<(String, String)>,
    pub(crate) network: NetworkArgs,
}

impl Common {
    /// Settings with `--issuer`, the network flags and the client_id; the rest empty.
    pub(crate) fn new(issuer: &IssuerArgs, network: &NetworkArgs, client_id: &str) -> Self {
        Self {
            issuer: issuer.clone(),
            endpoints: Endpoints::default(),
            client_id: client_id.to_owned(),
            secret: SecretArgs::default(),
            scope: ScopeArgs::default(),
            params: Vec::new(),
            auth_params: Vec::new(),
            token_params: Vec::new(),
            network: network.clone(),
        }
    }

    /// Masks the client secret given on the command line or in the environment on stderr.
    pub(crate) fn register_secrets(&self) {
        if let Some(secret) = &self.secret.client_secret {
            add_secret(secret);
        }
    }

    /// The scopes as one space-separated value, each once.
    pub(crate) fn scope(&self) -> String {
        joined_scopes(&self.scope.scopes)
    }
}

/// Scopes as one space-separated value, each once.
pub(crate) fn joined_scopes(scopes: &[String]) -> String {
    let mut out: Vec<&str> = Vec::new();
    for scope in scopes.iter().flat_map(|s| s.split(' ')) {
        if !scope.is_empty() && !out.contains(&scope) {
            out.push(scope);
        }
    }
    out.join(" ")
}

/// The client authentication method the last client was built with, for the hint on an
/// `invalid_client` answer.
static AUTH_METHOD: Mutex<Option<ClientAuth>> = Mutex::new(None);

/// Builds the client from the settings: `--issuer`'s metadata first, then the endpoint
/// flags, which win over it.
///
/// # Errors
///
/// [`Failure::Usage`] when `--issuer`'s metadata shows that the client authentication
/// cannot work; whatever fetching the metadata or building the client met.
pub(crate) fn client(common: &Common, redirect_uri: Option<&str>) -> Result<Client, Failure> {
    let endpoints = &common.endpoints;
    let mut builder = match preset(common)? {
        Some(provider) => provider.client(common.client_id.as_str()),
        None => Client::builder(common.client_id.as_str()),
    };
    if let Some(body) = common.secret.body {
        builder = builder.body_encoding(match body {
            Body::Form => BodyEncoding::Form,
            Body::Json => BodyEncoding::Json,
            Body::Multipart => BodyEncoding::Multipart,
        });
    }
    // --issuer (discovery) first, so that the endpoint flags below win.
    if let Some(issuer) = &common.issuer.issuer {
        let metadata = metadata(common, issuer)?;
        check_auth_method(common, &metadata)?;
        builder = builder.metadata(&metadata);
    }
    let urls = [
        (&endpoints.device_url, ClientUrl::Device),
        (&endpoints.revocation_url, ClientUrl::Revocation),
        (&endpoints.introspection_url, ClientUrl::Introspection),
        (&endpoints.par_url, ClientUrl::Par),
        (&endpoints.end_session_url, ClientUrl::EndSession),
        (&endpoints.auth_url, ClientUrl::Authorization),
        (&endpoints.token_url, ClientUrl::Token),
        (&endpoints.userinfo_url, ClientUrl::Userinfo),
    ];
    for (url, which) in urls {
        if let Some(url) = url {
            builder = which.set(builder, url);
        }
    }
    if let Some(secret) = common.secret.secret() {
        builder = builder.client_secret(secret);
    }
    // A client certificate means mutual TLS: the metadata's mtls_endpoint_aliases are used
    // (RFC 8705 §5), whatever the client authentication.
    if common.network.cert.is_some() {
        builder = builder.mutual_tls(true);
    }
    let secret = &common.secret;
    if let Some(path) = &secret.private_key {
        let mut key = keys::load("--private-key", path, secret.key_alg.as_deref())?;
        if let Some(kid) = &secret.key_id {
            key = key.with_kid(kid.as_str());
        }
        builder = builder.private_key_jwt(key);
    }
    if let Some(method) = secret.auth_method {
        if method == AuthMethod::PrivateKeyJwt && secret.private_key.is_none() {
            return Err(Failure::Usage(
                "--auth-method private_key_jwt needs --private-key FILE".into(),
            ));
        }
        builder = builder.auth_method(match method {
            AuthMethod::Basic => ClientAuth::Basic,
            AuthMethod::Post => ClientAuth::Post,
            AuthMethod::None => ClientAuth::None,
            AuthMethod::PrivateKeyJwt => ClientAuth::PrivateKeyJwt,
            AuthMethod::ClientSecretJwt => ClientAuth::ClientSecretJwt,
            AuthMethod::TlsClientAuth => ClientAuth::TlsClientAuth,
            AuthMethod::SelfSignedTlsClientAuth => ClientAuth::SelfSignedTlsClientAuth,
        });
        if method.is_mutual_tls() && common.network.cert.is_none() {
            return Err(Failure::Usage(format!(
                "--auth-method {}: needs the client certificate, --cert FILE --key FILE",
                method.flag_value()
            )));
        }
    }
    if secret.dpop || secret.dpop_key.is_some() {
        let key = keys::dpop(secret.dpop_key.as_deref(), secret.key_alg.as_deref())?;
        builder = builder.dpop(latchkey::Dpop::new(key));
    }
    if !common.secret.id_token_algs.is_empty() {
        let mut algorithms = Vec::new();
        for name in &common.secret.id_token_algs {
            let alg = latchkey::jose::Algorithm::parse(name).ok_or_else(|| {
                Failure::Usage(format!(
                    "--id-token-alg {name}: not one of RS256, RS384, RS512, PS256, PS384, \
                     PS512, ES256, ES384, EdDSA, HS256, HS384, HS512"
                ))
            })?;
            algorithms.push(alg);
        }
        builder = builder.id_token_algorithms(algorithms);
    }
    if let Some(uri) = redirect_uri {
        builder = builder.redirect_uri(uri);
    }
    if let Some(audience) = &common.scope.audience {
        builder = builder.audience(audience.as_str());
    }
    for (name, value) in common.params.iter().chain(&common.token_params) {
        builder = builder.token_param(name.as_str(), value.as_str());
    }
    let client = builder.build()?;
    *AUTH_METHOD.lock().unwrap_or_else(PoisonError::into_inner) = Some(client.auth_method());
    Ok(client)
}

/// The `--provider` preset with its `--tenant`, `--domain`... filled in.
///
/// # Errors
///
/// [`Failure::Usage`] for a missing or unusable provider setting.
pub(crate) fn preset(common: &Common) -> Result<Option<Provider>, Failure> {
    let args = &common.issuer;
    let Some(name) = args.provider else {
        return Ok(None);
    };
    let needs = |value: &Option<String>, flag: &str| {
        value.clone().ok_or_else(|| {
            Failure::Usage(format!(
                "--provider {}: needs {flag}",
                clap::ValueEnum::to_possible_value(&name)
                    .map_or_else(String::new, |v| v.get_name().to_owned())
            ))
        })
    };
    let usage = |e: Error| Failure::Usage(format!("--provider: {e}"));
    let provider = match name {
        ProviderName::Github => providers::github(),
        ProviderName::Google => providers::google(),
        ProviderName::Microsoft => {
            providers::microsoft(&needs(&args.tenant, "--tenant")?).map_err(usage)?
        }
        ProviderName::Auth0 => {
            providers::auth0(&needs(&args.domain, "--domain")?).map_err(usage)?
        }
        ProviderName::Okta => {
            let server = args.authorization_server.as_deref().unwrap_or("default");
            providers::okta(&needs(&args.domain, "--domain")?, server).map_err(usage)?
        }
        ProviderName::Keycloak => providers::keycloak(
            &needs(&args.base_url, "--base-url")?,
            &needs(&args.realm, "--realm")?,
        )
        .map_err(usage)?,
        ProviderName::Gitlab => {
            providers::gitlab(args.base_url.as_deref().unwrap_or("https://gitlab.com"))
                .map_err(usage)?
        }
        ProviderName::LoomAi => providers::loom_ai(),
        ProviderName::Coloop => providers::coloop(),
        ProviderName::Blooma => providers::blooma(&needs(&common.scope.audience, "--audience")?),
        ProviderName::LoopAndTie => providers::loop_and_tie(),
    };
    Ok(Some(provider))
}

/// The endpoint a flag sets on the client builder.
#[derive(Clone, Copy)]
enum ClientUrl {
    Authorization,
    Token,
    Userinfo,
    Device,
    Revocation,
    Introspection,
    Par,
    EndSession,
}

impl ClientUrl {
    fn set(self, builder: latchkey::ClientBuilder, url: &str) -> latchkey::ClientBuilder {
        match self {
            Self::Authorization => builder.authorization_endpoint(url),
            Self::Token => builder.token_endpoint(url),
            Self::Userinfo => builder.userinfo_endpoint(url),
            Self::Device => builder.device_authorization_endpoint(url),
            Self::Revocation => builder.revocation_endpoint(url),
            Self::Introspection => builder.introspection_endpoint(url),
            Self::Par => builder.pushed_authorization_request_endpoint(url),
            Self::EndSession => builder.end_session_endpoint(url),
        }
    }
}

/// Refuses, before any login, a client authentication the server says it does not accept:
/// a secret when it lists neither `client_secret_basic` nor `client_secret_post`, or an
/// `--auth-method` it does not list. (Without a secret the client is public; a server that
/// does not list `none` gets a note, since many accept public clients without saying so.)
fn check_auth_method(common: &Common, metadata: &ServerMetadata) -> Result<(), Failure> {
    let Some(listed) = &metadata.token_endpoint_auth_methods_supported else {
        return Ok(());
    };
    if listed.is_empty() || common.endpoints.token_url.is_some() {
        return Ok(());
    }
    let lists = |name: &str| listed.iter().any(|m| m == name);
    let shown = listed.join(", ");
    // --private-key alone means private_key_jwt.
    let method = common.secret.auth_method.or_else(|| {
        common
            .secret
            .private_key
            .as_ref()
            .map(|_| AuthMethod::PrivateKeyJwt)
    });
    match (method, common.secret.secret()) {
        (Some(AuthMethod::None), _) | (None, None) => {
            if !lists("none") {
                say!(
                    "latchkey: note: the server lists only {shown} in \
                     token_endpoint_auth_methods_supported; without a client secret, none is used"
                );
            }
            Ok(())
        }
        (Some(method), _) if !lists(method.metadata_name()) => Err(Failure::Usage(format!(
            "--auth-method {}: the server supports only {shown} \
             (token_endpoint_auth_methods_supported)",
            method.flag_value()
        ))),
        (None, Some(_))
            if !lists("client_secret_basic")
                && !lists("client_secret_post")
                && !lists("client_secret_jwt") =>
        {
            Err(Failure::Usage(format!(
                "the server supports only {shown} (token_endpoint_auth_methods_supported); with \
                 a client secret latchkey authenticates with client_secret_basic, \
                 client_secret_post or client_secret_jwt (for private_key_jwt give --private-key)"
            )))
        }
        _ => Ok(()),
    }
}

/// The metadata fetched so far in this process, so that a command that builds its client
/// twice discovers once.
static DISCOVERED: Mutex<Vec<(String, ServerMetadata)>> = Mutex::new(Vec::new());

/// The issuer's metadata: the document `--well-known` names, or RFC 8414 and then, if that
/// is not served, OpenID Connect Discovery. The issuer must match exactly. Fetched once per
/// process.
pub(crate) fn metadata(common: &Common, issuer: &str) -> Result<ServerMetadata, Failure> {
    let mut discovered = DISCOVERED.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, metadata)) = discovered.iter().find(|(i, _)| i == issuer) {
        return Ok(metadata.clone());
    }
    let metadata = fetch_metadata(common, issuer).map_err(|failure| {
        // The most common cause of an issuer mismatch: a slash too many.
        match (issuer.strip_suffix('/'), &failure) {
            (Some(trimmed), Failure::OAuth(Error::Response(_)) | Failure::OAuth(Error::Config(_)))
                if trimmed.contains("://") && !trimmed.ends_with(':') =>
            {
                failure.with_hint(format!(
                    "the issuer ends with a slash; most servers' issuer has none: try --issuer {trimmed}"
                ))
            }
            _ => failure,
        }
    })?;
    discovered.push((issuer.to_owned(), metadata.clone()));
    Ok(metadata)
}

/// Fetches the metadata [`metadata`] describes, without looking at what was fetched before.
fn fetch_metadata(common: &Common, issuer: &str) -> Result<ServerMetadata, Failure> {
    check_url("--issuer", issuer, common.network.insecure_http)?;
    let wire = wire(common)?;
    let fetch = |kind| -> Result<ServerMetadata, Failure> {
        let discovery = Discovery::new(issuer, kind)?;
        say!(
            "latchkey: fetching the server metadata at {}",
            discovery.url()
        );
        wire.send(discovery)
    };
    match common.issuer.well_known {
        Some(WellKnownDoc::Oauth) => fetch(WellKnown::OAuthAuthorizationServer),
        Some(WellKnownDoc::Openid) => fetch(WellKnown::OpenIdConfiguration),
        None => match fetch(WellKnown::OAuthAuthorizationServer) {
            Err(Failure::OAuth(Error::Response(ResponseError::Unexpected { status, .. })))
                if !(200..300).contains(&status) =>
            {
                say!("latchkey: not served (HTTP {status}); trying OpenID Connect Discovery");
                fetch(WellKnown::OpenIdConfiguration)
            }
            other => other,
        },
    }
}

/// Refuses an endpoint that would send credentials in clear text to another machine.
pub(crate) fn check_url(flag: &str, url: &str, insecure_http: bool) -> Result<(), Failure> {
    let parsed = latchkey::parse_url(url).map_err(|e| Failure::Usage(format!("{flag}: {e}")))?;
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if insecure_http || latchkey::drive::is_loopback(&parsed) => Ok(()),
        "http" => Err(Failure::Usage(format!(
            "{flag}: http:// to a host other than loopback sends credentials in clear text; \
             use https or pass --insecure-http"
        ))),
        scheme => Err(Failure::Usage(format!(
            "{flag}: scheme {scheme} is not http or https"
        ))),
    }
}

/// The client's endpoint that `flag` sets (from the flag or from `--issuer`'s metadata),
/// checked like a flag.
pub(crate) fn endpoint(url: Option<&Url>, flag: &str, common: &Common) -> Result<String, Failure> {
    let Some(url) = url else {
        return Err(Failure::Usage(match &common.issuer.issuer {
            Some(issuer) => format!("the metadata of {issuer} has no endpoint for {flag}"),
            None => format!("this needs {flag} or --issuer"),
        }));
    };
    check_url(flag, url.as_str(), common.network.insecure_http)?;
    Ok(url.to_string())
}

/// How requests go out: the blocking transport and its settings, `-v`, and the network
/// flags (for naming the limit that fired).
pub(crate) struct Wire {
    transport: Transport,
    settings: TransportSettings,
    network: NetworkArgs,
}

/// The wire, configured from `--connect-timeout`, `--max-time`, `--insecure-http` and
/// `--retries`.
pub(crate) fn wire(common: &Common) -> Result<Wire, Failure> {
    let network = &common.network;
    if network.verbose {
        crate::trace::show_core_trace();
    }
    let policy = if network.retries == 0 {
        RetryPolicy::never()
    } else {
        RetryPolicy::with_retries(network.retries)
    };
    let mut settings = TransportSettings::default();
    settings.connect_timeout = network.connect_timeout;
    settings.timeout = network.max_time;
    settings.allow_insecure_http = network.insecure_http;
    settings.retry_policy = policy;
    let builder = Transport::builder()
        .allow_insecure_http(network.insecure_http)
        .retry_policy(policy)
        .timeout(network.max_time)
        .connect_timeout(network.connect_timeout);
    let builder = tls::configure(builder, network)?;
    let transport = builder.try_build()?;
    // The driver's settings carry the certificate too: token sets are bound to it.
    settings.client_certificate = transport_certificate(&transport);
    Ok(Wire {
        transport,
        settings,
        network: network.clone(),
    })
}

/// The thumbprint of the client certificate `transport` presents, if any.
fn transport_certificate(transport: &Transport) -> Option<latchkey::CertificateThumbprint> {
    use latchkey::manage::ManagedTransport as _;
    transport.client_certificate()
}

impl Wire {
    /// Sends an exchange: one line per retry; with `-v`, every request and answer.
    pub(crate) fn send<E: Exchange>(&self, exchange: E) -> Result<E::Output, Failure> {
        let driver = Watch::retrying(
            SendDriver::new(exchange, &self.settings),
            self.network.verbose,
            self.network.retries.saturating_add(1),
            self.limits(),
        );
        self.transport
            .run(driver)
            .map_err(|error| self.explain(error))
    }

    /// Polls the token endpoint for a device authorization; with `-v`, every poll.
    pub(crate) fn poll_device(
        &self,
        poll: DevicePoll,
        on_wait: impl FnMut(DeviceWait),
    ) -> Result<TokenSet, Failure> {
        let driver = Watch::polling(
            DevicePolling::with_progress(poll, &self.settings, on_wait),
            self.network.verbose,
            self.limits(),
        );
        self.transport
            .run(driver)
            .map_err(|error| self.explain(error))
    }

    /// The per-attempt time limits.
    fn limits(&self) -> Limits {
        Limits {
            connect: self.network.connect_timeout,
            max_time: self.network.max_time,
        }
    }

    /// The failure for an error, with what the user can do about it: the limit that fired
    /// for a timeout, plain http behind `https://`, the client authentication behind an
    /// `invalid_client`.
    fn explain(&self, error: Error) -> Failure {
        match &error {
            Error::Transport(e) => match self.limits().describe(e) {
                Some(text) => Failure::Other(text),
                None => Failure::OAuth(error),
            },
            Error::Server(e) if e.code == ErrorCode::InvalidClient => {
                let method = AUTH_METHOD
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .unwrap_or(ClientAuth::None);
                let other = match method {
                    ClientAuth::Basic => "--auth-method post",
                    ClientAuth::Post => "--auth-method basic",
                    ClientAuth::TlsClientAuth | ClientAuth::SelfSignedTlsClientAuth => {
                        "--cert and --key (the certificate the server has for the client)"
                    }
                    _ => "--client-secret (or LATCHKEY_CLIENT_SECRET)",
                };
                Failure::OAuth(error).with_hint(format!(
                    "the client authenticated with {}; {other} changes that",
                    method.as_str()
                ))
            }
            _ => Failure::OAuth(error),
        }
    }
}

/// Prints the result (metadata, claims, an introspection answer...) to stdout as JSON.
pub(crate) fn print_result(value: &impl Serialize) -> Result<(), Failure> {
    print_json(value).map_err(|e| Failure::Other(format!("cannot write stdout: {e}")))
}

/// Prints the token set to stdout in the `--output` format, with a summary on stderr.
/// `expires_in` is the time left (what is left of a cached token's lifetime).
pub(crate) fn print_tokens(tokens: &TokenSet, output: Output) -> Result<(), Failure> {
    add_token_secrets(tokens);
    let left = tokens.expires_at().map(|at| {
        at.duration_since(SystemTime::now())
            .map_or(0, |left| left.as_secs_f64().round() as u64)
    });
    let mut summary = format!("latchkey: got a {} token", tokens.token_type().as_str());
    if let Some(expires_in) = left.or_else(|| tokens.expires_in()) {
        summary.push_str(&format!(", expires in {expires_in} s"));
    }
    if tokens.refresh_token().is_some() {
        summary.push_str(", with a refresh token");
    }
    say!("{summary}");
    let mut object = token_object(tokens, false);
    if let Some(left) = left {
        set_member(&mut object, "expires_in", left.into());
    }
    let written = match output {
        Output::Json => return print_result(&object),
        Output::Token => print_lines(&[tokens.access_token().expose_secret().to_owned()]),
        Output::Header if tokens.dpop_key().is_some() => {
            say!(
                "latchkey: note: a DPoP-bound token needs a fresh DPoP proof of the key on \
                 every request besides this header (RFC 9449)"
            );
            print_lines(&[format!(
                "Authorization: DPoP {}",
                tokens.access_token().expose_secret()
            )])
        }
        Output::Header => print_lines(&[format!(
            "Authorization: {} {}",
            tokens.token_type().as_str(),
            tokens.access_token().expose_secret()
        )]),
        Output::Env => print_lines(&env_lines(&object)),
    };
    written.map_err(|e| Failure::Other(format!("cannot write stdout: {e}")))
}

/// Sets `key` in the object, in place when it is there, else at the end... after
/// `token_type`, where the JSON output has it.
fn set_member(object: &mut Object, key: &str, value: serde_json::Value) {
    match object.0.iter_mut().find(|(k, _)| k == key) {
        Some((_, slot)) => *slot = value,
        None => {
            let at = object
                .0
                .iter()
                .position(|(k, _)| k == "token_type")
                .map_or(object.0.len(), |i| i + 1);
            object.0.insert(at, (key.to_owned(), value));
        }
    }
}

/// The token object as `LATCHKEY_<MEMBER>=value` lines (strings and numbers; values quoted
/// for the shell when they need it).
fn env_lines(object: &Object) -> Vec<String> {
    object
        .0
        .iter()
        .filter_map(|(key, value)| {
            let text = match value {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                _ => return None,
            };
            let name: String = key
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_uppercase()
                    } else {
                        '_'
                    }
                })
                .collect();
            Some(format!("LATCHKEY_{name}={}", shell_quote(&text)))
        })
        .collect()
}

/// The value as one shell word: as it is when it holds only safe characters, else in single
/// quotes.
fn shell_quote(value: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-._~+/=:@%,".contains(c);
    if !value.is_empty() && value.chars().all(safe) {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked() {
        assert!(check_url("--token-url", "https://a.example/t", false).is_ok());
        assert!(check_url("--token-url", "http://127.0.0.1:9/t", false).is_ok());
        assert!(check_url("--token-url", "http://localhost/t", false).is_ok());
        assert!(matches!(
            check_url("--token-url", "http://a.example/t", false),
            Err(Failure::Usage(_))
        ));
        // A name under `localhost` is looked up in DNS like any other: not loopback.
        assert!(matches!(
            check_url("--token-url", "http://evil.localhost:8080/t", false),
            Err(Failure::Usage(_))
        ));
        assert!(check_url("--token-url", "http://a.example/t", true).is_ok());
        assert!(check_url("--token-url", "ftp://a.example/t", true).is_err());
        assert!(check_url("--token-url", "https://u:p@a.example/t", true).is_err());
        assert!(check_url("--token-url", "not a url", true).is_err());
    }

    #[test]
    fn scopes_are_joined_once() {
        let scopes = vec![
            "a b".to_owned(),
            "c".to_owned(),
            "a".to_owned(),
            String::new(),
        ];
        assert_eq!(joined_scopes(&scopes), "a b c");
    }

    #[test]
    fn env_values_are_shell_words() {
        assert_eq!(shell_quote("abc-1.2_x/y+z="), "abc-1.2_x/y+z=");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote(""), "''");
        let mut object = Object::default();
        object
            .0
            .push(("access_token".into(), serde_json::Value::from("t")));
        object
            .0
            .push(("scope".into(), serde_json::Value::from("a b")));
        object
            .0
            .push(("extra".into(), serde_json::json!({"nested": true})));
        assert_eq!(
            env_lines(&object),
            ["LATCHKEY_ACCESS_TOKEN=t", "LATCHKEY_SCOPE='a b'"]
        );
    }
}
