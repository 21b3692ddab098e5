//! The core's drivers and renewal machine end to end against `latchkey-mock`'s in-memory
//! router, on a clock the test moves: every `Sleep` a driver asks for advances the clock
//! instead of waiting, so minutes of polling, backoff and expiry take no real time.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use latchkey::drive::{Action, DevicePolling, Drive, SendDriver, TransportSettings};
use latchkey::manage::{Poll, RenewalMachine, Work};
use latchkey::{
    Client, Error, ErrorCode, Lifecycle, Request, Response, TokenSource, TransportError,
};
use latchkey_mock::{Fault, Mock, MockClient, MockClock};

use crate::support::mock_answer;

const BASE: &str = "https://as.example";
const REDIRECT: &str = "https://app.example/callback";

/// A mock behind a virtual clock, and the adapter loop around it.
struct Virtual {
    mock: Mock,
    clock: MockClock,
    settings: TransportSettings,
}

impl Virtual {
    fn new(builder: latchkey_mock::MockServerBuilder) -> Self {
        let clock = MockClock::at(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
        let mock = builder.clock(clock.clone()).base_url(BASE).build();
        Self {
            mock,
            clock,
            settings: TransportSettings::default(),
        }
    }

    fn now(&self) -> SystemTime {
        self.clock.now()
    }

    /// Runs a driver to its end; returns its outcome and every wait it asked for.
    fn run<D: Drive>(&self, mut driver: D) -> (Result<D::Output, Error>, Vec<Duration>) {
        let mut waits = Vec::new();
        loop {
            match driver.next(self.now()) {
                Action::Send(request) => driver.received(self.answer(&request), self.now()),
                Action::Sleep(wait) => {
                    waits.push(wait);
                    self.clock.advance(wait);
                }
                Action::Done(outcome) => return (outcome, waits),
            }
        }
    }

    fn send<E: latchkey::Exchange>(&self, exchange: E) -> Result<E::Output, Error> {
        self.run(SendDriver::new(exchange, &self.settings)).0
    }

    /// What the mock answers `request` at the clock's time.
    fn answer(&self, request: &Request) -> Result<Response, TransportError> {
        mock_answer(&self.mock, request, self.now())
    }

    fn client(&self, id: &str, secret: Option<&str>) -> Client {
        let mut builder = Client::builder(id)
            .authorization_endpoint(self.mock.authorization_endpoint())
            .token_endpoint(self.mock.token_endpoint())
            .device_authorization_endpoint(self.mock.device_authorization_endpoint())
            .redirect_uri(REDIRECT);
        if let Some(secret) = secret {
            builder = builder.client_secret(secret);
        }
        builder.build().expect("client")
    }
}

#[test]
fn device_polling_succeeds_once_the_user_approves_on_virtual_time() {
    let v = Virtual::new(
        Mock::builder()
            .client(MockClient::new("tv"))
            .device_interval(5)
            .device_code_expires_in(600),
    );
    let client = v.client("tv", None);
    let start = v.now();
    let auth = v
        .send(client.device_authorization().unwrap().scope("read"))
        .unwrap();
    let user_code = auth.user_code.clone();
    let mock = v.mock.clone();
    let mut approved = false;
    let polling = DevicePolling::with_progress(auth.poller(&client).unwrap(), &v.settings, |w| {
        // The user approves on the phone after the third poll.
        if w.polls == 3 && !approved {
            approved = mock.approve_device(&user_code);
        }
    });
    let (tokens, waits) = v.run(polling);
    let tokens = tokens.unwrap();
    assert!(!tokens.access_token().expose_secret().is_empty());
    let elapsed = v.now().duration_since(start).unwrap();
    // Four polls, at least 5 s apart: 15 s or more of virtual time, none of it real.
    assert!(elapsed >= Duration::from_secs(15), "{elapsed:?}");
    assert!(
        waits.iter().all(|w| *w <= Duration::from_secs(1)),
        "ticks of at most 1 s"
    );
    assert_eq!(v.mock.request_count("/token"), 4);
}

#[test]
fn an_unapproved_device_code_expires_on_virtual_time() {
    let v = Virtual::new(
        Mock::builder()
            .client(MockClient::new("tv"))
            .device_interval(5)
            .device_code_expires_in(60),
    );
    let client = v.client("tv", None);
    let auth = v.send(client.device_authorization().unwrap()).unwrap();
    let (outcome, _) = v.run(DevicePolling::new(
        auth.poller(&client).unwrap(),
        &v.settings,
    ));
    match outcome {
        Err(Error::Server(e)) => assert_eq!(e.code, ErrorCode::ExpiredToken),
        other => panic!("{other:?}"),
    }
    // Polled every 5 s until the code ran out, and never after.
    let polls = v.mock.request_count("/token");
    assert!((10..=12).contains(&polls), "{polls} polls");
}

#[test]
fn retry_after_is_waited_out_on_virtual_time() {
    let v = Virtual::new(Mock::builder().client(MockClient::new("m2m").secret("s")));
    v.mock.inject(
        "/token",
        Fault::Status {
            status: 503,
            retry_after: Some("7".into()),
        },
        1,
    );
    let client = v.client("m2m", Some("s"));
    let start = v.now();
    let (tokens, waits) = v.run(SendDriver::new(
        client.client_credentials().unwrap(),
        &v.settings,
    ));
    assert!(tokens.is_ok());
    assert_eq!(waits, [Duration::from_secs(7)]);
    assert_eq!(
        v.now().duration_since(start).unwrap(),
        Duration::from_secs(7)
    );
    assert_eq!(v.mock.request_count("/token"), 2);
}

/// Drives one renewal of `machine` to its end against the mock, the way a token manager does
/// (with a store that always saves).
fn renew(v: &Virtual, machine: &mut RenewalMachine, force: bool) -> Result<String, Error> {
    let renewal = match machine.poll(v.now(), force)? {
        Poll::Use(token) => return Ok(token.expose_secret().to_owned()),
        Poll::Start(renewal) => renewal,
        Poll::Wait(ticket) => panic!("one caller never waits: {ticket:?}"),
    };
    v.clock.advance(renewal.delay);
    let fetched = match renewal.work {
        Work::Fetch(step) => v.send(step),
        Work::Save(tokens) | Work::Resave(tokens) => Ok(tokens),
    };
    let outcome = match machine
        .fetched(renewal.ticket, fetched, v.now())
        .into_save()
    {
        Ok(_) => machine
            .saved(renewal.ticket, Ok(()), v.now())
            .into_save()
            .expect_err("a store that never fails is not asked to save again"),
        Err(outcome) => outcome,
    };
    outcome.map(|t| t.expose_secret().to_owned())
}

#[test]
fn client_credentials_are_renewed_as_the_clock_crosses_the_skew() {
    let v =
        Virtual::new(Mock::builder().client(MockClient::new("m2m").secret("s").expires_in(300)));
    let lifecycle = Lifecycle::new(
        v.client("m2m", Some("s")),
        TokenSource::ClientCredentials {
            scope: String::new(),
            params: Vec::new(),
        },
    );
    let mut machine = RenewalMachine::new(lifecycle, None);
    let first = renew(&v, &mut machine, false).unwrap();
    v.clock.advance(Duration::from_secs(239));
    assert_eq!(renew(&v, &mut machine, false).unwrap(), first);
    assert_eq!(v.mock.issued_access_tokens(), 1);
    v.clock.advance(Duration::from_secs(2));
    let second = renew(&v, &mut machine, false).unwrap();
    assert_ne!(second, first);
    assert_eq!(v.mock.issued_access_tokens(), 2);
}

#[test]
fn a_rotated_refresh_token_is_used_and_a_refused_one_means_reauthorize() {
    let v = Virtual::new(
        Mock::builder().client(
            MockClient::new("app")
                .secret("s")
                .expires_in(120)
                .rotate_refresh_tokens(true),
        ),
    );
    let client = v.client("app", Some("s"));
    // The browser leg, in memory: the mock's /authorize answers with a redirect.
    let (url, pending) = client
        .authorization_code()
        .scope("offline_access")
        .build()
        .unwrap();
    let visit = v.mock.route_now(latchkey_mock::Request::get(url.as_str()));
    let location = visit
        .response()
        .and_then(|r| r.header("location"))
        .expect("a redirect")
        .to_owned();
    let tokens = v
        .send(pending.callback(&client, &location).unwrap())
        .unwrap();
    let first_refresh = tokens.refresh_token().expect("a refresh token").clone();
    let mut machine = RenewalMachine::new(
        Lifecycle::new(client.clone(), TokenSource::User),
        Some(tokens),
    );

    // Past the skew: refreshed, and the refresh token rotated.
    v.clock.advance(Duration::from_secs(61));
    renew(&v, &mut machine, false).unwrap();
    let rotated = machine.tokens().unwrap().refresh_token().unwrap().clone();
    assert_ne!(rotated.expose_secret(), first_refresh.expose_secret());
    assert_eq!(v.mock.refresh_count(), 1);

    // The server forgets the grant: invalid_grant, and from then on only a new login helps.
    let mut stale = RenewalMachine::new(
        Lifecycle::new(client, TokenSource::User),
        Some(
            latchkey::TokenSet::new(
                latchkey::AccessToken::new("old"),
                latchkey::TokenType::Bearer,
            )
            .with_refresh_token(Some(first_refresh)),
        ),
    );
    let error = renew(&v, &mut stale, true).unwrap_err();
    assert!(error.is_reauthorization_required(), "{error:?}");
    assert!(
        stale
            .poll(v.now(), false)
            .unwrap_err()
            .is_reauthorization_required()
    );
}

/// OpenID Connect against the mock's signed ID tokens, each algorithm it signs with: the code
/// exchange fetches the JWK set once and validates, a refresh's ID token continues the first,
/// and after the mock rotates its keys the next login fetches the set again.
#[cfg(feature = "oidc")]
#[test]
fn id_tokens_from_the_mock_validate_across_a_key_rotation() {
    use latchkey::IdTokenError;
    use latchkey::jose::Algorithm;
    use latchkey_mock::IdTokenAlg;

    for alg in [
        IdTokenAlg::RS256,
        IdTokenAlg::PS256,
        IdTokenAlg::ES256,
        IdTokenAlg::ES384,
        IdTokenAlg::EdDSA,
        IdTokenAlg::HS256,
    ] {
        let v = Virtual::new(
            Mock::builder().client(
                MockClient::new("app")
                    .secret("s3cret")
                    .expires_in(120)
                    .id_token_alg(alg),
            ),
        );
        let client = Client::builder("app")
            .client_secret("s3cret")
            .issuer(v.mock.issuer())
            .jwks_uri(v.mock.jwks_uri())
            .authorization_endpoint(v.mock.authorization_endpoint())
            .token_endpoint(v.mock.token_endpoint())
            .redirect_uri(REDIRECT)
            .id_token_algorithms(Algorithm::ALL)
            .id_token_hmac(alg == IdTokenAlg::HS256)
            .build()
            .unwrap();
        let login = |v: &Virtual| {
            let (url, pending) = client
                .authorization_code()
                .scope("openid offline_access")
                .build()
                .unwrap();
            let visit = v.mock.route_now(latchkey_mock::Request::get(url.as_str()));
            let location = visit
                .response()
                .and_then(|r| r.header("location"))
                .expect("a redirect")
                .to_owned();
            let exchange = pending.callback(&client, &location).unwrap();
            v.run(SendDriver::new(exchange, &v.settings)).0
        };
        let tokens = login(&v).unwrap_or_else(|e| panic!("{alg:?}: {e}"));
        let claims = tokens.id_token_claims().expect("validated claims").clone();
        assert_eq!(claims.iss, v.mock.issuer(), "{alg:?}");
        assert_eq!(claims.aud, ["app"]);
        assert!(claims.nonce.is_some());
        let keys = client.key_set();
        if alg == IdTokenAlg::HS256 {
            assert!(keys.fetched_at().is_none(), "HMAC needs no key set");
            continue;
        }
        assert_eq!(keys.fetched_at(), Some(v.now()), "{alg:?}");

        // A refresh: its ID token has the same iss and sub.
        v.clock.advance(Duration::from_secs(61));
        let refreshed = v
            .send(
                client
                    .refresh(tokens.refresh_token().unwrap())
                    .unwrap()
                    .original_id_token(&claims),
            )
            .unwrap_or_else(|e| panic!("{alg:?}: {e}"));
        assert_eq!(refreshed.id_token_claims().unwrap().sub, claims.sub);

        // The mock rotates its keys: within 30 s of the last fetch the new kid is not fetched.
        v.mock.rotate_signing_keys();
        v.clock.advance(Duration::from_secs(1));
        // The mock's JWK set comes with `Cache-Control: no-store`, so the refresh above (more
        // than 30 s after the first fetch) fetched it again.
        let fetched = client.key_set().fetched_at();
        assert_eq!(fetched, Some(v.now() - Duration::from_secs(1)), "{alg:?}");
        let error = login(&v).unwrap_err();
        assert!(
            matches!(error, Error::IdToken(IdTokenError::UnknownKey { .. })),
            "{alg:?}: {error:?}"
        );
        assert_eq!(client.key_set().fetched_at(), fetched);
        // Past 30 s it is, once, and the login validates.
        v.clock.advance(Duration::from_secs(30));
        let tokens = login(&v).unwrap_or_else(|e| panic!("{alg:?} after rotation: {e}"));
        assert!(tokens.id_token_claims().is_some());
        assert_eq!(client.key_set().fetched_at(), Some(v.now()));
    }
}
