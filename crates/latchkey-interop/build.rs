// Whether the interop tests can run on this machine, decided when they are compiled, so that
// the ones that cannot run show up in `cargo test` as ignored, with the reason, rather than
// as passed.
//
// Sets `cfg(interop_server)` when `LATCHKEY_INTEROP=required` (the tests then run, and fail
// loudly if the server cannot start), or when `node --version` runs and
// `interop/node_modules/oidc-provider` is installed (`cd interop && npm ci`). The tests carry
//
//     #[cfg_attr(not(interop_server), ignore = "interop: …")]
//
// Written without inner attributes or doc comments so that another package of this workspace
// whose tests start the interop server can reuse it verbatim: its `build.rs` is the one line
// `include!("../latchkey-interop/build.rs");`.

use std::path::PathBuf;
use std::process::{Command, Stdio};

fn main() {
    println!("cargo::rustc-check-cfg=cfg(interop_server)");
    println!("cargo::rerun-if-env-changed=LATCHKEY_INTEROP");
    println!("cargo::rerun-if-env-changed=PATH");

    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    // Every package of the workspace lives in `crates/<name>/`.
    let interop = manifest
        .ancestors()
        .nth(2)
        .unwrap_or(&manifest)
        .join("interop");
    let installed = interop.join("node_modules/oidc-provider/package.json");
    // What `npm ci` (or removing node_modules) changes. With the module installed, that one
    // file; without it, the small `interop/` directory, whose mtime changes when
    // `node_modules` appears, so that the next build decides again.
    if installed.is_file() {
        println!("cargo::rerun-if-changed={}", installed.display());
    } else if interop.is_dir() {
        println!("cargo::rerun-if-changed={}", interop.display());
    }

    let required = std::env::var("LATCHKEY_INTEROP").is_ok_and(|v| v == "required");
    if required || (installed.is_file() && node_runs()) {
        println!("cargo::rustc-cfg=interop_server");
    }
}

fn node_runs() -> bool {
    Command::new("node")
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}
