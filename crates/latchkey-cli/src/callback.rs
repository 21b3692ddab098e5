//! Where the redirect of `authorize` and `implicit` comes from (the loopback listener,
//! `--callback URL`, or `--callback -`: one line of stdin), and the checks every redirect
//! passes before the flow looks at it: it must be addressed to the redirect URI, and an
//! error is the server's error even without a state. The listener is
//! [`latchkey_loopback`]'s (RFC 8252): it waits on past requests of another state itself.

use std::io::{self, BufRead as _, Read as _};
use std::sync::mpsc;
use std::thread;
use std::time::Instant;

use latchkey::{AuthorizationUrl, CallbackParams, Error};
use latchkey_loopback::{Browser, Loopback, Mode};

use crate::context::options::LoginArgs;
use crate::failure::Failure;
use crate::progress::Wait;
use crate::say;

/// Longest line read from stdin for `--callback -`.
const MAX_LINE: usize = 64 * 1024;

/// The redirect URI without a listener and without `--redirect-uri`: nothing answers there,
/// and the browser's address bar shows the URL to paste.
pub(crate) const DEFAULT_MANUAL_REDIRECT: &str = "http://127.0.0.1/callback";

/// When to stop waiting for the redirect: `--login-timeout` from now.
pub(crate) fn deadline(login: &LoginArgs) -> Instant {
    Instant::now() + login.login_timeout
}

