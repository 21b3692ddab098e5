//! The device polling driver (RFC 8628 §3.4, §3.5): waits as [`DevicePoll::wait`] says,
//! sends each poll through a [`SendDriver`] (same safety rules and retries as any step), and
//! stops on the tokens, a refusal, or an expired code.

use std::fmt;
use std::time::{Duration, SystemTime};

use crate::Error;
use crate::drive::http::{Request, Response, TransportSettings};
use crate::drive::send::{Action, Drive, SendDriver};
use crate::error::TransportError;
use crate::flow::device::{DevicePoll, DeviceWait, Poll, Wait};
use crate::token::TokenSet;

/// How often the progress hook is called while waiting.
const TICK: Duration = Duration::from_secs(1);

/// Drives a [`DevicePoll`] until the user approves the device, refuses, or the code expires.
///
/// `on_wait` is called before every poll and about once a second while waiting, for a live
/// countdown (see [`DeviceWait`]).
pub struct DevicePolling<F: FnMut(DeviceWait)> {
    poll: DevicePoll,
    settings: TransportSettings,
    on_wait: F,
    /// When the next poll goes out, once decided.
    next_poll: Option<SystemTime>,
    /// The poll in flight.
    sending: Option<SendDriver<Request>>,
    polls: u32,
}

impl DevicePolling<fn(DeviceWait)> {
    /// Polls without a progress hook.
    #[must_use]
    pub fn new(poll: DevicePoll, settings: &TransportSettings) -> Self {
        Self::with_progress(poll, settings, |_| {})
    }
}

impl<F: FnMut(DeviceWait)> DevicePolling<F> {
    /// Polls, calling `on_wait` before every poll and about once a second while waiting.
    pub fn with_progress(poll: DevicePoll, settings: &TransportSettings, on_wait: F) -> Self {
        Self {
            poll,
            settings: *settings,
            on_wait,
            next_poll: None,
            sending: None,
            polls: 0,
        }
    }

    /// The number of polls sent so far.
    #[must_use]
    pub fn polls(&self) -> u32 {
        self.polls
    }

    /// Reads a finished poll's answer: the tokens, an error, or `None` to wait again.
    fn handle(&mut self, answer: Result<Response, Error>) -> Option<Result<TokenSet, Error>> {
        match answer.and_then(|response| self.poll.handle(response)) {
            Ok(Poll::Done(tokens)) => Some(Ok(*tokens)),
            Ok(_) => None,
            Err(error) => Some(Err(error)),
        }
    }
}

impl<F: FnMut(DeviceWait)> Drive for DevicePolling<F> {
    type Output = TokenSet;

    fn next(&mut self, now: SystemTime) -> Action<TokenSet> {
        loop {
            if let Some(sending) = &mut self.sending {
                match sending.next(now) {
                    Action::Send(request) => return Action::Send(request),
                    Action::Sleep(wait) => return Action::Sleep(wait),
                    Action::Done(answer) => {
                        self.sending = None;
                        if let Some(outcome) = self.handle(answer) {
                            return Action::Done(outcome);
                        }
                    }
                }
            }
            let at = match self.next_poll {
                Some(at) => at,
                None => match self.poll.wait(now) {
                    Wait::Sleep(wait) => *self.next_poll.insert(now + wait),
                    _ => return Action::Done(Err(self.poll.expired_error())),
                },
            };
            let remaining = at.duration_since(now).unwrap_or_default();
            (self.on_wait)(self.poll.progress(now, remaining, self.polls));
            if !remaining.is_zero() {
                return Action::Sleep(remaining.min(TICK));
            }
            self.next_poll = None;
            let request = match self.poll.request(now) {
                Ok(request) => request,
                Err(error) => return Action::Done(Err(error)),
            };
            self.polls = self.polls.saturating_add(1);
            self.sending = Some(SendDriver::new(request, &self.settings));
        }
    }

    fn received(&mut self, answer: Result<Response, TransportError>, now: SystemTime) {
        if let Some(sending) = &mut self.sending {
            sending.received(answer, now);
        }
    }
}

impl<F: FnMut(DeviceWait)> fmt::Debug for DevicePolling<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DevicePolling")
            .field("poll", &self.poll)
            .field("next_poll", &self.next_poll)
            .field("polls", &self.polls)
            .finish_non_exhaustive()
    }
}
