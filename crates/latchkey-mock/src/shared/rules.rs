//! The checks several endpoints make alike: scope, audience, resource indicators, redirect
//! URIs and PKCE.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use url::{Host, Url};

use crate::client::MockClient;
use crate::shared::records::ChallengeMethod;

/// A scope with single spaces and no empty values.
pub(crate) fn normalize_scope(scope: &str) -> String {
    scope
        .split(' ')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The scope a request gets: the one asked for, every value allowed for the client, or the
/// client's default. The error is for `invalid_scope`.
pub(crate) fn resolve_scope(
    client: &MockClient,
    requested: Option<&str>,
) -> Result<Option<String>, String> {
    let Some(requested) = requested else {
        return Ok(client.default_scope.clone());
    };
    if let Some(allowed) = &client.allowed_scopes {
        if let Some(bad) = requested
            .split(' ')
            .find(|s| !s.is_empty() && !allowed.iter().any(|a| a == s))
        {
            return Err(format!("scope `{bad}` is not allowed for this client"));
        }
    }
    let scope = normalize_scope(requested);
    Ok(if scope.is_empty() {
        client.default_scope.clone()
    } else {
        Some(scope)
    })
}

/// Checks `audience` against the client's requirement; `required` says whether it must be sent.
pub(crate) fn check_audience(
    client: &MockClient,
    sent: Option<&str>,
    required: bool,
) -> Result<(), String> {
    match (&client.audience, sent) {
        (None, _) => Ok(()),
        (Some(expected), Some(sent)) if sent == expected => Ok(()),
        (Some(expected), Some(sent)) => Err(format!(
            "audience `{sent}` is not valid for this client; expected `{expected}`"
        )),
        (Some(_), None) if !required => Ok(()),
        (Some(expected), None) => Err(format!(
            "the audience parameter is required (expected `{expected}`)"
        )),
    }
}

/// Checks `resource` indicators (RFC 8707 §2): absolute URIs without a fragment, and in the
/// client's allowed list when it has one. The error is for `invalid_target`.
pub(crate) fn check_resources(
    client: &MockClient,
    requested: &[&str],
) -> Result<Vec<String>, String> {
    let mut out = Vec::with_capacity(requested.len());
    for resource in requested {
        match Url::parse(resource) {
            Ok(url) if url.fragment().is_none() => {}
            _ => {
                return Err(format!(
                    "resource `{resource}` is not an absolute URI without a fragment (RFC 8707 §2)"
                ));
            }
        }
        if let Some(allowed) = &client.allowed_resources {
            if !allowed.iter().any(|a| a == resource) {
                return Err(format!(
                    "resource `{resource}` is not allowed for this client"
                ));
            }
        }
        if !out.iter().any(|r| r == resource) {
            out.push((*resource).to_owned());
        }
    }
    Ok(out)
}

/// The resources of a token request against a grant's: the ones asked for, each of which the
/// grant must include when it named any (RFC 8707 §2.2), or else the grant's own.
pub(crate) fn narrow_resources(
    client: &MockClient,
    granted: &[String],
    requested: &[&str],
) -> Result<Vec<String>, String> {
    let requested = check_resources(client, requested)?;
    if requested.is_empty() {
        return Ok(granted.to_vec());
    }
    if !granted.is_empty() {
        if let Some(extra) = requested.iter().find(|r| !granted.contains(r)) {
            return Err(format!(
                "resource `{extra}` was not part of the authorization"
            ));
        }
    }
    Ok(requested)
}

/// An absolute redirect URI without a fragment, registered for the client (or any, when it
/// registered none).
pub(crate) fn check_redirect_uri(client: &MockClient, uri: &str) -> Result<(), String> {
    let parsed =
        Url::parse(uri).map_err(|e| format!("redirect_uri `{uri}` is not an absolute URI: {e}"))?;
    if parsed.fragment().is_some() {
        return Err(format!("redirect_uri `{uri}` must not contain a fragment"));
    }
    if client.redirect_uris.is_empty()
        || client
            .redirect_uris
            .iter()
            .any(|registered| redirect_matches(registered, uri))
    {
        Ok(())
    } else {
        Err(format!(
            "redirect_uri `{uri}` is not registered for client `{}`",
            client.id
        ))
    }
}

/// Exact match, or for `http` loopback URIs a match that ignores the port (RFC 8252 §7.3).
pub(crate) fn redirect_matches(registered: &str, given: &str) -> bool {
    if registered == given {
        return true;
    }
    let (Ok(mut registered), Ok(mut given)) = (Url::parse(registered), Url::parse(given)) else {
        return false;
    };
    let loopback = |u: &Url| {
        u.scheme() == "http"
            && match u.host() {
                Some(Host::Ipv4(ip)) => ip.is_loopback(),
                Some(Host::Ipv6(ip)) => ip.is_loopback(),
                Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
                None => false,
            }
    };
    if !loopback(&registered) || !loopback(&given) {
        return false;
    }
    if registered.set_port(None).is_err() || given.set_port(None).is_err() {
        return false;
    }
    registered == given
}

/// `base` with `pairs` added to its query, or put in its fragment.
pub(crate) fn redirect_location(base: &str, pairs: &[(&str, String)], in_fragment: bool) -> String {
    let Ok(mut url) = Url::parse(base) else {
        return base.to_owned();
    };
    if in_fragment {
        let fragment = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())))
            .finish();
        url.set_fragment(Some(&fragment));
    } else {
        url.query_pairs_mut()
            .extend_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())));
    }
    url.into()
}

