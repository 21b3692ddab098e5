//! One function per subcommand: check the flags, build the [`Client`] and the transport, run
//! the flow, print the result.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use latchkey::manage::{Landing, Poll, RenewalMachine, RenewalStep, Work};
use latchkey::{
    AccessToken, AuthorizationUrl, BodyEncoding, Client, ClientAuth, Error, Exchange, Lifecycle,
    PkceVerifier, ReauthorizeError, RefreshToken, RetryPolicy, State, TokenSet, TokenSource,
    TokenStore, Url,
};
use latchkey_ureq::{FileStore, Transport};

use crate::args::{
    AuthMethod, AuthorizeArgs, Body, CacheArgs, CallbackArgs, Cli, ClientCredentialsArgs, Command,
    Common, ImplicitArgs, RefreshArgs, UserinfoArgs,
};
use crate::listener::{self, Listener, Mode};
use crate::output::{add_secret, add_token_secrets, add_url_secrets, print_json, token_object};
use crate::protocol::{self, endpoint};
use crate::trace::{Traced, snapshot};
use crate::{Failure, demo, say};

/// How long the listener (or stdin) waits for the redirect without `--timeout`.
const DEFAULT_CALLBACK_TIMEOUT: Duration = Duration::from_secs(300);
/// The redirect URI without a listener and without `--redirect-uri`: nothing answers there,
/// and the browser's address bar shows the URL to paste.
const DEFAULT_MANUAL_REDIRECT: &str = "http://127.0.0.1/callback";
/// The client_id used by `userinfo` when none is given (userinfo does not send it).
const USERINFO_CLIENT_ID: &str = "latchkey";

/// Runs the chosen subcommand.
///
/// # Errors
///
/// Whatever the flow met; see [`Failure`].
pub(crate) fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Authorize(args) => authorize(&args),
        Command::Implicit(args) => implicit(&args),
        Command::ClientCredentials(args) => client_credentials(&args),
        Command::Refresh(args) => refresh(&args),
        Command::Userinfo(args) => userinfo(&args),
        Command::Discover(args) => protocol::discover(&args),
        Command::Device(args) => protocol::device(&args),
        Command::Revoke(args) => protocol::revoke(&args),
        Command::Introspect(args) => protocol::introspect(&args),
        Command::TokenExchange(args) => protocol::token_exchange(&args),
        Command::Demo(_) => demo::run(),
    }
}

