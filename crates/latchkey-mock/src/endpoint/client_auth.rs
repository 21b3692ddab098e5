//! Client authentication (RFC 6749 §2.3) at the token, revocation, introspection, device
//! authorization and PAR endpoints: `client_secret_basic`, `client_secret_post`, `none`,
//! `private_key_jwt` or `client_secret_jwt` (RFC 7523), strictly as registered, and the body
//! encodings the client may use.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::client::{AuthMethod, MockClient};
use crate::form;
use crate::shared::assertion::{self, JWT_BEARER};
use crate::shared::params::{Incoming, Params};
use crate::shared::reply::Reply;
use crate::shared::state::State;

/// Identifies and authenticates the client of `req`.
pub(crate) fn authenticate(state: &mut State, req: &Incoming) -> Result<MockClient, Reply> {
    let p = req.params();
    if p.count("client_assertion") > 0 || p.count("client_assertion_type") > 0 {
        return by_assertion(state, req, &p);
    }
    let invalid_client = |why: &str| Err(Reply::oauth_error("invalid_client", why));
    let basic = match &req.authorization {
        None => None,
        Some(value) => {
            let (scheme, rest) = value.trim().split_once(' ').unwrap_or((value, ""));
            if !scheme.eq_ignore_ascii_case("basic") {
                return invalid_client(&format!(
                    "unsupported Authorization scheme `{scheme}`; clients authenticate with Basic"
                ));
            }
            match decode_basic(rest.trim()) {
                Ok(pair) => Some(pair),
                Err(why) => return invalid_client(&why),
            }
        }
    };
    let body_id = p.get("client_id");
    let body_secret = p.get("client_secret");
    if basic.is_some() && body_secret.is_some() {
        return Err(Reply::oauth_error(
            "invalid_request",
            "the client used more than one authentication method (Basic and client_secret)",
        ));
    }
    let id = match (&basic, body_id) {
        (Some((basic_id, _)), Some(body_id)) if basic_id != body_id => {
            return Err(Reply::oauth_error(
                "invalid_request",
                "client_id in the body differs from the one in the Basic credentials",
            ));
        }
        (Some((basic_id, _)), _) => basic_id.as_str(),
        (None, Some(body_id)) => body_id,
        (None, None) => {
            return invalid_client("client authentication is required (no client_id)");
        }
    };
    let Some(client) = state.clients.get(id) else {
        return invalid_client(&format!("unknown client `{id}`"));
    };
    check_encoding(client, req)?;
    let expected = client.secret.as_deref().unwrap_or("");
    match client.effective_auth_method() {
        AuthMethod::Basic => match (&basic, body_secret) {
            (Some((_, secret)), _) if secret == expected => Ok(client.clone()),
            (Some(_), _) => invalid_client("client authentication failed"),
            (None, Some(_)) => invalid_client(&format!(
                "client `{id}` authenticates with client_secret_basic, but the secret was sent in the request body"
            )),
            (None, None) => invalid_client(&format!(
                "client `{id}` must authenticate with HTTP Basic (client_secret_basic)"
            )),
        },
        AuthMethod::Post => match (&basic, body_secret) {
            (Some(_), _) => invalid_client(&format!(
                "client `{id}` authenticates with client_secret_post, but the secret was sent with HTTP Basic"
            )),
            (None, Some(secret)) if secret == expected => Ok(client.clone()),
            (None, Some(_)) => invalid_client("client authentication failed"),
            (None, None) => invalid_client(&format!(
                "client `{id}` must send client_secret in the request body (client_secret_post)"
            )),
        },
        method @ (AuthMethod::PrivateKeyJwt | AuthMethod::ClientSecretJwt) => {
            invalid_client(&format!(
                "client `{id}` authenticates with {} and must send a client_assertion",
                method.as_str()
            ))
        }
        AuthMethod::None => {
            if basic.is_some() || body_secret.is_some() {
                invalid_client(&format!(
                    "client `{id}` is a public client (token_endpoint_auth_method none) and must not send a secret"
                ))
            } else {
                Ok(client.clone())
            }
        }
    }
}

