//! # latchkey-interop: a real third-party authorization server for tests
//!
//! Starts panva's [`oidc-provider`](https://www.npmjs.com/package/oidc-provider) (pinned in
//! `interop/package.json`, configured by `interop/server.mjs`, see `interop/README.md`) on
//! `127.0.0.1`, reads its endpoints from the discovery document, and drives its login and
//! consent pages with `interop/login.mjs`, so that tests can run real OAuth 2.0 flows against an
//! implementation that is not ours. Nothing here contacts any address other than loopback.
//!
//! ```no_run
//! use latchkey_interop::{Provider, clients, login, query_param};
//!
//! // Panics when Node.js or interop/node_modules is missing: a test that calls it is marked
//! // `#[cfg_attr(not(interop_server), ignore = "…")]` (see below).
//! let provider = Provider::expect_shared();
//! let client = provider
//!     .client_builder(clients::PUBLIC_PKCE)
//!     .redirect_uri(latchkey_interop::loopback_redirect_uri())
//!     .build()?;
//! let (url, pending) = client.authorization_code().scope("openid email").build()?;
//! let callback = login(url.as_str()); // http://127.0.0.1:PORT/callback?code=…&state=…&iss=…
//! assert_eq!(query_param(&callback, "iss").as_deref(), Some(provider.issuer()));
//! let exchange = pending.callback(&client, &callback)?;
//! // … send `exchange` with an adapter.
//! # Ok::<(), latchkey::Error>(())
//! ```
//!
//! ## When Node.js is missing
//!
//! The server needs Node.js 20 or later on `PATH` and `interop/node_modules` (`cd interop &&
//! npm ci`). This crate's build script decides, when the tests are compiled, whether they can
//! run, and sets `cfg(interop_server)` when
//!
//! - the environment variable `LATCHKEY_INTEROP=required` is set (CI sets it): the tests run
//!   and fail loudly if the server cannot start; or
//! - `node --version` runs and `interop/node_modules/oidc-provider` is installed.
//!
//! The build script runs again when `LATCHKEY_INTEROP` or `PATH` changes and when
//! `node_modules` appears or goes. Each test that needs the server is marked
//!
//! ```text
//! #[test]
//! #[cfg_attr(
//!     not(interop_server),
//!     ignore = "interop: node or interop/node_modules missing; run `cd interop && npm ci` or set LATCHKEY_INTEROP=required"
//! )]
//! ```
//!
//! so that without Node.js `cargo test` lists it as `ignored`, with that reason, instead of
//! counting it as passed, and calls [`Provider::expect_shared`] (or [`Provider::start`] with
//! `expect`), which panics with what is missing if it runs anyway (`--include-ignored`).
//!
//! The cfg is set for this package's own targets only. Another package whose tests start the
//! server gets it with a `build.rs` of one line, `include!("../latchkey-interop/build.rs");`,
//! and the same attribute on its tests.
//!
//! [`Provider::start`] and [`Provider::shared`] keep their older contract for tests not yet
//! marked that way: when a prerequisite is missing they panic with `LATCHKEY_INTEROP=required`,
//! and otherwise write one line `latchkey-interop: skipped: …` to stderr and return `None`.
//!
//! Anything else that goes wrong (the server does not print its `ISSUER=` line within
//! [`START_TIMEOUT`], discovery fails, `login.mjs` fails) panics whatever the variable says,
//! with the server's log in the message.
//!
//! ## Processes
//!
//! Each [`Provider`] is one `node interop/server.mjs` child with its own port and its own
//! in-memory state; dropping the `Provider` kills it (`Child::kill`, by its own pid). The child
//! is started with a two-line `-e` prelude that imports `server.mjs` and makes it shut down
//! when its standard input reaches end of file, that is, when this process is gone: so the
//! provider behind [`Provider::shared`] (a `static`, which is never dropped) and the provider
//! of a test process that was killed outright leave no orphan behind.
//!
//! Tests in one binary can share [`Provider::shared`]. oidc-provider revokes a whole grant
//! when an authorization code or a rotated refresh token is used twice, so each test must run
//! its own authorization (with [`login`]) rather than share codes or tokens.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod mtls;

use std::io::{BufRead as _, BufReader, Read, Write as _};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, LazyLock, Mutex, mpsc};
use std::thread;
use std::time::Duration;

