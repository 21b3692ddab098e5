//! Response bodies: whole, streamed oversized, and dribbled.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Frame, SizeHint};
use tokio::time::Sleep;

/// The body type of every response.
pub(crate) type ResBody = BoxBody<Bytes, Infallible>;

/// A body sent in one piece.
pub(crate) fn full(bytes: impl Into<Bytes>) -> ResBody {
    Full::new(bytes.into()).boxed()
}

const CHUNK: usize = 64 * 1024;
static FILLER: [u8; CHUNK] = [b'a'; CHUNK];
static SPACES: [u8; 32] = [b' '; 32];
const PREFIX: &[u8] = br#"{"access_token":""#;
const SUFFIX: &[u8] = br#""}"#;

/// `{"access_token":"aaaa…"}` of an exact length, produced chunk by chunk.
pub(crate) struct OversizedBody {
    total: u64,
    sent: u64,
}

impl OversizedBody {
    pub(crate) fn new(total: u64) -> Self {
        Self { total, sent: 0 }
    }

    fn next_chunk(&self) -> Bytes {
        let remaining = self.total - self.sent;
        let framing = (PREFIX.len() + SUFFIX.len()) as u64;
        if self.total < framing {
            // Too short to look like JSON: whitespace.
            let n = remaining.min(SPACES.len() as u64) as usize;
            return Bytes::from_static(&SPACES[..n]);
        }
        let filler_end = self.total - SUFFIX.len() as u64;
        if self.sent < PREFIX.len() as u64 {
            Bytes::from_static(&PREFIX[self.sent as usize..])
        } else if self.sent < filler_end {
            let n = (filler_end - self.sent).min(CHUNK as u64) as usize;
            Bytes::from_static(&FILLER[..n])
        } else {
            Bytes::from_static(&SUFFIX[(self.sent - filler_end) as usize..])
        }
    }
}

impl Body for OversizedBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        if this.sent >= this.total {
            return Poll::Ready(None);
        }
        let chunk = this.next_chunk();
        this.sent += chunk.len() as u64;
        Poll::Ready(Some(Ok(Frame::data(chunk))))
    }

    fn is_end_stream(&self) -> bool {
        self.sent >= self.total
    }
}

/// A known body sent a few bytes at a time with a pause before each piece.
pub(crate) struct DribbleBody {
    data: Bytes,
    chunk_size: usize,
    interval: Duration,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl DribbleBody {
    pub(crate) fn new(data: Bytes, chunk_size: usize, interval: Duration) -> Self {
        Self {
            data,
            chunk_size: chunk_size.max(1),
            interval,
            sleep: None,
        }
    }
}

impl Body for DribbleBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        if this.data.is_empty() {
            return Poll::Ready(None);
        }
        let interval = this.interval;
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(interval)));
        if sleep.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        this.sleep = None;
        let n = this.chunk_size.min(this.data.len());
        Poll::Ready(Some(Ok(Frame::data(this.data.split_to(n)))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.data.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(total: u64) -> Vec<u8> {
        let mut body = OversizedBody::new(total);
        let mut out = Vec::new();
        while body.sent < body.total {
            let chunk = body.next_chunk();
            assert!(!chunk.is_empty());
            assert!(chunk.len() <= CHUNK);
            body.sent += chunk.len() as u64;
            out.extend_from_slice(&chunk);
        }
        out
    }

    #[test]
    fn oversized_is_exact_and_json_shaped() {
        for total in [0, 1, 18, 19, 20, 1000, CHUNK as u64 * 3 + 7] {
            let body = collect(total);
            assert_eq!(body.len() as u64, total);
            if total >= 19 {
                let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
                assert_eq!(
                    value["access_token"].as_str().unwrap().len() as u64,
                    total - 19
                );
            }
        }
    }
}
