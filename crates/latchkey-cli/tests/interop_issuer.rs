//! The `latchkey` subcommands configured with `--issuer` alone (every endpoint from the
//! server's metadata) against a real third-party authorization server, panva's oidc-provider
//! on loopback (started by `latchkey-interop`): `discover` (both well-known documents, exact
//! issuer), `device` with `login.mjs --device` as the user, `introspect` / `revoke` /
//! `introspect`, and `authorize --par` with the `iss` check the metadata turns on. Every run
//! prints one JSON object on stdout (or nothing, on failure) and no secret on stderr.
//!
//! Without Node.js or `interop/node_modules` every test passes trivially after one "skipped"
//! line on stderr, unless `LATCHKEY_INTEROP=required`.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use latchkey_interop::clients::{
    CC_CLIENT, CC_CLIENT_SECRET, DEVICE_CLIENT, OIDC_ES256, OIDC_ES256_SECRET, PUBLIC_PKCE,
};
use latchkey_interop::{Provider, interop_dir, login, query_param};
use serde_json::Value;

/// A `latchkey` command for `subcommand` against `p` (`--issuer`), with an environment that
/// can neither leak a credential in nor send a request through a proxy.
fn latchkey(p: &Provider, subcommand: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_latchkey"));
    command.args([subcommand, "--issuer", p.issuer()]);
    for var in [
        "LATCHKEY_CLIENT_SECRET",
        "LATCHKEY_TOKEN",
        "LATCHKEY_SUBJECT_TOKEN",
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        command.env_remove(var);
    }
    command.stdin(Stdio::null());
    command
}

/// A finished run.
struct Done {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Done {
    /// Asserts success and one JSON object on stdout, and that none of `secrets` (nor the
    /// cc-client secret) is on stderr.
    #[track_caller]
    fn json(&self, secrets: &[&str]) -> Value {
        assert_eq!(self.code, Some(0), "stderr: {}", self.stderr);
        assert_eq!(self.stdout.lines().count(), 1, "{:?}", self.stdout);
        for secret in secrets.iter().chain(&[CC_CLIENT_SECRET]) {
            assert!(!self.stderr.contains(secret), "{secret} on stderr");
        }
        serde_json::from_str(&self.stdout).expect("JSON on stdout")
    }
}

fn run(mut command: Command) -> Done {
    let output = command.output().expect("run latchkey");
    Done {
        code: output.status.code(),
        stdout: String::from_utf8(output.stdout).expect("UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8"),
    }
}

/// Runs `command` with stderr read line by line: `on_line` sees each line and may write to
/// its stdin (if piped) by returning `Some(text)`.
fn interact(mut command: Command, mut on_line: impl FnMut(&str) -> Option<String>) -> Done {
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().expect("spawn latchkey");
    let err = child.stderr.take().expect("stderr");
    let (tx, lines) = mpsc::channel();
    let reader = thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(err).lines() {
            let line = line.expect("UTF-8 stderr");
            all.push_str(&line);
            all.push('\n');
            let _ = tx.send(line);
        }
        all
    });
    let mut stdin = child.stdin.take();
    while let Ok(line) = lines.recv_timeout(Duration::from_secs(60)) {
        if let Some(text) = on_line(&line) {
            let mut input = stdin.take().expect("stdin piped");
            input.write_all(text.as_bytes()).expect("write stdin");
        }
    }
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut stdout)
        .expect("UTF-8 stdout");
    let status = child.wait().expect("wait");
    Done {
        code: status.code(),
        stdout,
        stderr: reader.join().expect("stderr thread"),
    }
}

latchkey_interop::interop_test! {
fn discover_both_documents_with_the_exact_issuer() {
    let p = Provider::expect_shared();
    for kind in ["oauth", "openid"] {
        let mut command = latchkey(p, "discover");
        command.args(["--well-known", kind]);
        let metadata = run(command).json(&[]);
        assert_eq!(metadata["issuer"], p.issuer());
        assert_eq!(
            metadata["authorization_response_iss_parameter_supported"],
            true
        );
        assert_eq!(
            metadata["device_authorization_endpoint"],
            format!("{}/device/auth", p.issuer())
        );
    }
    let mut command = Command::new(env!("CARGO_BIN_EXE_latchkey"));
    command.args(["discover", "--issuer", &format!("{}/", p.issuer())]);
    let done = run(command);
    assert_eq!(done.code, Some(1), "{}", done.stderr);
    assert!(done.stdout.is_empty());
    assert!(done.stderr.contains("issuer"), "{}", done.stderr);
}
}

