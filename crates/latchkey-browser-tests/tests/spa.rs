//! The WebAssembly single-page app of `examples/spa` in headless Chromium, against
//! latchkey-mock with CORS for the app's origin: Loom AI's implicit flow and code + PKCE
//! (seed document 000) complete and show the token's expiry, never the token; a forged
//! fragment with another state is refused on the page. A screenshot of each final page goes
//! to `<target>/browser-screenshots/`.
//!
//! The app is built beforehand by `bash examples/spa/build.sh` into `<target>/spa` (or
//! `LATCHKEY_SPA_DIR`); `.ci/run` does it. Where Chromium is missing these tests are ignored
//! with the reason (see the crate docs).

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use latchkey_browser_tests::fantoccini::Locator;
use latchkey_browser_tests::{Chromium, StaticServer, browser_test, required};
use latchkey_mock::{Fault, GrantType, MockClient, MockServer};
use serde_json::json;

/// Loom AI's API audience (seed document 000).
const AUDIENCE: &str = "https://api.loomai.com/";
const IMPLICIT_CLIENT: &str = "loomai-spa";
const CODE_CLIENT: &str = "loomai-spa-pkce";
const SCOPE: &str = "read:avatars";

/// The built app: `LATCHKEY_SPA_DIR`, else `<target>/spa`.
fn spa_dir() -> PathBuf {
    std::env::var_os("LATCHKEY_SPA_DIR").map_or_else(
        || {
            let exe = std::env::current_exe().unwrap_or_default();
            exe.ancestors()
                .nth(3)
                .map_or_else(|| PathBuf::from("target"), PathBuf::from)
                .join("spa")
        },
        PathBuf::from,
    )
}

/// The app on a static server and the mock that allows its origin.
struct Site {
    mock: MockServer,
    web: StaticServer,
}

/// `None` (after a "skipped" line) when the app is not built, unless
/// `LATCHKEY_BROWSER=required`.
fn site() -> Option<Site> {
    let dir = spa_dir();
    if !dir.join("latchkey_spa_bg.wasm").is_file() {
        let message = format!(
            "the single-page app is not built in {}: run `bash examples/spa/build.sh`",
            dir.display()
        );
        assert!(!required(), "LATCHKEY_BROWSER=required, but {message}");
        eprintln!("latchkey-browser-tests: skipped: {message}");
        return None;
    }
    let web = StaticServer::start(dir, Vec::new());
    // Loopback redirect URIs match on any port (RFC 8252 §7.3, as the mock checks them).
    let mock = MockServer::builder()
        .client(
            MockClient::new(IMPLICIT_CLIENT)
                .require_audience(AUDIENCE)
                .redirect_uris(["http://127.0.0.1/"])
                .grant_types([GrantType::Implicit]),
        )
        .client(
            MockClient::new(CODE_CLIENT)
                .require_audience(AUDIENCE)
                .require_pkce(true)
                .redirect_uris(["http://127.0.0.1/"]),
        )
        .cors_origins([web.origin()])
        .start();
    let config = json!({
        "issuer": mock.issuer(),
        "authorization_endpoint": mock.authorization_endpoint(),
        "token_endpoint": mock.token_endpoint(),
        "implicit_client_id": IMPLICIT_CLIENT,
        "code_client_id": CODE_CLIENT,
        "audience": AUDIENCE,
        "scope": SCOPE,
    });
    web.put(
        "/config.json",
        "application/json",
        config.to_string().into_bytes(),
    );
    Some(Site { mock, web })
}

/// Opens the app and waits until it is ready.
async fn open(browser: &Chromium, site: &Site) {
    browser
        .client()
        .goto(&format!("{}/", site.web.origin()))
        .await
        .expect("open the app");
    wait_for_status(browser, "Ready").await;
}

