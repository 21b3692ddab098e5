//! Managing one grant's tokens over time: the [`RenewalMachine`] that token managers drive,
//! the renewal policy ([`Lifecycle`](crate::Lifecycle)), the [`TokenStore`](crate::TokenStore)
//! contract, and sending an access token to a resource server ([`bearer`]).

pub mod bearer;
mod keeper;
pub(crate) mod lifecycle;
mod renewal;
pub(crate) mod store;

pub use store::{Lease, initial_tokens};

pub use keeper::{ManagedTransport, TokenKeeper, TokenManagerBuilder};
pub use lifecycle::{
    DEFAULT_LEASE_WAIT, DEFAULT_MAX_RETRY_BACKOFF, DEFAULT_REFRESH_SKEW, DEFAULT_RETRY_BACKOFF,
    DEFAULT_SAVE_RETRY,
};
pub use renewal::{
    Landing, Leased, Poll, Renewal, RenewalMachine, RenewalStep, Ticket, Waited, Work,
};
