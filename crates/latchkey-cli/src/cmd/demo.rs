//! `latchkey demo`: every documented provider flow, end to end, against `latchkey-mock`
//! running in this process on 127.0.0.1.
//!
//! The demo plays the browser itself (a GET of the authorization URL that does not follow
//! the redirect, then reading its `Location`), and for the native-app flow also delivers the
//! redirect to the command's own loopback listener. For each step it prints what was sent
//! (method, URL, headers with credentials redacted, the body with secret parameters
//! redacted) and what came back (status, token set with credentials redacted), then a
//! summary table. Everything it prints also passes through the stderr redactor, so no
//! secret, code, verifier or token is ever shown.

use std::io::{self, Write as _};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use clap::Args;
use latchkey::{BodyEncoding, Client, ClientAuth, Exchange, RetryPolicy, TokenSet};
use latchkey_loopback::Loopback;
use latchkey_mock::{AuthMethod, Encoding, GrantType, MockClient, MockServer, ResponseStyle};
use latchkey_ureq::Transport;
use serde_json::{Map, Value};

use crate::failure::Failure;
use crate::output::{
    add_secret, add_token_secrets, add_url_secrets, redact_url, sanitize, token_object,
};
use crate::trace::{Traced, snapshot};

const LOOM_AUDIENCE: &str = "https://api.loomai.com/";
const LOOM_SPA: &str = "loomai-spa";
const LOOM_SPA_REDIRECT: &str = "https://app.loomai.example/oauth/callback";
const LOOM_NATIVE: &str = "loomai-native";
const COLOOP_PRIVATE: &str = "coloop-private-app";
const COLOOP_PUBLIC: &str = "coloop-public-app";
const COLOOP_SECRET: &str = "demo-secret-coloop-8d3f1a";
const COLOOP_REDIRECT: &str = "https://app.coloop.example/oauth2/callback";
const BLOOMA: &str = "blooma-integration";
const BLOOMA_SECRET: &str = "demo-secret-blooma-41c9e7";
const BLOOMA_AUDIENCE: &str = "https://tenant.blooma.example/api/";
const LOOPTIE: &str = "loopandtie-app";
const LOOPTIE_SECRET: &str = "demo-secret-loopandtie-a07b52";
const LOOPTIE_REDIRECT: &str = "https://your.site/redirect-uri";

/// How long any one wait in the demo may take (everything is in-process and on loopback).
const STEP_TIMEOUT: Duration = Duration::from_secs(10);

/// One flow of the walkthrough.
struct Flow {
    name: &'static str,
    provider: &'static str,
    run: fn(&Demo, &mut Steps) -> Result<(), Failure>,
}

const FLOWS: [Flow; 7] = [
    Flow {
        name: "implicit + audience",
        provider: "Loom AI",
        run: loom_implicit,
    },
    Flow {
        name: "code + PKCE + refresh",
        provider: "Loom AI",
        run: loom_native,
    },
    Flow {
        name: "code (private app)",
        provider: "CoLoop",
        run: coloop_private,
    },
    Flow {
        name: "code + PKCE (public app)",
        provider: "CoLoop",
        run: coloop_public,
    },
    Flow {
        name: "client credentials (JSON)",
        provider: "Blooma",
        run: blooma_json,
    },
    Flow {
        name: "client credentials (form)",
        provider: "Blooma",
        run: blooma_form,
    },
    Flow {
        name: "code (multipart body)",
        provider: "Loop & Tie",
        run: loop_and_tie,
    },
];

/// Prints one demo line on stdout, redacted and escaped.
fn line(text: &str) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{}", sanitize(text));
}

/// Counts and announces the steps of one flow.
#[derive(Default)]
struct Steps {
    count: u32,
}

impl Steps {
    fn step(&mut self, title: &str) {
        self.count += 1;
        line(&format!("  step {}: {title}", self.count));
    }
}

/// The mock server, the transport, and a "browser".
struct Demo {
    server: MockServer,
    transport: Transport,
    browser: ureq::Agent,
}

/// `latchkey demo` (no flags of its own).
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {}

