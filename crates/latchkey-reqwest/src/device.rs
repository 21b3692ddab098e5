//! Device authorization grant polling (RFC 8628 §3.4, §3.5): the core's [`DevicePoll`] decides
//! every wait, the transport sleeps (`tokio::time::sleep`) and sends. Time is the transport's
//! clock ([`Transport::now`]), the one responses are stamped with.

use std::time::Duration;

use latchkey::{DevicePoll, DeviceWait, Error, Poll, TokenSet, Wait};
use tokio::time::Instant;

use crate::Transport;

/// How often the `on_wait` hook of [`Transport::poll_device_with`] is called while sleeping.
const TICK: Duration = Duration::from_secs(1);

impl Transport {
    /// Polls the token endpoint until the user approves the device: waits as
    /// [`DevicePoll::wait`] says (the interval, 5 s more after each `slow_down`) with
    /// `tokio::time::sleep`, sends each poll like [`send`](Self::send) (same safety settings
    /// and retries), and stops when the device code expires.
    ///
    /// Cancel it by dropping the future (for example with `tokio::time::timeout` or in a
    /// `tokio::select!` against Ctrl-C): nothing more is sent. The future is `Send`.
    ///
    /// ```no_run
    /// # async fn demo(client: latchkey::Client) -> Result<(), latchkey::Error> {
    /// let transport = latchkey_reqwest::Transport::new();
    /// let auth = transport.send(client.device_authorization()?.scope("read")).await?;
    /// println!("Open {} and enter {}", auth.verification_uri, auth.user_code);
    /// let tokens = transport.poll_device(auth.poller(&client)?).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Server`] with `access_denied` (the user said no), `expired_token` (from the
    /// server, or with no HTTP status when the code ran out here before the user acted) or
    /// any other code the server sent; [`Error::Transport`] when a poll got no usable answer.
    pub async fn poll_device(&self, poll: DevicePoll) -> Result<TokenSet, Error> {
        self.poll_device_with(poll, |_| {}).await
    }

    /// [`poll_device`](Self::poll_device) with a hook called before every poll and about once
    /// a second while waiting, for a live countdown.
    ///
    /// # Errors
    ///
    /// As for [`poll_device`](Self::poll_device).
    pub async fn poll_device_with(
        &self,
        mut poll: DevicePoll,
        mut on_wait: impl FnMut(DeviceWait) + Send,
    ) -> Result<TokenSet, Error> {
        let mut polls: u32 = 0;
        loop {
            let Wait::Sleep(sleep) = poll.wait(self.now()) else {
                return Err(poll.expired_error());
            };
            let until = Instant::now() + sleep;
            loop {
                let next_poll = until.saturating_duration_since(Instant::now());
                on_wait(poll.progress(self.now(), next_poll, polls));
                if next_poll.is_zero() {
                    break;
                }
                tokio::time::sleep(next_poll.min(TICK)).await;
            }
            let request = poll.request(self.now())?;
            polls = polls.saturating_add(1);
            let response = self.send(request).await?;
            if let Poll::Done(tokens) = poll.handle(response)? {
                return Ok(*tokens);
            }
        }
    }
}
