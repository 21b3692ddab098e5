//! The subcommands and flags past RFC 6749, end to end against `latchkey-mock`: `discover`
//! and `--issuer` (RFC 8414, OpenID), `device` (RFC 8628), `revoke` (RFC 7009), `introspect`
//! (RFC 7662), `token-exchange` (RFC 8693), `--resource` (RFC 8707), PAR (RFC 9126) and the
//! `iss` check (RFC 9207). Every run also checks that stderr carries no secret.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use latchkey_mock::{Fault, GrantType, MockClient, MockServer, MockServerBuilder};
use serde_json::Value;

const SECRET: &str = "cli-protocol-secret-3f9a20";
const REDIRECT: &str = "https://app.example/callback";
const API: &str = "https://api.example/";

fn builder() -> MockServerBuilder {
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
fn latchkey() -> Command {
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
fn with_app(server: &MockServer, args: &[&str]) -> Command {
    let mut command = latchkey();
    command.args(args);
    command.args(["--client-id", "app", "--client-secret", SECRET]);
    command.args(["--issuer", &server.issuer()]);
    command
}

#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    #[track_caller]
    fn success(&self) -> Value {
        assert_eq!(self.code, Some(0), "stderr: {}", self.stderr);
        assert_eq!(self.stdout.lines().count(), 1, "{:?}", self.stdout);
        serde_json::from_str(&self.stdout).expect("stdout is JSON")
    }

    /// A failure with exit status `code`: nothing on stdout; the error line.
    #[track_caller]
    fn failure(&self, code: i32) -> &str {
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
    fn no_secrets(&self, secrets: &[&str]) {
        for secret in [SECRET].iter().chain(secrets) {
            assert!(
                secret.len() < 3 || !self.stderr.contains(secret),
                "{secret:?} on stderr: {}",
                self.stderr
            );
        }
    }
}

fn run(mut command: Command) -> Run {
    let output = command.output().expect("run latchkey");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8(output.stdout).expect("UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8"),
    }
}

/// A running command whose stderr lines arrive on a channel.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    stderr: thread::JoinHandle<String>,
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
    Running {
        child,
        lines,
        stderr,
    }
}