use latchkey::ClientBuilder;
use serde_json::{Map, Value};
use url::Url;

/// How long [`Provider::start`] waits for the server's `ISSUER=` line.
pub const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The environment variable that turns a missing Node.js into a failure: `required`.
pub const REQUIRED_VAR: &str = "LATCHKEY_INTEROP";

mod resource;
pub use resource::{Answered, ResourceServer};

/// The interop server's static clients (see `interop/README.md`).
pub mod clients {
    /// Confidential, `client_secret_basic`, authorization code and refresh token.
    pub const CONF_BASIC: &str = "conf-basic";
    /// The secret of [`CONF_BASIC`].
    pub const CONF_BASIC_SECRET: &str = "conf-basic-secret";
    /// Confidential, `client_secret_post`, authorization code and refresh token.
    pub const CONF_POST: &str = "conf-post";
    /// The secret of [`CONF_POST`].
    pub const CONF_POST_SECRET: &str = "conf-post-secret";
    /// Public (`none`), PKCE S256 required, refresh tokens rotate on every use.
    pub const PUBLIC_PKCE: &str = "public-pkce";
    /// Confidential, `client_secret_basic`, client credentials only.
    pub const CC_CLIENT: &str = "cc-client";
    /// The secret of [`CC_CLIENT`].
    pub const CC_CLIENT_SECRET: &str = "cc-client-secret";
    /// Public, device authorization grant and refresh token.
    pub const DEVICE_CLIENT: &str = "device-client";
    /// Confidential (`client_secret_basic`), ID tokens signed with ES256.
    pub const OIDC_ES256: &str = "oidc-es256";
    /// The secret of [`OIDC_ES256`].
    pub const OIDC_ES256_SECRET: &str = "oidc-es256-secret";
    /// Confidential (`client_secret_basic`), ID tokens signed with EdDSA.
    pub const OIDC_EDDSA: &str = "oidc-eddsa";
    /// The secret of [`OIDC_EDDSA`].
    pub const OIDC_EDDSA_SECRET: &str = "oidc-eddsa-secret";
    /// `private_key_jwt` with an ES256 key (see [`Provider::client_key`](super::Provider::client_key));
    /// authorization code, refresh token and client credentials.
    pub const JWT_ES256: &str = "jwt-es256";
    /// As [`JWT_ES256`], with an RS256 key.
    pub const JWT_RS256: &str = "jwt-rs256";
    /// As [`JWT_ES256`], with a PS256 key.
    pub const JWT_PS256: &str = "jwt-ps256";
    /// As [`JWT_ES256`], with an EdDSA (Ed25519) key.
    pub const JWT_EDDSA: &str = "jwt-eddsa";
    /// `client_secret_jwt` (HS256); authorization code, refresh token and client credentials.
    pub const JWT_SECRET: &str = "jwt-secret";
    /// The secret of [`JWT_SECRET`].
    pub const JWT_SECRET_SECRET: &str = "jwt-secret-secret-0123456789abcdef-0123456789abcdef";
    /// Public (`none`), PKCE, access tokens must be DPoP-bound (`dpop_bound_access_tokens`).
    pub const DPOP_PUBLIC: &str = "dpop-public";
    /// Confidential (`client_secret_basic`), client credentials, DPoP-bound tokens only.
    pub const DPOP_CC: &str = "dpop-cc";
    /// The secret of [`DPOP_CC`].
    pub const DPOP_CC_SECRET: &str = "dpop-cc-secret";
    /// Where [`end_session_endpoint`](super::Provider) may send the user after logout.
    pub const POST_LOGOUT_REDIRECT: &str = "http://127.0.0.1/logged-out";
    /// `tls_client_auth` with the test CA's client certificate (subject
    /// `CN=latchkey-mtls-client`), certificate-bound tokens; code, refresh and client
    /// credentials grants. Only on a server started with
    /// [`Provider::start_mtls`](crate::Provider::start_mtls).
    pub const MTLS_CA: &str = "mtls-ca";
    /// `self_signed_tls_client_auth` with the self-signed client certificate, otherwise as
    /// [`MTLS_CA`].
    pub const MTLS_SELF_SIGNED: &str = "mtls-self-signed";
}

