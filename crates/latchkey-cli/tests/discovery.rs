//! `discover` and `--issuer` end to end against `latchkey-mock`: the metadata from either
//! well-known document (RFC 8414, OpenID Connect Discovery) with an exact issuer, endpoints
//! from it in place of the endpoint flags, and what it turns on for `authorize`: pushed
//! authorization requests (RFC 9126, also on request with `--par`) and the `iss` check
//! (RFC 9207). Every run also checks that stderr carries no secret.

mod support;

use std::process::Stdio;

use latchkey_mock::{Fault, MockServer};
use support::{
    API, REDIRECT, SECRET, app_token, builder, latchkey, param, run, spawn, str_of, visit, with_app,
};

#[test]
fn discover_prints_the_metadata_from_either_well_known_path() {
    let server = builder().start();
    for well_known in [None, Some("oauth"), Some("openid")] {
        let mut command = latchkey();
        command.args(["discover", "--issuer", &server.issuer()]);
        if let Some(kind) = well_known {
            command.args(["--well-known", kind]);
        }
        let done = run(command);
        let metadata = done.success();
        assert_eq!(metadata["issuer"], server.issuer());
        assert_eq!(
            metadata["device_authorization_endpoint"],
            server.device_authorization_endpoint()
        );
        assert_eq!(
            metadata["authorization_response_iss_parameter_supported"],
            true
        );
        let fetched = if well_known == Some("openid") {
            "openid-configuration"
        } else {
            "oauth-authorization-server"
        };
        assert!(done.stderr.contains(fetched), "{}", done.stderr);
    }
    // RFC 8414's document not served: OpenID Connect Discovery instead.
    server.inject(
        "/.well-known/oauth-authorization-server",
        Fault::status(404),
        1,
    );
    let mut command = latchkey();
    command.args(["discover", "--issuer", &server.issuer()]);
    let done = run(command);
    assert_eq!(done.success()["issuer"], server.issuer());
    assert!(
        done.stderr.contains("trying OpenID Connect"),
        "{}",
        done.stderr
    );
    // An issuer with a path (RFC 8414 §3.1 path insertion).
    let tenant = MockServer::builder().issuer_path("/tenant/7").start();
    let mut command = latchkey();
    command.args(["discover", "--issuer", &tenant.issuer()]);
    assert_eq!(run(command).success()["issuer"], tenant.issuer());
    assert_eq!(
        tenant.request_count("/.well-known/oauth-authorization-server/tenant/7"),
        1
    );
    // The issuer must match exactly (RFC 8414 §3.3).
    let mut command = latchkey();
    command.args(["discover", "--issuer", &format!("{}/", server.issuer())]);
    let done = run(command);
    assert!(done.failure(1).contains("issuer"), "{}", done.stderr);
    // Usage errors.
    for args in [
        &["discover"][..],
        &["discover", "--well-known", "oauth"],
        &["discover", "--issuer", "http://as.example.invalid"],
    ] {
        let mut command = latchkey();
        command.args(args);
        run(command).failure(2);
    }
}

#[test]
fn issuer_replaces_the_endpoint_flags() {
    let server = builder().start();
    let access = app_token(&server, &[]);
    assert_eq!(server.request_count("/token"), 1);
    let mut command = latchkey();
    command.args(["userinfo", "--issuer", &server.issuer()]);
    command.args(["--access-token", &access]);
    let done = run(command);
    assert_eq!(done.success()["sub"], "mock-user-1");
    done.no_secrets(&[&access]);
    // An endpoint flag wins over the metadata.
    let mut command = with_app(&server, &["client-credentials"]);
    command.args(["--token-url", &format!("{}/nowhere", server.url())]);
    run(command).failure(1);
    // Without --issuer or the flag: a usage error naming both.
    let mut command = latchkey();
    command.args(["client-credentials", "--client-id", "app"]);
    command.args(["--client-secret", SECRET]);
    let done = run(command);
    assert!(done.failure(2).contains("--token-url or --issuer"));
}

#[test]
fn authorize_with_issuer_pushes_when_required_and_checks_iss() {
    let server = builder()
        .require_pushed_authorization_requests(true)
        .start();
    let authorize = |tamper: &dyn Fn(String) -> String| {
        let mut command = with_app(&server, &["authorize", "--no-browser"]);
        command.args(["--callback", "-", "--redirect-uri", REDIRECT]);
        command.args(["--scope", "openid", "--resource", API]);
        command.stdin(Stdio::piped());
        let mut running = spawn(command);
        let url = running.line(|l| l.starts_with("http").then(|| l.to_owned()));
        assert!(param(&url, "request_uri").is_some(), "{url}");
        assert!(param(&url, "code_challenge").is_none(), "{url}");
        let location = visit(&url);
        assert_eq!(param(&location, "iss"), Some(server.issuer()));
        running.write_stdin(&format!("{}\n", tamper(location.clone())));
        (running.finish(), location)
    };
    let (done, location) = authorize(&|l| l);
    let tokens = done.success();
    assert_eq!(tokens["scope"], "openid");
    done.no_secrets(&[
        &param(&location, "code").unwrap(),
        str_of(&tokens, "access_token"),
    ]);
    assert!(done.stderr.contains("pushing the authorization request"));
    // The resource went on both legs.
    let pushed = &server.requests_to("/par")[0];
    assert_eq!(pushed.param("resource"), Some(API));
    assert_eq!(server.requests_to("/token")[0].param("resource"), Some(API));

    // A forged iss (mix-up attack) and a missing one are refused.
    let issuer = form_urlencoded::byte_serialize(server.issuer().as_bytes()).collect::<String>();
    let (done, _) = authorize(&|l| l.replace(&issuer, "https%3A%2F%2Fevil.example"));
    assert!(done.failure(1).contains("iss"), "{}", done.stderr);
    let (done, _) = authorize(&|l| l.replace(&format!("&iss={issuer}"), ""));
    assert!(done.failure(1).contains("iss"), "{}", done.stderr);
    assert_eq!(server.request_count("/token"), 1);
}

