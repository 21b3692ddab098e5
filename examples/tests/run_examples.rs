//! Runs every example binary against latchkey-mock (as `run-all.sh` does in CI), checks that
//! none prints a secret, and that the real-provider mode is reached only when configured.
//! Everything stays on loopback.

use std::process::{Command, Output, Stdio};

const EXAMPLES: [&str; 6] = [
    env!("CARGO_BIN_EXE_loom_ai_implicit"),
    env!("CARGO_BIN_EXE_loom_ai_pkce"),
    env!("CARGO_BIN_EXE_coloop_private"),
    env!("CARGO_BIN_EXE_coloop_public"),
    env!("CARGO_BIN_EXE_blooma_client_credentials"),
    env!("CARGO_BIN_EXE_loop_and_tie"),
];

/// Runs an example with no provider variables but `vars`, and no stdin.
fn run(example: &str, vars: &[(&str, &str)]) -> Output {
    let mut command = Command::new(example);
    for (name, _) in std::env::vars() {
        if ["LOOM_", "COLOOP_", "BLOOMA_", "LOOP_AND_TIE_"]
            .iter()
            .any(|prefix| name.starts_with(prefix))
        {
            command.env_remove(name);
        }
    }
    command
        .envs(vars.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {example}: {e}"))
}

/// A value the mock issued (`code_`, `at_` or `rt_` and 32 base64url characters) appearing in
/// the output.
fn leaked_token(text: &str) -> Option<&str> {
    for prefix in ["code_", "at_", "rt_"] {
        for (at, _) in text.match_indices(prefix) {
            let before = text[..at].chars().next_back();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                continue;
            }
            let rest = &text[at + prefix.len()..];
            let len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
                .unwrap_or(rest.len());
            if len >= 32 {
                return Some(&text[at..at + prefix.len() + len]);
            }
        }
    }
    None
}

#[test]
fn every_example_succeeds_against_the_mock_without_printing_secrets() {
    for example in EXAMPLES {
        let output = run(example, &[]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "{example} failed:\n{stdout}\n{stderr}"
        );
        assert!(stdout.contains("against latchkey-mock"), "{stdout}");
        assert!(stdout.ends_with("done\n"), "{stdout}");
        let all = format!("{stdout}{stderr}");
        assert!(
            !all.contains("mock-secret"),
            "{example} printed a secret:\n{all}"
        );
        assert_eq!(
            leaked_token(&all),
            None,
            "{example} printed a token:\n{all}"
        );
    }
}

#[test]
fn leak_detector_finds_tokens() {
    assert_eq!(
        leaked_token("x code=code_abcdefghijklmnopqrstuvwxyz-_1234 y"),
        Some("code_abcdefghijklmnopqrstuvwxyz-_1234")
    );
    assert_eq!(
        leaked_token("created_at: 1795433518, code=<redacted>"),
        None
    );
}

#[test]
fn a_half_configured_provider_is_an_error_not_the_mock() {
    let output = run(EXAMPLES[0], &[("LOOM_CLIENT_ID", "my-app")]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("LOOM_AUTH_URL"), "{stderr}");
    assert!(stderr.contains("LOOM_REDIRECT_URI"), "{stderr}");
}

#[test]
fn a_configured_provider_gets_a_human_who_pastes_the_callback() {
    // "Real" mode pointed at a loopback address: the example prints the URL to open, then
    // fails because stdin is closed. Nothing is contacted.
    let output = run(
        EXAMPLES[0],
        &[
            ("LOOM_AUTH_URL", "http://127.0.0.1:9/authorize"),
            ("LOOM_CLIENT_ID", "my-app"),
            ("LOOM_REDIRECT_URI", "https://app.example/oauth/callback"),
        ],
    );
    assert!(!output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stdout.contains("against the real Loom AI"), "{stdout}");
    assert!(
        stdout.contains("http://127.0.0.1:9/authorize?response_type=token&client_id=my-app"),
        "{stdout}"
    );
    assert!(stderr.contains("no callback URL on stdin"), "{stderr}");
}
