//! Where the browser tests leave what people may want to look at (screenshots, the
//! chromedriver log).

use std::path::PathBuf;

/// The variable that names another output directory.
const OUTPUT_VAR: &str = "LATCHKEY_BROWSER_OUTPUT";

/// `LATCHKEY_BROWSER_OUTPUT`, else `<target>/browser-screenshots`, where `<target>` is the
/// Cargo target directory of the running test binary (`<target>/debug/deps/<test>`); created
/// if missing.
///
/// # Panics
///
/// When the directory cannot be created.
#[must_use]
pub fn output_dir() -> PathBuf {
    let dir = std::env::var_os(OUTPUT_VAR).map_or_else(
        || {
            let exe = std::env::current_exe().unwrap_or_default();
            // <target>/<profile>/deps/<binary>
            exe.ancestors()
                .nth(3)
                .map_or_else(|| PathBuf::from("target"), PathBuf::from)
                .join("browser-screenshots")
        },
        PathBuf::from,
    );
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}