/// Imports `server.mjs` (its path is `argv[1]`) and stops it when stdin closes.
const PRELUDE: &str = "\
import { pathToFileURL } from 'node:url';
const stop = () => process.kill(process.pid, 'SIGTERM');
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
await import(pathToFileURL(process.argv[1]).href);
";

/// At most this much of the server's stderr is kept for [`Provider::log`].
const LOG_CAP: usize = 256 * 1024;

/// The `interop/` directory of the workspace.
#[must_use]
pub fn interop_dir() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .and_then(|crates| crates.parent())
        .map_or_else(
            || manifest.join("../../interop"),
            |root| root.join("interop"),
        )
}

/// True when `LATCHKEY_INTEROP=required`.
#[must_use]
pub fn required() -> bool {
    std::env::var(REQUIRED_VAR).is_ok_and(|v| v == "required")
}

/// What is missing for the interop server to run, if anything.
fn missing_prerequisite() -> Option<String> {
    match Command::new("node")
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(status) if status.success() => {}
        Ok(status) => return Some(format!("`node --version` failed ({status})")),
        Err(e) => return Some(format!("Node.js (`node`) cannot be run: {e}")),
    }
    let module = interop_dir().join("node_modules/oidc-provider/package.json");
    if !module.is_file() {
        return Some(format!(
            "{} is missing",
            interop_dir().join("node_modules/oidc-provider").display()
        ));
    }
    None
}

/// Why a test that needs the server cannot run here.
fn unavailable(reason: &str) -> String {
    let context = if required() {
        format!("{REQUIRED_VAR}=required, but")
    } else {
        // Compiled where the server could run (or run with `--include-ignored`).
        "this test was not ignored, but".to_owned()
    };
    format!(
        "latchkey-interop: {context} {reason}: install Node.js 20 or later and run \
         `cd interop && npm ci`"
    )
}

/// A running oidc-provider on `127.0.0.1`, killed on drop.
#[derive(Debug)]
pub struct Provider {
    issuer: String,
    discovery: Map<String, Value>,
    client_keys: Map<String, Value>,
    log: Arc<Mutex<String>>,
    child: ChildGuard,
}

static SHARED: LazyLock<Option<Provider>> = LazyLock::new(Provider::start);

/// What [`missing_prerequisite`] said the first time [`Provider::expect_shared`] asked.
static MISSING: LazyLock<Option<String>> = LazyLock::new(missing_prerequisite);

impl Provider {
    /// Starts a new server and reads its discovery document.
    ///
    /// Returns `None` (after a "skipped" line on stderr) when Node.js or
    /// `interop/node_modules` is missing, unless `LATCHKEY_INTEROP=required`.
    ///
    /// # Panics
    ///
    /// When a prerequisite is missing and `LATCHKEY_INTEROP=required`; when the server does
    /// not start within [`START_TIMEOUT`]; when its discovery document is unusable.
    #[must_use]
    pub fn start() -> Option<Self> {
        Self::start_with(&[])
    }

    /// A new server with these environment variables for `interop/server.mjs` (`PORT`,
    /// `INTEROP_KEYS`, `INTEROP_ROTATE`: see `interop/README.md`), for a test that restarts
    /// the provider. `None` as for [`start`](Self::start).
    ///
    /// # Panics
    ///
    /// As [`start`](Self::start).
    #[must_use]
    pub fn start_with(env: &[(&str, &str)]) -> Option<Self> {
        if let Some(reason) = missing_prerequisite() {
            assert!(
                !required(),
                "{REQUIRED_VAR}=required, but {reason}: install Node.js 20 or later and run \
                 `cd interop && npm ci`"
            );
            let _ = writeln!(
                std::io::stderr(),
                "latchkey-interop: skipped: {reason}; run `cd interop && npm ci` (with \
                 Node.js 20+) to run the interop tests against oidc-provider"
            );
            return None;
        }
        Some(Self::spawn(env))
    }

