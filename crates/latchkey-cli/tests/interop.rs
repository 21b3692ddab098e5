//! The `latchkey` binary against a real third-party authorization server, panva's
//! oidc-provider on loopback (started by `latchkey-interop`): `authorize` through the loopback
//! listener and with the callback on stdin, `refresh`, `userinfo` and `client-credentials`.
//! Every run must print exactly one JSON object on stdout (or nothing, on failure) and no
//! secret on stderr.
//!
//! Without Node.js or `interop/node_modules` every test passes trivially after one "skipped"
//! line on stderr, unless `LATCHKEY_INTEROP=required` (see the `latchkey_interop` docs).

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use latchkey_interop::clients::{
    CC_CLIENT, CC_CLIENT_SECRET, CONF_BASIC, CONF_BASIC_SECRET, CONF_POST, CONF_POST_SECRET,
    PUBLIC_PKCE,
};
use latchkey_interop::{Login, Provider, login, query_param};
use serde_json::{Map, Value};

#[path = "interop/mtls.rs"]
mod mtls;

/// How long one `latchkey` run may take.
const RUN_LIMIT: Duration = Duration::from_secs(60);

/// Every client secret: none may ever reach stderr.
const CLIENT_SECRETS: [&str; 3] = [CONF_BASIC_SECRET, CONF_POST_SECRET, CC_CLIENT_SECRET];

/// A `latchkey` command for `subcommand`, with an environment that can neither leak a
/// credential in nor send a request through a proxy.
fn latchkey(subcommand: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_latchkey"));
    command.arg(subcommand);
    for var in [
        "LATCHKEY_CLIENT_SECRET",
        "LATCHKEY_REFRESH_TOKEN",
        "LATCHKEY_ACCESS_TOKEN",
        "LATCHKEY_CODE_VERIFIER",
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        command.env_remove(var);
    }
    command
}

/// `authorize` with the server's endpoints, `--no-browser`, and a time limit.
fn authorize(p: &Provider, client_id: &str, scope: &str) -> Command {
    let mut command = latchkey("authorize");
    command.args([
        "--auth-url",
        p.authorization_endpoint(),
        "--token-url",
        p.token_endpoint(),
        "--client-id",
        client_id,
        "--scope",
        scope,
        "--no-browser",
        "--login-timeout",
        "30",
    ]);
    command
}

/// A finished run.
struct Done {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Done {
    /// Asserts success and one JSON object on one line of stdout; returns it.
    fn json(&self) -> Map<String, Value> {
        assert_eq!(
            self.code,
            Some(0),
            "stdout: {}\nstderr: {}",
            self.stdout,
            self.stderr
        );
        assert!(
            self.stdout.ends_with('\n') && self.stdout.matches('\n').count() == 1,
            "stdout is not one line: {:?}",
            self.stdout
        );
        match serde_json::from_str(&self.stdout) {
            Ok(Value::Object(object)) => object,
            other => panic!("stdout is not one JSON object ({other:?}): {}", self.stdout),
        }
    }

    /// Asserts success and a token set on stdout: a bearer token for 3600 s.
    fn token_set(&self) -> Map<String, Value> {
        let json = self.json();
        assert!(str_of(&json, "access_token").len() >= 32, "{}", self.stdout);
        assert_eq!(json["token_type"], "Bearer");
        assert_eq!(json["expires_in"], 3600);
        assert!(json["expires_at"].is_u64(), "{}", self.stdout);
        json
    }

    /// Asserts failure (exit status 1, nothing on stdout); returns the last stderr line.
    fn failure(&self) -> &str {
        assert_eq!(self.code, Some(1), "stderr: {}", self.stderr);
        assert_eq!(self.stdout, "", "stdout on failure");
        let last = self.stderr.lines().last().unwrap_or_default();
        assert!(last.starts_with("latchkey: error: "), "{}", self.stderr);
        last
    }

    /// Asserts that stderr carries no client secret and none of `secrets`.
    fn no_secrets(&self, secrets: &[&str]) -> &Self {
        for secret in CLIENT_SECRETS.iter().chain(secrets) {
            assert!(
                secret.is_empty() || !self.stderr.contains(secret),
                "secret {secret:?} on stderr:\n{}",
                self.stderr
            );
        }
        self
    }
}

/// The string member `key`, or a panic.
fn str_of<'a>(json: &'a Map<String, Value>, key: &str) -> &'a str {
    json.get(key)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string {key} in {json:?}"))
}

/// The credentials of a token set printed by `latchkey`.
fn credentials(json: &Map<String, Value>) -> Vec<String> {
    ["access_token", "refresh_token", "id_token"]
        .iter()
        .filter_map(|key| json.get(*key).and_then(Value::as_str))
        .map(str::to_owned)
        .collect()
}

