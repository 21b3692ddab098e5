// Whether the browser tests can run on this machine, decided when they are compiled, so that
// the ones that cannot run show up in `cargo test` as ignored, with the reason, rather than
// as passed (the same scheme as latchkey-interop's build script).
//
// Sets `cfg(browser)` when `LATCHKEY_BROWSER=required` (the tests then run, and fail loudly
// when Chromium or chromedriver is missing), or when `chromedriver --version` runs and a
// Chromium is found (`LATCHKEY_CHROMIUM`, else `chromium`, `chromium-browser` or
// `google-chrome` on PATH). Sets `cfg(browser_interop)` when `cfg(browser)` is set and the
// interop server can run too (`LATCHKEY_INTEROP=required`, or `node --version` runs and
// `interop/node_modules/oidc-provider` is installed).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn main() {
    println!("cargo::rustc-check-cfg=cfg(browser)");
    println!("cargo::rustc-check-cfg=cfg(browser_interop)");
    for var in [
        "LATCHKEY_BROWSER",
        "LATCHKEY_INTEROP",
        "LATCHKEY_CHROMIUM",
        "LATCHKEY_CHROMEDRIVER",
        "PATH",
    ] {
        println!("cargo::rerun-if-env-changed={var}");
    }
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let interop = manifest
        .ancestors()
        .nth(2)
        .unwrap_or(&manifest)
        .join("interop");
    let installed = interop.join("node_modules/oidc-provider/package.json");
    if installed.is_file() {
        println!("cargo::rerun-if-changed={}", installed.display());
    } else if interop.is_dir() {
        println!("cargo::rerun-if-changed={}", interop.display());
    }

    let required = |var: &str| std::env::var(var).is_ok_and(|v| v == "required");
    let browser = required("LATCHKEY_BROWSER")
        || (runs(
            &std::env::var("LATCHKEY_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into()),
        ) && chromium_found());
    if browser {
        println!("cargo::rustc-cfg=browser");
        if required("LATCHKEY_INTEROP") || (installed.is_file() && runs("node")) {
            println!("cargo::rustc-cfg=browser_interop");
        }
    }
}

fn chromium_found() -> bool {
    if let Some(path) = std::env::var_os("LATCHKEY_CHROMIUM") {
        return Path::new(&path).is_file();
    }
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .any(|name| runs(name))
}

fn runs(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}
