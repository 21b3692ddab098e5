//! Retry decisions as data. The core decides "retry after N ms" or "give up"; adapters sleep.
//!
//! Only what is safe is retried (see [`RetryMode`]): an authorization code or a rotating refresh
//! token is never sent twice once it may have reached the server, because a reused code can
//! make the server revoke the tokens it already issued
//! ([RFC 6749 §4.1.2](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2)).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::drive::http::RetryMode;

/// What went wrong with one attempt.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure<'a> {
    /// The connection could not be established: the request never reached the server.
    Connect,
    /// A timeout or other transport failure after the request may have been sent.
    Transport,
    /// The server answered with this status (only 429 and 5xx are ever retried).
    Status {
        /// The HTTP status.
        status: u16,
        /// The `Retry-After` header, if any.
        retry_after: Option<&'a str>,
    },
}

/// The outcome of [`RetryPolicy::decide`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryDecision {
    /// Wait this long, then send the same request again.
    RetryAfter(Duration),
    /// Stop and report the failure.
    GiveUp,
}

/// Exponential backoff with jitter, bounded in attempts and total time, honouring
/// `Retry-After` on 429 and 503.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 means never retry).
    pub max_attempts: u32,
    /// The first backoff delay; it doubles with every attempt.
    pub base_delay: Duration,
    /// No single wait is longer than this, `Retry-After` included (a longer `Retry-After`
    /// gives up instead).
    pub max_delay: Duration,
    /// Give up rather than wait past this much time since the first attempt.
    pub max_total: Duration,
}

impl Default for RetryPolicy {
    /// Four attempts, 250 ms doubling, at most 10 s per wait and 30 s in all.
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
            max_total: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    #[must_use]
    pub fn never() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// A policy with `retries` retries after the first attempt and default timings.
    #[must_use]
    pub fn with_retries(retries: u32) -> Self {
        Self {
            max_attempts: retries.saturating_add(1),
            ..Self::default()
        }
    }

    /// Sets the first backoff delay.
    #[must_use]
    pub fn base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// Sets the longest single wait.
    #[must_use]
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Sets the longest time spent in all.
    #[must_use]
    pub fn max_total(mut self, total: Duration) -> Self {
        self.max_total = total;
        self
    }

    /// [`decide`](Self::decide) as an `Option`: how long to wait before the next attempt, or
    /// `None` to give up.
    #[must_use]
    pub fn delay(
        &self,
        mode: RetryMode,
        attempts: u32,
        elapsed: Duration,
        failure: Failure<'_>,
        now: SystemTime,
        jitter: u64,
    ) -> Option<Duration> {
        match self.decide(mode, attempts, elapsed, failure, now, jitter) {
            RetryDecision::RetryAfter(delay) => Some(delay),
            RetryDecision::GiveUp => None,
        }
    }

    /// Decides whether to send again after `attempts` attempts that took `elapsed` so far.
    ///
    /// `now` reads HTTP-date `Retry-After` values; `jitter` is any random number (it spreads
    /// retries of many clients apart).
    #[must_use]
    pub fn decide(
        &self,
        mode: RetryMode,
        attempts: u32,
        elapsed: Duration,
        failure: Failure<'_>,
        now: SystemTime,
        jitter: u64,
    ) -> RetryDecision {
        if attempts >= self.max_attempts {
            return RetryDecision::GiveUp;
        }
        let retryable = match (mode, failure) {
            (_, Failure::Connect) => true,
            (RetryMode::ConnectFailureOnly, _) => false,
            (RetryMode::Idempotent, Failure::Transport) => true,
            (RetryMode::Idempotent, Failure::Status { status, .. }) => {
                matches!(status, 429 | 502 | 503 | 504)
            }
        };
        if !retryable {
            return RetryDecision::GiveUp;
        }
        let server_says = match failure {
            Failure::Status {
                status: 429 | 503,
                retry_after: Some(value),
            } => parse_retry_after(value, now),
            _ => None,
        };
        let delay = match server_says {
            Some(delay) if delay > self.max_delay => return RetryDecision::GiveUp,
            Some(delay) => delay,
            None => {
                let exp = self
                    .base_delay
                    .saturating_mul(1u32 << attempts.saturating_sub(1).min(20))
                    .min(self.max_delay);
                // "Equal jitter": half fixed, half random.
                let half = exp / 2;
                let nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX).max(1);
                half + Duration::from_nanos(jitter % nanos)
            }
        };
        if elapsed.saturating_add(delay) > self.max_total {
            return RetryDecision::GiveUp;
        }
        RetryDecision::RetryAfter(delay)
    }
}