#[test]
fn authorize_par_on_request() {
    let server = builder().start();
    let mut command = with_app(&server, &["authorize", "--no-browser", "--par"]);
    command.args(["--callback", "-", "--redirect-uri", REDIRECT]);
    command.stdin(Stdio::piped());
    let mut running = spawn(command);
    let url = running.line(|l| l.starts_with("http").then(|| l.to_owned()));
    assert!(param(&url, "request_uri").is_some(), "{url}");
    running.write_stdin(&format!("{}\n", visit(&url)));
    running.finish().success();
    // Without --par (and not required), no PAR.
    let mut command = with_app(&server, &["authorize", "--no-browser"]);
    command.args(["--callback", "-", "--redirect-uri", REDIRECT]);
    command.stdin(Stdio::piped());
    let mut running = spawn(command);
    let url = running.line(|l| l.starts_with("http").then(|| l.to_owned()));
    assert!(param(&url, "code_challenge").is_some(), "{url}");
    running.write_stdin(&format!("{}\n", visit(&url)));
    running.finish().success();
    assert_eq!(server.request_count("/par"), 1);
}

/// The mock's metadata document with `token_endpoint_auth_methods_supported` set to `methods`.
fn metadata_listing(server: &MockServer, methods: &[&str]) -> String {
    serde_json::json!({
        "issuer": server.issuer(),
        "authorization_endpoint": server.authorization_endpoint(),
        "token_endpoint": server.token_endpoint(),
        "token_endpoint_auth_methods_supported": methods,
    })
    .to_string()
}

/// With `--issuer` and no `--auth-method`, client authentication comes from
/// `token_endpoint_auth_methods_supported`; a mismatch the metadata makes knowable is a
/// usage error before anything is sent to the token endpoint.
#[test]
fn client_authentication_comes_from_the_metadata() {
    let server = builder()
        .client(
            latchkey_mock::MockClient::new("poster")
                .secret(SECRET)
                .auth_method(latchkey_mock::AuthMethod::Post)
                .grant_types([latchkey_mock::GrantType::ClientCredentials]),
        )
        .start();
    let path = "/.well-known/oauth-authorization-server";
    // Only client_secret_post listed: the secret goes in the body, without a flag.
    let doc = metadata_listing(&server, &["client_secret_post"]);
    server.inject(path, Fault::body(200, "application/json", doc), 1);
    let mut command = latchkey();
    command.args([
        "client-credentials",
        "--client-id",
        "poster",
        "--scope",
        "read",
    ]);
    command.args(["--client-secret", SECRET, "--issuer", &server.issuer()]);
    let done = run(command);
    let tokens = done.success();
    done.no_secrets(&[str_of(&tokens, "access_token")]);
    let request = &server.requests_to("/token")[0];
    assert_eq!(request.param("client_secret"), Some(SECRET));
    assert_eq!(request.header("authorization"), None);

    // Nothing latchkey can send: refused before the token endpoint hears anything.
    let doc = metadata_listing(&server, &["private_key_jwt"]);
    server.inject(path, Fault::body(200, "application/json", doc), 1);
    let done = run(with_app(
        &server,
        &["client-credentials", "--scope", "read"],
    ));
    let error = done.failure(2);
    assert!(error.contains("supports only private_key_jwt"), "{error}");
    // An --auth-method the server does not list, likewise.
    let doc = metadata_listing(&server, &["client_secret_basic"]);
    server.inject(path, Fault::body(200, "application/json", doc), 1);
    let mut command = with_app(&server, &["client-credentials", "--scope", "read"]);
    command.args(["--auth-method", "post"]);
    let error = run(command).failure(2).to_owned();
    assert!(error.contains("--auth-method post"), "{error}");
    assert!(error.contains("client_secret_basic"), "{error}");
    assert_eq!(server.request_count("/token"), 1);
}

/// An `invalid_client` names the method used and the flag that changes it.
#[test]
fn invalid_client_names_the_method_and_the_flag() {
    let server = builder().start();
    let mut command = latchkey();
    command.args([
        "client-credentials",
        "--client-id",
        "app",
        "--scope",
        "read",
    ]);
    command.args([
        "--client-secret",
        "wrong-secret-5e1d",
        "--issuer",
        &server.issuer(),
    ]);
    let done = run(command);
    let error = done.failure(1);
    assert!(error.contains("invalid_client"), "{error}");
    assert!(error.contains("client_secret_basic"), "{error}");
    assert!(error.contains("--auth-method post"), "{error}");
    assert!(
        !done.stderr.contains("wrong-secret-5e1d"),
        "{}",
        done.stderr
    );
}