/// `latchkey authorize`: the authorization code flow.
fn authorize(args: &AuthorizeArgs) -> Result<(), Failure> {
    let common = &args.common;
    register_secrets(common);
    if let Some(verifier) = &args.code_verifier {
        add_secret(verifier);
    }
    let client_id = required(common.client_id.as_deref(), "authorize", "--client-id")?;
    // The endpoints, from their flags or from --issuer's metadata.
    let endpoints = client(common, client_id, None)?;
    endpoint(endpoints.authorization_endpoint(), "--auth-url", common)?;
    let token_url = &endpoint(endpoints.token_endpoint(), "--token-url", common)?;
    let transport = transport(common);
    let cache = Cache::new(&args.cache);
    if let Some(cache) = &cache {
        if let Some(tokens) = cache.lookup(&endpoints, TokenSource::User, common, &transport)? {
            return print_tokens(&tokens);
        }
    }

    let source = Source::new(&args.callback, common.redirect_uri.as_deref())?;
    let client = client(common, client_id, Some(&source.redirect_uri()))?;
    let mut request = client
        .authorization_code()
        .scopes(&common.scopes)
        .redirect_uri(source.redirect_uri());
    for (name, value) in common.params.iter().chain(&common.auth_params) {
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
    let request = protocol::with_resources(common, request);
    let (url, pending) =
        protocol::authorization_url(common, &client, &transport, request, args.par)?;
    if let Some(verifier) = pending.pkce_verifier() {
        add_secret(verifier.expose_secret());
    }
    let deadline = Instant::now() + common.timeout.unwrap_or(DEFAULT_CALLBACK_TIMEOUT);
    source.announce(&url, args.callback.no_browser, Mode::Query, deadline);
    let mut exchange = source.receive(Mode::Query, deadline, |params| {
        add_url_secrets(params);
        pending.callback(&client, params).map_err(Failure::from)
    })?;
    add_secret(exchange.code().expose_secret());
    for resource in &common.protocol.resources {
        exchange = exchange.resource(resource);
    }
    say!("latchkey: exchanging the authorization code at {token_url}");
    let tokens = send(&transport, exchange, common.verbose)?;
    finish(&tokens, cache.as_ref())
}

/// `latchkey implicit`: the implicit flow (token in the fragment).
fn implicit(args: &ImplicitArgs) -> Result<(), Failure> {
    let common = &args.common;
    register_secrets(common);
    let client_id = required(common.client_id.as_deref(), "implicit", "--client-id")?;
    let endpoints = client(common, client_id, None)?;
    endpoint(endpoints.authorization_endpoint(), "--auth-url", common)?;
    let cache = Cache::new(&args.cache);
    if let Some(cache) = &cache {
        // Refreshable only with a token endpoint and a refresh token; else reused or replaced.
        if let Some(tokens) =
            cache.lookup(&endpoints, TokenSource::User, common, &transport(common))?
        {
            return print_tokens(&tokens);
        }
    }

    let source = Source::new(&args.callback, common.redirect_uri.as_deref())?;
    let client = client(common, client_id, Some(&source.redirect_uri()))?;
    let mut request = client
        .implicit()
        .scopes(&common.scopes)
        .redirect_uri(source.redirect_uri());
    for (name, value) in common.params.iter().chain(&common.auth_params) {
        request = request.param(name, value);
    }
    if let Some(state) = &args.callback.state {
        request = request.state(State::new(state.as_str()));
    }
    for resource in &common.protocol.resources {
        request = request.param("resource", resource);
    }
    let (url, pending) = request.build()?;
    let deadline = Instant::now() + common.timeout.unwrap_or(DEFAULT_CALLBACK_TIMEOUT);
    source.announce(&url, args.callback.no_browser, Mode::Fragment, deadline);
    let tokens = source.receive(Mode::Fragment, deadline, |params| {
        add_url_secrets(params);
        // A server may put an error in the query rather than the fragment.
        let params = match params.split_once('#') {
            Some((_, fragment)) => fragment,
            None => params.split_once('?').map_or(params, |(_, query)| query),
        };
        pending
            .callback(&client, params, SystemTime::now())
            .map_err(Failure::from)
    })?;
    finish(&tokens, cache.as_ref())
}

/// `latchkey client-credentials`.
fn client_credentials(args: &ClientCredentialsArgs) -> Result<(), Failure> {
    let common = &args.common;
    register_secrets(common);
    let client_id = required(
        common.client_id.as_deref(),
        "client-credentials",
        "--client-id",
    )?;
    if common.secret().is_none() {
        return Err(Failure::Usage(
            "client-credentials needs a client secret: --client-secret or LATCHKEY_CLIENT_SECRET"
                .into(),
        ));
    }
    let client = client(common, client_id, None)?;
    let token_url = &endpoint(client.token_endpoint(), "--token-url", common)?;
    let transport = transport(common);
    let cache = Cache::new(&args.cache);
    if let Some(cache) = &cache {
        let source = TokenSource::ClientCredentials {
            scope: joined_scopes(&common.scopes),
            params: Vec::new(),
        };
        if let Some(tokens) = cache.lookup(&client, source, common, &transport)? {
            return print_tokens(&tokens);
        }
    }
    let mut exchange = client.client_credentials()?;
    for scope in &common.scopes {
        exchange = exchange.scope(scope);
    }
    for resource in &common.protocol.resources {
        exchange = exchange.resource(resource);
    }
    say!("latchkey: requesting a token at {token_url}");
    let tokens = send(&transport, exchange, common.verbose)?;
    finish(&tokens, cache.as_ref())
}

/// `latchkey refresh`.
fn refresh(args: &RefreshArgs) -> Result<(), Failure> {
    let common = &args.common;
    register_secrets(common);
    if let Some(refresh_token) = &args.refresh_token {
        add_secret(refresh_token);
    }
    let client_id = required(common.client_id.as_deref(), "refresh", "--client-id")?;
    let client = client(common, client_id, None)?;
    let token_url = &endpoint(client.token_endpoint(), "--token-url", common)?;
    let transport = transport(common);
    let cache = Cache::new(&args.cache);
    if let Some(cache) = &cache {
        if let Some(tokens) = cache.lookup(&client, TokenSource::User, common, &transport)? {
            return print_tokens(&tokens);
        }
    }
    let Some(refresh_token) = &args.refresh_token else {
        return Err(Failure::Other(
            "the cache has no token set that is valid or can be refreshed; pass --refresh-token"
                .into(),
        ));
    };
    let mut exchange = client.refresh(&RefreshToken::new(refresh_token.as_str()))?;
    let scope = joined_scopes(&common.scopes);
    if !scope.is_empty() {
        exchange = exchange.scope(scope);
    }
    for resource in &common.protocol.resources {
        exchange = exchange.resource(resource);
    }
    say!("latchkey: refreshing at {token_url}");
    let tokens = send(&transport, exchange, common.verbose)?;
    finish(&tokens, cache.as_ref())
}

/// `--cache FILE`: a [`FileStore`] the token-producing subcommands read first and write
/// after.
struct Cache {
    store: FileStore,
}

impl Cache {
    fn new(args: &CacheArgs) -> Option<Self> {
        args.cache.as_deref().map(|path| Self {
            store: FileStore::new(path),
        })
    }

    fn path(&self) -> &Path {
        self.store.path()
    }

    /// A token set to print: the cached one while it is valid for longer than the refresh
    /// skew, else a refreshed one (saved before it is returned). `None` when no refresh is
    /// possible and the full flow must run: no cache yet, other scopes, no refresh token, no
    /// token endpoint, or the server refused the refresh token.
    fn lookup(
        &self,
        client: &Client,
        source: TokenSource,
        common: &Common,
        transport: &Transport,
    ) -> Result<Option<TokenSet>, Failure> {
        let path = self.path().display();
        let cached = self
            .store
            .load()
            .map_err(|e| Failure::Other(format!("--cache: {e}")))?;
        let Some(cached) = cached else {
            say!("latchkey: no token set in {path} yet");
            return Ok(None);
        };
        add_token_secrets(&cached);
        let wanted = joined_scopes(&common.scopes);
        if let Some(missing) = missing_scope(&cached, &wanted) {
            say!("latchkey: the token set in {path} lacks scope {missing}; not using it");
            return Ok(None);
        }
        // The renewal machine the token managers drive decides, on one thread here.
        let now = SystemTime::now();
        let lifecycle = Lifecycle::new(client.clone(), source);
        let mut machine = RenewalMachine::new(lifecycle, Some(cached.clone()));
        let renewal = match machine.poll(now, false) {
            Ok(Poll::Use(_)) => {
                say!(
                    "latchkey: using the cached token from {path}{}",
                    lifetime(&cached, now)
                );
                return Ok(Some(cached));
            }
            Ok(Poll::Start(renewal))
                if matches!(renewal.work, Work::Fetch(RenewalStep::Refresh(_))) =>
            {
                renewal
            }
            _ => {
                say!(
                    "latchkey: the cached token from {path} is no longer usable{} and cannot be \
                     refreshed",
                    lifetime(&cached, now)
                );
                return Ok(None);
            }
        };
        let token_url = client
            .token_endpoint()
            .map_or(String::new(), Url::to_string);
        say!(
            "latchkey: the cached token from {path} is about to expire{}; refreshing at {token_url}",
            lifetime(&cached, now)
        );
        let Work::Fetch(step) = renewal.work else {
            return Ok(None);
        };
        let fetched = match send(transport, step, common.verbose) {
            Ok(tokens) => Ok(tokens),
            Err(Failure::OAuth(error)) => Err(error),
            Err(other) => return Err(other),
        };
        match machine.fetched(renewal.ticket, fetched, SystemTime::now()) {
            Landing::Save(tokens) => {
                self.save(&tokens)?;
                Ok(Some(tokens))
            }
            Landing::Done(Err(Error::Reauthorize(ReauthorizeError::InvalidGrant(e)))) => {
                say!(
                    "latchkey: the server refused the cached refresh token ({}); starting over",
                    e.code.as_str()
                );
                Ok(None)
            }
            Landing::Done(Err(error)) => Err(Failure::OAuth(error)),
            Landing::Done(Ok(_)) => Ok(None),
        }
    }

    /// Saves the token set; on failure it is printed anyway (so that a rotated refresh token
    /// is not lost) and the command fails.
    fn save(&self, tokens: &TokenSet) -> Result<(), Failure> {
        match self.store.save(tokens) {
            Ok(()) => {
                say!("latchkey: saved the token set to {}", self.path().display());
                Ok(())
            }
            Err(e) => {
                print_tokens(tokens)?;
                Err(Failure::Other(format!(
                    "the token set was printed but could not be saved: {e}"
                )))
            }
        }
    }
}

/// The first wanted scope the cached token set was not granted (when it says what it was
/// granted).
fn missing_scope<'a>(tokens: &TokenSet, wanted: &'a str) -> Option<&'a str> {
    tokens.scope()?;
    wanted
        .split(' ')
        .filter(|s| !s.is_empty())
        .find(|s| !tokens.scopes().any(|have| have == *s))
}

