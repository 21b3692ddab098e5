//! The `latchkey` command driven end to end against `latchkey-mock` (started in the test
//! process): every subcommand, both callback modes, and the error paths. Every test also
//! checks that stderr never carries a secret.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use latchkey_mock::{
    AuthMethod, Encoding, Fault, GrantType, MockClient, MockServer, ResponseStyle,
};
use serde_json::Value;

/// RFC 7636 Appendix B test vector.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const REDIRECT: &str = "https://app.example/callback";

const BASIC_SECRET: &str = "basic-secret-7f3a91c2";
const POST_SECRET: &str = "post-secret-0b8e44d1";
const JSON_SECRET: &str = "json-secret-c21d9e07";
const MULTI_SECRET: &str = "multipart-secret-5a6b";
const AUDIENCE: &str = "https://api.example.com/";
/// Every client secret the tests use: none may ever reach stderr.
const SECRETS: [&str; 4] = [BASIC_SECRET, POST_SECRET, JSON_SECRET, MULTI_SECRET];

/// A mock with one client per dialect the tests need.
fn server() -> MockServer {
    MockServer::builder()
        .client(MockClient::new("public-app").require_pkce(true))
        .client(
            MockClient::new("basic-app")
                .secret(BASIC_SECRET)
                .grant_types([
                    GrantType::AuthorizationCode,
                    GrantType::ClientCredentials,
                    GrantType::RefreshToken,
                ]),
        )
        .client(
            MockClient::new("post-app")
                .secret(POST_SECRET)
                .auth_method(AuthMethod::Post)
                .response_style(ResponseStyle::Clerk)
                .rotate_refresh_tokens(true),
        )
        .client(
            MockClient::new("json-app")
                .secret(JSON_SECRET)
                .auth_method(AuthMethod::Post)
                .encodings([Encoding::Json])
                .require_audience(AUDIENCE)
                .default_scope("USER"),
        )
        .client(
            MockClient::new("multipart-app")
                .secret(MULTI_SECRET)
                .auth_method(AuthMethod::Post)
                .encodings([Encoding::Multipart])
                .response_style(ResponseStyle::Doorkeeper),
        )
        .client(MockClient::new("spa").require_audience(AUDIENCE))
        .start()
}

/// The built command with a clean environment (no inherited secrets, no proxies).
fn latchkey() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_latchkey"));
    for var in [
        "LATCHKEY_CLIENT_SECRET",
        "LATCHKEY_REFRESH_TOKEN",
        "LATCHKEY_ACCESS_TOKEN",
        "LATCHKEY_CODE_VERIFIER",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        command.env_remove(var);
    }
    command.stdin(Stdio::null());
    command
}

/// A finished run.
#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        assert_eq!(
            self.stdout.lines().count(),
            1,
            "stdout is not one line: {:?}",
            self.stdout
        );
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {:?}", self.stdout))
    }

    #[track_caller]
    fn success(&self) -> Value {
        assert_eq!(self.code, Some(0), "stderr: {}", self.stderr);
        self.json()
    }

    /// A failure: exit status 1, nothing on stdout, and exactly one error line.
    #[track_caller]
    fn failure(&self) -> String {
        assert_eq!(
            self.code,
            Some(1),
            "stdout: {} stderr: {}",
            self.stdout,
            self.stderr
        );
        assert!(
            self.stdout.is_empty(),
            "stdout on failure: {:?}",
            self.stdout
        );
        let errors: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| l.starts_with("latchkey: error:"))
            .collect();
        assert_eq!(errors.len(), 1, "stderr: {}", self.stderr);
        assert!(
            self.stderr.ends_with(&format!("{}\n", errors[0])),
            "the error is not the last line: {}",
            self.stderr
        );
        errors[0].to_owned()
    }

    /// Asserts that none of `secrets` (nor any mock-issued code or token) is on stderr.
    #[track_caller]
    fn no_secrets(&self, secrets: &[&str]) -> &Self {
        for secret in SECRETS.iter().chain(secrets) {
            assert!(
                secret.is_empty() || !self.stderr.contains(secret),
                "secret {secret:?} on stderr: {}",
                self.stderr
            );
        }
        assert_no_mock_credentials(&self.stderr);
        self
    }
}

/// The mock issues `code_…`, `at_…` and `rt_…` values with 32 random characters.
#[track_caller]
fn assert_no_mock_credentials(text: &str) {
    for prefix in ["code_", "at_", "rt_"] {
        for (at, _) in text.match_indices(prefix) {
            let rest = &text[at + prefix.len()..];
            let run = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .count();
            assert!(run < 30, "a mock credential is printed: {text}");
        }
    }
}

fn run(mut command: Command) -> Run {
    let output = command.output().expect("run latchkey");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8(output.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8 stderr"),
    }
}

/// A running command whose stderr is read line by line as it arrives.
struct Running {
    child: std::process::Child,
    lines: mpsc::Receiver<String>,
    stderr: thread::JoinHandle<String>,
    stdout: thread::JoinHandle<String>,
}

fn spawn(mut command: Command) -> Running {
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().expect("spawn latchkey");
    let (tx, lines) = mpsc::channel();
    let err = child.stderr.take().expect("stderr");
    let stderr = thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(err).lines() {
            let line = line.expect("UTF-8 stderr");
            all.push_str(&line);
            all.push('\n');
            let _ = tx.send(line);
        }
        all
    });
    let mut out = child.stdout.take().expect("stdout");
    let stdout = thread::spawn(move || {
        let mut all = String::new();
        out.read_to_string(&mut all).expect("UTF-8 stdout");
        all
    });
    Running {
        child,
        lines,
        stderr,
        stdout,
    }
}

impl Running {
    /// The authorization URL: the stderr line that is a URL and nothing else.
    fn authorization_url(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .expect("no authorization URL on stderr");
            if line.starts_with("http://") || line.starts_with("https://") {
                assert!(!line.contains(' '), "not a line of its own: {line:?}");
                return line;
            }
        }
    }

    fn write_stdin(&mut self, text: &str) {
        let mut stdin = self.child.stdin.take().expect("stdin piped");
        stdin.write_all(text.as_bytes()).expect("write stdin");
    }

    fn finish(mut self) -> Run {
        let status = self.child.wait().expect("wait");
        Run {
            code: status.code(),
            stdout: self.stdout.join().expect("stdout thread"),
            stderr: self.stderr.join().expect("stderr thread"),
        }
    }
}

