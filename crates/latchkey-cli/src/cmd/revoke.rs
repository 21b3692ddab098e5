//! `latchkey revoke`: token revocation (RFC 7009).

use clap::Args;
use latchkey::{AccessToken, RefreshToken};
use serde_json::json;

use crate::context::options::{Common, Hint, TokenArgs};
use crate::context::{client, endpoint, print_result, register_secrets, required, send, transport};
use crate::failure::Failure;
use crate::output::add_secret;
use crate::say;

/// `latchkey revoke`.
#[derive(Debug, Args)]
pub(crate) struct RevokeArgs {
    /// The flags every flow takes.
    #[command(flatten)]
    pub(crate) common: Common,
    /// `--token` and `--token-type-hint`.
    #[command(flatten)]
    pub(crate) token: TokenArgs,
}

/// Runs `latchkey revoke`: prints `{"revoked":true}` once the server accepted it.
///
/// # Errors
///
/// Whatever the request met; see [`Failure`].
pub(crate) fn run(args: &RevokeArgs) -> Result<(), Failure> {
    let common = &args.common;
    register_secrets(common);
    add_secret(&args.token.token);
    let client_id = required(common.client.client_id.as_deref(), "revoke", "--client-id")?;
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
    print_result(&json!({ "revoked": true }))
}