/// `" (expires in N s)"`, `" (expired N s ago)"`, or nothing when the expiry is unknown.
fn lifetime(tokens: &TokenSet, now: SystemTime) -> String {
    match tokens.expires_at() {
        None => String::new(),
        Some(at) => match at.duration_since(now) {
            Ok(left) => format!(" (expires in {} s)", left.as_secs()),
            Err(e) => format!(" (expired {} s ago)", e.duration().as_secs()),
        },
    }
}

/// Saves the new token set to the cache, if any, then prints it.
fn finish(tokens: &TokenSet, cache: Option<&Cache>) -> Result<(), Failure> {
    if let Some(cache) = cache {
        cache.save(tokens)?;
    }
    print_tokens(tokens)
}

/// `latchkey userinfo`.
fn userinfo(args: &UserinfoArgs) -> Result<(), Failure> {
    let common = &args.common;
    register_secrets(common);
    add_secret(&args.access_token);
    let client_id = common.client_id.as_deref().unwrap_or(USERINFO_CLIENT_ID);
    let client = client(common, client_id, None)?;
    let userinfo_url = &endpoint(client.userinfo_endpoint(), "--userinfo-url", common)?;
    let exchange = client.userinfo(&AccessToken::new(args.access_token.as_str()))?;
    say!("latchkey: calling {userinfo_url}");
    let claims = send(&transport(common), exchange, common.verbose)?;
    print_json(&claims).map_err(|e| Failure::Other(format!("cannot write stdout: {e}")))
}

