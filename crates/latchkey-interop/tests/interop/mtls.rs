//! Mutual TLS (RFC 8705) against oidc-provider over HTTPS on loopback (`features.mTLS`:
//! `tlsClientAuth`, `selfSignedTlsClientAuth`, `certificateBoundAccessTokens`), with a test CA
//! and certificates made by `rcgen` for this binary ([`TestPki`]). The provider counts the
//! client certificate only on its `mtls_endpoint_aliases` (`/mtls/...`), so each case also
//! shows that the client went there.
//!
//! For each client authentication method (`tls_client_auth` with the CA's certificate,
//! `self_signed_tls_client_auth` with a self-signed one) and each adapter: code + PKCE login,
//! refresh, userinfo with the bound token, introspection showing `cnf.x5t#S256` equal to the
//! certificate's thumbprint, client credentials; and the refusals: a bound token without its
//! certificate (the provider's userinfo; the token manager, before sending), a client that
//! ignores the aliases, a transport without a certificate.

use std::sync::LazyLock;

use latchkey::manage::ManagedTransport as _;
use latchkey::{
    AccessToken, CertificateThumbprint, Client, ClientAuth, ClientIdentity, ConfigError, Error,
    ErrorCode, Lifecycle, Method, Request, RetryMode, ServerMetadata, TokenSet, TokenSource,
};
use latchkey_interop::clients::{MTLS_CA, MTLS_SELF_SIGNED};
use latchkey_interop::mtls::TestPki;
use latchkey_interop::{Login, Provider, loopback_redirect_uri};

use crate::support::{Adapter, metadata, server_error};

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

/// The same adapter as `a`, trusting the test CA, presenting `identity` when given.
fn over(a: &Adapter, identity: Option<ClientIdentity>) -> Adapter {
    let pki = &MTLS.pki;
    match a {
        Adapter::Ureq(_) => {
            let agent: ::ureq::Agent = ::ureq::Agent::config_builder().proxy(None).build().into();
            let mut builder = latchkey_ureq::Transport::builder()
                .agent(agent)
                .root_certificates(pki.ca());
            if let Some(identity) = identity {
                builder = builder.client_certificate(identity);
            }
            Adapter::Ureq(builder.build())
        }
        Adapter::Reqwest(..) => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("tokio runtime");
            let mut builder = latchkey_reqwest::Transport::builder()
                .client_builder(::reqwest::Client::builder().no_proxy())
                .root_certificates(pki.ca());
            if let Some(identity) = identity {
                builder = builder.client_certificate(identity);
            }
            Adapter::Reqwest(builder.build(), runtime)
        }
    }
}

