//! `latchkey authorize`: the authorization code flow (RFC 6749 §4.1), with PKCE, PAR
//! (RFC 9126), `--print-url` and `--cache`.

use clap::Args;
use latchkey::{
    AuthorizationRequest, AuthorizationUrl, Client, PendingAuthorization, PkceVerifier, State,
    TokenSet, TokenSource,
};
use serde_json::json;

use crate::cache::{self, Cached, Key};
use crate::callback::{self, DEFAULT_MANUAL_REDIRECT, Source};
use crate::context::options::{
    AuthUrlArg, CacheArgs, ClientIdArg, IssuerArgs, LoginArgs, NetworkArgs, OutputArgs, ParamArgs,
    ScopeArgs, SecretArgs, TokenUrlArg,
};
use crate::context::{Common, Wire, client, endpoint, print_result, print_tokens, wire};
use crate::failure::Failure;
use crate::output::{add_secret, add_url_secrets};
use crate::say;
use latchkey_loopback::Mode;

/// `latchkey authorize`.
#[derive(Debug, Args)]
pub(crate) struct AuthorizeArgs {
    #[command(flatten)]
    pub(crate) issuer: IssuerArgs,
    #[command(flatten)]
    pub(crate) auth_url: AuthUrlArg,
    #[command(flatten)]
    pub(crate) token_url: TokenUrlArg,
    /// Pushed authorization request endpoint (with --par) [default: from --issuer].
    #[arg(long, value_name = "URL", help_heading = "Server")]
    pub(crate) par_url: Option<String>,
    #[command(flatten)]
    pub(crate) client_id: ClientIdArg,
    #[command(flatten)]
    pub(crate) secret: SecretArgs,
    #[command(flatten)]
    pub(crate) scope: ScopeArgs,
    #[command(flatten)]
    pub(crate) params: ParamArgs,
    /// Extra parameter for the authorization request only; repeatable.
    #[arg(long = "auth-param", value_name = "KEY=VALUE", value_parser = crate::context::options::parse_param, help_heading = "Request")]
    pub(crate) auth_params: Vec<(String, String)>,
    /// Extra parameter for the token requests only; repeatable.
    #[arg(long = "token-param", value_name = "KEY=VALUE", value_parser = crate::context::options::parse_param, help_heading = "Request")]
    pub(crate) token_params: Vec<(String, String)>,
    #[command(flatten)]
    pub(crate) login: LoginArgs,
    /// Print the authorization URL, state, PKCE verifier and nonce as JSON and exit; deliver
    /// the redirect later with --callback URL --state STATE --code-verifier VERIFIER.
    #[arg(long, conflicts_with_all = ["callback", "cache"], help_heading = "Login")]
    pub(crate) print_url: bool,
    /// Turn PKCE off (only for servers that reject it; RFC 9700 recommends it for all).
    #[arg(long, help_heading = "Login")]
    pub(crate) no_pkce: bool,
    /// Use this PKCE verifier instead of a random one (for --callback URL in scripts).
    #[arg(
        long,
        value_name = "VERIFIER",
        env = "LATCHKEY_CODE_VERIFIER",
        hide_env_values = true,
        allow_hyphen_values = true,
        conflicts_with = "no_pkce",
        help_heading = "Login"
    )]
    pub(crate) code_verifier: Option<String>,
    /// Use this OpenID Connect nonce instead of a random one (to complete a --print-url
    /// login with --callback: the ID token must carry the nonce the URL was built with).
    #[arg(long, value_name = "NONCE", help_heading = "Login")]
    pub(crate) nonce: Option<String>,
    /// Push the authorization request to the server first (PAR, RFC 9126) and send only
    /// client_id and request_uri through the browser; automatic when --issuer's metadata
    /// requires it.
    #[arg(long, help_heading = "Login")]
    pub(crate) par: bool,
    #[command(flatten)]
    pub(crate) cache: CacheArgs,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
    #[command(flatten)]
    pub(crate) network: NetworkArgs,
}

impl AuthorizeArgs {
    /// The settings the context builds from.
    fn common(&self) -> Common {
        let mut common = Common::new(&self.issuer, &self.network, &self.client_id.client_id);
        common.endpoints.auth_url = self.auth_url.auth_url.clone();
        common.endpoints.token_url = self.token_url.token_url.clone();
        common.endpoints.par_url = self.par_url.clone();
        common.secret = self.secret.clone();
        common.scope = self.scope.clone();
        common.params = self.params.params.clone();
        common.auth_params = self.auth_params.clone();
        common.token_params = self.token_params.clone();
        common
    }
}

/// Runs `latchkey authorize`: a cached token set when `--cache` has one, else the code flow.
///
/// # Errors
///
/// Whatever the flow met; see [`Failure`].
pub(crate) fn run(args: &AuthorizeArgs) -> Result<(), Failure> {
    let common = args.common();
    common.register_secrets();
    if let Some(verifier) = &args.code_verifier {
        add_secret(verifier);
    }
    let wire = wire(&common)?;
    if args.print_url {
        return print_url(args, &common, &wire);
    }
    let cached = Cached {
        args: &args.cache,
        key: Key::of(&common),
        wire: &wire,
        output: args.output.output,
    };
    let tokens = cache::tokens(
        cached,
        || Ok((endpoints(&common)?, TokenSource::User)),
        || code_flow(args, &common, &wire),
    )?;
    print_tokens(&tokens, args.output.output)
}