/// A JWT client assertion (RFC 7523 §2.2): `client_assertion_type`, `client_assertion`, and
/// `client_id` when sent; no other credentials.
fn by_assertion(state: &mut State, req: &Incoming, p: &Params<'_>) -> Result<MockClient, Reply> {
    let invalid_client = |why: &str| Err(Reply::oauth_error("invalid_client", why));
    if req.authorization.is_some() || p.get("client_secret").is_some() {
        return Err(Reply::oauth_error(
            "invalid_request",
            "the client used more than one authentication method (a client assertion and a secret)",
        ));
    }
    match p.get("client_assertion_type") {
        Some(JWT_BEARER) => {}
        Some(other) => {
            return invalid_client(&format!(
                "client_assertion_type `{other}` is not supported; use {JWT_BEARER}"
            ));
        }
        None => return invalid_client("client_assertion_type is missing"),
    }
    let Some(jwt) = p.get("client_assertion") else {
        return invalid_client("client_assertion is missing");
    };
    let Some(issuer) = assertion::unverified_issuer(jwt) else {
        return invalid_client("the client_assertion is not a JWT with an iss claim");
    };
    let id = match p.get("client_id") {
        Some(id) if id != issuer => {
            return invalid_client(
                "client_id differs from the client_assertion's iss (both must be the client_id)",
            );
        }
        _ => issuer,
    };
    let Some(client) = state.clients.get(&id).cloned() else {
        return invalid_client(&format!("unknown client `{id}`"));
    };
    check_encoding(&client, req)?;
    match assertion::verify(state, &client, jwt, &req.path, req.now) {
        Ok(()) => Ok(client),
        Err(why) => invalid_client(&why),
    }
}

/// Refuses a body encoding the client did not register, naming the ones it did.
fn check_encoding(client: &MockClient, req: &Incoming) -> Result<(), Reply> {
    let Some(encoding) = req.encoding else {
        return Ok(());
    };
    if client.encodings.contains(&encoding) {
        return Ok(());
    }
    let accepted: Vec<&str> = client.encodings.iter().map(|e| e.media_type()).collect();
    Err(Reply::oauth_error(
        "invalid_request",
        &format!(
            "Content-Type `{}` is not accepted for client `{}` (accepted: {})",
            req.media_type
                .as_deref()
                .unwrap_or_else(|| encoding.media_type()),
            client.id,
            accepted.join(", ")
        ),
    ))
}

/// Decodes `Basic` credentials: base64 of `urlencode(id) ":" urlencode(secret)` (RFC 6749 §2.3.1).
fn decode_basic(encoded: &str) -> Result<(String, String), String> {
    let raw = STANDARD
        .decode(encoded)
        .map_err(|_| "malformed Basic credentials: not base64".to_owned())?;
    let raw =
        String::from_utf8(raw).map_err(|_| "malformed Basic credentials: not UTF-8".to_owned())?;
    let (id, secret) = raw
        .split_once(':')
        .ok_or_else(|| "malformed Basic credentials: no `:`".to_owned())?;
    let id = form::decode_component(id).map_err(|e| format!("malformed Basic client id: {e}"))?;
    let secret =
        form::decode_component(secret).map_err(|e| format!("malformed Basic secret: {e}"))?;
    Ok((id, secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        // "a b:c%3Ad" → id "a b", secret "c:d"
        let encoded = STANDARD.encode("a+b:c%3Ad");
        assert_eq!(
            decode_basic(&encoded).unwrap(),
            ("a b".to_owned(), "c:d".to_owned())
        );
        assert!(decode_basic("%%%").is_err());
        assert!(decode_basic(&STANDARD.encode("nocolon")).is_err());
    }
}
