//! Driving a network step: the core's HTTP types, the [`SendDriver`] that owns one step's
//! attempts, and the [`DevicePolling`] driver.
//!
//! Every decision between two attempts is made here, and nowhere else: the URL security rule,
//! a redirect answered as an error, retry or give up, `Retry-After`, never resending a code
//! exchange that may have reached the server, and the response cap as data. An adapter (or an
//! embedder with hyper or a WASM fetch) writes one short loop around a [`Drive`]:
//!
//! ```
//! use latchkey::drive::{Action, Drive, SendDriver, TransportSettings};
//! use latchkey::{Error, Exchange, Request, Response, TransportError};
//! use std::time::SystemTime;
//!
//! fn run<D: Drive>(
//!     mut driver: D,
//!     send: impl Fn(&Request) -> Result<Response, TransportError>,
//!     sleep: impl Fn(std::time::Duration),
//!     now: impl Fn() -> SystemTime,
//! ) -> Result<D::Output, Error> {
//!     loop {
//!         match driver.next(now()) {
//!             Action::Send(request) => driver.received(send(&request), now()),
//!             Action::Sleep(duration) => sleep(duration),
//!             Action::Done(result) => return result,
//!         }
//!     }
//! }
//! # let _ = run::<SendDriver<Request>>;
//! ```

mod device;
pub(crate) mod exchange;
pub(crate) mod http;
pub(crate) mod retry;
mod send;

pub use crate::error::Reach;
pub use device::DevicePolling;
pub use http::{Clock, Headers, TransportSettings, is_loopback};
pub use retry::{Failure, RetryDecision, parse_http_date, parse_retry_after};
pub use send::{Action, Drive, SendDriver};
