//! `--cache FILE` end to end: the `latchkey` binary against `latchkey-mock`. A cached token
//! is reused while valid, refreshed (and the rotated refresh token saved) when about to
//! expire, and the full flow runs only when no refresh is possible.

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use latchkey_mock::{Fault, MockClient, MockServer, ResponseStyle};
use serde_json::Value;

const SECRET: &str = "cache-secret-9d2e41";
const REDIRECT: &str = "https://app.example/callback";

fn server() -> MockServer {
    let client = |id: &str, expires_in: u64| {
        MockClient::new(id)
            .secret(SECRET)
            .response_style(ResponseStyle::Clerk)
            .rotate_refresh_tokens(true)
            .expires_in(expires_in)
    };
    MockServer::builder()
        // Valid for an hour: reused.
        .client(client("long-app", 3600))
        // Valid for 30 s, inside the 60 s refresh skew: refreshed on every use.
        .client(client("short-app", 30))
        .start()
}

/// A fresh cache path in a fresh directory, removed on drop.
struct CacheFile {
    dir: PathBuf,
    path: PathBuf,
}

impl CacheFile {
    fn new() -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "latchkey-cli-cache-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("tokens.json");
        Self { dir, path }
    }

    fn arg(&self) -> &str {
        self.path.to_str().unwrap()
    }

    /// The whole file.
    fn file(&self) -> Value {
        serde_json::from_str(&fs::read_to_string(&self.path).unwrap()).unwrap()
    }

    /// The token set of the file's one entry.
    fn json(&self) -> Value {
        let file = self.file();
        assert_eq!(file["entries"].as_array().map(Vec::len), Some(1), "{file}");
        file["entries"][0]["tokens"].clone()
    }

    /// Changes the token set of the file's one entry.
    fn edit(&self, change: impl FnOnce(&mut Value)) {
        let mut file = self.file();
        change(&mut file["entries"][0]["tokens"]);
        fs::write(&self.path, serde_json::to_vec(&file).unwrap()).unwrap();
    }
}

impl Drop for CacheFile {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
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
        self.no_secrets();
        serde_json::from_str(&self.stdout).unwrap()
    }

    /// The mock issues `code_…`, `at_…` and `rt_…` values: none may reach stderr.
    #[track_caller]
    fn no_secrets(&self) {
        assert!(!self.stderr.contains(SECRET), "{}", self.stderr);
        for prefix in ["code_", "at_", "rt_"] {
            for (at, _) in self.stderr.match_indices(prefix) {
                let run = self.stderr[at + prefix.len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                    .count();
                assert!(run < 30, "a credential on stderr: {}", self.stderr);
            }
        }
    }
}

fn latchkey(args: &[&str]) -> Run {
    Run::from(command(args).output().expect("run latchkey"))
}

impl From<std::process::Output> for Run {
    fn from(output: std::process::Output) -> Self {
        Self {
            code: output.status.code(),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        }
    }
}

/// `latchkey ARGS`, with no credentials or proxies from the environment and no stdin.
fn command(args: &[&str]) -> Command {
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
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Plays the browser: the redirect `Location` of an authorization request with `state`.
fn callback(server: &MockServer, client_id: &str, state: &str) -> String {
    browse(server, client_id, state, "code")
}

fn browse(server: &MockServer, client_id: &str, state: &str, response_type: &str) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("response_type", response_type)
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("state", state);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .proxy(None)
        .build()
        .into();
    let url = format!("{}?{}", server.authorization_endpoint(), query.finish());
    let response = agent.get(&url).call().unwrap();
    assert_eq!(response.status().as_u16(), 302);
    response.headers()["location"].to_str().unwrap().to_owned()
}

/// `latchkey authorize --cache FILE`, with a fresh callback in case the full flow runs.
fn authorize(server: &MockServer, client_id: &str, cache: &CacheFile) -> Run {
    Run::from(
        authorize_command(server, client_id, cache)
            .output()
            .expect("run latchkey"),
    )
}

