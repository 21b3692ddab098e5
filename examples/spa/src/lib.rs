//! # latchkey-spa: latchkey's core in a browser
//!
//! A small single-page app, compiled to `wasm32-unknown-unknown` and bound to the page with
//! wasm-bindgen, that signs in with Loom AI's two documented browser-facing flows (seed
//! document 000): the implicit flow (the token in the redirect's `#fragment`) and the
//! authorization code flow with PKCE (the code in the query, then a token request sent with
//! the browser's `fetch`). Everything OAuth is decided by latchkey's core; this crate only
//! touches the page:
//!
//! - [`config`]: where the authorization server is (`config.json` next to the page);
//! - [`flow`]: builds the authorization URL and keeps the pending value for
//!   `sessionStorage`, then parses the callback (pure, tested on the host against
//!   latchkey-mock in memory);
//! - [`drive`]: the twenty-line async loop around the core's send driver;
//! - the page itself (buttons, `sessionStorage`, `fetch`), on `wasm32` only.
//!
//! The page shows when the access token expires, never the token. Build it with
//! `bash examples/spa/build.sh` (see `examples/spa/README.md`).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod config;
pub mod drive;
pub mod flow;

#[cfg(target_arch = "wasm32")]
mod web;
