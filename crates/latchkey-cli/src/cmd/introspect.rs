//! `latchkey introspect`: token introspection (RFC 7662).

use clap::Args;
use latchkey::{AccessToken, RefreshToken};

use crate::context::options::{ClientIdArg, Hint, IssuerArgs, NetworkArgs, SecretArgs, TokenArgs};
use crate::context::{Common, client, endpoint, print_result, wire};
use crate::failure::Failure;
use crate::output::add_secret;
use crate::say;

/// `latchkey introspect`.
#[derive(Debug, Args)]
pub(crate) struct IntrospectArgs {
    #[command(flatten)]
    pub(crate) issuer: IssuerArgs,
    /// Token introspection endpoint [default: from --issuer].
    #[arg(long, value_name = "URL", help_heading = "Server")]
    pub(crate) introspection_url: Option<String>,
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

/// Runs `latchkey introspect`: prints the server's answer (`active`, `scope`, `exp`...).
///
/// # Errors
///
/// Whatever the request met; see [`Failure`].
pub(crate) fn run(args: &IntrospectArgs) -> Result<(), Failure> {
    let mut common = Common::new(&args.issuer, &args.network, &args.client_id.client_id);
    common.endpoints.introspection_url = args.introspection_url.clone();
    common.secret = args.secret.clone();
    common.register_secrets();
    add_secret(&args.token.token);
    let client = client(&common, None)?;
    let url = endpoint(
        client.introspection_endpoint(),
        "--introspection-url",
        &common,
    )?;
    let token = args.token.token.as_str();
    let request = match args.token.token_type_hint {
        Some(Hint::AccessToken) => client.introspect(&AccessToken::new(token))?,
        Some(Hint::RefreshToken) => client.introspect(&RefreshToken::new(token))?,
        None => client.introspect(&AccessToken::new(token))?.without_hint(),
    };
    say!("latchkey: introspecting at {url}");
    let answer = wire(&common)?.send(request)?;
    if answer.active {
        say!("latchkey: the token is active");
    } else {
        say!("latchkey: the token is not active");
    }
    print_result(&answer)
}
