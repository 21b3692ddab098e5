//! The subcommands and flags past RFC 6749: `discover` and `--issuer` (RFC 8414, OpenID
//! Connect Discovery), `device` (RFC 8628), `revoke` (RFC 7009), `introspect` (RFC 7662),
//! `token-exchange` (RFC 8693), `--resource` (RFC 8707), and PAR for `authorize` (RFC 9126).
//! The `iss` check (RFC 9207) comes with `--issuer`: the metadata turns it on.

use std::io::{self, IsTerminal as _, Write as _};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use clap::{Args, ValueEnum};
use latchkey::{
    AccessToken, AuthorizationRequest, AuthorizationUrl, Client, ClientBuilder, Discovery, Error,
    ErrorCode, PendingAuthorization, RefreshToken, ResponseError, ServerMetadata, Url, WellKnown,
    token_types,
};
use latchkey_ureq::{DeviceWait, Transport};
use serde_json::json;

use crate::args::Common;
use crate::commands::{
    check_url, client, joined_scopes, print_tokens, register_secrets, required, send, transport,
};
use crate::output::{add_secret, print_json};
use crate::{Failure, say};

/// Flags every flow subcommand takes on top of the RFC 6749 ones (flattened into
/// [`Common`]).
#[derive(Debug, Args)]
pub(crate) struct ProtocolArgs {
    /// The authorization server's issuer identifier: its endpoints come from its metadata
    /// (RFC 8414, then OpenID Connect Discovery), the metadata's issuer must match exactly,
    /// `iss` is checked on callbacks when it advertises it (RFC 9207), and PAR is used when it
    /// requires it. Endpoint flags given as well take precedence.
    #[arg(long, value_name = "URL", help_heading = "Endpoints")]
    pub(crate) issuer: Option<String>,
    /// Which metadata document --issuer fetches [default: oauth, then openid if that is not
    /// served].
    #[arg(
        long,
        value_enum,
        value_name = "KIND",
        requires = "issuer",
        help_heading = "Endpoints"
    )]
    pub(crate) well_known: Option<WellKnownDoc>,
    /// Device authorization endpoint (device).
    #[arg(long, value_name = "URL", help_heading = "Endpoints")]
    pub(crate) device_url: Option<String>,
    /// Token revocation endpoint (revoke).
    #[arg(long, value_name = "URL", help_heading = "Endpoints")]
    pub(crate) revocation_url: Option<String>,
    /// Token introspection endpoint (introspect).
    #[arg(long, value_name = "URL", help_heading = "Endpoints")]
    pub(crate) introspection_url: Option<String>,
    /// Pushed authorization request endpoint (authorize --par).
    #[arg(long, value_name = "URL", help_heading = "Endpoints")]
    pub(crate) par_url: Option<String>,
    /// Resource indicator (RFC 8707) on the authorization and token requests; repeatable.
    #[arg(long = "resource", value_name = "URI", help_heading = "Request")]
    pub(crate) resources: Vec<String>,
}

/// The metadata document `--issuer` fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum WellKnownDoc {
    /// RFC 8414: /.well-known/oauth-authorization-server (inserted before the issuer's path).
    Oauth,
    /// OpenID Connect: /.well-known/openid-configuration (appended to the issuer).
    Openid,
}

/// `latchkey discover`.
#[derive(Debug, Args)]
pub(crate) struct DiscoverArgs {
    #[command(flatten)]
    pub(crate) common: Common,
}

/// `latchkey device`.
#[derive(Debug, Args)]
pub(crate) struct DeviceArgs {
    #[command(flatten)]
    pub(crate) common: Common,
}

/// The token `revoke` and `introspect` send.
#[derive(Debug, Args)]
pub(crate) struct TokenArgs {
    /// The token (a value starting with `-` is fine). Prefer the LATCHKEY_TOKEN environment
    /// variable.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "LATCHKEY_TOKEN",
        hide_env_values = true,
        allow_hyphen_values = true,
        required = true
    )]
    pub(crate) token: String,
    /// What kind of token it is, as a hint to the server [default: no hint].
    #[arg(long, value_enum, value_name = "HINT")]
    pub(crate) token_type_hint: Option<Hint>,
}

/// `token_type_hint` (RFC 7009 §2.1, RFC 7662 §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Hint {
    /// An access token.
    #[value(name = "access_token")]
    AccessToken,
    /// A refresh token.
    #[value(name = "refresh_token")]
    RefreshToken,
}

/// `latchkey revoke`.
#[derive(Debug, Args)]
pub(crate) struct RevokeArgs {
    #[command(flatten)]
    pub(crate) common: Common,
    #[command(flatten)]
    pub(crate) token: TokenArgs,
}

