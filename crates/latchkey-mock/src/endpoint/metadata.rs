//! Authorization server metadata (RFC 8414) at `/.well-known/oauth-authorization-server`
//! (with path insertion for an issuer with a path, §3.1) and OpenID Connect Discovery's
//! `/.well-known/openid-configuration`.

use serde_json::json;

use crate::client::GrantType;
use crate::shared::dpop::PROOF_ALGS;
use crate::shared::reply::Reply;
use crate::shared::state::State;

/// Whether `path` is one of the issuer's metadata documents.
pub(crate) fn is_metadata_path(state: &State, path: &str) -> bool {
    let issuer_path = &state.config.issuer_path;
    path.strip_prefix("/.well-known/oauth-authorization-server") == Some(issuer_path)
        || path.strip_suffix("/.well-known/openid-configuration") == Some(issuer_path)
}

/// The metadata document, with absolute endpoint URLs.
pub(crate) fn handle(state: &State) -> Reply {
    let base = &state.base;
    let auth_methods = [
        "client_secret_basic",
        "client_secret_post",
        "none",
        "private_key_jwt",
        "client_secret_jwt",
    ];
    let assertion_algs = ["RS256", "PS256", "ES256", "EdDSA", "HS256"];
    let dpop_algs: Vec<&str> = PROOF_ALGS.iter().map(|a| a.as_str()).collect();
    Reply::json(
        200,
        &json!({
            "issuer": state.issuer,
            "authorization_endpoint": format!("{base}/authorize"),
            "token_endpoint": format!("{base}/token"),
            "userinfo_endpoint": format!("{base}/userinfo"),
            "revocation_endpoint": format!("{base}/revoke"),
            "introspection_endpoint": format!("{base}/introspect"),
            "jwks_uri": format!("{base}/jwks"),
            "device_authorization_endpoint": format!("{base}/device_authorization"),
            "pushed_authorization_request_endpoint": format!("{base}/par"),
            "require_pushed_authorization_requests": state.config.require_par,
            "authorization_response_iss_parameter_supported": state.config.issuer_parameter,
            "response_types_supported": ["code", "token"],
            "grant_types_supported": [
                "authorization_code",
                "implicit",
                "client_credentials",
                "refresh_token",
                GrantType::DeviceCode.as_str(),
                GrantType::TokenExchange.as_str(),
            ],
            "token_endpoint_auth_methods_supported": auth_methods,
            "revocation_endpoint_auth_methods_supported": auth_methods,
            "introspection_endpoint_auth_methods_supported": auth_methods,
            "token_endpoint_auth_signing_alg_values_supported": assertion_algs,
            "revocation_endpoint_auth_signing_alg_values_supported": assertion_algs,
            "introspection_endpoint_auth_signing_alg_values_supported": assertion_algs,
            "dpop_signing_alg_values_supported": dpop_algs,
            "code_challenge_methods_supported": ["S256", "plain"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported":
                ["RS256", "PS256", "ES256", "ES384", "EdDSA", "HS256"],
        }),
    )
}