/// A browser that never follows redirects and never uses a proxy.
fn browser() -> ureq::Agent {
    ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// GET without following redirects: the status, the `Location`, the body.
fn get(url: &str) -> (u16, Option<String>, String) {
    let mut response = browser().get(url).call().expect("GET");
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    (status, location, body)
}

/// Plays the browser on the authorization URL: returns the redirect's `Location`.
fn visit(url: &str) -> String {
    let (status, location, body) = get(url);
    assert_eq!(status, 302, "authorize answered {status}: {body}");
    location.expect("a Location")
}

/// One query or fragment parameter of a URL.
fn param(url: &str, name: &str) -> Option<String> {
    let pairs = url.split(['?', '#']).skip(1).collect::<Vec<_>>().join("&");
    form_urlencoded::parse(pairs.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The test's own authorization request (for `--callback URL`): the redirect `Location`.
fn authorize_directly(
    server: &MockServer,
    client_id: &str,
    state: &str,
    pkce: bool,
    scope: &str,
) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("state", state)
        .append_pair("scope", scope);
    if pkce {
        query
            .append_pair("code_challenge", CHALLENGE)
            .append_pair("code_challenge_method", "S256");
    }
    visit(&format!(
        "{}?{}",
        server.authorization_endpoint(),
        query.finish()
    ))
}

/// A public client's tokens, obtained through the command (`--callback URL`).
fn public_tokens(server: &MockServer) -> Value {
    let location = authorize_directly(server, "public-app", "st-1", true, "openid offline_access");
    let mut command = latchkey();
    command.args(["authorize", "--client-id", "public-app"]);
    command.args(["--auth-url", &server.authorization_endpoint()]);
    command.args(["--token-url", &server.token_endpoint()]);
    command.args(["--callback", &location, "--state", "st-1"]);
    command.args(["--code-verifier", VERIFIER]);
    let done = run(command);
    let tokens = done.success();
    let code = param(&location, "code").expect("code");
    done.no_secrets(&[
        &code,
        VERIFIER,
        str_of(&tokens, "access_token"),
        str_of(&tokens, "refresh_token"),
    ]);
    tokens
}

fn endpoints(command: &mut Command, server: &MockServer) {
    // Each subcommand takes only the endpoint flags it uses.
    let subcommand = command
        .get_args()
        .next()
        .and_then(|a| a.to_str())
        .unwrap_or_default()
        .to_owned();
    if matches!(subcommand.as_str(), "authorize" | "implicit") {
        command.args(["--auth-url", &server.authorization_endpoint()]);
    }
    if matches!(
        subcommand.as_str(),
        "authorize" | "client-credentials" | "refresh"
    ) {
        command.args(["--token-url", &server.token_endpoint()]);
    }
    if subcommand == "userinfo" {
        command.args(["--userinfo-url", &server.userinfo_endpoint()]);
    }
}

fn str_of<'a>(json: &'a Value, key: &str) -> &'a str {
    json[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string {key} in {json}"))
}

// ---------------------------------------------------------------------------------------
// authorize
// ---------------------------------------------------------------------------------------

#[test]
fn authorize_through_the_loopback_listener() {
    let server = server();
    let mut command = latchkey();
    command.args([
        "authorize",
        "--client-id",
        "basic-app",
        "--no-browser",
        "--login-timeout",
        "30",
    ]);
    endpoints(&mut command, &server);
    command.args(["--scope", "openid profile", "--scope", "offline_access"]);
    command.args(["--param", "prompt=consent"]);
    command.env("LATCHKEY_CLIENT_SECRET", BASIC_SECRET);
    let running = spawn(command);

    let url = running.authorization_url();
    assert!(url.starts_with(&server.authorization_endpoint()), "{url}");
    assert_eq!(
        param(&url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert_eq!(
        param(&url, "scope").as_deref(),
        Some("openid profile offline_access")
    );
    assert_eq!(param(&url, "prompt").as_deref(), Some("consent"));
    let redirect_uri = param(&url, "redirect_uri").expect("redirect_uri");
    assert!(
        redirect_uri.starts_with("http://127.0.0.1:"),
        "{redirect_uri}"
    );
    assert!(redirect_uri.ends_with("/callback"), "{redirect_uri}");

    let location = visit(&url);
    assert!(location.starts_with(&redirect_uri), "{location}");
    let code = param(&location, "code").expect("code");
    // A stray request is answered 404 and ignored.
    let origin = redirect_uri.trim_end_matches("/callback");
    let (status, _, _) = get(&format!("{origin}/favicon.ico"));
    assert_eq!(status, 404);
    // The callback itself gets the success page.
    let (status, _, page) = get(&location);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Signed in"), "{page}");
    assert!(!page.contains(&code));

    let done = running.finish();
    let tokens = done.success();
    let access = str_of(&tokens, "access_token");
    let refresh = str_of(&tokens, "refresh_token");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3600);
    assert!(tokens["expires_at"].as_u64().unwrap() > 1_600_000_000);
    assert_eq!(tokens["scope"], "openid profile offline_access");
    done.no_secrets(&[&code, access, refresh]);

    let token_requests = server.requests_to("/token");
    assert_eq!(token_requests.len(), 1);
    let request = &token_requests[0];
    assert!(
        request
            .header("authorization")
            .unwrap()
            .starts_with("Basic ")
    );
    assert_eq!(request.param("code"), Some(code.as_str()));
    assert!(request.param("code_verifier").is_some());
    assert_eq!(request.param("prompt"), Some("consent"));
    assert_eq!(request.param("client_secret"), None);
}

#[test]
fn authorize_with_the_callback_on_stdin() {
    let server = server();
    let mut command = latchkey();
    command.args([
        "authorize",
        "--client-id",
        "post-app",
        "--client-secret",
        POST_SECRET,
    ]);
    command.args(["--auth-method", "post", "--no-browser", "--callback", "-"]);
    command.args(["--redirect-uri", REDIRECT, "--login-timeout", "30"]);
    endpoints(&mut command, &server);
    command.stdin(Stdio::piped());
    let mut running = spawn(command);

    let url = running.authorization_url();
    assert_eq!(param(&url, "redirect_uri").as_deref(), Some(REDIRECT));
    let location = visit(&url);
    let code = param(&location, "code").expect("code");
    running.write_stdin(&format!("{location}\n"));

    let done = running.finish();
    let tokens = done.success();
    // CoLoop (Clerk) style: lower-case bearer on the wire, canonical in the output.
    assert_eq!(tokens["token_type"], "Bearer");
    done.no_secrets(&[
        &code,
        str_of(&tokens, "access_token"),
        str_of(&tokens, "refresh_token"),
    ]);
    let request = &server.requests_to("/token")[0];
    assert_eq!(request.param("client_secret"), Some(POST_SECRET));
    assert_eq!(request.header("authorization"), None);
}

#[test]
fn authorize_with_a_callback_url_and_pkce_off() {
    let server = server();
    let location = authorize_directly(&server, "multipart-app", "fixed-state", false, "read");
    let code = param(&location, "code").expect("code");
    let mut command = latchkey();
    command.args([
        "authorize",
        "--client-id",
        "multipart-app",
        "--auth-method",
        "post",
    ]);
    command.args(["--body", "multipart", "--no-pkce"]);
    command.args(["--callback", &location, "--state", "fixed-state"]);
    command.env("LATCHKEY_CLIENT_SECRET", MULTI_SECRET);
    endpoints(&mut command, &server);
    let done = run(command);
    let tokens = done.success();
    // Loop & Tie (Doorkeeper) style: created_at, no expires_in.
    assert!(tokens["created_at"].is_u64(), "{tokens}");
    assert!(tokens.get("expires_in").is_none(), "{tokens}");
    done.no_secrets(&[&code, str_of(&tokens, "access_token")]);
    let request = &server.requests_to("/token")[0];
    assert_eq!(request.encoding, Some(Encoding::Multipart));
    assert_eq!(request.param("redirect_uri"), Some(REDIRECT));
    assert_eq!(request.param("code_verifier"), None);
}

#[test]
fn authorize_with_a_callback_url_and_a_given_verifier() {
    let server = server();
    let tokens = public_tokens(&server);
    assert!(tokens["refresh_token"].is_string(), "{tokens}");
    let request = &server.requests_to("/token")[0];
    assert_eq!(request.param("code_verifier"), Some(VERIFIER));
    assert_eq!(request.param("client_id"), Some("public-app"));
}

#[test]
fn a_denied_authorization_names_the_error() {
    let server = server();
    server.deny_next_authorization("access_denied");
    let mut command = latchkey();
    command.args([
        "authorize",
        "--client-id",
        "public-app",
        "--no-browser",
        "--login-timeout",
        "30",
    ]);
    endpoints(&mut command, &server);
    let running = spawn(command);
    let location = visit(&running.authorization_url());
    assert_eq!(param(&location, "error").as_deref(), Some("access_denied"));
    let (status, _, page) = get(&location);
    assert_eq!(status, 400);
    assert!(page.contains("access_denied"), "{page}");
    let done = running.finish();
    let error = done.failure();
    assert!(error.contains("access_denied"), "{error}");
    done.no_secrets(&[]);
    assert_eq!(server.request_count("/token"), 0);
}

#[test]
fn a_forged_callback_is_refused() {
    let server = server();
    let mut command = latchkey();
    command.args([
        "authorize",
        "--client-id",
        "public-app",
        "--no-browser",
        "--login-timeout",
        "30",
    ]);
    endpoints(&mut command, &server);
    let running = spawn(command);
    let url = running.authorization_url();
    let redirect_uri = param(&url, "redirect_uri").unwrap();
    // A stray request of another state gets a 400 page, and the listener goes on waiting.
    let (status, _, page) = get(&format!(
        "{redirect_uri}?code=code_forged&state=not-the-state"
    ));
    assert_eq!(status, 400);
    assert!(page.contains("still waiting"), "{page}");
    let (status, _, _) = get(&format!("{redirect_uri}?code=code_forged"));
    assert_eq!(status, 400);
    // The real redirect still completes the login.
    let location = visit(&url);
    let (status, _, _) = get(&location);
    assert_eq!(status, 200);
    let done = running.finish();
    let tokens = done.success();
    done.no_secrets(&["code_forged", str_of(&tokens, "access_token")]);
    assert_eq!(server.request_count("/token"), 1);
    let request = &server.requests_to("/token")[0];
    assert_ne!(request.param("code"), Some("code_forged"));
}

/// A pasted redirect to another address is refused before its code goes anywhere.
#[test]
fn a_redirect_to_another_address_is_refused() {
    let server = server();
    for pasted in [
        "http://evil.example/other?code=code_evil&state=S1",
        "http://127.0.0.1:8080/callback?code=code_evil&state=S1",
        "https://app.example/callbackx?code=code_evil&state=S1",
    ] {
        let mut command = latchkey();
        command.args(["authorize", "--client-id", "public-app", "--no-browser"]);
        command.args([
            "--callback",
            "-",
            "--state",
            "S1",
            "--redirect-uri",
            REDIRECT,
        ]);
        endpoints(&mut command, &server);
        command.stdin(Stdio::piped());
        let mut running = spawn(command);
        running.authorization_url();
        running.write_stdin(&format!("{pasted}\n"));
        let done = running.finish();
        let error = done.failure();
        assert!(error.contains("not to the redirect URI"), "{error}");
        done.no_secrets(&["code_evil"]);
    }
    assert_eq!(server.request_count("/token"), 0);
}

/// An error redirect without a state names the server's error, and the command fails.
#[test]
fn an_error_callback_without_state_names_the_servers_error() {
    let server = server();
    let mut command = latchkey();
    command.args(["authorize", "--client-id", "public-app", "--no-browser"]);
    command.args(["--callback", "-", "--redirect-uri", REDIRECT]);
    endpoints(&mut command, &server);
    command.stdin(Stdio::piped());
    let mut running = spawn(command);
    running.authorization_url();
    running.write_stdin(&format!(
        "{REDIRECT}?error=access_denied&error_description=the+user+said+no\n"
    ));
    let done = running.finish();
    let error = done.failure();
    assert!(error.contains("access_denied: the user said no"), "{error}");
    assert_eq!(server.request_count("/token"), 0);
}

/// `--print-url` prints the URL, state, verifier and nonce and exits; `--callback URL
/// --state --code-verifier` completes it later, without an "open this URL" line.
#[test]
fn print_url_then_deliver_the_callback() {
    let server = server();
    let mut command = latchkey();
    command.args(["authorize", "--client-id", "public-app", "--print-url"]);
    command.args([
        "--redirect-uri",
        REDIRECT,
        "--scope",
        "openid offline_access",
    ]);
    endpoints(&mut command, &server);
    let done = run(command);
    let printed = done.success();
    let url = str_of(&printed, "authorization_url");
    let state = str_of(&printed, "state");
    let verifier = str_of(&printed, "code_verifier");
    let nonce = str_of(&printed, "nonce");
    assert_eq!(param(url, "state").as_deref(), Some(state));
    assert_eq!(param(url, "nonce").as_deref(), Some(nonce));
    assert_eq!(str_of(&printed, "redirect_uri"), REDIRECT);
    assert!(!done.stderr.contains(verifier), "{}", done.stderr);
    assert_eq!(server.request_count("/token"), 0);

    let location = visit(url);
    let mut command = latchkey();
    command.args(["authorize", "--client-id", "public-app"]);
    command.args(["--callback", &location, "--state", state]);
    command.args(["--code-verifier", verifier]);
    endpoints(&mut command, &server);
    let done = run(command);
    let tokens = done.success();
    assert!(!done.stderr.contains("open this URL"), "{}", done.stderr);
    assert!(
        !done.stderr.lines().any(|l| l.starts_with("http")),
        "{}",
        done.stderr
    );
    done.no_secrets(&[verifier, str_of(&tokens, "access_token")]);
    let request = &server.requests_to("/token")[0];
    assert_eq!(request.param("code_verifier"), Some(verifier));
}

/// `--output token|header|env` print the token alone, a header, or shell lines.
#[test]
fn output_formats() {
    let server = server();
    let base = |output: &str| {
        let mut command = latchkey();
        command.args(["client-credentials", "--client-id", "basic-app"]);
        command.args(["--client-secret", BASIC_SECRET, "--scope", "read write"]);
        command.args(["--output", output]);
        endpoints(&mut command, &server);
        let done = run(command);
        assert_eq!(done.code, Some(0), "{}", done.stderr);
        done.no_secrets(&[]);
        done.stdout
    };
    let token = base("token");
    assert_eq!(token.lines().count(), 1, "{token}");
    let token = token.trim_end();
    assert!(token.len() > 10 && !token.contains(' '), "{token}");
    assert!(!token.contains('{'));
    let header = base("header");
    assert!(header.starts_with("Authorization: Bearer "), "{header}");
    assert_eq!(header.lines().count(), 1);
    let env = base("env");
    let lines: Vec<&str> = env.lines().collect();
    assert!(lines[0].starts_with("LATCHKEY_ACCESS_TOKEN="), "{env}");
    assert!(lines.contains(&"LATCHKEY_TOKEN_TYPE=Bearer"), "{env}");
    assert!(lines.contains(&"LATCHKEY_SCOPE='read write'"), "{env}");
    assert!(
        lines.iter().any(|l| l.starts_with("LATCHKEY_EXPIRES_IN=")),
        "{env}"
    );
    let json: Value = serde_json::from_str(&base("json")).unwrap();
    assert!(json["access_token"].is_string());
}

#[test]
fn the_listener_gives_up_after_the_timeout() {
    let server = server();
    let mut command = latchkey();
    command.args([
        "authorize",
        "--client-id",
        "public-app",
        "--no-browser",
        "--login-timeout",
        "1",
    ]);
    endpoints(&mut command, &server);
    let started = Instant::now();
    let done = run(command);
    let error = done.failure();
    assert!(error.contains("timed out"), "{error}");
    assert!(started.elapsed() < Duration::from_secs(15));
    done.no_secrets(&[]);
}

#[test]
fn the_listener_honours_a_given_redirect_uri() {
    let server = server();
    // Find a free port, then ask for it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let redirect = format!("http://127.0.0.1:{port}/oauth/done");
    let mut command = latchkey();
    command.args([
        "authorize",
        "--client-id",
        "public-app",
        "--no-browser",
        "--login-timeout",
        "30",
    ]);
    command.args(["--redirect-uri", &redirect]);
    endpoints(&mut command, &server);
    let running = spawn(command);
    let url = running.authorization_url();
    assert_eq!(
        param(&url, "redirect_uri").as_deref(),
        Some(redirect.as_str())
    );
    let location = visit(&url);
    let code = param(&location, "code").expect("code");
    let (status, _, _) = get(&location);
    assert_eq!(status, 200);
    let done = running.finish();
    let tokens = done.success();
    done.no_secrets(&[&code, str_of(&tokens, "access_token")]);
}

// ---------------------------------------------------------------------------------------
// implicit
// ---------------------------------------------------------------------------------------

#[test]
fn implicit_through_the_listener_and_the_fragment_page() {
    let server = server();
    let mut command = latchkey();
    command.args(["implicit", "--client-id", "spa", "--audience", AUDIENCE]);
    command.args([
        "--scope",
        "read:avatars write:avatars",
        "--no-browser",
        "--login-timeout",
        "30",
    ]);
    endpoints(&mut command, &server);
    let running = spawn(command);
    let url = running.authorization_url();
    assert_eq!(param(&url, "response_type").as_deref(), Some("token"));
    assert_eq!(param(&url, "audience").as_deref(), Some(AUDIENCE));

    let location = visit(&url);
    let (page_url, fragment) = location.split_once('#').expect("a fragment");
    let access = param(&location, "access_token").expect("access_token");
    // The browser loads the redirect URI (the fragment stays in the browser)...
    let (status, _, page) = get(page_url);
    assert_eq!(status, 200);
    assert!(page.contains("location.hash"), "{page}");
    assert!(page.contains("\"/callback/fragment\""), "{page}");
    // ...and its script sends the fragment back.
    let (status, _, done_page) = get(&format!("{page_url}/fragment?{fragment}"));
    assert_eq!(status, 200, "{done_page}");

    let done = running.finish();
    let tokens = done.success();
    assert_eq!(str_of(&tokens, "access_token"), access);
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], "read:avatars write:avatars");
    assert!(tokens["expires_at"].is_u64());
    done.no_secrets(&[&access]);
}

