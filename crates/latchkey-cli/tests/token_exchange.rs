//! `token-exchange` (RFC 8693) end to end against `latchkey-mock`, and `--resource`
//! (RFC 8707) on the token requests: a subject token (and an actor token) traded for a new
//! one, resources repeated and refused. Every run also checks that stderr carries no secret.

mod support;

use support::{API, app_token, builder, run, str_of, with_app};

#[test]
fn token_exchange_with_resource_and_audience() {
    let server = builder().start();
    let subject = app_token(&server, &[]);
    let mut command = with_app(&server, &["token-exchange"]);
    command.args(["--subject-token", &subject]);
    command.args(["--subject-token-type", "access_token"]);
    command.args(["--resource", API, "--audience", "backend"]);
    let done = run(command);
    let tokens = done.success();
    assert_eq!(
        tokens["issued_token_type"],
        "urn:ietf:params:oauth:token-type:access_token"
    );
    assert_eq!(tokens["token_type"], "Bearer");
    done.no_secrets(&[&subject, str_of(&tokens, "access_token")]);
    let request = server.requests_to("/token").pop().unwrap();
    assert_eq!(request.param("resource"), Some(API));
    assert_eq!(request.param("audience"), Some("backend"));

    // A refresh token in exchange, with an actor: token_type N_A.
    let mut command = with_app(&server, &["token-exchange"]);
    command.env("LATCHKEY_SUBJECT_TOKEN", &subject);
    command.args(["--subject-token-type", "access_token"]);
    command.args(["--actor-token", str_of(&tokens, "access_token")]);
    command.args([
        "--actor-token-type",
        "urn:ietf:params:oauth:token-type:access_token",
    ]);
    command.args(["--requested-token-type", "refresh_token"]);
    let done = run(command);
    let refresh = done.success();
    assert_eq!(refresh["token_type"], "N_A");
    done.no_secrets(&[&subject, str_of(&refresh, "access_token")]);

    // The server's refusal; usage errors.
    let mut command = with_app(&server, &["token-exchange", "--subject-token", "nope"]);
    command.args(["--subject-token-type", "access_token"]);
    let done = run(command);
    assert!(
        done.failure(1).contains("invalid_request"),
        "{}",
        done.stderr
    );
    for args in [
        &["--subject-token", "x", "--subject-token-type", "bogus"][..],
        &["--subject-token", "x"],
        &[
            "--subject-token",
            "x",
            "--subject-token-type",
            "jwt",
            "--actor-token",
            "y",
        ],
    ] {
        let mut command = with_app(&server, &["token-exchange"]);
        command.args(args);
        run(command).failure(2);
    }
}

#[test]
fn resource_goes_on_client_credentials_and_refresh() {
    let server = builder().start();
    let mut command = with_app(&server, &["client-credentials"]);
    command.args(["--resource", API, "--resource", "https://b.example/"]);
    run(command).success();
    let request = &server.requests_to("/token")[0];
    let resources: Vec<&str> = request
        .params
        .iter()
        .filter(|(k, _)| k == "resource")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(resources, [API, "https://b.example/"]);
    // A resource the server refuses: invalid_target.
    let command = with_app(&server, &["client-credentials", "--resource", "relative"]);
    let done = run(command);
    assert!(
        done.failure(1).contains("invalid_target"),
        "{}",
        done.stderr
    );
}
