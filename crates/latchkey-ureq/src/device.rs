//! Device authorization grant polling (RFC 8628 §3.4, §3.5): the core's [`DevicePoll`] decides
//! every wait, the transport sleeps and sends. Time is the transport's clock
//! ([`Transport::now`]), the one responses are stamped with.

use std::time::{Duration, Instant};

use latchkey::{
    DevicePoll, Error, ErrorCode, Exchange, Poll, Request, Response, ServerError, TokenSet, Wait,
};

use crate::Transport;

/// How often the `on_wait` hook of [`Transport::poll_device_with`] is called while sleeping.
const TICK: Duration = Duration::from_secs(1);

/// Where device polling stands, for a progress display (a countdown, a spinner). Handed to
/// the hook of [`Transport::poll_device_with`] before every poll and about once a second
/// while waiting.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceWait {
    /// How long until the next poll.
    pub next_poll: Duration,
    /// How long until the device code expires and polling stops.
    pub expires_in: Duration,
    /// The polling interval now (it grows by 5 s with every `slow_down`).
    pub interval: Duration,
    /// Polls sent so far.
    pub polls: u32,
}

/// Sends one prepared request through [`Transport::send`] (URL check, retries) and hands the
/// answer back whatever its status.
struct Carry(Request);

impl Exchange for Carry {
    type Output = Response;

    fn request(&self) -> Request {
        self.0.clone()
    }

    fn response(self, response: Response) -> Result<Response, Error> {
        Ok(response)
    }
}

/// The error when the device code runs out before the user acts: `expired_token`, as the
/// server itself would say (RFC 8628 §3.5), with no HTTP status since no poll was sent.
fn expired() -> Error {
    let mut error = ServerError::new(ErrorCode::ExpiredToken);
    error.description = Some("the device code expired before the user approved it".to_owned());
    error.into()
}

impl Transport {
    /// Polls the token endpoint until the user approves the device, blocking the calling
    /// thread: waits as [`DevicePoll::wait`] says (the interval, 5 s more after each
    /// `slow_down`), sends each poll like [`send`](Self::send) (same safety settings and
    /// retries), and stops when the device code expires.
    ///
    /// ```no_run
    /// # fn demo(client: latchkey::Client) -> Result<(), latchkey::Error> {
    /// let transport = latchkey_ureq::Transport::new();
    /// let auth = transport.send(client.device_authorization()?.scope("read"))?;
    /// println!("Open {} and enter {}", auth.verification_uri, auth.user_code);
    /// let tokens = transport.poll_device(auth.poller(&client)?)?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Server`] with `access_denied` (the user said no), `expired_token` (from the
    /// server, or with no HTTP status when the code ran out here before the user acted) or
    /// any other code the server sent; [`Error::Transport`] when a poll got no usable answer.
    pub fn poll_device(&self, poll: DevicePoll) -> Result<TokenSet, Error> {
        self.poll_device_with(poll, |_| {})
    }

    /// [`poll_device`](Self::poll_device) with a hook called before every poll and about once
    /// a second while waiting, for a live countdown.
    ///
    /// # Errors
    ///
    /// As for [`poll_device`](Self::poll_device).
    pub fn poll_device_with(
        &self,
        mut poll: DevicePoll,
        mut on_wait: impl FnMut(DeviceWait),
    ) -> Result<TokenSet, Error> {
        let mut polls: u32 = 0;
        loop {
            let Wait::Sleep(sleep) = poll.wait(self.now()) else {
                return Err(expired());
            };
            let until = Instant::now() + sleep;
            loop {
                let next_poll = until.saturating_duration_since(Instant::now());
                on_wait(DeviceWait {
                    next_poll,
                    expires_in: poll
                        .expires_at()
                        .duration_since(self.now())
                        .unwrap_or_default(),
                    interval: poll.interval(),
                    polls,
                });
                if next_poll.is_zero() {
                    break;
                }
                std::thread::sleep(next_poll.min(TICK));
            }
            let request = poll.request(self.now());
            polls = polls.saturating_add(1);
            let response = self.send(Carry(request))?;
            if let Poll::Done(tokens) = poll.handle(response)? {
                return Ok(*tokens);
            }
        }
    }
}