/// `latchkey introspect`.
#[derive(Debug, Args)]
pub(crate) struct IntrospectArgs {
    #[command(flatten)]
    pub(crate) common: Common,
    #[command(flatten)]
    pub(crate) token: TokenArgs,
}

/// `latchkey token-exchange`.
#[derive(Debug, Args)]
pub(crate) struct TokenExchangeArgs {
    #[command(flatten)]
    pub(crate) common: Common,
    /// The token to exchange. Prefer the LATCHKEY_SUBJECT_TOKEN environment variable.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "LATCHKEY_SUBJECT_TOKEN",
        hide_env_values = true,
        allow_hyphen_values = true,
        required = true,
        help_heading = "Token exchange"
    )]
    pub(crate) subject_token: String,
    /// Its type: access_token, refresh_token, id_token, jwt, saml1, saml2, or a full URI.
    #[arg(long, value_name = "TYPE", value_parser = token_type, required = true, help_heading = "Token exchange")]
    pub(crate) subject_token_type: String,
    /// A token for the party acting on the subject's behalf (delegation).
    #[arg(
        long,
        value_name = "TOKEN",
        allow_hyphen_values = true,
        requires = "actor_token_type",
        help_heading = "Token exchange"
    )]
    pub(crate) actor_token: Option<String>,
    /// The actor token's type (as for --subject-token-type).
    #[arg(long, value_name = "TYPE", value_parser = token_type, requires = "actor_token", help_heading = "Token exchange")]
    pub(crate) actor_token_type: Option<String>,
    /// The type of token wanted (as for --subject-token-type) [default: the server's choice].
    #[arg(long, value_name = "TYPE", value_parser = token_type, help_heading = "Token exchange")]
    pub(crate) requested_token_type: Option<String>,
}

/// A token type: a short name from RFC 8693 §3, or any URI.
fn token_type(s: &str) -> Result<String, String> {
    Ok(match s {
        "access_token" => token_types::ACCESS_TOKEN,
        "refresh_token" => token_types::REFRESH_TOKEN,
        "id_token" => token_types::ID_TOKEN,
        "jwt" => token_types::JWT,
        "saml1" => token_types::SAML1,
        "saml2" => token_types::SAML2,
        uri if uri.contains(':') => uri,
        _ => {
            return Err(
                "expected access_token, refresh_token, id_token, jwt, saml1, saml2 or a URI"
                    .to_owned(),
            );
        }
    }
    .to_owned())
}

/// Applies `--issuer` (discovery first) and the endpoint flags of this module to a client
/// builder. Called before the RFC 6749 endpoint flags are applied, so those win.
pub(crate) fn configure(
    common: &Common,
    mut builder: ClientBuilder,
) -> Result<ClientBuilder, Failure> {
    let flags = &common.protocol;
    if let Some(issuer) = &flags.issuer {
        builder = builder.metadata(&metadata(common, issuer)?);
    }
    if let Some(url) = &flags.device_url {
        builder = builder.device_authorization_endpoint(url.as_str());
    }
    if let Some(url) = &flags.revocation_url {
        builder = builder.revocation_endpoint(url.as_str());
    }
    if let Some(url) = &flags.introspection_url {
        builder = builder.introspection_endpoint(url.as_str());
    }
    if let Some(url) = &flags.par_url {
        builder = builder.pushed_authorization_request_endpoint(url.as_str());
    }
    Ok(builder)
}

/// The metadata fetched so far in this process, so that a command that builds its client
/// twice discovers once.
static DISCOVERED: Mutex<Vec<(String, ServerMetadata)>> = Mutex::new(Vec::new());

/// Fetches the issuer's metadata: the document `--well-known` names, or RFC 8414 and then,
/// if that is not served, OpenID Connect Discovery. The issuer must match exactly.
fn metadata(common: &Common, issuer: &str) -> Result<ServerMetadata, Failure> {
    let mut discovered = DISCOVERED.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, metadata)) = discovered.iter().find(|(i, _)| i == issuer) {
        return Ok(metadata.clone());
    }
    let metadata = fetch_metadata(common, issuer)?;
    discovered.push((issuer.to_owned(), metadata.clone()));
    Ok(metadata)
}

