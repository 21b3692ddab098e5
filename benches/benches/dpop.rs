//! The cost of proving possession and of JWT client authentication (no peer crate has
//! either, so these rows stand alone): a DPoP proof (ES256, EdDSA), a `private_key_jwt`
//! client assertion (ES256, RS256 3072-bit) and a `client_secret_jwt` one (HS256), each as
//! the token request the send driver would send; and a token manager's per-request cost
//! without and with DPoP: the fresh token, the authorized request and (with DPoP) its proof,
//! up to the bytes an adapter writes, with no network.

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use criterion::{Criterion, criterion_group, criterion_main};
use latchkey::drive::{Action, Drive as _, SendDriver, TransportSettings};
use latchkey::jose::{Algorithm, SigningKey};
use latchkey::manage::{ManagedTransport, Poll, TokenKeeper, TokenManagerBuilder};
use latchkey::{
    AccessToken, Client, ClientAuth, Dpop, Exchange as _, Lifecycle, Method, Request, RetryMode,
    TokenSet, TokenSource, TokenType, Url,
};

const TOKEN_ENDPOINT: &str = "https://as.example/token";

fn client() -> latchkey::ClientBuilder {
    Client::builder("bench")
        .token_endpoint(TOKEN_ENDPOINT)
        .issuer("https://as.example")
}

fn proofs(c: &mut Criterion) {
    let url = Url::parse(TOKEN_ENDPOINT).expect("url");
    let now = SystemTime::now();
    let mut g = c.benchmark_group("dpop_proof");
    for (name, alg) in [("es256", Algorithm::ES256), ("eddsa", Algorithm::EdDSA)] {
        let dpop = Dpop::new(SigningKey::generate(alg).expect("key"));
        g.bench_function(name, |b| {
            b.iter(|| black_box(dpop.proof(&Method::Post, &url, now, None).expect("proof")));
        });
    }
    // The floor: p256's own ECDSA signature over a proof-sized input, with no JSON, base64
    // or randomness around it.
    let key = p256::ecdsa::SigningKey::from_slice(&[7; 32]).expect("a scalar");
    let input = [b'a'; 360];
    g.bench_function("floor_p256_sign", |b| {
        b.iter(|| {
            let signature: p256::ecdsa::Signature =
                p256::ecdsa::signature::Signer::sign(&key, black_box(&input));
            black_box(signature)
        });
    });
    g.finish();
}

fn assertions(c: &mut Criterion) {
    let now = SystemTime::now();
    let mut g = c.benchmark_group("client_assertion_request");
    // The RSA key is generated at rsa's default size, 3072 bits.
    for (name, alg) in [
        ("es256", Algorithm::ES256),
        ("rs256_3072", Algorithm::RS256),
    ] {
        let key = SigningKey::generate(alg).expect("key");
        let client = client().private_key_jwt(key).build().expect("client");
        let step = client.client_credentials().expect("cc");
        g.bench_function(name, |b| {
            b.iter(|| black_box(step.request_at(now).expect("request")));
        });
    }
    let client = client()
        .client_secret("bench-secret-0123456789abcdef-0123456789")
        .auth_method(ClientAuth::ClientSecretJwt)
        .build()
        .expect("client");
    let step = client.client_credentials().expect("cc");
    g.bench_function("hs256", |b| {
        b.iter(|| black_box(step.request_at(now).expect("request")));
    });
    g.finish();
}

/// Keeps the keeper a manager builder makes, for driving it by hand.
struct Keep(Option<TokenKeeper>);

impl ManagedTransport for &mut Keep {
    type Manager = ();
    fn manage(self, keeper: TokenKeeper) {
        self.0 = Some(keeper);
    }
}

fn keeper(dpop: Option<Dpop>) -> TokenKeeper {
    let mut builder = client();
    let token_type = if let Some(dpop) = dpop {
        builder = builder.dpop(dpop);
        TokenType::DPoP
    } else {
        TokenType::Bearer
    };
    let lifecycle = Lifecycle::new(builder.build().expect("client"), TokenSource::User);
    let tokens = TokenSet::new(
        AccessToken::new("at-0123456789abcdef0123456789abcdef"),
        token_type,
    )
    .with_expires_at(Some(SystemTime::now() + Duration::from_secs(86_400)));
    let mut kept = Keep(None);
    TokenManagerBuilder::new(&mut kept, lifecycle)
        .tokens(tokens)
        .resource_origin("https://api.example")
        .build()
        .expect("keeper");
    kept.0.expect("a keeper")
}

fn per_request(c: &mut Criterion) {
    let resource = Request::new(
        Method::Get,
        Url::parse("https://api.example/v1/items?page=2").expect("url"),
        RetryMode::Idempotent,
    );
    let settings = TransportSettings::default();
    let mut g = c.benchmark_group("manager_request");
    for (name, dpop) in [
        ("bearer", None),
        (
            "dpop_es256",
            Some(Dpop::new(
                SigningKey::generate(Algorithm::ES256).expect("key"),
            )),
        ),
    ] {
        let keeper = keeper(dpop);
        g.bench_function(name, |b| {
            b.iter(|| {
                let now = SystemTime::now();
                keeper.origins().check(&resource.url).expect("allowed");
                let Ok(Poll::Use(token)) = keeper.poll(now, false) else {
                    panic!("a fresh token");
                };
                let mut driver = SendDriver::once(keeper.authorized(&resource, &token), &settings);
                match driver.next(now) {
                    Action::Send(request) => black_box(request),
                    _ => panic!("a request to send"),
                }
            });
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3));
    targets = proofs, assertions, per_request
}
criterion_main!(benches);
