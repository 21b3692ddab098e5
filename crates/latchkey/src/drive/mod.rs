//! Driving a network step: the core's HTTP types, the [`SendDriver`] that owns one step's
//! attempts, and the [`DevicePolling`] driver.
//!
//! Every decision between two attempts is made here, and nowhere else: the URL security rule,
//! a redirect answered as an error, retry or give up, `Retry-After`, never resending a code
//! exchange that may have reached the server, and the response cap as data. An adapter (or an
//! embedder with hyper or a WASM fetch) writes one short loop around a [`Drive`]:
//!
//! ```
//! use std::time::{Duration, SystemTime, UNIX_EPOCH};
//! use latchkey::drive::{Action, Drive, SendDriver, TransportSettings};
//! use latchkey::{Client, Error, Request, Response, TransportError};
//!
//! /// The whole adapter: send, sleep, repeat until the driver is done.
//! fn run<D: Drive>(
//!     mut driver: D,
//!     mut send: impl FnMut(&Request) -> Result<Response, TransportError>,
//!     now: impl Fn() -> SystemTime,
//! ) -> Result<D::Output, Error> {
//!     loop {
//!         match driver.next(now()) {
//!             Action::Send(request) => driver.received(send(&request), now()),
//!             Action::Sleep(duration) => std::thread::sleep(duration),
//!             Action::Done(result) => return result,
//!         }
//!     }
//! }
//!
//! let client = Client::builder("svc")
//!     .client_secret("s3cret")
//!     .token_endpoint("https://as.example/token")
//!     .build()?;
//! let now = || UNIX_EPOCH + Duration::from_secs(1_700_000_000);
//! // A server that is busy once, then answers (the driver waits out its `Retry-After: 0`).
//! let mut answers = vec![
//!     Response::json(200, r#"{"access_token":"at","token_type":"Bearer"}"#, now()),
//!     Response::json(503, "{}", now()),
//! ];
//! let mut busy = answers.remove(1);
//! busy.headers.insert("retry-after", "0");
//! answers.push(busy);
//! let step = client.client_credentials()?.scope("read");
//! let driver = SendDriver::new(step, &TransportSettings::default());
//! let tokens = run(driver, |_request| Ok(answers.pop().expect("an answer")), now)?;
//! assert_eq!(tokens.access_token().expose_secret(), "at");
//! # Ok::<(), latchkey::Error>(())
//! ```

mod device;
pub(crate) mod exchange;
pub(crate) mod http;
pub(crate) mod retry;
mod send;

pub use crate::error::Reach;
pub use device::DevicePolling;
pub use http::{BodyCap, Clock, Headers, TransportSettings, is_loopback};
pub use retry::{Failure, RetryDecision, parse_http_date, parse_retry_after};
pub use send::{Action, Drive, SendDriver};