fn fetch_metadata(common: &Common, issuer: &str) -> Result<ServerMetadata, Failure> {
    check_url("--issuer", issuer, common.insecure_http)?;
    let transport = transport(common);
    let fetch = |kind| -> Result<ServerMetadata, Failure> {
        let discovery = Discovery::new(issuer, kind)?;
        say!(
            "latchkey: fetching the server metadata at {}",
            discovery.url()
        );
        send(&transport, discovery, common.verbose)
    };
    match common.protocol.well_known {
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

/// The client's endpoint that `flag` sets (from the flag or from `--issuer`'s metadata),
/// checked like a flag.
pub(crate) fn endpoint(url: Option<&Url>, flag: &str, common: &Common) -> Result<String, Failure> {
    let Some(url) = url else {
        return Err(Failure::Usage(match &common.protocol.issuer {
            Some(issuer) => format!("the metadata of {issuer} has no endpoint for {flag}"),
            None => format!("this needs {flag} or --issuer"),
        }));
    };
    check_url(flag, url.as_str(), common.insecure_http)?;
    Ok(url.to_string())
}

/// Adds every `--resource` to an authorization request.
pub(crate) fn with_resources<'c>(
    common: &Common,
    mut request: AuthorizationRequest<'c>,
) -> AuthorizationRequest<'c> {
    for resource in &common.protocol.resources {
        request = request.resource(resource);
    }
    request
}

/// The authorization URL: pushed first (RFC 9126) with `--par` or when the metadata requires
/// it, else built directly.
pub(crate) fn authorization_url(
    common: &Common,
    client: &Client,
    transport: &Transport,
    request: AuthorizationRequest<'_>,
    par: bool,
) -> Result<(AuthorizationUrl, PendingAuthorization), Failure> {
    if !(par || client.requires_pushed_authorization()) {
        return Ok(request.build()?);
    }
    let par_url = endpoint(
        client.pushed_authorization_request_endpoint(),
        "--par-url",
        common,
    )?;
    say!("latchkey: pushing the authorization request to {par_url} (RFC 9126)");
    send(transport, request.push()?, common.verbose)
}

/// `latchkey discover`: prints the issuer's metadata.
pub(crate) fn discover(args: &DiscoverArgs) -> Result<(), Failure> {
    let common = &args.common;
    let issuer = required(common.protocol.issuer.as_deref(), "discover", "--issuer")?;
    let metadata = metadata(common, issuer)?;
    say!(
        "latchkey: the metadata of {} (issuer matches)",
        metadata.issuer
    );
    print_json(&metadata).map_err(|e| Failure::Other(format!("cannot write stdout: {e}")))
}

/// `latchkey device`: the device authorization grant, with a live countdown on stderr.
pub(crate) fn device(args: &DeviceArgs) -> Result<(), Failure> {
    let common = &args.common;
    register_secrets(common);
    let client_id = required(common.client_id.as_deref(), "device", "--client-id")?;
    let client = client(common, client_id, None)?;
    let device_url = endpoint(
        client.device_authorization_endpoint(),
        "--device-url",
        common,
    )?;
    endpoint(client.token_endpoint(), "--token-url", common)?;
    let transport = transport(common);
    let mut request = client.device_authorization()?;
    let scope = joined_scopes(&common.scopes);
    if !scope.is_empty() {
        request = request.scope(scope);
    }
    for resource in &common.protocol.resources {
        request = request.resource(resource);
    }
    say!("latchkey: asking for a user code at {device_url}");
    let auth = send(&transport, request, common.verbose)?;
    add_secret(auth.device_code.expose_secret());
    say!(
        "latchkey: on a device with a browser, open {}",
        auth.verification_uri
    );
    say!("latchkey: and enter the code {}", auth.user_code);
    if let Some(complete) = &auth.verification_uri_complete {
        say!("latchkey: (or open {complete} directly)");
    }
    let poll = auth.poller(&client)?;
    say!(
        "latchkey: waiting up to {} s for approval, polling every {} s",
        auth.expires_in.as_secs(),
        poll.interval().as_secs()
    );
    let mut countdown = Countdown::new(poll.interval());
    let result = transport.poll_device_with(poll, |wait| countdown.show(wait));
    countdown.finish();
    let tokens = match result {
        Err(Error::Server(e)) if e.code == ErrorCode::ExpiredToken && e.status.is_none() => {
            return Err(Failure::Other(
                "the device code expired before the authorization was approved \
                 (expired_token); run `latchkey device` again"
                    .into(),
            ));
        }
        other => other?,
    };
    print_tokens(&tokens)
}

/// The live countdown while `device` waits: one rewritten line on a terminal; otherwise a
/// line only when the server slows polling down.
struct Countdown {
    live: bool,
    shown: bool,
    interval: Duration,
}

impl Countdown {
    fn new(interval: Duration) -> Self {
        Self {
            live: io::stderr().is_terminal(),
            shown: false,
            interval,
        }
    }