/// The client of each method, with its certificate.
fn methods() -> [(&'static str, ClientAuth, ClientIdentity); 2] {
    [
        (
            MTLS_CA,
            ClientAuth::TlsClientAuth,
            MTLS.pki.client_identity(),
        ),
        (
            MTLS_SELF_SIGNED,
            ClientAuth::SelfSignedTlsClientAuth,
            MTLS.pki.self_signed_identity(),
        ),
    ]
}

/// A client from the discovered metadata (aliases included), authenticating with `auth`.
fn client(metadata: &ServerMetadata, id: &str, auth: ClientAuth) -> Client {
    Client::builder(id)
        .metadata(metadata)
        .auth_method(auth)
        .redirect_uri(loopback_redirect_uri())
        .build()
        .expect("mTLS client")
}

/// Logs in as alice (PKCE) and exchanges the code.
fn code_tokens(a: &Adapter, client: &Client) -> TokenSet {
    let (url, pending) = client
        .authorization_code()
        .scope("openid email")
        .build()
        .expect("authorization request");
    assert!(pending.pkce_verifier().is_some());
    let ca = MTLS.pki.ca_file();
    let callback = Login::new().ca_file(&ca).run(url.as_str());
    a.send(pending.callback(client, &callback).expect("callback"))
        .expect("code exchange")
}

/// The thumbprint the provider bound `token` to, by introspection.
fn bound_to(a: &Adapter, client: &Client, token: &AccessToken) -> CertificateThumbprint {
    let seen = a
        .send(client.introspect(token).expect("introspection"))
        .expect("introspect");
    assert!(seen.active);
    seen.certificate_thumbprint()
        .unwrap_or_else(|| panic!("no cnf.x5t#S256 in {:?}", seen.extra))
}

/// Code + PKCE, userinfo with the bound token, introspection, refresh, client credentials;
/// for `tls_client_auth` and `self_signed_tls_client_auth`.
fn code_refresh_userinfo_and_client_credentials(a: &Adapter) {
    let p = &MTLS.provider;
    for (id, auth, identity) in methods() {
        let thumbprint = identity.thumbprint();
        let a = over(a, Some(identity));
        let metadata = metadata(&a, p);
        assert!(
            metadata.extra.contains_key("mtls_endpoint_aliases"),
            "{metadata:?}"
        );
        let client = client(&metadata, id, auth);
        let token_url = client.token_endpoint().expect("token endpoint").as_str();
        assert_eq!(token_url, format!("{}/mtls/token", p.issuer()));

        let tokens = code_tokens(&a, &client);
        assert_eq!(tokens.certificate_binding(), Some(&thumbprint));
        assert_eq!(bound_to(&a, &client, tokens.access_token()), thumbprint);
        let claims = a
            .send(client.userinfo(tokens.access_token()).expect("userinfo"))
            .expect("userinfo with the bound token");
        assert_eq!(claims["sub"], "alice");
        assert_eq!(claims["email"], "alice@example.com");

        let refresh = tokens.refresh_token().expect("a refresh token");
        let renewed = a
            .send(client.refresh(refresh).expect("refresh"))
            .expect("refresh over mTLS");
        assert_eq!(renewed.certificate_binding(), Some(&thumbprint));
        assert_eq!(bound_to(&a, &client, renewed.access_token()), thumbprint);

        let cc = a
            .send(client.client_credentials().expect("cc").scope("api:read"))
            .expect("client credentials over mTLS");
        assert_eq!(bound_to(&a, &client, cc.access_token()), thumbprint);
    }
}

/// A GET of the userinfo alias, for a token manager to authorize.
fn userinfo_request(client: &Client) -> Request {
    let url = client
        .userinfo_endpoint()
        .expect("userinfo endpoint")
        .clone();
    Request::new(Method::Get, url, RetryMode::Idempotent)
}

/// The token manager's `execute` (after `access_token`), whichever the adapter.
fn manager_userinfo(a: &Adapter, client: &Client, tokens: TokenSet) -> Result<u16, Error> {
    let lifecycle = Lifecycle::new(client.clone(), TokenSource::User);
    let request = userinfo_request(client);
    let origin = MTLS.provider.issuer().to_owned();
    match a {
        Adapter::Ureq(transport) => {
            let manager = latchkey_ureq::TokenManager::builder(transport.clone(), lifecycle)
                .tokens(tokens)
                .resource_origin(origin)
                .build()?;
            manager.access_token()?;
            Ok(manager.execute(&request)?.status)
        }
        Adapter::Reqwest(transport, runtime) => runtime.block_on(async {
            let manager = latchkey_reqwest::TokenManager::builder(transport.clone(), lifecycle)
                .tokens(tokens)
                .resource_origin(origin)
                .build()?;
            manager.access_token().await?;
            Ok(manager.execute(&request).await?.status)
        }),
    }
}

/// A bound token goes only over its certificate: the provider's userinfo refuses it without
/// the certificate, and a token manager whose transport presents no certificate or another
/// one refuses to send it at all.
fn bound_token_only_over_its_certificate(a: &Adapter) {
    let p = &MTLS.provider;
    let identity = MTLS.pki.client_identity();
    let thumbprint = identity.thumbprint();
    let with_cert = over(a, Some(identity));
    let metadata = metadata(&with_cert, p);
    let client = client(&metadata, MTLS_CA, ClientAuth::TlsClientAuth);
    let tokens = code_tokens(&with_cert, &client);
    assert_eq!(tokens.certificate_binding(), Some(&thumbprint));

    // The provider: the same token over a connection without the certificate is refused.
    let without = over(a, None);
    assert_eq!(
        server_error(without.send(client.userinfo(tokens.access_token()).expect("userinfo"))),
        (ErrorCode::InvalidToken, Some(401))
    );
    // ... and over another certificate too.
    let other = over(a, Some(MTLS.pki.self_signed_identity()));
    assert_eq!(
        server_error(other.send(client.userinfo(tokens.access_token()).expect("userinfo"))),
        (ErrorCode::InvalidToken, Some(401))
    );

    // Our token managers: refused before anything is sent.
    assert_eq!(
        manager_userinfo(&without, &client, tokens.clone()).unwrap_err(),
        Error::Config(ConfigError::CertificateBound {
            token: thumbprint,
            transport: None,
        })
    );
    assert_eq!(
        manager_userinfo(&other, &client, tokens.clone()).unwrap_err(),
        Error::Config(ConfigError::CertificateBound {
            token: thumbprint,
            transport: Some(MTLS.pki.self_signed_identity().thumbprint()),
        })
    );
    // Over its own certificate the manager sends it, and the provider takes it.
    assert_eq!(manager_userinfo(&with_cert, &client, tokens).unwrap(), 200);
    // The manager knows its transport's certificate.
    let certificate = match &with_cert {
        Adapter::Ureq(t) => t.client_certificate(),
        Adapter::Reqwest(t, _) => t.client_certificate(),
    };
    assert_eq!(certificate, Some(thumbprint));
}

/// Without the certificate, or past the aliases, `tls_client_auth` fails at the provider.
fn tls_client_auth_needs_the_certificate_and_the_aliases(a: &Adapter) {
    let p = &MTLS.provider;
    let without = over(a, None);
    let metadata = metadata(&without, p);
    for (id, auth, identity) in methods() {
        let client = client(&metadata, id, auth);
        assert_eq!(
            server_error(without.send(client.client_credentials().expect("cc"))),
            (ErrorCode::InvalidClient, Some(401)),
            "{id} without a certificate"
        );
        let ignoring_aliases = Client::builder(id)
            .metadata(&metadata)
            .auth_method(auth)
            .mutual_tls(false)
            .build()
            .expect("client");
        assert_eq!(
            ignoring_aliases.token_endpoint().map(|u| u.as_str()),
            Some(format!("{}/token", p.issuer()).as_str())
        );
        let with_cert = over(a, Some(identity));
        assert_eq!(
            server_error(with_cert.send(ignoring_aliases.client_credentials().expect("cc"))),
            (ErrorCode::InvalidClient, Some(401)),
            "{id} past the aliases"
        );
    }
    // The other client's certificate is not this client's.
    let wrong = over(a, Some(MTLS.pki.client_identity()));
    let client = client(
        &metadata,
        MTLS_SELF_SIGNED,
        ClientAuth::SelfSignedTlsClientAuth,
    );
    assert_eq!(
        server_error(wrong.send(client.client_credentials().expect("cc"))),
        (ErrorCode::InvalidClient, Some(401))
    );
}

through_both! {
    drivers: [],
    adapters: [
        code_refresh_userinfo_and_client_credentials,
        bound_token_only_over_its_certificate,
        tls_client_auth_needs_the_certificate_and_the_aliases,
    ],
}
