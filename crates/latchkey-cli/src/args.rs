//! The command line: subcommands and flags (clap derive). These spellings are the public
//! interface.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

const ABOUT: &str = "Get OAuth 2.0 tokens from any provider with flags alone";

const LONG_ABOUT: &str = "\
Get OAuth 2.0 tokens from any provider with flags alone.

On success the result (a token set, or userinfo claims) is printed to stdout as one JSON \
object, and nothing else is. Progress goes to stderr. On failure stderr gets one line that \
names the server's OAuth error code and description when it sent one, and the exit status \
is 1; a usage error exits with 2. Client secrets, codes, PKCE verifiers and tokens are never \
written to stderr, and text that came from a server is printed with control characters \
escaped.";

const AFTER_HELP: &str = "\
Examples:
  latchkey demo
  latchkey authorize --auth-url https://auth.example.com/authorize \\
      --token-url https://auth.example.com/oauth/token --client-id my-app \\
      --scope 'openid offline_access' --audience https://api.example.com/
  LATCHKEY_CLIENT_SECRET=... latchkey client-credentials \\
      --token-url https://login.example.com/oauth/token --client-id svc --body json
  latchkey refresh --token-url https://auth.example.com/oauth/token \\
      --client-id my-app --refresh-token \"$REFRESH_TOKEN\"
  latchkey userinfo --userinfo-url https://auth.example.com/userinfo \\
      --access-token \"$ACCESS_TOKEN\"
  latchkey authorize --cache ~/.cache/my-app-tokens.json ...   # log in once, then reuse/refresh";

/// `latchkey`: OAuth 2.0 tokens from the command line.
#[derive(Debug, Parser)]
#[command(
    name = "latchkey",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = AFTER_HELP,
    propagate_version = true,
    arg_required_else_help = true
)]
pub(crate) struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Authorization code flow (RFC 6749 §4.1), with PKCE S256 unless --no-pkce.
    ///
    /// Prints the authorization URL to stderr on a line of its own and opens the system
    /// browser (unless --no-browser). By default the redirect comes back to a loopback
    /// listener (RFC 8252 §7.3) on --redirect-uri (default http://127.0.0.1:PORT/callback
    /// on a free PORT), which accepts exactly one callback and gives up after --timeout
    /// (default 300 s). With --callback the redirect URL is taken from the flag or, with
    /// --callback -, from one line of stdin, and no listener runs. The code is then
    /// exchanged at --token-url and the token set printed to stdout.
    Authorize(AuthorizeArgs),
    /// Implicit flow (RFC 6749 §4.2, response_type=token; legacy, prefer `authorize`).
    ///
    /// The token arrives in the URL fragment, which browsers never send to a server: the
    /// loopback listener serves a tiny page whose script hands the fragment back to it. With
    /// --callback URL or --callback - the redirect URL (with its #fragment) is read directly.
    Implicit(ImplicitArgs),
    /// Client credentials grant (RFC 6749 §4.4): a token for the client itself.
    ///
    /// Needs --token-url, --client-id and a client secret (--client-secret or
    /// LATCHKEY_CLIENT_SECRET). Safe to retry: 429 and 503 answers are retried (honouring
    /// Retry-After) up to --retries times.
    ClientCredentials(ClientCredentialsArgs),
    /// Refresh an access token (RFC 6749 §6).
    ///
    /// Prints the new token set; when the server does not rotate the refresh token, the one
    /// given is kept in the output.
    Refresh(RefreshArgs),
    /// Call the userinfo endpoint with an access token and print the claims JSON.
    Userinfo(UserinfoArgs),
    /// Fetch and print an authorization server's metadata (RFC 8414 / OpenID Connect).
    ///
    /// Needs --issuer. Tries /.well-known/oauth-authorization-server (inserted before the
    /// issuer's path, RFC 8414 §3.1) and, when that is not served, OpenID Connect's
    /// /.well-known/openid-configuration; --well-known picks one. The document's issuer must
    /// equal --issuer exactly.
    Discover(crate::protocol::DiscoverArgs),
    /// Device authorization grant (RFC 8628), for devices without a browser.
    ///
    /// Asks for a user code, prints it with the verification URI on stderr, then polls the
    /// token endpoint (at the server's interval, slower when told to) until the user approves
    /// on another device, showing a countdown, and prints the token set. Needs --client-id
    /// and --device-url and --token-url, or --issuer.
    Device(crate::protocol::DeviceArgs),
    /// Revoke an access or refresh token (RFC 7009) and print {"revoked":true}.
    Revoke(crate::protocol::RevokeArgs),
    /// Introspect a token (RFC 7662) and print the server's answer (active, scope, exp...).
    Introspect(crate::protocol::IntrospectArgs),
    /// Token exchange (RFC 8693): trade a subject token (and an actor token) for a new one.
    ///
    /// Prints the token set, with issued_token_type. --audience, --resource and --scope go on
    /// the request.
    TokenExchange(crate::protocol::TokenExchangeArgs),
    /// Walk through every documented provider flow against a built-in mock server.
    ///
    /// Starts latchkey-mock in-process and runs the Loom AI implicit and code + PKCE flows,
    /// CoLoop private and public apps with userinfo and refresh, Blooma client credentials
    /// with JSON and form bodies, and Loop & Tie's multipart code exchange, printing what
    /// was sent and what came back (secrets redacted) and a summary table. Exits 0 when
    /// every flow passed.
    Demo(DemoArgs),
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

/// Flags every flow subcommand takes.
#[derive(Debug, Args)]
pub(crate) struct Common {
    /// Authorization endpoint (authorize, implicit).
    #[arg(long, value_name = "URL", help_heading = "Endpoints")]
    pub(crate) auth_url: Option<String>,
    /// Token endpoint (authorize, client-credentials, refresh).
    #[arg(long, value_name = "URL", help_heading = "Endpoints")]
    pub(crate) token_url: Option<String>,
    /// Userinfo endpoint (userinfo).
    #[arg(long, value_name = "URL", help_heading = "Endpoints")]
    pub(crate) userinfo_url: Option<String>,

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