/// A running `latchkey` whose stderr is read line by line as it arrives.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    stderr: thread::JoinHandle<String>,
    stdout: thread::JoinHandle<String>,
}

fn spawn(mut command: Command) -> Running {
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
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
    /// The authorization URL: the stderr line that starts with the authorization endpoint.
    fn authorization_url(&self, p: &Provider) -> String {
        let prefix = format!("{}?", p.authorization_endpoint());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .expect("no authorization URL on stderr");
            if line.starts_with(&prefix) {
                assert!(!line.contains(' '), "not a line of its own: {line:?}");
                return line;
            }
        }
    }

    /// Writes one line to stdin and closes it.
    fn write_line(&mut self, line: &str) {
        let mut stdin = self.child.stdin.take().expect("stdin piped");
        writeln!(stdin, "{line}").expect("write stdin");
    }

    /// Waits for the exit (at most [`RUN_LIMIT`]; then kills it and fails).
    fn finish(mut self) -> Done {
        drop(self.child.stdin.take());
        let deadline = Instant::now() + RUN_LIMIT;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "latchkey did not finish within {RUN_LIMIT:?}; stderr:\n{}",
                    self.stderr.join().unwrap_or_default()
                );
            }
            thread::sleep(Duration::from_millis(20));
        };
        Done {
            code: status.code(),
            stdout: self.stdout.join().expect("stdout thread"),
            stderr: self.stderr.join().expect("stderr thread"),
        }
    }
}

/// Runs a command to the end with nothing on stdin.
fn run(command: Command) -> Done {
    spawn(command).finish()
}

/// `authorize --callback -`: reads the URL, logs in with `login`, pastes the callback.
/// Returns the run and the callback.
fn authorize_on_stdin(p: &Provider, command: Command, login: &Login<'_>) -> (Done, String) {
    let mut running = spawn(command);
    let url = running.authorization_url(p);
    assert_eq!(
        query_param(&url, "redirect_uri").as_deref(),
        Some("http://127.0.0.1/callback"),
        "{url}"
    );
    let callback = login.run(&url);
    assert!(
        callback.starts_with("http://127.0.0.1/callback?"),
        "{callback}"
    );
    assert_eq!(query_param(&callback, "iss").as_deref(), Some(p.issuer()));
    running.write_line(&callback);
    (running.finish(), callback)
}

/// `refresh` with a refresh token for a client.
fn refresh(p: &Provider, client_id: &str, refresh_token: &str) -> Command {
    let mut command = latchkey("refresh");
    command.args([
        "--token-url",
        p.token_endpoint(),
        "--client-id",
        client_id,
        "--refresh-token",
        refresh_token,
    ]);
    command
}

/// `userinfo` with an access token.
fn userinfo(p: &Provider, access_token: &str) -> Done {
    let mut command = latchkey("userinfo");
    command.args([
        "--userinfo-url",
        p.userinfo_endpoint(),
        "--access-token",
        access_token,
    ]);
    run(command)
}

/// A plain GET to the CLI's listener, as the browser would make after the redirect.
fn browser_get(url: &str) -> u16 {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .proxy(None)
        .max_redirects(0)
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    agent
        .get(url)
        .call()
        .expect("GET the callback")
        .status()
        .as_u16()
}

