//! The loopback redirect listener ([RFC 8252 §7.3](https://www.rfc-editor.org/rfc/rfc8252#section-7.3))
//! and the other ways a callback arrives (a flag, a line on stdin).
//!
//! The listener is plain `std::net`: an accept loop on a background thread, one short-lived
//! thread per connection that reads at most [`MAX_HEAD`] bytes of request head under a read
//! timeout, and the caller's thread deciding what each request means. It accepts exactly one
//! callback on the redirect path; anything else (`/favicon.ico`, a stray probe) gets a 404
//! and is otherwise ignored.

use std::io::{self, BufRead as _, Read as _, Write as _};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use latchkey::Url;

use crate::failure::Failure;
use crate::output::escape_html;

/// Longest request head (request line and header fields) read from one connection.
pub(crate) const MAX_HEAD: usize = 16 * 1024;
/// How long one connection may take to send its request head.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections read at the same time; more are closed at once.
const MAX_CONNECTIONS: usize = 32;
/// How often the wait calls its `tick`.
const TICK: Duration = Duration::from_secs(1);
/// How often the accept loop looks for a stop request.
const POLL: Duration = Duration::from_millis(10);

/// Where the authorization response is in the redirect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// In the query (authorization code flow).
    Query,
    /// In the fragment (implicit flow): the browser keeps it, so the listener serves a page
    /// whose script sends it to [`Listener::fragment_path`].
    Fragment,
}

/// One request head, read by a connection thread, waiting for an answer.
struct Incoming {
    method: String,
    target: String,
    stream: TcpStream,
}

/// A bound loopback listener, ready to receive the redirect.
#[derive(Debug)]
pub(crate) struct Listener {
    listener: TcpListener,
    redirect_uri: Url,
}

impl Listener {
    /// Binds the listener for `redirect_uri`, or for `http://127.0.0.1:<free port>/callback`
    /// when there is none. A port of 0 in `redirect_uri` also picks a free port.
    ///
    /// # Errors
    ///
    /// [`Failure::Usage`] for a redirect URI that is not `http://` on a loopback host;
    /// [`Failure::Other`] when the address cannot be bound.
    pub(crate) fn bind(redirect_uri: Option<&str>) -> Result<Self, Failure> {
        let mut uri = match redirect_uri {
            Some(uri) => latchkey::parse_url(uri)
                .map_err(|e| Failure::Usage(format!("invalid --redirect-uri: {e}")))?,
            None => latchkey::parse_url("http://127.0.0.1:0/callback")
                .map_err(|e| Failure::Other(e.to_string()))?,
        };
        if uri.scheme() != "http" || uri.fragment().is_some() {
            return Err(Failure::Usage(
                "the loopback listener needs an http:// --redirect-uri without a fragment \
                 (use --callback for other redirect URIs)"
                    .into(),
            ));
        }
        let Some(ip) = loopback_ip(&uri) else {
            return Err(Failure::Usage(
                "the loopback listener needs a --redirect-uri on 127.0.0.1, [::1] or \
                 localhost (use --callback for other redirect URIs)"
                    .into(),
            ));
        };
        let port = uri.port_or_known_default().unwrap_or(80);
        let listener = TcpListener::bind(SocketAddr::new(ip, port)).map_err(|e| {
            Failure::Other(format!(
                "cannot listen on {ip} port {port} for the redirect: {e}"
            ))
        })?;
        let bound = listener
            .local_addr()
            .map_err(|e| Failure::Other(format!("listener address: {e}")))?;
        if port == 0 {
            uri.set_port(Some(bound.port()))
                .map_err(|()| Failure::Other("cannot set the redirect port".into()))?;
        }
        Ok(Self {
            listener,
            redirect_uri: uri,
        })
    }

    /// The redirect URI to send with the authorization request (with the real port).
    pub(crate) fn redirect_uri(&self) -> &str {
        self.redirect_uri.as_str()
    }

    /// The path the implicit-flow page sends the fragment to: the redirect path plus
    /// `/fragment`.
    pub(crate) fn fragment_path(&self) -> String {
        format!(
            "{}/fragment",
            self.redirect_uri.path().trim_end_matches('/')
        )
    }