/// The client without a redirect URI, its authorization and token endpoints checked.
fn endpoints(common: &Common) -> Result<Client, Failure> {
    let client = client(common, None)?;
    endpoint(client.authorization_endpoint(), "--auth-url", common)?;
    endpoint(client.token_endpoint(), "--token-url", common)?;
    Ok(client)
}

/// The authorization request (not yet built) for `redirect_uri`, from the flags; the nonce
/// it carries for an OpenID Connect request.
fn request<'c>(
    args: &AuthorizeArgs,
    common: &Common,
    client: &'c Client,
    redirect_uri: String,
) -> Result<(AuthorizationRequest<'c>, Option<String>), Failure> {
    let mut request = client
        .authorization_code()
        .scopes(&common.scope.scopes)
        .redirect_uri(redirect_uri);
    for (name, value) in common.params.iter().chain(&common.auth_params) {
        request = request.param(name, value);
    }
    // OpenID Connect: a nonce binds the ID token to this request.
    let given_nonce = common
        .params
        .iter()
        .chain(&common.auth_params)
        .any(|(k, _)| k == "nonce");
    let nonce = if let Some(nonce) = &args.nonce {
        request = request.param("nonce", nonce.as_str());
        Some(nonce.clone())
    } else if !given_nonce && common.scope().split(' ').any(|s| s == "openid") {
        let nonce = State::generate()?.as_str().to_owned();
        request = request.param("nonce", nonce.as_str());
        Some(nonce)
    } else {
        None
    };
    if let Some(state) = &args.login.state {
        request = request.state(State::new(state.as_str()));
    }
    if args.no_pkce {
        request = request.no_pkce();
    } else if let Some(verifier) = &args.code_verifier {
        request = request.pkce_verifier(PkceVerifier::new(verifier.as_str())?);
    }
    for resource in &common.scope.resources {
        request = request.resource(resource);
    }
    Ok((request, nonce))
}

/// `--print-url`: the authorization URL and what completing it later takes, as JSON.
fn print_url(args: &AuthorizeArgs, common: &Common, wire: &Wire) -> Result<(), Failure> {
    let redirect_uri = args
        .login
        .redirect_uri
        .clone()
        .unwrap_or_else(|| DEFAULT_MANUAL_REDIRECT.to_owned());
    let client = client(common, Some(&redirect_uri))?;
    endpoint(client.authorization_endpoint(), "--auth-url", common)?;
    let (request, nonce) = request(args, common, &client, redirect_uri.clone())?;
    let (url, pending) = authorization_url(common, &client, wire, request, args.par)?;
    let verifier = pending
        .pkce_verifier()
        .map(|v| v.expose_secret().to_owned());
    if let Some(verifier) = &verifier {
        add_secret(verifier);
    }
    let with_nonce = if nonce.is_some() {
        " --nonce NONCE"
    } else {
        ""
    };
    say!(
        "latchkey: complete it with: latchkey authorize --callback URL --state STATE \
         --code-verifier VERIFIER{with_nonce} --redirect-uri {redirect_uri} (and the same \
         client flags)"
    );
    print_result(&json!({
        "authorization_url": url.as_str(),
        "state": pending.state().as_str(),
        "code_verifier": verifier,
        "nonce": nonce,
        "redirect_uri": redirect_uri,
    }))
}

/// The code flow itself: the authorization URL, the redirect, the code exchange.
fn code_flow(args: &AuthorizeArgs, common: &Common, wire: &Wire) -> Result<TokenSet, Failure> {
    let source = Source::new(&args.login, Mode::Query)?;
    let client = client(common, Some(&source.redirect_uri()))?;
    endpoint(client.authorization_endpoint(), "--auth-url", common)?;
    let token_url = endpoint(client.token_endpoint(), "--token-url", common)?;
    let (request, _nonce) = request(args, common, &client, source.redirect_uri())?;
    let (url, pending) = authorization_url(common, &client, wire, request, args.par)?;
    if let Some(verifier) = pending.pkce_verifier() {
        add_secret(verifier.expose_secret());
    }
    let deadline = callback::deadline(&args.login);
    source.announce(&url, &args.login, Mode::Query, deadline);
    let state = pending.state().as_str().to_owned();
    let mut exchange = source.receive(Mode::Query, deadline, &state, |params| {
        add_url_secrets(params);
        pending.callback(&client, params)
    })?;
    add_secret(exchange.code().expose_secret());
    for resource in &common.scope.resources {
        exchange = exchange.resource(resource);
    }
    say!("latchkey: exchanging the authorization code at {token_url}");
    wire.send(exchange)
}

/// The authorization URL: pushed first (RFC 9126) with `--par` or when the metadata requires
/// it, else built directly.
fn authorization_url(
    common: &Common,
    client: &Client,
    wire: &Wire,
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
    wire.send(request.push()?)
}
