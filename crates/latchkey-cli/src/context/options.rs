//! The option groups that more than one subcommand flattens into its clap `Args`: the flags
//! of every flow ([`Common`]), `--cache` ([`CacheArgs`]), the callback flags of `authorize`
//! and `implicit` ([`CallbackArgs`]) and the token of `revoke` and `introspect`
//! ([`TokenArgs`]). These spellings are the public interface.
//!
//! Each group's `help_heading` names the section of `--help` it appears in; within a
//! section, flags appear in the order they are declared here.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

/// Flags every flow subcommand takes.
#[derive(Debug, Args)]
pub(crate) struct Common {
    /// `--auth-url`, `--token-url`, `--issuer` and the other endpoints.
    #[command(flatten)]
    pub(crate) endpoints: EndpointArgs,
    /// `--client-id`, the secret and how it is sent.
    #[command(flatten)]
    pub(crate) client: ClientArgs,
    /// Scopes, audience, extra parameters, redirect URI and resources.
    #[command(flatten)]
    pub(crate) request: RequestArgs,
    /// Timeouts, plain http and retries.
    #[command(flatten)]
    pub(crate) network: NetworkArgs,
    /// Also print each HTTP request (secrets redacted) and the answer's status to stderr.
    #[arg(short, long)]
    pub(crate) verbose: bool,
}

/// Where the authorization server's endpoints are: each given directly, or from `--issuer`'s
/// metadata.
#[derive(Debug, Args)]
pub(crate) struct EndpointArgs {
    /// Authorization endpoint (authorize, implicit).
    #[arg(long, value_name = "URL", help_heading = "Endpoints")]
    pub(crate) auth_url: Option<String>,
    /// Token endpoint (authorize, client-credentials, refresh).
    #[arg(long, value_name = "URL", help_heading = "Endpoints")]
    pub(crate) token_url: Option<String>,
    /// Userinfo endpoint (userinfo).
    #[arg(long, value_name = "URL", help_heading = "Endpoints")]
    pub(crate) userinfo_url: Option<String>,
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
}

/// Who the client is and how it authenticates at the token endpoint.
#[derive(Debug, Args)]
pub(crate) struct ClientArgs {
    /// The client_id.
    #[arg(long, value_name = "ID", help_heading = "Client")]
    pub(crate) client_id: Option<String>,
    /// The client secret. Prefer the LATCHKEY_CLIENT_SECRET environment variable, which
    /// keeps it out of shell history and the process list.
    #[arg(
        long,
        value_name = "SECRET",
        env = "LATCHKEY_CLIENT_SECRET",
        hide_env_values = true,
        allow_hyphen_values = true,
        help_heading = "Client"
    )]
    pub(crate) client_secret: Option<String>,
    /// Client authentication at the token endpoint [default: basic with a secret, none
    /// without].
    #[arg(long, value_enum, value_name = "METHOD", help_heading = "Client")]
    pub(crate) auth_method: Option<AuthMethod>,
    /// Token request body encoding.
    #[arg(long, value_enum, value_name = "ENCODING", default_value_t = Body::Form, help_heading = "Client")]
    pub(crate) body: Body,
}

impl ClientArgs {
    /// The client secret, if a non-empty one was given (an empty `LATCHKEY_CLIENT_SECRET`
    /// counts as none).
    pub(crate) fn secret(&self) -> Option<&str> {
        self.client_secret.as_deref().filter(|s| !s.is_empty())
    }
}

/// What goes on the authorization and token requests besides the flow's own parameters.
#[derive(Debug, Args)]
pub(crate) struct RequestArgs {
    /// Scope to request; repeatable, and a value may hold several space-separated scopes.
    #[arg(long = "scope", value_name = "S", help_heading = "Request")]
    pub(crate) scopes: Vec<String>,
    /// `audience` on the authorization and token requests (Auth0-style APIs).
    #[arg(long, value_name = "AUD", help_heading = "Request")]
    pub(crate) audience: Option<String>,
    /// Extra parameter added to the authorization and token requests; repeatable.
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = parse_param, help_heading = "Request")]
    pub(crate) params: Vec<(String, String)>,
    /// Extra parameter for the authorization request only; repeatable.
    #[arg(long = "auth-param", value_name = "KEY=VALUE", value_parser = parse_param, help_heading = "Request")]
    pub(crate) auth_params: Vec<(String, String)>,
    /// Extra parameter for token requests only; repeatable.
    #[arg(long = "token-param", value_name = "KEY=VALUE", value_parser = parse_param, help_heading = "Request")]
    pub(crate) token_params: Vec<(String, String)>,
    /// Redirect URI (authorize, implicit). With the listener it must be a loopback http://
    /// URI; port 0 picks a free port [default: http://127.0.0.1:PORT/callback on a free
    /// PORT; http://127.0.0.1/callback with --callback -; the callback's own address with
    /// --callback URL].
    #[arg(long, value_name = "URI", help_heading = "Request")]
    pub(crate) redirect_uri: Option<String>,
    /// Resource indicator (RFC 8707) on the authorization and token requests; repeatable.
    #[arg(long = "resource", value_name = "URI", help_heading = "Request")]
    pub(crate) resources: Vec<String>,
}

