//! `latchkey`: OAuth 2.0 tokens from any provider with flags alone.
//!
//! ```text
//! latchkey authorize | implicit | client-credentials | refresh | userinfo | demo  [flags]
//! latchkey discover | device | revoke | introspect | token-exchange | logout-url  [flags]
//! ```
//!
//! The result goes to stdout (one JSON object, or what `--output` asks for); progress and the
//! one-line failure message go to stderr, secrets masked and server text escaped
//! ([`output`]). Exit status: 0 on success, 1 when the flow failed, 2 for a usage error (in
//! one style, clap's included: [`usage_error`]).
//!
//! Modules, each importing only from those listed before it:
//!
//! * [`output`] (JSON, redaction, escaping) and [`trace`] (recording what was sent);
//! * [`progress`] (the long waits on stderr: drawn on a terminal, plain lines otherwise);
//! * [`failure`] (why a command failed, its exit status and message);
//! * [`context`] (the flags every subcommand shares, and the client, transport and printing
//!   built from them);
//! * [`cache`] (`--cache FILE`) and [`callback`] (where the redirect comes from: the RFC 8252
//!   loopback listener of [`latchkey_loopback`], a flag, or stdin);
//! * [`cmd`] (one module per subcommand: its `Args` and its `run`);
//! * this file: the [`Cli`] and the dispatch.

#![forbid(unsafe_code)]

mod cache;
mod callback;
mod cmd;
mod context;
mod failure;
mod output;
mod progress;
mod trace;

use std::process::ExitCode;

use clap::{CommandFactory as _, Parser, Subcommand};

use crate::cmd::authorize::AuthorizeArgs;
use crate::cmd::client_credentials::ClientCredentialsArgs;
use crate::cmd::demo::DemoArgs;
use crate::cmd::device::DeviceArgs;
use crate::cmd::discover::DiscoverArgs;
use crate::cmd::implicit::ImplicitArgs;
use crate::cmd::introspect::IntrospectArgs;
use crate::cmd::logout_url::LogoutUrlArgs;
use crate::cmd::refresh::RefreshArgs;
use crate::cmd::revoke::RevokeArgs;
use crate::cmd::token_exchange::TokenExchangeArgs;
use crate::cmd::userinfo::UserinfoArgs;
use crate::failure::Failure;

const ABOUT: &str = "Get OAuth 2.0 tokens from any provider with flags alone";

const LONG_ABOUT: &str = "\
Get OAuth 2.0 tokens from any provider with flags alone.

On success the result (a token set, or userinfo claims) is printed to stdout as one JSON \
object (or, with --output, the access token alone, an Authorization header or shell \
variable lines), and nothing else is. Progress goes to stderr. On failure stderr gets one line that \
names the server's OAuth error code and description when it sent one, and the exit status \
is 1; a usage error exits with 2. Client secrets, codes, PKCE verifiers and tokens are never \
written to stderr, and text that came from a server is printed with control characters \
escaped.";

const AFTER_HELP: &str = "\
Get a token from your provider (--issuer is the easiest way in with any OpenID provider):
  latchkey authorize --issuer https://login.example.com --client-id my-app --scope openid
  latchkey client-credentials --issuer https://login.example.com --client-id svc \\
      --scope api:read --output header          # LATCHKEY_CLIENT_SECRET in the environment
  curl -H \"$(latchkey client-credentials --issuer ... --client-id svc --output header)\" ...

More:
  latchkey demo
  latchkey authorize --issuer https://login.example.com --client-id my-app \\
      --cache ~/.cache/latchkey.json --output token      # log in once, then reuse/refresh
  latchkey authorize --auth-url https://auth.example.com/authorize \\
      --token-url https://auth.example.com/oauth/token --client-id my-app \\
      --scope 'openid offline_access' --audience https://api.example.com/
  latchkey refresh --issuer https://login.example.com --client-id my-app \\
      --refresh-token \"$REFRESH_TOKEN\"
  latchkey userinfo --issuer https://login.example.com --access-token \"$ACCESS_TOKEN\"

Each subcommand's --help lists exactly the flags it takes, --issuer first.";

