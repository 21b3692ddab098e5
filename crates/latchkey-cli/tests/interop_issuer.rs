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
    CC_CLIENT, CC_CLIENT_SECRET, DEVICE_CLIENT, DPOP_PUBLIC, JWT_ES256, JWT_PS256, JWT_SECRET,
    JWT_SECRET_SECRET, OIDC_ES256, OIDC_ES256_SECRET, PUBLIC_PKCE,
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

/// A fresh directory for one test's files.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("latchkey-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// `authorize` for the DPoP client with the callback pasted on stdin.
fn authorize_dpop(p: &Provider, extra: &[&str]) -> Done {
    let mut command = latchkey(p, "authorize");
    command.args([
        "--client-id",
        DPOP_PUBLIC,
        "--scope",
        "openid offline_access",
    ]);
    command.args(extra);
    command.args(["--no-browser", "--callback", "-"]);
    command.stdin(Stdio::piped());
    interact(command, |line| {
        line.starts_with("http://")
            .then(|| format!("{}\n", login(line)))
    })
}

latchkey_interop::interop_test! {
/// `--dpop-key` creates the key (mode 0600), the login's tokens are DPoP-bound to it, the
/// cached refresh proves the same key, and `userinfo --dpop-key` calls with it.
fn dpop_login_cached_refresh_and_userinfo() {
    let p = Provider::expect_shared();
    let dir = scratch("dpop");
    let (key, cache) = (dir.join("dpop.pem"), dir.join("tokens.json"));
    let (key_arg, cache_arg) = (key.to_str().expect("path"), cache.to_str().expect("path"));
    let first = authorize_dpop(p, &["--dpop-key", key_arg, "--cache", cache_arg]).json(&[]);
    assert_eq!(first["token_type"], "DPoP");
    let jkt = first["dpop_jkt"].as_str().expect("dpop_jkt").to_owned();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key).expect("key file").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let pem = std::fs::read_to_string(&key).expect("key");
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();

    let mut command = latchkey(p, "authorize");
    command.args(["--client-id", DPOP_PUBLIC, "--scope", "openid offline_access"]);
    command.args(["--dpop-key", key_arg, "--cache", cache_arg, "--force-refresh", "-v"]);
    let refreshed = run(command);
    assert!(!refreshed.stderr.contains(&body[..24]), "the key on stderr");
    let refreshed = refreshed.json(&[]);
    assert_eq!(refreshed["token_type"], "DPoP");
    assert_eq!(refreshed["dpop_jkt"], jkt.as_str());
    assert_ne!(refreshed["access_token"], first["access_token"]);
    let token = refreshed["access_token"].as_str().expect("token");

    let mut command = latchkey(p, "userinfo");
    command.args(["--dpop-key", key_arg]);
    command.env("LATCHKEY_ACCESS_TOKEN", token);
    let claims = run(command).json(&[token]);
    assert_eq!(claims["sub"], "alice");
    // Without the key the bound token is refused.
    let mut command = latchkey(p, "userinfo");
    command.env("LATCHKEY_ACCESS_TOKEN", token);
    let refused = run(command);
    assert_eq!(refused.code, Some(1), "{}", refused.stderr);
    assert!(!refused.stderr.contains(token));
    let _ = std::fs::remove_dir_all(&dir);
}
}

latchkey_interop::interop_test! {
/// `--private-key` (private_key_jwt, ES256 and PS256 with `--key-alg`) and
/// `--auth-method client_secret_jwt` for client credentials; a key the server does not know
/// is refused; neither key nor secret reaches stderr, even with `-v`.
fn private_key_jwt_and_client_secret_jwt() {
    let p = Provider::expect_shared();
    let dir = scratch("jwt");
    for (id, alg) in [(JWT_ES256, None), (JWT_PS256, Some("PS256"))] {
        let key = p.client_key(id);
        let path = dir.join(format!("{id}.pem"));
        let pem = key.to_pkcs8_pem().expect("PEM");
        std::fs::write(&path, pem.expose_secret()).expect("write key");
        let mut command = latchkey(p, "client-credentials");
        command.args(["--client-id", id, "--private-key", path.to_str().expect("path")]);
        command.args(["--key-id", key.kid().expect("kid"), "-v"]);
        if let Some(alg) = alg {
            command.args(["--key-alg", alg]);
        }
        let done = run(command);
        let body: String = pem
            .expose_secret()
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        assert!(!done.stderr.contains(&body[..24]), "the key on stderr");
        assert!(!done.stderr.contains("client_assertion=ey"), "{}", done.stderr);
        let tokens = done.json(&[]);
        assert_eq!(tokens["token_type"], "Bearer");
    }
    // Another key under the known kid: invalid_client.
    let stranger = latchkey::jose::SigningKey::generate(latchkey::jose::Algorithm::ES256)
        .expect("key");
    let path = dir.join("stranger.pem");
    std::fs::write(&path, stranger.to_pkcs8_pem().expect("PEM").expose_secret()).expect("write");
    let mut command = latchkey(p, "client-credentials");
    command.args(["--client-id", JWT_ES256, "--private-key", path.to_str().expect("path")]);
    let refused = run(command);
    assert_eq!(refused.code, Some(1), "{}", refused.stderr);
    assert!(refused.stderr.contains("invalid_client"), "{}", refused.stderr);

    let mut command = latchkey(p, "client-credentials");
    command.args(["--client-id", JWT_SECRET, "--auth-method", "client_secret_jwt", "-v"]);
    command.env("LATCHKEY_CLIENT_SECRET", JWT_SECRET_SECRET);
    let tokens = run(command).json(&[JWT_SECRET_SECRET]);
    assert_eq!(tokens["token_type"], "Bearer");
    let _ = std::fs::remove_dir_all(&dir);
}
}
