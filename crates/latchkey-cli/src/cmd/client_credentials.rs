//! `latchkey client-credentials`: the client credentials grant (RFC 6749 §4.4), with
//! `--cache`.

use clap::Args;
use latchkey::TokenSource;

use crate::cache::{self, Renewal};
use crate::context::options::{CacheArgs, Common};
use crate::context::{
    client, endpoint, joined_scopes, print_tokens, register_secrets, required, send, transport,
};
use crate::failure::Failure;
use crate::say;

/// `latchkey client-credentials`.
#[derive(Debug, Args)]
pub(crate) struct ClientCredentialsArgs {
    /// The flags every flow takes.
    #[command(flatten)]
    pub(crate) common: Common,
    /// `--cache FILE`.
    #[command(flatten)]
    pub(crate) cache: CacheArgs,
}

/// Runs `latchkey client-credentials`: a cached token set when `--cache` has one, else a
/// token request at the token endpoint.
///
/// # Errors
///
/// [`Failure::Usage`] without a client secret, and whatever the request met.
pub(crate) fn run(args: &ClientCredentialsArgs) -> Result<(), Failure> {
    let common = &args.common;
    register_secrets(common);
    let client_id = required(
        common.client.client_id.as_deref(),
        "client-credentials",
        "--client-id",
    )?;
    if common.client.secret().is_none() {
        return Err(Failure::Usage(
            "client-credentials needs a client secret: --client-secret or LATCHKEY_CLIENT_SECRET"
                .into(),
        ));
    }
    let client = client(common, client_id, None)?;
    let token_url = &endpoint(client.token_endpoint(), "--token-url", common)?;
    let transport = transport(common);
    let scope = joined_scopes(&common.request.scopes);
    let renewal = Renewal {
        client: &client,
        source: TokenSource::ClientCredentials {
            scope: scope.clone(),
            params: Vec::new(),
        },
        scope,
        transport: &transport,
        verbose: common.verbose,
    };
    let tokens = cache::tokens(args.cache.cache.as_deref(), renewal, || {
        let mut exchange = client.client_credentials()?;
        for scope in &common.request.scopes {
            exchange = exchange.scope(scope);
        }
        for resource in &common.request.resources {
            exchange = exchange.resource(resource);
        }
        say!("latchkey: requesting a token at {token_url}");
        send(&transport, exchange, common.verbose)
    })?;
    print_tokens(&tokens)
}
