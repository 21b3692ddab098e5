//! [`Chromedriver`] and [`Chromium`]: a headless browser on loopback, over WebDriver.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Map, json};

use crate::output::output_dir;

/// How long chromedriver may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The Chromium to drive: `LATCHKEY_CHROMIUM`, else the first of `chromium`,
/// `chromium-browser` and `google-chrome` found on `PATH`.
#[must_use]
pub fn chromium_program() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("LATCHKEY_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| on_path(name))
}

/// The chromedriver to start: `LATCHKEY_CHROMEDRIVER`, else `chromedriver` on `PATH`.
#[must_use]
pub fn chromedriver_program() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("LATCHKEY_CHROMEDRIVER") {
        return Some(PathBuf::from(path));
    }
    on_path("chromedriver")
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// Why a browser test cannot run here.
fn unavailable(what: &str) -> String {
    let context = if crate::required() {
        format!("{}=required, but", crate::REQUIRED_VAR)
    } else {
        "this browser test was not ignored, but".to_owned()
    };
    format!(
        "latchkey-browser-tests: {context} {what}: install Chromium and its WebDriver \
         (`apt-get install chromium chromium-driver`)"
    )
}

/// `chromedriver` on a free `127.0.0.1` port, in a process group of its own. Dropping it
/// ends that group (chromedriver and any Chromium it started) and reaps chromedriver.
#[derive(Debug)]
pub struct Chromedriver {
    child: Child,
    url: String,
}

impl Chromedriver {
    /// Starts chromedriver and waits until it accepts connections. Its log goes to
    /// `chromedriver-<tag>.log` in [`output_dir`].
    ///
    /// # Panics
    ///
    /// When chromedriver is missing, exits, or does not listen within 30 s.
    #[must_use]
    pub fn start(tag: &str) -> Self {
        let program =
            chromedriver_program().unwrap_or_else(|| panic!("{}", unavailable("no chromedriver")));
        // A port that was free a moment ago (chromedriver has no "port 0").
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|listener| listener.local_addr())
            .expect("a free loopback port")
            .port();
        let log = output_dir().join(format!("chromedriver-{tag}.log"));
        let mut command = Command::new(&program);
        command
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command.spawn().unwrap_or_else(|e| {
            panic!(
                "{}",
                unavailable(&format!("{} cannot be run ({e})", program.display()))
            )
        });
        let mut driver = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        driver.wait_until_listening(port, &log);
        driver
    }

    fn wait_until_listening(&mut self, port: u16, log: &Path) {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "chromedriver exited ({status}) before listening on {port}; log:\n{}",
                    std::fs::read_to_string(log).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on {port} within {START_TIMEOUT:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Its WebDriver URL, `http://127.0.0.1:<port>`.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // The group this process created for chromedriver (its id is chromedriver's pid):
        // Chromium, started by chromedriver, is in it too.
        #[cfg(unix)]
        {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", self.child.id())])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One headless Chromium session (a fresh profile), on its own [`Chromedriver`].
#[derive(Debug)]
pub struct Chromium {
    client: Client,
    tag: String,
    // Dropped after `client`: the session is closed (see `close`) before the group goes.
    _driver: Chromedriver,
}

impl Chromium {
    /// Starts chromedriver and a headless Chromium (1024×768, no sandbox, no proxy, no
    /// background networking, every host but `127.0.0.1` unresolvable). `tag` names its
    /// screenshots and log.
    ///
    /// # Panics
    ///
    /// When Chromium or chromedriver is missing or the session cannot be created.
    pub async fn start(tag: &str) -> Self {
        let chromium =
            chromium_program().unwrap_or_else(|| panic!("{}", unavailable("no Chromium")));
        let driver = Chromedriver::start(tag);
        let args = [
            "--headless=new",
            // Tests run as root in CI, where Chromium refuses to start with its sandbox.
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--window-size=1024,768",
            "--no-first-run",
            "--no-default-browser-check",
            "--no-proxy-server",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-default-apps",
            "--disable-extensions",
            "--disable-sync",
            "--no-pings",
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        ];
        let mut capabilities = Map::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": chromium, "args": args }),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(driver.url())
            .await
            .unwrap_or_else(|e| panic!("cannot start a Chromium session: {e}"));
        Self {
            client,
            tag: tag.to_owned(),
            _driver: driver,
        }
    }

    /// The WebDriver client.
    #[must_use]
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Saves a screenshot of the current page as `<tag>-<name>.png` in [`output_dir`];
    /// returns its path.
    ///
    /// # Panics
    ///
    /// When the screenshot cannot be taken or written.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self
            .client
            .screenshot()
            .await
            .unwrap_or_else(|e| panic!("screenshot {name}: {e}"));
        let path = output_dir().join(format!("{}-{name}.png", self.tag));
        std::fs::write(&path, png)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        path
    }

    /// The text of the first element matching the CSS `selector`, waiting for it (10 s).
    ///
    /// # Panics
    ///
    /// When no such element appears.
    pub async fn text_of(&self, selector: &str) -> String {
        let element = self
            .client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(fantoccini::Locator::Css(selector))
            .await
            .unwrap_or_else(|e| panic!("no element {selector:?}: {e}"));
        element
            .text()
            .await
            .unwrap_or_else(|e| panic!("the text of {selector:?}: {e}"))
    }

    /// Ends the session (Chromium quits), then chromedriver.
    pub async fn close(self) {
        let Self {
            client, _driver, ..
        } = self;
        let _ = client.close().await;
        drop(_driver);
    }
}
