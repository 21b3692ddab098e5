//! # latchkey: a sans-I/O OAuth 2.0 client core
//!
//! latchkey knows every OAuth 2.0 flow and every provider dialect, and does no I/O at all: no
//! sockets, no files, no environment, no clock, no sleeping. Each network step is an
//! [`Exchange`]: it *describes* an HTTP [`Request`] and *consumes* the HTTP [`Response`]. An
//! adapter (`latchkey-ureq` for blocking code, `latchkey-reqwest` for tokio) carries requests
//! over the network; anyone with their own HTTP stack (hyper, a WASM fetch, a test harness)
//! drives the core directly.
//!
//! ```text
//!        ┌──────── latchkey (this crate) ─────────┐
//! app ──►│ Client ─► flow ─► Exchange::request()  │──► Request ──► adapter ──► network
//!        │                   Exchange::response() │◄── Response ◄─ adapter ◄──┘
//!        └─────────────────────────┬──────────────┘
//!                                  ▼
//!                       Result<TokenSet, Error>
//! ```
//!
//! Time is always an argument (a [`Response`] carries `received_at`; the implicit flow takes
//! `now`). Randomness (state, PKCE verifier) comes from the operating system's CSPRNG on every
//! call (see [Randomness](crate#randomness)), and can always be supplied by the caller.
//!
//! ## Drive it yourself
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use latchkey::{Client, Exchange, Response, State, PkceVerifier};
//!
//! let client = Client::builder("my-app")
//!     .authorization_endpoint("https://auth.example.com/authorize")
//!     .token_endpoint("https://auth.example.com/oauth/token")
//!     .redirect_uri("http://127.0.0.1:8080/callback")
//!     .build()?;
//!
//! // 1. Send the user to the authorization URL; keep `pending` (e.g. in the session).
//! let (url, pending) = client.authorization_code().scope("read write").build()?;
//! assert!(url.as_str().starts_with("https://auth.example.com/authorize?response_type=code"));
//!
//! // 2. The browser comes back to the redirect URI.
//! let callback = format!("http://127.0.0.1:8080/callback?code=abc&state={}", pending.state().as_str());
//! let exchange = pending.callback(&client, &callback)?;
//!
//! // 3. Send the request it describes with any HTTP client...
//! let request = exchange.request()?;
//! assert_eq!(request.url.as_str(), "https://auth.example.com/oauth/token");
//!
//! // 4. ...and hand back what came in.
//! let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
//! let response = Response::json(200, r#"{"access_token":"at","token_type":"Bearer","expires_in":3600}"#, now);
//! let tokens = exchange.response(response)?;
//! assert_eq!(tokens.expires_at(), Some(now + Duration::from_secs(3600)));
//! # Ok::<(), latchkey::Error>(())
//! ```
//!
//! ## Dialects
//!
//! Provider quirks are data on the [`Client`] ([`Dialect`]): extra parameters such as
//! `audience` on the authorization and/or token request, the token request body encoding
//! ([`BodyEncoding`]: form, JSON or multipart), client authentication ([`ClientAuth`]), and how
//! leniently token responses are read.
//!
//! ## Security
//!
//! - Secrets ([`ClientSecret`], [`AuthorizationCode`], [`PkceVerifier`], [`AccessToken`],
//!   [`RefreshToken`]) are newtypes with a redacted `Debug` and an explicit `expose_secret()`;
//!   no error message ever contains one.
//! - `state` is compared in constant time; PKCE S256 is on by default.
//! - Every request is marked "never follow redirects"; adapters enforce it.
//! - Plain `http://` is only sent to loopback (`localhost`, `127.0.0.0/8`, `[::1]`; see
//!   [`drive::is_loopback`]) unless the adapter is told otherwise ([`Request::check_url_security`]).
//!
//! ## URLs
//!
//! A [`Url`] is a [`url::Url`] (re-exported), the parser reqwest uses, so that what latchkey
//! checks is what the client connects to, and a `url::Url` you already have can be passed
//! straight in. Unicode host names work as for any `url` user (`https://bücher.example/` is
//! sent as `https://xn--bcher-kva.example/`). Endpoints and redirect URIs given as text go
//! through [`parse_url`], which refuses what the `url` crate would silently repair or guess
//! at (credentials, control characters, backslashes, a host that only looks like an IPv4
//! address, ...) with an error that never echoes the URL; endpoints must also be `http(s)`
//! without a fragment.
//!
//! ## Randomness
//!
//! Every random value (the 256-bit PKCE verifier, the 128-bit state) is drawn from the
//! operating system's CSPRNG with `getrandom` when it is made: no generator state lives in the
//! process, so a child made by `fork()` never repeats its parent's values. In a browser
//! (`wasm32-unknown-unknown`) the bytes come from `crypto.getRandomValues`. Callers with their
//! own source pass values in through [`State::from_random_bytes`] and
//! [`PkceVerifier::from_random_bytes`]; [`random::fill`] gives other values (a nonce) the same
//! way.
//!
//! ## Features
//!
//! - `os-rng` (default): make state and verifiers from the operating system's CSPRNG (see
//!   [Randomness](crate#randomness)); without it, callers supply them.
//! - `oidc` (default): OpenID Connect ID token validation ([`id_token`], [`jose`]): JWS
//!   signatures with RustCrypto's `rsa`, `p256`, `p384`, `ed25519-dalek` and `hmac`, the
//!   issuer's JWK set as a cached step ([`Jwks`]), and the claim checks. Without it an
//!   `id_token` stays an unread string. The same crates sign: DPoP proofs ([`dpop`],
//!   RFC 9449, [`ClientBuilder::dpop`]) and JWT client assertions (RFC 7523,
//!   [`ClientBuilder::private_key_jwt`], [`ClientAuth::ClientSecretJwt`]) with a
//!   [`jose::SigningKey`]; without `os-rng` an RSA key neither is generated nor signs (RSA
//!   signing needs randomness for blinding and the PSS salt).
//! - `http`: conversions between [`Request`]/[`Response`] and the `http` crate's types.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod client;
#[cfg(feature = "oidc")]
pub mod dpop;
pub mod drive;
mod error;
mod flow;
#[cfg(feature = "oidc")]
pub mod id_token;
#[cfg(feature = "oidc")]
pub mod jose;
pub mod manage;
pub mod mtls;
pub(crate) mod observe;
mod pkce;
pub mod providers;
pub mod random;
pub mod redact;
mod secret;
mod state;
mod token;
mod url;
mod wire;