/// Runs `latchkey demo`: every flow, then the summary table.
///
/// # Errors
///
/// [`Failure::Other`] when the mock cannot start or any flow failed.
pub(crate) fn run(_: &DemoArgs) -> Result<(), Failure> {
    let started = Instant::now();
    for secret in [COLOOP_SECRET, BLOOMA_SECRET, LOOPTIE_SECRET] {
        add_secret(secret);
    }
    let server =
        start_mock().map_err(|e| Failure::Other(format!("cannot start the mock server: {e}")))?;
    // Only loopback is ever contacted: no proxy from the environment, no redirects.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(STEP_TIMEOUT))
        .build()
        .into();
    let demo = Demo {
        transport: Transport::builder()
            .agent(agent.clone())
            .timeout(STEP_TIMEOUT)
            .retry_policy(RetryPolicy::never())
            .build(),
        browser: agent,
        server,
    };
    line(&format!(
        "latchkey demo: every documented provider flow against latchkey-mock at {} (in this \
         process).",
        demo.server.url()
    ));
    line("Client secrets, codes, PKCE verifiers and tokens are shown as <redacted>.");

    let mut results = Vec::with_capacity(FLOWS.len());
    for (i, flow) in FLOWS.iter().enumerate() {
        line("");
        line(&format!(
            "== {}/{}  {}: {} ==",
            i + 1,
            FLOWS.len(),
            flow.provider,
            flow.name
        ));
        let mut steps = Steps::default();
        let result = (flow.run)(&demo, &mut steps);
        if let Err(failure) = &result {
            line(&format!("  FAILED: {}", failure.message()));
        }
        results.push((flow, steps.count, result.map_err(|f| f.message())));
    }

    line("");
    line("Summary");
    let rows: Vec<[String; 4]> = results
        .iter()
        .map(|(flow, steps, result)| {
            [
                flow.name.to_owned(),
                flow.provider.to_owned(),
                steps.to_string(),
                match result {
                    Ok(()) => "ok".to_owned(),
                    Err(message) => format!("FAILED: {message}"),
                },
            ]
        })
        .collect();
    print_table(&["FLOW", "PROVIDER", "STEPS", "RESULT"], &rows);
    let failed = results.iter().filter(|(_, _, r)| r.is_err()).count();
    line("");
    line(&format!(
        "{} of {} flows passed in {} ms.",
        results.len() - failed,
        results.len(),
        started.elapsed().as_millis()
    ));
    if failed > 0 {
        return Err(Failure::Other(format!(
            "{failed} of {} demo flows failed",
            results.len()
        )));
    }
    Ok(())
}

/// Prints rows under a header, columns padded to their widest cell.
fn print_table(header: &[&str; 4], rows: &[[String; 4]]) {
    let mut widths = header.map(|h| h.chars().count());
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let render = |cells: [&str; 4]| -> String {
        let mut out = String::from("  ");
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i == 3 {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<w$}  "));
            }
        }
        out
    };
    line(&render(*header));
    line(&render(
        widths.map(|w| "-".repeat(w)).each_ref().map(String::as_str),
    ));
    for row in rows {
        line(&render(row.each_ref().map(String::as_str)));
    }
}

/// The mock server with one client per documented provider setup.
fn start_mock() -> io::Result<MockServer> {
    MockServer::builder()
        .client(
            MockClient::new(LOOM_SPA)
                .require_audience(LOOM_AUDIENCE)
                .redirect_uris([LOOM_SPA_REDIRECT])
                .grant_types([GrantType::Implicit]),
        )
        .client(
            MockClient::new(LOOM_NATIVE)
                .require_audience(LOOM_AUDIENCE)
                .require_pkce(true)
                .redirect_uris(["http://127.0.0.1/callback"]),
        )
        .client(
            MockClient::new(COLOOP_PRIVATE)
                .secret(COLOOP_SECRET)
                .auth_method(AuthMethod::Post)
                .response_style(ResponseStyle::Clerk)
                .expires_in(7200)
                .redirect_uris([COLOOP_REDIRECT]),
        )
        .client(
            MockClient::new(COLOOP_PUBLIC)
                .response_style(ResponseStyle::Clerk)
                .expires_in(7200)
                .require_pkce(true)
                .redirect_uris([COLOOP_REDIRECT]),
        )
        .client(
            MockClient::new(BLOOMA)
                .secret(BLOOMA_SECRET)
                .auth_method(AuthMethod::Post)
                .encodings([Encoding::Json, Encoding::Form])
                .require_audience(BLOOMA_AUDIENCE)
                .default_scope("USER")
                .expires_in(86400),
        )
        .client(
            MockClient::new(LOOPTIE)
                .secret(LOOPTIE_SECRET)
                .auth_method(AuthMethod::Post)
                .encodings([Encoding::Multipart])
                .response_style(ResponseStyle::Doorkeeper)
                .redirect_uris([LOOPTIE_REDIRECT]),
        )
        .try_start()
}

/// A check the demo makes on what came back.
fn ensure(ok: bool, what: &str) -> Result<(), Failure> {
    if ok {
        Ok(())
    } else {
        Err(Failure::Other(format!("check failed: {what}")))
    }
}