    /// One server for the whole test binary, started on first use (see [`start`](Self::start)
    /// for `None` and panics). It stops when the process exits.
    #[must_use]
    pub fn shared() -> Option<&'static Self> {
        SHARED.as_ref()
    }

    /// The binary's shared server, like [`shared`](Self::shared), for a test that is ignored
    /// where the server cannot run (`#[cfg_attr(not(interop_server), ignore = "…")]`, see the
    /// crate docs).
    ///
    /// # Panics
    ///
    /// When Node.js or `interop/node_modules` is missing (the test was run anyway, or the
    /// machine changed since it was compiled), with what is missing; and as
    /// [`start`](Self::start) panics.
    #[must_use]
    pub fn expect_shared() -> &'static Self {
        // Checked apart from the server, so that every test says what is missing, not only
        // the first one (the others would see a poisoned `SHARED`).
        if let Some(reason) = MISSING.as_deref() {
            panic!("{}", unavailable(reason));
        }
        Self::shared().unwrap_or_else(|| panic!("{}", unavailable("the server did not start")))
    }

    fn spawn(env: &[(&str, &str)]) -> Self {
        let dir = interop_dir();
        // The private_key_jwt clients' private keys, written by the server as it starts.
        static SPAWNED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let keys_file = std::env::temp_dir().join(format!(
            "latchkey-interop-client-keys-{}-{}.json",
            std::process::id(),
            SPAWNED.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let mut child = Command::new("node")
            .args(["--input-type=module", "-e", PRELUDE])
            .arg(dir.join("server.mjs"))
            .current_dir(&dir)
            .env_remove("PORT")
            .env_remove("INTEROP_KEYS")
            .env_remove("INTEROP_ROTATE")
            .env_remove("INTEROP_DPOP_NONCE")
            .env("INTEROP_CLIENT_KEYS", &keys_file)
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start node interop/server.mjs: {e}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let mut child = ChildGuard(child);

        let log = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&log);
        thread::spawn(move || collect_log(stderr, &sink));

        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let issuer = loop {
                line.clear();
                match reader.read_line(&mut line) {
                    Ok(0) | Err(_) => break None,
                    Ok(_) => {
                        if let Some(issuer) = line.trim_end().strip_prefix("ISSUER=") {
                            break Some(issuer.to_owned());
                        }
                    }
                }
            };
            let _ = tx.send(issuer);
            // Nothing else is expected on stdout; keep the pipe open and drained.
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });

        let issuer = match rx.recv_timeout(START_TIMEOUT) {
            Ok(Some(issuer)) => issuer,
            Ok(None) => {
                let status = child.0.wait();
                // Give the log thread a moment to read the last lines.
                thread::sleep(Duration::from_millis(100));
                panic!(
                    "interop server exited without printing ISSUER= ({status:?}); its log:\n{}",
                    snapshot(&log)
                );
            }
            Err(_) => {
                let _ = child.0.kill();
                panic!(
                    "interop server printed no ISSUER= line within {START_TIMEOUT:?}; its log:\n{}",
                    snapshot(&log)
                );
            }
        };
        // With mutual TLS (`INTEROP_TLS_DIR`), discovery trusts the test CA.
        let ca = env
            .iter()
            .find(|(name, _)| *name == mtls::TLS_DIR_VAR)
            .map(|(_, dir)| std::fs::read(PathBuf::from(dir).join("ca.pem")))
            .transpose()
            .unwrap_or_else(|e| panic!("cannot read the test CA: {e}"));
        let discovery = fetch_discovery(&issuer, &log, ca.as_deref());
        let client_keys = std::fs::read_to_string(&keys_file)
            .ok()
            .and_then(|text| serde_json::from_str::<Map<String, Value>>(&text).ok())
            .unwrap_or_else(|| panic!("the interop server wrote no client keys to {keys_file:?}"));
        let _ = std::fs::remove_file(&keys_file);
        Self {
            issuer,
            discovery,
            client_keys,
            log,
            child,
        }
    }

    /// The issuer identifier, `http://127.0.0.1:<port>`.
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The server's process id.
    #[must_use]
    pub fn pid(&self) -> u32 {
        self.child.0.id()
    }

    /// The discovery document (`/.well-known/openid-configuration`).
    #[must_use]
    pub fn discovery(&self) -> &Map<String, Value> {
        &self.discovery
    }

    /// A URL member of the discovery document, such as `"token_endpoint"`.
    ///
    /// # Panics
    ///
    /// When the document has no such string member.
    #[must_use]
    pub fn endpoint(&self, member: &str) -> &str {
        self.discovery
            .get(member)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("the discovery document has no {member}"))
    }

    /// `authorization_endpoint`.
    #[must_use]
    pub fn authorization_endpoint(&self) -> &str {
        self.endpoint("authorization_endpoint")
    }

    /// `token_endpoint`.
    #[must_use]
    pub fn token_endpoint(&self) -> &str {
        self.endpoint("token_endpoint")
    }

    /// `userinfo_endpoint`.
    #[must_use]
    pub fn userinfo_endpoint(&self) -> &str {
        self.endpoint("userinfo_endpoint")
    }

    /// `revocation_endpoint`.
    #[must_use]
    pub fn revocation_endpoint(&self) -> &str {
        self.endpoint("revocation_endpoint")
    }

    /// `introspection_endpoint`.
    #[must_use]
    pub fn introspection_endpoint(&self) -> &str {
        self.endpoint("introspection_endpoint")
    }

    /// `device_authorization_endpoint`.
    #[must_use]
    pub fn device_authorization_endpoint(&self) -> &str {
        self.endpoint("device_authorization_endpoint")
    }

    /// True when discovery promises `iss` on every authorization response (RFC 9207).
    #[must_use]
    pub fn promises_iss(&self) -> bool {
        self.discovery
            .get("authorization_response_iss_parameter_supported")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// The private key of a `private_key_jwt` client ([`clients::JWT_ES256`] and its
    /// siblings), made fresh by this server run, with its `kid`.
    ///
    /// # Panics
    ///
    /// For a client without a key.
    #[must_use]
    pub fn client_key(&self, client_id: &str) -> latchkey::jose::SigningKey {
        let entry = self
            .client_keys
            .get(client_id)
            .unwrap_or_else(|| panic!("no key for {client_id}"));
        let field = |name: &str| entry.get(name).and_then(Value::as_str).unwrap_or_default();
        let alg = latchkey::jose::Algorithm::parse(field("alg")).expect("a known algorithm");
        latchkey::jose::SigningKey::from_pkcs8_pem(field("pem"), alg)
            .expect("a usable PKCS#8 key")
            .with_kid(field("kid"))
    }

    /// A [`ClientBuilder`] for `client_id` with this server's authorization, token and
    /// userinfo endpoints, its issuer, and the RFC 9207 `iss` check required when discovery
    /// promises it. Add the secret, the authentication method and the redirect URI.
    pub fn client_builder(&self, client_id: &str) -> ClientBuilder {
        // The algorithms the provider signs ID tokens with (what discovery advertises).
        let algorithms = self
            .discovery
            .get("id_token_signing_alg_values_supported")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter_map(latchkey::jose::Algorithm::parse)
            .collect::<Vec<_>>();
        latchkey::Client::builder(client_id)
            .id_token_algorithms(algorithms)
            .authorization_endpoint(self.authorization_endpoint())
            .token_endpoint(self.token_endpoint())
            .userinfo_endpoint(self.userinfo_endpoint())
            .jwks_uri(self.endpoint("jwks_uri"))
            .end_session_endpoint(self.endpoint("end_session_endpoint"))
            .issuer(self.issuer())
            .require_issuer_parameter(self.promises_iss())
    }

    /// What the server wrote to stderr so far (the last 256 KiB; with `INTEROP_DEBUG=1` in the
    /// environment it logs every request and endpoint error).
    #[must_use]
    pub fn log(&self) -> String {
        snapshot(&self.log)
    }
}

