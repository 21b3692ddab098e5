//! `latchkey userinfo`: the claims at the userinfo endpoint for an access token.

use clap::Args;
use latchkey::AccessToken;

use crate::context::options::Common;
use crate::context::{client, endpoint, print_result, register_secrets, send, transport};
use crate::failure::Failure;
use crate::output::add_secret;
use crate::say;

/// The client_id used by `userinfo` when none is given (userinfo does not send it).
const USERINFO_CLIENT_ID: &str = "latchkey";

/// `latchkey userinfo`.
#[derive(Debug, Args)]
pub(crate) struct UserinfoArgs {
    /// The flags every flow takes.
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

/// Runs `latchkey userinfo`: prints the claims JSON.
///
/// # Errors
///
/// Whatever the request met; see [`Failure`].
pub(crate) fn run(args: &UserinfoArgs) -> Result<(), Failure> {
    let common = &args.common;
    register_secrets(common);
    add_secret(&args.access_token);
    let client_id = common
        .client
        .client_id
        .as_deref()
        .unwrap_or(USERINFO_CLIENT_ID);
    let client = client(common, client_id, None)?;
    let userinfo_url = &endpoint(client.userinfo_endpoint(), "--userinfo-url", common)?;
    let exchange = client.userinfo(&AccessToken::new(args.access_token.as_str()))?;
    say!("latchkey: calling {userinfo_url}");
    let claims = send(&transport(common), exchange, common.verbose)?;
    print_result(&claims)
}