/// GETs `url` like a browser, without following a redirect: the status and `Location`.
fn browser_get(agent: &ureq::Agent, url: &str) -> Result<(u16, Option<String>), Failure> {
    let response = agent
        .get(url)
        .call()
        .map_err(|e| Failure::Other(format!("browser: {e}")))?;
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    Ok((response.status().as_u16(), location))
}

impl Demo {
    /// The browser visits the authorization URL; the redirect's `Location` is returned.
    fn visit(&self, url: &str) -> Result<String, Failure> {
        line(&format!("    → GET {url}"));
        let (status, location) = browser_get(&self.browser, url)?;
        if let Some(location) = &location {
            add_url_secrets(location);
        }
        line(&format!("    ← HTTP {status}"));
        let location = location.ok_or_else(|| {
            Failure::Other(format!(
                "the authorization endpoint answered {status} without a redirect"
            ))
        })?;
        line(&format!("      location: {}", redact_url(&location)));
        Ok(location)
    }

    /// Sends an exchange and shows the request and the answer's status.
    fn send<E: Exchange>(&self, exchange: E) -> Result<E::Output, Failure> {
        let (traced, record) = Traced::new(exchange);
        let result = self.transport.send(traced);
        let record = snapshot(&record);
        for (i, text) in record.request_lines().iter().enumerate() {
            if i == 0 {
                line(&format!("    → {text}"));
            } else {
                line(&format!("    {text}"));
            }
        }
        line(&format!("    ← {}", record.status_line()));
        Ok(result?)
    }

    /// Shows a token set with its credentials redacted.
    fn show_tokens(tokens: &TokenSet) {
        add_token_secrets(tokens);
        line(&format!("      token set: {}", token_object(tokens, true)));
    }

    fn client(&self, id: &str) -> latchkey::ClientBuilder {
        Client::builder(id)
            .authorization_endpoint(self.server.authorization_endpoint())
            .token_endpoint(self.server.token_endpoint())
            .userinfo_endpoint(self.server.userinfo_endpoint())
    }
}

/// Loom AI, single-page app: `response_type=token` with `audience`; the token comes back in
/// the fragment.
fn loom_implicit(demo: &Demo, steps: &mut Steps) -> Result<(), Failure> {
    let client = demo
        .client(LOOM_SPA)
        .redirect_uri(LOOM_SPA_REDIRECT)
        .audience(LOOM_AUDIENCE)
        .build()?;
    let (url, pending) = client
        .implicit()
        .scope("read:avatars write:avatars")
        .build()?;
    steps.step("the browser visits the authorization URL (response_type=token)");
    let location = demo.visit(url.as_str())?;
    steps.step("the app reads the token from the redirect's #fragment and checks state");
    let tokens = pending.callback(&client, &location, SystemTime::now())?;
    Demo::show_tokens(&tokens);
    ensure(
        tokens.expires_at().is_some(),
        "the implicit token has a lifetime",
    )?;
    ensure(
        tokens.scope() == Some("read:avatars write:avatars"),
        "the granted scope is the one requested",
    )
}

/// Loom AI, native app: code + PKCE S256 with `audience` on both legs and
/// `offline_access`, the redirect delivered to latchkey's own loopback listener; then a
/// refresh.
fn loom_native(demo: &Demo, steps: &mut Steps) -> Result<(), Failure> {
    let listener = Loopback::builder().timeout(STEP_TIMEOUT).bind()?;
    let client = demo
        .client(LOOM_NATIVE)
        .redirect_uri(listener.redirect_uri())
        .audience(LOOM_AUDIENCE)
        .build()?;
    let (url, pending) = client
        .authorization_code()
        .scope("openid profile read:avatars offline_access")
        .build()?;
    steps.step("the browser visits the authorization URL (PKCE S256, audience)");
    let location = demo.visit(url.as_str())?;
    steps.step("the browser follows the redirect to latchkey's loopback listener (RFC 8252)");
    line(&format!("    → GET {}", redact_url(&location)));
    let browser = demo.browser.clone();
    let deliver = thread::spawn(move || browser_get(&browser, &location));
    let exchange = listener.code(pending, &client).map_err(Failure::from);
    let delivered = deliver
        .join()
        .map_err(|_| Failure::Other("the browser thread panicked".into()))?;
    let exchange = exchange?;
    let (status, _) = delivered?;
    line(&format!(
        "    ← HTTP {status} (the \"Signed in\" page; state checked)"
    ));
    add_secret(exchange.code().expose_secret());
    steps.step("POST /token: the code, the PKCE verifier, audience");
    let tokens = demo.send(exchange)?;
    Demo::show_tokens(&tokens);
    let refresh_token = tokens
        .refresh_token()
        .ok_or_else(|| Failure::Other("no refresh token despite offline_access".into()))?;
    steps.step("POST /token: refresh (offline_access gave a refresh token)");
    let refreshed = demo.send(client.refresh(refresh_token)?)?;
    Demo::show_tokens(&refreshed);
    ensure(
        refreshed.access_token().expose_secret() != tokens.access_token().expose_secret(),
        "the refresh gave a new access token",
    )
}