/// The child process, killed (by its own pid) and reaped on drop.
#[derive(Debug)]
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn collect_log(stderr: impl Read, log: &Mutex<String>) {
    let mut reader = BufReader::new(stderr);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let mut log = log.lock().unwrap_or_else(|e| e.into_inner());
                log.push_str(&String::from_utf8_lossy(&line));
                if log.len() > LOG_CAP {
                    let mut cut = log.len() - LOG_CAP / 2;
                    while !log.is_char_boundary(cut) {
                        cut += 1;
                    }
                    log.drain(..cut);
                }
            }
        }
    }
}

fn snapshot(log: &Mutex<String>) -> String {
    log.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// A plain HTTP agent for loopback: no proxy (whatever the environment says), no redirects,
/// statuses as answers.
/// With `ca` (PEM), it trusts only that CA (a mutual TLS server's).
fn agent(ca: Option<&[u8]>) -> ureq::Agent {
    let tls = match ca {
        Some(pem) => {
            let ca = ureq::tls::Certificate::from_pem(pem)
                .unwrap_or_else(|e| panic!("the test CA is not PEM: {e}"));
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::new_with_certs(&[ca]))
                .build()
        }
        None => ureq::tls::TlsConfig::default(),
    };
    ureq::Agent::config_builder()
        .tls_config(tls)
        .proxy(None)
        .max_redirects(0)
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

fn fetch_discovery(issuer: &str, log: &Mutex<String>, ca: Option<&[u8]>) -> Map<String, Value> {
    let url = format!("{issuer}/.well-known/openid-configuration");
    let fail = |what: String| -> ! {
        panic!("discovery at {url}: {what}; server log:\n{}", snapshot(log))
    };
    let mut response = agent(ca)
        .get(&url)
        .call()
        .unwrap_or_else(|e| fail(e.to_string()));
    if response.status() != 200 {
        fail(format!("HTTP {}", response.status()));
    }
    let body = response
        .body_mut()
        .read_to_string()
        .unwrap_or_else(|e| fail(e.to_string()));
    let document: Map<String, Value> =
        serde_json::from_str(&body).unwrap_or_else(|e| fail(format!("{e}: {body}")));
    if document.get("issuer").and_then(Value::as_str) != Some(issuer) {
        fail(format!(
            "issuer is {:?}, not {issuer}",
            document.get("issuer")
        ));
    }
    for member in [
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
    ] {
        match document.get(member).and_then(Value::as_str) {
            Some(endpoint) if endpoint.starts_with(issuer) => {}
            other => fail(format!("{member} is {other:?}")),
        }
    }
    document
}

/// Who logs in and what they answer on the consent page.
#[derive(Clone, Debug)]
pub struct Login<'a> {
    user: &'a str,
    deny: bool,
    ca_file: Option<&'a std::path::Path>,
}