#[test]
fn implicit_with_the_callback_on_stdin() {
    let server = server();
    let mut command = latchkey();
    command.args(["implicit", "--client-id", "spa", "--audience", AUDIENCE]);
    command.args([
        "--callback",
        "-",
        "--redirect-uri",
        REDIRECT,
        "--no-browser",
    ]);
    endpoints(&mut command, &server);
    command.stdin(Stdio::piped());
    let mut running = spawn(command);
    let location = visit(&running.authorization_url());
    let access = param(&location, "access_token").expect("access_token");
    running.write_stdin(&format!("{location}\n"));
    let done = running.finish();
    let tokens = done.success();
    assert_eq!(str_of(&tokens, "access_token"), access);
    done.no_secrets(&[&access]);
}

#[test]
fn implicit_with_a_callback_url() {
    let server = server();
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("response_type", "token")
        .append_pair("client_id", "spa")
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("audience", AUDIENCE)
        .append_pair("state", "s-implicit");
    let location = visit(&format!(
        "{}?{}",
        server.authorization_endpoint(),
        query.finish()
    ));
    let access = param(&location, "access_token").expect("access_token");
    let mut command = latchkey();
    command.args(["implicit", "--client-id", "spa", "--audience", AUDIENCE]);
    command.args(["--callback", &location, "--state", "s-implicit"]);
    endpoints(&mut command, &server);
    let done = run(command);
    assert_eq!(str_of(&done.success(), "access_token"), access);
    done.no_secrets(&[&access]);

    // The same redirect with another state is refused.
    let mut command = latchkey();
    command.args([
        "implicit",
        "--client-id",
        "spa",
        "--callback",
        &location,
        "--state",
        "other",
    ]);
    endpoints(&mut command, &server);
    let done = run(command);
    assert!(done.failure().contains("state"));
    done.no_secrets(&[&access]);
}

