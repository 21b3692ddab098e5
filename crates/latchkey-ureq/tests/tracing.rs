//! The core's `tracing` spans and events, through this adapter over real HTTP against
//! latchkey-mock: a span per network step with its flow, host, path, attempt and status; a
//! retry event with its wait; renewal events from a token manager. Every span field and event
//! is captured and scanned for each secret of the run (client secret, code, verifier,
//! tokens), raw and percent-encoded: none may appear.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};

use latchkey::{Lifecycle, TokenSource};
use latchkey_mock::Fault;
use latchkey_ureq::{TokenManager, Transport};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Record};
use tracing::{Event, Id, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::registry::LookupSpan;

#[allow(dead_code, unreachable_pub)]
#[path = "../../latchkey-conformance/src/fixture.rs"]
mod fixture;

/// Every span (name and fields, as recorded) and event (message and fields), as text.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<String>>>);

impl Captured {
    fn push(&self, line: String) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(line);
    }

    fn lines(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Writes every field as `name=value`.
struct Fields<'a>(&'a mut String);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={value:?}", field.name());
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> tracing_subscriber::Layer<S> for Captured {
    fn on_new_span(&self, attrs: &Attributes<'_>, _: &Id, _: Context<'_, S>) {
        let mut line = format!("span {}", attrs.metadata().name());
        attrs.record(&mut Fields(&mut line));
        self.push(line);
    }

    fn on_record(&self, _: &Id, values: &Record<'_>, _: Context<'_, S>) {
        let mut line = "record".to_owned();
        values.record(&mut Fields(&mut line));
        self.push(line);
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let scope = ctx
            .event_span(event)
            .map(|s| s.name().to_owned())
            .unwrap_or_default();
        let mut line = format!("event {} in {scope}:", event.metadata().target());
        event.record(&mut Fields(&mut line));
        self.push(line);
    }
}

#[test]
fn spans_and_events_describe_each_step_and_name_no_secret() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::registry().with(captured.clone());
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = fixture::rotating_server();
    let transport = Transport::new();
    let exchange = fixture::authorization(&server);
    let code = exchange.code().expose_secret().to_owned();
    let tokens = transport.send(exchange).unwrap();
    let client = fixture::client(&server);
    let refreshed = transport
        .send(client.refresh(tokens.refresh_token().unwrap()).unwrap())
        .unwrap();
    // Code exchanges and refreshes are never resent once they may have arrived: the retry
    // is a client credentials request's.
    server.inject("/token", Fault::status(503), 1);
    let credentials = transport
        .send(client.client_credentials().unwrap())
        .unwrap();
    // A token manager's renewal.
    let manager = TokenManager::builder(
        Transport::new(),
        Lifecycle::new(fixture::client(&server), TokenSource::User),
    )
    .tokens(
        refreshed
            .clone()
            .with_expires_at(Some(std::time::UNIX_EPOCH)),
    )
    .build()
    .unwrap();
    let renewed = manager.access_token().unwrap();

    let lines = captured.lines();
    let all = lines.join("\n");
    // What the spans and events say.
    assert!(
        all.contains("span latchkey.http flow=\"CodeExchange\""),
        "{all}"
    );
    assert!(all.contains("span latchkey.http flow=\"Refresh\""), "{all}");
    assert!(
        all.contains("span latchkey.http flow=\"ClientCredentials\""),
        "{all}"
    );
    assert!(all.contains(" path=\"/token\""), "{all}");
    assert!(all.contains("host=\"127.0.0.1:"), "{all}");
    assert!(all.contains(" status=503"), "{all}");
    assert!(all.contains(" status=200"), "{all}");
    assert!(all.contains("retry_wait_ms="), "{all}");
    assert!(all.contains("reason=HTTP 503"), "{all}");
    assert!(all.contains(" attempt=2"), "{all}");
    assert!(all.contains("message=lease taken"), "{all}");
    assert!(all.contains("message=renewed"), "{all}");

    // No secret, in any spelling.
    let mut secrets = vec![
        fixture::SECRET.to_owned(),
        code,
        tokens.access_token().expose_secret().to_owned(),
        tokens.refresh_token().unwrap().expose_secret().to_owned(),
        refreshed.access_token().expose_secret().to_owned(),
        credentials.access_token().expose_secret().to_owned(),
        renewed.expose_secret().to_owned(),
    ];
    secrets.retain(|s| s.len() >= 8);
    // The mock's secrets are URL-safe, so their percent-, form-, JSON- and HTML-encoded
    // spellings are the raw one; any 8 characters of one would show a partial leak.
    for secret in &secrets {
        for spelling in [secret.as_str(), &secret[..8], &secret[secret.len() - 8..]] {
            assert!(
                !all.contains(spelling),
                "a secret ({} chars) in the trace:\n{all}",
                secret.len()
            );
        }
    }
    println!(
        "{} spans, records and events captured, none with a secret",
        lines.len()
    );
}

#[test]
fn dpop_nonce_retries_show_and_no_proof_assertion_or_key_does() {
    use latchkey::jose::{Algorithm, SigningKey};
    use latchkey_mock::{MockClient, MockServer};

    let captured = Captured::default();
    let subscriber = tracing_subscriber::registry().with(captured.clone());
    let _guard = tracing::subscriber::set_default(subscriber);

    let assertion_key = SigningKey::generate(Algorithm::ES256).unwrap();
    let server = MockServer::builder()
        .client(MockClient::new("svc").private_key_jwt(assertion_key.public_jwk().to_string()))
        .dpop_nonce_required(true)
        .start();
    let dpop = latchkey::Dpop::new(SigningKey::generate(Algorithm::ES256).unwrap());
    let client = latchkey::Client::builder("svc")
        .token_endpoint(server.token_endpoint())
        .issuer(server.issuer())
        .private_key_jwt(assertion_key.clone())
        .dpop(dpop)
        .build()
        .unwrap();
    let tokens = Transport::new()
        .send(client.client_credentials().unwrap())
        .unwrap();
    assert_eq!(tokens.token_type(), &latchkey::TokenType::DPoP);

    let all = captured.lines().join("\n");
    assert!(all.contains("reason=use_dpop_nonce"), "{all}");
    assert!(all.contains(" attempt=2"), "{all}");
    // No JWT (proof, assertion) and no token, key or nonce in the trace.
    assert!(!all.contains("eyJ"), "a JWT in the trace:\n{all}");
    let pem = assertion_key.to_pkcs8_pem().unwrap();
    let body: String = pem
        .expose_secret()
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let token = tokens.access_token().expose_secret();
    for secret in [token, &body[..16], &body[body.len() - 16..]] {
        assert!(!all.contains(secret), "a secret in the trace:\n{all}");
    }
}
