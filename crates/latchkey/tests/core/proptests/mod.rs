//! Property tests (proptest), by subject: the parsers of network input, PKCE and `state`, and
//! latchkey's URL rules.

mod callbacks;
mod challenges;
#[cfg(feature = "oidc")]
mod jws;
mod pkce;
mod token_responses;
mod url;
