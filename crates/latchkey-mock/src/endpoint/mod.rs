//! One module per endpoint, mirroring the flows of the `latchkey` crate. Each takes the
//! server's [`State`](crate::shared::state::State) and a decoded request and returns a
//! reply; the router picks the module by path.

pub(crate) mod authorize;
pub(crate) mod client_auth;
pub(crate) mod device;
pub(crate) mod introspection;
pub(crate) mod metadata;
pub(crate) mod par;
pub(crate) mod revocation;
pub(crate) mod token;
pub(crate) mod token_exchange;
pub(crate) mod userinfo;
