//! What the command prints, and how it keeps that safe.
//!
//! * stdout carries only the result: one JSON object ([`print_json`]).
//! * stderr carries progress and the one-line failure message ([`say!`](crate::say)). Every
//!   line written there first has each known secret (client secret, code, PKCE verifier,
//!   tokens; see [`add_secret`]) replaced by `<redacted>`, and then its control characters
//!   and bidirectional-override characters escaped ([`escape`]), so that text a hostile
//!   server sent cannot move the cursor, recolour the terminal, forge a second line or
//!   reorder what the reader sees.

use std::io::{self, IsTerminal as _, Write as _};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use latchkey::TokenSet;
use latchkey::drive::Headers;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

/// Secrets this process knows, masked in everything written to stderr.
static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Remembers a secret so that it is masked, in every spelling
/// ([`latchkey::redact::spellings`]), wherever it would appear on stderr.
pub(crate) fn add_secret(secret: &str) {
    if secret.chars().count() < latchkey::redact::MIN_MASKED_LEN {
        return;
    }
    let mut secrets = SECRETS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !secrets.iter().any(|s| s == secret) {
        secrets.push(secret.to_owned());
    }
}

/// Replaces every known secret in `text`, in any spelling, with `<redacted>`.
pub(crate) fn redact(text: &str) -> String {
    let secrets = SECRETS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    latchkey::redact::mask(text, &secrets)
}

/// Escapes `text` for a terminal, on one line: the core's one escaping rule
/// ([`latchkey::redact::Escaped`]).
pub(crate) fn escape(text: &str) -> String {
    latchkey::redact::escape(text)
}

/// Redacts, then escapes: the only way text reaches stderr.
pub(crate) fn sanitize(text: &str) -> String {
    escape(&redact(text))
}

/// Writes one sanitized line to stderr; every progress line goes through here.
pub(crate) fn stderr_line(text: &str) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "{}", sanitize(text));
}

/// `format!`-style progress line on stderr, redacted and escaped (see [`stderr_line`]).
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::output::stderr_line(&format!($($arg)*))
    };
}

/// The result on stdout: pretty-printed for a person at a terminal, one line otherwise.
///
/// # Errors
///
/// When stdout cannot be written (a closed pipe).
pub(crate) fn print_json(value: &impl Serialize) -> io::Result<()> {
    let stdout = io::stdout();
    let text = if stdout.is_terminal() {
        serde_json::to_string_pretty(value)
    } else {
        serde_json::to_string(value)
    }
    .map_err(io::Error::other)?;
    let mut out = stdout.lock();
    writeln!(out, "{text}")?;
    out.flush()
}

/// The result on stdout as plain lines (`--output token|header|env`).
///
/// # Errors
///
/// When stdout cannot be written (a closed pipe).
pub(crate) fn print_lines(lines: &[String]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    for line in lines {
        writeln!(out, "{line}")?;
    }
    out.flush()
}

/// A JSON object whose members keep the order they were added in.
#[derive(Debug, Default, Clone)]
pub(crate) struct Object(pub(crate) Vec<(String, Value)>);

impl Object {
    fn push(&mut self, key: &str, value: impl Into<Value>) {
        self.0.push((key.to_owned(), value.into()));
    }
}

impl Serialize for Object {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl std::fmt::Display for Object {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&serde_json::to_string(self).map_err(|_| std::fmt::Error)?)
    }
}

/// A duration as the seconds a user would type (`2`, `0.5`).
pub(crate) fn seconds(duration: std::time::Duration) -> String {
    // Tenths at most: a wait of 1.2345 s reads as 1.2.
    let secs = (duration.as_secs_f64() * 10.0).round() / 10.0;
    format!("{secs}")
}

