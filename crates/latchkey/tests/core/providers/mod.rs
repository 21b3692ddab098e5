//! The five provider documents latchkey is built from (see the README's table), one file of
//! document tests each: the document's flow driven through the core, the requests it produces
//! checked against what the document shows, then the document's own responses fed back.
//!
//! Parameter order inside a body or query is latchkey's canonical order (`grant_type`, client
//! authentication, the flow's parameters, the dialect's); each test checks the exact bytes of
//! that rendering and that the set of parameters is exactly the document's.
//!
//! | file | document |
//! | --- | --- |
//! | `loom_ai_implicit.rs` | 000, Loom AI: implicit flow for single-page apps, `audience` |
//! | `loom_ai_pkce.rs` | 001, Loom AI: authorization code + PKCE for native apps, refresh |
//! | `coloop.rs` | 002, CoLoop: private app (secret in the body) and public app (PKCE), userinfo, refresh |
//! | `blooma.rs` | 003, Blooma: client credentials, JSON or form body, `audience` |
//! | `loop_and_tie.rs` | 004, Loop & Tie: code with the secret, multipart token request, `created_at` |

use latchkey::Client;

mod blooma;
pub(crate) mod coloop;
mod loom_ai_implicit;
mod loom_ai_pkce;
mod loop_and_tie;

/// The Loom AI tenant of documents 000 and 001.
pub(crate) fn loom_client() -> Client {
    Client::builder("CLIENT_ID")
        .authorization_endpoint("https://auth.loomai.com/authorize")
        .token_endpoint("https://auth.loomai.com/oauth/token")
        .redirect_uri("https://app.example/oauth/callback")
        .audience("https://api.loomai.com/")
        .build()
        .unwrap()
}