    /// Also print each HTTP request (secrets redacted) and the answer's status to stderr.
    #[arg(short, long)]
    pub(crate) verbose: bool,

    /// --issuer, the other endpoints and --resource.
    #[command(flatten)]
    pub(crate) protocol: crate::protocol::ProtocolArgs,
}

impl Common {
    /// The client secret, if a non-empty one was given (an empty `LATCHKEY_CLIENT_SECRET`
    /// counts as none).
    pub(crate) fn secret(&self) -> Option<&str> {
        self.client_secret.as_deref().filter(|s| !s.is_empty())
    }
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

/// `--cache FILE`, on every subcommand that produces a token set.
#[derive(Debug, Args)]
pub(crate) struct CacheArgs {
    /// Keep the token set in FILE (JSON, written atomically, mode 0600): print a cached token
    /// that is valid for more than 60 s without sending anything; refresh it (and save the
    /// new set, rotated refresh token included) when it is about to expire; run the full
    /// flow, and save its result, only when no refresh is possible (no file, no refresh
    /// token, or the server refused it). Use one file per client and scope.
    #[arg(long, value_name = "FILE", help_heading = "Cache")]
    pub(crate) cache: Option<PathBuf>,
}

/// `latchkey authorize`.
#[derive(Debug, Args)]
pub(crate) struct AuthorizeArgs {
    #[command(flatten)]
    pub(crate) common: Common,
    #[command(flatten)]
    pub(crate) cache: CacheArgs,
    #[command(flatten)]
    pub(crate) callback: CallbackArgs,
    /// Turn PKCE off (only for servers that reject it; RFC 9700 recommends it for all).
    #[arg(long, help_heading = "Callback")]
    pub(crate) no_pkce: bool,
    /// Use this PKCE verifier instead of a random one (for --callback URL in scripts).
    #[arg(
        long,
        value_name = "VERIFIER",
        env = "LATCHKEY_CODE_VERIFIER",
        hide_env_values = true,
        allow_hyphen_values = true,
        conflicts_with = "no_pkce",
        help_heading = "Callback"
    )]
    pub(crate) code_verifier: Option<String>,
    /// Push the authorization request to the server first (PAR, RFC 9126) and send only
    /// client_id and request_uri through the browser; automatic when --issuer's metadata
    /// requires it.
    #[arg(long, help_heading = "Callback")]
    pub(crate) par: bool,
}

/// `latchkey implicit`.
#[derive(Debug, Args)]
pub(crate) struct ImplicitArgs {
    #[command(flatten)]
    pub(crate) common: Common,
    #[command(flatten)]
    pub(crate) cache: CacheArgs,
    #[command(flatten)]
    pub(crate) callback: CallbackArgs,
}

/// `latchkey client-credentials`.
#[derive(Debug, Args)]
pub(crate) struct ClientCredentialsArgs {
    #[command(flatten)]
    pub(crate) common: Common,
    #[command(flatten)]
    pub(crate) cache: CacheArgs,
}

/// `latchkey refresh`.
#[derive(Debug, Args)]
pub(crate) struct RefreshArgs {
    #[command(flatten)]
    pub(crate) common: Common,
    #[command(flatten)]
    pub(crate) cache: CacheArgs,
    /// The refresh token (a value starting with `-` is fine). Prefer the
    /// LATCHKEY_REFRESH_TOKEN environment variable. Optional with --cache when the cached
    /// token set has a refresh token.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "LATCHKEY_REFRESH_TOKEN",
        hide_env_values = true,
        allow_hyphen_values = true,
        required_unless_present = "cache"
    )]
    pub(crate) refresh_token: Option<String>,
}

/// `latchkey userinfo`.
#[derive(Debug, Args)]
pub(crate) struct UserinfoArgs {
    #[command(flatten)]
    pub(crate) common: Common,
    /// The access token (a value starting with `-` is fine). Prefer the
    /// LATCHKEY_ACCESS_TOKEN environment variable.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "LATCHKEY_ACCESS_TOKEN",
        hide_env_values = true,
        allow_hyphen_values = true,
        required = true
    )]
    pub(crate) access_token: String,
}

/// `latchkey demo`.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {}

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
    use clap::CommandFactory as _;

    #[test]
    fn the_interface_is_consistent() {
        Cli::command().debug_assert();
    }

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

    #[test]
    fn hyphen_values_are_accepted() {
        let cli = Cli::try_parse_from(["latchkey", "refresh", "--refresh-token", "-abc"]).unwrap();
        let Command::Refresh(args) = cli.command else {
            panic!("not refresh")
        };
        assert_eq!(args.refresh_token.as_deref(), Some("-abc"));
        let cli = Cli::try_parse_from(["latchkey", "refresh", "--refresh-token=-abc"]).unwrap();
        let Command::Refresh(args) = cli.command else {
            panic!("not refresh")
        };
        assert_eq!(args.refresh_token.as_deref(), Some("-abc"));
    }

    #[test]
    fn refresh_needs_a_token_or_a_cache() {
        assert!(Cli::try_parse_from(["latchkey", "refresh"]).is_err());
        let cli = Cli::try_parse_from(["latchkey", "refresh", "--cache", "t.json"]).unwrap();
        let Command::Refresh(args) = cli.command else {
            panic!("not refresh")
        };
        assert_eq!(
            args.cache.cache.as_deref(),
            Some(std::path::Path::new("t.json"))
        );
        assert!(args.refresh_token.is_none());
    }
}
