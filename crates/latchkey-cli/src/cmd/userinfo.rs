//! `latchkey userinfo`: the claims at the userinfo endpoint for an access token.

use clap::Args;
use latchkey::AccessToken;

use crate::context::options::{IssuerArgs, NetworkArgs};
use crate::context::{Common, client, endpoint, print_result, wire};
use crate::failure::Failure;
use crate::output::add_secret;
use crate::say;

/// The client_id `userinfo` builds its client with (userinfo does not send one).
const USERINFO_CLIENT_ID: &str = "latchkey";

/// `latchkey userinfo`.
#[derive(Debug, Args)]
pub(crate) struct UserinfoArgs {
    #[command(flatten)]
    pub(crate) issuer: IssuerArgs,
    /// Userinfo endpoint [default: from --issuer].
    #[arg(long, value_name = "URL", help_heading = "Server")]
    pub(crate) userinfo_url: Option<String>,
    /// The access token (a value starting with `-` is fine). Prefer the
    /// LATCHKEY_ACCESS_TOKEN environment variable.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "LATCHKEY_ACCESS_TOKEN",
        hide_env_values = true,
        allow_hyphen_values = true,
        required = true,
        help_heading = "Token"
    )]
    pub(crate) access_token: String,
    /// The DPoP key (PKCS#8 PEM) a DPoP-bound access token is bound to: the call then
    /// carries `Authorization: DPoP` and a proof of it (RFC 9449).
    #[arg(long, value_name = "FILE", help_heading = "Token")]
    pub(crate) dpop_key: Option<std::path::PathBuf>,
    /// The algorithm --dpop-key signs with, where the key allows several [default: by key
    /// type].
    #[arg(
        long,
        value_name = "ALG",
        requires = "dpop_key",
        help_heading = "Token"
    )]
    pub(crate) key_alg: Option<String>,
    #[command(flatten)]
    pub(crate) network: NetworkArgs,
}

/// Runs `latchkey userinfo`: prints the claims JSON.
///
/// # Errors
///
/// Whatever the request met; see [`Failure`].
pub(crate) fn run(args: &UserinfoArgs) -> Result<(), Failure> {
    let mut common = Common::new(&args.issuer, &args.network, USERINFO_CLIENT_ID);
    common.endpoints.userinfo_url = args.userinfo_url.clone();
    common.secret.dpop_key = args.dpop_key.clone();
    common.secret.key_alg = args.key_alg.clone();
    add_secret(&args.access_token);
    let client = client(&common, None)?;
    let userinfo_url = endpoint(client.userinfo_endpoint(), "--userinfo-url", &common)?;
    let exchange = client.userinfo(&AccessToken::new(args.access_token.as_str()))?;
    say!("latchkey: calling {userinfo_url}");
    let claims = wire(&common)?.send(exchange)?;
    print_result(&claims)
}
