//! # latchkey-browser-tests: latchkey in a real browser
//!
//! Helpers for tests that drive a headless Chromium over WebDriver (with
//! [`fantoccini`]), on loopback only:
//!
//! - [`Chromedriver`]: `chromedriver` started on a free `127.0.0.1` port, in a process group
//!   of its own that is ended (with the Chromium it started) when it is dropped;
//! - [`Chromium`]: one headless browser session on it, with [`Chromium::screenshot`] writing
//!   PNGs under [`output_dir`] (`<target>/browser-screenshots/` unless
//!   `LATCHKEY_BROWSER_OUTPUT` says otherwise);
//! - [`StaticServer`]: a tiny static file server on `127.0.0.1`, for the WebAssembly
//!   single-page app of `examples/spa`;
//! - [`browser_test!`] and [`browser_interop_test!`]: a `#[test]` that runs an async body on
//!   a tokio runtime, ignored with the reason where Chromium (and, for the second, the
//!   interop server) is missing.
//!
//! ## When Chromium is missing
//!
//! The build script sets `cfg(browser)` when `LATCHKEY_BROWSER=required` (CI sets it: the
//! tests then run and fail loudly when something is missing) or when `chromedriver
//! --version` runs and a Chromium is found (`LATCHKEY_CHROMIUM`, else `chromium`,
//! `chromium-browser` or `google-chrome` on `PATH`; `LATCHKEY_CHROMEDRIVER` names another
//! chromedriver). Without it the tests are listed as ignored, with the reason. On Debian:
//! `apt-get install chromium chromium-driver` (`.ci/run` does it when they are missing).
//!
//! `cfg(browser_interop)` is set when the interop server (oidc-provider, see
//! `latchkey-interop`) can run as well.
//!
//! Nothing here contacts any address other than loopback: Chromium runs with no proxy, its
//! background networking off, and every host name but `127.0.0.1` unresolvable.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod chromium;
mod output;
mod static_server;

pub use chromium::{Chromedriver, Chromium, chromedriver_program, chromium_program};
pub use fantoccini;
pub use output::output_dir;
pub use static_server::StaticServer;

/// The environment variable that turns a missing Chromium into a failure: `required`.
pub const REQUIRED_VAR: &str = "LATCHKEY_BROWSER";

/// True when `LATCHKEY_BROWSER=required`.
#[must_use]
pub fn required() -> bool {
    std::env::var(REQUIRED_VAR).is_ok_and(|v| v == "required")
}

/// Runs `future` to completion on a new multi-threaded tokio runtime (fantoccini's session
/// task runs on it while the test blocks on a child process).
///
/// # Panics
///
/// When the runtime cannot be built.
pub fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(future)
}

/// Declares one browser test: `#[test]` running the async body with [`block_on`], where
/// Chromium can run on this machine (see the crate docs), else the same test ignored with
/// the reason.
///
/// ```text
/// latchkey_browser_tests::browser_test! {
///     async fn the_page_loads() {
///         let browser = latchkey_browser_tests::Chromium::start().await;
///     }
/// }
/// ```
#[cfg(browser)]
#[macro_export]
macro_rules! browser_test {
    ($(#[$meta:meta])* async fn $name:ident() $body:block) => {
        $(#[$meta])*
        #[test]
        fn $name() {
            $crate::block_on(async move $body)
        }
    };
}

/// Declares one browser test (see the other definition): here Chromium cannot run, so the
/// test is ignored, with the reason.
#[cfg(not(browser))]
#[macro_export]
macro_rules! browser_test {
    ($(#[$meta:meta])* async fn $name:ident() $body:block) => {
        $(#[$meta])*
        #[test]
        #[ignore = "browser: chromium or chromedriver missing; run `apt-get install chromium chromium-driver` or set LATCHKEY_BROWSER=required"]
        fn $name() {
            $crate::block_on(async move $body)
        }
    };
}

/// Declares one test that needs both Chromium and the interop server (oidc-provider): like
/// [`browser_test!`], ignored with the reason where either is missing.
#[cfg(browser_interop)]
#[macro_export]
macro_rules! browser_interop_test {
    ($(#[$meta:meta])* async fn $name:ident() $body:block) => {
        $(#[$meta])*
        #[test]
        fn $name() {
            $crate::block_on(async move $body)
        }
    };
}

/// Declares one test that needs both Chromium and the interop server (see the other
/// definition): here one of them cannot run, so the test is ignored, with the reason.
#[cfg(not(browser_interop))]
#[macro_export]
macro_rules! browser_interop_test {
    ($(#[$meta:meta])* async fn $name:ident() $body:block) => {
        $(#[$meta])*
        #[test]
        #[ignore = "browser + interop: chromium, chromedriver, node or interop/node_modules missing; install them or set LATCHKEY_BROWSER=required and LATCHKEY_INTEROP=required"]
        fn $name() {
            $crate::block_on(async move $body)
        }
    };
}
