//! What the end-to-end tests of discovery, PAR, device, revocation and token exchange
//! share: a `latchkey-mock` server with the clients they use, the `latchkey` command with a clean
//! environment, running it (to the end, or line by line on stderr), and playing the browser.
//!
//! Each test binary uses a part of it.
#![allow(dead_code)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use latchkey_mock::{GrantType, MockClient, MockServer, MockServerBuilder};
use serde_json::Value;

/// The client secret of `app`; never on stderr.
pub(crate) const SECRET: &str = "cli-protocol-secret-3f9a20";
/// The redirect URI of `app` (nothing listens there: the callback goes through stdin).
pub(crate) const REDIRECT: &str = "https://app.example/callback";
/// A resource indicator (RFC 8707).
pub(crate) const API: &str = "https://api.example/";

/// A mock server with `app` (confidential: code, client credentials, refresh, token
/// exchange) and `tv` (public, device), polled at 1 s.
pub(crate) fn builder() -> MockServerBuilder {
    MockServer::builder()
        .client(MockClient::new("app").secret(SECRET).grant_types([
            GrantType::AuthorizationCode,
            GrantType::ClientCredentials,
            GrantType::RefreshToken,
            GrantType::TokenExchange,
        ]))
        .client(MockClient::new("tv"))
        .device_interval(1)
}

/// The built command with a clean environment (no inherited secrets, no proxies).
pub(crate) fn latchkey() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_latchkey"));
    for var in [
        "LATCHKEY_CLIENT_SECRET",
        "LATCHKEY_REFRESH_TOKEN",
        "LATCHKEY_ACCESS_TOKEN",
        "LATCHKEY_CODE_VERIFIER",
        "LATCHKEY_TOKEN",
        "LATCHKEY_SUBJECT_TOKEN",
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

/// `latchkey <args> --client-id app --client-secret SECRET --issuer <server>`.
pub(crate) fn with_app(server: &MockServer, args: &[&str]) -> Command {
    let mut command = latchkey();
    command.args(args);
    command.args(["--client-id", "app", "--client-secret", SECRET]);
    command.args(["--issuer", &server.issuer()]);
    command
}

/// A finished run of the command.
#[derive(Debug)]
pub(crate) struct Run {
    /// The exit status (`None` when killed by a signal).
    pub(crate) code: Option<i32>,
    /// Everything printed to stdout.
    pub(crate) stdout: String,
    /// Everything printed to stderr.
    pub(crate) stderr: String,
}

impl Run {
    /// Success: exit status 0 and one JSON object on stdout, which is returned.
    #[track_caller]
    pub(crate) fn success(&self) -> Value {
        assert_eq!(self.code, Some(0), "stderr: {}", self.stderr);
        assert_eq!(self.stdout.lines().count(), 1, "{:?}", self.stdout);
        serde_json::from_str(&self.stdout).expect("stdout is JSON")
    }

    /// A failure with exit status `code`: nothing on stdout; the error line.
    #[track_caller]
    pub(crate) fn failure(&self, code: i32) -> &str {
        assert_eq!(
            self.code,
            Some(code),
            "stdout: {} stderr: {}",
            self.stdout,
            self.stderr
        );
        assert!(self.stdout.is_empty(), "{:?}", self.stdout);
        self.stderr.lines().last().unwrap_or("")
    }

    /// Asserts that neither the client secret nor any of `secrets` is on stderr.
    #[track_caller]
    pub(crate) fn no_secrets(&self, secrets: &[&str]) {
        for secret in [SECRET].iter().chain(secrets) {
            assert!(
                secret.len() < 3 || !self.stderr.contains(secret),
                "{secret:?} on stderr: {}",
                self.stderr
            );
        }
    }
}

/// Runs the command to the end.
pub(crate) fn run(mut command: Command) -> Run {
    let output = command.output().expect("run latchkey");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8(output.stdout).expect("UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8"),
    }
}

/// A running command whose stderr lines arrive on a channel.
pub(crate) struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    stderr: thread::JoinHandle<String>,
}

/// Starts the command with stdout and stderr piped.
pub(crate) fn spawn(mut command: Command) -> Running {
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
    Running {
        child,
        lines,
        stderr,
    }
}

impl Running {
    /// The first stderr line that `pick` accepts, as `pick` maps it.
    pub(crate) fn line<T>(&self, pick: impl Fn(&str) -> Option<T>) -> T {
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(30))
                .expect("no such line on stderr");
            if let Some(found) = pick(&line) {
                return found;
            }
        }
    }

    /// Writes `text` to the command's stdin (piped), then closes it.
    pub(crate) fn write_stdin(&mut self, text: &str) {
        let mut stdin = self.child.stdin.take().expect("stdin piped");
        stdin.write_all(text.as_bytes()).expect("write stdin");
    }

    /// Waits for the command to end.
    pub(crate) fn finish(mut self) -> Run {
        let mut stdout = String::new();
        self.child
            .stdout
            .take()
            .expect("stdout")
            .read_to_string(&mut stdout)
            .expect("UTF-8 stdout");
        let status = self.child.wait().expect("wait");
        Run {
            code: status.code(),
            stdout,
            stderr: self.stderr.join().expect("stderr thread"),
        }
    }
}

/// Plays the browser: GET without following redirects, returns the `Location`.
pub(crate) fn visit(url: &str) -> String {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .proxy(None)
        .build()
        .into();
    let response = agent.get(url).call().expect("GET");
    assert_eq!(response.status(), 302, "{url}");
    response.headers()["location"]
        .to_str()
        .expect("ASCII")
        .to_owned()
}

/// One query parameter of a URL.
pub(crate) fn param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The string at `key` of a JSON object.
pub(crate) fn str_of<'a>(json: &'a Value, key: &str) -> &'a str {
    json[key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key} in {json}"))
}

/// A client-credentials token for `app`, through the command.
pub(crate) fn app_token(server: &MockServer, extra: &[&str]) -> String {
    let mut command = with_app(server, &["client-credentials", "--scope", "read"]);
    command.args(extra);
    let done = run(command);
    let tokens = done.success();
    done.no_secrets(&[str_of(&tokens, "access_token")]);
    str_of(&tokens, "access_token").to_owned()
}