/// RFC 7636 §4.1: 43 to 128 characters from `[A-Za-z0-9-._~]`.
pub(crate) fn is_pkce_string(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Whether `verifier` answers `challenge` (RFC 7636 §4.6).
pub(crate) fn pkce_matches(challenge: &str, method: ChallengeMethod, verifier: &str) -> bool {
    match method {
        ChallengeMethod::S256 => {
            URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == challenge
        }
        ChallengeMethod::Plain => verifier == challenge,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_redirects_ignore_the_port_only() {
        assert!(redirect_matches(
            "http://127.0.0.1/cb",
            "http://127.0.0.1:51234/cb"
        ));
        assert!(redirect_matches(
            "http://127.0.0.1:80/cb",
            "http://127.0.0.1:1/cb"
        ));
        assert!(redirect_matches(
            "http://[::1]:8080/cb",
            "http://[::1]:9090/cb"
        ));
        assert!(redirect_matches(
            "http://localhost/cb",
            "http://localhost:3000/cb"
        ));
        assert!(!redirect_matches(
            "http://127.0.0.1/cb",
            "http://127.0.0.1:5000/other"
        ));
        assert!(!redirect_matches(
            "http://127.0.0.1/cb",
            "http://localhost:5000/cb"
        ));
        assert!(!redirect_matches(
            "https://app.example/cb",
            "https://app.example:444/cb"
        ));
        assert!(!redirect_matches(
            "https://127.0.0.1/cb",
            "https://127.0.0.1:444/cb"
        ));
        assert!(redirect_matches(
            "https://app.example/cb",
            "https://app.example/cb"
        ));
    }

    #[test]
    fn pkce_strings() {
        assert!(is_pkce_string(&"a".repeat(43)));
        assert!(is_pkce_string(&"-._~aZ09".repeat(16)));
        assert!(!is_pkce_string(&"a".repeat(42)));
        assert!(!is_pkce_string(&"a".repeat(129)));
        assert!(!is_pkce_string(&format!("{}+", "a".repeat(43))));
    }

    #[test]
    fn pkce_s256_and_plain() {
        // RFC 7636 Appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_matches(challenge, ChallengeMethod::S256, verifier));
        assert!(!pkce_matches(challenge, ChallengeMethod::Plain, verifier));
        assert!(pkce_matches(verifier, ChallengeMethod::Plain, verifier));
    }

    #[test]
    fn redirect_location_appends() {
        let pairs = [("code", "x y".to_owned()), ("state", "s&t".to_owned())];
        assert_eq!(
            redirect_location("https://a.example/cb?keep=1", &pairs, false),
            "https://a.example/cb?keep=1&code=x+y&state=s%26t"
        );
        assert_eq!(
            redirect_location("https://a.example/cb", &pairs, true),
            "https://a.example/cb#code=x+y&state=s%26t"
        );
    }
}