pub use crate::url::{Url, UrlError, host_port, parse_url};
pub use client::dialect::{AssertionAudience, BodyEncoding, ClientAuth, Dialect};
pub use client::{Client, ClientBuilder, JWT_BEARER_ASSERTION};
#[cfg(feature = "oidc")]
pub use dpop::Dpop;
pub use drive::exchange::Exchange;
pub use drive::http::{Method, Request, Response, RetryMode};
pub use drive::retry::RetryPolicy;
pub use error::{
    CallbackError, ConfigError, Error, ErrorCode, IdTokenError, ReauthorizeError, ResponseError,
    ServerError, StoreError, TransportError, TransportErrorKind,
};
pub use flow::AuthorizationUrl;
pub use flow::authorization_code::{
    AuthorizationRequest, CodeExchange, PendingAuthorization, PushedAuthorization,
};
pub use flow::client_credentials::ClientCredentials;
pub use flow::device::{
    DEVICE_CODE_GRANT, DeviceAuthorization, DeviceAuthorizationRequest, DeviceCode, DevicePoll,
    DeviceWait, Poll, Wait,
};
pub use flow::discovery::{Discovery, ServerMetadata, WellKnown};
pub use flow::implicit::{ImplicitRequest, PendingImplicit};
pub use flow::introspection::{Introspection, IntrospectionRequest};
#[cfg(feature = "oidc")]
pub use flow::jwks::Jwks;
pub use flow::logout::LogoutRequest;
pub use flow::refresh::Refresh;
pub use flow::revocation::{Revocation, TokenToSend, TokenTypeHint};
pub use flow::token_exchange::{ExchangedToken, TOKEN_EXCHANGE_GRANT, TokenExchange, token_types};
pub use flow::userinfo::UserInfoRequest;
#[cfg(feature = "oidc")]
pub use id_token::{IdTokenClaims, IdTokenExpectations};
pub use manage::lifecycle::{Lifecycle, TokenSource};
pub use manage::store::{MemoryStore, TokenStore};
pub use mtls::{CaCertificates, CertificateThumbprint, ClientIdentity};
pub use pkce::{PkceChallenge, PkceMethod, PkceVerifier};
pub use secret::{AccessToken, AuthorizationCode, ClientSecret, PrivateKeyPem, RefreshToken};
pub use state::State;
pub use token::{TokenSet, TokenType};
pub use wire::callback::CallbackParams;
pub use wire::challenge::Challenge;
