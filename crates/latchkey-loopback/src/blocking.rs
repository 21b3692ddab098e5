//! The blocking driver: an accept loop on a background thread, one short-lived thread per
//! connection that reads its request head under a read timeout, and the caller's thread
//! deciding what each request means.

use std::io::{self, Read as _, Write as _};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use latchkey::Url;

use crate::page::{Head, Page, parse_head};
use crate::session::{Session, Step};
use crate::{Error, MAX_CONNECTIONS, READ_TIMEOUT, TICK, Tick};

/// How often the accept loop looks for a stop request.
const POLL: Duration = Duration::from_millis(10);

/// One request head, read by a connection thread, waiting for an answer.
struct Incoming {
    method: String,
    target: String,
    stream: TcpStream,
}

/// Runs `session` on `listener` until it finishes or `timeout` passes.
pub(crate) fn run<T, F>(
    listener: TcpListener,
    mut session: Session<'_, T, F>,
    timeout: Duration,
    mut tick: Option<Tick>,
    redirect_uri: &Url,
) -> Result<T, Error>
where
    F: FnOnce(&str) -> Result<T, latchkey::Error>,
{
    let start = Instant::now();
    let deadline = start + timeout;
    listener.set_nonblocking(true).map_err(Error::listener)?;
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel::<Incoming>();
    let acceptor = {
        let stop = Arc::clone(&stop);
        thread::spawn(move || accept_loop(&listener, &stop, &tx))
    };
    // The accept loop stops, and the listener is closed, before the wait returns, however
    // it ends.
    let mut acceptor = Acceptor {
        stop,
        thread: Some(acceptor),
    };
    loop {
        let Some(remaining) = deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
        else {
            return Err(Error::TimedOut {
                waited: start.elapsed(),
                redirect_uri: redirect_uri.to_string(),
            });
        };
        if let Some(tick) = tick.as_mut() {
            tick(remaining);
        }
        let mut incoming = match rx.recv_timeout(remaining.min(TICK)) {
            Ok(incoming) => incoming,
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let failed = acceptor.join().err();
                return Err(Error::listener(
                    failed.unwrap_or_else(|| io::Error::other("the accept loop stopped")),
                ));
            }
        };
        match session.handle(&incoming.method, &incoming.target) {
            Step::Answer(page) => {
                // Written on a thread of its own: a browser that does not read cannot
                // hold up the wait.
                thread::spawn(move || send(&mut incoming.stream, &page));
            }
            Step::Finish(page, result) => {
                send(&mut incoming.stream, &page);
                return result;
            }
        }
    }
}

/// The accept loop's thread: stopped and joined when the wait ends, however it ends, so the
/// listener is closed (the port free) by the time the wait returns.
struct Acceptor {
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<io::Result<()>>>,
}

impl Acceptor {
    /// Stops the accept loop and waits for it (at most one [`POLL`]); what stopped it.
    fn join(&mut self) -> io::Result<()> {
        self.stop.store(true, Ordering::SeqCst);
        match self.thread.take() {
            Some(thread) => thread
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the accept thread panicked"))),
            None => Ok(()),
        }
    }
}

impl Drop for Acceptor {
    fn drop(&mut self) {
        let _ = self.join();
    }
}

/// Accepts connections until asked to stop; each gets a thread that reads its request
/// head. Returns (closing the listener) when asked to stop, or with the error that stopped
/// it.
fn accept_loop(
    listener: &TcpListener,
    stop: &AtomicBool,
    tx: &mpsc::Sender<Incoming>,
) -> io::Result<()> {
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
            // Out of file descriptors, a connection reset before it was accepted...: the
            // listener itself is fine, so wait a little and go on.
            Err(_) => thread::sleep(POLL),
        }
    }
    Ok(())
}

/// Reads one request head; answers and drops connections that do not send a usable one.
fn read_request(mut stream: TcpStream) -> Option<Incoming> {
    stream.set_nonblocking(false).ok()?;
    stream.set_read_timeout(Some(READ_TIMEOUT)).ok()?;
    stream.set_write_timeout(Some(READ_TIMEOUT)).ok()?;
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
        match parse_head(&head) {
            Head::Partial => {}
            Head::Request { method, target } => {
                return Some(Incoming {
                    method,
                    target,
                    stream,
                });
            }
            Head::Refuse(page) => {
                send(&mut stream, &page);
                return None;
            }
        }
    }
}

/// Writes the answer and closes the connection (errors ignored: the browser may be gone).
fn send(stream: &mut TcpStream, page: &Page) {
    let _ = stream.set_write_timeout(Some(READ_TIMEOUT));
    let _ = stream.write_all(&page.to_bytes());
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Write);
}