    /// Waits for the one callback until `deadline`, hands its parameters (the query, or for
    /// [`Mode::Fragment`] the fragment the page sent back) to `accept`, answers the browser
    /// with a small page saying how that went, and returns what `accept` returned. A request
    /// on the callback path whose parameters `belongs` refuses (another state: a stray or
    /// forged request) gets a 400 page and the wait goes on. `tick` is called about every
    /// second with the time left.
    ///
    /// # Errors
    ///
    /// [`Failure::Other`] when nothing arrived in time or the listener failed, and whatever
    /// `accept` returns.
    pub(crate) fn wait<T>(
        self,
        mode: Mode,
        deadline: Instant,
        belongs: impl Fn(&str) -> bool,
        mut tick: impl FnMut(Duration),
        accept: impl FnOnce(&str) -> Result<T, Failure>,
    ) -> Result<T, Failure> {
        let callback_path = self.redirect_uri.path().to_owned();
        let fragment_path = self.fragment_path();
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel::<Incoming>();
        self.listener
            .set_nonblocking(true)
            .map_err(|e| Failure::Other(format!("listener: {e}")))?;
        let acceptor = {
            let stop = Arc::clone(&stop);
            let listener = self.listener;
            thread::spawn(move || accept_loop(&listener, &stop, &tx))
        };
        let _stop_on_exit = StopOnDrop(stop);
        let mut accept = Some(accept);
        loop {
            let now = Instant::now();
            let Some(remaining) = deadline
                .checked_duration_since(now)
                .filter(|d| !d.is_zero())
            else {
                return Err(Failure::Other(format!(
                    "timed out waiting for the redirect to {} (--login-timeout)",
                    self.redirect_uri
                )));
            };
            tick(remaining);
            let mut incoming = match rx.recv_timeout(remaining.min(TICK)) {
                Ok(incoming) => incoming,
                Err(mpsc::RecvTimeoutError::Timeout) => continue,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let _ = acceptor.join();
                    return Err(Failure::Other("the redirect listener stopped".into()));
                }
            };
            let (path, query) = match incoming.target.split_once('?') {
                Some((path, query)) => (path, query),
                None => (incoming.target.as_str(), ""),
            };
            let path = path.to_owned();
            let query = query.to_owned();
            let is_get = incoming.method == "GET";
            let final_request = match mode {
                Mode::Query => path == callback_path,
                Mode::Fragment => path == fragment_path,
            };
            if final_request && is_get && !belongs(&query) {
                Page::stray().send(&mut incoming.stream, false);
                continue;
            }
            if final_request && is_get {
                let Some(accept) = accept.take() else {
                    continue;
                };
                let result = accept(&query);
                let page = match &result {
                    Ok(_) => Page::success(),
                    Err(failure) => Page::failure(&failure.page_message()),
                };
                page.send(&mut incoming.stream, false);
                return result;
            }
            let head = incoming.method == "HEAD";
            let page = if mode == Mode::Fragment && path == callback_path && (is_get || head) {
                Page::fragment_relay(&fragment_path)
            } else if path == callback_path || path == fragment_path {
                Page::method_not_allowed()
            } else {
                Page::not_found()
            };
            page.send(&mut incoming.stream, head);
        }
    }
}

/// The address to listen on for a redirect URI on a loopback host: its IP address (a
/// loopback one), or 127.0.0.1 for `localhost`. `None` for any other host.
fn loopback_ip(uri: &Url) -> Option<IpAddr> {
    let host = uri.host_str()?;
    if host.eq_ignore_ascii_case("localhost") {
        return Some(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    // An IP address (an IPv6 one in brackets); a domain name does not parse as one.
    let ip: IpAddr = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
        .parse()
        .ok()?;
    ip.is_loopback().then_some(ip)
}

/// Asks the accept loop to stop when the waiting ends, however it ends.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Accepts connections until asked to stop; each gets a thread that reads its request head.
fn accept_loop(listener: &TcpListener, stop: &AtomicBool, tx: &mpsc::Sender<Incoming>) {
    let active = Arc::new(AtomicUsize::new(0));
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                if active.load(Ordering::SeqCst) >= MAX_CONNECTIONS {
                    drop(stream);
                    continue;
                }
                active.fetch_add(1, Ordering::SeqCst);
                let tx = tx.clone();
                let active = Arc::clone(&active);
                thread::spawn(move || {
                    if let Some(incoming) = read_request(stream) {
                        let _ = tx.send(incoming);
                    }
                    active.fetch_sub(1, Ordering::SeqCst);
                });
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => thread::sleep(POLL),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => thread::sleep(POLL),
        }
    }
}

