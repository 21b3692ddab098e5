//! `latchkey client-credentials`: the client credentials grant (RFC 6749 §4.4), with
//! `--cache`.

use clap::Args;
use latchkey::TokenSource;

use crate::cache::{self, Cached, Key};
use crate::context::options::{
    AuthMethod, CacheArgs, ClientIdArg, IssuerArgs, NetworkArgs, OutputArgs, ParamArgs, ScopeArgs,
    SecretArgs, TokenUrlArg,
};
use crate::context::{Common, client, endpoint, print_tokens, wire};
use crate::failure::Failure;
use crate::say;

/// `latchkey client-credentials`.
#[derive(Debug, Args)]
pub(crate) struct ClientCredentialsArgs {
    #[command(flatten)]
    pub(crate) issuer: IssuerArgs,
    #[command(flatten)]
    pub(crate) token_url: TokenUrlArg,
    #[command(flatten)]
    pub(crate) client_id: ClientIdArg,
    #[command(flatten)]
    pub(crate) secret: SecretArgs,
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

/// Runs `latchkey client-credentials`: a cached token set when `--cache` has one, else a
/// token request at the token endpoint.
///
/// # Errors
///
/// [`Failure::Usage`] without a client secret or a mutual TLS method, and whatever the
/// request met.
pub(crate) fn run(args: &ClientCredentialsArgs) -> Result<(), Failure> {
    let mut common = Common::new(&args.issuer, &args.network, &args.client_id.client_id);
    common.endpoints.token_url = args.token_url.token_url.clone();
    common.secret = args.secret.clone();
    common.scope = args.scope.clone();
    common.token_params = args.params.params.clone();
    common.register_secrets();
    let mutual_tls = common
        .secret
        .auth_method
        .is_some_and(AuthMethod::is_mutual_tls);
    if common.secret.secret().is_none() && common.secret.private_key.is_none() && !mutual_tls {
        return Err(Failure::Usage(
            "client-credentials needs a client secret (--client-secret or \
             LATCHKEY_CLIENT_SECRET), a private key (--private-key, for private_key_jwt) or a client certificate (--cert, --key and --auth-method \
             tls_client_auth or self_signed_tls_client_auth)"
                .into(),
        ));
    }
    let wire = wire(&common)?;
    let scope = common.scope();
    let source = TokenSource::ClientCredentials {
        scope,
        params: Vec::new(),
    };
    let cached = Cached {
        args: &args.cache,
        key: Key::of(&common),
        wire: &wire,
        output: args.output.output,
    };
    let tokens = cache::tokens(
        cached,
        || Ok((client(&common, None)?, source)),
        || {
            let client = client(&common, None)?;
            let token_url = endpoint(client.token_endpoint(), "--token-url", &common)?;
            let mut exchange = client.client_credentials()?;
            for scope in &common.scope.scopes {
                exchange = exchange.scope(scope);
            }
            for resource in &common.scope.resources {
                exchange = exchange.resource(resource);
            }
            say!("latchkey: requesting a token at {token_url}");
            wire.send(exchange)
        },
    )?;
    print_tokens(&tokens, args.output.output)
}
