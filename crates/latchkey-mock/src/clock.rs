//! Where the mock reads the time: the system clock, or a [`MockClock`] that tests move by hand.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A clock that stands still until a test moves it, for
/// [`MockServerBuilder::clock`](crate::MockServerBuilder::clock).
///
/// Clones share one time: keep a clone, hand another to the builder, and
/// [`advance`](Self::advance) it to make codes, tokens and device codes expire, or to space out
/// device polls, without sleeping.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use latchkey_mock::MockClock;
///
/// let clock = MockClock::at(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
/// let shared = clock.clone();
/// clock.advance(Duration::from_secs(30));
/// assert_eq!(shared.now(), UNIX_EPOCH + Duration::from_secs(1_700_000_030));
/// ```
#[derive(Debug, Clone)]
pub struct MockClock {
    now: Arc<Mutex<SystemTime>>,
}

impl Default for MockClock {
    fn default() -> Self {
        Self::new()
    }
}

impl MockClock {
    /// A clock stopped at the current system time.
    pub fn new() -> Self {
        Self::at(SystemTime::now())
    }

    /// A clock stopped at `time`.
    pub fn at(time: SystemTime) -> Self {
        Self {
            now: Arc::new(Mutex::new(time)),
        }
    }

    /// The time this clock shows.
    pub fn now(&self) -> SystemTime {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Moves the clock forward by `by` (saturating far in the future rather than overflowing).
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now = after(*now, by);
    }

    /// Sets the clock to `time`, forward or back.
    pub fn set(&self, time: SystemTime) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) = time;
    }
}

/// The clock a mock reads: the system's unless the builder was given a [`MockClock`].
#[derive(Debug, Clone, Default)]
pub(crate) enum Clock {
    /// [`SystemTime::now`].
    #[default]
    System,
    /// A clock a test moves.
    Manual(MockClock),
}

impl Clock {
    /// The current time.
    pub(crate) fn now(&self) -> SystemTime {
        match self {
            Self::System => SystemTime::now(),
            Self::Manual(clock) => clock.now(),
        }
    }
}

/// `time + by`, or a time far in the future when that does not fit.
pub(crate) fn after(time: SystemTime, by: Duration) -> SystemTime {
    time.checked_add(by)
        .or_else(|| time.checked_add(Duration::from_secs(u64::from(u32::MAX) << 16)))
        .unwrap_or(time)
}

/// `time + seconds` (see [`after`]).
pub(crate) fn after_secs(time: SystemTime, seconds: u64) -> SystemTime {
    after(time, Duration::from_secs(seconds))
}

/// How long after `earlier` `now` is; zero when the clock went back.
pub(crate) fn since(now: SystemTime, earlier: SystemTime) -> Duration {
    now.duration_since(earlier).unwrap_or_default()
}

/// Seconds since the Unix epoch (zero before it).
pub(crate) fn unix_secs(time: SystemTime) -> u64 {
    since(time, UNIX_EPOCH).as_secs()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mock_clock_moves_only_when_told() {
        let start = UNIX_EPOCH + Duration::from_secs(1_000);
        let clock = MockClock::at(start);
        let shared = Clock::Manual(clock.clone());
        assert_eq!(shared.now(), start);
        clock.advance(Duration::from_secs(5));
        assert_eq!(unix_secs(shared.now()), 1_005);
        clock.set(start);
        assert_eq!(
            since(start + Duration::from_secs(1), shared.now()).as_secs(),
            1
        );
        assert_eq!(since(start, start + Duration::from_secs(1)), Duration::ZERO);
    }

    #[test]
    fn huge_lifetimes_do_not_overflow() {
        let now = SystemTime::now();
        assert!(after_secs(now, u64::MAX) > now);
        let clock = MockClock::at(now);
        clock.advance(Duration::MAX);
        assert!(clock.now() > now);
        assert_eq!(unix_secs(UNIX_EPOCH - Duration::from_secs(1)), 0);
    }
}
