//! Where the redirect of `authorize` and `implicit` comes from (the loopback listener,
//! `--callback URL`, or `--callback -`: one line of stdin), and the checks every redirect
//! passes before the flow looks at it: it must be addressed to the redirect URI, an error
//! is the server's error even without a state, and the listener waits on past requests of
//! another state.

use std::time::Instant;

use latchkey::{AuthorizationUrl, Error, ErrorCode, ServerError};

use crate::context::options::LoginArgs;
use crate::failure::Failure;
use crate::listener::{self, Listener, Mode};
use crate::output::LiveLine;
use crate::say;

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
    pub(crate) fn new(login: &LoginArgs) -> Result<Self, Failure> {
        let redirect_uri = login.redirect_uri.as_deref();
        match login.callback.as_deref() {
            None => Ok(Self::Listener(Listener::bind(redirect_uri)?)),
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
        no_browser: bool,
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
        if !no_browser {
            listener::open_browser(url.as_str());
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
        accept: impl FnOnce(&str) -> Result<T, Failure>,
    ) -> Result<T, Failure> {
        let checked = |text: &str| -> Result<T, Failure> {
            server_error_without_state(params(text, mode))?;
            accept(text)
        };
        match self {
            Self::Listener(listener) => {
                let mut countdown = LiveLine::new();
                let result = listener.wait(
                    mode,
                    deadline,
                    |query| belongs(query, state),
                    |left| countdown.countdown("waiting for the redirect", left, ""),
                    checked,
                );
                countdown.finish();
                result
            }
            Self::Given {
                callback,
                redirect_uri,
            } => {
                addressed_to(&callback, &redirect_uri)?;
                checked(&callback)
            }
            Self::Stdin { redirect_uri } => {
                let line = listener::read_stdin_line(deadline)?;
                addressed_to(&line, &redirect_uri)?;
                checked(&line)
            }
        }
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

/// The value of parameter `name` in `params` (form-decoded).
fn param(params: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(params.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Whether a request to the listener belongs to this login: it carries this state, or it
/// carries an error and no state (which is reported, since the login cannot go on).
fn belongs(query: &str, state: &str) -> bool {
    match param(query, "state") {
        Some(received) => latchkey::State::new(state).matches(&received),
        None => param(query, "error").is_some(),
    }
}

/// The server's error in a redirect without a state: reported as the server's error (the
/// command fails either way), rather than as a missing state that hides the cause. With a
/// state, the flow checks the state first and reports the error itself.
fn server_error_without_state(params: &str) -> Result<(), Failure> {
    if param(params, "state").is_some() {
        return Ok(());
    }
    let Some(code) = param(params, "error") else {
        return Ok(());
    };
    let mut error = ServerError::new(ErrorCode::parse(&code));
    error.description = param(params, "error_description");
    error.uri = param(params, "error_uri");
    Err(Failure::OAuth(Error::Server(error)))
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

    #[test]
    fn stray_requests_do_not_belong() {
        assert!(belongs("code=c&state=s1", "s1"));
        assert!(!belongs("code=c&state=s2", "s1"));
        assert!(!belongs("code=c", "s1"));
        assert!(belongs("error=access_denied", "s1"));
    }
}