/// How HTTP requests are sent.
#[derive(Debug, Args)]
pub(crate) struct NetworkArgs {
    /// Time limit per HTTP request (default 30) and for the callback to arrive (default
    /// 300); fractions allowed.
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds, help_heading = "Network")]
    pub(crate) timeout: Option<Duration>,
    /// Allow plain http:// endpoints on hosts other than loopback (never for real secrets).
    #[arg(long, help_heading = "Network")]
    pub(crate) insecure_http: bool,
    /// Retries after a failure where resending is safe (connection failures always; 429,
    /// 502, 503, 504 and timeouts for client-credentials and userinfo, honouring
    /// Retry-After); 0 turns retrying off.
    #[arg(long, value_name = "N", default_value_t = 3, help_heading = "Network")]
    pub(crate) retries: u32,
}

/// Client authentication at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum AuthMethod {
    /// client_secret_basic: HTTP Basic with the client id and secret.
    Basic,
    /// client_secret_post: client_id and client_secret in the request body.
    Post,
    /// A public client: only client_id is sent.
    None,
}

/// Token request body encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Body {
    /// application/x-www-form-urlencoded (RFC 6749).
    Form,
    /// application/json (Auth0-style providers).
    Json,
    /// multipart/form-data (what `curl -F` sends).
    Multipart,
}

/// The metadata document `--issuer` fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum WellKnownDoc {
    /// RFC 8414: /.well-known/oauth-authorization-server (inserted before the issuer's path).
    Oauth,
    /// OpenID Connect: /.well-known/openid-configuration (appended to the issuer).
    Openid,
}

/// `--cache FILE`, on every subcommand that produces a token set.
#[derive(Debug, Args)]
pub(crate) struct CacheArgs {
    /// Keep the token set in FILE (JSON, written atomically, mode 0600): print a cached token
    /// that is valid for more than 60 s without sending anything; refresh it (and save the
    /// new set, rotated refresh token included) when it is about to expire; run the full
    /// flow, and save its result, only when no refresh is possible (no file, no refresh
    /// token, or the server refused it). Runs sharing FILE refresh one at a time (a lock on
    /// FILE.lock) and use what the first saved. Use one file per client and scope.
    #[arg(long, value_name = "FILE", help_heading = "Cache")]
    pub(crate) cache: Option<PathBuf>,
}

/// How the redirect comes back (authorize, implicit).
#[derive(Debug, Args)]
pub(crate) struct CallbackArgs {
    /// Take the redirect URL from here instead of running a listener; `-` reads one line
    /// from stdin.
    #[arg(
        long,
        value_name = "URL|-",
        allow_hyphen_values = true,
        help_heading = "Callback"
    )]
    pub(crate) callback: Option<String>,
    /// Do not open the system browser (the URL is printed to stderr either way).
    #[arg(long, help_heading = "Callback")]
    pub(crate) no_browser: bool,
    /// Use this state instead of a random one (for --callback URL in scripts).
    #[arg(
        long,
        value_name = "STATE",
        allow_hyphen_values = true,
        help_heading = "Callback"
    )]
    pub(crate) state: Option<String>,
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

/// Parses `KEY=VALUE` (split at the first `=`; the key must not be empty).
fn parse_param(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err("expected KEY=VALUE".to_owned()),
    }
}

/// Parses a positive number of seconds, fractions allowed, at most a day.
fn parse_seconds(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .trim()
        .parse()
        .map_err(|_| "expected a number of seconds".to_owned())?;
    if !(secs > 0.0 && secs <= 86_400.0) {
        return Err("expected more than 0 and at most 86400 seconds".to_owned());
    }
    Duration::try_from_secs_f64(secs).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_and_seconds() {
        assert_eq!(parse_param("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert_eq!(parse_param("a="), Ok(("a".into(), String::new())));
        assert!(parse_param("=b").is_err());
        assert!(parse_param("ab").is_err());
        assert_eq!(parse_seconds("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_seconds("0").is_err());
        assert!(parse_seconds("-1").is_err());
        assert!(parse_seconds("NaN").is_err());
        assert!(parse_seconds("1e9").is_err());
    }
}