// ---------------------------------------------------------------------------------------
// client-credentials
// ---------------------------------------------------------------------------------------

#[test]
fn client_credentials_with_basic_and_the_secret_from_the_environment() {
    let server = server();
    let mut command = latchkey();
    command.args([
        "client-credentials",
        "--client-id",
        "basic-app",
        "--scope",
        "read write",
    ]);
    endpoints(&mut command, &server);
    command.env("LATCHKEY_CLIENT_SECRET", BASIC_SECRET);
    let done = run(command);
    let tokens = done.success();
    assert_eq!(tokens["scope"], "read write");
    done.no_secrets(&[str_of(&tokens, "access_token")]);
    let request = &server.requests_to("/token")[0];
    assert!(
        request
            .header("authorization")
            .unwrap()
            .starts_with("Basic ")
    );
    assert_eq!(request.param("grant_type"), Some("client_credentials"));
    assert_eq!(request.param("scope"), Some("read write"));
}

#[test]
fn client_credentials_with_a_json_body_and_audience() {
    let server = server();
    let mut command = latchkey();
    command.args([
        "client-credentials",
        "--client-id",
        "json-app",
        "--auth-method",
        "post",
    ]);
    command.args([
        "--body",
        "json",
        "--audience",
        AUDIENCE,
        "--client-secret",
        JSON_SECRET,
    ]);
    command.args(["--param", "tenant=acme", "--verbose"]);
    endpoints(&mut command, &server);
    let done = run(command);
    let tokens = done.success();
    assert_eq!(tokens["scope"], "USER");
    done.no_secrets(&[str_of(&tokens, "access_token")]);
    // --verbose shows the request with the secret redacted.
    assert!(done.stderr.contains("> POST "), "{}", done.stderr);
    assert!(
        done.stderr.contains("\"client_secret\":\"<redacted>\""),
        "{}",
        done.stderr
    );
    assert!(done.stderr.contains("< HTTP 200"), "{}", done.stderr);
    let request = &server.requests_to("/token")[0];
    assert_eq!(request.encoding, Some(Encoding::Json));
    assert_eq!(request.param("audience"), Some(AUDIENCE));
    assert_eq!(request.param("tenant"), Some("acme"));
}

#[test]
fn verbose_basic_authentication_is_redacted() {
    let server = server();
    let mut command = latchkey();
    command.args(["client-credentials", "--client-id", "basic-app", "-v"]);
    command.args(["--client-secret", BASIC_SECRET]);
    endpoints(&mut command, &server);
    let done = run(command);
    let tokens = done.success();
    assert!(
        done.stderr.contains("authorization: Basic <redacted>"),
        "{}",
        done.stderr
    );
    let basic = server.requests_to("/token")[0]
        .header("authorization")
        .unwrap()
        .trim_start_matches("Basic ")
        .to_owned();
    done.no_secrets(&[&basic, str_of(&tokens, "access_token")]);
}

#[test]
fn a_server_error_is_one_line_with_code_and_description() {
    let server = server();
    let mut command = latchkey();
    command.args(["client-credentials", "--client-id", "basic-app"]);
    command.args(["--client-secret", "wrong-secret-value"]);
    endpoints(&mut command, &server);
    let done = run(command);
    let error = done.failure();
    assert!(error.contains("invalid_client"), "{error}");
    assert!(error.contains("HTTP 401"), "{error}");
    done.no_secrets(&["wrong-secret-value"]);
}

