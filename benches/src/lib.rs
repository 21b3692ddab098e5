//! Shared inputs for the latchkey / `oauth2` benchmarks, and the baselines ("floors") the issue
//! measures them against.
//!
//! Every benchmark pair feeds both libraries the inputs defined here, so that a ratio compares
//! the same work. The floors are the least any implementation of an operation must do, written
//! as directly as possible on the same crates latchkey uses (`getrandom`, `sha2`, `base64`,
//! `serde_json`, `url`), plus `rand`'s `ThreadRng`, the user-space generator `oauth2` draws
//! from, for the PKCE floor as the issue defined it.

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The client's `client_id`.
pub const CLIENT_ID: &str = "bench-client";
/// The client's secret (the loopback benches register it with the mock server).
pub const CLIENT_SECRET: &str = "bench-secret";
/// The authorization endpoint.
pub const AUTHORIZATION_ENDPOINT: &str = "https://auth.example.com/authorize";
/// The token endpoint.
pub const TOKEN_ENDPOINT: &str = "https://auth.example.com/oauth/token";
/// The redirect URI.
pub const REDIRECT_URI: &str = "http://127.0.0.1:8080/callback";
/// The two scopes of the authorization request.
pub const SCOPES: [&str; 2] = ["read:avatars", "write:avatars"];
/// The `audience` parameter of the authorization request.
pub const AUDIENCE: &str = "https://api.example.com/v1/";

/// A 200-byte token response, as a provider sends it.
pub const TOKEN_JSON: &str = concat!(
    r#"{"access_token":"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJiZW5jaCJ9.c2lnbmF0dXJl","#,
    r#""token_type":"Bearer","expires_in":3600,"#,
    r#""refresh_token":"tGzv3JOkF0XG5Qx2TlKWIA8xLOxBtZp8","#,
    r#""scope":"read:avatars write:avatars"}"#
);

/// The `state` the callbacks carry (22 characters, as latchkey generates).
pub const STATE: &str = "hQ2Vb3xk-7nWq_0PzR4c1A";

/// A PKCE verifier (43 characters), for the runs where the caller supplies the randomness.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

/// An authorization code callback: the whole redirect URL with `code`, `state` and `iss`-less
/// query, as a web framework hands it over.
pub const CALLBACK_QUERY: &str =
    "http://127.0.0.1:8080/callback?code=SplxlOBeZQQYbYS6WxSbIA4nU2cD&state=hQ2Vb3xk-7nWq_0PzR4c1A";

/// An implicit-flow callback: the token in the fragment, the scope form-encoded.
pub const CALLBACK_FRAGMENT: &str = "http://127.0.0.1:8080/callback#access_token=2YotnFZFEjr1zCsicMWpAA9kLm3&token_type=Bearer&expires_in=3600&scope=read%3Aavatars+write%3Aavatars&state=hQ2Vb3xk-7nWq_0PzR4c1A";

/// The clock value the benches pass as "now".
#[must_use]
pub fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

/// The PKCE floor the issue names: 32 bytes from a CSPRNG, base64url of those 32 bytes (the
/// 43-character verifier), SHA-256 of the 43 bytes. Nothing is allocated.
///
/// The CSPRNG here is `rand` 0.8's `ThreadRng` (ChaCha12 in user space, keyed from the OS: the
/// generator `oauth2` uses), as the issue defined the floor. latchkey draws from the OS on
/// every call instead; [`floor_pkce_os_call`] is the floor with that source. A usable verifier
/// and challenge need one more base64url (of the digest) and two strings; the floor leaves
/// both out, as the issue defines it.
#[must_use]
pub fn floor_pkce() -> [u8; 32] {
    use rand::RngCore as _;
    let mut random = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut random);
    verifier_digest(&random)
}

/// [`floor_pkce`] with its 32 bytes from a `getrandom` system call instead: the floor for
/// latchkey, which draws every random value from the OS on each call.
///
/// # Panics
///
/// When the OS generator fails.
#[must_use]
pub fn floor_pkce_os_call() -> [u8; 32] {
    let mut random = [0u8; 32];
    getrandom::fill(&mut random).expect("getrandom");
    verifier_digest(&random)
}

fn verifier_digest(random: &[u8; 32]) -> [u8; 32] {
    let mut verifier = [0u8; 43];
    let written = URL_SAFE_NO_PAD
        .encode_slice(random, &mut verifier)
        .expect("43 bytes hold 32 encoded");
    Sha256::digest(&verifier[..written]).into()
}

/// The OS call alone: 32 bytes from `getrandom`.
///
/// # Panics
///
/// When the OS generator fails.
#[must_use]
pub fn floor_getrandom() -> [u8; 32] {
    let mut random = [0u8; 32];
    getrandom::fill(&mut random).expect("getrandom");
    random
}

/// 32 bytes from `rand` 0.8's `ThreadRng` (the source of [`floor_pkce`] and of `oauth2`), alone.
#[must_use]
pub fn floor_thread_rng() -> [u8; 32] {
    use rand::RngCore as _;
    let mut random = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut random);
    random
}

