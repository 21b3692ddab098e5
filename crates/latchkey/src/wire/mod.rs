//! What crosses the wire, both ways: request bodies in every encoding, and the reading of
//! token answers, error answers, redirect callbacks and `WWW-Authenticate` challenges.
//!
//! Nothing here knows a flow or a client; flows and the client build on it.

pub(crate) mod callback;
pub(crate) mod challenge;
pub(crate) mod encode;
pub(crate) mod error_response;
pub(crate) mod json;
pub(crate) mod token_response;
