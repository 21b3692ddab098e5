//! `latchkey authorize`: the authorization code flow (RFC 6749 §4.1), with PKCE, PAR
//! (RFC 9126) and `--cache`.

use clap::Args;
use latchkey::{
    AuthorizationRequest, AuthorizationUrl, Client, PendingAuthorization, PkceVerifier, State,
    TokenSet, TokenSource,
};
use latchkey_ureq::Transport;

use crate::cache::{self, Renewal};
use crate::callback::{self, Source};
use crate::context::options::{CacheArgs, CallbackArgs, Common};
use crate::context::{
    client, endpoint, joined_scopes, print_tokens, register_secrets, required, send, transport,
};
use crate::failure::Failure;
use crate::listener::Mode;
use crate::output::{add_secret, add_url_secrets};
use crate::say;

/// `latchkey authorize`.
#[derive(Debug, Args)]
pub(crate) struct AuthorizeArgs {
    /// The flags every flow takes.
    #[command(flatten)]
    pub(crate) common: Common,
    /// `--cache FILE`.
    #[command(flatten)]
    pub(crate) cache: CacheArgs,
    /// How the redirect comes back.
    #[command(flatten)]
    pub(crate) callback: CallbackArgs,
    /// Turn PKCE off (only for servers that reject it; RFC 9700 recommends it for all).
    #[arg(long, help_heading = "Callback")]
    pub(crate) no_pkce: bool,
    /// Use this PKCE verifier instead of a random one (for --callback URL in scripts).
    #[arg(
        long,
        value_name = "VERIFIER",
        env = "LATCHKEY_CODE_VERIFIER",
        hide_env_values = true,
        allow_hyphen_values = true,
        conflicts_with = "no_pkce",
        help_heading = "Callback"
    )]
    pub(crate) code_verifier: Option<String>,
    /// Push the authorization request to the server first (PAR, RFC 9126) and send only
    /// client_id and request_uri through the browser; automatic when --issuer's metadata
    /// requires it.
    #[arg(long, help_heading = "Callback")]
    pub(crate) par: bool,
}

/// Runs `latchkey authorize`: a cached token set when `--cache` has one, else the code flow.
///
/// # Errors
///
/// Whatever the flow met; see [`Failure`].
pub(crate) fn run(args: &AuthorizeArgs) -> Result<(), Failure> {
    let common = &args.common;
    register_secrets(common);
    if let Some(verifier) = &args.code_verifier {
        add_secret(verifier);
    }
    let client_id = required(
        common.client.client_id.as_deref(),
        "authorize",
        "--client-id",
    )?;
    // The endpoints, from their flags or from --issuer's metadata.
    let endpoints = client(common, client_id, None)?;
    endpoint(endpoints.authorization_endpoint(), "--auth-url", common)?;
    let token_url = &endpoint(endpoints.token_endpoint(), "--token-url", common)?;
    let transport = transport(common);
    let renewal = Renewal {
        client: &endpoints,
        source: TokenSource::User,
        scope: joined_scopes(&common.request.scopes),
        transport: &transport,
        verbose: common.verbose,
    };
    let tokens = cache::tokens(args.cache.cache.as_deref(), renewal, || {
        code_flow(args, client_id, &transport, token_url)
    })?;
    print_tokens(&tokens)
}

/// The code flow itself: the authorization URL, the redirect, the code exchange at
/// `token_url`.
fn code_flow(
    args: &AuthorizeArgs,
    client_id: &str,
    transport: &Transport,
    token_url: &str,
) -> Result<TokenSet, Failure> {
    let common = &args.common;
    let flags = &common.request;
    let source = Source::new(&args.callback, flags.redirect_uri.as_deref())?;
    let client = client(common, client_id, Some(&source.redirect_uri()))?;
    let mut request = client
        .authorization_code()
        .scopes(&flags.scopes)
        .redirect_uri(source.redirect_uri());
    for (name, value) in flags.params.iter().chain(&flags.auth_params) {
        request = request.param(name, value);
    }
    if let Some(state) = &args.callback.state {
        request = request.state(State::new(state.as_str()));
    }
    if args.no_pkce {
        request = request.no_pkce();
    } else if let Some(verifier) = &args.code_verifier {
        request = request.pkce_verifier(PkceVerifier::new(verifier.as_str())?);
    }
    for resource in &flags.resources {
        request = request.resource(resource);
    }
    let (url, pending) = authorization_url(common, &client, transport, request, args.par)?;
    if let Some(verifier) = pending.pkce_verifier() {
        add_secret(verifier.expose_secret());
    }
    let deadline = callback::deadline(common.network.timeout);
    source.announce(&url, args.callback.no_browser, Mode::Query, deadline);
    let mut exchange = source.receive(Mode::Query, deadline, |params| {
        add_url_secrets(params);
        pending.callback(&client, params).map_err(Failure::from)
    })?;
    add_secret(exchange.code().expose_secret());
    for resource in &flags.resources {
        exchange = exchange.resource(resource);
    }
    say!("latchkey: exchanging the authorization code at {token_url}");
    send(transport, exchange, common.verbose)
}

/// The authorization URL: pushed first (RFC 9126) with `--par` or when the metadata requires
/// it, else built directly.
fn authorization_url(
    common: &Common,
    client: &Client,
    transport: &Transport,
    request: AuthorizationRequest<'_>,
    par: bool,
) -> Result<(AuthorizationUrl, PendingAuthorization), Failure> {
    if !(par || client.requires_pushed_authorization()) {
        return Ok(request.build()?);
    }
    let par_url = endpoint(
        client.pushed_authorization_request_endpoint(),
        "--par-url",
        common,
    )?;
    say!("latchkey: pushing the authorization request to {par_url} (RFC 9126)");
    send(transport, request.push()?, common.verbose)
}
