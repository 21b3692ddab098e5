//! The default agent's connector: ureq's own, with the timeouts handed to the socket rounded
//! down to whole milliseconds.
//!
//! ureq enforces its timeouts by setting the socket's read and write timeouts to the time that
//! is left before the earliest deadline, and it skips the system call only when that value is
//! unchanged. The time left changes every microsecond, so with the transport's 10 s / 30 s
//! timeouts every request on a kept-alive connection made a `setsockopt` call for each read
//! and each write (three per request). Rounded down to the millisecond, the time left at the
//! start of every request on the same connection is the same (a loopback request takes tens
//! of microseconds), so the socket keeps its timeout and no call is made.
//!
//! A deadline can only come up to one millisecond early, never late: the kernel's own
//! granularity for socket timeouts is a scheduler tick (1 to 10 ms). Less than a millisecond
//! left is passed on exactly, so an expired deadline is still reported by ureq at once.

use std::fmt;

use ureq::unversioned::transport::time::Duration;
use ureq::unversioned::transport::{Buffers, ConnectionDetails, Connector, NextTimeout, Transport};

/// Wraps each connection of the connector before it (ureq's `DefaultConnector`) in
/// [`CoarseTimeouts`].
#[derive(Debug, Default)]
pub(crate) struct CoarseTimeoutsConnector;

impl Connector<Box<dyn Transport>> for CoarseTimeoutsConnector {
    type Out = CoarseTimeouts;

    fn connect(
        &self,
        _details: &ConnectionDetails<'_>,
        chained: Option<Box<dyn Transport>>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        Ok(chained.map(|inner| CoarseTimeouts { inner }))
    }
}

/// A connection whose every timeout is rounded down to the millisecond on its way in.
pub(crate) struct CoarseTimeouts {
    inner: Box<dyn Transport>,
}

impl fmt::Debug for CoarseTimeouts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CoarseTimeouts").field(&self.inner).finish()
    }
}

impl Transport for CoarseTimeouts {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.inner.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.inner.transmit_output(amount, coarse(timeout))
    }

    fn maybe_await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.inner.maybe_await_input(coarse(timeout))
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.inner.await_input(coarse(timeout))
    }

    fn is_open(&mut self) -> bool {
        self.inner.is_open()
    }

    fn is_tls(&self) -> bool {
        self.inner.is_tls()
    }
}

/// `timeout` with every duration of a millisecond or more rounded down to whole milliseconds.
fn coarse(timeout: NextTimeout) -> NextTimeout {
    NextTimeout {
        after: coarse_duration(timeout.after),
        per_read: timeout.per_read.map(coarse_duration),
        per_write: timeout.per_write.map(coarse_duration),
        ..timeout
    }
}

fn coarse_duration(duration: Duration) -> Duration {
    match duration {
        Duration::Exact(exact) if exact.as_millis() > 0 => {
            let millis = u64::try_from(exact.as_millis()).unwrap_or(u64::MAX);
            Duration::Exact(std::time::Duration::from_millis(millis))
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration as Std;

    use super::*;

    #[test]
    fn rounds_down_to_the_millisecond_and_never_to_zero() {
        let exact = |d| Duration::Exact(d);
        assert_eq!(
            coarse_duration(exact(Std::from_micros(29_999_987))),
            exact(Std::from_millis(29_999))
        );
        assert_eq!(
            coarse_duration(exact(Std::from_millis(5))),
            exact(Std::from_millis(5))
        );
        assert_eq!(
            coarse_duration(exact(Std::from_micros(999))),
            exact(Std::from_micros(999))
        );
        assert_eq!(coarse_duration(exact(Std::ZERO)), exact(Std::ZERO));
        assert_eq!(
            coarse_duration(Duration::NotHappening),
            Duration::NotHappening
        );
    }

    #[test]
    fn keeps_the_reason_and_rounds_every_part() {
        let timeout = NextTimeout {
            after: Duration::Exact(Std::from_micros(10_000_500)),
            reason: ureq::Timeout::Connect,
            per_read: Some(Duration::Exact(Std::from_micros(1_500))),
            per_write: None,
        };
        let rounded = coarse(timeout);
        assert_eq!(rounded.after, Duration::Exact(Std::from_secs(10)));
        assert_eq!(rounded.reason, ureq::Timeout::Connect);
        assert_eq!(rounded.per_read, Some(Duration::Exact(Std::from_millis(1))));
        assert_eq!(rounded.per_write, None);
    }
}
