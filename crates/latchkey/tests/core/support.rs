//! Helpers shared by the core's integration tests: a fixed clock, readers for form bodies and
//! queries, the RFC 7636 Appendix B verifier, a client configured from canned discovery
//! metadata, and the checks of the wire-format tables.
//!
//! The wire-format tables (in `persistence.rs`, `discovery.rs`, `introspection.rs`,
//! `token_responses.rs`, `device.rs` and `par.rs`) pin, for each input, the JSON a type writes
//! back or the exact error. The types derive their serde impls. The tables were recorded from
//! the hand-written impls the derives replaced, and then kept: a change of attribute, of serde's
//! behaviour or of a member's rules shows up there. The one intended change is in token
//! responses: a repeated member is refused with serde's own "duplicate field" error even when an
//! earlier occurrence was `null`, and a repeated `error_description` or `error_uri` in an error
//! object sent with HTTP 200 is refused as `ServerError::from_json` always refused it (the
//! hand-written reader kept the last one).

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use latchkey::{
    Client, Discovery, Error, Exchange, PkceVerifier, Response, ResponseError, ServerMetadata,
    WellKnown,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub(crate) fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

pub(crate) fn form(body: &[u8]) -> BTreeMap<String, String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .unwrap()
        .into_iter()
        .collect()
}

pub(crate) fn query(url: &str) -> BTreeMap<String, String> {
    form(url.split_once('?').unwrap().1.as_bytes())
}

pub(crate) fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// RFC 7636 Appendix B verifier, so challenges are known values.
pub(crate) fn rfc_verifier() -> PkceVerifier {
    PkceVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap()
}

pub(crate) const RFC_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// Canned RFC 8414 metadata of `https://as.example`, read through `Discovery`.
pub(crate) fn metadata() -> ServerMetadata {
    let body = r#"{
        "issuer": "https://as.example",
        "authorization_endpoint": "https://as.example/auth",
        "token_endpoint": "https://as.example/token",
        "userinfo_endpoint": "https://as.example/me",
        "revocation_endpoint": "https://as.example/token/revocation",
        "introspection_endpoint": "https://as.example/token/introspection",
        "device_authorization_endpoint": "https://as.example/device/auth",
        "pushed_authorization_request_endpoint": "https://as.example/request",
        "require_pushed_authorization_requests": true,
        "authorization_response_iss_parameter_supported": true,
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
        "code_challenge_methods_supported": ["S256"]
    }"#;
    Discovery::new("https://as.example", WellKnown::OAuthAuthorizationServer)
        .unwrap()
        .response(Response::json(200, body, UNIX_EPOCH))
        .unwrap()
}

/// A confidential client configured from [`metadata`].
pub(crate) fn discovered_client() -> Client {
    Client::builder("app")
        .client_secret("s3cret")
        .metadata(&metadata())
        .redirect_uri("http://127.0.0.1/cb")
        .build()
        .unwrap()
}

/// The JSON written back, or the error message.
pub(crate) type Want = Result<&'static str, &'static str>;

/// Reads each input as `T` and writes it back.
pub(crate) fn round_trip<T: Serialize + DeserializeOwned>(cases: &[(&str, Want)]) {
    for (input, want) in cases {
        let got = serde_json::from_str::<T>(input)
            .map(|value| serde_json::to_string(&value).unwrap())
            .map_err(|e| e.to_string());
        assert_eq!(got.as_deref().map_err(String::as_str), *want, "{input}");
    }
}

/// What a response parser made of a body: its summary, or the error. Of an unexpected
/// response only the reason is compared: the body excerpt has tests of its own.
pub(crate) fn outcome<T>(
    result: Result<T, Error>,
    summary: impl FnOnce(T) -> String,
) -> Result<String, String> {
    result.map(summary).map_err(|e| match e {
        Error::Response(ResponseError::Unexpected { reason, .. }) => reason,
        other => other.to_string(),
    })
}

pub(crate) fn check(input: &str, got: Result<String, String>, want: Want) {
    assert_eq!(got.as_deref().map_err(String::as_str), want, "{input}");
}

/// The client of the response tables: every endpoint under `https://as`.
pub(crate) fn wire_client() -> Client {
    Client::builder("app")
        .client_secret("s3cret")
        .authorization_endpoint("https://as/auth")
        .token_endpoint("https://as/token")
        .device_authorization_endpoint("https://as/device")
        .pushed_authorization_request_endpoint("https://as/par")
        .redirect_uri("http://127.0.0.1/cb")
        .build()
        .unwrap()
}

/// What latchkey-mock's in-memory router answers `request` at `now`, as an adapter would
/// hand it to a driver (a socket fault becomes a transport error).
pub(crate) fn mock_answer(
    mock: &latchkey_mock::Mock,
    request: &latchkey::Request,
    now: SystemTime,
) -> Result<Response, latchkey::TransportError> {
    use latchkey::drive::Headers;
    use latchkey_mock::Routed;
    let routed = mock.route(
        now,
        latchkey_mock::Request {
            method: request.method.as_str().to_owned(),
            target: request.url.to_string(),
            headers: request
                .headers
                .iter()
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
                .collect(),
            body: request.body.clone(),
        },
    );
    match routed {
        Routed::Answer(answer) => {
            let wire = answer.headers.iter();
            let headers = Headers::from_wire(wire.map(|(n, v)| (n.as_str(), v.as_bytes())));
            Ok(Response::new(answer.status, headers, answer.body, now))
        }
        Routed::Fault(fault) => Err(latchkey::TransportError::new(
            latchkey::TransportErrorKind::Other,
            format!("socket fault: {fault:?}"),
        )),
    }
}
