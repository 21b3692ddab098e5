//! The flag groups the subcommands flatten into their clap `Args`, each defined once. A
//! subcommand flattens exactly the groups it uses, so it accepts exactly the flags it uses.
//! These spellings are the public interface.
//!
//! Each flag's `help_heading` names the section of `--help` it appears in; the sections
//! appear in the order a subcommand flattens its groups (`Server` first, `--issuer` at its
//! top), and within a section flags appear in the order they are declared.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

/// `--issuer` and `--well-known`: the easiest way in with any OpenID provider.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct IssuerArgs {
    /// The authorization server's issuer identifier: its endpoints come from its metadata
    /// (RFC 8414, then OpenID Connect Discovery), the metadata's issuer must match exactly,
    /// `iss` is checked on callbacks when it advertises it (RFC 9207), PAR is used when it
    /// requires it, and the client authentication method is chosen from what it supports.
    /// Endpoint flags given as well take precedence.
    #[arg(long, value_name = "URL", help_heading = "Server")]
    pub(crate) issuer: Option<String>,
    /// Which metadata document --issuer fetches [default: oauth, then openid if that is not
    /// served].
    #[arg(
        long,
        value_enum,
        value_name = "KIND",
        requires = "issuer",
        help_heading = "Server"
    )]
    pub(crate) well_known: Option<WellKnownDoc>,
    /// A provider preset: its endpoints and dialect (latchkey::providers). Endpoint flags
    /// given as well take precedence.
    #[arg(
        long,
        value_enum,
        value_name = "NAME",
        conflicts_with = "issuer",
        help_heading = "Server"
    )]
    pub(crate) provider: Option<ProviderName>,
    /// The Microsoft Entra tenant (an id, a domain, common, organizations or consumers).
    #[arg(
        long,
        value_name = "TENANT",
        requires = "provider",
        help_heading = "Server"
    )]
    pub(crate) tenant: Option<String>,
    /// The Auth0 or Okta domain, e.g. example.eu.auth0.com.
    #[arg(
        long,
        value_name = "DOMAIN",
        requires = "provider",
        help_heading = "Server"
    )]
    pub(crate) domain: Option<String>,
    /// The Okta authorization server id [default: default].
    #[arg(
        long,
        value_name = "ID",
        requires = "provider",
        help_heading = "Server"
    )]
    pub(crate) authorization_server: Option<String>,
    /// The Keycloak realm.
    #[arg(
        long,
        value_name = "REALM",
        requires = "provider",
        help_heading = "Server"
    )]
    pub(crate) realm: Option<String>,
    /// The Keycloak or GitLab base URL [GitLab default: the gitlab.com instance].
    #[arg(
        long,
        value_name = "URL",
        requires = "provider",
        help_heading = "Server"
    )]
    pub(crate) base_url: Option<String>,
}

/// The provider presets of `--provider`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ProviderName {
    /// GitHub (OAuth and GitHub apps).
    Github,
    /// Google.
    Google,
    /// Microsoft Entra ID v2.0 (needs --tenant).
    Microsoft,
    /// Auth0 (needs --domain; an API needs its audience).
    Auth0,
    /// Okta (needs --domain; --authorization-server).
    Okta,
    /// Keycloak (needs --base-url and --realm).
    Keycloak,
    /// GitLab (--base-url for a self-managed instance).
    Gitlab,
    /// Loom AI (documented provider 000/001).
    LoomAi,
    /// CoLoop (documented provider 002).
    Coloop,
    /// Blooma (documented provider 003; needs the instance's audience).
    Blooma,
    /// Loop & Tie (documented provider 004).
    LoopAndTie,
}

/// `--token-url`.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct TokenUrlArg {
    /// Token endpoint [default: from --issuer].
    #[arg(long, value_name = "URL", help_heading = "Server")]
    pub(crate) token_url: Option<String>,
}

/// `--auth-url`.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct AuthUrlArg {
    /// Authorization endpoint [default: from --issuer].
    #[arg(long, value_name = "URL", help_heading = "Server")]
    pub(crate) auth_url: Option<String>,
}

