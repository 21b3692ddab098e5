//! A child made by `fork()` draws its own random values: nothing the parent made before the
//! fork, and nothing the parent makes after it, comes out of the child again.
//!
//! A binary of its own rather than a module of `tests/core.rs`: forking while other tests run
//! on other threads is asking for trouble. The child reports through a file, and the test reads
//! the clock for a unique file name: the core's ban on I/O and clocks (clippy.toml) is for the
//! library, not for this harness.
#![cfg(all(unix, feature = "os-rng"))]
#![allow(clippy::disallowed_methods)]

use std::time::{SystemTime, UNIX_EPOCH};

use latchkey::{PkceVerifier, State};

fn values() -> String {
    let state = State::generate().expect("state");
    let verifier = PkceVerifier::generate().expect("verifier");
    format!("{} {}", state.as_str(), verifier.expose_secret())
}

#[test]
fn forked_child_does_not_repeat_the_parents_values() {
    // The parent has used latchkey's randomness before it forks, as a server that forks
    // workers after start-up would.
    let before = values();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let out =
        std::env::temp_dir().join(format!("latchkey-fork-{}-{nanos}.txt", std::process::id()));
    match fork::fork().expect("fork") {
        fork::Fork::Child => {
            // No call of any kind between the fork and the child's next values.
            let child = values();
            let code = i32::from(std::fs::write(&out, child).is_err());
            std::process::exit(code);
        }
        fork::Fork::Parent(pid) => {
            let parent = values();
            fork::waitpid(pid).expect("waitpid");
            let child = std::fs::read_to_string(&out).expect("the child wrote its values");
            let _ = std::fs::remove_file(&out);
            let child_state = child.split(' ').next().expect("state");
            let parent_state = parent.split(' ').next().expect("state");
            assert_eq!(child_state.len(), 22);
            assert_ne!(
                child_state, parent_state,
                "the child repeated the parent's state"
            );
            assert_ne!(child, parent, "the child repeated the parent's values");
            assert!(!before.contains(child_state));
        }
    }
}