impl Running {
    /// The first stderr line that `pick` accepts, as `pick` maps it.
    fn line<T>(&self, pick: impl Fn(&str) -> Option<T>) -> T {
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

    fn write_stdin(&mut self, text: &str) {
        let mut stdin = self.child.stdin.take().expect("stdin piped");
        stdin.write_all(text.as_bytes()).expect("write stdin");
    }

    fn finish(mut self) -> Run {
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
fn visit(url: &str) -> String {
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
fn param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn str_of<'a>(json: &'a Value, key: &str) -> &'a str {
    json[key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key} in {json}"))
}

/// A client-credentials token for `app`, through the command.
fn app_token(server: &MockServer, extra: &[&str]) -> String {
    let mut command = with_app(server, &["client-credentials", "--scope", "read"]);
    command.args(extra);
    let done = run(command);
    let tokens = done.success();
    done.no_secrets(&[str_of(&tokens, "access_token")]);
    str_of(&tokens, "access_token").to_owned()
}

#[test]
fn discover_prints_the_metadata_from_either_well_known_path() {
    let server = builder().start();
    for well_known in [None, Some("oauth"), Some("openid")] {
        let mut command = latchkey();
        command.args(["discover", "--issuer", &server.issuer()]);
        if let Some(kind) = well_known {
            command.args(["--well-known", kind]);
        }
        let done = run(command);
        let metadata = done.success();
        assert_eq!(metadata["issuer"], server.issuer());
        assert_eq!(
            metadata["device_authorization_endpoint"],
            server.device_authorization_endpoint()
        );
        assert_eq!(
            metadata["authorization_response_iss_parameter_supported"],
            true
        );
        let fetched = if well_known == Some("openid") {
            "openid-configuration"
        } else {
            "oauth-authorization-server"
        };
        assert!(done.stderr.contains(fetched), "{}", done.stderr);
    }
    // RFC 8414's document not served: OpenID Connect Discovery instead.
    server.inject(
        "/.well-known/oauth-authorization-server",
        Fault::status(404),
        1,
    );
    let mut command = latchkey();
    command.args(["discover", "--issuer", &server.issuer()]);
    let done = run(command);
    assert_eq!(done.success()["issuer"], server.issuer());
    assert!(
        done.stderr.contains("trying OpenID Connect"),
        "{}",
        done.stderr
    );
    // An issuer with a path (RFC 8414 §3.1 path insertion).
    let tenant = MockServer::builder().issuer_path("/tenant/7").start();
    let mut command = latchkey();
    command.args(["discover", "--issuer", &tenant.issuer()]);
    assert_eq!(run(command).success()["issuer"], tenant.issuer());
    assert_eq!(
        tenant.request_count("/.well-known/oauth-authorization-server/tenant/7"),
        1
    );
    // The issuer must match exactly (RFC 8414 §3.3).
    let mut command = latchkey();
    command.args(["discover", "--issuer", &format!("{}/", server.issuer())]);
    let done = run(command);
    assert!(done.failure(1).contains("issuer"), "{}", done.stderr);
    // Usage errors.
    for args in [
        &["discover"][..],
        &["discover", "--well-known", "oauth"],
        &["discover", "--issuer", "http://as.example.invalid"],
    ] {
        let mut command = latchkey();
        command.args(args);
        run(command).failure(2);
    }
}

#[test]
fn issuer_replaces_the_endpoint_flags() {
    let server = builder().start();
    let access = app_token(&server, &[]);
    assert_eq!(server.request_count("/token"), 1);
    let mut command = latchkey();
    command.args(["userinfo", "--issuer", &server.issuer()]);
    command.args(["--access-token", &access]);
    let done = run(command);
    assert_eq!(done.success()["sub"], "mock-user-1");
    done.no_secrets(&[&access]);
    // An endpoint flag wins over the metadata.
    let mut command = with_app(&server, &["client-credentials"]);
    command.args(["--token-url", &format!("{}/nowhere", server.url())]);
    run(command).failure(1);
    // Without --issuer or the flag: a usage error naming both.
    let mut command = latchkey();
    command.args(["client-credentials", "--client-id", "app"]);
    command.args(["--client-secret", SECRET]);
    let done = run(command);
    assert!(done.failure(2).contains("--token-url or --issuer"));
}

#[test]
fn authorize_with_issuer_pushes_when_required_and_checks_iss() {
    let server = builder()
        .require_pushed_authorization_requests(true)
        .start();
    let authorize = |tamper: &dyn Fn(String) -> String| {
        let mut command = with_app(&server, &["authorize", "--no-browser"]);
        command.args(["--callback", "-", "--redirect-uri", REDIRECT]);
        command.args(["--scope", "openid", "--resource", API]);
        command.stdin(Stdio::piped());
        let mut running = spawn(command);
        let url = running.line(|l| l.starts_with("http").then(|| l.to_owned()));
        assert!(param(&url, "request_uri").is_some(), "{url}");
        assert!(param(&url, "code_challenge").is_none(), "{url}");
        let location = visit(&url);
        assert_eq!(param(&location, "iss"), Some(server.issuer()));
        running.write_stdin(&format!("{}\n", tamper(location.clone())));
        (running.finish(), location)
    };
    let (done, location) = authorize(&|l| l);
    let tokens = done.success();
    assert_eq!(tokens["scope"], "openid");
    done.no_secrets(&[
        &param(&location, "code").unwrap(),
        str_of(&tokens, "access_token"),
    ]);
    assert!(done.stderr.contains("pushing the authorization request"));
    // The resource went on both legs.
    let pushed = &server.requests_to("/par")[0];
    assert_eq!(pushed.param("resource"), Some(API));
    assert_eq!(server.requests_to("/token")[0].param("resource"), Some(API));

    // A forged iss (mix-up attack) and a missing one are refused.
    let issuer = form_urlencoded::byte_serialize(server.issuer().as_bytes()).collect::<String>();
    let (done, _) = authorize(&|l| l.replace(&issuer, "https%3A%2F%2Fevil.example"));
    assert!(done.failure(1).contains("iss"), "{}", done.stderr);
    let (done, _) = authorize(&|l| l.replace(&format!("&iss={issuer}"), ""));
    assert!(done.failure(1).contains("iss"), "{}", done.stderr);
    assert_eq!(server.request_count("/token"), 1);
}

#[test]
fn authorize_par_on_request() {
    let server = builder().start();
    let mut command = with_app(&server, &["authorize", "--no-browser", "--par"]);
    command.args(["--callback", "-", "--redirect-uri", REDIRECT]);
    command.stdin(Stdio::piped());
    let mut running = spawn(command);
    let url = running.line(|l| l.starts_with("http").then(|| l.to_owned()));
    assert!(param(&url, "request_uri").is_some(), "{url}");
    running.write_stdin(&format!("{}\n", visit(&url)));
    running.finish().success();
    // Without --par (and not required), no PAR.
    let mut command = with_app(&server, &["authorize", "--no-browser"]);
    command.args(["--callback", "-", "--redirect-uri", REDIRECT]);
    command.stdin(Stdio::piped());
    let mut running = spawn(command);
    let url = running.line(|l| l.starts_with("http").then(|| l.to_owned()));
    assert!(param(&url, "code_challenge").is_some(), "{url}");
    running.write_stdin(&format!("{}\n", visit(&url)));
    running.finish().success();
    assert_eq!(server.request_count("/par"), 1);
}

/// Starts `latchkey device` for `tv` and returns it with the user code it printed.
fn start_device(server: &MockServer) -> (Running, String) {
    let mut command = latchkey();
    command.args(["device", "--client-id", "tv", "--issuer", &server.issuer()]);
    command.args(["--scope", "read", "--resource", API]);
    let running = spawn(command);
    let verification = running.line(|l| {
        l.strip_prefix("latchkey: on a device with a browser, open ")
            .map(str::to_owned)
    });
    assert_eq!(verification, server.endpoint("/device"));
    let user_code = running.line(|l| {
        l.strip_prefix("latchkey: and enter the code ")
            .map(str::to_owned)
    });
    let complete = running.line(|l| l.strip_prefix("latchkey: (or open ").map(str::to_owned));
    assert!(
        complete.contains(&format!("user_code={user_code}")),
        "{complete}"
    );
    (running, user_code)
}

#[test]
fn device_prints_the_code_and_polls_until_approved() {
    let server = builder().start();
    let (running, user_code) = start_device(&server);
    running.line(|l| l.contains("waiting up to 600 s").then_some(()));
    assert!(server.approve_device(&user_code));
    let done = running.finish();
    let tokens = done.success();
    assert_eq!(tokens["scope"], "read");
    done.no_secrets(&[str_of(&tokens, "access_token")]);
    let device_code = server.requests_to("/token")[0]
        .param("device_code")
        .unwrap()
        .to_owned();
    done.no_secrets(&[&device_code]);
    assert_eq!(
        server.requests_to("/device_authorization")[0].param("resource"),
        Some(API)
    );
}

#[test]
fn device_denied_slowed_down_or_expired() {
    let server = builder().device_code_expires_in(3).start();
    let (running, user_code) = start_device(&server);
    assert!(server.deny_device(&user_code));
    let done = running.finish();
    assert!(done.failure(1).contains("access_denied"), "{}", done.stderr);

    // slow_down: the interval grows by 5 s, and the command says so.
    server.inject(
        "/token",
        Fault::body(400, "application/json", r#"{"error":"slow_down"}"#),
        1,
    );
    let (running, _) = start_device(&server);
    let done = running.finish();
    assert!(
        done.stderr.contains("slow down; polling every 6 s"),
        "{}",
        done.stderr
    );
    // Nobody approved within the 3 s: expired, without waiting for the server to say so.
    assert!(done.failure(1).contains("expired"), "{}", done.stderr);
}

#[test]
fn revoke_then_introspect() {
    let server = builder().start();
    let access = app_token(&server, &["--resource", API]);
    let introspect = |hint: Option<&str>| {
        let mut command = with_app(&server, &["introspect", "--token", &access]);
        if let Some(hint) = hint {
            command.args(["--token-type-hint", hint]);
        }
        let done = run(command);
        let answer = done.success();
        done.no_secrets(&[&access]);
        answer
    };
    let live = introspect(Some("access_token"));
    assert_eq!(live["active"], true);
    assert_eq!(live["scope"], "read");
    assert_eq!(live["aud"], serde_json::json!([API]));
    assert_eq!(live["client_id"], "app");

    let mut command = with_app(&server, &["revoke", "--token-type-hint", "access_token"]);
    command.env("LATCHKEY_TOKEN", &access);
    let done = run(command);
    assert_eq!(done.success(), serde_json::json!({ "revoked": true }));
    done.no_secrets(&[&access]);
    assert_eq!(
        server.requests_to("/revoke")[0].param("token_type_hint"),
        Some("access_token")
    );
    assert_eq!(introspect(None), serde_json::json!({ "active": false }));
    assert_eq!(
        server.requests_to("/introspect")[1].param("token_type_hint"),
        None
    );

    // A server error is one line; usage errors exit 2.
    let mut command = latchkey();
    command.args([
        "revoke",
        "--client-id",
        "app",
        "--client-secret",
        "wrong-secret",
    ]);
    command.args(["--issuer", &server.issuer(), "--token", &access]);
    let done = run(command);
    assert!(
        done.failure(1).contains("invalid_client"),
        "{}",
        done.stderr
    );
    let mut command = latchkey();
    command.args(["introspect", "--client-id", "app", "--token", "x"]);
    run(command).failure(2);
    let mut command = latchkey();
    command.args(["revoke", "--client-id", "app", "--issuer", &server.issuer()]);
    run(command).failure(2);
    let mut command = with_app(&server, &["revoke", "--token", "x"]);
    command.args(["--token-type-hint", "id_token"]);
    run(command).failure(2);
}

#[test]
fn token_exchange_with_resource_and_audience() {
    let server = builder().start();
    let subject = app_token(&server, &[]);
    let mut command = with_app(&server, &["token-exchange"]);
    command.args(["--subject-token", &subject]);
    command.args(["--subject-token-type", "access_token"]);
    command.args(["--resource", API, "--audience", "backend"]);
    let done = run(command);
    let tokens = done.success();
    assert_eq!(
        tokens["issued_token_type"],
        "urn:ietf:params:oauth:token-type:access_token"
    );
    assert_eq!(tokens["token_type"], "Bearer");
    done.no_secrets(&[&subject, str_of(&tokens, "access_token")]);
    let request = server.requests_to("/token").pop().unwrap();
    assert_eq!(request.param("resource"), Some(API));
    assert_eq!(request.param("audience"), Some("backend"));

    // A refresh token in exchange, with an actor: token_type N_A.
    let mut command = with_app(&server, &["token-exchange"]);
    command.env("LATCHKEY_SUBJECT_TOKEN", &subject);
    command.args(["--subject-token-type", "access_token"]);
    command.args(["--actor-token", str_of(&tokens, "access_token")]);
    command.args([
        "--actor-token-type",
        "urn:ietf:params:oauth:token-type:access_token",
    ]);
    command.args(["--requested-token-type", "refresh_token"]);
    let done = run(command);
    let refresh = done.success();
    assert_eq!(refresh["token_type"], "N_A");
    done.no_secrets(&[&subject, str_of(&refresh, "access_token")]);

    // The server's refusal; usage errors.
    let mut command = with_app(&server, &["token-exchange", "--subject-token", "nope"]);
    command.args(["--subject-token-type", "access_token"]);
    let done = run(command);
    assert!(
        done.failure(1).contains("invalid_request"),
        "{}",
        done.stderr
    );
    for args in [
        &["--subject-token", "x", "--subject-token-type", "bogus"][..],
        &["--subject-token", "x"],
        &[
            "--subject-token",
            "x",
            "--subject-token-type",
            "jwt",
            "--actor-token",
            "y",
        ],
    ] {
        let mut command = with_app(&server, &["token-exchange"]);
        command.args(args);
        run(command).failure(2);
    }
}

#[test]
fn resource_goes_on_client_credentials_and_refresh() {
    let server = builder().start();
    let mut command = with_app(&server, &["client-credentials"]);
    command.args(["--resource", API, "--resource", "https://b.example/"]);
    run(command).success();
    let request = &server.requests_to("/token")[0];
    let resources: Vec<&str> = request
        .params
        .iter()
        .filter(|(k, _)| k == "resource")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(resources, [API, "https://b.example/"]);
    // A resource the server refuses: invalid_target.
    let command = with_app(&server, &["client-credentials", "--resource", "relative"]);
    let done = run(command);
    assert!(
        done.failure(1).contains("invalid_target"),
        "{}",
        done.stderr
    );
}
