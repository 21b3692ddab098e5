//! `device` end to end against `latchkey-mock`: the device authorization grant (RFC 8628),
//! approved, denied, slowed down and expired, with `--resource`. Every run also checks that
//! stderr carries no secret.

mod support;

use latchkey_mock::{Fault, MockServer};
use support::{API, Running, builder, latchkey, spawn, str_of};

/// Starts `latchkey device` for `tv` and returns it with the user code it printed.
fn start_device(server: &MockServer) -> (Running, String) {
    let mut command = latchkey();
    command.args(["device", "--client-id", "tv", "--issuer", &server.issuer()]);
    command.args(["--scope", "read", "--resource", API]);
    let running = spawn(command);
    let verification = running.line(|l| {
        l.strip_prefix("latchkey: on a device with a browser, open ")
            .map(str::to_owned)
    });
    assert_eq!(verification, server.endpoint("/device"));
    let user_code = running.line(|l| {
        l.strip_prefix("latchkey: and enter the code ")
            .map(str::to_owned)
    });
    let complete = running.line(|l| l.strip_prefix("latchkey: (or open ").map(str::to_owned));
    assert!(
        complete.contains(&format!("user_code={user_code}")),
        "{complete}"
    );
    (running, user_code)
}

#[test]
fn device_prints_the_code_and_polls_until_approved() {
    let server = builder().start();
    let (running, user_code) = start_device(&server);
    running.line(|l| l.contains("waiting up to 600 s").then_some(()));
    assert!(server.approve_device(&user_code));
    let done = running.finish();
    let tokens = done.success();
    assert_eq!(tokens["scope"], "read");
    // Off a terminal the wait is said once and never redrawn.
    assert!(!done.stderr.contains(['\r', '\u{1b}']), "{:?}", done.stderr);
    assert_eq!(done.stderr.matches("waiting").count(), 1, "{}", done.stderr);
    done.no_secrets(&[str_of(&tokens, "access_token")]);
    let device_code = server.requests_to("/token")[0]
        .param("device_code")
        .unwrap()
        .to_owned();
    done.no_secrets(&[&device_code]);
    assert_eq!(
        server.requests_to("/device_authorization")[0].param("resource"),
        Some(API)
    );
}

#[test]
fn device_denied_slowed_down_or_expired() {
    let server = builder().device_code_expires_in(3).start();
    let (running, user_code) = start_device(&server);
    assert!(server.deny_device(&user_code));
    let done = running.finish();
    assert!(done.failure(1).contains("access_denied"), "{}", done.stderr);

    // slow_down: the interval grows by 5 s, and the command says so.
    server.inject(
        "/token",
        Fault::body(400, "application/json", r#"{"error":"slow_down"}"#),
        1,
    );
    let (running, _) = start_device(&server);
    let done = running.finish();
    assert!(
        done.stderr.contains("slow down; polling every 6 s"),
        "{}",
        done.stderr
    );
    // Nobody approved within the 3 s: expired, without waiting for the server to say so.
    assert!(done.failure(1).contains("expired"), "{}", done.stderr);
}

/// `-v` shows the device authorization request and every poll, both sides, and no secret.
#[test]
fn verbose_shows_every_poll() {
    let server = builder().start();
    let mut command = latchkey();
    command.args([
        "device",
        "--client-id",
        "tv",
        "--issuer",
        &server.issuer(),
        "-v",
    ]);
    command.args(["--scope", "read"]);
    let running = spawn(command);
    let user_code = running.line(|l| {
        l.strip_prefix("latchkey: and enter the code ")
            .map(str::to_owned)
    });
    // One pending poll shown before approval.
    running.line(|l| l.contains("authorization_pending").then_some(()));
    assert!(server.approve_device(&user_code));
    let done = running.finish();
    let tokens = done.success();
    let polls = done
        .stderr
        .lines()
        .filter(|l| l.starts_with("> POST") && l.ends_with("/token"))
        .count();
    assert!(polls >= 2, "{}", done.stderr);
    assert!(
        done.stderr.contains("device_code=<redacted>"),
        "{}",
        done.stderr
    );
    assert!(done.stderr.contains("< HTTP 400"), "{}", done.stderr);
    assert!(done.stderr.contains("< HTTP 200"), "{}", done.stderr);
    let device_code = server.requests_to("/token")[0]
        .param("device_code")
        .unwrap()
        .to_owned();
    done.no_secrets(&[&device_code, str_of(&tokens, "access_token")]);
}

/// On a terminal (`script` gives the command one) the polling is a redrawn countdown with the
/// polls so far, cleared when the wait ends.
#[cfg(target_os = "linux")]
#[test]
fn device_polling_counts_down_on_a_terminal() {
    let server = builder().device_code_expires_in(3).start();
    let line = format!(
        "{} device --client-id tv --issuer {} --scope read",
        env!("CARGO_BIN_EXE_latchkey"),
        server.issuer()
    );
    let output = std::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run script");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(all.contains("waiting for approval, 0:0"), "{all:?}");
    assert!(all.contains(" polls)"), "{all:?}");
    assert!(all.contains("\u{1b}[2K"), "{all:?}");
    // Nobody approved: the code expired, and the failure is said on a line of its own.
    assert!(
        all.contains("\nlatchkey: error: the device code expired")
            || all.contains("\u{1b}[2Klatchkey: error: the device code expired"),
        "{all:?}"
    );
}