fn authorize_command(server: &MockServer, client_id: &str, cache: &CacheFile) -> Command {
    let location = callback(server, client_id, "st-cache");
    let auth = server.authorization_endpoint();
    let token = server.token_endpoint();
    command(&[
        "authorize",
        "--client-id",
        client_id,
        "--client-secret",
        SECRET,
        "--auth-url",
        &auth,
        "--token-url",
        &token,
        "--no-pkce",
        "--callback",
        &location,
        "--state",
        "st-cache",
        "--cache",
        cache.arg(),
    ])
}

fn str_of<'a>(json: &'a Value, key: &str) -> &'a str {
    json[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} in {json}"))
}

#[test]
fn authorize_logs_in_once_then_reuses_the_cached_token() {
    let server = server();
    let cache = CacheFile::new();
    let first = authorize(&server, "long-app", &cache);
    let tokens = first.success();
    assert!(
        first.stderr.contains("no token set for this client"),
        "{}",
        first.stderr
    );
    assert!(
        first.stderr.contains("saved the token set"),
        "{}",
        first.stderr
    );
    assert_eq!(server.request_count("/token"), 1);
    // The file holds what was printed, privately.
    assert_eq!(
        str_of(&cache.json(), "access_token"),
        str_of(&tokens, "access_token")
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = fs::metadata(&cache.path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    let second = authorize(&server, "long-app", &cache);
    let again = second.success();
    assert!(
        second.stderr.contains("using the cached token"),
        "{}",
        second.stderr
    );
    assert_eq!(
        str_of(&again, "access_token"),
        str_of(&tokens, "access_token")
    );
    assert_eq!(
        str_of(&again, "refresh_token"),
        str_of(&tokens, "refresh_token")
    );
    // Nothing was sent: no code exchange, no refresh.
    assert_eq!(server.request_count("/token"), 1);
}

#[test]
fn a_token_about_to_expire_is_refreshed_and_the_rotated_refresh_token_saved() {
    let server = server();
    let cache = CacheFile::new();
    let first = authorize(&server, "short-app", &cache).success();
    let old_refresh = str_of(&first, "refresh_token").to_owned();

    let second = authorize(&server, "short-app", &cache);
    let refreshed = second.success();
    assert!(
        second.stderr.contains("about to expire"),
        "{}",
        second.stderr
    );
    assert_eq!(server.refresh_count(), 1);
    let new_refresh = str_of(&refreshed, "refresh_token");
    assert_ne!(new_refresh, old_refresh);
    assert_ne!(
        str_of(&refreshed, "access_token"),
        str_of(&first, "access_token")
    );
    // Saved before it was printed: the file holds the rotated refresh token.
    assert_eq!(str_of(&cache.json(), "refresh_token"), new_refresh);
    assert!(server.refresh_token_active(new_refresh));
    assert!(!server.refresh_token_active(&old_refresh));

    // The next run refreshes with the rotated token, which works because it was saved.
    authorize(&server, "short-app", &cache).success();
    assert_eq!(server.refresh_count(), 2);
    // The code was exchanged once; no second login.
    assert_eq!(server.request_count("/token"), 3);
}

#[test]
fn the_full_flow_runs_when_the_refresh_token_is_refused() {
    let server = server();
    let cache = CacheFile::new();
    let first = authorize(&server, "short-app", &cache).success();
    server.revoke_all_tokens();
    let second = authorize(&server, "short-app", &cache);
    let tokens = second.success();
    assert!(
        second
            .stderr
            .contains("refused the cached refresh token (invalid_grant)"),
        "{}",
        second.stderr
    );
    assert!(
        second.stderr.contains("exchanging the authorization code"),
        "{}",
        second.stderr
    );
    assert_ne!(
        str_of(&tokens, "refresh_token"),
        str_of(&first, "refresh_token")
    );
    assert_eq!(
        str_of(&cache.json(), "refresh_token"),
        str_of(&tokens, "refresh_token")
    );
}

#[test]
fn client_credentials_reuse_the_cached_token() {
    let server = MockServer::builder()
        .client(MockClient::new("svc").secret(SECRET))
        .start();
    let cache = CacheFile::new();
    let token_url = server.token_endpoint();
    let args = [
        "client-credentials",
        "--client-id",
        "svc",
        "--client-secret",
        SECRET,
        "--token-url",
        &token_url,
        "--scope",
        "read",
        "--cache",
        cache.arg(),
    ];
    let first = latchkey(&args).success();
    let second = latchkey(&args).success();
    assert_eq!(
        str_of(&first, "access_token"),
        str_of(&second, "access_token")
    );
    assert_eq!(server.request_count("/token"), 1);
    // Another scope is not served from this cache: it gets an entry of its own.
    let mut other = args;
    other[8] = "write";
    let third = latchkey(&other);
    let tokens = third.success();
    assert!(
        third
            .stderr
            .contains("no token set for this client, server and scope"),
        "{}",
        third.stderr
    );
    assert_ne!(
        str_of(&tokens, "access_token"),
        str_of(&first, "access_token")
    );
    assert_eq!(server.request_count("/token"), 2);
    assert_eq!(cache.file()["entries"].as_array().unwrap().len(), 2);
    // Both entries are served to their own key, and nothing is sent.
    assert_eq!(
        str_of(&latchkey(&args).success(), "access_token"),
        str_of(&first, "access_token")
    );
    assert_eq!(
        str_of(&latchkey(&other).success(), "access_token"),
        str_of(&tokens, "access_token")
    );
    assert_eq!(server.request_count("/token"), 2);
}

#[test]
fn refresh_takes_the_refresh_token_from_the_cache() {
    let server = server();
    let cache = CacheFile::new();
    let first = authorize(&server, "short-app", &cache).success();
    let token_url = server.token_endpoint();
    let refresh = |cache: &CacheFile| {
        latchkey(&[
            "refresh",
            "--client-id",
            "short-app",
            "--client-secret",
            SECRET,
            "--token-url",
            &token_url,
            "--cache",
            cache.arg(),
        ])
    };
    let refreshed = refresh(&cache).success();
    assert_ne!(
        str_of(&refreshed, "refresh_token"),
        str_of(&first, "refresh_token")
    );
    assert_eq!(
        str_of(&cache.json(), "refresh_token"),
        str_of(&refreshed, "refresh_token")
    );
    assert_eq!(server.refresh_count(), 1);

    // An empty cache and no --refresh-token: nothing to refresh with.
    let empty = CacheFile::new();
    let failed = refresh(&empty);
    assert_eq!(failed.code, Some(1), "{}", failed.stderr);
    assert!(failed.stdout.is_empty());
    assert!(
        failed.stderr.contains("pass --refresh-token"),
        "{}",
        failed.stderr
    );
}

#[test]
fn implicit_reuses_the_cached_token() {
    let server = server();
    let cache = CacheFile::new();
    let implicit = || {
        let location = browse(&server, "long-app", "st-implicit", "token");
        let auth = server.authorization_endpoint();
        latchkey(&[
            "implicit",
            "--client-id",
            "long-app",
            "--auth-url",
            &auth,
            "--callback",
            &location,
            "--state",
            "st-implicit",
            "--cache",
            cache.arg(),
        ])
    };
    let first = implicit().success();
    let second = implicit();
    let again = second.success();
    assert!(
        second.stderr.contains("using the cached token"),
        "{}",
        second.stderr
    );
    assert_eq!(
        str_of(&again, "access_token"),
        str_of(&first, "access_token")
    );
    assert_eq!(
        str_of(&cache.json(), "access_token"),
        str_of(&first, "access_token")
    );
}

#[test]
fn a_corrupt_cache_is_an_error_that_names_the_file() {
    let server = server();
    let cache = CacheFile::new();
    for (content, says) in [
        ("{not json", "not JSON"),
        ("[]", "it holds a JSON array"),
        (
            r#"{"access_token":"at-old-format-1","token_type":"Bearer"}"#,
            "a single token set",
        ),
    ] {
        fs::write(&cache.path, content).unwrap();
        let run = authorize(&server, "long-app", &cache);
        assert_eq!(run.code, Some(1));
        assert!(run.stdout.is_empty());
        let last = run.stderr.lines().last().unwrap();
        assert!(last.contains("is not a latchkey cache file"), "{last}");
        assert!(last.contains(says), "{last}");
        assert!(last.contains("tokens.json"), "{last}");
        assert!(
            !last.contains("TokenSet") && !last.contains("at-old-format-1"),
            "{last}"
        );
    }
    assert_eq!(server.request_count("/token"), 0);
}

#[test]
fn help_documents_the_cache_on_every_token_producing_subcommand() {
    for subcommand in ["authorize", "implicit", "client-credentials", "refresh"] {
        let run = latchkey(&[subcommand, "--help"]);
        assert_eq!(run.code, Some(0));
        assert!(
            run.stdout.contains("--cache <FILE>"),
            "{subcommand} --help lacks --cache"
        );
        assert!(run.stdout.contains("mode 0600"), "{}", run.stdout);
    }
}

/// Eight runs started together on an expired cached token (a cron minute, the replicas of a
/// service): the cache file's lease lets one refresh while the others wait, and they use
/// what it saved. One refresh at the server, eight identical outputs, the rotated refresh
/// token still alive (a second use of the old one would be reuse).
#[test]
fn eight_runs_started_together_on_an_expired_cache_refresh_once() {
    let server = server();
    let (cache, first) = expired_cache(&server, "long-app");
    let old_refresh = str_of(&first, "refresh_token").to_owned();

    let runs: Vec<_> = (0..8)
        .map(|_| {
            authorize_command(&server, "long-app", &cache)
                .spawn()
                .unwrap()
        })
        .collect();
    let runs: Vec<Run> = runs
        .into_iter()
        .map(|child| Run::from(child.wait_with_output().unwrap()))
        .collect();
    let outputs: Vec<Value> = runs.iter().map(Run::success).collect();
    assert_eq!(server.refresh_count(), 1, "{runs:#?}");
    let access = str_of(&outputs[0], "access_token");
    assert_ne!(access, str_of(&first, "access_token"));
    assert!(outputs.iter().all(|o| str_of(o, "access_token") == access));
    // One run refreshed; each other one either waited for it and took what it saved, or
    // started after it and found a valid token. (Which is which depends on scheduling.)
    let refreshed = runs
        .iter()
        .filter(|r| r.stderr.contains("refreshing at"))
        .count();
    assert_eq!(refreshed, 1, "{runs:#?}");
    assert!(runs.iter().all(|r| r.stderr.contains("refreshing at")
        || r.stderr.contains("another run refreshed")
        || r.stderr.contains("using the cached token")));
    let new_refresh = str_of(&cache.json(), "refresh_token").to_owned();
    assert!(server.refresh_token_active(&new_refresh));
    assert!(!server.refresh_token_active(&old_refresh));
}

/// `latchkey refresh --cache FILE` for `client_id` at `server`.
fn refresh_command(server: &MockServer, client_id: &str, cache: &CacheFile) -> Command {
    let token = server.token_endpoint();
    command(&[
        "refresh",
        "--client-id",
        client_id,
        "--client-secret",
        SECRET,
        "--token-url",
        &token,
        "--cache",
        cache.arg(),
    ])
}

/// Seconds since the Unix epoch.
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Logs in as `client_id` and leaves the cached token set expired an hour ago.
fn expired_cache(server: &MockServer, client_id: &str) -> (CacheFile, Value) {
    let cache = CacheFile::new();
    let first = authorize(server, client_id, &cache).success();
    cache.edit(|tokens| tokens["expires_at"] = Value::from(unix_now() - 3600));
    (cache, first)
}

/// Starts `latchkey refresh --cache` on an expired cache with `fault` on its refresh, kills
/// it (SIGKILL) once the server has the request, and waits until the server is done with it.
fn kill_mid_refresh(server: &MockServer, cache: &CacheFile, fault: Fault, rotated: bool) {
    server.inject("/token", fault, 1);
    let mut killed = refresh_command(server, "kill-app", cache).spawn().unwrap();
    let started = Instant::now();
    let arrived = |n| server.request_count("/token") >= n;
    while !arrived(2) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the refresh never arrived"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    if rotated {
        // The server answers (the token rotates) and is still sending the body.
        while server.refresh_count() < 1 {
            assert!(started.elapsed() < Duration::from_secs(10), "no rotation");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    killed.kill().unwrap();
    let _ = killed.wait();
}

fn kill_app(grace: Option<Duration>) -> MockServer {
    let mut client = MockClient::new("kill-app")
        .secret(SECRET)
        .response_style(ResponseStyle::Clerk)
        .rotate_refresh_tokens(true)
        .expires_in(3600);
    if let Some(grace) = grace {
        client = client.refresh_reuse_grace(grace);
    }
    MockServer::builder().client(client).start()
}

/// The run holding the lease is killed (SIGKILL) before the server handled its refresh: the
/// operating system releases the lease, the next run takes over and its refresh succeeds.
#[test]
fn a_run_killed_before_its_refresh_was_handled_is_taken_over() {
    let server = kill_app(None);
    let (cache, first) = expired_cache(&server, "kill-app");
    kill_mid_refresh(&server, &cache, Fault::Delay(Duration::from_secs(2)), false);
    assert_eq!(
        server.refresh_count(),
        0,
        "the dead run's refresh was never handled"
    );
    let next = Run::from(
        refresh_command(&server, "kill-app", &cache)
            .output()
            .unwrap(),
    );
    let tokens = next.success();
    assert_eq!(server.refresh_count(), 1);
    assert_eq!(server.refresh_reuse_count(), 0);
    assert_ne!(
        str_of(&tokens, "refresh_token"),
        str_of(&first, "refresh_token")
    );
    assert!(server.refresh_token_active(str_of(&tokens, "refresh_token")));
}

/// The run holding the lease is killed while the server's answer is on its way: the refresh
/// token rotated and nobody saved the new one. The next run takes over and presents the old
/// one: reuse. Without a grace period the server revokes the grant, and the run says it
/// cannot refresh, prints no token and does not try again. With a grace period (as Auth0 and
/// Okta keep one) the same takeover gets a live token.
#[test]
fn a_run_killed_after_the_server_rotated_is_taken_over_once() {
    for grace in [None, Some(Duration::from_secs(60))] {
        let server = kill_app(grace);
        let (cache, _) = expired_cache(&server, "kill-app");
        kill_mid_refresh(&server, &cache, Fault::SlowBody, true);
        let next = Run::from(
            refresh_command(&server, "kill-app", &cache)
                .output()
                .unwrap(),
        );
        next.no_secrets();
        if grace.is_some() {
            let tokens = next.success();
            assert_eq!(server.refresh_grace_count(), 1);
            assert!(server.refresh_token_active(str_of(&tokens, "refresh_token")));
        } else {
            assert_ne!(next.code, Some(0), "{next:?}");
            assert!(next.stdout.is_empty(), "no token printed: {}", next.stdout);
            assert!(
                next.stderr.contains("refused the cached refresh token"),
                "{}",
                next.stderr
            );
            assert_eq!(server.refresh_reuse_count(), 1);
            assert_eq!(server.revoked_grants(), 1);
        }
        // One takeover: the code, the dead run's refresh and the next run's, nothing more.
        assert_eq!(server.request_count("/token"), 3, "{next:?}");
    }
}

/// One file, several keys: another client, or the same client with a scope, never gets the
/// cached token of the first; each gets an entry of its own.
#[test]
fn another_client_or_scope_never_gets_a_cached_token() {
    let server = server();
    let cache = CacheFile::new();
    let first = authorize(&server, "long-app", &cache).success();
    let other = authorize(&server, "short-app", &cache);
    let tokens = other.success();
    assert!(
        other.stderr.contains("no token set for this client"),
        "{}",
        other.stderr
    );
    assert_ne!(
        str_of(&tokens, "access_token"),
        str_of(&first, "access_token")
    );
    // The same client with a scope it did not ask for before.
    let mut command = authorize_command(&server, "long-app", &cache);
    command.args(["--scope", "api:write"]);
    let scoped = Run::from(command.output().unwrap());
    let scoped_tokens = scoped.success();
    assert!(
        scoped.stderr.contains("no token set for this client"),
        "{}",
        scoped.stderr
    );
    assert_ne!(
        str_of(&scoped_tokens, "access_token"),
        str_of(&first, "access_token")
    );
    assert_eq!(server.request_count("/token"), 3);
    assert_eq!(cache.file()["entries"].as_array().unwrap().len(), 3);
    // The first is still served to its own key, without a request.
    assert_eq!(
        str_of(
            &authorize(&server, "long-app", &cache).success(),
            "access_token"
        ),
        str_of(&first, "access_token")
    );
    assert_eq!(server.request_count("/token"), 3);
}

/// On a cache hit, `expires_in` is the time left, not the original lifetime.
#[test]
fn a_cache_hit_shows_the_time_left() {
    let server = server();
    let cache = CacheFile::new();
    authorize(&server, "long-app", &cache).success();
    cache.edit(|tokens| tokens["expires_at"] = Value::from(unix_now() + 1000));
    let hit = authorize(&server, "long-app", &cache).success();
    let left = hit["expires_in"].as_u64().unwrap();
    assert!((990..=1000).contains(&left), "{hit}");
    assert_eq!(server.request_count("/token"), 1);
}

/// `--force-refresh` renews a fresh token; `refresh --refresh-token` with `--cache`
/// refreshes with the token given and saves the result.
#[test]
fn force_refresh_and_a_given_refresh_token_renew_a_fresh_token() {
    let server = server();
    let cache = CacheFile::new();
    let first = authorize(&server, "long-app", &cache).success();
    let mut command = authorize_command(&server, "long-app", &cache);
    command.arg("--force-refresh");
    let forced = Run::from(command.output().unwrap());
    let renewed = forced.success();
    assert!(
        forced.stderr.contains("--force-refresh"),
        "{}",
        forced.stderr
    );
    assert_eq!(server.refresh_count(), 1);
    assert_ne!(
        str_of(&renewed, "access_token"),
        str_of(&first, "access_token")
    );
    assert_eq!(
        str_of(&cache.json(), "refresh_token"),
        str_of(&renewed, "refresh_token")
    );

    let mut command = refresh_command(&server, "long-app", &cache);
    command.args(["--refresh-token", str_of(&renewed, "refresh_token")]);
    let given = Run::from(command.output().unwrap());
    let again = given.success();
    assert_eq!(server.refresh_count(), 2);
    assert_ne!(
        str_of(&again, "access_token"),
        str_of(&renewed, "access_token")
    );
    assert_eq!(
        str_of(&cache.json(), "access_token"),
        str_of(&again, "access_token")
    );
}

/// A refused refresh (the grant revoked) removes the entry: the revoked access token is
/// never served again.
#[test]
fn a_refused_refresh_removes_the_entry() {
    let server = server();
    let (cache, first) = expired_cache(&server, "long-app");
    server.revoke_all_tokens();
    let refused = Run::from(
        refresh_command(&server, "long-app", &cache)
            .output()
            .unwrap(),
    );
    assert_eq!(refused.code, Some(1), "{}", refused.stderr);
    assert!(refused.stdout.is_empty());
    refused.no_secrets();
    assert!(
        refused.stderr.contains("removed the entry"),
        "{}",
        refused.stderr
    );
    assert_eq!(cache.file()["entries"], Value::Array(Vec::new()));
    // Nothing is served from the cache any more.
    let again = Run::from(
        refresh_command(&server, "long-app", &cache)
            .output()
            .unwrap(),
    );
    assert_eq!(again.code, Some(1));
    assert!(!again.stdout.contains(str_of(&first, "access_token")));
}

/// With `--issuer`, a cache hit sends nothing at all: not even the metadata request.
#[test]
fn a_cache_hit_with_issuer_sends_nothing() {
    let server = MockServer::builder()
        .client(MockClient::new("svc").secret(SECRET))
        .start();
    let cache = CacheFile::new();
    let issuer = server.issuer();
    let args = [
        "client-credentials",
        "--client-id",
        "svc",
        "--client-secret",
        SECRET,
        "--issuer",
        &issuer,
        "--cache",
        cache.arg(),
    ];
    let first = latchkey(&args).success();
    let sent = server.requests().len();
    assert!(sent >= 2, "metadata and token: {sent}");
    let second = latchkey(&args);
    assert_eq!(
        str_of(&second.success(), "access_token"),
        str_of(&first, "access_token")
    );
    assert!(!second.stderr.contains("metadata"), "{}", second.stderr);
    assert_eq!(server.requests().len(), sent);
}

/// Holds the lease on `FILE.lock` (the `FileStore` lease, as another run would) for `hold`,
/// from now.
fn hold_the_lease(cache: &CacheFile, hold: Duration) -> std::thread::JoinHandle<()> {
    use latchkey::TokenStore as _;
    let lease = latchkey_ureq::FileStore::new(&cache.path)
        .lease(Duration::ZERO)
        .expect("the lease is free");
    std::thread::spawn(move || {
        std::thread::sleep(hold);
        drop(lease);
    })
}

fn client_credentials_args<'a>(token_url: &'a str, cache: &'a CacheFile) -> [&'a str; 11] {
    [
        "client-credentials",
        "--client-id",
        "svc",
        "--client-secret",
        SECRET,
        "--token-url",
        token_url,
        "--scope",
        "read",
        "--cache",
        cache.arg(),
    ]
}

/// A run that finds another run's lease on the file says so once (off a terminal: one plain
/// line, nothing redrawn) and goes on when the lease is released.
#[test]
fn a_run_waits_for_another_runs_lease_and_says_so_once() {
    let server = MockServer::builder()
        .client(MockClient::new("svc").secret(SECRET))
        .start();
    let cache = CacheFile::new();
    let token_url = server.token_endpoint();
    let holder = hold_the_lease(&cache, Duration::from_millis(1500));
    let started = Instant::now();
    let done = latchkey(&client_credentials_args(&token_url, &cache));
    holder.join().unwrap();
    let tokens = done.success();
    assert!(started.elapsed() >= Duration::from_millis(1400));
    assert_eq!(
        str_of(&cache.json(), "access_token"),
        str_of(&tokens, "access_token")
    );
    assert_eq!(
        done.stderr.matches("another run holds").count(),
        1,
        "{}",
        done.stderr
    );
    assert!(
        done.stderr
            .contains("tokens.json.lock; waiting up to 30 s for it"),
        "{}",
        done.stderr
    );
    assert!(!done.stderr.contains(['\r', '\u{1b}']), "{:?}", done.stderr);
    done.no_secrets();
    // Without another run, nothing is said about a lease.
    let again = latchkey(&client_credentials_args(&token_url, &cache));
    again.success();
    assert!(!again.stderr.contains("another run"), "{}", again.stderr);
}

/// On a terminal (`script` gives the command one) the lease wait is a redrawn countdown,
/// cleared when the lease is taken.
#[cfg(target_os = "linux")]
#[test]
fn the_lease_wait_counts_down_on_a_terminal() {
    let server = MockServer::builder()
        .client(MockClient::new("svc").secret(SECRET))
        .start();
    let cache = CacheFile::new();
    let token_url = server.token_endpoint();
    let line = std::iter::once(env!("CARGO_BIN_EXE_latchkey"))
        .chain(client_credentials_args(&token_url, &cache))
        .collect::<Vec<_>>()
        .join(" ");
    let holder = hold_the_lease(&cache, Duration::from_millis(2500));
    let output = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .expect("run script");
    holder.join().unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(output.status.code(), Some(0), "{all:?}");
    assert!(
        all.contains("waiting for the other run's lease, 0:"),
        "{all:?}"
    );
    assert!(all.contains("\u{1b}[2K"), "{all:?}");
    assert!(all.contains("access_token"), "{all:?}");
}
