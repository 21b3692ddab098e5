//! Mutual TLS on the reqwest transport: the client certificate's key never shows in `Debug`,
//! the transport reports its certificate to the core, a token set is bound to it only when
//! it came over TLS, and the token manager hands out a bound token only over its own
//! certificate. (The TLS handshakes themselves, with `tls_client_auth` and
//! `self_signed_tls_client_auth`, are `latchkey-interop`'s `mtls` tests against
//! oidc-provider.)

mod common;

use common::fixture;
use latchkey::manage::ManagedTransport as _;
use latchkey::{
    AccessToken, CaCertificates, CertificateThumbprint, ClientIdentity, ConfigError, Error,
    TokenSet, TokenType,
};
use latchkey_reqwest::{TokenManager, Transport};

const CERT: &[u8] = include_bytes!("../../latchkey-conformance/src/testdata/client-cert.pem");
const KEY: &[u8] = include_bytes!("../../latchkey-conformance/src/testdata/client-key.pem");

fn identity() -> ClientIdentity {
    ClientIdentity::from_pem(CERT, KEY).unwrap()
}

#[tokio::test]
async fn the_key_never_shows_and_the_certificate_is_reported() {
    let transport = Transport::builder()
        .client_certificate(identity())
        .root_certificates(CaCertificates::from_pem(CERT).unwrap())
        .try_build()
        .unwrap();
    assert_eq!(
        transport.client_certificate(),
        Some(identity().thumbprint())
    );
    let debug = format!("{transport:?}");
    let key = std::str::from_utf8(KEY).unwrap();
    for line in key.lines().filter(|l| !l.starts_with("-----")) {
        assert!(!debug.contains(line), "{debug}");
    }
    assert_eq!(Transport::new().client_certificate(), None);
}

#[tokio::test]
async fn tokens_over_plain_http_are_bound_to_nothing() {
    let server = fixture::rotating_server();
    let transport = Transport::builder().client_certificate(identity()).build();
    let cc = fixture::client(&server).client_credentials().unwrap();
    let tokens = transport.send(cc).await.unwrap();
    // No TLS to the loopback mock, so no certificate was presented.
    assert_eq!(tokens.certificate_binding(), None);
}

#[tokio::test]
async fn the_manager_sends_a_bound_token_only_over_its_certificate() {
    let server = fixture::rotating_server();
    let other = CertificateThumbprint::of_der(b"another certificate");
    let bound = |to: CertificateThumbprint| {
        TokenSet::new(AccessToken::new("bound-token"), TokenType::Bearer)
            .with_certificate_binding(Some(to))
    };
    let manager = |transport: Transport, tokens: TokenSet| {
        TokenManager::builder(transport, fixture::lifecycle(&server))
            .tokens(tokens)
            .resource_origin(server.url())
            .build()
            .unwrap()
    };
    let with_cert = Transport::builder().client_certificate(identity()).build();
    let mine = manager(with_cert.clone(), bound(identity().thumbprint()));
    assert_eq!(
        mine.access_token().await.unwrap().expose_secret(),
        "bound-token"
    );

    for (transport, presented) in [
        (with_cert, Some(identity().thumbprint())),
        (Transport::new(), None),
    ] {
        let refused = manager(transport, bound(other));
        let want = Error::Config(ConfigError::CertificateBound {
            token: other,
            transport: presented,
        });
        assert_eq!(refused.access_token().await.unwrap_err(), want);
        let userinfo = fixture::client(&server)
            .userinfo(&AccessToken::new("x"))
            .unwrap();
        let request = latchkey::Exchange::request(&userinfo).unwrap();
        let before = server.requests().len();
        assert_eq!(refused.execute(&request).await.unwrap_err(), want);
        assert_eq!(server.requests().len(), before, "nothing was sent");
    }
}