/// `latchkey`: OAuth 2.0 tokens from the command line.
#[derive(Debug, Parser)]
#[command(
    name = "latchkey",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = AFTER_HELP,
    propagate_version = true,
    arg_required_else_help = true,
    disable_help_subcommand = true
)]
struct Cli {
    /// What to do.
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Authorization code flow (RFC 6749 §4.1), with PKCE S256 unless --no-pkce.
    ///
    /// Prints the authorization URL to stderr on a line of its own and opens the system
    /// browser (unless --no-browser). By default the redirect comes back to a loopback
    /// listener (RFC 8252 §7.3) on --redirect-uri (default http://127.0.0.1:PORT/callback
    /// on a free PORT), which ignores requests of another state and gives up after
    /// --login-timeout (default 300 s). With --callback the redirect URL is taken from the
    /// flag or, with --callback -, from one line of stdin, and no listener runs; it must be
    /// addressed to the redirect URI. The code is then exchanged at the token endpoint and
    /// the token set printed to stdout. --print-url prints the URL, state and verifier as
    /// JSON instead, for delivering the callback later.
    Authorize(AuthorizeArgs),
    /// Implicit flow (RFC 6749 §4.2, response_type=token; legacy, prefer `authorize`).
    ///
    /// The token arrives in the URL fragment, which browsers never send to a server: the
    /// loopback listener serves a tiny page whose script hands the fragment back to it. With
    /// --callback URL or --callback - the redirect URL (with its #fragment) is read directly.
    Implicit(ImplicitArgs),
    /// Client credentials grant (RFC 6749 §4.4): a token for the client itself.
    ///
    /// Needs --issuer or --token-url, --client-id and a client secret (--client-secret or
    /// LATCHKEY_CLIENT_SECRET). Safe to retry: 429 and 503 answers are retried (honouring
    /// Retry-After) up to --retries times, each retry announced on stderr.
    ClientCredentials(ClientCredentialsArgs),
    /// Refresh an access token (RFC 6749 §6).
    ///
    /// Prints the new token set; when the server does not rotate the refresh token, the one
    /// given is kept in the output. With --cache and no --refresh-token, the cached entry's
    /// refresh token is used (when the token is about to expire, or with --force-refresh).
    Refresh(RefreshArgs),
    /// Call the userinfo endpoint with an access token and print the claims JSON.
    Userinfo(UserinfoArgs),
    /// Fetch and print an authorization server's metadata (RFC 8414 / OpenID Connect).
    ///
    /// Needs --issuer. Tries /.well-known/oauth-authorization-server (inserted before the
    /// issuer's path, RFC 8414 §3.1) and, when that is not served, OpenID Connect's
    /// /.well-known/openid-configuration; --well-known picks one. The document's issuer must
    /// equal --issuer exactly.
    Discover(DiscoverArgs),
    /// Print the RP-initiated logout URL (OpenID Connect) to open in the user's browser.
    ///
    /// The provider's end_session_endpoint (from --issuer, or --end-session-url) with
    /// id_token_hint (--id-token or LATCHKEY_ID_TOKEN), client_id,
    /// post_logout_redirect_uri and a state.
    LogoutUrl(LogoutUrlArgs),
    /// Device authorization grant (RFC 8628), for devices without a browser.
    ///
    /// Asks for a user code, prints it with the verification URI on stderr, then polls the
    /// token endpoint (at the server's interval, slower when told to) until the user approves
    /// on another device, showing a countdown, and prints the token set. Needs --client-id
    /// and --device-url and --token-url, or --issuer.
    Device(DeviceArgs),
    /// Revoke an access or refresh token (RFC 7009) and print {"revoked":true}.
    Revoke(RevokeArgs),
    /// Introspect a token (RFC 7662) and print the server's answer (active, scope, exp...).
    Introspect(IntrospectArgs),
    /// Token exchange (RFC 8693): trade a subject token (and an actor token) for a new one.
    ///
    /// Prints the token set, with issued_token_type. --audience, --resource and --scope go on
    /// the request.
    TokenExchange(TokenExchangeArgs),
    /// Walk through every documented provider flow against a built-in mock server.
    ///
    /// Starts latchkey-mock in-process and runs the Loom AI implicit and code + PKCE flows,
    /// CoLoop private and public apps with userinfo and refresh, Blooma client credentials
    /// with JSON and form bodies, and Loop & Tie's multipart code exchange, printing what
    /// was sent and what came back (secrets redacted) and a summary table. Exits 0 when
    /// every flow passed.
    Demo(DemoArgs),
    /// Print the help of latchkey or of one of its subcommands.
    Help(HelpArgs),
}

/// `latchkey help [SUBCOMMAND]`.
#[derive(Debug, clap::Args)]
struct HelpArgs {
    /// The subcommand to show the help of [default: latchkey itself].
    #[arg(value_name = "SUBCOMMAND")]
    command: Option<String>,
}

/// Prints the help of `latchkey` or of one of its subcommands.
fn help(args: &HelpArgs) -> Result<(), Failure> {
    let mut command = Cli::command();
    let target = match &args.command {
        None => &mut command,
        Some(name) => command
            .find_subcommand_mut(name)
            .ok_or_else(|| Failure::Usage("latchkey help: no such subcommand".into()))?,
    };
    target
        .print_long_help()
        .map_err(|e| Failure::Other(format!("cannot write stdout: {e}")))
}