/// Seconds since the Unix epoch.
pub(crate) fn unix_seconds(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The token set as the JSON object the command prints: `access_token`, `token_type`,
/// `expires_in`, `expires_at` (Unix seconds), `refresh_token`, `scope`, then every other
/// member the server sent (`id_token`, `created_at`, ...).
///
/// With `redacted`, credentials are replaced by a note of their length (for the demo).
pub(crate) fn token_object(tokens: &TokenSet, redacted: bool) -> Object {
    let secret = |value: &str| -> Value {
        if redacted {
            Value::String(format!("<redacted: {} chars>", value.chars().count()))
        } else {
            Value::String(value.to_owned())
        }
    };
    let mut out = Object::default();
    out.push(
        "access_token",
        secret(tokens.access_token().expose_secret()),
    );
    out.push("token_type", tokens.token_type().as_str());
    if let Some(expires_in) = tokens.expires_in() {
        out.push("expires_in", expires_in);
    }
    if let Some(expires_at) = tokens.expires_at() {
        out.push("expires_at", unix_seconds(expires_at));
    }
    if let Some(refresh) = tokens.refresh_token() {
        out.push("refresh_token", secret(refresh.expose_secret()));
    }
    if let Some(scope) = tokens.scope() {
        out.push("scope", scope);
    }
    // The DPoP key the tokens are bound to, by its thumbprint (RFC 7638): the `cnf.jkt` a
    // resource server checks. The key itself stays in the cache file.
    if let Some(key) = tokens.dpop_key() {
        out.push("dpop_jkt", key.thumbprint());
    }
    for (key, value) in tokens.extra() {
        if out.0.iter().any(|(k, _)| k == key) {
            continue;
        }
        let value = match value {
            Value::String(s) if latchkey::redact::is_secret_parameter(key) => secret(s),
            other => other.clone(),
        };
        out.0.push((key.clone(), value));
    }
    // The ID token's claims, validated by the core (signature, issuer, audience, expiry,
    // nonce): what the id_token says, readable.
    if let Some(claims) = tokens.id_token_claims() {
        if let Ok(claims) = serde_json::to_value(claims) {
            out.push("id_token_claims", claims);
        }
    }
    out
}

/// Registers every credential in a token set as a secret for stderr masking.
pub(crate) fn add_token_secrets(tokens: &TokenSet) {
    add_secret(tokens.access_token().expose_secret());
    if let Some(refresh) = tokens.refresh_token() {
        add_secret(refresh.expose_secret());
    }
    for (key, value) in tokens.extra() {
        if let Value::String(s) = value {
            if latchkey::redact::is_secret_parameter(key) {
                add_secret(s);
            }
        }
    }
}

/// Header fields as `name: value` lines, credentials replaced by `<redacted>` (the
/// authentication scheme, such as `Basic`, is kept).
pub(crate) fn header_lines(headers: &Headers) -> Vec<String> {
    headers
        .iter()
        .map(|(name, value)| {
            if name.eq_ignore_ascii_case("location") {
                // A redirect may carry a code or a token in its query or fragment.
                format!("{name}: {}", redact_url(value))
            } else {
                format!("{name}: {}", latchkey::redact::header_value(name, value))
            }
        })
        .collect()
}

/// A URL with the values of credential parameters in its query and fragment replaced by
/// `<redacted>` (for showing a redirect `Location`).
pub(crate) fn redact_url(url: &str) -> String {
    let (before_fragment, fragment) = match url.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (url, None),
    };
    let (base, query) = match before_fragment.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (before_fragment, None),
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

/// `name=value&...` pairs with the values of credential parameters replaced by
/// `<redacted>` (a URL's query or fragment, a form-encoded body).
pub(crate) fn redact_pairs(pairs: &str) -> String {
    pairs
        .split('&')
        .map(|pair| {
            let name = pair.split_once('=').map_or(pair, |(n, _)| n);
            if latchkey::redact::is_secret_parameter(name) {
                format!("{name}=<redacted>")
            } else {
                pair.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Masks, from now on, the credentials a redirect URL (or its bare query or fragment)
/// carries: the raw value and its percent-decoded form.
pub(crate) fn add_url_secrets(url: &str) {
    let pairs = if url.contains(['?', '#']) {
        url.split(['?', '#']).skip(1).collect::<Vec<_>>()
    } else {
        vec![url]
    };
    for pair in pairs.iter().flat_map(|part| part.split('&')) {
        if let Some((name, value)) = pair.split_once('=') {
            if latchkey::redact::is_secret_parameter(name) {
                add_secret(value);
                for (_, decoded) in form_urlencoded::parse(format!("v={value}").as_bytes()) {
                    add_secret(&decoded);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralises_terminal_control() {
        let hostile = "bad\u{1b}[2J\u{1b}]0;title\u{7}\r\nlatchkey: ok\u{202e}txt.exe\u{9b}";
        let escaped = escape(hostile);
        assert!(
            !escaped.chars().any(latchkey::redact::is_dangerous),
            "{escaped}"
        );
        assert_eq!(
            escaped,
            "bad\\u{1b}[2J\\u{1b}]0;title\\u{7}\\r\\nlatchkey: ok\\u{202e}txt.exe\\u{9b}"
        );
        assert_eq!(escape("plain text: ünïcode ✓"), "plain text: ünïcode ✓");
    }

    #[test]
    fn redaction_masks_longest_first_and_ignores_tiny_values() {
        add_secret("s3cr3t-value");
        add_secret("s3cr3t-value-longer");
        add_secret("ab");
        assert_eq!(
            redact("x s3cr3t-value-longer y s3cr3t-value ab"),
            "x <redacted> y <redacted> ab"
        );
    }

    #[test]
    fn urls_lose_their_credentials() {
        assert_eq!(
            redact_url("https://a.example/cb?code=abc&state=xyz#access_token=t&token_type=Bearer"),
            "https://a.example/cb?code=<redacted>&state=xyz#access_token=<redacted>&token_type=Bearer"
        );
        assert_eq!(redact_url("https://a.example/"), "https://a.example/");
    }

    #[test]
    fn callback_credentials_are_remembered() {
        add_url_secrets("http://127.0.0.1:1/cb?code=c0de%2Bvalue&state=visible");
        add_url_secrets("access_token=t0ken-value&state=visible");
        assert_eq!(
            redact("c0de%2Bvalue c0de+value t0ken-value visible"),
            "<redacted> <redacted> <redacted> visible"
        );
    }

    #[test]
    fn headers_keep_the_scheme_only() {
        let mut headers = Headers::new();
        headers.append("Authorization", "Basic Zm9vOmJhcg==");
        headers.append("content-type", "application/json");
        headers.append("Location", "https://a.example/cb?code=c0de&state=s");
        assert_eq!(
            header_lines(&headers),
            [
                "Authorization: Basic <redacted>",
                "content-type: application/json",
                "Location: https://a.example/cb?code=<redacted>&state=s"
            ]
        );
    }
}
