//! `latchkey authorize --issuer <oidc-provider>` with the loopback listener, its browser a
//! headless Chromium: `--browser-command` hands the URL over, the test types the login and
//! the consent into oidc-provider's real pages, the redirect lands on latchkey's listener,
//! and the page shown and the command's output are checked. Screenshots of each page go to
//! `<target>/browser-screenshots/` (see `latchkey_browser_tests::output_dir`).
//!
//! Ignored, with the reason, where Chromium, chromedriver, Node.js or
//! `interop/node_modules` is missing, unless `LATCHKEY_BROWSER=required` and
//! `LATCHKEY_INTEROP=required` (CI).
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use latchkey_browser_tests::fantoccini::Locator;
use latchkey_browser_tests::{Chromium, browser_interop_test};
use latchkey_interop::clients::PUBLIC_PKCE;
use latchkey_interop::{Provider, query_param, with_query_param};
use serde_json::{Map, Value};

/// How long one `latchkey` run may take.
const RUN_LIMIT: Duration = Duration::from_secs(60);

/// The "browser" latchkey runs: writes its one argument, the URL, to `url` beside it
/// (through a rename, so the test never reads half a URL).
const OPENER: &str = "#!/bin/sh\n\
dir=$(dirname \"$0\")\n\
printf '%s\\n' \"$1\" > \"$dir/url.part\" && mv \"$dir/url.part\" \"$dir/url\"\n";

/// A running `latchkey authorize` whose browser is [`OPENER`].
struct Login {
    child: Child,
    dir: PathBuf,
    stdout: JoinHandle<String>,
    stderr: JoinHandle<String>,
}

/// How the run ended.
struct Done {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Login {
    /// `latchkey authorize --issuer … --client-id public-pkce --browser-command <opener>`.
    fn start(provider: &Provider, tag: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("latchkey-browser-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let opener = dir.join("open.sh");
        std::fs::write(&opener, OPENER).expect("write the opener");
        make_executable(&opener);
        let mut command = Command::new(env!("CARGO_BIN_EXE_latchkey"));
        command
            .args(["authorize", "--issuer", provider.issuer()])
            .args(["--client-id", PUBLIC_PKCE, "--scope", "openid email"])
            .arg("--browser-command")
            .arg(&opener)
            .args(["--login-timeout", "45"]);
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
            "BROWSER",
        ] {
            command.env_remove(var);
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn latchkey");
        let stdout = read_all(child.stdout.take().expect("stdout"));
        let stderr = read_all(child.stderr.take().expect("stderr"));
        Self {
            child,
            dir,
            stdout,
            stderr,
        }
    }

    /// The URL the opener received (waits for it).
    fn opened_url(&self) -> String {
        let file = self.dir.join("url");
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(url) = std::fs::read_to_string(&file) {
                return url.trim().to_owned();
            }
            thread::sleep(Duration::from_millis(25));
        }
        panic!("the browser command was not run within 30 s");
    }

    /// Waits for the exit (at most [`RUN_LIMIT`]).
    fn finish(mut self) -> Done {
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
        let _ = std::fs::remove_dir_all(&self.dir);
        Done {
            code: status.code(),
            stdout: self.stdout.join().expect("stdout thread"),
            stderr: self.stderr.join().expect("stderr thread"),
        }
    }
}

impl Done {
    /// The token set printed on success; checks that none of its credentials is on stderr.
    fn token_set(&self) -> Map<String, Value> {
        assert_eq!(self.code, Some(0), "stderr:\n{}", self.stderr);
        let json: Map<String, Value> = serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not a JSON object ({e}): {}", self.stdout));
        let access = json["access_token"].as_str().expect("access_token");
        assert!(access.len() >= 32, "{}", self.stdout);
        assert_eq!(json["token_type"], "Bearer");
        assert_eq!(json["expires_in"], 3600);
        assert!(json["id_token"].is_string(), "openid was asked for");
        for key in ["access_token", "refresh_token", "id_token"] {
            if let Some(secret) = json.get(key).and_then(Value::as_str) {
                assert!(!self.stderr.contains(secret), "{key} on stderr");
            }
        }
        json
    }
}

fn read_all(mut from: impl std::io::Read + Send + 'static) -> JoinHandle<String> {
    thread::spawn(move || {
        let mut all = String::new();
        let _ = from.read_to_string(&mut all);
        all
    })
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// Types `alice` and a password into oidc-provider's login page and submits it.
async fn sign_in(browser: &Chromium) {
    let client = browser.client();
    let login = client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("input[name=login]"))
        .await
        .expect("oidc-provider's login page");
    login.send_keys("alice").await.expect("type the login");
    client
        .find(Locator::Css("input[name=password]"))
        .await
        .expect("the password field")
        .send_keys("any password")
        .await
        .expect("type the password");
    browser.screenshot("1-login").await;
    client
        .find(Locator::Css("button[type=submit]"))
        .await
        .expect("the sign-in button")
        .click()
        .await
        .expect("sign in");
}

/// Waits for oidc-provider's consent page (its form carries `prompt=consent`).
async fn consent_page(browser: &Chromium) {
    browser
        .client()
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("input[name=prompt][value=consent]"))
        .await
        .expect("oidc-provider's consent page");
    browser.screenshot("2-consent").await;
}

