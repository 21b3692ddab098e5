//! The command's long waits on stderr: the browser's redirect, device polling and another
//! run's lease on a `--cache` file.
//!
//! On a terminal a wait is one line that [`indicatif`] redraws in place (what is awaited, the
//! time left as `M:SS` and a bar), cleared when the wait ends. Anywhere else nothing is
//! drawn: the command's plain lines (what it waits for and for how long, said once when the
//! wait starts, and whatever changes meanwhile) are all there is, so logs stay as quiet as
//! before.

use std::io::{self, IsTerminal as _};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::output::{sanitize, stderr_line};

/// One long wait, shown while it lasts.
#[derive(Debug)]
pub(crate) struct Wait {
    /// The drawn line, on a terminal only.
    bar: Option<ProgressBar>,
    /// What is awaited (the command's own words).
    what: String,
    /// How long the wait may last.
    total: Duration,
}

impl Wait {
    /// A wait for `what` that lasts at most `total`: drawn on a terminal, silent otherwise.
    pub(crate) fn new(what: &str, total: Duration) -> Self {
        Self::to(what, total, io::stderr().is_terminal())
    }

    /// A wait drawn only if `terminal`.
    fn to(what: &str, total: Duration, terminal: bool) -> Self {
        let bar = terminal.then(|| {
            let bar =
                ProgressBar::with_draw_target(Some(millis(total)), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template("latchkey: {msg} [{bar:24}]") {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        });
        Self {
            bar,
            what: sanitize(what),
            total,
        }
    }

    /// Shows that `left` remains; `extra` (the command's own words and numbers) follows the
    /// time.
    pub(crate) fn show(&self, left: Duration, extra: &str) {
        if let Some(bar) = &self.bar {
            draw(bar, &self.what, self.total, left, extra);
        }
    }

    /// A plain line on stderr while the wait is shown (the line is redrawn below it).
    pub(crate) fn say(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| stderr_line(text)),
            None => stderr_line(text),
        }
    }

    /// [`show`](Self::show) as a callback that can move to another thread (the listener's
    /// tick), with no extra words.
    pub(crate) fn ticker(&self) -> impl FnMut(Duration) + Send + 'static {
        let bar = self.bar.clone();
        let what = self.what.clone();
        let total = self.total;
        move |left| {
            if let Some(bar) = &bar {
                draw(bar, &what, total, left, "");
            }
        }
    }
}

impl Drop for Wait {
    /// Clears the line when the wait ends, however it ends.
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Draws `WHAT, M:SS left EXTRA` and the bar at the time elapsed.
fn draw(bar: &ProgressBar, what: &str, total: Duration, left: Duration, extra: &str) {
    bar.set_message(countdown(what, left, extra));
    bar.set_position(millis(total.saturating_sub(left)));
}

/// `WHAT, M:SS left EXTRA`.
fn countdown(what: &str, left: Duration, extra: &str) -> String {
    let left = left.as_secs_f64().ceil() as u64;
    format!("{what}, {}:{:02} left{extra}", left / 60, left % 60)
}

/// A duration in whole milliseconds (saturating).
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_countdown_reads_minutes_and_seconds() {
        assert_eq!(
            countdown(
                "waiting for approval",
                Duration::from_millis(61_200),
                " (3 polls)"
            ),
            "waiting for approval, 1:02 left (3 polls)"
        );
        assert_eq!(countdown("w", Duration::ZERO, ""), "w, 0:00 left");
        // Off a terminal nothing is drawn, and showing is a no-op.
        let wait = Wait::to("waiting \u{1b}[2J", Duration::from_secs(5), false);
        assert!(wait.bar.is_none());
        assert_eq!(wait.what, "waiting \\u{1b}[2J");
        wait.show(Duration::from_secs(4), "");
        let mut tick = wait.ticker();
        tick(Duration::from_secs(3));
    }
}