/// Reads one request head; answers and drops connections that do not send a usable one.
fn read_request(mut stream: TcpStream) -> Option<Incoming> {
    stream.set_nonblocking(false).ok()?;
    stream.set_read_timeout(Some(READ_TIMEOUT)).ok()?;
    stream.set_write_timeout(Some(READ_TIMEOUT)).ok()?;
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    loop {
        if head_complete(&head) {
            break;
        }
        if head.len() >= MAX_HEAD {
            Page::too_large().send(&mut stream, false);
            return None;
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let line = head.lines().next()?.ok()?;
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        Page::bad_request().send(&mut stream, false);
        return None;
    };
    if !version.starts_with("HTTP/1.") || !target.starts_with('/') || method.is_empty() {
        Page::bad_request().send(&mut stream, false);
        return None;
    }
    Some(Incoming {
        method: method.to_owned(),
        target: target.to_owned(),
        stream,
    })
}

/// True once the head's terminating empty line has arrived.
fn head_complete(head: &[u8]) -> bool {
    head.windows(4).any(|w| w == b"\r\n\r\n") || head.windows(2).any(|w| w == b"\n\n")
}

/// A small HTML answer.
struct Page {
    status: &'static str,
    extra_headers: &'static str,
    body: String,
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:36em;margin:4em auto;\
                     padding:0 1em;line-height:1.5}h1{font-size:1.4em}";

impl Page {
    fn html(status: &'static str, title: &str, message: &str) -> Self {
        Self {
            status,
            extra_headers: "",
            body: format!(
                "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
                 <meta name=\"viewport\" content=\"width=device-width\">\
                 <title>latchkey: {title}</title><style>{STYLE}</style></head>\n\
                 <body><h1>{title}</h1><p>{message}</p></body></html>\n",
                title = escape_html(title),
                message = escape_html(message),
            ),
        }
    }

    fn success() -> Self {
        Self::html(
            "200 OK",
            "Signed in",
            "latchkey received the authorization response. You can close this tab and return \
             to the terminal.",
        )
    }

    fn failure(message: &str) -> Self {
        Self::html(
            "400 Bad Request",
            "Authorization failed",
            &format!("{message}. Return to the terminal for details."),
        )
    }

    fn stray() -> Self {
        Self::html(
            "400 Bad Request",
            "Not this sign-in",
            "This request does not belong to the sign-in latchkey is waiting for (its state \
             differs). latchkey is still waiting.",
        )
    }

    fn not_found() -> Self {
        Self::html("404 Not Found", "Not found", "Nothing here.")
    }

    fn method_not_allowed() -> Self {
        let mut page = Self::html("405 Method Not Allowed", "Method not allowed", "Use GET.");
        page.extra_headers = "Allow: GET\r\n";
        page
    }

    fn bad_request() -> Self {
        Self::html("400 Bad Request", "Bad request", "Malformed request.")
    }

    fn too_large() -> Self {
        Self::html(
            "431 Request Header Fields Too Large",
            "Request too large",
            "The request head is too large.",
        )
    }

    /// The implicit-flow page: its script sends the fragment (or, for a server that put an
    /// error in the query, the query) to `fragment_path`, then shows the answer. It also
    /// removes the fragment from the address bar and history.
    fn fragment_relay(fragment_path: &str) -> Self {
        // A JSON string literal is a JavaScript string literal; `<` is escaped so the path
        // cannot close the script element.
        let path = serde_json::to_string(fragment_path)
            .unwrap_or_else(|_| "\"/callback/fragment\"".into())
            .replace('<', "\\u003c");
        Self {
            status: "200 OK",
            extra_headers: "",
            body: format!(
                "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
                 <title>latchkey: completing sign-in</title><style>{STYLE}</style></head>\n\
                 <body><h1>Completing sign-in…</h1><p id=\"m\">Handing the result to \
                 latchkey.</p>\n<noscript><p>JavaScript is needed to pass the result to \
                 latchkey; or copy this page's full address and use <code>latchkey implicit \
                 --callback -</code>.</p></noscript>\n<script>\n(function () {{\n  \
                 var h = location.hash.length > 1 ? location.hash.substring(1) : \
                 location.search.substring(1);\n  \
                 try {{ history.replaceState(null, \"\", location.pathname); }} catch (e) {{}}\n  \
                 fetch({path} + \"?\" + h, {{ cache: \"no-store\" }})\n    \
                 .then(function (r) {{ return r.text(); }})\n    \
                 .then(function (t) {{ document.open(); document.write(t); document.close(); }})\n    \
                 .catch(function () {{ document.getElementById(\"m\").textContent = \
                 \"Could not reach latchkey.\"; }});\n}})();\n</script></body></html>\n"
            ),
        }
    }

    /// Writes the answer and closes the connection (errors ignored: the browser may be gone).
    fn send(&self, stream: &mut TcpStream, head_only: bool) {
        let mut out = format!(
            "HTTP/1.1 {}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
             Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\n\
             X-Content-Type-Options: nosniff\r\n{}Connection: close\r\n\r\n",
            self.status,
            self.body.len(),
            self.extra_headers,
        );
        if !head_only {
            out.push_str(&self.body);
        }
        let _ = stream.write_all(out.as_bytes());
        let _ = stream.flush();
        let _ = stream.shutdown(std::net::Shutdown::Write);
    }
}

/// Reads one line from stdin (the redirect URL for `--callback -`), giving up at `deadline`.
///
/// # Errors
///
/// [`Failure::Other`] on timeout, end of input or a line longer than [`MAX_HEAD`] × 4.
pub(crate) fn read_stdin_line(deadline: Instant) -> Result<String, Failure> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut line = String::new();
        let limit = (MAX_HEAD * 4) as u64;
        let result = io::stdin()
            .lock()
            .take(limit)
            .read_line(&mut line)
            .map(|n| (n, line));
        let _ = tx.send(result);
    });
    let remaining = deadline.saturating_duration_since(Instant::now());
    match rx.recv_timeout(remaining) {
        Ok(Ok((0, _))) => Err(Failure::Other(
            "no redirect URL on stdin (end of input)".into(),
        )),
        Ok(Ok((_, line))) if !line.ends_with('\n') && line.len() >= MAX_HEAD * 4 => Err(
            Failure::Other("the redirect URL on stdin is too long".into()),
        ),
        Ok(Ok((_, line))) => Ok(line.trim().to_owned()),
        Ok(Err(e)) => Err(Failure::Other(format!("cannot read stdin: {e}"))),
        Err(_) => Err(Failure::Other(
            "timed out waiting for the redirect URL on stdin (--login-timeout)".into(),
        )),
    }
}

