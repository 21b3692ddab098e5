//! What the provider examples share: choosing between `latchkey-mock` and a real provider,
//! playing the browser against the mock, and printing each step with secrets redacted.
//!
//! Every example in `src/bin/` runs against an in-process [`MockServer`] configured in that
//! provider's dialect, unless the provider's environment variables are set (see the comment
//! block at the top of each example). In that case it talks to the real provider, and for
//! redirect flows a human signs in and pastes the callback URL on stdin.
//!
//! Nothing here is needed to use latchkey: it only keeps the examples short.

use std::fmt;
use std::io::{self, BufRead, Write};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use latchkey::{AuthorizationUrl, Request, TokenSet, Url};
pub use latchkey_mock::MockServer;

/// What an example's `run` returns: any error ends it with a non-zero exit status.
pub type Result<T = (), E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

/// Ends an example: prints the error chain (never a secret: latchkey's errors hold none) and
/// turns it into a non-zero exit status.
#[must_use]
pub fn finish(result: Result) -> ExitCode {
    match result {
        Ok(()) => {
            println!("done");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            let mut source = error.source();
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}

/// A failure of the example itself (bad configuration, an unexpected answer).
#[derive(Debug)]
pub struct Failure(pub String);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Failure {}

/// Returns a [`Failure`] from the enclosing function.
#[macro_export]
macro_rules! bail {
    ($($arg:tt)*) => {
        return Err($crate::Failure(format!($($arg)*)).into())
    };
}

// ----- configuration -----

/// Reads a real provider's settings from the environment.
///
/// Returns `Ok(None)` when none of `names` is set (the example then runs against the mock),
/// the values in order when all are set, and an error naming the missing ones when only some
/// are: a half-configured real provider never silently falls back to the mock.
///
/// # Errors
///
/// When some but not all of `names` are set, or one is not valid Unicode.
pub fn real_provider<const N: usize>(names: [&str; N]) -> Result<Option<[String; N]>> {
    let values = names.map(std::env::var);
    if values
        .iter()
        .all(|v| matches!(v, Err(std::env::VarError::NotPresent)))
    {
        return Ok(None);
    }
    let missing: Vec<&str> = names
        .iter()
        .zip(&values)
        .filter(|(_, v)| v.as_ref().map_or(true, String::is_empty))
        .map(|(name, _)| *name)
        .collect();
    if !missing.is_empty() {
        bail!(
            "real-provider mode needs {}; missing or empty: {} (unset them all to use the mock)",
            names.join(", "),
            missing.join(", ")
        );
    }
    Ok(Some(values.map(|v| v.unwrap_or_default())))
}

/// An optional setting: the variable's value when set and non-empty, else `default`. Applies
/// in both modes.
#[must_use]
pub fn var_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// Where an example runs.
#[derive(Debug)]
pub enum Target {
    /// Against `latchkey-mock` on `127.0.0.1` (the default; what CI runs).
    Mock(MockServer),
    /// Against the real provider named here, configured from environment variables.
    Real(&'static str),
}

impl Target {
    /// Prints the example's title and where it runs.
    pub fn banner(&self, title: &str) {
        println!("== {title}");
        match self {
            Self::Mock(mock) => println!("   against latchkey-mock at {}", mock.url()),
            Self::Real(provider) => {
                println!("   against the real {provider} (configured from the environment)");
            }
        }
    }

    /// The user's visit to the authorization URL, blocking: returns the URL the provider
    /// redirected back to (the callback, with a code in its query or a token in its fragment).
    ///
    /// Against the mock, a browser stand-in GETs the URL without following the redirect and
    /// reads `Location`. Against a real provider, the user opens the URL and pastes the
    /// callback URL on stdin.
    ///
    /// # Errors
    ///
    /// When the mock does not redirect, or stdin is closed.
    pub fn visit(&self, url: &AuthorizationUrl) -> Result<String> {
        match self {
            Self::Mock(_) => {
                let url = loopback_only(url)?;
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .max_redirects(0)
                    .http_status_as_error(false)
                    .proxy(None)
                    .timeout_global(Some(Duration::from_secs(5)))
                    .build()
                    .into();
                let response = agent.get(url.as_str()).call()?;
                let location = response
                    .headers()
                    .get("location")
                    .and_then(|v| v.to_str().ok());
                redirected(response.status().as_u16(), location)
            }
            Self::Real(_) => ask_for_callback(url),
        }
    }

    /// [`visit`](Self::visit) for async code: the mock is visited with reqwest, and a real
    /// provider's callback is read from stdin (blocking, which is fine in a one-shot example).
    ///
    /// # Errors
    ///
    /// As for [`visit`](Self::visit).
    pub async fn visit_async(&self, url: &AuthorizationUrl) -> Result<String> {
        match self {
            Self::Mock(_) => {
                let url = loopback_only(url)?;
                let browser = reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .no_proxy()
                    .timeout(Duration::from_secs(5))
                    .build()?;
                let response = browser.get(url.as_str()).send().await?;
                let location = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok());
                redirected(response.status().as_u16(), location)
            }
            Self::Real(_) => ask_for_callback(url),
        }
    }

    /// Against the mock, checks that the mock issued this access token and still accepts it
    /// (a real provider's token is checked by using it on its API).
    ///
    /// # Errors
    ///
    /// When the mock does not know the token.
    pub fn check_access_token(&self, tokens: &TokenSet) -> Result {
        if let Self::Mock(mock) = self {
            if !mock.access_token_active(tokens.access_token().expose_secret()) {
                bail!("latchkey-mock did not issue this access token, or no longer accepts it");
            }
            println!("     latchkey-mock accepts the access token");
        }
        Ok(())
    }
}

/// The stand-in browser only ever visits the mock.
fn loopback_only(url: &AuthorizationUrl) -> Result<Url> {
    let url = url.to_url()?;
    if !latchkey::drive::is_loopback(&url) {
        bail!(
            "the browser stand-in only visits latchkey-mock on loopback, not {}",
            url.host_str().unwrap_or("?")
        );
    }
    Ok(url)
}

fn redirected(status: u16, location: Option<&str>) -> Result<String> {
    let Some(location) = location else {
        bail!("the authorization endpoint answered {status} without a redirect");
    };
    println!("   browser: {status} → {}", redact_url(location));
    Ok(location.to_owned())
}

fn ask_for_callback(url: &AuthorizationUrl) -> Result<String> {
    println!("   open this URL in your browser and sign in:\n\n   {url}\n");
    print!("   then paste the full URL you were redirected to: ");
    io::stdout().flush()?;
    let mut line = String::new();
    if io::stdin().lock().read_line(&mut line)? == 0 {
        bail!("no callback URL on stdin");
    }
    Ok(line.trim().to_owned())
}

// ----- printing -----

/// Parameters whose values are secrets when they appear in a URL or a body.
const SECRET_PARAMS: [&str; 6] = [
    "code",
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "code_verifier",
];

/// Prints a numbered step.
pub fn step(n: u32, what: &str) {
    println!("{n}. {what}");
}

/// Prints a URL with secret query and fragment parameters redacted.
pub fn show_url(label: &str, url: &str) {
    println!("   {label}: {}", redact_url(url));
}

/// A URL with the values of secret query and fragment parameters (a code, an access token)
/// replaced by `<redacted>`.
#[must_use]
pub fn redact_url(url: &str) -> String {
    let (rest, fragment) = match url.split_once('#') {
        Some((rest, fragment)) => (rest, Some(fragment)),
        None => (url, None),
    };
    let (base, query) = match rest.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (rest, None),
    };
    let mut out = base.to_owned();
    if let Some(query) = query {
        out.push('?');
        out.push_str(&redact_pairs(query));
    }
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(&redact_pairs(fragment));
    }
    out
}