/// `--client-id`.
#[derive(Debug, Clone, Args)]
pub(crate) struct ClientIdArg {
    /// The client_id.
    #[arg(long, value_name = "ID", required = true, help_heading = "Client")]
    pub(crate) client_id: String,
}

/// The client secret and how the client authenticates at the token endpoint.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct SecretArgs {
    /// The client secret. Prefer the LATCHKEY_CLIENT_SECRET environment variable, which
    /// keeps it out of shell history and the process list.
    #[arg(
        long,
        value_name = "SECRET",
        env = "LATCHKEY_CLIENT_SECRET",
        hide_env_values = true,
        allow_hyphen_values = true,
        help_heading = "Client"
    )]
    pub(crate) client_secret: Option<String>,
    /// Client authentication at the token endpoint [default: with --issuer, the first of
    /// basic and post the server lists when there is a secret; else basic with a secret;
    /// none without one].
    #[arg(long, value_enum, value_name = "METHOD", help_heading = "Client")]
    pub(crate) auth_method: Option<AuthMethod>,
    /// An algorithm ID tokens may be signed with (repeatable) [default: the metadata's
    /// id_token_signing_alg_values_supported, else RS256; never none].
    #[arg(long = "id-token-alg", value_name = "ALG", help_heading = "Client")]
    pub(crate) id_token_algs: Vec<String>,
    /// Token request body encoding [default: form, or the --provider's].
    #[arg(long, value_enum, value_name = "ENCODING", help_heading = "Client")]
    pub(crate) body: Option<Body>,
    /// The client's private key (PKCS#8 PEM) for private_key_jwt: every request that
    /// authenticates the client carries a JWT signed with it (RFC 7523). Implies
    /// --auth-method private_key_jwt.
    #[arg(long, value_name = "FILE", help_heading = "Client")]
    pub(crate) private_key: Option<PathBuf>,
    /// The kid of --private-key, put in each client assertion's header.
    #[arg(
        long,
        value_name = "KID",
        requires = "private_key",
        help_heading = "Client"
    )]
    pub(crate) key_id: Option<String>,
    /// The algorithm --private-key and --dpop-key sign with, where the key allows several
    /// [default: ES256 for a P-256 key, EdDSA for Ed25519, RS256 for RSA; PS256 is the
    /// other RSA choice].
    #[arg(long, value_name = "ALG", help_heading = "Client")]
    pub(crate) key_alg: Option<String>,
    /// Sender-constrained tokens (DPoP, RFC 9449): token requests and userinfo calls carry a
    /// proof of the client's key, and the tokens are bound to it [default: off; a new ES256
    /// key each run unless --dpop-key].
    #[arg(long, help_heading = "Client")]
    pub(crate) dpop: bool,
    /// The DPoP key (PKCS#8 PEM), created (ES256, mode 0600) when the file does not exist.
    /// Implies --dpop. Keep it with --cache: cached DPoP tokens carry their key.
    #[arg(long, value_name = "FILE", help_heading = "Client")]
    pub(crate) dpop_key: Option<PathBuf>,
}

impl SecretArgs {
    /// The client secret, if a non-empty one was given (an empty `LATCHKEY_CLIENT_SECRET`
    /// counts as none).
    pub(crate) fn secret(&self) -> Option<&str> {
        self.client_secret.as_deref().filter(|s| !s.is_empty())
    }
}

/// What the token is for: scopes, audience and resources (also the cache key).
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct ScopeArgs {
    /// Scope to request; repeatable, and a value may hold several space-separated scopes.
    #[arg(long = "scope", value_name = "S", help_heading = "Request")]
    pub(crate) scopes: Vec<String>,
    /// `audience` on the requests (Auth0-style APIs).
    #[arg(long, value_name = "AUD", help_heading = "Request")]
    pub(crate) audience: Option<String>,
    /// Resource indicator (RFC 8707) on the requests; repeatable.
    #[arg(long = "resource", value_name = "URI", help_heading = "Request")]
    pub(crate) resources: Vec<String>,
}