#[test]
fn a_hostile_error_description_is_escaped() {
    let server = server();
    let hostile = serde_json::json!({
        "error": "invalid_request\u{1b}[2J",
        "error_description": "\u{1b}[31mred\u{7}\r\nlatchkey: got a Bearer token\u{202e}gnp.exe\u{9b}1m",
    });
    server.inject(
        "/token",
        Fault::body(400, "application/json", hostile.to_string()),
        1,
    );
    let mut command = latchkey();
    command.args(["client-credentials", "--client-id", "basic-app"]);
    command.args(["--client-secret", BASIC_SECRET]);
    endpoints(&mut command, &server);
    let done = run(command);
    let error = done.failure();
    for c in ['\u{1b}', '\r', '\u{7}', '\u{202e}', '\u{9b}'] {
        assert!(
            !done.stderr.contains(c),
            "raw {c:?} on stderr: {:?}",
            done.stderr
        );
    }
    assert!(error.contains("invalid_request\\u{1b}[2J"), "{error}");
    assert!(
        error.contains("\\u{1b}[31mred\\u{7}\\r\\nlatchkey: got a Bearer token\\u{202e}gnp.exe"),
        "{error}"
    );
    // One line: the forged "got a token" line is part of the error line.
    assert_eq!(
        done.stderr
            .lines()
            .filter(|l| l.contains("got a Bearer token"))
            .count(),
        1
    );
    done.no_secrets(&[]);
}

#[test]
fn retry_after_503_is_retried_unless_retries_are_off() {
    let server = server();
    server.inject("/token", Fault::retry_after(503, "1"), 1);
    let mut command = latchkey();
    command.args(["client-credentials", "--client-id", "basic-app"]);
    command.args(["--client-secret", BASIC_SECRET]);
    endpoints(&mut command, &server);
    let started = Instant::now();
    let done = run(command);
    let tokens = done.success();
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "Retry-After was not honoured"
    );
    assert_eq!(server.request_count("/token"), 2);
    done.no_secrets(&[str_of(&tokens, "access_token")]);

    server.inject("/token", Fault::retry_after(503, "1"), 1);
    let mut command = latchkey();
    command.args([
        "client-credentials",
        "--client-id",
        "basic-app",
        "--retries",
        "0",
    ]);
    command.args(["--client-secret", BASIC_SECRET]);
    endpoints(&mut command, &server);
    let done = run(command);
    let error = done.failure();
    assert!(error.contains("temporarily_unavailable"), "{error}");
    assert!(error.contains("HTTP 503"), "{error}");
    assert_eq!(server.request_count("/token"), 3);
    done.no_secrets(&[]);
}

// ---------------------------------------------------------------------------------------
// refresh, userinfo
// ---------------------------------------------------------------------------------------

#[test]
fn refresh_prints_the_new_token_set() {
    let server = server();
    let tokens = public_tokens(&server);
    let refresh = str_of(&tokens, "refresh_token").to_owned();
    let mut command = latchkey();
    command.args([
        "refresh",
        "--client-id",
        "public-app",
        "--refresh-token",
        &refresh,
    ]);
    command.args(["--scope", "openid"]);
    endpoints(&mut command, &server);
    let done = run(command);
    let refreshed = done.success();
    assert_ne!(refreshed["access_token"], tokens["access_token"]);
    // No rotation: the refresh token given is kept in the output.
    assert_eq!(str_of(&refreshed, "refresh_token"), refresh);
    done.no_secrets(&[&refresh, str_of(&refreshed, "access_token")]);
    let request = server.requests_to("/token").pop().unwrap();
    assert_eq!(request.param("grant_type"), Some("refresh_token"));
    assert_eq!(request.param("scope"), Some("openid"));
}

#[test]
fn refresh_from_the_environment_with_rotation() {
    let server = server();
    let location = authorize_directly(&server, "post-app", "st-r", true, "email profile");
    let mut command = latchkey();
    command.args([
        "authorize",
        "--client-id",
        "post-app",
        "--auth-method",
        "post",
    ]);
    command.args(["--callback", &location, "--state", "st-r"]);
    command.env("LATCHKEY_CLIENT_SECRET", POST_SECRET);
    command.env("LATCHKEY_CODE_VERIFIER", VERIFIER);
    endpoints(&mut command, &server);
    let tokens = run(command).success();
    let refresh = str_of(&tokens, "refresh_token").to_owned();

    let mut command = latchkey();
    command.args([
        "refresh",
        "--client-id",
        "post-app",
        "--auth-method",
        "post",
    ]);
    command.env("LATCHKEY_CLIENT_SECRET", POST_SECRET);
    command.env("LATCHKEY_REFRESH_TOKEN", &refresh);
    endpoints(&mut command, &server);
    let done = run(command);
    let refreshed = done.success();
    assert_ne!(str_of(&refreshed, "refresh_token"), refresh);
    done.no_secrets(&[&refresh, str_of(&refreshed, "refresh_token")]);

    // The rotated-out token is refused: invalid_grant, exit 1.
    let mut command = latchkey();
    command.args([
        "refresh",
        "--client-id",
        "post-app",
        "--auth-method",
        "post",
    ]);
    command.args(["--refresh-token", &refresh]);
    command.env("LATCHKEY_CLIENT_SECRET", POST_SECRET);
    endpoints(&mut command, &server);
    let done = run(command);
    assert!(done.failure().contains("invalid_grant"));
    done.no_secrets(&[&refresh]);
}

#[test]
fn refresh_tokens_may_start_with_a_hyphen() {
    let server = server();
    for args in [
        vec!["--refresh-token", "-abc-token"],
        vec!["--refresh-token=-abc-token"],
    ] {
        let mut command = latchkey();
        command.args(["refresh", "--client-id", "public-app"]);
        command.args(&args);
        endpoints(&mut command, &server);
        let done = run(command);
        // Not a usage error: the token reached the server, which does not know it.
        let error = done.failure();
        assert!(error.contains("invalid_grant"), "{error}");
        done.no_secrets(&["-abc-token"]);
        let request = server.requests_to("/token").pop().unwrap();
        assert_eq!(request.param("refresh_token"), Some("-abc-token"));
    }
}

#[test]
fn userinfo_prints_the_claims() {
    let server = server();
    let tokens = public_tokens(&server);
    let access = str_of(&tokens, "access_token");
    let mut command = latchkey();
    command.args(["userinfo", "--access-token", access]);
    endpoints(&mut command, &server);
    let done = run(command);
    let claims = done.success();
    assert_eq!(claims["email"], "user@example.com");
    assert_eq!(claims["sub"], "mock-user-1");
    done.no_secrets(&[access]);

    // From the environment, and refused once revoked.
    server.revoke_all_tokens();
    let mut command = latchkey();
    command.arg("userinfo").env("LATCHKEY_ACCESS_TOKEN", access);
    endpoints(&mut command, &server);
    let done = run(command);
    assert!(done.failure().contains("invalid_token"));
    done.no_secrets(&[access]);
}

// ---------------------------------------------------------------------------------------
// usage, help, demo
// ---------------------------------------------------------------------------------------

