//! One module per subcommand, each with its clap `Args` and its `run`. They build on the
//! shared [`context`](crate::context) and never import one another.

pub(crate) mod authorize;
pub(crate) mod client_credentials;
pub(crate) mod demo;
pub(crate) mod device;
pub(crate) mod discover;
pub(crate) mod implicit;
pub(crate) mod introspect;
pub(crate) mod logout_url;
pub(crate) mod refresh;
pub(crate) mod revoke;
pub(crate) mod token_exchange;
pub(crate) mod userinfo;
