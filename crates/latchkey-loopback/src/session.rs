//! What each request to the listener means: the decisions of a wait, without the sockets
//! (the blocking and the tokio drivers share them).

use latchkey::{CallbackParams, State, Url};

use crate::page::Page;
use crate::{Error, Mode};

/// What to do with one request.
#[derive(Debug)]
pub(crate) enum Step<T> {
    /// Answer with this page; the wait goes on.
    Answer(Page),
    /// Answer with this page; the wait is over, with this result.
    Finish(Page, Result<T, Error>),
}

/// One wait's decisions: which requests belong to it, and the one callback it accepts.
pub(crate) struct Session<'s, T, F> {
    state: &'s State,
    mode: Mode,
    callback_path: String,
    fragment_path: String,
    accept: Option<F>,
    _output: std::marker::PhantomData<fn() -> T>,
}

impl<'s, T, F> Session<'s, T, F>
where
    F: FnOnce(&str) -> Result<T, latchkey::Error>,
{
    /// A wait for the callback to `redirect_uri` that carries `state`.
    pub(crate) fn new(state: &'s State, mode: Mode, redirect_uri: &Url, accept: F) -> Self {
        let callback_path = redirect_uri.path().to_owned();
        let fragment_path = format!("{}/fragment", callback_path.trim_end_matches('/'));
        Self {
            state,
            mode,
            callback_path,
            fragment_path,
            accept: Some(accept),
            _output: std::marker::PhantomData,
        }
    }

    /// Decides what the request `method target` means.
    pub(crate) fn handle(&mut self, method: &str, target: &str) -> Step<T> {
        let (path, params) = target.split_once('?').unwrap_or((target, ""));
        let get = method == "GET";
        let head = method == "HEAD";
        let final_path = match self.mode {
            Mode::Query => &self.callback_path,
            Mode::Fragment => &self.fragment_path,
        };
        if path == final_path && get {
            return self.callback(params);
        }
        let page = if self.mode == Mode::Fragment && path == self.callback_path && (get || head) {
            Page::fragment_relay(&self.fragment_path)
        } else if path == self.callback_path || path == self.fragment_path {
            Page::method_not_allowed()
        } else {
            Page::not_found()
        };
        Step::Answer(if head { page.head() } else { page })
    }

    /// A GET on the callback path with these parameters.
    fn callback(&mut self, params: &str) -> Step<T> {
        // A callback that does not parse (a repeated state, bad UTF-8) cannot be tied to
        // this login: ignored like another state.
        let Ok(parsed) = CallbackParams::parse_pairs(params) else {
            return Step::Answer(Page::stray());
        };
        let ours = match parsed.state.as_deref() {
            Some(received) => self.state.matches(received),
            // An error without a state ends the login too: the user must see why it failed.
            None => parsed.error.is_some(),
        };
        if !ours {
            return Step::Answer(Page::stray());
        }
        if let Some(error) = parsed.server_error() {
            let error = latchkey::Error::Server(error);
            return Step::Finish(Page::failure(&page_message(&error)), Err(error.into()));
        }
        let Some(accept) = self.accept.take() else {
            return Step::Answer(Page::stray());
        };
        match accept(params) {
            Ok(value) => Step::Finish(Page::success(), Ok(value)),
            Err(error) => Step::Finish(Page::failure(&page_message(&error)), Err(error.into())),
        }
    }
}