#[test]
fn usage_errors_exit_2_with_nothing_on_stdout() {
    let server = server();
    let cases: Vec<Vec<String>> = vec![
        vec!["client-credentials".into(), "--no-such-flag".into()],
        vec!["refresh".into(), "--client-id".into(), "x".into()],
        vec![
            "client-credentials".into(),
            "--auth-method".into(),
            "digest".into(),
        ],
        vec![
            "client-credentials".into(),
            "--param".into(),
            "novalue".into(),
        ],
        vec![
            "client-credentials".into(),
            "--max-time".into(),
            "soon".into(),
        ],
        vec![
            "client-credentials".into(),
            "--token-url".into(),
            server.token_endpoint(),
        ],
        vec![
            "client-credentials".into(),
            "--client-id".into(),
            "basic-app".into(),
            "--token-url".into(),
            "http://auth.example.invalid/token".into(),
            "--client-secret".into(),
            BASIC_SECRET.into(),
        ],
        vec![
            "authorize".into(),
            "--client-id".into(),
            "public-app".into(),
            "--auth-url".into(),
            server.authorization_endpoint(),
            "--token-url".into(),
            server.token_endpoint(),
            "--redirect-uri".into(),
            "https://app.example/cb".into(),
        ],
        vec![
            "authorize".into(),
            "--client-id".into(),
            "public-app".into(),
            "--auth-url".into(),
            server.authorization_endpoint(),
            "--token-url".into(),
            server.token_endpoint(),
            "--callback".into(),
            "https://app.example/cb?code=x&state=y".into(),
        ],
        vec![
            "authorize".into(),
            "--client-id".into(),
            "public-app".into(),
            "--auth-url".into(),
            server.authorization_endpoint(),
            "--token-url".into(),
            server.token_endpoint(),
            "--callback".into(),
            "-".into(),
            "--param".into(),
            "state=mine".into(),
        ],
        // A browser command and no browser at all contradict each other.
        vec![
            "authorize".into(),
            "--client-id".into(),
            "public-app".into(),
            "--auth-url".into(),
            server.authorization_endpoint(),
            "--token-url".into(),
            server.token_endpoint(),
            "--no-browser".into(),
            "--browser-command".into(),
            "/bin/true".into(),
        ],
        vec![],
    ];
    for args in cases {
        let mut command = latchkey();
        command.args(&args);
        let done = run(command);
        assert_eq!(done.code, Some(2), "{args:?}: {}", done.stderr);
        assert!(done.stdout.is_empty(), "{args:?}: {}", done.stdout);
        assert!(!done.stderr.is_empty(), "{args:?}");
        done.no_secrets(&[]);
    }
    assert_eq!(server.request_count("/token"), 0);
}

/// The `--help` of a subcommand: exit 0, the text.
fn help_of(subcommand: &str) -> String {
    let mut command = latchkey();
    command.args([subcommand, "--help"]);
    let done = run(command);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    done.stdout
}

/// Every subcommand offers exactly the flags it uses, `--issuer` first among them.
#[test]
fn each_subcommand_offers_exactly_its_flags() {
    let network = [
        "--connect-timeout",
        "--max-time",
        "--retries",
        "--insecure-http",
        "--cert",
        "--key",
        "--ca-file",
        "--verbose",
    ];
    let client = [
        "--client-id",
        "--client-secret",
        "LATCHKEY_CLIENT_SECRET",
        "--auth-method",
        "--body",
    ];
    let request = ["--scope", "--audience", "--resource", "--param"];
    let login = [
        "--redirect-uri",
        "--callback",
        "--state",
        "--no-browser",
        "--login-timeout",
    ];
    let cache = ["--cache", "--force-refresh"];
    let all_flags = [
        "--auth-url",
        "--token-url",
        "--userinfo-url",
        "--device-url",
        "--revocation-url",
        "--introspection-url",
        "--par-url",
        "--client-id",
        "--client-secret",
        "--auth-method",
        "--body",
        "--scope",
        "--audience",
        "--resource",
        "--param",
        "--auth-param",
        "--token-param",
        "--redirect-uri",
        "--callback",
        "--state",
        "--no-browser",
        "--login-timeout",
        "--cache",
        "--force-refresh",
        "--output",
        "--connect-timeout",
        "--max-time",
        "--retries",
        "--insecure-http",
        "--verbose",
        "--refresh-token",
        "--access-token",
        "--token",
        "--no-pkce",
        "--code-verifier",
        "--print-url",
        "--par",
        "--subject-token",
        "--well-known",
    ];
    let own: [(&str, Vec<&str>); 10] = [
        (
            "authorize",
            [
                &[
                    "--auth-url",
                    "--token-url",
                    "--par-url",
                    "--auth-param",
                    "--token-param",
                ][..],
                &client,
                &request,
                &login,
                &cache,
                &[
                    "--output",
                    "--no-pkce",
                    "--code-verifier",
                    "--print-url",
                    "--par",
                ],
            ]
            .concat(),
        ),
        (
            "implicit",
            [
                &["--auth-url", "--client-id", "--output"][..],
                &request,
                &login,
                &cache,
            ]
            .concat(),
        ),
        (
            "client-credentials",
            [&["--token-url", "--output"][..], &client, &request, &cache].concat(),
        ),
        (
            "refresh",
            [
                &["--token-url", "--output", "--refresh-token"][..],
                &client,
                &request,
                &cache,
            ]
            .concat(),
        ),
        ("userinfo", vec!["--userinfo-url", "--access-token"]),
        ("discover", vec![]),
        (
            "device",
            [
                &["--device-url", "--token-url", "--output"][..],
                &client,
                &request,
            ]
            .concat(),
        ),
        (
            "revoke",
            [&["--revocation-url", "--token"][..], &client].concat(),
        ),
        (
            "introspect",
            [&["--introspection-url", "--token"][..], &client].concat(),
        ),
        (
            "token-exchange",
            [
                &["--token-url", "--subject-token", "--output"][..],
                &client,
                &request,
            ]
            .concat(),
        ),
    ];
    for (subcommand, flags) in own {
        let help = help_of(subcommand);
        let offered: Vec<&str> = flags.iter().chain(&network).copied().collect();
        for flag in &offered {
            assert!(help.contains(flag), "{subcommand} --help lacks {flag}");
        }
        for flag in all_flags {
            let listed = help.contains(&format!("{flag} ")) || help.contains(&format!("{flag}\n"));
            let expected = offered.contains(&flag) || flag == "--well-known";
            assert_eq!(listed, expected, "{subcommand} --help and {flag}:\n{help}");
        }
        // --issuer is the first flag of every subcommand's own sections.
        let sections = &help[help.find("Options:").expect("Options:")..];
        let issuer = sections.find("--issuer").expect("--issuer");
        for flag in &offered {
            assert!(
                issuer < sections.find(flag).unwrap(),
                "{subcommand}: {flag} before --issuer"
            );
        }
    }
    let top = help_of("help");
    assert!(top.contains("SUBCOMMAND"), "{top}");
    let mut command = latchkey();
    command.arg("--help");
    let done = run(command);
    let issuer = done
        .stdout
        .find("--issuer")
        .expect("--issuer in the top-level help");
    for subcommand in [
        "authorize",
        "implicit",
        "client-credentials",
        "refresh",
        "userinfo",
        "demo",
    ] {
        assert!(
            done.stdout.contains(subcommand),
            "--help lacks {subcommand}"
        );
    }
    assert!(issuer < done.stdout.find("--auth-url").unwrap());
}