fn redact_pairs(pairs: &str) -> String {
    pairs
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if SECRET_PARAMS.contains(&name) => format!("{name}=<redacted>"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Prints the request an exchange is about to send: method, URL, content type and the body
/// with secrets redacted (latchkey's [`Request::redacted_body`]).
pub fn show_request(request: &Request) {
    println!("   → {} {}", request.method, request.url);
    if let Some(auth) = request.headers.get("authorization") {
        let scheme = auth.split(' ').next().unwrap_or("");
        println!("     authorization: {scheme} <redacted>");
    }
    if let Some(content_type) = request.headers.get("content-type") {
        println!("     content-type: {content_type}");
    }
    let body = request.redacted_body();
    if !body.is_empty() {
        println!("     body: {body}");
    }
}

/// Prints a token set: its redacted `Debug`, then when it expires in words.
pub fn show_tokens(tokens: &TokenSet) {
    println!("   ← {tokens:?}");
    let expiry = match tokens.expires_at() {
        Some(at) => match at.duration_since(SystemTime::now()) {
            Ok(left) => format!("expires in {} s", left.as_secs()),
            Err(_) => "already expired".to_owned(),
        },
        None => "expiry unknown: use it until an API answers 401".to_owned(),
    };
    let refresh = if tokens.refresh_token().is_some() {
        "a refresh token"
    } else {
        "no refresh token"
    };
    let scope = match tokens.scope() {
        Some(scope) => format!("scope {scope:?}"),
        None => "no scope stated".to_owned(),
    };
    println!(
        "     {} token, {expiry}, {refresh}, {scope}",
        tokens.token_type().as_str()
    );
}

/// Prints userinfo claims as one line of JSON.
pub fn show_claims(claims: &serde_json::Map<String, serde_json::Value>) {
    println!("   ← {}", serde_json::Value::Object(claims.clone()));
}

/// Prints `label: value` under the current step.
pub fn show(label: &str, value: impl fmt::Display) {
    println!("     {label}: {value}");
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn redacts_codes_and_tokens_in_urls() {
        assert_eq!(
            redact_url("http://127.0.0.1/cb?code=c0de&state=s"),
            "http://127.0.0.1/cb?code=<redacted>&state=s"
        );
        assert_eq!(
            redact_url("https://app/cb#access_token=at&token_type=Bearer&state=s"),
            "https://app/cb#access_token=<redacted>&token_type=Bearer&state=s"
        );
        assert_eq!(redact_url("https://app/cb"), "https://app/cb");
    }
}
