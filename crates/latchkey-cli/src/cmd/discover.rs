//! `latchkey discover`: the authorization server's metadata (RFC 8414, OpenID Connect
//! Discovery), as `--issuer` fetches it.

use clap::Args;

use crate::context::options::{IssuerArgs, NetworkArgs};
use crate::context::{Common, metadata, print_result};
use crate::failure::Failure;
use crate::say;

/// `latchkey discover`.
#[derive(Debug, Args)]
#[command(mut_arg("issuer", |arg| arg.required(true)))]
pub(crate) struct DiscoverArgs {
    #[command(flatten)]
    pub(crate) issuer: IssuerArgs,
    #[command(flatten)]
    pub(crate) network: NetworkArgs,
}

/// Runs `latchkey discover`: prints the issuer's metadata.
///
/// # Errors
///
/// [`Failure::Usage`] without `--issuer`, and whatever fetching the metadata met.
pub(crate) fn run(args: &DiscoverArgs) -> Result<(), Failure> {
    let common = Common::new(&args.issuer, &args.network, "latchkey");
    let Some(issuer) = &args.issuer.issuer else {
        return Err(Failure::Usage("discover needs --issuer".into()));
    };
    let metadata = metadata(&common, issuer)?;
    say!(
        "latchkey: the metadata of {} (issuer matches)",
        metadata.issuer
    );
    print_result(&metadata)
}
