//! Mutual TLS (RFC 8705) through the `latchkey` binary against oidc-provider over HTTPS on
//! loopback: `--cert FILE --key FILE --ca-file FILE` with
//! `--auth-method tls_client_auth|self_signed_tls_client_auth` and `--issuer` (the metadata's
//! `mtls_endpoint_aliases`): `authorize` (code + PKCE), `refresh`, `userinfo` and
//! `introspect` with the certificate-bound token (`cnf.x5t#S256`), `client-credentials`;
//! and the bound token refused without the certificate.

use std::process::Command;
use std::sync::LazyLock;

use latchkey_interop::clients::{MTLS_CA, MTLS_SELF_SIGNED};
use latchkey_interop::mtls::TestPki;
use latchkey_interop::{Login, Provider};

use super::{credentials, latchkey, run, spawn, str_of};

/// The binary's HTTPS provider and its certificates, started on first use.
struct Mtls {
    pki: TestPki,
    provider: Provider,
}

static MTLS: LazyLock<Mtls> = LazyLock::new(|| {
    let pki = TestPki::generate();
    let provider = Provider::start_mtls(&pki).expect("the mTLS interop server");
    Mtls { pki, provider }
});

/// The certificate and key files of a client, by `--auth-method` value.
fn files(method: &str) -> (String, String) {
    let stem = if method == "tls_client_auth" {
        "client"
    } else {
        "self-signed"
    };
    let path = |name: String| MTLS.pki.file(&name).to_string_lossy().into_owned();
    (path(format!("{stem}.pem")), path(format!("{stem}-key.pem")))
}

/// `latchkey <subcommand> --issuer … --ca-file …`, with `--cert`/`--key` of `method`'s client
/// when `method` is given.
fn mtls_command(subcommand: &str, method: Option<&str>) -> Command {
    let mut command = latchkey(subcommand);
    let ca = MTLS.pki.ca_file().to_string_lossy().into_owned();
    command.args(["--issuer", MTLS.provider.issuer(), "--ca-file", &ca]);
    if let Some(method) = method {
        let (cert, key) = files(method);
        command.args(["--cert", &cert, "--key", &key]);
    }
    command
}

/// The thumbprint of `method`'s client certificate, as `x5t#S256`.
fn thumbprint(method: &str) -> String {
    let identity = if method == "tls_client_auth" {
        MTLS.pki.client_identity()
    } else {
        MTLS.pki.self_signed_identity()
    };
    identity.thumbprint().to_string()
}

/// The credentials as `&str`s, for `no_secrets`.
fn strs(secrets: &[String]) -> Vec<&str> {
    secrets.iter().map(String::as_str).collect()
}

/// Code + PKCE with the callback on stdin, then introspection (the token's
/// `cnf.x5t#S256`), userinfo (refused without the certificate), refresh, client
/// credentials; for `tls_client_auth` and `self_signed_tls_client_auth`.
fn code_refresh_userinfo_introspect(client_id: &str, method: &str) {
    let p = &MTLS.provider;
    let mut command = mtls_command("authorize", Some(method));
    command.args([
        "--client-id",
        client_id,
        "--auth-method",
        method,
        "--scope",
        "openid email",
        "--no-browser",
        "--login-timeout",
        "30",
        "--callback",
        "-",
    ]);
    let mut running = spawn(command);
    let url = running.authorization_url(p);
    let ca = MTLS.pki.ca_file();
    let callback = Login::new().ca_file(&ca).run(&url);
    running.write_line(&callback);
    let done = running.finish();
    let tokens = done.token_set();
    let mut secrets = credentials(&tokens);
    done.no_secrets(&strs(&secrets));
    let access_token = str_of(&tokens, "access_token").to_owned();

    let mut command = mtls_command("introspect", Some(method));
    command.args([
        "--client-id",
        client_id,
        "--auth-method",
        method,
        "--token",
        &access_token,
    ]);
    let done = run(command);
    let answer = done.json();
    assert_eq!(answer["active"], true, "{answer:?}");
    assert_eq!(answer["cnf"]["x5t#S256"], thumbprint(method), "{answer:?}");
    done.no_secrets(&strs(&secrets));

    let mut command = mtls_command("userinfo", Some(method));
    command.args(["--access-token", &access_token]);
    let done = run(command);
    assert_eq!(done.json()["sub"], "alice");
    done.no_secrets(&strs(&secrets));

    // Without the certificate the provider refuses the bound token.
    let mut command = mtls_command("userinfo", None);
    let alias = format!("{}/mtls/me", p.issuer());
    command.args(["--userinfo-url", &alias, "--access-token", &access_token]);
    let done = run(command);
    assert!(done.failure().contains("invalid_token"), "{}", done.stderr);
    done.no_secrets(&strs(&secrets));

    let mut command = mtls_command("refresh", Some(method));
    command.args([
        "--client-id",
        client_id,
        "--auth-method",
        method,
        "--refresh-token",
        str_of(&tokens, "refresh_token"),
    ]);
    let done = run(command);
    let renewed = done.token_set();
    secrets.extend(credentials(&renewed));
    done.no_secrets(&strs(&secrets));

    let mut command = mtls_command("client-credentials", Some(method));
    command.args([
        "--client-id",
        client_id,
        "--auth-method",
        method,
        "--scope",
        "api:read",
    ]);
    let done = run(command);
    let json = done.token_set();
    assert_eq!(json["scope"], "api:read");
    done.no_secrets(&strs(&credentials(&json)));
}

latchkey_interop::interop_test! {
/// `tls_client_auth` with the test CA's client certificate.
fn mtls_tls_client_auth_code_refresh_userinfo_introspect_client_credentials() {
    code_refresh_userinfo_introspect(MTLS_CA, "tls_client_auth");
}
}

latchkey_interop::interop_test! {
/// `self_signed_tls_client_auth` with the self-signed client certificate.
fn mtls_self_signed_code_refresh_userinfo_introspect_client_credentials() {
    code_refresh_userinfo_introspect(MTLS_SELF_SIGNED, "self_signed_tls_client_auth");
}
}

latchkey_interop::interop_test! {
/// A mutual TLS method without `--cert` is a usage error (exit 2) before anything is sent;
/// a key file without a key too; the other client's certificate is `invalid_client`.
fn mtls_flags_are_checked() {
    let mut command = mtls_command("client-credentials", None);
    command.args(["--client-id", MTLS_CA, "--auth-method", "tls_client_auth"]);
    let done = run(command);
    assert_eq!(done.code, Some(2), "{}", done.stderr);
    assert!(done.stderr.contains("--cert"), "{}", done.stderr);

    let mut command = mtls_command("client-credentials", None);
    let (cert, _) = files("tls_client_auth");
    command.args([
        "--client-id",
        MTLS_CA,
        "--auth-method",
        "tls_client_auth",
        "--cert",
        &cert,
        "--key",
        &cert,
    ]);
    let done = run(command);
    assert_eq!(done.code, Some(2), "{}", done.stderr);
    assert!(
        done.stderr.contains("no unencrypted private key"),
        "{}",
        done.stderr
    );

    let mut command = mtls_command("client-credentials", Some("self_signed_tls_client_auth"));
    command.args(["--client-id", MTLS_CA, "--auth-method", "tls_client_auth"]);
    let done = run(command);
    assert!(done.failure().contains("invalid_client"), "{}", done.stderr);
}
}