latchkey_interop::interop_test! {
/// Public client, code + PKCE through the loopback listener on a free port; then `refresh`
/// (the token rotates), `userinfo` with the new access token, and the old refresh token
/// refused as `invalid_grant`.
fn authorize_public_pkce_through_the_listener_then_refresh_and_userinfo() {
    let p = Provider::expect_shared();
    let running = spawn(authorize(
        p,
        PUBLIC_PKCE,
        "openid offline_access email profile",
    ));
    let url = running.authorization_url(p);
    let redirect = query_param(&url, "redirect_uri").expect("a redirect_uri");
    assert!(
        redirect.starts_with("http://127.0.0.1:") && redirect.ends_with("/callback"),
        "{redirect}"
    );
    assert_eq!(
        query_param(&url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    let callback = login(&url);
    assert!(callback.starts_with(&format!("{redirect}?")), "{callback}");
    let code = query_param(&callback, "code").expect("a code");
    assert_eq!(browser_get(&callback), 200);
    let done = running.finish();
    let first = done.token_set();
    let mut secrets = credentials(&first);
    secrets.push(code);
    let scopes: Vec<&str> = str_of(&first, "scope").split(' ').collect();
    for scope in ["openid", "offline_access", "email", "profile"] {
        assert!(scopes.contains(&scope), "{scopes:?}");
    }
    assert_eq!(str_of(&first, "id_token").split('.').count(), 3);
    let old_refresh = str_of(&first, "refresh_token");
    done.no_secrets(&secrets.iter().map(String::as_str).collect::<Vec<_>>());

    let done = run(refresh(p, PUBLIC_PKCE, old_refresh));
    let second = done.token_set();
    let new_refresh = str_of(&second, "refresh_token");
    assert_ne!(new_refresh, old_refresh, "the refresh token did not rotate");
    secrets.extend(credentials(&second));
    done.no_secrets(&secrets.iter().map(String::as_str).collect::<Vec<_>>());

    let done = userinfo(p, str_of(&second, "access_token"));
    let claims = done.json();
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["email"], "alice@example.com");
    assert_eq!(claims["name"], "Alice");
    done.no_secrets(&secrets.iter().map(String::as_str).collect::<Vec<_>>());

    let done = run(refresh(p, PUBLIC_PKCE, old_refresh));
    let error = done.failure();
    assert!(error.contains("invalid_grant"), "{error}");
    done.no_secrets(&secrets.iter().map(String::as_str).collect::<Vec<_>>());
}
}

latchkey_interop::interop_test! {
/// `conf-basic` with the callback pasted on stdin and the secret from
/// `LATCHKEY_CLIENT_SECRET`; then `refresh` (no rotation: the same refresh token comes back)
/// and `userinfo`.
fn authorize_conf_basic_with_the_callback_on_stdin() {
    let p = Provider::expect_shared();
    let mut command = authorize(p, CONF_BASIC, "openid offline_access email");
    command
        .args(["--callback", "-", "--auth-method", "basic"])
        .env("LATCHKEY_CLIENT_SECRET", CONF_BASIC_SECRET);
    let (done, callback) = authorize_on_stdin(p, command, &Login::new().user("carol"));
    let first = done.token_set();
    let mut secrets = credentials(&first);
    secrets.push(query_param(&callback, "code").expect("a code"));
    done.no_secrets(&secrets.iter().map(String::as_str).collect::<Vec<_>>());

    let refresh_token = str_of(&first, "refresh_token");
    let mut command = refresh(p, CONF_BASIC, refresh_token);
    command.args([
        "--client-secret",
        CONF_BASIC_SECRET,
        "--auth-method",
        "basic",
    ]);
    let done = run(command);
    let second = done.token_set();
    assert_eq!(str_of(&second, "refresh_token"), refresh_token);
    assert_ne!(
        str_of(&second, "access_token"),
        str_of(&first, "access_token")
    );
    secrets.extend(credentials(&second));
    done.no_secrets(&secrets.iter().map(String::as_str).collect::<Vec<_>>());

    let done = userinfo(p, str_of(&second, "access_token"));
    let claims = done.json();
    assert_eq!(claims["sub"], "carol");
    assert_eq!(claims["email"], "carol@example.com");
    done.no_secrets(&secrets.iter().map(String::as_str).collect::<Vec<_>>());
}
}

latchkey_interop::interop_test! {
/// `conf-post` with the callback pasted on stdin, the secret as a flag and a given PKCE
/// verifier (from `LATCHKEY_CODE_VERIFIER`, so the test can check it never reaches stderr);
/// then `refresh` with the body secret.
fn authorize_conf_post_with_the_callback_on_stdin() {
    let p = Provider::expect_shared();
    let verifier = "interop-verifier-0123456789-abcdefghijklmnopqrstuvwxyz";
    let mut command = authorize(p, CONF_POST, "openid email");
    command
        .args([
            "--callback",
            "-",
            "--auth-method",
            "post",
            "--client-secret",
            CONF_POST_SECRET,
        ])
        .env("LATCHKEY_CODE_VERIFIER", verifier);
    let (done, callback) = authorize_on_stdin(p, command, &Login::new());
    let first = done.token_set();
    let mut secrets = credentials(&first);
    secrets.push(query_param(&callback, "code").expect("a code"));
    secrets.push(verifier.to_owned());
    done.no_secrets(&secrets.iter().map(String::as_str).collect::<Vec<_>>());

    let mut command = refresh(p, CONF_POST, str_of(&first, "refresh_token"));
    command.args(["--client-secret", CONF_POST_SECRET, "--auth-method", "post"]);
    let done = run(command);
    let second = done.token_set();
    secrets.extend(credentials(&second));
    done.no_secrets(&secrets.iter().map(String::as_str).collect::<Vec<_>>());
}
}

latchkey_interop::interop_test! {
/// `conf-basic` sending its secret in the body: the strict server answers `invalid_client`,
/// which is the one error line; nothing on stdout, no secret on stderr.
fn authorize_with_the_wrong_auth_method_is_invalid_client() {
    let p = Provider::expect_shared();
    let mut command = authorize(p, CONF_BASIC, "openid");
    command.args([
        "--callback",
        "-",
        "--auth-method",
        "post",
        "--client-secret",
        CONF_BASIC_SECRET,
    ]);
    let (done, callback) = authorize_on_stdin(p, command, &Login::new());
    let error = done.failure();
    assert!(error.contains("invalid_client"), "{error}");
    assert!(error.contains("HTTP 401"), "{error}");
    // It names the method used and the flag that changes it.
    assert!(error.contains("client_secret_post"), "{error}");
    assert!(error.contains("--auth-method basic"), "{error}");
    done.no_secrets(&[&query_param(&callback, "code").expect("a code")]);
}
}

latchkey_interop::interop_test! {
/// Cancelling at the login page: `access_denied` from the redirect, exit status 1.
fn authorize_denied_is_access_denied() {
    let p = Provider::expect_shared();
    let mut command = authorize(p, PUBLIC_PKCE, "openid");
    command.args(["--callback", "-"]);
    let (done, _) = authorize_on_stdin(p, command, &Login::new().deny());
    let error = done.failure();
    assert!(error.contains("access_denied"), "{error}");
    done.no_secrets(&[]);
}
}

latchkey_interop::interop_test! {
/// `client-credentials` for `cc-client` with `--verbose`: a token for `api:read`, no refresh
/// token, and the request shown on stderr without the secret or the token.
fn client_credentials_for_cc_client() {
    let p = Provider::expect_shared();
    let mut command = latchkey("client-credentials");
    command.args([
        "--token-url",
        p.token_endpoint(),
        "--client-id",
        CC_CLIENT,
        "--client-secret",
        CC_CLIENT_SECRET,
        "--scope",
        "api:read",
        "--verbose",
    ]);
    let done = run(command);
    let json = done.token_set();
    assert_eq!(json["scope"], "api:read");
    assert!(!json.contains_key("refresh_token"), "{json:?}");
    assert!(done.stderr.contains("> POST "), "{}", done.stderr);
    assert!(done.stderr.contains("< HTTP 200"), "{}", done.stderr);
    done.no_secrets(
        &credentials(&json)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );

    // And the body secret for a Basic client is refused.
    let mut command = latchkey("client-credentials");
    command.args([
        "--token-url",
        p.token_endpoint(),
        "--client-id",
        CC_CLIENT,
        "--auth-method",
        "post",
        "--scope",
        "api:read",
    ]);
    command.env("LATCHKEY_CLIENT_SECRET", CC_CLIENT_SECRET);
    let done = run(command);
    assert!(done.failure().contains("invalid_client"), "{}", done.stderr);
    done.no_secrets(&[]);
}
}

latchkey_interop::interop_test! {
/// The revoked-grant cache: log in with `--cache`, revoke the refresh token at the server,
/// then renew (`refresh --cache --force-refresh`): oidc-provider answers invalid_grant, the
/// command fails, and the entry is gone from the file, so the access token issued with the
/// revoked grant is never served from the cache again.
fn a_revoked_grant_is_removed_from_the_cache() {
    let p = Provider::expect_shared();
    let dir = std::env::temp_dir().join(format!("latchkey-interop-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("tokens.json");
    let file_arg = file.to_str().expect("UTF-8 path");
    let scope = "openid offline_access";
    let mut command = authorize(p, CONF_BASIC, scope);
    command
        .args(["--callback", "-", "--cache", file_arg])
        .env("LATCHKEY_CLIENT_SECRET", CONF_BASIC_SECRET);
    let (done, _) = authorize_on_stdin(p, command, &Login::new());
    let first = done.token_set();
    let refresh_token = str_of(&first, "refresh_token").to_owned();
    let entries = |file: &std::path::Path| -> usize {
        let text = std::fs::read_to_string(file).expect("cache file");
        let json: Value = serde_json::from_str(&text).expect("JSON");
        json["entries"].as_array().expect("entries").len()
    };
    assert_eq!(entries(&file), 1);

    let mut command = latchkey("revoke");
    command.args(["--issuer", p.issuer(), "--client-id", CONF_BASIC]);
    command.args(["--token", &refresh_token, "--token-type-hint", "refresh_token"]);
    command.env("LATCHKEY_CLIENT_SECRET", CONF_BASIC_SECRET);
    run(command).json();

    let mut command = latchkey("refresh");
    command.args(["--token-url", p.token_endpoint(), "--client-id", CONF_BASIC]);
    command.args(["--scope", scope, "--cache", file_arg, "--force-refresh"]);
    command.env("LATCHKEY_CLIENT_SECRET", CONF_BASIC_SECRET);
    let done = run(command);
    let error = done.failure().to_owned();
    assert!(done.stderr.contains("invalid_grant"), "{}", done.stderr);
    assert!(done.stderr.contains("removed the entry"), "{}", done.stderr);
    assert!(error.contains("pass --refresh-token"), "{error}");
    done.no_secrets(&[&refresh_token, str_of(&first, "access_token")]);
    assert_eq!(entries(&file), 0);
    let _ = std::fs::remove_dir_all(&dir);
}
}
