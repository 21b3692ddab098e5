//! `latchkey`: OAuth 2.0 tokens from any provider with flags alone.
//!
//! ```text
//! latchkey authorize | implicit | client-credentials | refresh | userinfo | demo  [flags]
//! latchkey discover | device | revoke | introspect | token-exchange  [flags]
//! ```
//!
//! The result goes to stdout as one JSON object; progress and the one-line failure message
//! go to stderr, secrets masked and server text escaped ([`output`]). Exit status: 0 on
//! success, 1 when the flow failed, 2 for a usage error.
//!
//! Modules, each importing only from those listed before it:
//!
//! * [`output`] (JSON, redaction, escaping) and [`trace`] (recording what was sent);
//! * [`failure`] (why a command failed, its exit status and message);
//! * [`listener`] (the RFC 8252 loopback redirect listener, stdin, the browser);
//! * [`context`] (the flags every subcommand shares, and the client, transport and printing
//!   built from them);
//! * [`cache`] (`--cache FILE`) and [`callback`] (where the redirect comes from);
//! * [`cmd`] (one module per subcommand: its `Args` and its `run`);
//! * this file: the [`Cli`] and the dispatch.

#![forbid(unsafe_code)]

mod cache;
mod callback;
mod cmd;
mod context;
mod failure;
mod listener;
mod output;
mod trace;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::cmd::authorize::AuthorizeArgs;
use crate::cmd::client_credentials::ClientCredentialsArgs;
use crate::cmd::demo::DemoArgs;
use crate::cmd::device::DeviceArgs;
use crate::cmd::discover::DiscoverArgs;
use crate::cmd::implicit::ImplicitArgs;
use crate::cmd::introspect::IntrospectArgs;
use crate::cmd::refresh::RefreshArgs;
use crate::cmd::revoke::RevokeArgs;
use crate::cmd::token_exchange::TokenExchangeArgs;
use crate::cmd::userinfo::UserinfoArgs;
use crate::failure::Failure;

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
    Discover(DiscoverArgs),
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
        Command::Device(args) => cmd::device::run(args),
        Command::Revoke(args) => cmd::revoke::run(args),
        Command::Introspect(args) => cmd::introspect::run(args),
        Command::TokenExchange(args) => cmd::token_exchange::run(args),
        Command::Demo(args) => cmd::demo::run(args),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
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
    use clap::CommandFactory as _;

    #[test]
    fn the_interface_is_consistent() {
        Cli::command().debug_assert();
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
