//! [`Browser`]: how the authorization URL reaches the user.

use std::ffi::OsString;
use std::io::{self, Write as _};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::thread;

use crate::Error;

/// How [`Loopback::open`](crate::Loopback::open) shows the authorization URL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Browser {
    /// The system's default browser, through the `webbrowser` crate: on Unix it honours the
    /// `BROWSER` variable first, then the desktop's opener; on macOS and Windows the
    /// system's default browser. Its output is suppressed.
    #[default]
    System,
    /// A program the caller names, run as `program args… URL` with no input and its output
    /// discarded (a browser of the user's choice, or a test's stand-in for one).
    Command {
        /// The program.
        program: OsString,
        /// Arguments before the URL.
        args: Vec<OsString>,
    },
    /// No browser: the URL is printed on stderr, on a line of its own, for the user to open.
    PrintOnly,
}

impl Browser {
    /// [`Browser::Command`] with no arguments before the URL.
    #[must_use]
    pub fn command(program: impl Into<OsString>) -> Self {
        Self::Command {
            program: program.into(),
            args: Vec::new(),
        }
    }

    /// Shows `url` as this setting says.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidUrl`] for a URL that is not `http://` or `https://`;
    /// [`Error::Browser`] when the browser could not be started.
    pub fn open(&self, url: &str) -> Result<(), Error> {
        let url = latchkey::parse_url(url).map_err(|e| Error::InvalidUrl(e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::InvalidUrl("the scheme is not http or https".into()));
        }
        match self {
            Self::System => {
                let options = webbrowser::BrowserOptions::new()
                    .with_suppress_output(true)
                    .clone();
                webbrowser::open_browser_with_options(
                    webbrowser::Browser::Default,
                    url.as_str(),
                    &options,
                )
                .map_err(|e| Error::Browser(Arc::new(e)))
            }
            Self::Command { program, args } => {
                let mut child = Command::new(program)
                    .args(args)
                    .arg(url.as_str())
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .map_err(|e| Error::Browser(Arc::new(e)))?;
                // Reap it in the background so no zombie is left behind.
                thread::spawn(move || {
                    let _ = child.wait();
                });
                Ok(())
            }
            Self::PrintOnly => {
                // A parsed URL has no control characters or spaces: it stays on one line.
                let mut err = io::stderr().lock();
                writeln!(err, "Open this URL in a browser to sign in:\n{url}")
                    .and_then(|()| err.flush())
                    .map_err(|e| Error::Browser(Arc::new(e)))
            }
        }
    }
}
