//! DPoP (RFC 9449) at the mock, in memory on a clock the test moves: proofs made by
//! latchkey's core ([`Dpop::proof_with`], so every claim is chosen here) are accepted or
//! refused claim by claim; tokens are bound to the proof's key; the nonce mode challenges
//! and rotates; userinfo wants `Authorization: DPoP` with `ath`; `dpop_jkt` and PAR bind
//! the code; every proof is recorded.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use latchkey::dpop::{ProofInput, ath};
use latchkey::jose::{Algorithm, SigningKey};
use latchkey::{Dpop, Url};
use latchkey_mock::{GrantType, Mock, MockClient, MockClock, Request, Response};
use serde_json::{Map, Value, json};

/// `Basic` credentials of `m2m` (secret `s`).
const M2M: &str = "Basic bTJtOnM=";
const START: u64 = 1_700_000_000;
const BASE: &str = "http://mock.invalid";
const REDIRECT: &str = "https://app.example/callback";

fn mock() -> (Mock, MockClock) {
    let clock = MockClock::at(UNIX_EPOCH + Duration::from_secs(START));
    let mock = Mock::builder()
        .client(MockClient::new("m2m").secret("s").grant_types([
            GrantType::ClientCredentials,
            GrantType::AuthorizationCode,
            GrantType::RefreshToken,
        ]))
        .client(MockClient::new("spa").response_style(latchkey_mock::ResponseStyle::Clerk))
        .clock(clock.clone())
        .build();
    (mock, clock)
}

fn dpop() -> Dpop {
    Dpop::new(SigningKey::generate(Algorithm::ES256).unwrap())
}