/// 48 bytes from `getrandom`: the one call latchkey makes for an authorization request's
/// verifier (32 B) and state (16 B).
///
/// # Panics
///
/// When the OS generator fails.
#[must_use]
pub fn floor_getrandom_48() -> [u8; 48] {
    let mut random = [0u8; 48];
    getrandom::fill(&mut random).expect("getrandom");
    random
}

/// The token response floor: a bare `serde_json` parse into a struct of borrowed `&str`.
#[derive(Debug, Deserialize)]
pub struct BorrowedToken<'a> {
    /// `access_token`
    pub access_token: &'a str,
    /// `token_type`
    pub token_type: &'a str,
    /// `expires_in`
    pub expires_in: u64,
    /// `refresh_token`
    pub refresh_token: &'a str,
    /// `scope`
    pub scope: &'a str,
}

/// Parses [`TOKEN_JSON`]-shaped input with nothing but `serde_json` (the floor).
///
/// # Errors
///
/// When the input is not such an object.
pub fn floor_token(body: &[u8]) -> Result<BorrowedToken<'_>, serde_json::Error> {
    serde_json::from_slice(body)
}

/// [`floor_token`] plus the three owned strings any token set must keep (access token, refresh
/// token, scope): the least a parser can do whose result outlives the response body.
///
/// # Errors
///
/// When the input is not such an object.
pub fn floor_token_owned(body: &[u8]) -> Result<(String, String, String, u64), serde_json::Error> {
    let t = floor_token(body)?;
    Ok((
        t.access_token.to_owned(),
        t.refresh_token.to_owned(),
        t.scope.to_owned(),
        t.expires_in,
    ))
}

/// The query-callback baseline: `url::Url::parse` + `query_pairs`, then the state check.
/// Returns the code.
#[must_use]
pub fn baseline_callback_query(callback: &str, expected_state: &str) -> Option<String> {
    let url = url::Url::parse(callback).ok()?;
    let mut code = None;
    let mut state = None;
    for (k, v) in url.query_pairs() {
        match &*k {
            "code" => code = Some(v),
            "state" => state = Some(v),
            _ => {}
        }
    }
    if state? != expected_state {
        return None;
    }
    code.map(Cow::into_owned)
}

/// What the fragment baseline extracts: an owned token set.
#[derive(Debug, PartialEq, Eq)]
pub struct FragmentToken {
    /// `access_token`
    pub access_token: String,
    /// `token_type`
    pub token_type: String,
    /// When the token expires (`now + expires_in`).
    pub expires_at: Option<SystemTime>,
    /// `scope`, decoded.
    pub scope: Option<String>,
}

/// The fragment-callback baseline: `Url::parse` + `fragment()` + form decoding into owned
/// values, with the state check and `expires_in` read as seconds.
#[must_use]
pub fn baseline_callback_fragment(
    callback: &str,
    expected_state: &str,
    now: SystemTime,
) -> Option<FragmentToken> {
    let url = url::Url::parse(callback).ok()?;
    let fragment = url.fragment()?;
    let (mut access_token, mut token_type, mut expires_in, mut scope, mut state) =
        (None, None, None, None, None);
    for (k, v) in url::form_urlencoded::parse(fragment.as_bytes()) {
        match &*k {
            "access_token" => access_token = Some(v.into_owned()),
            "token_type" => token_type = Some(v.into_owned()),
            "expires_in" => expires_in = Some(v.parse::<u64>().ok()?),
            "scope" => scope = Some(v.into_owned()),
            "state" => state = Some(v),
            _ => {}
        }
    }
    if state? != expected_state {
        return None;
    }
    Some(FragmentToken {
        access_token: access_token?,
        token_type: token_type?,
        expires_at: expires_in.map(|s| now + Duration::from_secs(s)),
        scope,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_json_is_about_200_bytes() {
        assert!(
            (190..=210).contains(&TOKEN_JSON.len()),
            "{}",
            TOKEN_JSON.len()
        );
        let t = floor_token(TOKEN_JSON.as_bytes()).unwrap();
        assert_eq!(t.token_type, "Bearer");
        assert_eq!(t.expires_in, 3600);
    }

    #[test]
    fn baselines_do_their_job() {
        assert_eq!(
            baseline_callback_query(CALLBACK_QUERY, STATE).as_deref(),
            Some("SplxlOBeZQQYbYS6WxSbIA4nU2cD")
        );
        assert_eq!(baseline_callback_query(CALLBACK_QUERY, "other"), None);
        let t = baseline_callback_fragment(CALLBACK_FRAGMENT, STATE, now()).unwrap();
        assert_eq!(t.scope.as_deref(), Some("read:avatars write:avatars"));
        assert_eq!(t.expires_at, Some(now() + Duration::from_secs(3600)));
        assert_ne!(floor_pkce(), floor_pkce());
    }
}