/// Flags a subcommand does not use are usage errors, and so is a reserved `--param`; a
/// stray positional argument is not echoed back.
#[test]
fn flags_a_subcommand_does_not_use_are_refused() {
    let server = server();
    let cases: [&[&str]; 4] = [
        &[
            "discover",
            "--issuer",
            "https://x.example",
            "--client-id",
            "foo",
        ],
        &["client-credentials", "--auth-url", "garbage"],
        &[
            "discover",
            "--issuer",
            "https://x.example",
            "--body",
            "json",
        ],
        &["userinfo", "--client-secret", "x", "--access-token", "t"],
    ];
    for args in cases {
        let mut command = latchkey();
        command.args(args);
        let done = run(command);
        assert_eq!(done.code, Some(2), "{args:?}: {}", done.stderr);
        assert!(
            done.stderr
                .starts_with("latchkey: error: this subcommand has no flag --"),
            "{}",
            done.stderr
        );
        assert!(done.stdout.is_empty());
    }
    let mut command = latchkey();
    command.args([
        "client-credentials",
        "--client-id",
        "basic-app",
        "pasted-secret-7f3a",
    ]);
    let done = run(command);
    assert_eq!(done.code, Some(2));
    assert!(
        !done.stderr.contains("pasted-secret-7f3a"),
        "{}",
        done.stderr
    );
    assert!(done.stderr.contains("not shown"), "{}", done.stderr);
    for reserved in ["grant_type=password", "client_secret=leaked-9c1e", "code=x"] {
        let mut command = latchkey();
        command.args(["client-credentials", "--client-id", "basic-app"]);
        command.args(["--client-secret", BASIC_SECRET, "--param", reserved]);
        endpoints(&mut command, &server);
        let done = run(command);
        assert_eq!(done.code, Some(2), "{reserved}: {}", done.stderr);
        assert!(
            done.stderr.contains("is set by the flow itself"),
            "{}",
            done.stderr
        );
        assert!(!done.stderr.contains("leaked-9c1e"), "{}", done.stderr);
    }
    assert_eq!(server.request_count("/token"), 0);
    // One style: clap's errors read like the command's own.
    let mut command = latchkey();
    command.args(["refresh"]);
    let done = run(command);
    assert_eq!(done.code, Some(2));
    assert_eq!(done.stderr.lines().count(), 1, "{}", done.stderr);
    assert!(
        done.stderr.starts_with("latchkey: error: "),
        "{}",
        done.stderr
    );
    assert!(done.stderr.contains("--client-id <ID>"), "{}", done.stderr);
    assert!(
        done.stderr.trim_end().ends_with("(see --help)"),
        "{}",
        done.stderr
    );
}

#[test]
fn the_demo_walks_every_flow() {
    let started = Instant::now();
    let mut command = latchkey();
    command.arg("demo");
    let done = run(command);
    assert_eq!(done.code, Some(0), "{}\n{}", done.stdout, done.stderr);
    assert!(started.elapsed() < Duration::from_secs(30));
    let out = &done.stdout;
    for text in [
        "Summary",
        "Loom AI",
        "CoLoop",
        "Blooma",
        "Loop & Tie",
        "7 of 7 flows passed",
        "GET /userinfo",
        "-F client_secret=<redacted>",
        "\"client_secret\":\"<redacted>\"",
        "code_verifier=<redacted>",
        "created_at",
    ] {
        assert!(out.contains(text), "demo output lacks {text:?}:\n{out}");
    }
    assert!(
        !out.contains("demo-secret-"),
        "a demo client secret is printed:\n{out}"
    );
    assert!(!done.stderr.contains("demo-secret-"));
    assert_no_mock_credentials(out);
    assert_no_mock_credentials(&done.stderr);
}

// ---------------------------------------------------------------------------------------
// retries, timeouts, -v, and the small things
// ---------------------------------------------------------------------------------------

/// Every retry prints one line with the status, the wait and the attempt number.
#[test]
fn each_retry_prints_one_line() {
    let server = server();
    server.inject("/token", Fault::retry_after(503, "1"), 2);
    let mut command = latchkey();
    command.args(["client-credentials", "--client-id", "basic-app"]);
    command.args(["--client-secret", BASIC_SECRET, "--retries", "3"]);
    endpoints(&mut command, &server);
    let done = run(command);
    done.success();
    let retries: Vec<&str> = done
        .stderr
        .lines()
        .filter(|l| l.contains("retrying in"))
        .collect();
    assert_eq!(
        retries,
        [
            "latchkey: HTTP 503; retrying in 1 s (attempt 2 of 4)",
            "latchkey: HTTP 503; retrying in 1 s (attempt 3 of 4)",
        ],
        "{}",
        done.stderr
    );
    assert_eq!(server.request_count("/token"), 3);
}

/// `--max-time` bounds each attempt and names itself when it fires; `--retries 0` makes it
/// one attempt.
#[test]
fn a_timeout_names_the_limit_that_fired() {
    let server = server();
    server.inject("/token", Fault::Delay(Duration::from_secs(5)), 2);
    let mut command = latchkey();
    command.args(["client-credentials", "--client-id", "basic-app"]);
    command.args(["--client-secret", BASIC_SECRET]);
    command.args(["--max-time", "0.5", "--retries", "0"]);
    endpoints(&mut command, &server);
    let started = Instant::now();
    let done = run(command);
    let error = done.failure();
    assert!(started.elapsed() < Duration::from_secs(3), "{error}");
    assert!(error.contains("--max-time 0.5 s"), "{error}");
    assert!(!error.contains("global"), "{error}");
    assert_eq!(server.request_count("/token"), 1);

    // With a retry, the retry says why and when.
    let mut command = latchkey();
    command.args(["client-credentials", "--client-id", "basic-app"]);
    command.args(["--client-secret", BASIC_SECRET]);
    command.args(["--max-time", "0.5", "--retries", "1"]);
    endpoints(&mut command, &server);
    let done = run(command);
    done.success();
    let retry = done
        .stderr
        .lines()
        .find(|l| l.contains("retrying in"))
        .unwrap_or_else(|| panic!("no retry line: {}", done.stderr));
    assert!(retry.contains("(attempt 2 of 2)"), "{retry}");
    assert!(
        retry.contains("timed out: no answer within --max-time 0.5 s"),
        "{retry}"
    );
    assert!(!retry.contains("global"), "{retry}");
}