/// CoLoop: the private app (client_secret in the body, as documented, without PKCE) or the
/// public app (PKCE), each followed by userinfo and a refresh.
fn coloop(demo: &Demo, steps: &mut Steps, private: bool) -> Result<(), Failure> {
    let client = if private {
        demo.client(COLOOP_PRIVATE)
            .client_secret(COLOOP_SECRET)
            .auth_method(ClientAuth::Post)
    } else {
        demo.client(COLOOP_PUBLIC)
    }
    .redirect_uri(COLOOP_REDIRECT)
    .build()?;
    let request = client.authorization_code().scope("email profile");
    let request = if private { request.no_pkce() } else { request };
    let (url, pending) = request.build()?;
    steps.step(if private {
        "the browser visits the authorization URL"
    } else {
        "the browser visits the authorization URL (PKCE S256)"
    });
    let location = demo.visit(url.as_str())?;
    steps.step("the app takes the code from the redirect and checks state");
    let exchange = pending.callback(&client, &location)?;
    line("      code received, state matches");
    steps.step(if private {
        "POST /token: the code, client_id and client_secret in the body"
    } else {
        "POST /token: the code and the PKCE verifier, no secret"
    });
    let tokens = demo.send(exchange)?;
    Demo::show_tokens(&tokens);
    steps.step("GET /userinfo with the access token");
    let claims: Map<String, Value> = demo.send(client.userinfo(tokens.access_token())?)?;
    line(&format!("      claims: {}", Value::Object(claims.clone())));
    ensure(claims.contains_key("email"), "userinfo has an email claim")?;
    let refresh_token = tokens
        .refresh_token()
        .ok_or_else(|| Failure::Other("no refresh token".into()))?;
    steps.step("POST /token: refresh");
    let refreshed = demo.send(client.refresh(refresh_token)?)?;
    Demo::show_tokens(&refreshed);
    Ok(())
}

fn coloop_private(demo: &Demo, steps: &mut Steps) -> Result<(), Failure> {
    coloop(demo, steps, true)
}

fn coloop_public(demo: &Demo, steps: &mut Steps) -> Result<(), Failure> {
    coloop(demo, steps, false)
}

/// Blooma: client credentials with `audience`, the secret in the body, as JSON or as a form.
fn blooma(demo: &Demo, steps: &mut Steps, encoding: BodyEncoding) -> Result<(), Failure> {
    let client = demo
        .client(BLOOMA)
        .client_secret(BLOOMA_SECRET)
        .auth_method(ClientAuth::Post)
        .body_encoding(encoding)
        .build()?;
    steps.step("POST /token: grant_type=client_credentials with audience");
    let tokens = demo.send(client.client_credentials()?.audience(BLOOMA_AUDIENCE))?;
    Demo::show_tokens(&tokens);
    ensure(
        tokens.scope() == Some("USER"),
        "the default scope USER was granted",
    )?;
    ensure(tokens.expires_in() == Some(86400), "the token lives a day")
}

fn blooma_json(demo: &Demo, steps: &mut Steps) -> Result<(), Failure> {
    blooma(demo, steps, BodyEncoding::Json)
}

fn blooma_form(demo: &Demo, steps: &mut Steps) -> Result<(), Failure> {
    blooma(demo, steps, BodyEncoding::Form)
}

/// Loop & Tie: code flow with the secret, the token request as multipart/form-data
/// (`curl -F`), and a Doorkeeper answer with `created_at` and no `expires_in`.
fn loop_and_tie(demo: &Demo, steps: &mut Steps) -> Result<(), Failure> {
    let client = demo
        .client(LOOPTIE)
        .client_secret(LOOPTIE_SECRET)
        .auth_method(ClientAuth::Post)
        .body_encoding(BodyEncoding::Multipart)
        .redirect_uri(LOOPTIE_REDIRECT)
        .build()?;
    let (url, pending) = client.authorization_code().no_pkce().build()?;
    steps.step("the browser visits /authorize");
    let location = demo.visit(url.as_str())?;
    steps.step("the app takes the code from the redirect and checks state");
    let exchange = pending.callback(&client, &location)?;
    line("      code received, state matches");
    steps.step("POST /token as multipart/form-data (curl -F)");
    let tokens = demo.send(exchange)?;
    Demo::show_tokens(&tokens);
    ensure(
        tokens.extra().contains_key("created_at") && tokens.expires_in().is_none(),
        "a Doorkeeper answer: created_at, no expires_in",
    )
}
