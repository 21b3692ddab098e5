//! The tokio driver: the listener, every connection's reading and every answer are owned by
//! the wait's future, so dropping it closes the listener (freeing the port) and aborts the
//! connections.

use std::net::TcpListener as StdListener;
use std::time::Duration;

use latchkey::Url;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep, sleep_until, timeout as within};

use crate::page::{Head, Page, parse_head};
use crate::session::{Session, Step};
use crate::{Error, MAX_CONNECTIONS, READ_TIMEOUT, TICK, Tick};

/// How long to wait before accepting again after `accept` failed (out of descriptors).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

/// Runs `session` on `listener` until it finishes or `timeout` passes.
pub(crate) async fn run<T, F>(
    listener: StdListener,
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
    let listener = TcpListener::from_std(listener).map_err(Error::listener)?;
    let mut readers: JoinSet<Option<(String, String, TcpStream)>> = JoinSet::new();
    let mut writers: JoinSet<()> = JoinSet::new();
    let mut ticks = tokio::time::interval(TICK);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = sleep_until(deadline) => {
                return Err(Error::TimedOut {
                    waited: start.elapsed(),
                    redirect_uri: redirect_uri.to_string(),
                });
            }
            _ = ticks.tick() => {
                if let Some(tick) = tick.as_mut() {
                    tick(deadline.saturating_duration_since(Instant::now()));
                }
            }
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) if readers.len() < MAX_CONNECTIONS => {
                    readers.spawn(read_request(stream));
                }
                // Too many at once: closed.
                Ok(_) => {}
                Err(_) => sleep(ACCEPT_BACKOFF).await,
            },
            Some(read) = readers.join_next(), if !readers.is_empty() => {
                let Ok(Some((method, target, mut stream))) = read else {
                    continue;
                };
                match session.handle(&method, &target) {
                    Step::Answer(page) => {
                        writers.spawn(async move { send(&mut stream, &page).await });
                    }
                    Step::Finish(page, result) => {
                        send(&mut stream, &page).await;
                        return result;
                    }
                }
            }
            Some(_) = writers.join_next(), if !writers.is_empty() => {}
        }
    }
}

/// Reads one request head; answers and drops connections that do not send a usable one.
async fn read_request(mut stream: TcpStream) -> Option<(String, String, TcpStream)> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + READ_TIMEOUT;
    loop {
        match within(
            deadline.saturating_duration_since(Instant::now()),
            stream.read(&mut buf),
        )
        .await
        {
            Ok(Ok(0) | Err(_)) | Err(_) => return None,
            Ok(Ok(n)) => head.extend_from_slice(&buf[..n]),
        }
        match parse_head(&head) {
            Head::Partial => {}
            Head::Request { method, target } => return Some((method, target, stream)),
            Head::Refuse(page) => {
                send(&mut stream, &page).await;
                return None;
            }
        }
    }
}

/// Writes the answer and closes the connection, within [`READ_TIMEOUT`] (errors ignored:
/// the browser may be gone).
async fn send(stream: &mut TcpStream, page: &Page) {
    let bytes = page.to_bytes();
    let _ = within(READ_TIMEOUT, async {
        stream.write_all(&bytes).await?;
        stream.flush().await?;
        stream.shutdown().await
    })
    .await;
}
