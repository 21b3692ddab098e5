//! `latchkey refresh`: the refresh grant (RFC 6749 §6), with `--cache`.

use clap::Args;
use latchkey::{RefreshToken, TokenSource};

use crate::cache::{self, Renewal};
use crate::context::options::{CacheArgs, Common};
use crate::context::{
    client, endpoint, joined_scopes, print_tokens, register_secrets, required, send, transport,
};
use crate::failure::Failure;
use crate::output::add_secret;
use crate::say;

/// `latchkey refresh`.
#[derive(Debug, Args)]
pub(crate) struct RefreshArgs {
    /// The flags every flow takes.
    #[command(flatten)]
    pub(crate) common: Common,
    /// `--cache FILE`.
    #[command(flatten)]
    pub(crate) cache: CacheArgs,
    /// The refresh token (a value starting with `-` is fine). Prefer the
    /// LATCHKEY_REFRESH_TOKEN environment variable. Optional with --cache when the cached
    /// token set has a refresh token.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "LATCHKEY_REFRESH_TOKEN",
        hide_env_values = true,
        allow_hyphen_values = true,
        required_unless_present = "cache"
    )]
    pub(crate) refresh_token: Option<String>,
}

/// Runs `latchkey refresh`: a cached token set when `--cache` has one that is valid or can be
/// refreshed, else a refresh with `--refresh-token`.
///
/// # Errors
///
/// [`Failure::Other`] when neither the cache nor `--refresh-token` gives a refresh token,
/// and whatever the refresh met.
pub(crate) fn run(args: &RefreshArgs) -> Result<(), Failure> {
    let common = &args.common;
    register_secrets(common);
    if let Some(refresh_token) = &args.refresh_token {
        add_secret(refresh_token);
    }
    let client_id = required(common.client.client_id.as_deref(), "refresh", "--client-id")?;
    let client = client(common, client_id, None)?;
    let token_url = &endpoint(client.token_endpoint(), "--token-url", common)?;
    let transport = transport(common);
    let scope = joined_scopes(&common.request.scopes);
    let renewal = Renewal {
        client: &client,
        source: TokenSource::User,
        scope: scope.clone(),
        transport: &transport,
        verbose: common.verbose,
    };
    let tokens = cache::tokens(args.cache.cache.as_deref(), renewal, || {
        let Some(refresh_token) = &args.refresh_token else {
            return Err(Failure::Other(
                "the cache has no token set that is valid or can be refreshed; pass --refresh-token"
                    .into(),
            ));
        };
        let mut exchange = client.refresh(&RefreshToken::new(refresh_token.as_str()))?;
        if !scope.is_empty() {
            exchange = exchange.scope(scope);
        }
        for resource in &common.request.resources {
            exchange = exchange.resource(resource);
        }
        say!("latchkey: refreshing at {token_url}");
        send(&transport, exchange, common.verbose)
    })?;
    print_tokens(&tokens)
}
