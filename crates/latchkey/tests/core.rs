//! The core's one integration-test binary. Modules live in `tests/core/` so that cargo does
//! not also build each of them as a binary of its own; add new ones here with `#[path]`.

#[path = "core/flows.rs"]
mod flows;
#[path = "core/secrets.rs"]
mod secrets;
