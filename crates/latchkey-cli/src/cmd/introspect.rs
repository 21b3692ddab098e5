//! `latchkey introspect`: token introspection (RFC 7662).

use clap::Args;
use latchkey::{AccessToken, RefreshToken};

use crate::context::options::{Common, Hint, TokenArgs};
use crate::context::{client, endpoint, print_result, register_secrets, required, send, transport};
use crate::failure::Failure;
use crate::output::add_secret;
use crate::say;

/// `latchkey introspect`.
#[derive(Debug, Args)]
pub(crate) struct IntrospectArgs {
    /// The flags every flow takes.
    #[command(flatten)]
    pub(crate) common: Common,
    /// `--token` and `--token-type-hint`.
    #[command(flatten)]
    pub(crate) token: TokenArgs,
}

/// Runs `latchkey introspect`: prints the server's answer (`active`, `scope`, `exp`...).
///
/// # Errors
///
/// Whatever the request met; see [`Failure`].
pub(crate) fn run(args: &IntrospectArgs) -> Result<(), Failure> {
    let common = &args.common;
    register_secrets(common);
    add_secret(&args.token.token);
    let client_id = required(
        common.client.client_id.as_deref(),
        "introspect",
        "--client-id",
    )?;
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
    print_result(&answer)
}