/// Waits until `#status` starts with `prefix`; returns its text.
async fn wait_for_status(browser: &Chromium, prefix: &str) -> String {
    let mut last = String::new();
    for _ in 0..200 {
        if let Ok(element) = browser.client().find(Locator::Css("#status")).await {
            last = element.text().await.unwrap_or_default();
            if last.starts_with(prefix) {
                return last;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("#status never started with {prefix:?}; it says {last:?}");
}

/// Presses the button `id` and waits for the signed-in status; checks what the page shows
/// and keeps; returns the status text.
async fn sign_in(browser: &Chromium, site: &Site, id: &str) -> String {
    let client = browser.client();
    client
        .find(Locator::Css(&format!("#{id}")))
        .await
        .expect("the sign-in button")
        .click()
        .await
        .expect("press it");
    let text = wait_for_status(browser, "Signed in with").await;
    let status = client.find(Locator::Css("#status")).await.expect("#status");
    let expires_at: u64 = status
        .attr("data-expires-at")
        .await
        .expect("the attribute")
        .expect("data-expires-at")
        .parse()
        .expect("seconds");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        (now + 3500..=now + 3700).contains(&expires_at),
        "expires at {expires_at}, now {now}"
    );
    assert!(text.contains("The access token expires at"), "{text}");
    // Never the token: not on the page, not in the address bar, not kept in storage.
    let source = client.source().await.expect("the page source");
    assert!(!source.contains("at_"), "a token on the page:\n{source}");
    let url = client.current_url().await.expect("the URL");
    assert_eq!(url.as_str(), format!("{}/", site.web.origin()));
    let kept = client
        .execute(
            "return JSON.stringify([sessionStorage.length, localStorage.length, document.cookie])",
            Vec::new(),
        )
        .await
        .expect("read the storage");
    assert_eq!(kept.as_str(), Some("[0,0,\"\"]"), "{kept}");
    text
}

browser_test! {
    async fn the_spa_completes_the_implicit_flow_and_shows_the_expiry() {
        let Some(site) = site() else { return };
        let browser = Chromium::start("spa-implicit").await;
        open(&browser, &site).await;
        browser.screenshot("0-ready").await;
        let text = sign_in(&browser, &site, "implicit").await;
        assert!(text.starts_with("Signed in with the implicit flow."), "{text}");
        browser.screenshot("1-signed-in").await;
        browser.close().await;

        let authorize = site.mock.requests_to("/authorize");
        assert_eq!(authorize.len(), 1);
        assert_eq!(authorize[0].param("response_type"), Some("token"));
        assert_eq!(authorize[0].param("audience"), Some(AUDIENCE));
        assert_eq!(site.mock.request_count("/token"), 0);
    }
}

browser_test! {
    async fn the_spa_completes_code_and_pkce_with_fetch_and_shows_the_expiry() {
        let Some(site) = site() else { return };
        let browser = Chromium::start("spa-code").await;
        open(&browser, &site).await;
        let text = sign_in(&browser, &site, "code").await;
        assert!(text.starts_with("Signed in with code + PKCE."), "{text}");
        browser.screenshot("1-signed-in").await;
        browser.close().await;

        let authorize = site.mock.requests_to("/authorize");
        assert_eq!(authorize[0].param("code_challenge_method"), Some("S256"));
        let token = site.mock.requests_to("/token");
        let token = token
            .iter()
            .find(|r| r.method == "POST")
            .expect("the token request, sent with fetch");
        assert_eq!(token.param("grant_type"), Some("authorization_code"));
        assert_eq!(token.param("audience"), Some(AUDIENCE));
        assert!(token.param("code_verifier").is_some());
        assert_eq!(token.header("origin"), Some(site.web.origin().as_str()));
    }
}

browser_test! {
    async fn a_forged_fragment_with_the_wrong_state_is_refused_on_the_page() {
        let Some(site) = site() else { return };
        let browser = Chromium::start("spa-forged").await;
        open(&browser, &site).await;
        // A sign-in is started (its state kept in sessionStorage), but the authorization
        // server fails; then a page of the attacker's sends the browser back with a token
        // and a state of its own.
        site.mock.inject("/authorize", Fault::status(500), 1);
        browser
            .client()
            .find(Locator::Css("#implicit"))
            .await
            .expect("the button")
            .click()
            .await
            .expect("press it");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while site.mock.request_count("/authorize") == 0 {
            assert!(std::time::Instant::now() < deadline, "the app never left");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let forged = format!(
            "{}/#access_token=at_forged_token&token_type=Bearer&expires_in=3600&state=forged",
            site.web.origin()
        );
        browser.client().goto(&forged).await.expect("the forged callback");
        let text = wait_for_status(&browser, "Refused").await;
        assert!(text.contains("state"), "{text}");
        let status = browser
            .client()
            .find(Locator::Css("#status"))
            .await
            .expect("#status");
        assert_eq!(status.attr("class").await.expect("class").as_deref(), Some("error"));
        let source = browser.client().source().await.expect("the page source");
        assert!(!source.contains("at_forged_token"), "{source}");
        browser.screenshot("1-refused").await;
        browser.close().await;
    }
}