latchkey_interop::interop_test! {
fn device_with_login_mjs_as_the_user() {
    let p = Provider::expect_shared();
    let mut command = latchkey(p, "device");
    command.args([
        "--client-id",
        DEVICE_CLIENT,
        "--scope",
        "openid offline_access",
    ]);
    let mut uri = None;
    let mut user = None;
    let done = interact(command, |line| {
        if let Some(found) = line.strip_prefix("latchkey: on a device with a browser, open ") {
            uri = Some(found.to_owned());
        }
        if let Some(code) = line.strip_prefix("latchkey: and enter the code ") {
            let uri = uri.clone().expect("the URI comes first");
            let code = code.to_owned();
            user = Some(thread::spawn(move || {
                Command::new("node")
                    .arg(interop_dir().join("login.mjs"))
                    .args(["--device", &uri, &code])
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .status()
                    .expect("login.mjs --device")
            }));
        }
        None
    });
    let status = user.expect("a user code").join().expect("login.mjs");
    assert!(status.success(), "login.mjs --device failed");
    let tokens = done.json(&[]);
    assert_eq!(tokens["token_type"], "Bearer");
    for member in ["access_token", "refresh_token", "id_token"] {
        let value = tokens[member].as_str().expect(member);
        assert!(!done.stderr.contains(value), "{member} on stderr");
    }
}
}

latchkey_interop::interop_test! {
fn introspect_revoke_introspect() {
    let p = Provider::expect_shared();
    let cc = |subcommand: &str| {
        let mut command = latchkey(p, subcommand);
        command.args(["--client-id", CC_CLIENT]);
        command.env("LATCHKEY_CLIENT_SECRET", CC_CLIENT_SECRET);
        command
    };
    let mut command = cc("client-credentials");
    command.args(["--scope", "api:read"]);
    let tokens = run(command).json(&[]);
    let access = tokens["access_token"].as_str().expect("access_token");
    let introspect = || {
        let mut command = cc("introspect");
        command.args(["--token", access, "--token-type-hint", "access_token"]);
        run(command).json(&[access])
    };
    let live = introspect();
    assert_eq!(live["active"], true);
    assert_eq!(live["client_id"], CC_CLIENT);
    assert_eq!(live["scope"], "api:read");
    let mut command = cc("revoke");
    command.env("LATCHKEY_TOKEN", access);
    assert_eq!(
        run(command).json(&[access]),
        serde_json::json!({ "revoked": true })
    );
    assert_eq!(introspect(), serde_json::json!({ "active": false }));
}
}

latchkey_interop::interop_test! {
fn authorize_par_with_iss_checked() {
    let p = Provider::expect_shared();
    let mut command = latchkey(p, "authorize");
    command.args(["--client-id", PUBLIC_PKCE, "--scope", "openid", "--par"]);
    command.args(["--no-browser", "--callback", "-"]);
    command.stdin(Stdio::piped());
    let mut code = None;
    let done = interact(command, |line| {
        if !line.starts_with("http://") {
            return None;
        }
        assert!(query_param(line, "request_uri").is_some(), "{line}");
        let callback = login(line);
        assert_eq!(query_param(&callback, "iss").as_deref(), Some(p.issuer()));
        code = query_param(&callback, "code");
        Some(format!("{callback}\n"))
    });
    let code = code.expect("a code");
    let tokens = done.json(&[&code]);
    assert!(tokens["id_token"].is_string());
    // Validated against the provider's key set: the claims come along.
    assert_eq!(tokens["id_token_claims"]["sub"], "alice");
    assert_eq!(tokens["id_token_claims"]["iss"], p.issuer());
    assert_eq!(tokens["id_token_claims"]["aud"][0], PUBLIC_PKCE);
    assert!(done.stderr.contains("pushing the authorization request"));
}
}

/// `authorize` for the ES256 client, the callback pasted on stdin: the token set (with the
/// ID token's validated claims), or with `--id-token-alg RS256` a refused ID token.
fn authorize_es256(p: &Provider, alg: &str) -> Done {
    let mut command = latchkey(p, "authorize");
    command.args([
        "--client-id",
        OIDC_ES256,
        "--client-secret",
        OIDC_ES256_SECRET,
    ]);
    command.args(["--scope", "openid", "--id-token-alg", alg]);
    command.args(["--no-browser", "--callback", "-"]);
    command.stdin(Stdio::piped());
    interact(command, |line| {
        line.starts_with("http://")
            .then(|| format!("{}\n", login(line)))
    })
}

