//! latchkey against a real third-party authorization server, panva's oidc-provider on
//! loopback, through both adapters: `<feature>::ureq::<case>` (blocking) and
//! `<feature>::reqwest::<case>` (async). One test binary, one shared server; one module per flow
//! or feature, in `tests/interop/`.
//!
//! Every case runs its own authorization (login and consent with `interop/login.mjs`) against
//! the binary's shared server, and requires the RFC 9207 `iss` parameter. Two kinds of case:
//!
//! - generic over a conformance `Driver` (`drivers` in `through_both!`): the client is
//!   configured with the server's endpoints and issuer, and the case runs in a `Session` that
//!   fails it if any secret (client secret, code, PKCE verifier, token) shows up in anything
//!   formatted along the way; the reqwest driver moves the `send` future into `tokio::spawn`;
//! - taking an `Adapter` (`adapters` in `through_both!`): every client is built from the
//!   discovered metadata, which promises `iss`.
//!
//! Not covered because `interop/server.mjs` leaves them off: token exchange (RFC 8693;
//! oidc-provider has no built-in grant for it) and resource indicators (RFC 8707;
//! `resourceIndicators` is disabled there).
//!
//! Without Node.js or `interop/node_modules` every case is compiled `#[ignore]`d, with the
//! reason, unless `LATCHKEY_INTEROP=required` (see the `latchkey_interop` docs).

/// One interop test: ignored, with the reason, where the server cannot run.
macro_rules! interop_test {
    ($name:ident $body:block) => {
        #[test]
        #[cfg_attr(
            not(interop_server),
            ignore = "interop: node or interop/node_modules missing; run `cd interop && npm ci` or set LATCHKEY_INTEROP=required"
        )]
        fn $name() $body
    };
}

/// The module's cases for both adapters, as `ureq::<case>` and `reqwest::<case>`: `drivers`
/// are generic over `D: Driver`, `adapters` take an `&Adapter`.
macro_rules! through_both {
    (drivers: [$($d:ident),* $(,)?], adapters: [$($a:ident),* $(,)?] $(,)?) => {
        mod ureq {
            $( interop_test!($d { super::$d::<crate::support::Ureq>(); }); )*
            $( interop_test!($a { super::$a(&crate::support::Adapter::ureq()); }); )*
        }
        mod reqwest {
            $( interop_test!($d { super::$d::<crate::support::Reqwest>(); }); )*
            $( interop_test!($a { super::$a(&crate::support::Adapter::reqwest()); }); )*
        }
    };
}

#[path = "interop/authorization_code.rs"]
mod authorization_code;
#[path = "interop/client_assertion.rs"]
mod client_assertion;
#[path = "interop/client_authentication.rs"]
mod client_authentication;
#[path = "interop/client_credentials.rs"]
mod client_credentials;
#[path = "interop/device.rs"]
mod device;
#[path = "interop/discovery.rs"]
mod discovery;
#[path = "interop/dpop.rs"]
mod dpop;
#[path = "interop/issuer_identification.rs"]
mod issuer_identification;
#[path = "interop/mtls.rs"]
mod mtls;
#[path = "interop/openid.rs"]
mod openid;
#[path = "interop/par.rs"]
mod par;
#[path = "interop/refresh.rs"]
mod refresh;
#[path = "interop/revocation_and_introspection.rs"]
mod revocation_and_introspection;
#[path = "interop/support.rs"]
mod support;
#[path = "interop/userinfo.rs"]
mod userinfo;
