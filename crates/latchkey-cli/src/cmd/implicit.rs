//! `latchkey implicit`: the implicit flow (RFC 6749 §4.2; the token arrives in the URL
//! fragment), with `--cache`.

use std::time::SystemTime;

use clap::Args;
use latchkey::{State, TokenSet, TokenSource};

use crate::cache::{self, Renewal};
use crate::callback::{self, Source};
use crate::context::options::{CacheArgs, CallbackArgs, Common};
use crate::context::{
    client, endpoint, joined_scopes, print_tokens, register_secrets, required, transport,
};
use crate::failure::Failure;
use crate::listener::Mode;
use crate::output::add_url_secrets;

/// `latchkey implicit`.
#[derive(Debug, Args)]
pub(crate) struct ImplicitArgs {
    /// The flags every flow takes.
    #[command(flatten)]
    pub(crate) common: Common,
    /// `--cache FILE`.
    #[command(flatten)]
    pub(crate) cache: CacheArgs,
    /// How the redirect comes back.
    #[command(flatten)]
    pub(crate) callback: CallbackArgs,
}

/// Runs `latchkey implicit`: a cached token set when `--cache` has one, else the implicit
/// flow.
///
/// # Errors
///
/// Whatever the flow met; see [`Failure`].
pub(crate) fn run(args: &ImplicitArgs) -> Result<(), Failure> {
    let common = &args.common;
    register_secrets(common);
    let client_id = required(
        common.client.client_id.as_deref(),
        "implicit",
        "--client-id",
    )?;
    let endpoints = client(common, client_id, None)?;
    endpoint(endpoints.authorization_endpoint(), "--auth-url", common)?;
    // Refreshable only with a token endpoint and a refresh token; else reused or replaced.
    let transport = transport(common);
    let renewal = Renewal {
        client: &endpoints,
        source: TokenSource::User,
        scope: joined_scopes(&common.request.scopes),
        transport: &transport,
        verbose: common.verbose,
    };
    let tokens = cache::tokens(args.cache.cache.as_deref(), renewal, || {
        implicit_flow(args, client_id)
    })?;
    print_tokens(&tokens)
}

/// The implicit flow itself: the authorization URL, then the token from the redirect.
fn implicit_flow(args: &ImplicitArgs, client_id: &str) -> Result<TokenSet, Failure> {
    let common = &args.common;
    let flags = &common.request;
    let source = Source::new(&args.callback, flags.redirect_uri.as_deref())?;
    let client = client(common, client_id, Some(&source.redirect_uri()))?;
    let mut request = client
        .implicit()
        .scopes(&flags.scopes)
        .redirect_uri(source.redirect_uri());
    for (name, value) in flags.params.iter().chain(&flags.auth_params) {
        request = request.param(name, value);
    }
    if let Some(state) = &args.callback.state {
        request = request.state(State::new(state.as_str()));
    }
    for resource in &flags.resources {
        request = request.param("resource", resource);
    }
    let (url, pending) = request.build()?;
    let deadline = callback::deadline(common.network.timeout);
    source.announce(&url, args.callback.no_browser, Mode::Fragment, deadline);
    source.receive(Mode::Fragment, deadline, |params| {
        add_url_secrets(params);
        // A server may put an error in the query rather than the fragment.
        let params = match params.split_once('#') {
            Some((_, fragment)) => fragment,
            None => params.split_once('?').map_or(params, |(_, query)| query),
        };
        pending
            .callback(&client, params, SystemTime::now())
            .map_err(Failure::from)
    })
}
