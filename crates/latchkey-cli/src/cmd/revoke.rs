//! `latchkey revoke`: token revocation (RFC 7009).

use clap::Args;
use latchkey::{AccessToken, RefreshToken};
use serde_json::json;

use crate::context::options::{ClientIdArg, Hint, IssuerArgs, NetworkArgs, SecretArgs, TokenArgs};
use crate::context::{Common, client, endpoint, print_result, wire};
use crate::failure::Failure;
use crate::output::add_secret;
use crate::say;

/// `latchkey revoke`.
#[derive(Debug, Args)]
pub(crate) struct RevokeArgs {
    #[command(flatten)]
    pub(crate) issuer: IssuerArgs,
    /// Token revocation endpoint [default: from --issuer].
    #[arg(long, value_name = "URL", help_heading = "Server")]
    pub(crate) revocation_url: Option<String>,
    #[command(flatten)]
    pub(crate) client_id: ClientIdArg,
    #[command(flatten)]
    pub(crate) secret: SecretArgs,
    /// `--token` and `--token-type-hint`.
    #[command(flatten)]
    pub(crate) token: TokenArgs,
    #[command(flatten)]
    pub(crate) network: NetworkArgs,
}

/// Runs `latchkey revoke`: prints `{"revoked":true}` once the server accepted it.
///
/// # Errors
///
/// Whatever the request met; see [`Failure`].
pub(crate) fn run(args: &RevokeArgs) -> Result<(), Failure> {
    let mut common = Common::new(&args.issuer, &args.network, &args.client_id.client_id);
    common.endpoints.revocation_url = args.revocation_url.clone();
    common.secret = args.secret.clone();
    common.register_secrets();
    add_secret(&args.token.token);
    let client = client(&common, None)?;
    let url = endpoint(client.revocation_endpoint(), "--revocation-url", &common)?;
    let token = args.token.token.as_str();
    let revocation = match args.token.token_type_hint {
        Some(Hint::AccessToken) => client.revoke(&AccessToken::new(token))?,
        Some(Hint::RefreshToken) => client.revoke(&RefreshToken::new(token))?,
        None => client.revoke(&AccessToken::new(token))?.without_hint(),
    };
    say!("latchkey: revoking at {url}");
    wire(&common)?.send(revocation)?;
    say!("latchkey: the server accepted the revocation (it says so for unknown tokens too)");
    print_result(&json!({ "revoked": true }))
}