/// `--param`: extra parameters on every request of the flow.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct ParamArgs {
    /// Extra parameter added to the requests; repeatable. Names the flow sets itself
    /// (grant_type, client_secret, code, ...) are refused.
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = parse_param, help_heading = "Request")]
    pub(crate) params: Vec<(String, String)>,
}

/// How the authorization response comes back (authorize, implicit).
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct LoginArgs {
    /// Redirect URI. With the listener it must be a loopback http:// URI; port 0 picks a free
    /// port [default: http://127.0.0.1:PORT/callback on a free PORT; http://127.0.0.1/callback
    /// with --callback -; the callback's own address with --callback URL].
    #[arg(long, value_name = "URI", help_heading = "Login")]
    pub(crate) redirect_uri: Option<String>,
    /// Take the redirect URL from here instead of running a listener; `-` reads one line
    /// from stdin. It must match the redirect URI (scheme, host, port and path).
    #[arg(
        long,
        value_name = "URL|-",
        allow_hyphen_values = true,
        help_heading = "Login"
    )]
    pub(crate) callback: Option<String>,
    /// Use this state instead of a random one (for --callback URL in scripts).
    #[arg(
        long,
        value_name = "STATE",
        allow_hyphen_values = true,
        help_heading = "Login"
    )]
    pub(crate) state: Option<String>,
    /// Do not open the system browser (the URL is printed to stderr either way).
    #[arg(long, help_heading = "Login")]
    pub(crate) no_browser: bool,
    /// Open the authorization URL with PROGRAM instead of the system browser: it runs as
    /// `PROGRAM URL`, without a shell, its output discarded (a wrapper script passes more
    /// arguments). Without it the system browser opens, honouring the BROWSER variable.
    #[arg(
        long,
        value_name = "PROGRAM",
        conflicts_with = "no_browser",
        help_heading = "Login"
    )]
    pub(crate) browser_command: Option<PathBuf>,
    /// How long to wait for the browser's redirect or the pasted URL; fractions allowed.
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds, default_value = "300", help_heading = "Login")]
    pub(crate) login_timeout: Duration,
}

/// `--cache FILE` and `--force-refresh`, on every subcommand that produces a token set from
/// a grant that lasts.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct CacheArgs {
    /// Keep token sets in FILE (JSON, written atomically, mode 0600), one entry per issuer
    /// (or token endpoint), client_id, scopes, audience and resources: print a cached token
    /// that is valid for more than 60 s without sending anything; refresh it (and save the
    /// new set, rotated refresh token included) when it is about to expire; run the full
    /// flow, and save its result, only when no refresh is possible. A refresh the server
    /// refuses removes the entry. Runs sharing FILE refresh one at a time (a lock on
    /// FILE.lock) and use what the first saved.
    #[arg(long, value_name = "FILE", help_heading = "Cache")]
    pub(crate) cache: Option<PathBuf>,
    /// Renew the cached token even when it is still valid.
    #[arg(long, requires = "cache", help_heading = "Cache")]
    pub(crate) force_refresh: bool,
}

/// `--output`, on every subcommand that prints a token set.
#[derive(Debug, Clone, Copy, Default, Args)]
pub(crate) struct OutputArgs {
    /// What to print on stdout.
    #[arg(
        long,
        short = 'o',
        value_enum,
        value_name = "FORMAT",
        default_value_t = Output::Json,
        help_heading = "Output"
    )]
    pub(crate) output: Output,
}