/// Where the redirect comes from.
enum Source {
    /// The loopback listener.
    Listener(Listener),
    /// `--callback URL`.
    Given {
        callback: String,
        redirect_uri: String,
    },
    /// `--callback -`.
    Stdin { redirect_uri: String },
}

impl Source {
    /// Chooses the source from the flags; binds the listener if there is one.
    fn new(callback: &CallbackArgs, redirect_uri: Option<&str>) -> Result<Self, Failure> {
        match callback.callback.as_deref() {
            None => Ok(Self::Listener(Listener::bind(redirect_uri)?)),
            Some("-") => Ok(Self::Stdin {
                redirect_uri: redirect_uri.unwrap_or(DEFAULT_MANUAL_REDIRECT).to_owned(),
            }),
            Some(given) => {
                if callback.state.is_none() {
                    return Err(Failure::Usage(
                        "--callback URL needs --state (the state of the authorization request \
                         that produced it); use --callback - to paste the redirect instead"
                            .into(),
                    ));
                }
                // Without --redirect-uri, the callback's own address is the redirect URI.
                let redirect_uri = match redirect_uri {
                    Some(uri) => uri.to_owned(),
                    None => {
                        let url = latchkey::parse_url(given).map_err(|e| {
                            Failure::Usage(format!("--callback is not an absolute URL: {e}"))
                        })?;
                        // The normalized URL up to its query or fragment (neither `?` nor
                        // `#` can occur before them).
                        let text = url.as_str();
                        text[..text.find(['?', '#']).unwrap_or(text.len())].to_owned()
                    }
                };
                Ok(Self::Given {
                    callback: given.to_owned(),
                    redirect_uri,
                })
            }
        }
    }

