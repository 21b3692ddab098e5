//! `latchkey discover`: the authorization server's metadata (RFC 8414, OpenID Connect
//! Discovery), as `--issuer` fetches it.

use clap::Args;

use crate::context::options::Common;
use crate::context::{metadata, print_result, required};
use crate::failure::Failure;
use crate::say;

/// `latchkey discover`.
#[derive(Debug, Args)]
pub(crate) struct DiscoverArgs {
    /// The flags every flow takes (`--issuer` and `--well-known` among them).
    #[command(flatten)]
    pub(crate) common: Common,
}

/// Runs `latchkey discover`: prints the issuer's metadata.
///
/// # Errors
///
/// [`Failure::Usage`] without `--issuer`, and whatever fetching the metadata met.
pub(crate) fn run(args: &DiscoverArgs) -> Result<(), Failure> {
    let common = &args.common;
    let issuer = required(common.endpoints.issuer.as_deref(), "discover", "--issuer")?;
    let metadata = metadata(common, issuer)?;
    say!(
        "latchkey: the metadata of {} (issuer matches)",
        metadata.issuer
    );
    print_result(&metadata)
}