/// How HTTP requests are sent, and `-v`.
#[derive(Debug, Clone, Args)]
pub(crate) struct NetworkArgs {
    /// Longest wait to connect (DNS lookup, then TCP and TLS), per attempt; fractions allowed.
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds, default_value = "10", help_heading = "Network")]
    pub(crate) connect_timeout: Duration,
    /// Longest time one HTTP request may take in all, per attempt; fractions allowed.
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds, default_value = "30", help_heading = "Network")]
    pub(crate) max_time: Duration,
    /// Retries after a failure where resending is safe (connection failures always; 429,
    /// 502, 503, 504 and timeouts for client-credentials and userinfo, honouring
    /// Retry-After); each retry prints one line. 0 turns retrying off.
    #[arg(long, value_name = "N", default_value_t = 3, help_heading = "Network")]
    pub(crate) retries: u32,
    /// Allow plain http:// endpoints on hosts other than loopback (never for real secrets).
    #[arg(long, help_heading = "Network")]
    pub(crate) insecure_http: bool,
    /// Present this client certificate (PEM: the certificate, then any intermediates) in
    /// every TLS handshake: mutual TLS (RFC 8705), for the tls_client_auth and
    /// self_signed_tls_client_auth methods and certificate-bound tokens. Needs --key.
    #[arg(long, value_name = "FILE", requires = "key", help_heading = "Network")]
    pub(crate) cert: Option<PathBuf>,
    /// The private key of --cert (unencrypted PEM: PKCS#8, SEC1 or RSA). Keep it mode 0600.
    #[arg(long, value_name = "FILE", requires = "cert", help_heading = "Network")]
    pub(crate) key: Option<PathBuf>,
    /// Trust only the certificate authorities in this PEM file for the servers'
    /// certificates, instead of the built-in roots (a private PKI, a test CA).
    #[arg(long, value_name = "FILE", help_heading = "Network")]
    pub(crate) ca_file: Option<PathBuf>,
    /// Also print each HTTP request and response to stderr (credentials redacted).
    #[arg(short, long, help_heading = "Network")]
    pub(crate) verbose: bool,
}

/// The token `revoke` and `introspect` send.
#[derive(Debug, Clone, Args)]
pub(crate) struct TokenArgs {
    /// The token (a value starting with `-` is fine). Prefer the LATCHKEY_TOKEN environment
    /// variable.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "LATCHKEY_TOKEN",
        hide_env_values = true,
        allow_hyphen_values = true,
        required = true,
        help_heading = "Token"
    )]
    pub(crate) token: String,
    /// What kind of token it is, as a hint to the server [default: no hint].
    #[arg(long, value_enum, value_name = "HINT", help_heading = "Token")]
    pub(crate) token_type_hint: Option<Hint>,
}

/// Client authentication at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum AuthMethod {
    /// client_secret_basic: HTTP Basic with the client id and secret.
    Basic,
    /// client_secret_post: client_id and client_secret in the request body.
    Post,
    /// A public client: only client_id is sent.
    None,
    /// private_key_jwt: a JWT signed with --private-key (RFC 7523).
    #[value(name = "private_key_jwt", alias = "private-key-jwt")]
    PrivateKeyJwt,
    /// client_secret_jwt: a JWT signed with the client secret (HS256, RFC 7523).
    #[value(name = "client_secret_jwt", alias = "client-secret-jwt")]
    ClientSecretJwt,
    /// tls_client_auth: mutual TLS with --cert from a CA the server trusts; client_id and
    /// no secret are sent.
    #[value(name = "tls_client_auth", alias = "tls-client-auth")]
    TlsClientAuth,
    /// self_signed_tls_client_auth: mutual TLS with a self-signed --cert registered with
    /// the server; client_id and no secret are sent.
    #[value(
        name = "self_signed_tls_client_auth",
        alias = "self-signed-tls-client-auth"
    )]
    SelfSignedTlsClientAuth,
}

impl AuthMethod {
    /// The method's name in metadata (`token_endpoint_auth_methods_supported`).
    pub(crate) fn metadata_name(self) -> &'static str {
        match self {
            Self::Basic => "client_secret_basic",
            Self::Post => "client_secret_post",
            Self::None => "none",
            Self::PrivateKeyJwt => "private_key_jwt",
            Self::ClientSecretJwt => "client_secret_jwt",
            Self::TlsClientAuth => "tls_client_auth",
            Self::SelfSignedTlsClientAuth => "self_signed_tls_client_auth",
        }
    }

    /// The flag value that selects it.
    pub(crate) fn flag_value(self) -> &'static str {
        match self {
            Self::Basic => "basic",
            Self::Post => "post",
            Self::None => "none",
            Self::PrivateKeyJwt => "private_key_jwt",
            Self::ClientSecretJwt => "client_secret_jwt",
            Self::TlsClientAuth => "tls_client_auth",
            Self::SelfSignedTlsClientAuth => "self_signed_tls_client_auth",
        }
    }

    /// True for the mutual TLS methods, which need --cert and --key.
    pub(crate) fn is_mutual_tls(self) -> bool {
        matches!(self, Self::TlsClientAuth | Self::SelfSignedTlsClientAuth)
    }
}

