//! An in-process OAuth 2.0 authorization server for tests, demos and your own test suites.
//!
//! `latchkey-mock` implements the server side of the flows latchkey speaks, independently of
//! the `latchkey` crate's flows, so that it checks a client rather than mirroring it (only
//! the JOSE primitives, JWS parsing, JWK keys, signature verification and RFC 7638
//! thumbprints, are the core's `jose` module):
//!
//! * `GET /authorize` approves at once (code or implicit), with PKCE (`S256`, `plain`),
//!   `audience`, redirect URI checks (loopback ports ignored, RFC 8252 §7.3) and errors
//!   redirected back to the client;
//! * `POST /token` with the `authorization_code`, `client_credentials` and `refresh_token`
//!   grants, strict client authentication (`client_secret_basic`, `client_secret_post`,
//!   `none`), form, JSON or multipart bodies, and Auth0-, Clerk- or Doorkeeper-shaped answers;
//!   refresh token [rotation](MockClient::rotate_refresh_tokens) with reuse detection (a
//!   rotated token presented again revokes its whole grant) and an optional
//!   [grace period](MockClient::refresh_reuse_grace);
//! * `GET|POST /userinfo`, `POST /revoke` (RFC 7009), `POST /introspect` (RFC 7662), and
//!   metadata at `/.well-known/oauth-authorization-server` (RFC 8414, with path insertion for
//!   an [issuer with a path](MockServerBuilder::issuer_path)) and
//!   `/.well-known/openid-configuration`;
//! * the device authorization grant (RFC 8628): `POST /device_authorization`, a `GET /device`
//!   verification page, [`Mock::approve_device`] / [`deny_device`](Mock::deny_device)
//!   for tests, `authorization_pending`, and `slow_down` for polls that come too fast;
//! * pushed authorization requests (RFC 9126) at `POST /par`, optionally
//!   [required](MockServerBuilder::require_pushed_authorization_requests); `iss` in every
//!   authorization response (RFC 9207, [on by default](MockServerBuilder::issuer_parameter));
//!   token exchange (RFC 8693) for access and refresh tokens; `resource` indicators (RFC 8707)
//!   checked, narrowed per token request and shown as `aud` by introspection;
//! * DPoP (RFC 9449) at the token endpoint, PAR and userinfo: proofs checked (`typ`, `alg`,
//!   signature with the header's `jwk`, `htm`, `htu`, `iat`, replayed `jti`, `ath`, and the
//!   server nonce when [required](Mock::require_dpop_nonce)), tokens bound to the key
//!   (`token_type: DPoP`, `cnf.jkt` in introspection), `dpop_jkt` on authorization requests,
//!   and a [downgrade switch](Mock::answer_dpop_as_bearer); every proof is recorded
//!   ([`Mock::dpop_proofs`]);
//! * JWT client authentication (RFC 7523): [`private_key_jwt`](MockClient::private_key_jwt)
//!   and [`client_secret_jwt`](AuthMethod::ClientSecretJwt), with strict claims and replayed
//!   assertions refused, wherever clients authenticate;
//! * fault injection per path ([`Fault`]) and a record of every request ([`RecordedRequest`]);
//! * time from an injectable clock ([`MockServerBuilder::clock`] with a [`MockClock`]), so a
//!   test makes codes, tokens and device codes expire, or spaces device polls, by moving the
//!   clock instead of sleeping.
//!
//! The same server runs two ways, built by one [`MockServerBuilder`]:
//!
//! * [`MockServer`] listens on `127.0.0.1` on an ephemeral port and runs its own tokio
//!   runtime on a background thread, so it is used the same way from synchronous tests and
//!   from `#[tokio::test]`s. Dropping it stops it.
//! * [`Mock`] ([`MockServerBuilder::build`]) answers a [`Request`] in memory with
//!   [`Mock::route`]`(now, request)`, no socket and no runtime, on whatever time the caller
//!   passes: end-to-end tests on virtual time. Its URLs start with
//!   [`base_url`](MockServerBuilder::base_url) (default `http://mock.invalid`). Faults that
//!   only a socket can show come back as [`Routed::Fault`].
//!
//! The server is a thin layer over the router: every HTTP request is turned into a
//! [`Request`], routed, and the [`Routed`] answer turned back.
//!
//! ```
//! use latchkey_mock::{AuthMethod, Encoding, Fault, MockClient, MockServer, ResponseStyle};
//!
//! let server = MockServer::builder()
//!     // Blooma: client credentials, JSON or form body, audience required.
//!     .client(
//!         MockClient::new("blooma-app")
//!             .secret("blooma-secret")
//!             .auth_method(AuthMethod::Post)
//!             .encodings([Encoding::Form, Encoding::Json])
//!             .require_audience("https://tenant.example/api/")
//!             .default_scope("USER")
//!             .expires_in(86400),
//!     )
//!     // CoLoop: Clerk-shaped answers, refresh tokens always issued.
//!     .client(
//!         MockClient::new("coloop-app")
//!             .secret("coloop-secret")
//!             .auth_method(AuthMethod::Post)
//!             .response_style(ResponseStyle::Clerk)
//!             .expires_in(7200),
//!     )
//!     .start();
//!
//! // Make the next token request fail with a 503 and `Retry-After: 1`.
//! server.inject("/token", Fault::retry_after(503, "1"), 1);
//! assert_eq!(server.request_count("/token"), 0);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod body;
mod builder;
mod client;
mod clock;
mod endpoint;
mod fault;
mod form;
mod http;
mod multipart;
mod record;
mod router;
mod server;
mod shared;
mod user;

pub use builder::{DEFAULT_BASE_URL, MockServerBuilder};
pub use client::{AuthMethod, Encoding, GrantType, IdTokenAlg, MockClient, ResponseStyle};
pub use clock::MockClock;
pub use fault::Fault;
pub use http::{Request, Response, Routed, SocketFault};
pub use record::{DpopProof, RecordedRequest};
pub use router::Mock;
pub use server::MockServer;
pub use user::MockUser;