/// Presses the consent page's "Continue".
async fn consent(browser: &Chromium) {
    consent_page(browser).await;
    browser
        .client()
        .find(Locator::Css("button[type=submit]"))
        .await
        .expect("the Continue button")
        .click()
        .await
        .expect("consent");
}

/// The listener's page after the redirect: checks that the browser is on the redirect URI
/// and returns the page's heading and text.
async fn landing_page(browser: &Chromium, redirect_uri: &str) -> (String, String) {
    let heading = browser.text_of("h1").await;
    let url = browser.client().current_url().await.expect("the URL");
    assert!(
        url.as_str().starts_with(&format!("{redirect_uri}?")),
        "{url} is not on {redirect_uri}"
    );
    let body = browser.text_of("body").await;
    browser.screenshot("3-done").await;
    (heading, body)
}

browser_interop_test! {
    async fn chromium_signs_in_on_oidc_provider_pages_and_latchkey_prints_the_tokens() {
        let provider = Provider::expect_shared();
        let login = Login::start(provider, "login");
        let url = login.opened_url();
        assert!(url.starts_with(provider.authorization_endpoint()), "{url}");
        let redirect_uri = query_param(&url, "redirect_uri").expect("redirect_uri");
        assert_eq!(query_param(&url, "code_challenge_method").as_deref(), Some("S256"));

        let browser = Chromium::start("cli-login").await;
        browser.client().goto(&url).await.expect("open the authorization URL");
        sign_in(&browser).await;
        consent(&browser).await;
        let (heading, body) = landing_page(&browser, &redirect_uri).await;
        assert_eq!(heading, "Signed in");
        assert!(body.contains("You can close this tab"), "{body}");
        browser.close().await;

        let tokens = login.finish().token_set();
        assert!(tokens["refresh_token"].is_string());
    }
}

browser_interop_test! {
    async fn cancel_at_consent_shows_access_denied_and_the_command_reports_it() {
        let provider = Provider::expect_shared();
        let login = Login::start(provider, "cancel");
        let url = login.opened_url();
        let redirect_uri = query_param(&url, "redirect_uri").expect("redirect_uri");

        let browser = Chromium::start("cli-cancel").await;
        browser.client().goto(&url).await.expect("open the authorization URL");
        sign_in(&browser).await;
        consent_page(&browser).await;
        // The dev interaction page's "[ Cancel ]" link.
        browser
            .client()
            .find(Locator::Css("a[href$='/abort']"))
            .await
            .expect("the Cancel link")
            .click()
            .await
            .expect("cancel");
        let (heading, body) = landing_page(&browser, &redirect_uri).await;
        assert_eq!(heading, "Authorization failed");
        assert!(body.contains("access_denied"), "{body}");
        browser.close().await;

        let done = login.finish();
        assert_eq!(done.code, Some(1), "stderr:\n{}", done.stderr);
        assert_eq!(done.stdout, "");
        let last = done.stderr.lines().last().unwrap_or_default();
        assert!(
            last.starts_with("latchkey: error: ") && last.contains("access_denied"),
            "{}",
            done.stderr
        );
    }
}

browser_interop_test! {
    async fn a_second_tab_with_a_wrong_state_is_ignored_and_the_login_completes() {
        let provider = Provider::expect_shared();
        let login = Login::start(provider, "stray");
        let url = login.opened_url();
        let redirect_uri = query_param(&url, "redirect_uri").expect("redirect_uri");

        let browser = Chromium::start("cli-stray").await;
        let client = browser.client();
        client.goto(&url).await.expect("open the authorization URL");
        let first = client.window().await.expect("the first tab");

        // Another tab hits the listener with a forged code and a wrong state.
        let forged = with_query_param(
            &with_query_param(&format!("{redirect_uri}?code=forged"), "state", "not-the-state"),
            "iss",
            provider.issuer(),
        );
        let tab = client.new_window(true).await.expect("a new tab");
        client.switch_to_window(tab.handle).await.expect("switch to the new tab");
        client.goto(&forged).await.expect("open the forged callback");
        assert_eq!(browser.text_of("h1").await, "Not this sign-in");
        assert!(browser.text_of("body").await.contains("still waiting"));
        browser.screenshot("0-stray-tab").await;
        client.close_window().await.expect("close the stray tab");
        client.switch_to_window(first).await.expect("back to the first tab");

        sign_in(&browser).await;
        consent(&browser).await;
        let (heading, _) = landing_page(&browser, &redirect_uri).await;
        assert_eq!(heading, "Signed in");
        browser.close().await;

        login.finish().token_set();
    }
}