/// Where the redirect comes from.
pub(crate) enum Source {
    /// The loopback listener.
    Listener(Loopback),
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
    /// Chooses the source from the flags; binds the listener if there is one, for the
    /// authorization response in the query or (`mode`) the fragment.
    ///
    /// # Errors
    ///
    /// [`Failure::Usage`] for `--callback URL` without `--state` or with a URL that does not
    /// parse, and whatever binding the listener met.
    pub(crate) fn new(login: &LoginArgs, mode: Mode) -> Result<Self, Failure> {
        let redirect_uri = login.redirect_uri.as_deref();
        match login.callback.as_deref() {
            None => Ok(Self::Listener(bind(redirect_uri, mode, login)?)),
            Some("-") => Ok(Self::Stdin {
                redirect_uri: redirect_uri.unwrap_or(DEFAULT_MANUAL_REDIRECT).to_owned(),
            }),
            Some(given) => {
                if login.state.is_none() {
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
    /// the browser when someone is going to use it. With `--callback URL` the answer is
    /// already there: nothing is printed and no browser opens.
    pub(crate) fn announce(
        &self,
        url: &AuthorizationUrl,
        login: &LoginArgs,
        mode: Mode,
        deadline: Instant,
    ) {
        if matches!(self, Self::Given { .. }) {
            say!("latchkey: using the redirect URL given with --callback");
            return;
        }
        say!("latchkey: open this URL in a browser to authorize:");
        say!("{url}");
        let wait = deadline.saturating_duration_since(Instant::now());
        match self {
            Self::Listener(listener) => say!(
                "latchkey: waiting up to {} s for the redirect to {}",
                crate::output::seconds(wait),
                listener.redirect_uri()
            ),
            _ => say!(
                "latchkey: then paste the whole address you were redirected to{} and press Enter",
                if mode == Mode::Fragment {
                    " (with its #fragment)"
                } else {
                    ""
                }
            ),
        }
        if !login.no_browser {
            // The URL has been printed: a browser that does not start is no failure.
            let _ = match self {
                Self::Listener(listener) => listener.open(url.as_str()),
                _ => browser(login).open(url.as_str()),
            };
        }
    }

    /// Receives the redirect for the request with `state`, checks it (addressed to the
    /// redirect URI; an error reported as the server's), and hands it to `accept`: the
    /// whole URL for `--callback`, the query (or the fragment the relay page sent) for the
    /// listener.
    ///
    /// # Errors
    ///
    /// What the listener or stdin met (nothing arrived before `deadline`...), a redirect to
    /// another address, the server's error, and whatever `accept` returns.
    pub(crate) fn receive<T>(
        self,
        mode: Mode,
        deadline: Instant,
        state: &str,
        accept: impl FnOnce(&str) -> Result<T, Error>,
    ) -> Result<T, Failure> {
        match self {
            Self::Listener(listener) => {
                let left = deadline.saturating_duration_since(Instant::now());
                let wait = Wait::new("waiting for the redirect", left);
                let listener = listener.on_tick(wait.ticker());
                Ok(listener.wait_with(&latchkey::State::new(state), accept)?)
            }
            Self::Given {
                callback,
                redirect_uri,
            } => {
                addressed_to(&callback, &redirect_uri)?;
                checked(&callback, mode, accept)
            }
            Self::Stdin { redirect_uri } => {
                let line = read_stdin_line(deadline)?;
                addressed_to(&line, &redirect_uri)?;
                checked(&line, mode, accept)
            }
        }
    }
}

/// Hands a redirect URL given or pasted to `accept`, after checking for the server's error
/// without a state.
fn checked<T>(
    text: &str,
    mode: Mode,
    accept: impl FnOnce(&str) -> Result<T, Error>,
) -> Result<T, Failure> {
    server_error_without_state(params(text, mode))?;
    Ok(accept(text)?)
}

/// Binds the loopback listener for `--redirect-uri` (or `http://127.0.0.1:<free
/// port>/callback`), waiting at most `--login-timeout`.
///
/// # Errors
///
/// [`Failure::Usage`] for a redirect URI the listener cannot serve; [`Failure::Other`] when
/// the address cannot be bound.
fn bind(redirect_uri: Option<&str>, mode: Mode, login: &LoginArgs) -> Result<Loopback, Failure> {
    let mut builder = Loopback::builder()
        .mode(mode)
        .timeout(login.login_timeout)
        .browser(browser(login));
    if let Some(uri) = redirect_uri {
        builder = builder.redirect_uri(uri);
    }
    Ok(builder.bind()?)
}

/// The browser that shows the authorization URL: `--browser-command PROGRAM`, or the
/// system's (which honours `BROWSER`).
fn browser(login: &LoginArgs) -> Browser {
    login
        .browser_command
        .as_ref()
        .map_or(Browser::System, |program| {
            Browser::command(program.as_os_str())
        })
}

/// Reads one line from stdin (the redirect URL for `--callback -`), giving up at `deadline`.
///
/// # Errors
///
/// [`Failure::Other`] on timeout, end of input or a line longer than [`MAX_LINE`].
fn read_stdin_line(deadline: Instant) -> Result<String, Failure> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut line = String::new();
        let result = io::stdin()
            .lock()
            .take(MAX_LINE as u64)
            .read_line(&mut line)
            .map(|n| (n, line));
        let _ = tx.send(result);
    });
    let remaining = deadline.saturating_duration_since(Instant::now());
    match rx.recv_timeout(remaining) {
        Ok(Ok((0, _))) => Err(Failure::Other(
            "no redirect URL on stdin (end of input)".into(),
        )),
        Ok(Ok((_, line))) if !line.ends_with('\n') && line.len() >= MAX_LINE => Err(
            Failure::Other("the redirect URL on stdin is too long".into()),
        ),
        Ok(Ok((_, line))) => Ok(line.trim().to_owned()),
        Ok(Err(e)) => Err(Failure::Other(format!("cannot read stdin: {e}"))),
        Err(_) => Err(Failure::Other(
            "timed out waiting for the redirect URL on stdin (--login-timeout)".into(),
        )),
    }
}

/// The authorization response's parameters in a redirect URL (its query, or for the
/// implicit flow its fragment, falling back to the query where servers put errors), or the
/// text itself when it is already bare parameters.
fn params(text: &str, mode: Mode) -> &str {
    if !text.contains("://") {
        return text;
    }
    match (mode, text.split_once('#')) {
        (Mode::Fragment, Some((_, fragment))) if !fragment.is_empty() => fragment,
        (_, before) => {
            let before = before.map_or(text, |(b, _)| b);
            before.split_once('?').map_or("", |(_, q)| q)
        }
    }
}

/// The server's error in a redirect without a state: reported as the server's error (the
/// command fails either way), rather than as a missing state that hides the cause. With a
/// state, the flow checks the state first and reports the error itself.
fn server_error_without_state(params: &str) -> Result<(), Failure> {
    match CallbackParams::parse_pairs(params) {
        Ok(parsed) if parsed.state.is_none() => match parsed.server_error() {
            Some(error) => Err(Failure::OAuth(Error::Server(error))),
            None => Ok(()),
        },
        // With a state, or unreadable: the flow checks it.
        _ => Ok(()),
    }
}

/// Refuses a redirect URL that is not addressed to the redirect URI: same scheme, host,
/// port and path. (Bare parameters, without an address, are taken as they are.)
fn addressed_to(text: &str, redirect_uri: &str) -> Result<(), Failure> {
    let text = text.trim();
    if !text.contains("://") {
        return Ok(());
    }
    let got = latchkey::parse_url(text)
        .map_err(|e| Failure::Other(format!("the redirect URL does not parse: {e}")))?;
    let want = latchkey::parse_url(redirect_uri)
        .map_err(|e| Failure::Usage(format!("--redirect-uri: {e}")))?;
    let address = |u: &latchkey::Url| {
        format!(
            "{}://{}:{}{}",
            u.scheme(),
            u.host_str().unwrap_or_default().to_ascii_lowercase(),
            u.port_or_known_default().unwrap_or(0),
            u.path()
        )
    };
    if address(&got) == address(&want) {
        return Ok(());
    }
    Err(Failure::Other(format!(
        "the redirect went to {}, not to the redirect URI {}; its code was not used",
        address(&got),
        address(&want)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_must_be_addressed_to_the_redirect_uri() {
        let uri = "http://127.0.0.1/callback";
        assert!(addressed_to("http://127.0.0.1/callback?code=c&state=s", uri).is_ok());
        assert!(addressed_to("HTTP://127.0.0.1:80/callback?code=c", uri).is_ok());
        assert!(addressed_to("code=c&state=s", uri).is_ok());
        for other in [
            "http://evil.example/other?code=c&state=s",
            "https://127.0.0.1/callback?code=c",
            "http://127.0.0.1:8080/callback?code=c",
            "http://127.0.0.1/callbackx?code=c",
        ] {
            let err = addressed_to(other, uri).unwrap_err().message();
            assert!(err.contains("not to the redirect URI"), "{err}");
            assert!(!err.contains("code=c"), "{err}");
        }
    }

    #[test]
    fn errors_without_state_are_the_servers() {
        let err = server_error_without_state(params(
            "http://127.0.0.1/cb?error=access_denied&error_description=the+user+said+no",
            Mode::Query,
        ))
        .unwrap_err();
        assert!(
            err.message().contains("access_denied: the user said no"),
            "{}",
            err.message()
        );
        assert!(server_error_without_state("error=access_denied&state=s").is_ok());
        assert!(server_error_without_state("code=c").is_ok());
        assert_eq!(
            params("https://a/cb?x=1#access_token=t", Mode::Fragment),
            "access_token=t"
        );
        assert_eq!(params("https://a/cb?error=e#", Mode::Fragment), "error=e");
    }
}