/// What the failure page says about `error` (escaped by the page). The core's messages
/// never hold a secret.
fn page_message(error: &latchkey::Error) -> String {
    match error {
        latchkey::Error::Server(e) => {
            let mut message = format!("The authorization server answered {}", e.code.as_str());
            if let Some(description) = &e.description {
                message.push_str(": ");
                message.push_str(description);
            }
            message
        }
        other => {
            let mut message = other.to_string();
            if let Some(first) = message.get(..1) {
                let upper = first.to_ascii_uppercase();
                message.replace_range(..1, &upper);
            }
            message
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session<'s>(
        state: &'s State,
        mode: Mode,
    ) -> Session<'s, String, impl FnOnce(&str) -> Result<String, latchkey::Error>> {
        let uri = latchkey::parse_url("http://127.0.0.1:1/cb").unwrap();
        Session::new(state, mode, &uri, |params: &str| Ok(params.to_owned()))
    }

    fn status<T>(step: &Step<T>) -> &'static str {
        match step {
            Step::Answer(page) | Step::Finish(page, _) => page.status(),
        }
    }

    #[test]
    fn only_the_callback_with_this_state_is_accepted() {
        let state = State::new("s1");
        let mut s = session(&state, Mode::Query);
        for (method, target, want) in [
            ("GET", "/favicon.ico", "404 Not Found"),
            ("HEAD", "/other?state=s1", "404 Not Found"),
            ("POST", "/cb?code=c&state=s1", "405 Method Not Allowed"),
            ("GET", "/cb?code=c&state=s2", "400 Bad Request"),
            ("GET", "/cb?code=c", "400 Bad Request"),
            ("GET", "/cb?code=c&state=s1&state=s1", "400 Bad Request"),
            ("GET", "/cb?code=c&state=%FF", "400 Bad Request"),
            ("GET", "/cbx?code=c&state=s1", "404 Not Found"),
        ] {
            let step = s.handle(method, target);
            assert!(matches!(step, Step::Answer(_)), "{method} {target}");
            assert_eq!(status(&step), want, "{method} {target}");
        }
        match s.handle("GET", "/cb?code=c&state=s1") {
            Step::Finish(page, Ok(params)) => {
                assert_eq!(page, Page::success());
                assert_eq!(params, "code=c&state=s1");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_error_redirect_ends_the_wait_with_the_servers_error() {
        let state = State::new("s1");
        for target in [
            "/cb?error=access_denied&error_description=no+%3Cb%3E&state=s1",
            "/cb?error=access_denied&error_description=no+%3Cb%3E",
        ] {
            let mut s = session(&state, Mode::Query);
            match s.handle("GET", target) {
                Step::Finish(page, Err(error)) => {
                    let server = error.server_error().expect("the server's error");
                    assert_eq!(server.code.as_str(), "access_denied");
                    assert_eq!(server.description.as_deref(), Some("no <b>"));
                    let body = String::from_utf8(page.to_bytes()).unwrap();
                    assert!(body.starts_with("HTTP/1.1 400"), "{body}");
                    assert!(body.contains("access_denied: no &lt;b&gt;"), "{body}");
                }
                other => panic!("{other:?}"),
            }
        }
        // An error of another login is not ours.
        let mut s = session(&state, Mode::Query);
        let step = s.handle("GET", "/cb?error=access_denied&state=s2");
        assert!(matches!(step, Step::Answer(_)));
    }

    #[test]
    fn a_refused_callback_gets_the_failure_page() {
        let state = State::new("s1");
        let uri = latchkey::parse_url("http://127.0.0.1:1/cb").unwrap();
        let mut s = Session::new(&state, Mode::Query, &uri, |_: &str| {
            Err::<(), _>(latchkey::CallbackError::MissingCode.into())
        });
        match s.handle("GET", "/cb?state=s1") {
            Step::Finish(page, Err(Error::Authorization(_))) => {
                let body = String::from_utf8(page.to_bytes()).unwrap();
                assert!(body.contains("Callback has no code parameter"), "{body}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn fragment_mode_relays_then_accepts() {
        let state = State::new("s1");
        let mut s = session(&state, Mode::Fragment);
        match s.handle("GET", "/cb") {
            Step::Answer(page) => {
                let body = String::from_utf8(page.to_bytes()).unwrap();
                assert!(body.contains("\"/cb/fragment\""), "{body}");
                assert!(body.contains("location.hash"), "{body}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            s.handle("GET", "/cb?access_token=t&state=s1"),
            Step::Answer(_)
        ));
        match s.handle("GET", "/cb/fragment?access_token=t&state=s1") {
            Step::Finish(_, Ok(params)) => assert_eq!(params, "access_token=t&state=s1"),
            other => panic!("{other:?}"),
        }
    }
}
