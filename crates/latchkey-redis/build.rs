// Whether the tests that start `redis-server` can run here, decided when they are compiled,
// so that where they cannot they show up in `cargo test` as ignored, with the reason, rather
// than as passed.
//
// Sets `cfg(redis_server)` when the environment variable `LATCHKEY_REDIS` is set to anything
// (CI sets `LATCHKEY_REDIS=required`: the tests then run, and fail with a clear message when
// `redis-server` is missing), or when `redis-server --version` runs. Only with the variable
// unset and no `redis-server` on PATH are the tests compiled as
//
//     #[cfg_attr(not(redis_server), ignore = "redis: …")]

use std::path::PathBuf;
use std::process::{Command, Stdio};

fn main() {
    println!("cargo::rustc-check-cfg=cfg(redis_server)");
    println!("cargo::rerun-if-env-changed=LATCHKEY_REDIS");
    println!("cargo::rerun-if-env-changed=PATH");

    // Decide again when redis-server appears or goes: watch it where it is, or else the
    // directories of PATH (a directory's listing changes when a program is installed there).
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::env::split_paths(&path)
        .filter(|dir| dir.is_dir())
        .collect();
    match dirs
        .iter()
        .map(|dir| dir.join("redis-server"))
        .find(|program| program.is_file())
    {
        Some(program) => println!("cargo::rerun-if-changed={}", program.display()),
        None => {
            for dir in &dirs {
                println!("cargo::rerun-if-changed={}", dir.display());
            }
        }
    }

    let required = std::env::var_os("LATCHKEY_REDIS").is_some_and(|v| !v.is_empty());
    if required || redis_server_runs() {
        println!("cargo::rustc-cfg=redis_server");
    }
}

fn redis_server_runs() -> bool {
    Command::new("redis-server")
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}