/// `-v` shows each request (headers and body redacted) and each response (status,
/// headers, body redacted), and nothing secret.
#[test]
fn verbose_shows_both_sides_without_secrets() {
    let server = server();
    let mut command = latchkey();
    command.args(["client-credentials", "--client-id", "post-app", "-v"]);
    command.args(["--client-secret", POST_SECRET, "--auth-method", "post"]);
    endpoints(&mut command, &server);
    let done = run(command);
    let tokens = done.success();
    let err = &done.stderr;
    assert!(err.contains("> POST http://127.0.0.1:"), "{err}");
    assert!(err.contains("client_secret=<redacted>"), "{err}");
    assert!(err.contains("grant_type=client_credentials"), "{err}");
    assert!(err.contains("< HTTP 200"), "{err}");
    assert!(
        err.to_ascii_lowercase()
            .contains("<  content-type: application/json"),
        "{err}"
    );
    assert!(err.contains(r#""access_token":"<redacted>""#), "{err}");
    assert!(err.contains(r#""token_type":"#), "{err}");
    // The core's tracing span and events, too.
    assert!(err.contains("latchkey.http: sending"), "{err}");
    assert!(err.contains("flow=\"ClientCredentials\""), "{err}");
    assert!(err.contains("path=\"/token\""), "{err}");
    assert!(err.contains("status=200"), "{err}");
    done.no_secrets(&[str_of(&tokens, "access_token")]);
}

/// An error body that is not JSON is shown once, quoted once: not escaped twice.
#[test]
fn an_error_body_is_quoted_once() {
    let server = server();
    server.inject(
        "/token",
        Fault::body(500, "text/plain", "he said \"no\"\nand left"),
        1,
    );
    let mut command = latchkey();
    command.args([
        "client-credentials",
        "--client-id",
        "basic-app",
        "--retries",
        "0",
    ]);
    command.args(["--client-secret", BASIC_SECRET]);
    endpoints(&mut command, &server);
    let done = run(command);
    let error = done.failure();
    // Between one pair of quotes, with the quote and the newline escaped once.
    assert!(
        error.contains(r#"body starts "he said \"no\"\nand left""#),
        "{error}"
    );
    assert!(!error.contains(r"\\"), "escaped twice: {error}");
}

/// A trailing-slash issuer gets a hint; `https://` to a plain-HTTP port says so.
#[test]
fn issuer_mistakes_get_a_hint() {
    let server = server();
    let mut command = latchkey();
    command.args(["discover", "--issuer", &format!("{}/", server.issuer())]);
    let done = run(command);
    let error = done.failure();
    assert!(
        error.contains("drop") || error.contains("try --issuer"),
        "{error}"
    );
    assert!(
        error.contains(&format!("--issuer {}", server.issuer())),
        "{error}"
    );

    let plain = server.issuer().replacen("http://", "https://", 1);
    let mut command = latchkey();
    command.args(["discover", "--issuer", &plain, "--retries", "0"]);
    let done = run(command);
    let error = done.failure();
    assert!(error.contains("plain-HTTP port"), "{error}");
    assert!(!error.contains("InvalidContentType"), "{error}");
}

/// `latchkey help --help` and `latchkey help SUBCOMMAND` work.
#[test]
fn help_of_help() {
    for args in [&["help", "--help"][..], &["help", "authorize"], &["help"]] {
        let mut command = latchkey();
        command.args(args);
        let done = run(command);
        assert_eq!(done.code, Some(0), "{args:?}: {}", done.stderr);
        assert!(done.stdout.contains("Usage"), "{args:?}: {}", done.stdout);
    }
    let mut command = latchkey();
    command.args(["help", "no-such"]);
    assert_eq!(run(command).code, Some(2));
}

/// On a terminal the browser wait shows a countdown, like the device flow (`script` gives
/// the command a terminal), and the limit that ended it is named.
#[cfg(target_os = "linux")]
#[test]
fn the_browser_wait_counts_down_on_a_terminal() {
    let server = server();
    let line = format!(
        "{} authorize --client-id public-app --auth-url {} --token-url {} --no-browser \
         --login-timeout 2.5",
        env!("CARGO_BIN_EXE_latchkey"),
        server.authorization_endpoint(),
        server.token_endpoint()
    );
    let mut command = Command::new("script");
    command.args(["-qec", &line, "/dev/null"]);
    let done = run(command);
    let all = format!("{}{}", done.stdout, done.stderr);
    assert!(
        all.contains("waiting for the redirect, 0:02 left"),
        "{all:?}"
    );
    assert!(all.contains("\u{1b}[2K"), "{all:?}");
    assert!(all.contains("(--login-timeout)"), "{all:?}");
}

/// Off a terminal the browser wait is plain lines: said once, never redrawn (no carriage
/// return, no escape sequence), and the limit that ended it named.
#[test]
fn the_browser_wait_off_a_terminal_is_plain_lines() {
    let server = server();
    let mut command = latchkey();
    command.args(["authorize", "--client-id", "public-app", "--no-browser"]);
    command.args(["--login-timeout", "1.5"]);
    endpoints(&mut command, &server);
    let done = run(command);
    let error = done.failure();
    assert!(error.contains("(--login-timeout)"), "{error}");
    assert!(!done.stderr.contains(['\r', '\u{1b}']), "{:?}", done.stderr);
    let waiting: Vec<&str> = done
        .stderr
        .lines()
        .filter(|l| l.starts_with("latchkey: waiting"))
        .collect();
    assert_eq!(waiting.len(), 1, "{}", done.stderr);
    assert!(
        waiting[0]
            .starts_with("latchkey: waiting up to 1.5 s for the redirect to http://127.0.0.1:"),
        "{}",
        waiting[0]
    );
    assert_eq!(done.stderr.lines().count(), 4, "{}", done.stderr);
}

/// Without `--no-browser` the URL goes to the browser the `BROWSER` variable names (here a
/// script that plays the browser's first step: it writes the URL down), and the login
/// completes through the loopback listener.
#[cfg(unix)]
#[test]
fn the_browser_named_in_browser_gets_the_url() {
    use std::os::unix::fs::PermissionsExt as _;
    let server = server();
    let dir = std::env::temp_dir().join(format!("latchkey-cli-browser-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let opened = dir.join("opened");
    let script = dir.join("browser.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\nprintf '%s' \"$1\" > '{}'\n", opened.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut command = latchkey();
    command.args(["authorize", "--client-id", "public-app"]);
    command.args(["--login-timeout", "30"]);
    command.env("BROWSER", &script);
    endpoints(&mut command, &server);
    let running = spawn(command);
    let printed = running.authorization_url();
    let deadline = Instant::now() + Duration::from_secs(20);
    let url = loop {
        match std::fs::read_to_string(&opened) {
            Ok(url) if !url.is_empty() => break url,
            _ if Instant::now() > deadline => panic!("the browser was not started"),
            _ => thread::sleep(Duration::from_millis(20)),
        }
    };
    assert_eq!(url, printed);
    let location = visit(&url);
    let (status, _, page) = get(&location);
    assert_eq!(status, 200, "{page}");
    let done = running.finish();
    let tokens = done.success();
    done.no_secrets(&[str_of(&tokens, "access_token")]);
    let _ = std::fs::remove_dir_all(&dir);
}

// --provider

/// `--provider blooma` sends Blooma's dialect (a JSON body with the secret and `audience`);
/// an endpoint flag moves only its endpoint (here onto the mock). Settings a preset needs are
/// usage errors, and --provider with --issuer is refused.
#[test]
fn provider_presets_fill_in_the_dialect_and_say_what_they_need() {
    let server = MockServer::builder()
        .client(
            MockClient::new("svc")
                .secret(JSON_SECRET)
                .auth_method(AuthMethod::Post)
                .encodings([Encoding::Json])
                .require_audience("https://acme.blooma.ai/api/"),
        )
        .record_requests(true)
        .start();
    let mut command = latchkey();
    command.args(["client-credentials", "--provider", "blooma"]);
    command.args(["--audience", "https://acme.blooma.ai/api/", "--token-url"]);
    command.arg(server.token_endpoint());
    command.args(["--client-id", "svc", "--client-secret", JSON_SECRET]);
    let tokens = run(command).success();
    assert!(!str_of(&tokens, "access_token").is_empty());
    let sent = &server.requests_to("/token")[0];
    assert_eq!(sent.header("content-type"), Some("application/json"));

    let mut command = latchkey();
    command.args(["client-credentials", "--provider", "microsoft"]);
    command.args(["--client-id", "x", "--client-secret", JSON_SECRET]);
    let done = run(command);
    assert_eq!(done.code, Some(2));
    assert!(
        done.stderr.contains("--provider microsoft: needs --tenant"),
        "{}",
        done.stderr
    );

    let mut command = latchkey();
    command.args([
        "client-credentials",
        "--provider",
        "microsoft",
        "--tenant",
        "a/b",
    ]);
    command.args(["--client-id", "x", "--client-secret", JSON_SECRET]);
    let done = run(command);
    assert_eq!(done.code, Some(2));
    assert!(done.stderr.contains("tenant"), "{}", done.stderr);

    let mut command = latchkey();
    command.args(["client-credentials", "--provider", "github", "--issuer"]);
    command.arg(server.issuer());
    command.args(["--client-id", "x", "--client-secret", JSON_SECRET]);
    assert_eq!(run(command).code, Some(2));
}
