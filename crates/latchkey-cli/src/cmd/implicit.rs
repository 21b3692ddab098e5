//! `latchkey implicit`: the implicit flow (RFC 6749 §4.2; the token arrives in the URL
//! fragment), with `--cache`.

use std::time::SystemTime;

use clap::Args;
use latchkey::{State, TokenSet, TokenSource};

use crate::cache::{self, Cached, Key};
use crate::callback::{self, Source};
use crate::context::options::{
    AuthUrlArg, CacheArgs, ClientIdArg, IssuerArgs, LoginArgs, NetworkArgs, OutputArgs, ParamArgs,
    ScopeArgs,
};
use crate::context::{Common, client, endpoint, print_tokens, wire};
use crate::failure::Failure;
use crate::output::add_url_secrets;
use latchkey_loopback::Mode;

/// `latchkey implicit`.
#[derive(Debug, Args)]
pub(crate) struct ImplicitArgs {
    #[command(flatten)]
    pub(crate) issuer: IssuerArgs,
    #[command(flatten)]
    pub(crate) auth_url: AuthUrlArg,
    #[command(flatten)]
    pub(crate) client_id: ClientIdArg,
    #[command(flatten)]
    pub(crate) scope: ScopeArgs,
    #[command(flatten)]
    pub(crate) params: ParamArgs,
    #[command(flatten)]
    pub(crate) login: LoginArgs,
    #[command(flatten)]
    pub(crate) cache: CacheArgs,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
    #[command(flatten)]
    pub(crate) network: NetworkArgs,
}

/// Runs `latchkey implicit`: a cached token set when `--cache` has one, else the implicit
/// flow.
///
/// # Errors
///
/// Whatever the flow met; see [`Failure`].
pub(crate) fn run(args: &ImplicitArgs) -> Result<(), Failure> {
    let mut common = Common::new(&args.issuer, &args.network, &args.client_id.client_id);
    common.endpoints.auth_url = args.auth_url.auth_url.clone();
    common.scope = args.scope.clone();
    common.auth_params = args.params.params.clone();
    let wire = wire(&common)?;
    let cached = Cached {
        args: &args.cache,
        key: Key::of(&common),
        wire: &wire,
        output: args.output.output,
    };
    // Refreshable only with a token endpoint and a refresh token; else reused or replaced.
    let tokens = cache::tokens(
        cached,
        || Ok((client(&common, None)?, TokenSource::User)),
        || implicit_flow(args, &common),
    )?;
    print_tokens(&tokens, args.output.output)
}

/// The implicit flow itself: the authorization URL, then the token from the redirect.
fn implicit_flow(args: &ImplicitArgs, common: &Common) -> Result<TokenSet, Failure> {
    let source = Source::new(&args.login, Mode::Fragment)?;
    let client = client(common, Some(&source.redirect_uri()))?;
    endpoint(client.authorization_endpoint(), "--auth-url", common)?;
    let mut request = client
        .implicit()
        .scopes(&common.scope.scopes)
        .redirect_uri(source.redirect_uri());
    for (name, value) in &common.auth_params {
        request = request.param(name, value);
    }
    if let Some(state) = &args.login.state {
        request = request.state(State::new(state.as_str()));
    }
    for resource in &common.scope.resources {
        request = request.param("resource", resource);
    }
    let (url, pending) = request.build()?;
    let deadline = callback::deadline(&args.login);
    source.announce(&url, &args.login, Mode::Fragment, deadline);
    let state = pending.state().as_str().to_owned();
    source.receive(Mode::Fragment, deadline, &state, |params| {
        add_url_secrets(params);
        // A server may put an error in the query rather than the fragment.
        let params = match params.split_once('#') {
            Some((_, fragment)) => fragment,
            None => params.split_once('?').map_or(params, |(_, query)| query),
        };
        pending.callback(&client, params, SystemTime::now())
    })
}