impl Default for Login<'_> {
    fn default() -> Self {
        Self {
            user: "alice",
            deny: false,
            ca_file: None,
        }
    }
}

impl<'a> Login<'a> {
    /// Logs in as `alice` and consents.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Logs in as `user` (the `sub`; `email` is `<user lowercased>@example.com`).
    #[must_use]
    pub fn user(mut self, user: &'a str) -> Self {
        self.user = user;
        self
    }

    /// Trusts the CA certificate in this PEM file too (`NODE_EXTRA_CA_CERTS`): for a server
    /// started with [`Provider::start_mtls`] ([`mtls::TestPki::ca_file`]).
    #[must_use]
    pub fn ca_file(mut self, path: &'a std::path::Path) -> Self {
        self.ca_file = Some(path);
        self
    }

    /// Presses "Cancel" instead: the provider redirects with `error=access_denied`.
    #[must_use]
    pub fn deny(mut self) -> Self {
        self.deny = true;
        self
    }

    /// Runs `node interop/login.mjs` on `auth_url` and returns the redirect it stopped at
    /// (the client's redirect URI with `code`, `state` and `iss`, or `error`), which it never
    /// requests.
    ///
    /// # Panics
    ///
    /// When `login.mjs` fails (its diagnostic is in the message).
    #[must_use]
    pub fn run(&self, auth_url: &str) -> String {
        let mut command = Command::new("node");
        command
            .arg(interop_dir().join("login.mjs"))
            .args(["--login", self.user]);
        if self.deny {
            command.arg("--deny");
        }
        if let Some(ca) = self.ca_file {
            command.env("NODE_EXTRA_CA_CERTS", ca);
        }
        let output = command
            .arg(auth_url)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run node interop/login.mjs: {e}"));
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "login.mjs failed ({}) for {auth_url}:\n{stderr}",
            output.status
        );
        let callback = stdout.trim();
        assert!(
            !callback.is_empty() && !callback.contains('\n'),
            "login.mjs printed {stdout:?} (stderr: {stderr})"
        );
        callback.to_owned()
    }
}

/// Logs in as `alice`, consents, and returns the callback URL (see [`Login::run`]).
///
/// # Panics
///
/// When `login.mjs` fails.
#[must_use]
pub fn login(auth_url: &str) -> String {
    Login::new().run(auth_url)
}

/// `http://127.0.0.1:<port>/callback` on a port that was free a moment ago. The interop
/// clients are `native`, so oidc-provider accepts any port on their registered
/// `http://127.0.0.1/callback` (RFC 8252 §7.3).
///
/// # Panics
///
/// When no loopback port can be bound.
#[must_use]
pub fn loopback_redirect_uri() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let port = listener.local_addr().expect("local address").port();
    format!("http://127.0.0.1:{port}/callback")
}

