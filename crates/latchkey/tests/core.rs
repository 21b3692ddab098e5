//! The core's one integration-test binary. Its modules live in `tests/core/` so that cargo does
//! not also build each of them as a binary of its own; add new ones here with `#[path]`.
//!
//! One file per flow or feature; the five provider documents each have their own file of
//! document tests under `providers/`; property tests are grouped by subject under
//! `proptests/`; shared helpers are in `support.rs`.

// Flows and protocol features.
#[path = "core/authorization_code.rs"]
mod authorization_code;
#[cfg(all(feature = "oidc", feature = "os-rng"))]
#[path = "core/client_assertion.rs"]
mod client_assertion;
#[path = "core/device.rs"]
mod device;
#[path = "core/discovery.rs"]
mod discovery;
#[cfg(all(feature = "oidc", feature = "os-rng"))]
#[path = "core/dpop.rs"]
mod dpop;
#[path = "core/exchanges.rs"]
mod exchanges;
#[cfg(feature = "oidc")]
#[path = "core/id_token.rs"]
mod id_token;
#[path = "core/introspection.rs"]
mod introspection;
#[path = "core/issuer_identification.rs"]
mod issuer_identification;
#[path = "core/logout.rs"]
mod logout;
#[path = "core/mtls.rs"]
mod mtls;
#[path = "core/par.rs"]
mod par;
#[path = "core/parameters.rs"]
mod parameters;
#[path = "core/revocation.rs"]
mod revocation;
#[path = "core/token_responses.rs"]
mod token_responses;

// The drivers and the renewal machine end to end against the in-memory mock, on virtual time.
#[path = "core/virtual_time.rs"]
mod virtual_time;

// Cross-cutting: stored values, secrets in formatted output.
#[path = "core/persistence.rs"]
mod persistence;
#[path = "core/secrets.rs"]
mod secrets;

// The provider documents, one file each.
#[path = "core/providers/mod.rs"]
mod providers;
// The provider presets (`latchkey::providers`).
#[path = "core/presets.rs"]
mod presets;

// Generated and recorded inputs.
#[path = "core/fuzz_corpus.rs"]
mod fuzz_corpus;
#[path = "core/proptests/mod.rs"]
mod proptests;

// Helpers for the modules above.
#[path = "core/support.rs"]
mod support;
