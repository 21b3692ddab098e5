//! Every endpoint over HTTP on loopback, one module per endpoint or feature. The in-memory
//! router has its own tests in `router.rs`; the socket itself in `faults.rs` and
//! `lifecycle.rs`.

#[path = "../common/mod.rs"]
mod common;
mod fixtures;

mod authorize;
mod client_auth;
mod device;
mod introspection;
mod metadata;
mod par;
mod recording;
mod refresh_reuse;
mod resource_indicators;
mod revocation;
mod token;
mod token_exchange;
mod userinfo;
