//! `latchkey token-exchange`: token exchange (RFC 8693).

use clap::Args;
use latchkey::token_types;

use crate::context::options::{
    ClientIdArg, IssuerArgs, NetworkArgs, OutputArgs, ParamArgs, ScopeArgs, SecretArgs, TokenUrlArg,
};
use crate::context::{Common, client, endpoint, print_tokens, wire};
use crate::failure::Failure;
use crate::output::add_secret;
use crate::say;

/// `latchkey token-exchange`.
#[derive(Debug, Args)]
pub(crate) struct TokenExchangeArgs {
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
    /// The token to exchange. Prefer the LATCHKEY_SUBJECT_TOKEN environment variable.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "LATCHKEY_SUBJECT_TOKEN",
        hide_env_values = true,
        allow_hyphen_values = true,
        required = true,
        help_heading = "Token exchange"
    )]
    pub(crate) subject_token: String,
    /// Its type: access_token, refresh_token, id_token, jwt, saml1, saml2, or a full URI.
    #[arg(long, value_name = "TYPE", value_parser = token_type, required = true, help_heading = "Token exchange")]
    pub(crate) subject_token_type: String,
    /// A token for the party acting on the subject's behalf (delegation).
    #[arg(
        long,
        value_name = "TOKEN",
        allow_hyphen_values = true,
        requires = "actor_token_type",
        help_heading = "Token exchange"
    )]
    pub(crate) actor_token: Option<String>,
    /// The actor token's type (as for --subject-token-type).
    #[arg(long, value_name = "TYPE", value_parser = token_type, requires = "actor_token", help_heading = "Token exchange")]
    pub(crate) actor_token_type: Option<String>,
    /// The type of token wanted (as for --subject-token-type) [default: the server's choice].
    #[arg(long, value_name = "TYPE", value_parser = token_type, help_heading = "Token exchange")]
    pub(crate) requested_token_type: Option<String>,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
    #[command(flatten)]
    pub(crate) network: NetworkArgs,
}

/// A token type: a short name from RFC 8693 §3, or any URI.
fn token_type(s: &str) -> Result<String, String> {
    Ok(match s {
        "access_token" => token_types::ACCESS_TOKEN,
        "refresh_token" => token_types::REFRESH_TOKEN,
        "id_token" => token_types::ID_TOKEN,
        "jwt" => token_types::JWT,
        "saml1" => token_types::SAML1,
        "saml2" => token_types::SAML2,
        uri if uri.contains(':') => uri,
        _ => {
            return Err(
                "expected access_token, refresh_token, id_token, jwt, saml1, saml2 or a URI"
                    .to_owned(),
            );
        }
    }
    .to_owned())
}

/// Runs `latchkey token-exchange`: prints the token set, with `issued_token_type`.
///
/// # Errors
///
/// Whatever the request met; see [`Failure`].
pub(crate) fn run(args: &TokenExchangeArgs) -> Result<(), Failure> {
    let mut common = Common::new(&args.issuer, &args.network, &args.client_id.client_id);
    common.endpoints.token_url = args.token_url.token_url.clone();
    common.secret = args.secret.clone();
    common.scope = args.scope.clone();
    common.token_params = args.params.params.clone();
    common.register_secrets();
    add_secret(&args.subject_token);
    if let Some(actor) = &args.actor_token {
        add_secret(actor);
    }
    let client = client(&common, None)?;
    let url = endpoint(client.token_endpoint(), "--token-url", &common)?;
    let mut exchange = client.token_exchange(
        args.subject_token.as_str(),
        args.subject_token_type.as_str(),
    )?;
    if let (Some(token), Some(kind)) = (&args.actor_token, &args.actor_token_type) {
        exchange = exchange.actor(token.as_str(), kind.as_str());
    }
    if let Some(kind) = &args.requested_token_type {
        exchange = exchange.requested_token_type(kind.as_str());
    }
    let scope = common.scope();
    if !scope.is_empty() {
        exchange = exchange.scope(scope);
    }
    for resource in &common.scope.resources {
        exchange = exchange.resource(resource);
    }
    say!("latchkey: exchanging the token at {url}");
    let tokens = wire(&common)?.send(exchange)?;
    print_tokens(&tokens, args.output.output)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_types_have_short_names() {
        assert_eq!(token_type("jwt").unwrap(), token_types::JWT);
        assert_eq!(
            token_type("urn:example:custom").unwrap(),
            "urn:example:custom"
        );
        assert!(token_type("bogus").is_err());
    }
}
