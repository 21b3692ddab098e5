//! Where the redirect of `authorize` and `implicit` comes from: the loopback listener,
//! `--callback URL`, or `--callback -` (one line of stdin).

use std::time::{Duration, Instant};

use latchkey::AuthorizationUrl;

use crate::context::options::CallbackArgs;
use crate::failure::Failure;
use crate::listener::{self, Listener, Mode};
use crate::say;

/// How long the listener (or stdin) waits for the redirect without `--timeout`.
const DEFAULT_CALLBACK_TIMEOUT: Duration = Duration::from_secs(300);
/// The redirect URI without a listener and without `--redirect-uri`: nothing answers there,
/// and the browser's address bar shows the URL to paste.
const DEFAULT_MANUAL_REDIRECT: &str = "http://127.0.0.1/callback";

/// When to stop waiting for the redirect: `--timeout` from now, or
/// [`DEFAULT_CALLBACK_TIMEOUT`].
pub(crate) fn deadline(timeout: Option<Duration>) -> Instant {
    Instant::now() + timeout.unwrap_or(DEFAULT_CALLBACK_TIMEOUT)
}

/// Where the redirect comes from.
pub(crate) enum Source {
    /// The loopback listener.
    Listener(Listener),
    /// `--callback URL`.
    Given {
        /// The redirect URL given.
        callback: String,
        /// `--redirect-uri`, or the callback's own address.
        redirect_uri: String,
    },
    /// `--callback -`.
    Stdin {
        /// `--redirect-uri`, or [`DEFAULT_MANUAL_REDIRECT`].
        redirect_uri: String,
    },
}

impl Source {
    /// Chooses the source from the flags; binds the listener if there is one.
    ///
    /// # Errors
    ///
    /// [`Failure::Usage`] for `--callback URL` without `--state` or with a URL that does not
    /// parse, and whatever binding the listener met.
    pub(crate) fn new(
        callback: &CallbackArgs,
        redirect_uri: Option<&str>,
    ) -> Result<Self, Failure> {
        match callback.callback.as_deref() {
            None => Ok(Self::Listener(Listener::bind(redirect_uri)?)),
            Some("-") => Ok(Self::Stdin {
                redirect_uri: redirect_uri.unwrap_or(DEFAULT_MANUAL_REDIRECT).to_owned(),
            }),
            Some(given) => {
                if callback.state.is_none() {
                    return Err(Failure::Usage(
                        "--callback URL needs --state (the state of the authorization request \
                         that produced it); use --callback - to paste the redirect instead"
                            .into(),
                    ));
                }
                // Without --redirect-uri, the callback's own address is the redirect URI.
                let redirect_uri = match redirect_uri {
                    Some(uri) => uri.to_owned(),
                    None => {
                        let url = latchkey::parse_url(given).map_err(|e| {
                            Failure::Usage(format!("--callback is not an absolute URL: {e}"))
                        })?;
                        // The normalized URL up to its query or fragment (neither `?` nor
                        // `#` can occur before them).
                        let text = url.as_str();
                        text[..text.find(['?', '#']).unwrap_or(text.len())].to_owned()
                    }
                };
                Ok(Self::Given {
                    callback: given.to_owned(),
                    redirect_uri,
                })
            }
        }
    }

    /// The redirect URI for the authorization request.
    pub(crate) fn redirect_uri(&self) -> String {
        match self {
            Self::Listener(listener) => listener.redirect_uri().to_owned(),
            Self::Given { redirect_uri, .. } | Self::Stdin { redirect_uri } => redirect_uri.clone(),
        }
    }

    /// Prints the authorization URL on a line of its own, says what happens next, and opens
    /// the browser when someone is going to use it.
    pub(crate) fn announce(
        &self,
        url: &AuthorizationUrl,
        no_browser: bool,
        mode: Mode,
        deadline: Instant,
    ) {
        say!("latchkey: open this URL in a browser to authorize:");
        say!("{url}");
        let wait = deadline
            .saturating_duration_since(Instant::now())
            .as_secs_f64();
        match self {
            Self::Listener(listener) => say!(
                "latchkey: waiting up to {} s for the redirect to {}",
                // Whole seconds, but a sub-second limit still shows.
                if wait >= 10.0 {
                    format!("{wait:.0}")
                } else {
                    format!("{wait:.1}")
                },
                listener.redirect_uri()
            ),
            Self::Stdin { .. } => say!(
                "latchkey: then paste the whole address you were redirected to{} and press Enter",
                if mode == Mode::Fragment {
                    " (with its #fragment)"
                } else {
                    ""
                }
            ),
            Self::Given { .. } => say!("latchkey: using the redirect URL given with --callback"),
        }
        if !no_browser && !matches!(self, Self::Given { .. }) {
            listener::open_browser(url.as_str());
        }
    }

    /// Receives the redirect and hands its parameters to `accept`.
    ///
    /// # Errors
    ///
    /// What the listener or stdin met (nothing arrived before `deadline`...), and whatever
    /// `accept` returns.
    pub(crate) fn receive<T>(
        self,
        mode: Mode,
        deadline: Instant,
        accept: impl FnOnce(&str) -> Result<T, Failure>,
    ) -> Result<T, Failure> {
        match self {
            Self::Listener(listener) => listener.wait(mode, deadline, accept),
            Self::Given { callback, .. } => accept(&callback),
            Self::Stdin { .. } => accept(&listener::read_stdin_line(deadline)?),
        }
    }
}
