//! The core's one integration-test binary. Modules live in `tests/core/` so that cargo does
//! not also build each of them as a binary of its own; add new ones here with `#[path]`.

#[path = "core/flows.rs"]
mod flows;
#[path = "core/fuzz_corpus.rs"]
mod fuzz_corpus;
#[path = "core/prop_parse.rs"]
mod prop_parse;
#[path = "core/prop_pkce.rs"]
mod prop_pkce;
#[path = "core/prop_url.rs"]
mod prop_url;
#[path = "core/protocol.rs"]
mod protocol;
#[path = "core/secrets.rs"]
mod secrets;
#[path = "core/serde_wire.rs"]
mod serde_wire;
