//! What passes through the router before any endpoint sees it: per-path counts, the record
//! of requests, and the faults armed per path with the answers that replace normal ones.

use std::collections::{HashMap, VecDeque};

use serde_json::json;

use crate::fault::Fault;
use crate::record::RecordedRequest;
use crate::shared::reply::Reply;

/// Counts, records and armed faults. Guarded by its own mutex, apart from the OAuth state.
#[derive(Debug, Default)]
pub(crate) struct Traffic {
    pub(crate) faults: HashMap<String, VecDeque<(Fault, usize)>>,
    pub(crate) requests: Vec<RecordedRequest>,
    pub(crate) counts: HashMap<String, usize>,
    pub(crate) recording: bool,
}

impl Traffic {
    /// Counts a request and, when recording, keeps it.
    pub(crate) fn note(&mut self, request: RecordedRequest) {
        *self.counts.entry(request.path.clone()).or_default() += 1;
        if self.recording {
            self.requests.push(request);
        }
    }

    /// Arms `fault` for the next `times` requests to `path`, after those already armed.
    pub(crate) fn arm(&mut self, path: &str, fault: Fault, times: usize) {
        if times > 0 {
            self.faults
                .entry(path.to_owned())
                .or_default()
                .push_back((fault, times));
        }
    }

    /// Takes one use of the first fault armed for `path`.
    pub(crate) fn take_fault(&mut self, path: &str) -> Option<Fault> {
        let queue = self.faults.get_mut(path)?;
        let (fault, remaining) = queue.front_mut()?;
        let fault = fault.clone();
        *remaining -= 1;
        if *remaining == 0 {
            queue.pop_front();
        }
        if queue.is_empty() {
            self.faults.remove(path);
        }
        Some(fault)
    }
}

/// The answer a fault puts in place of the normal one; `None` for the faults that only
/// change timing or the connection.
pub(crate) fn canned_answer(fault: &Fault) -> Option<Reply> {
    let reply = match fault {
        Fault::Status {
            status,
            retry_after,
        } => {
            let error = if *status == 429 {
                "too_many_requests"
            } else {
                "temporarily_unavailable"
            };
            let body = json!({
                "error": error,
                "error_description": format!("injected HTTP {status}"),
            });
            let mut reply = Reply::json(*status, &body);
            if let Some(retry_after) = retry_after {
                reply.headers.push(("retry-after", retry_after.clone()));
            }
            reply
        }
        Fault::Redirect { status, location } => Reply {
            status: *status,
            headers: vec![("location", location.clone())],
            body: Vec::new(),
        },
        Fault::HtmlError { status } => {
            let reason = hyper::StatusCode::from_u16(*status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("Error");
            Reply::html(
                *status,
                &format!("{status} {reason}"),
                "injected error page",
            )
        }
        Fault::ErrorWith200 { error } => Reply::json(
            200,
            &json!({ "error": error, "error_description": "injected error with HTTP 200" }),
        ),
        Fault::Body {
            status,
            content_type,
            body,
        } => Reply::raw(*status, content_type, body.clone()),
        Fault::Delay(_)
        | Fault::SlowBody
        | Fault::Dribble { .. }
        | Fault::Oversized { .. }
        | Fault::CloseConnection => return None,
    };
    Some(reply)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_used_in_order_and_count_down() {
        let mut traffic = Traffic::default();
        traffic.arm("/token", Fault::status(503), 2);
        traffic.arm("/token", Fault::CloseConnection, 1);
        traffic.arm("/token", Fault::status(500), 0);
        assert_eq!(traffic.take_fault("/token"), Some(Fault::status(503)));
        assert_eq!(traffic.take_fault("/userinfo"), None);
        assert_eq!(traffic.take_fault("/token"), Some(Fault::status(503)));
        assert_eq!(traffic.take_fault("/token"), Some(Fault::CloseConnection));
        assert_eq!(traffic.take_fault("/token"), None);
        assert!(traffic.faults.is_empty());
    }
}