/// Prints a usage error from clap in the command's one style (`latchkey: error: ... (see
/// --help)`, exit status 2), never echoing a value: a stray positional argument or a flag's
/// value may be a secret pasted in the wrong place. Help and version go to stdout as clap
/// prints them.
fn usage_error(error: &clap::Error) -> ExitCode {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = error.print();
        return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
    }
    let context = |kind| match error.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        Some(ContextValue::Strings(list)) => Some(list.join(", ")),
        _ => None,
    };
    // The flag's name, without a value that may have been attached to it.
    let flag = context(ContextKind::InvalidArg)
        .map(|arg| arg.split(['=', ' ']).next().unwrap_or_default().to_owned());
    let message = match error.kind() {
        ErrorKind::UnknownArgument => match &flag {
            Some(flag) if flag.starts_with('-') => format!("this subcommand has no flag {flag}"),
            _ => "unexpected argument (not shown, in case it is a secret pasted in the wrong \
                  place); values go after their flag, such as --client-secret VALUE"
                .to_owned(),
        },
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let reason = std::error::Error::source(error).map_or_else(
                || {
                    context(ContextKind::ValidValue)
                        .map_or_else(String::new, |valid| format!("expected one of {valid}"))
                },
                ToString::to_string,
            );
            format!(
                "invalid value for {}{}",
                flag.as_deref().unwrap_or("a flag"),
                if reason.is_empty() {
                    String::new()
                } else {
                    format!(": {reason}")
                }
            )
        }
        ErrorKind::InvalidSubcommand => "no such subcommand (see latchkey --help)".to_owned(),
        // Missing flags, conflicts, a flag given twice: clap names flags only.
        _ => {
            // clap's first paragraph (a list of missing flags continues on indented lines),
            // on one line.
            let text = error.to_string();
            let paragraph: Vec<&str> = text
                .lines()
                .take_while(|line| !line.trim().is_empty())
                .map(str::trim)
                .collect();
            let joined = paragraph.join(" ");
            joined.strip_prefix("error: ").unwrap_or(&joined).to_owned()
        }
    };
    let failure = Failure::Usage(message);
    say!("latchkey: error: {}", failure.message());
    ExitCode::from(failure.exit_code())
}

/// Runs the chosen subcommand.
fn run(command: &Command) -> Result<(), Failure> {
    match command {
        Command::Authorize(args) => cmd::authorize::run(args),
        Command::Implicit(args) => cmd::implicit::run(args),
        Command::ClientCredentials(args) => cmd::client_credentials::run(args),
        Command::Refresh(args) => cmd::refresh::run(args),
        Command::Userinfo(args) => cmd::userinfo::run(args),
        Command::Discover(args) => cmd::discover::run(args),
        Command::LogoutUrl(args) => cmd::logout_url::run(args),
        Command::Device(args) => cmd::device::run(args),
        Command::Revoke(args) => cmd::revoke::run(args),
        Command::Introspect(args) => cmd::introspect::run(args),
        Command::TokenExchange(args) => cmd::token_exchange::run(args),
        Command::Demo(args) => cmd::demo::run(args),
        Command::Help(args) => help(args),
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(&error),
    };
    match run(&cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            say!("latchkey: error: {}", failure.message());
            ExitCode::from(failure.exit_code())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interface_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn hyphen_values_are_accepted() {
        let cli = Cli::try_parse_from([
            "latchkey",
            "refresh",
            "--client-id",
            "c",
            "--refresh-token",
            "-abc",
        ])
        .unwrap();
        let Command::Refresh(args) = cli.command else {
            panic!("not refresh")
        };
        assert_eq!(args.refresh_token.as_deref(), Some("-abc"));
        let cli = Cli::try_parse_from([
            "latchkey",
            "refresh",
            "--client-id",
            "c",
            "--refresh-token=-abc",
        ])
        .unwrap();
        let Command::Refresh(args) = cli.command else {
            panic!("not refresh")
        };
        assert_eq!(args.refresh_token.as_deref(), Some("-abc"));
    }

    #[test]
    fn refresh_needs_a_token_or_a_cache() {
        assert!(Cli::try_parse_from(["latchkey", "refresh", "--client-id", "c"]).is_err());
        let cli = Cli::try_parse_from([
            "latchkey",
            "refresh",
            "--client-id",
            "c",
            "--cache",
            "t.json",
        ])
        .unwrap();
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
