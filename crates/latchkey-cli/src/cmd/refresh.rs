//! `latchkey refresh`: the refresh grant (RFC 6749 §6), with `--cache`.

use clap::Args;
use latchkey::{RefreshToken, TokenSource};

use crate::cache::{self, Cached, Key};
use crate::context::options::{
    CacheArgs, ClientIdArg, IssuerArgs, NetworkArgs, OutputArgs, ParamArgs, ScopeArgs, SecretArgs,
    TokenUrlArg,
};
use crate::context::{Common, Wire, client, endpoint, print_tokens, wire};
use crate::failure::Failure;
use crate::output::add_secret;
use crate::say;

/// `latchkey refresh`.
#[derive(Debug, Args)]
pub(crate) struct RefreshArgs {
    #[command(flatten)]
    pub(crate) issuer: IssuerArgs,
    #[command(flatten)]
    pub(crate) token_url: TokenUrlArg,
    #[command(flatten)]
    pub(crate) client_id: ClientIdArg,
    #[command(flatten)]
    pub(crate) secret: SecretArgs,
    /// The refresh token (a value starting with `-` is fine). Prefer the
    /// LATCHKEY_REFRESH_TOKEN environment variable. With --cache it is refreshed now, and the
    /// result saved; without it, the cached entry's refresh token is used.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "LATCHKEY_REFRESH_TOKEN",
        hide_env_values = true,
        allow_hyphen_values = true,
        required_unless_present = "cache",
        help_heading = "Client"
    )]
    pub(crate) refresh_token: Option<String>,
    #[command(flatten)]
    pub(crate) scope: ScopeArgs,
    #[command(flatten)]
    pub(crate) params: ParamArgs,
    #[command(flatten)]
    pub(crate) cache: CacheArgs,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
    #[command(flatten)]
    pub(crate) network: NetworkArgs,
}

/// Runs `latchkey refresh`: with `--refresh-token`, a refresh now (its result saved with
/// `--cache`); else the cached entry, refreshed when it is about to expire or with
/// `--force-refresh`.
///
/// # Errors
///
/// [`Failure::Other`] when neither the cache nor `--refresh-token` gives a refresh token,
/// and whatever the refresh met.
pub(crate) fn run(args: &RefreshArgs) -> Result<(), Failure> {
    let mut common = Common::new(&args.issuer, &args.network, &args.client_id.client_id);
    common.endpoints.token_url = args.token_url.token_url.clone();
    common.secret = args.secret.clone();
    common.scope = args.scope.clone();
    common.token_params = args.params.params.clone();
    common.register_secrets();
    if let Some(refresh_token) = &args.refresh_token {
        add_secret(refresh_token);
    }
    let wire = wire(&common)?;
    let cached = Cached {
        args: &args.cache,
        key: Key::of(&common),
        wire: &wire,
        output: args.output.output,
    };
    let tokens = match &args.refresh_token {
        // A refresh token given is a request to refresh now, whatever the cache holds: the
        // result is saved under this run's key.
        Some(given) if args.cache.cache.is_some() => {
            cache::replace(cached, || refresh(&common, &wire, given))?
        }
        Some(given) => refresh(&common, &wire, given)?,
        None => cache::tokens(
            cached,
            || Ok((client(&common, None)?, TokenSource::User)),
            || {
                Err(Failure::Other(
                    "the cache has no token set for this client, server and scope that is \
                     valid or can be refreshed; pass --refresh-token"
                        .into(),
                ))
            },
        )?,
    };
    print_tokens(&tokens, args.output.output)
}

/// A refresh with `refresh_token`.
fn refresh(
    common: &Common,
    wire: &Wire,
    refresh_token: &str,
) -> Result<latchkey::TokenSet, Failure> {
    let client = client(common, None)?;
    let token_url = endpoint(client.token_endpoint(), "--token-url", common)?;
    let mut exchange = client.refresh(&RefreshToken::new(refresh_token))?;
    let scope = common.scope();
    if !scope.is_empty() {
        exchange = exchange.scope(scope);
    }
    for resource in &common.scope.resources {
        exchange = exchange.resource(resource);
    }
    say!("latchkey: refreshing at {token_url}");
    wire.send(exchange)
}