    /// The redirect URI for the authorization request.
    fn redirect_uri(&self) -> String {
        match self {
            Self::Listener(listener) => listener.redirect_uri().to_owned(),
            Self::Given { redirect_uri, .. } | Self::Stdin { redirect_uri } => redirect_uri.clone(),
        }
    }

    /// Prints the authorization URL on a line of its own, says what happens next, and opens
    /// the browser when someone is going to use it.
    fn announce(&self, url: &AuthorizationUrl, no_browser: bool, mode: Mode, deadline: Instant) {
        say!("latchkey: open this URL in a browser to authorize:");
        say!("{url}");
        let wait = deadline
            .saturating_duration_since(Instant::now())
            .as_secs_f64();
        match self {
            Self::Listener(listener) => say!(
                "latchkey: waiting up to {} s for the redirect to {}",
                // Whole seconds, but a sub-second limit still shows.
                if wait >= 10.0 {
                    format!("{wait:.0}")
                } else {
                    format!("{wait:.1}")
                },
                listener.redirect_uri()
            ),
            Self::Stdin { .. } => say!(
                "latchkey: then paste the whole address you were redirected to{} and press Enter",
                if mode == Mode::Fragment {
                    " (with its #fragment)"
                } else {
                    ""
                }
            ),
            Self::Given { .. } => say!("latchkey: using the redirect URL given with --callback"),
        }
        if !no_browser && !matches!(self, Self::Given { .. }) {
            listener::open_browser(url.as_str());
        }
    }

    /// Receives the redirect and hands its parameters to `accept`.
    fn receive<T>(
        self,
        mode: Mode,
        deadline: Instant,
        accept: impl FnOnce(&str) -> Result<T, Failure>,
    ) -> Result<T, Failure> {
        match self {
            Self::Listener(listener) => listener.wait(mode, deadline, accept),
            Self::Given { callback, .. } => accept(&callback),
            Self::Stdin { .. } => accept(&listener::read_stdin_line(deadline)?),
        }
    }
}

/// Masks the secrets given on the command line or in the environment on stderr.
pub(crate) fn register_secrets(common: &Common) {
    if let Some(secret) = &common.client_secret {
        add_secret(secret);
    }
}

/// Returns the flag's value or a usage error naming it.
pub(crate) fn required<'a>(
    value: Option<&'a str>,
    command: &str,
    flag: &str,
) -> Result<&'a str, Failure> {
    match value {
        Some(value) if !value.is_empty() => Ok(value),
        _ => Err(Failure::Usage(format!("{command} needs {flag}"))),
    }
}

/// Refuses an endpoint that would send credentials in clear text to another machine.
pub(crate) fn check_url(flag: &str, url: &str, insecure_http: bool) -> Result<(), Failure> {
    let parsed = latchkey::parse_url(url).map_err(|e| Failure::Usage(format!("{flag}: {e}")))?;
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if insecure_http || latchkey::drive::is_loopback(&parsed) => Ok(()),
        "http" => Err(Failure::Usage(format!(
            "{flag}: http:// to a host other than loopback sends credentials in clear text; \
             use https or pass --insecure-http"
        ))),
        scheme => Err(Failure::Usage(format!(
            "{flag}: scheme {scheme} is not http or https"
        ))),
    }
}

/// Scopes as one space-separated value, each once.
pub(crate) fn joined_scopes(scopes: &[String]) -> String {
    let mut out: Vec<&str> = Vec::new();
    for scope in scopes.iter().flat_map(|s| s.split(' ')) {
        if !scope.is_empty() && !out.contains(&scope) {
            out.push(scope);
        }
    }
    out.join(" ")
}