/// The first value of query parameter `name` in `url`, decoded.
#[must_use]
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let url = Url::parse(url).ok()?;
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// `url` with query parameter `name` set to `value` (replacing every occurrence, or appended).
///
/// # Panics
///
/// When `url` is not an absolute URL.
#[must_use]
pub fn with_query_param(url: &str, name: &str, value: &str) -> String {
    let mut url = Url::parse(url).expect("an absolute URL");
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != name)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.query_pairs_mut()
        .clear()
        .extend_pairs(pairs)
        .append_pair(name, value);
    url.into()
}

/// `url` without query parameter `name`.
///
/// # Panics
///
/// When `url` is not an absolute URL.
#[must_use]
pub fn without_query_param(url: &str, name: &str) -> String {
    let mut url = Url::parse(url).expect("an absolute URL");
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != name)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    url.into()
}

/// Declares one interop test for a package other than this one: a `#[test]` when the
/// interop server can run on this machine (decided when this crate is built: see its
/// `build.rs`), else the same test marked ignored with the reason, so that `cargo test`
/// reports it as ignored rather than passed.
///
/// ```text
/// latchkey_interop::interop_test! {
///     fn discovery_works() {
///         let provider = latchkey_interop::Provider::expect_shared();
///     }
/// }
/// ```
#[cfg(interop_server)]
#[macro_export]
macro_rules! interop_test {
    ($(#[$meta:meta])* fn $name:ident() $body:block) => {
        $(#[$meta])*
        #[test]
        fn $name() $body
    };
}

/// Declares one interop test for a package other than this one (see the other definition):
/// here the interop server cannot run, so the test is ignored, with the reason.
#[cfg(not(interop_server))]
#[macro_export]
macro_rules! interop_test {
    ($(#[$meta:meta])* fn $name:ident() $body:block) => {
        $(#[$meta])*
        #[test]
        #[ignore = "interop: node or interop/node_modules missing; run `cd interop && npm ci` or set LATCHKEY_INTEROP=required"]
        fn $name() $body
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_helpers() {
        let url = "http://127.0.0.1:5/callback?code=a%20b&state=s&iss=http%3A%2F%2Fx";
        assert_eq!(query_param(url, "code").as_deref(), Some("a b"));
        assert_eq!(query_param(url, "iss").as_deref(), Some("http://x"));
        assert_eq!(query_param(url, "nope"), None);
        let tampered = with_query_param(url, "iss", "http://evil");
        assert_eq!(
            query_param(&tampered, "iss").as_deref(),
            Some("http://evil")
        );
        assert_eq!(query_param(&tampered, "code").as_deref(), Some("a b"));
        assert_eq!(query_param(&without_query_param(url, "iss"), "iss"), None);
    }

    #[test]
    fn the_interop_directory_is_found() {
        assert!(interop_dir().join("server.mjs").is_file());
        assert!(interop_dir().join("login.mjs").is_file());
    }

    #[test]
    fn loopback_redirect_uris_have_a_port() {
        let uri = loopback_redirect_uri();
        let url = Url::parse(&uri).unwrap();
        assert_eq!(url.host_str(), Some("127.0.0.1"));
        assert!(url.port().is_some());
        assert_eq!(url.path(), "/callback");
    }

    #[test]
    #[cfg_attr(
        not(interop_server),
        ignore = "interop: node or interop/node_modules missing; run `cd interop && npm ci` or set LATCHKEY_INTEROP=required"
    )]
    fn a_provider_starts_serves_discovery_and_stops_on_drop() {
        let provider = Provider::start().unwrap_or_else(|| {
            panic!(
                "{}",
                unavailable(&missing_prerequisite().unwrap_or_default())
            )
        });
        assert!(provider.issuer().starts_with("http://127.0.0.1:"));
        assert!(provider.promises_iss());
        assert_eq!(
            provider.token_endpoint(),
            format!("{}/token", provider.issuer())
        );
        let issuer = provider.issuer().to_owned();
        drop(provider);
        // Killed and reaped: nothing accepts connections there any more.
        let refused = agent(None)
            .get(&format!("{issuer}/.well-known/openid-configuration"))
            .call();
        assert!(refused.is_err(), "{refused:?}");
    }
}
