//! `latchkey logout-url`: the RP-initiated logout URL (OpenID Connect RP-Initiated Logout
//! 1.0) at the provider's `end_session_endpoint`, to open in the user's browser.

use clap::Args;
use latchkey::State;

use crate::context::options::{ClientIdArg, IssuerArgs, NetworkArgs};
use crate::context::{Common, client};
use crate::failure::Failure;
use crate::output::add_secret;

/// `latchkey logout-url`.
#[derive(Debug, Args)]
pub(crate) struct LogoutUrlArgs {
    #[command(flatten)]
    pub(crate) issuer: IssuerArgs,
    /// End-session endpoint [default: from --issuer].
    #[arg(long, value_name = "URL", help_heading = "Server")]
    pub(crate) end_session_url: Option<String>,
    #[command(flatten)]
    pub(crate) client_id: ClientIdArg,
    /// The ID token the user signed in with, sent as id_token_hint. Prefer the
    /// LATCHKEY_ID_TOKEN environment variable.
    #[arg(
        long,
        value_name = "JWT",
        env = "LATCHKEY_ID_TOKEN",
        hide_env_values = true,
        help_heading = "Request"
    )]
    pub(crate) id_token: Option<String>,
    /// Where the provider sends the user after logout (registered with the client).
    #[arg(long, value_name = "URI", help_heading = "Request")]
    pub(crate) post_logout_redirect_uri: Option<String>,
    /// The state to send back with the redirect [default: a fresh random one].
    #[arg(long, value_name = "STATE", help_heading = "Request")]
    pub(crate) state: Option<String>,
    #[command(flatten)]
    pub(crate) network: NetworkArgs,
}

/// Runs `latchkey logout-url`: prints the URL on stdout.
///
/// # Errors
///
/// [`Failure::Usage`] without an end-session endpoint; whatever fetching the metadata met.
pub(crate) fn run(args: &LogoutUrlArgs) -> Result<(), Failure> {
    let mut common = Common::new(&args.issuer, &args.network, &args.client_id.client_id);
    common.endpoints.end_session_url = args.end_session_url.clone();
    let client = client(&common, None)?;
    if client.end_session_endpoint().is_none() {
        return Err(Failure::Usage(
            "logout-url needs --end-session-url, or an --issuer whose metadata has an end_session_endpoint".into(),
        ));
    }
    let mut request = client.logout();
    if let Some(id_token) = &args.id_token {
        add_secret(id_token);
        request = request.id_token_hint(id_token.as_str());
    }
    if let Some(uri) = &args.post_logout_redirect_uri {
        request = request.post_logout_redirect_uri(uri.as_str());
    }
    let state = match &args.state {
        Some(state) => State::new(state.as_str()),
        None => State::generate()?,
    };
    let url = request.state(state).build()?;
    println!("{}", url.as_str());
    Ok(())
}