/// Opens `url` in the system browser if there is a way to; failure is silent (the URL has
/// been printed).
pub(crate) fn open_browser(url: &str) {
    use std::process::{Command, Stdio};
    let mut command = if cfg!(target_os = "macos") {
        let mut c = Command::new("open");
        c.arg(url);
        c
    } else if cfg!(windows) {
        // `start` is a cmd built-in that mangles `&`; the URL protocol handler does not.
        let mut c = Command::new("rundll32");
        c.arg("url.dll,FileProtocolHandler").arg(url);
        c
    } else {
        let mut c = Command::new("xdg-open");
        c.arg(url);
        c
    };
    let spawned = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    if let Ok(mut child) = spawned {
        // Reap it in the background so no zombie is left behind.
        thread::spawn(move || {
            let _ = child.wait();
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(addr: &str, target: &str) -> String {
        let mut s = TcpStream::connect(addr).unwrap();
        write!(s, "GET {target} HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn one_callback_others_get_404() {
        let listener = Listener::bind(None).unwrap();
        let uri = latchkey::parse_url(listener.redirect_uri()).unwrap();
        assert_eq!(uri.path(), "/callback");
        assert_ne!(uri.port(), Some(0));
        let addr = format!("127.0.0.1:{}", uri.port().unwrap());
        let client = thread::spawn(move || {
            let favicon = get(&addr, "/favicon.ico");
            let stray = get(&addr, "/callback?code=evil&state=other");
            let cb = get(&addr, "/callback?code=abc&state=xyz");
            (favicon, stray, cb)
        });
        let got = listener
            .wait(
                Mode::Query,
                Instant::now() + Duration::from_secs(10),
                |q| q.contains("state=x"),
                |_| {},
                |q| Ok(q.to_owned()),
            )
            .unwrap();
        assert_eq!(got, "code=abc&state=xyz");
        let (favicon, stray, cb) = client.join().unwrap();
        assert!(favicon.starts_with("HTTP/1.1 404"), "{favicon}");
        assert!(stray.starts_with("HTTP/1.1 400"), "{stray}");
        assert!(stray.contains("still waiting"), "{stray}");
        assert!(cb.starts_with("HTTP/1.1 200"), "{cb}");
        assert!(cb.contains("Cache-Control: no-store"));
    }

    #[test]
    fn fragment_mode_serves_the_relay_page() {
        let listener = Listener::bind(Some("http://127.0.0.1:0/cb/")).unwrap();
        assert_eq!(listener.fragment_path(), "/cb/fragment");
        let port = latchkey::parse_url(listener.redirect_uri())
            .unwrap()
            .port()
            .unwrap();
        let addr = format!("127.0.0.1:{port}");
        let client = thread::spawn(move || {
            let page = get(&addr, "/cb/");
            let done = get(&addr, "/cb/fragment?access_token=t&state=s");
            (page, done)
        });
        let got = listener
            .wait(
                Mode::Fragment,
                Instant::now() + Duration::from_secs(10),
                |_| true,
                |_| {},
                |f| Err::<(), _>(Failure::Other(format!("refused {f}"))),
            )
            .unwrap_err();
        assert!(matches!(got, Failure::Other(m) if m == "refused access_token=t&state=s"));
        let (page, done) = client.join().unwrap();
        assert!(page.contains("\"/cb/fragment\""), "{page}");
        assert!(page.contains("location.hash"));
        assert!(done.starts_with("HTTP/1.1 400"), "{done}");
    }

    #[test]
    fn times_out_and_refuses_non_loopback() {
        let listener = Listener::bind(None).unwrap();
        let start = Instant::now();
        let err = listener
            .wait(
                Mode::Query,
                Instant::now() + Duration::from_millis(200),
                |_| true,
                |_| {},
                |_| Ok(()),
            )
            .unwrap_err();
        assert!(matches!(err, Failure::Other(m) if m.contains("timed out")));
        assert!(start.elapsed() < Duration::from_secs(5));
        assert!(matches!(
            Listener::bind(Some("http://example.com/cb")),
            Err(Failure::Usage(_))
        ));
        assert!(matches!(
            Listener::bind(Some("https://127.0.0.1/cb")),
            Err(Failure::Usage(_))
        ));
    }

    #[test]
    fn oversized_heads_are_refused() {
        let listener = Listener::bind(None).unwrap();
        let port = latchkey::parse_url(listener.redirect_uri())
            .unwrap()
            .port()
            .unwrap();
        let addr = format!("127.0.0.1:{port}");
        let client = thread::spawn(move || {
            let mut s = TcpStream::connect(&addr).unwrap();
            let big = format!("GET /callback?{} HTTP/1.1\r\n", "a".repeat(MAX_HEAD * 2));
            let _ = s.write_all(big.as_bytes());
            let mut out = String::new();
            let _ = s.read_to_string(&mut out);
            let ok = get(&addr, "/callback?state=x");
            (out, ok)
        });
        let got = listener
            .wait(
                Mode::Query,
                Instant::now() + Duration::from_secs(10),
                |q| q.contains("state=x"),
                |_| {},
                |q| Ok(q.to_owned()),
            )
            .unwrap();
        assert_eq!(got, "state=x");
        let (big, _) = client.join().unwrap();
        // The refusal may be lost to a reset, as the unread rest of the request is dropped.
        assert!(big.is_empty() || big.starts_with("HTTP/1.1 431"), "{big}");
    }
}