/// A fresh `jti` for each proof.
fn jti() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("jti-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

fn url(path: &str) -> Url {
    Url::parse(&format!("{BASE}{path}")).unwrap()
}

/// A proof for `method` `path` at `now`, optionally with a nonce and an access token.
fn proof(
    key: &Dpop,
    method: &str,
    path: &str,
    now: SystemTime,
    nonce: Option<&str>,
    token: Option<&str>,
) -> String {
    let target = url(path);
    let id = jti();
    let mut input = ProofInput::new(method, &target, now, &id);
    if let Some(nonce) = nonce {
        input = input.nonce(nonce);
    }
    if let Some(token) = token {
        input = input.access_token(token);
    }
    key.proof_with(&input).unwrap()
}

fn client_credentials() -> Request {
    Request::post_form("/token", &[("grant_type", "client_credentials")])
        .with_header("authorization", M2M)
}

fn json(response: &Response) -> Value {
    serde_json::from_slice(&response.body).unwrap()
}

fn send(mock: &Mock, request: Request) -> Response {
    mock.route_now(request).into_response().unwrap()
}

/// The error and description of a refused request.
fn refused(response: &Response) -> (u16, String, String) {
    let body = json(response);
    (
        response.status,
        body["error"].as_str().unwrap_or_default().to_owned(),
        body["error_description"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

#[test]
fn a_proof_binds_the_token_to_its_key() {
    let (mock, clock) = mock();
    let key = dpop();
    let proof = proof(&key, "POST", "/token", clock.now(), None, None);
    let answer = send(&mock, client_credentials().with_header("DPoP", proof));
    assert_eq!(answer.status, 200, "{}", answer.body_text());
    let body = json(&answer);
    assert_eq!(body["token_type"], "DPoP");
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(mock.token_jkt(token).as_deref(), Some(key.jkt().as_str()));
    // Introspection shows the confirmation.
    let introspected = send(
        &mock,
        Request::post_form("/introspect", &[("token", token)]).with_header("authorization", M2M),
    );
    let claims = json(&introspected);
    assert_eq!(claims["token_type"], "DPoP");
    assert_eq!(claims["cnf"]["jkt"], key.jkt());
    // The record says what came in.
    let proofs = mock.dpop_proofs();
    assert_eq!(proofs.len(), 1);
    assert_eq!(proofs[0].path, "/token");
    assert_eq!(proofs[0].jkt.as_deref(), Some(key.jkt().as_str()));
    assert_eq!(proofs[0].error, None);
    // Without a proof: a Bearer token, unbound.
    let plain = json(&send(&mock, client_credentials()));
    assert_eq!(plain["token_type"], "Bearer");
    assert_eq!(
        mock.token_jkt(plain["access_token"].as_str().unwrap()),
        None
    );
}

/// Signs a proof with `key` from a header and claims given whole.
fn forged(key: &SigningKey, header: Value, claims: &Value) -> String {
    let Value::Object(header) = header else {
        panic!("header")
    };
    key.sign(header, claims).unwrap()
}

#[test]
fn every_claim_and_header_member_is_checked() {
    let (mock, clock) = mock();
    let signing = SigningKey::generate(Algorithm::ES256).unwrap();
    let key = Dpop::new(signing.clone());
    let now = clock.now();
    let iat = START;
    let good_claims =
        || json!({"jti": jti(), "htm": "POST", "htu": format!("{BASE}/token"), "iat": iat});
    let jwk = signing.public_jwk();
    let cases: Vec<(String, &str)> = vec![
        (
            forged(&signing, json!({"typ": "JWT", "jwk": jwk}), &good_claims()),
            "typ must be dpop+jwt",
        ),
        (
            forged(&signing, json!({"typ": "dpop+jwt"}), &good_claims()),
            "no jwk",
        ),
        (
            {
                let mut private = jwk.clone();
                private["d"] = "AAAA".into();
                forged(
                    &signing,
                    json!({"typ": "dpop+jwt", "jwk": private}),
                    &good_claims(),
                )
            },
            "private member `d`",
        ),
        (
            {
                let other = SigningKey::generate(Algorithm::ES256).unwrap();
                forged(
                    &signing,
                    json!({"typ": "dpop+jwt", "jwk": other.public_jwk()}),
                    &good_claims(),
                )
            },
            "does not verify",
        ),
        (
            latchkey::jose::sign_hmac(
                Algorithm::HS256,
                b"0123456789abcdef0123456789abcdef",
                match json!({"typ": "dpop+jwt", "jwk": jwk}) {
                    Value::Object(m) => m,
                    _ => Map::new(),
                },
                &good_claims(),
            )
            .unwrap(),
            "alg HS256 is not accepted",
        ),
        (proof(&key, "GET", "/token", now, None, None), "htm"),
        (proof(&key, "POST", "/tokens", now, None, None), "htu"),
        (
            forged(
                &signing,
                json!({"typ": "dpop+jwt", "jwk": jwk}),
                &json!({"jti": jti(), "htm": "POST", "htu": format!("{BASE}/token?x=1"), "iat": iat}),
            ),
            "no query",
        ),
        (
            proof(
                &key,
                "POST",
                "/token",
                now - Duration::from_secs(61),
                None,
                None,
            ),
            "iat",
        ),
        (
            proof(
                &key,
                "POST",
                "/token",
                now + Duration::from_secs(61),
                None,
                None,
            ),
            "iat",
        ),
        (
            forged(
                &signing,
                json!({"typ": "dpop+jwt", "jwk": jwk}),
                &json!({"htm": "POST", "htu": format!("{BASE}/token"), "iat": iat}),
            ),
            "no jti",
        ),
        ("not.a.jwt".to_owned(), "not a signed JWT"),
    ];
    for (proof, expected) in cases {
        let (status, error, description) = refused(&send(
            &mock,
            client_credentials().with_header("DPoP", proof),
        ));
        assert_eq!((status, error.as_str()), (400, "invalid_dpop_proof"));
        assert!(description.contains(expected), "{description} / {expected}");
    }
    // Within the window either way: accepted.
    for skew in [-59i64, 59] {
        let at = if skew < 0 {
            now - Duration::from_secs(59)
        } else {
            now + Duration::from_secs(59)
        };
        let answer = send(
            &mock,
            client_credentials().with_header("DPoP", proof(&key, "POST", "/token", at, None, None)),
        );
        assert_eq!(answer.status, 200, "{skew}: {}", answer.body_text());
    }
    // Two DPoP headers.
    let two = client_credentials()
        .with_header("DPoP", proof(&key, "POST", "/token", now, None, None))
        .with_header("DPoP", proof(&key, "POST", "/token", now, None, None));
    assert!(
        refused(&send(&mock, two))
            .2
            .contains("more than one DPoP header")
    );
    // No token was issued for any refused proof, and each was recorded with its error.
    assert_eq!(mock.issued_access_tokens(), 2);
    let refused_count = mock
        .dpop_proofs()
        .iter()
        .filter(|p| p.error.as_deref() == Some("invalid_dpop_proof"))
        .count();
    assert_eq!(refused_count, 13);
}

#[test]
fn a_replayed_proof_is_refused() {
    let (mock, clock) = mock();
    let key = dpop();
    let once = proof(&key, "POST", "/token", clock.now(), None, None);
    let first = send(
        &mock,
        client_credentials().with_header("DPoP", once.clone()),
    );
    assert_eq!(first.status, 200);
    let (status, error, description) =
        refused(&send(&mock, client_credentials().with_header("DPoP", once)));
    assert_eq!((status, error.as_str()), (400, "invalid_dpop_proof"));
    assert!(description.contains("already used"), "{description}");
}

#[test]
fn the_nonce_mode_challenges_then_accepts_and_a_rotation_challenges_again() {
    let (mock, clock) = mock();
    mock.require_dpop_nonce(true);
    let key = dpop();
    let now = clock.now();
    let challenge = send(
        &mock,
        client_credentials().with_header("DPoP", proof(&key, "POST", "/token", now, None, None)),
    );
    assert_eq!(refused(&challenge).1, "use_dpop_nonce");
    assert_eq!(challenge.status, 400);
    let nonce = challenge.header("dpop-nonce").unwrap().to_owned();
    assert_eq!(nonce, mock.dpop_nonce());
    let ok = send(
        &mock,
        client_credentials().with_header(
            "DPoP",
            proof(&key, "POST", "/token", now, Some(&nonce), None),
        ),
    );
    assert_eq!(ok.status, 200, "{}", ok.body_text());
    // A wrong nonce is challenged too.
    let wrong = send(
        &mock,
        client_credentials().with_header(
            "DPoP",
            proof(&key, "POST", "/token", now, Some("stale"), None),
        ),
    );
    assert_eq!(refused(&wrong).1, "use_dpop_nonce");
    // Rotated: the old nonce is challenged with the new one.
    let fresh = mock.rotate_dpop_nonce();
    assert_ne!(fresh, nonce);
    let again = send(
        &mock,
        client_credentials().with_header(
            "DPoP",
            proof(&key, "POST", "/token", now, Some(&nonce), None),
        ),
    );
    assert_eq!(refused(&again).1, "use_dpop_nonce");
    assert_eq!(again.header("dpop-nonce"), Some(fresh.as_str()));
    assert_eq!(mock.dpop_nonce_challenges(), 3);
    let nonces: Vec<Option<String>> = mock.dpop_proofs().into_iter().map(|p| p.nonce).collect();
    assert_eq!(
        nonces,
        [None, Some(nonce.clone()), Some("stale".into()), Some(nonce)]
    );
    // Switched off: no nonce needed.
    mock.require_dpop_nonce(false);
    let plain = send(
        &mock,
        client_credentials().with_header("DPoP", proof(&key, "POST", "/token", now, None, None)),
    );
    assert_eq!(plain.status, 200);
}

/// A DPoP-bound token for `key` from client credentials.
fn bound_token(mock: &Mock, key: &Dpop, now: SystemTime) -> String {
    let answer = send(
        mock,
        client_credentials().with_header("DPoP", proof(key, "POST", "/token", now, None, None)),
    );
    json(&answer)["access_token"].as_str().unwrap().to_owned()
}

fn userinfo(token: &str, scheme: &str) -> Request {
    Request::get("/userinfo").with_header("authorization", format!("{scheme} {token}"))
}

fn challenge(response: &Response) -> String {
    assert_eq!(response.status, 401, "{}", response.body_text());
    response.header("www-authenticate").unwrap().to_owned()
}

#[test]
fn userinfo_wants_the_bound_token_as_dpop_with_ath() {
    let (mock, clock) = mock();
    let key = dpop();
    let now = clock.now();
    let token = bound_token(&mock, &key, now);
    let good = proof(&key, "GET", "/userinfo", now, None, Some(&token));
    let ok = send(&mock, userinfo(&token, "DPoP").with_header("DPoP", good));
    assert_eq!(ok.status, 200, "{}", ok.body_text());
    assert_eq!(json(&ok)["sub"], "mock-user-1");
    // As Bearer: refused.
    assert!(challenge(&send(&mock, userinfo(&token, "Bearer"))).starts_with("DPoP "));
    // Without a proof, with another key's proof, with a wrong ath.
    let no_proof = challenge(&send(&mock, userinfo(&token, "DPoP")));
    assert!(
        no_proof.contains("error=\"invalid_dpop_proof\""),
        "{no_proof}"
    );
    let other = dpop();
    let foreign = proof(&other, "GET", "/userinfo", now, None, Some(&token));
    let other_key = challenge(&send(
        &mock,
        userinfo(&token, "DPoP").with_header("DPoP", foreign),
    ));
    assert!(other_key.contains("error=\"invalid_token\""), "{other_key}");
    let wrong_ath = proof(&key, "GET", "/userinfo", now, None, Some("another-token"));
    let refused = challenge(&send(
        &mock,
        userinfo(&token, "DPoP").with_header("DPoP", wrong_ath),
    ));
    assert!(
        refused.contains("invalid_dpop_proof") && refused.contains("ath"),
        "{refused}"
    );
    // Nonce mode at the resource: 401 with a DPoP challenge and the nonce.
    mock.require_dpop_nonce(true);
    let asked = send(
        &mock,
        userinfo(&token, "DPoP").with_header(
            "DPoP",
            proof(&key, "GET", "/userinfo", now, None, Some(&token)),
        ),
    );
    let header = challenge(&asked);
    assert!(header.contains("error=\"use_dpop_nonce\""), "{header}");
    let nonce = asked.header("dpop-nonce").unwrap().to_owned();
    let answered = send(
        &mock,
        userinfo(&token, "DPoP").with_header(
            "DPoP",
            proof(&key, "GET", "/userinfo", now, Some(&nonce), Some(&token)),
        ),
    );
    assert_eq!(answered.status, 200);
    // An unbound token sent as DPoP is refused.
    mock.require_dpop_nonce(false);
    let plain = json(&send(&mock, client_credentials()))["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let unbound = challenge(&send(
        &mock,
        userinfo(&plain, "DPoP").with_header(
            "DPoP",
            proof(&key, "GET", "/userinfo", now, None, Some(&plain)),
        ),
    ));
    assert!(unbound.contains("not DPoP-bound"), "{unbound}");
    assert_eq!(ath(&token).len(), 43);
}

/// Authorizes `spa` with PKCE-less code flow and extra parameters; returns the code.
fn code(mock: &Mock, extra: &[(&str, &str)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.extend_pairs([
        ("response_type", "code"),
        ("client_id", "spa"),
        ("redirect_uri", REDIRECT),
        ("scope", "openid offline_access"),
    ]);
    query.extend_pairs(extra.iter().copied());
    let answer = send(mock, Request::get(format!("/authorize?{}", query.finish())));
    let location = Url::parse(answer.header("location").unwrap()).unwrap();
    location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("a code")
}

fn exchange(code: &str) -> Request {
    Request::post_form(
        "/token",
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "spa"),
            ("code", code),
            ("redirect_uri", REDIRECT),
        ],
    )
}

#[test]
fn dpop_jkt_binds_the_code_and_a_bound_refresh_needs_the_same_key() {
    let (mock, clock) = mock();
    let key = dpop();
    let other = dpop();
    let now = clock.now();
    let code = code(&mock, &[("dpop_jkt", &key.jkt())]);
    // No proof, another key: refused, and the code is still good.
    assert_eq!(
        refused(&send(&mock, exchange(&code))).1,
        "invalid_dpop_proof"
    );
    let (_, error, description) = refused(&send(
        &mock,
        exchange(&code).with_header("DPoP", proof(&other, "POST", "/token", now, None, None)),
    ));
    assert_eq!(error, "invalid_dpop_proof");
    assert!(description.contains("dpop_jkt"), "{description}");
    let tokens = send(
        &mock,
        exchange(&code).with_header("DPoP", proof(&key, "POST", "/token", now, None, None)),
    );
    assert_eq!(tokens.status, 200, "{}", tokens.body_text());
    let tokens = json(&tokens);
    assert_eq!(tokens["token_type"], "DPoP");
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(
        mock.token_jkt(&refresh).as_deref(),
        Some(key.jkt().as_str())
    );
    let refresh_request = || {
        Request::post_form(
            "/token",
            &[
                ("grant_type", "refresh_token"),
                ("client_id", "spa"),
                ("refresh_token", &refresh),
            ],
        )
    };
    assert_eq!(
        refused(&send(&mock, refresh_request())).1,
        "invalid_dpop_proof"
    );
    let (_, error, description) = refused(&send(
        &mock,
        refresh_request().with_header("DPoP", proof(&other, "POST", "/token", now, None, None)),
    ));
    assert_eq!(error, "invalid_dpop_proof");
    assert!(description.contains("bound"), "{description}");
    let renewed = send(
        &mock,
        refresh_request().with_header("DPoP", proof(&key, "POST", "/token", now, None, None)),
    );
    assert_eq!(renewed.status, 200, "{}", renewed.body_text());
    let renewed = json(&renewed);
    assert_eq!(renewed["token_type"], "DPoP");
    assert_eq!(
        mock.token_jkt(renewed["access_token"].as_str().unwrap())
            .as_deref(),
        Some(key.jkt().as_str())
    );
}

#[test]
fn a_proof_at_par_binds_the_code() {
    let (mock, clock) = mock();
    let key = dpop();
    let other = dpop();
    let now = clock.now();
    let par = |jkt: Option<&str>| {
        let mut pairs = vec![
            ("response_type", "code"),
            ("client_id", "spa"),
            ("redirect_uri", REDIRECT),
        ];
        if let Some(jkt) = jkt {
            pairs.push(("dpop_jkt", jkt));
        }
        Request::post_form("/par", &pairs)
            .with_header("DPoP", proof(&key, "POST", "/par", now, None, None))
    };
    // dpop_jkt of another key than the proof's: refused.
    let (status, error, _) = refused(&send(&mock, par(Some(&other.jkt()))));
    assert_eq!((status, error.as_str()), (400, "invalid_dpop_proof"));
    let pushed = send(&mock, par(None));
    assert_eq!(pushed.status, 201, "{}", pushed.body_text());
    let request_uri = json(&pushed)["request_uri"].as_str().unwrap().to_owned();
    let code = code(&mock, &[("request_uri", &request_uri)]);
    let with_other =
        exchange(&code).with_header("DPoP", proof(&other, "POST", "/token", now, None, None));
    assert_eq!(refused(&send(&mock, with_other)).1, "invalid_dpop_proof");
    let ok = send(
        &mock,
        exchange(&code).with_header("DPoP", proof(&key, "POST", "/token", now, None, None)),
    );
    assert_eq!(ok.status, 200, "{}", ok.body_text());
    // The nonce mode holds at PAR too.
    mock.require_dpop_nonce(true);
    assert_eq!(refused(&send(&mock, par(None))).1, "use_dpop_nonce");
}

#[test]
fn the_downgrade_switch_answers_bearer_for_a_bound_token() {
    let (mock, clock) = mock();
    let key = dpop();
    mock.answer_dpop_as_bearer(true);
    let answer = json(&send(
        &mock,
        client_credentials().with_header(
            "DPoP",
            proof(&key, "POST", "/token", clock.now(), None, None),
        ),
    ));
    assert_eq!(answer["token_type"], "Bearer");
    assert_eq!(
        mock.token_jkt(answer["access_token"].as_str().unwrap())
            .as_deref(),
        Some(key.jkt().as_str())
    );
}

#[test]
fn a_client_that_requires_dpop_refuses_a_request_without_a_proof() {
    let clock = MockClock::at(UNIX_EPOCH + Duration::from_secs(START));
    let mock = Mock::builder()
        .client(MockClient::new("m2m").secret("s").require_dpop(true))
        .clock(clock.clone())
        .dpop_nonce_required(true)
        .build();
    let (_, error, description) = refused(&send(&mock, client_credentials()));
    assert_eq!(error, "invalid_dpop_proof");
    assert!(
        description.contains("must send a DPoP proof"),
        "{description}"
    );
    // The builder's nonce mode is on from the start.
    let key = dpop();
    let asked = send(
        &mock,
        client_credentials().with_header(
            "DPoP",
            proof(&key, "POST", "/token", clock.now(), None, None),
        ),
    );
    assert_eq!(refused(&asked).1, "use_dpop_nonce");
    // The metadata lists the proof algorithms.
    let metadata = json(&send(
        &mock,
        Request::get("/.well-known/oauth-authorization-server"),
    ));
    assert_eq!(
        metadata["dpop_signing_alg_values_supported"],
        json!(["ES256", "EdDSA", "RS256", "PS256"])
    );
}

#[test]
fn device_polls_and_token_exchange_bind_their_tokens_too() {
    let clock = MockClock::at(UNIX_EPOCH + Duration::from_secs(START));
    let mock = Mock::builder()
        .client(MockClient::new("tv"))
        .client(
            MockClient::new("m2m")
                .secret("s")
                .grant_types([GrantType::ClientCredentials, GrantType::TokenExchange]),
        )
        .clock(clock.clone())
        .build();
    let key = dpop();
    let now = clock.now();
    let started = json(&send(
        &mock,
        Request::post_form("/device_authorization", &[("client_id", "tv")]),
    ));
    assert!(mock.approve_device(started["user_code"].as_str().unwrap()));
    let poll = Request::post_form(
        "/token",
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("client_id", "tv"),
            ("device_code", started["device_code"].as_str().unwrap()),
        ],
    )
    .with_header("DPoP", proof(&key, "POST", "/token", now, None, None));
    let polled = json(&send(&mock, poll));
    assert_eq!(polled["token_type"], "DPoP", "{polled}");
    let device_token = polled["access_token"].as_str().unwrap();
    assert_eq!(
        mock.token_jkt(device_token).as_deref(),
        Some(key.jkt().as_str())
    );

    let subject = json(&send(&mock, client_credentials()))["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let exchange = Request::post_form(
        "/token",
        &[
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:token-exchange",
            ),
            ("subject_token", &subject),
            (
                "subject_token_type",
                "urn:ietf:params:oauth:token-type:access_token",
            ),
        ],
    )
    .with_header("authorization", M2M);
    let unbound = json(&send(&mock, exchange.clone()));
    assert_eq!(unbound["token_type"], "Bearer");
    let bound = json(&send(
        &mock,
        exchange.with_header("DPoP", proof(&key, "POST", "/token", now, None, None)),
    ));
    assert_eq!(bound["token_type"], "DPoP");
    assert_eq!(
        mock.token_jkt(bound["access_token"].as_str().unwrap())
            .as_deref(),
        Some(key.jkt().as_str())
    );
}