/// Token request body encoding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum Body {
    /// application/x-www-form-urlencoded (RFC 6749).
    #[default]
    Form,
    /// application/json (Auth0-style providers).
    Json,
    /// multipart/form-data (what `curl -F` sends).
    Multipart,
}

/// What a token-producing subcommand prints on stdout.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum Output {
    /// The token set as one JSON object (`expires_in` is the time left).
    #[default]
    Json,
    /// The access token alone, for `$(latchkey ...)`.
    Token,
    /// `Authorization: <token_type> <access token>`.
    Header,
    /// `LATCHKEY_ACCESS_TOKEN=...` and the other members as shell variable lines.
    Env,
}

/// The metadata document `--issuer` fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum WellKnownDoc {
    /// RFC 8414: /.well-known/oauth-authorization-server (inserted before the issuer's path).
    Oauth,
    /// OpenID Connect: /.well-known/openid-configuration (appended to the issuer).
    Openid,
}

/// `token_type_hint` (RFC 7009 §2.1, RFC 7662 §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Hint {
    /// An access token.
    #[value(name = "access_token")]
    AccessToken,
    /// A refresh token.
    #[value(name = "refresh_token")]
    RefreshToken,
}

/// Parameter names a flow sets itself: `--param` and friends may not set them.
pub(crate) const RESERVED_PARAMS: &[&str] = &[
    "grant_type",
    "client_id",
    "client_secret",
    "client_assertion",
    "client_assertion_type",
    "code",
    "code_verifier",
    "code_challenge",
    "code_challenge_method",
    "redirect_uri",
    "refresh_token",
    "response_type",
    "state",
    "device_code",
    "subject_token",
    "subject_token_type",
    "actor_token",
    "actor_token_type",
    "requested_token_type",
    "request_uri",
    "scope",
    "audience",
    "resource",
];

/// Parses `KEY=VALUE` (split at the first `=`; the key must not be empty nor one the flow
/// sets itself).
pub(crate) fn parse_param(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((key, _)) if RESERVED_PARAMS.contains(&key) => Err(format!(
            "{key} is set by the flow itself{}",
            match key {
                "scope" => "; use --scope",
                "audience" => "; use --audience",
                "resource" => "; use --resource",
                "state" => "; use --state",
                "redirect_uri" => "; use --redirect-uri",
                "client_secret" => "; use LATCHKEY_CLIENT_SECRET",
                _ => "",
            }
        )),
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err("expected KEY=VALUE".to_owned()),
    }
}

/// Parses a positive number of seconds, fractions allowed, at most a day.
fn parse_seconds(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .trim()
        .parse()
        .map_err(|_| "expected a number of seconds".to_owned())?;
    if !(secs > 0.0 && secs <= 86_400.0) {
        return Err("expected more than 0 and at most 86400 seconds".to_owned());
    }
    Duration::try_from_secs_f64(secs).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_and_seconds() {
        assert_eq!(parse_param("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert_eq!(parse_param("a="), Ok(("a".into(), String::new())));
        assert!(parse_param("=b").is_err());
        assert!(parse_param("ab").is_err());
        assert!(parse_param("grant_type=password").is_err());
        assert!(
            parse_param("client_secret=x")
                .unwrap_err()
                .contains("LATCHKEY_CLIENT_SECRET")
        );
        assert_eq!(parse_seconds("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_seconds("0").is_err());
        assert!(parse_seconds("-1").is_err());
        assert!(parse_seconds("NaN").is_err());
        assert!(parse_seconds("1e9").is_err());
    }
}
