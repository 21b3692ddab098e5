//! The shared context of every subcommand: the flags they have in common ([`options`]), and
//! what is built from them: the [`Client`] (with `--issuer`'s metadata), the blocking
//! [`Transport`], sending with `--verbose`, checking endpoints, and printing the result.
//!
//! The `cmd` modules import from here; nothing here imports from them.

pub(crate) mod options;

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use latchkey::{
    BodyEncoding, Client, ClientAuth, Discovery, Error, Exchange, ResponseError, RetryPolicy,
    ServerMetadata, TokenSet, Url, WellKnown,
};
use latchkey_ureq::Transport;
use serde::Serialize;

use self::options::{AuthMethod, Body, Common, WellKnownDoc};
use crate::failure::Failure;
use crate::output::{add_secret, add_token_secrets, print_json, token_object};
use crate::say;
use crate::trace::{Traced, snapshot};

/// Masks the secrets given on the command line or in the environment on stderr.
pub(crate) fn register_secrets(common: &Common) {
    if let Some(secret) = &common.client.client_secret {
        add_secret(secret);
    }
}

/// Returns the flag's value or a usage error naming it.
pub(crate) fn required<'a>(
    value: Option<&'a str>,
    command: &str,
    flag: &str,
) -> Result<&'a str, Failure> {
    match value {
        Some(value) if !value.is_empty() => Ok(value),
        _ => Err(Failure::Usage(format!("{command} needs {flag}"))),
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

/// Builds the client from the flags: `--issuer`'s metadata first, then the endpoint flags,
/// which win over it.
pub(crate) fn client(
    common: &Common,
    client_id: &str,
    redirect_uri: Option<&str>,
) -> Result<Client, Failure> {
    let endpoints = &common.endpoints;
    let mut builder = Client::builder(client_id).body_encoding(match common.client.body {
        Body::Form => BodyEncoding::Form,
        Body::Json => BodyEncoding::Json,
        Body::Multipart => BodyEncoding::Multipart,
    });
    // --issuer (discovery) first, so that the endpoint flags below win.
    if let Some(issuer) = &endpoints.issuer {
        builder = builder.metadata(&metadata(common, issuer)?);
    }
    if let Some(url) = &endpoints.device_url {
        builder = builder.device_authorization_endpoint(url.as_str());
    }
    if let Some(url) = &endpoints.revocation_url {
        builder = builder.revocation_endpoint(url.as_str());
    }
    if let Some(url) = &endpoints.introspection_url {
        builder = builder.introspection_endpoint(url.as_str());
    }
    if let Some(url) = &endpoints.par_url {
        builder = builder.pushed_authorization_request_endpoint(url.as_str());
    }
    if let Some(secret) = common.client.secret() {
        builder = builder.client_secret(secret);
    }
    if let Some(method) = common.client.auth_method {
        builder = builder.auth_method(match method {
            AuthMethod::Basic => ClientAuth::Basic,
            AuthMethod::Post => ClientAuth::Post,
            AuthMethod::None => ClientAuth::None,
        });
    }
    if let Some(url) = &endpoints.auth_url {
        builder = builder.authorization_endpoint(url.as_str());
    }
    if let Some(url) = &endpoints.token_url {
        builder = builder.token_endpoint(url.as_str());
    }
    if let Some(url) = &endpoints.userinfo_url {
        builder = builder.userinfo_endpoint(url.as_str());
    }
    if let Some(uri) = redirect_uri {
        builder = builder.redirect_uri(uri);
    }
    if let Some(audience) = &common.request.audience {
        builder = builder.audience(audience.as_str());
    }
    let request = &common.request;
    for (name, value) in request.params.iter().chain(&request.token_params) {
        builder = builder.token_param(name.as_str(), value.as_str());
    }
    Ok(builder.build()?)
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
    let metadata = fetch_metadata(common, issuer)?;
    discovered.push((issuer.to_owned(), metadata.clone()));
    Ok(metadata)
}

/// Fetches the metadata [`metadata`] describes, without looking at what was fetched before.
fn fetch_metadata(common: &Common, issuer: &str) -> Result<ServerMetadata, Failure> {
    check_url("--issuer", issuer, common.network.insecure_http)?;
    let transport = transport(common);
    let fetch = |kind| -> Result<ServerMetadata, Failure> {
        let discovery = Discovery::new(issuer, kind)?;
        say!(
            "latchkey: fetching the server metadata at {}",
            discovery.url()
        );
        send(&transport, discovery, common.verbose)
    };
    match common.endpoints.well_known {
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
        return Err(Failure::Usage(match &common.endpoints.issuer {
            Some(issuer) => format!("the metadata of {issuer} has no endpoint for {flag}"),
            None => format!("this needs {flag} or --issuer"),
        }));
    };
    check_url(flag, url.as_str(), common.network.insecure_http)?;
    Ok(url.to_string())
}

/// The blocking transport, configured from `--timeout`, `--insecure-http` and `--retries`.
pub(crate) fn transport(common: &Common) -> Transport {
    let network = &common.network;
    let policy = if network.retries == 0 {
        RetryPolicy::never()
    } else {
        RetryPolicy::with_retries(network.retries)
    };
    let mut builder = Transport::builder()
        .allow_insecure_http(network.insecure_http)
        .retry_policy(policy);
    if let Some(timeout) = network.timeout {
        builder = builder
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)));
    }
    builder.build()
}

/// Sends an exchange; with `--verbose`, shows the request (secrets redacted) and the status.
pub(crate) fn send<E: Exchange>(
    transport: &Transport,
    exchange: E,
    verbose: bool,
) -> Result<E::Output, Failure> {
    let (traced, record) = Traced::new(exchange);
    let result = transport.send(traced);
    if verbose {
        let record = snapshot(&record);
        for line in record.request_lines() {
            say!("> {line}");
        }
        say!("< {}", record.status_line());
    }
    Ok(result?)
}

/// Prints the result (metadata, claims, an introspection answer...) to stdout as JSON.
pub(crate) fn print_result(value: &impl Serialize) -> Result<(), Failure> {
    print_json(value).map_err(|e| Failure::Other(format!("cannot write stdout: {e}")))
}

/// Prints the token set to stdout, with a summary on stderr.
pub(crate) fn print_tokens(tokens: &TokenSet) -> Result<(), Failure> {
    add_token_secrets(tokens);
    let mut summary = format!("latchkey: got a {} token", tokens.token_type().as_str());
    // From `expires_at` when known, so that a cached token shows what is left of it.
    let left = tokens.expires_at().map(|at| {
        at.duration_since(SystemTime::now())
            .map_or(0, |left| left.as_secs_f64().round() as u64)
    });
    if let Some(expires_in) = left.or_else(|| tokens.expires_in()) {
        summary.push_str(&format!(", expires in {expires_in} s"));
    }
    if tokens.refresh_token().is_some() {
        summary.push_str(", with a refresh token");
    }
    say!("{summary}");
    print_result(&token_object(tokens, false))
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
}