/// Parses `Retry-After`: delay-seconds or an HTTP-date (IMF-fixdate), RFC 9110 §10.2.3.
#[must_use]
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = parse_http_date(value)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Parses an IMF-fixdate such as `Sun, 06 Nov 1994 08:49:37 GMT`.
#[must_use]
pub fn parse_http_date(value: &str) -> Option<SystemTime> {
    let rest = value.split_once(", ")?.1;
    let mut parts = rest.split(' ');
    let day: u32 = parts.next()?.parse().ok()?;
    let month = match parts.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i64 = parts.next()?.parse().ok()?;
    let mut hms = parts.next()?.split(':');
    let h: u64 = hms.next()?.parse().ok()?;
    let m: u64 = hms.next()?.parse().ok()?;
    let s: u64 = hms.next()?.parse().ok()?;
    if parts.next()? != "GMT" || !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = u64::try_from(days).ok()? * 86_400 + h * 3600 + m * 60 + s;
    UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Duration = Duration::from_secs(784_111_777); // 1994-11-06 08:49:37 UTC

    fn now() -> SystemTime {
        UNIX_EPOCH + NOW
    }

    #[test]
    fn http_date() {
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(now())
        );
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 UTC"), None);
        assert_eq!(parse_http_date("garbage"), None);
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now()),
            Some(Duration::from_secs(10))
        );
        assert_eq!(parse_retry_after("5", now()), Some(Duration::from_secs(5)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now()),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn code_exchange_is_only_retried_on_connect_failure() {
        let p = RetryPolicy::default();
        let status = Failure::Status {
            status: 503,
            retry_after: Some("1"),
        };
        assert_eq!(
            p.decide(
                RetryMode::ConnectFailureOnly,
                1,
                Duration::ZERO,
                status,
                now(),
                0
            ),
            RetryDecision::GiveUp
        );
        assert_eq!(
            p.decide(
                RetryMode::ConnectFailureOnly,
                1,
                Duration::ZERO,
                Failure::Transport,
                now(),
                0
            ),
            RetryDecision::GiveUp
        );
        assert!(matches!(
            p.decide(
                RetryMode::ConnectFailureOnly,
                1,
                Duration::ZERO,
                Failure::Connect,
                now(),
                0
            ),
            RetryDecision::RetryAfter(_)
        ));
        assert_eq!(
            p.decide(RetryMode::Idempotent, 1, Duration::ZERO, status, now(), 0),
            RetryDecision::RetryAfter(Duration::from_secs(1))
        );
    }

    #[test]
    fn bounded_attempts_total_and_delay() {
        let p = RetryPolicy::default();
        let f = Failure::Status {
            status: 429,
            retry_after: None,
        };
        assert_eq!(
            p.decide(RetryMode::Idempotent, 4, Duration::ZERO, f, now(), 0),
            RetryDecision::GiveUp
        );
        assert_eq!(
            p.decide(
                RetryMode::Idempotent,
                1,
                Duration::from_secs(30),
                f,
                now(),
                0
            ),
            RetryDecision::GiveUp
        );
        let long = Failure::Status {
            status: 503,
            retry_after: Some("3600"),
        };
        assert_eq!(
            p.decide(RetryMode::Idempotent, 1, Duration::ZERO, long, now(), 0),
            RetryDecision::GiveUp
        );
        let bad = Failure::Status {
            status: 400,
            retry_after: None,
        };
        assert_eq!(
            p.decide(RetryMode::Idempotent, 1, Duration::ZERO, bad, now(), 0),
            RetryDecision::GiveUp
        );
        assert_eq!(
            RetryPolicy::never().decide(
                RetryMode::Idempotent,
                1,
                Duration::ZERO,
                Failure::Connect,
                now(),
                0
            ),
            RetryDecision::GiveUp
        );
    }

    #[test]
    fn backoff_grows_with_jitter_in_range() {
        let p = RetryPolicy::default();
        for attempt in 1..4u32 {
            for jitter in [0, 1, u64::MAX / 3, u64::MAX] {
                let RetryDecision::RetryAfter(d) = p.decide(
                    RetryMode::Idempotent,
                    attempt,
                    Duration::ZERO,
                    Failure::Transport,
                    now(),
                    jitter,
                ) else {
                    panic!("should retry");
                };
                let full = Duration::from_millis(250) * (1 << (attempt - 1));
                assert!(d >= full / 2 && d <= full, "{attempt} {d:?}");
            }
        }
    }
}
