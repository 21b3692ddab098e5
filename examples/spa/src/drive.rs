//! The app's network loop: the core's [`Drive`] with an async `send` (the browser's `fetch`)
//! and an async `sleep` (a `setTimeout` promise). Every decision (the URL rule, retries,
//! `Retry-After`, a redirect as an error, never resending a code) is the driver's.

use std::future::Future;
use std::time::{Duration, SystemTime};

use latchkey::drive::{Action, Drive};
use latchkey::{Error, Request, Response, TransportError};

/// Runs `driver` to its outcome: sends what it asks for, sleeps when it says, on `now`.
///
/// # Errors
///
/// The driver's: the server's error, a transport failure after the retries allowed.
pub async fn drive<D, S, SF, W, WF>(
    mut driver: D,
    mut send: S,
    mut sleep: W,
    now: impl Fn() -> SystemTime,
) -> Result<D::Output, Error>
where
    D: Drive,
    S: FnMut(Request) -> SF,
    SF: Future<Output = Result<Response, TransportError>>,
    W: FnMut(Duration) -> WF,
    WF: Future<Output = ()>,
{
    loop {
        match driver.next(now()) {
            Action::Send(request) => {
                let answer = send(request).await;
                driver.received(answer, now());
            }
            Action::Sleep(duration) => sleep(duration).await,
            Action::Done(result) => return result,
        }
    }
}