    fn show(&mut self, wait: DeviceWait) {
        if wait.interval != self.interval {
            self.interval = wait.interval;
            self.finish();
            say!(
                "latchkey: the server asked to slow down; polling every {} s",
                wait.interval.as_secs()
            );
        }
        if self.live {
            let left = wait.expires_in.as_secs();
            // Only digits and our own words: nothing to redact or escape.
            let mut err = io::stderr().lock();
            let _ = write!(
                err,
                "\r\x1b[2Klatchkey: waiting for approval, {}:{:02} left ({} polls)",
                left / 60,
                left % 60,
                wait.polls
            );
            let _ = err.flush();
            self.shown = true;
        }
    }

    /// Clears the countdown line, if one is shown.
    fn finish(&mut self) {
        if self.shown {
            let mut err = io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            self.shown = false;
        }
    }
}

/// `latchkey revoke`: RFC 7009.
pub(crate) fn revoke(args: &RevokeArgs) -> Result<(), Failure> {
    let common = &args.common;
    register_secrets(common);
    add_secret(&args.token.token);
    let client_id = required(common.client_id.as_deref(), "revoke", "--client-id")?;
    let client = client(common, client_id, None)?;
    let url = endpoint(client.revocation_endpoint(), "--revocation-url", common)?;
    let token = args.token.token.as_str();
    let revocation = match args.token.token_type_hint {
        Some(Hint::AccessToken) => client.revoke(&AccessToken::new(token))?,
        Some(Hint::RefreshToken) => client.revoke(&RefreshToken::new(token))?,
        None => client.revoke(&AccessToken::new(token))?.without_hint(),
    };
    say!("latchkey: revoking at {url}");
    send(&transport(common), revocation, common.verbose)?;
    say!("latchkey: the server accepted the revocation (it says so for unknown tokens too)");
    print_json(&json!({ "revoked": true }))
        .map_err(|e| Failure::Other(format!("cannot write stdout: {e}")))
}

/// `latchkey introspect`: RFC 7662.
pub(crate) fn introspect(args: &IntrospectArgs) -> Result<(), Failure> {
    let common = &args.common;
    register_secrets(common);
    add_secret(&args.token.token);
    let client_id = required(common.client_id.as_deref(), "introspect", "--client-id")?;
    let client = client(common, client_id, None)?;
    let url = endpoint(
        client.introspection_endpoint(),
        "--introspection-url",
        common,
    )?;
    let token = args.token.token.as_str();
    let request = match args.token.token_type_hint {
        Some(Hint::AccessToken) => client.introspect(&AccessToken::new(token))?,
        Some(Hint::RefreshToken) => client.introspect(&RefreshToken::new(token))?,
        None => client.introspect(&AccessToken::new(token))?.without_hint(),
    };
    say!("latchkey: introspecting at {url}");
    let answer = send(&transport(common), request, common.verbose)?;
    if answer.active {
        say!("latchkey: the token is active");
    } else {
        say!("latchkey: the token is not active");
    }
    print_json(&answer).map_err(|e| Failure::Other(format!("cannot write stdout: {e}")))
}

/// `latchkey token-exchange`: RFC 8693.
pub(crate) fn token_exchange(args: &TokenExchangeArgs) -> Result<(), Failure> {
    let common = &args.common;
    register_secrets(common);
    add_secret(&args.subject_token);
    if let Some(actor) = &args.actor_token {
        add_secret(actor);
    }
    let client_id = required(common.client_id.as_deref(), "token-exchange", "--client-id")?;
    let client = client(common, client_id, None)?;
    let url = endpoint(client.token_endpoint(), "--token-url", common)?;
    let mut exchange = client.token_exchange(
        args.subject_token.as_str(),
        args.subject_token_type.as_str(),
    )?;
    if let (Some(token), Some(kind)) = (&args.actor_token, &args.actor_token_type) {
        exchange = exchange.actor(token.as_str(), kind.as_str());
    }
    if let Some(kind) = &args.requested_token_type {
        exchange = exchange.requested_token_type(kind.as_str());
    }
    let scope = joined_scopes(&common.scopes);
    if !scope.is_empty() {
        exchange = exchange.scope(scope);
    }
    for resource in &common.protocol.resources {
        exchange = exchange.resource(resource);
    }
    say!("latchkey: exchanging the token at {url}");
    let tokens = send(&transport(common), exchange, common.verbose)?;
    print_tokens(&tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_types_have_short_names() {
        assert_eq!(token_type("jwt").unwrap(), token_types::JWT);
        assert_eq!(
            token_type("urn:example:custom").unwrap(),
            "urn:example:custom"
        );
        assert!(token_type("bogus").is_err());
    }
}