latchkey_interop::interop_test! {
/// `--id-token-alg` pins the algorithm; the logout URL `logout-url` prints is one the
/// provider's end-session endpoint accepts.
fn id_token_alg_and_logout_url() {
    let p = Provider::expect_shared();
    let refused = authorize_es256(p, "RS256");
    assert_eq!(refused.code, Some(1), "{}", refused.stderr);
    assert!(refused.stderr.contains("ES256 is not allowed"), "{}", refused.stderr);
    let done = authorize_es256(p, "ES256");
    let tokens = done.json(&[OIDC_ES256_SECRET]);
    assert_eq!(tokens["id_token_claims"]["aud"][0], OIDC_ES256);
    let id_token = tokens["id_token"].as_str().expect("an ID token");

    let mut command = latchkey(p, "logout-url");
    command.args(["--client-id", OIDC_ES256, "--post-logout-redirect-uri"]);
    command.arg(latchkey_interop::clients::POST_LOGOUT_REDIRECT);
    command.env("LATCHKEY_ID_TOKEN", id_token);
    let printed = run(command);
    assert_eq!(printed.code, Some(0), "{}", printed.stderr);
    assert!(!printed.stderr.contains(id_token));
    let url = printed.stdout.trim();
    assert!(url.starts_with(&format!("{}/session/end?", p.issuer())), "{url}");
    assert_eq!(query_param(url, "client_id").as_deref(), Some(OIDC_ES256));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .proxy(None)
        .http_status_as_error(false)
        .build()
        .into();
    let mut answer = agent.get(url).call().expect("the end-session endpoint");
    let page = answer.body_mut().read_to_string().expect("a page");
    assert_eq!(answer.status(), 200, "{page}");
    assert!(!page.contains("oops! something went wrong"), "{page}");
}
}

latchkey_interop::interop_test! {
/// Client authentication from the metadata: with a secret and no `--auth-method`, the first
/// of client_secret_basic and client_secret_post that oidc-provider lists (basic) is used;
/// for a client registered for client_secret_post the server answers invalid_client, and
/// the message names the method used and the flag that changes it. With the flag, it works.
fn auth_method_from_the_metadata_and_the_invalid_client_hint() {
    use latchkey_interop::clients::{CONF_POST, CONF_POST_SECRET};
    let p = Provider::expect_shared();
    // cc-client (client_secret_basic): chosen from the metadata, no flag needed.
    let mut command = latchkey(p, "client-credentials");
    command.args(["--client-id", CC_CLIENT, "--scope", "api:read", "-v"]);
    command.env("LATCHKEY_CLIENT_SECRET", CC_CLIENT_SECRET);
    let done = run(command);
    let tokens = done.json(&[]);
    let access = tokens["access_token"].as_str().expect("access_token");
    assert!(
        done.stderr.to_ascii_lowercase().contains("authorization: basic <redacted>"),
        "{}",
        done.stderr
    );
    assert!(!done.stderr.contains(access));
    // conf-post (client_secret_post): basic is what the metadata picks; the server refuses.
    let introspect = |method: Option<&str>| {
        let mut command = latchkey(p, "introspect");
        command.args(["--client-id", CONF_POST, "--token", access]);
        command.env("LATCHKEY_CLIENT_SECRET", CONF_POST_SECRET);
        if let Some(method) = method {
            command.args(["--auth-method", method]);
        }
        run(command)
    };
    let refused = introspect(None);
    assert_eq!(refused.code, Some(1), "{}", refused.stderr);
    let error = refused.stderr.lines().last().unwrap_or_default();
    assert!(error.contains("invalid_client"), "{error}");
    assert!(error.contains("client_secret_basic"), "{error}");
    assert!(error.contains("--auth-method post"), "{error}");
    assert!(!refused.stderr.contains(CONF_POST_SECRET));
    let answer = introspect(Some("post")).json(&[access, CONF_POST_SECRET]);
    assert!(answer.get("active").is_some(), "{answer}");
}
}

latchkey_interop::interop_test! {
/// `--print-url`, the login elsewhere, then `--callback` with `--state`, `--code-verifier`
/// and `--nonce`: the ID token (validated with `--issuer`'s keys) carries the printed nonce.
fn print_url_then_callback_with_the_nonce() {
    let p = Provider::expect_shared();
    let redirect = "http://127.0.0.1/callback";
    let mut command = latchkey(p, "authorize");
    command.args(["--client-id", PUBLIC_PKCE, "--scope", "openid", "--print-url"]);
    command.args(["--redirect-uri", redirect]);
    let printed = run(command).json(&[]);
    let (url, state) = (str_of(&printed, "authorization_url"), str_of(&printed, "state"));
    let (verifier, nonce) = (str_of(&printed, "code_verifier"), str_of(&printed, "nonce"));
    let callback = login(url);

    let mut command = latchkey(p, "authorize");
    command.args(["--client-id", PUBLIC_PKCE, "--scope", "openid"]);
    command.args(["--redirect-uri", redirect, "--callback", &callback]);
    command.args(["--state", state, "--code-verifier", verifier, "--nonce", nonce]);
    let tokens = run(command).json(&[verifier]);
    assert_eq!(tokens["id_token_claims"]["nonce"], nonce);
}
}

fn str_of<'a>(json: &'a Value, key: &str) -> &'a str {
    json[key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key} in {json}"))
}