/// Builds the client from the flags.
pub(crate) fn client(
    common: &Common,
    client_id: &str,
    redirect_uri: Option<&str>,
) -> Result<Client, Failure> {
    let mut builder = Client::builder(client_id).body_encoding(match common.body {
        Body::Form => BodyEncoding::Form,
        Body::Json => BodyEncoding::Json,
        Body::Multipart => BodyEncoding::Multipart,
    });
    // --issuer (discovery) first, so that the endpoint flags below win.
    builder = protocol::configure(common, builder)?;
    if let Some(secret) = common.secret() {
        builder = builder.client_secret(secret);
    }
    if let Some(method) = common.auth_method {
        builder = builder.auth_method(match method {
            AuthMethod::Basic => ClientAuth::Basic,
            AuthMethod::Post => ClientAuth::Post,
            AuthMethod::None => ClientAuth::None,
        });
    }
    if let Some(url) = &common.auth_url {
        builder = builder.authorization_endpoint(url.as_str());
    }
    if let Some(url) = &common.token_url {
        builder = builder.token_endpoint(url.as_str());
    }
    if let Some(url) = &common.userinfo_url {
        builder = builder.userinfo_endpoint(url.as_str());
    }
    if let Some(uri) = redirect_uri {
        builder = builder.redirect_uri(uri);
    }
    if let Some(audience) = &common.audience {
        builder = builder.audience(audience.as_str());
    }
    for (name, value) in common.params.iter().chain(&common.token_params) {
        builder = builder.token_param(name.as_str(), value.as_str());
    }
    Ok(builder.build()?)
}

/// The blocking transport, configured from `--timeout`, `--insecure-http` and `--retries`.
pub(crate) fn transport(common: &Common) -> Transport {
    let policy = if common.retries == 0 {
        RetryPolicy::never()
    } else {
        RetryPolicy::with_retries(common.retries)
    };
    let mut builder = Transport::builder()
        .allow_insecure_http(common.insecure_http)
        .retry_policy(policy);
    if let Some(timeout) = common.timeout {
        builder = builder
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)));
    }
    builder.build()
}

/// Sends an exchange; with `--verbose`, shows the request (secrets redacted) and the status.
pub(crate) fn send<E: Exchange>(
    transport: &Transport,
    exchange: E,
    verbose: bool,
) -> Result<E::Output, Failure> {
    let (traced, record) = Traced::new(exchange);
    let result = transport.send(traced);
    if verbose {
        let record = snapshot(&record);
        for line in record.request_lines() {
            say!("> {line}");
        }
        say!("< {}", record.status_line());
    }
    Ok(result?)
}

/// Prints the token set to stdout, with a summary on stderr.
pub(crate) fn print_tokens(tokens: &TokenSet) -> Result<(), Failure> {
    add_token_secrets(tokens);
    let mut summary = format!("latchkey: got a {} token", tokens.token_type().as_str());
    // From `expires_at` when known, so that a cached token shows what is left of it.
    let left = tokens.expires_at().map(|at| {
        at.duration_since(SystemTime::now())
            .map_or(0, |left| left.as_secs_f64().round() as u64)
    });
    if let Some(expires_in) = left.or_else(|| tokens.expires_in()) {
        summary.push_str(&format!(", expires in {expires_in} s"));
    }
    if tokens.refresh_token().is_some() {
        summary.push_str(", with a refresh token");
    }
    say!("{summary}");
    print_json(&token_object(tokens, false))
        .map_err(|e| Failure::Other(format!("cannot write stdout: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked() {
        assert!(check_url("--token-url", "https://a.example/t", false).is_ok());
        assert!(check_url("--token-url", "http://127.0.0.1:9/t", false).is_ok());
        assert!(check_url("--token-url", "http://localhost/t", false).is_ok());
        assert!(matches!(
            check_url("--token-url", "http://a.example/t", false),
            Err(Failure::Usage(_))
        ));
        // A name under `localhost` is looked up in DNS like any other: not loopback.
        assert!(matches!(
            check_url("--token-url", "http://evil.localhost:8080/t", false),
            Err(Failure::Usage(_))
        ));
        assert!(check_url("--token-url", "http://a.example/t", true).is_ok());
        assert!(check_url("--token-url", "ftp://a.example/t", true).is_err());
        assert!(check_url("--token-url", "https://u:p@a.example/t", true).is_err());
        assert!(check_url("--token-url", "not a url", true).is_err());
    }

    #[test]
    fn scopes_are_joined_once() {
        let scopes = vec![
            "a b".to_owned(),
            "c".to_owned(),
            "a".to_owned(),
            String::new(),
        ];
        assert_eq!(joined_scopes(&scopes), "a b c");
    }
}
