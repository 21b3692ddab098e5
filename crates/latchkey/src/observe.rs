//! What latchkey tells [`tracing`](https://docs.rs/tracing) with the `tracing` feature: a span
//! per network step (`latchkey.http`: the flow, the endpoint's host and path, the attempt,
//! the status, the retry wait, the outcome) and an event per decision (retry, give up,
//! renewal, lease taken or waited on). Without the feature every call here is empty and
//! compiles away.
//!
//! Nothing secret is ever recorded: no URL query (it can hold a code or a token), no header
//! value, no body, no parameter. Only names, hosts, paths, numbers, statuses, the flow's type
//! name, and error messages, which latchkey's errors keep free of secrets.

use std::time::Duration;

use crate::drive::http::Request;

/// The span of one network step, and the events of its decisions. Made by the send driver
/// (and the device poller) for each exchange; without the `tracing` feature, nothing.
#[derive(Debug, Default)]
pub(crate) struct Step {
    #[cfg(feature = "tracing")]
    span: Option<tracing::Span>,
}

/// The last segment of a type name: `Refresh` for `latchkey::flow::refresh::Refresh`.
#[cfg(feature = "tracing")]
fn short_name<T>() -> &'static str {
    let name = std::any::type_name::<T>();
    let name = name.split('<').next().unwrap_or(name);
    name.rsplit("::").next().unwrap_or(name)
}

impl Step {
    /// A step for the exchange type `E` (its name is the span's `flow`).
    // `E` only names the flow, and only with the `tracing` feature.
    #[cfg_attr(not(feature = "tracing"), allow(clippy::extra_unused_type_parameters))]
    pub(crate) fn new<E>() -> Self {
        #[cfg(feature = "tracing")]
        {
            let span = tracing::info_span!(
                "latchkey.http",
                flow = short_name::<E>(),
                host = tracing::field::Empty,
                path = tracing::field::Empty,
                attempt = tracing::field::Empty,
                status = tracing::field::Empty,
                retry_wait_ms = tracing::field::Empty,
                outcome = tracing::field::Empty,
            );
            Self { span: Some(span) }
        }
        #[cfg(not(feature = "tracing"))]
        Self::default()
    }

    /// Attempt `attempt` sends `request`: its host and path (never its query), and an event.
    pub(crate) fn sending(&self, request: &Request, attempt: u32) {
        #[cfg(feature = "tracing")]
        if let Some(span) = &self.span {
            let host = crate::url::host_port(&request.url);
            span.record("host", host.as_str());
            span.record("path", request.url.path());
            span.record("attempt", attempt);
            span.in_scope(|| {
                tracing::debug!(method = request.method.as_str(), "sending");
            });
        }
        #[cfg(not(feature = "tracing"))]
        let _ = (request, attempt);
    }

    /// The answer needs `request` answered first (the issuer's key set, fetched again for a
    /// new `kid` or because the cached one is stale).
    pub(crate) fn supplement(&self, request: &Request) {
        #[cfg(feature = "tracing")]
        if let Some(span) = &self.span {
            let host = crate::url::host_port(&request.url);
            span.in_scope(|| {
                tracing::info!(
                    supplement_host = host.as_str(),
                    supplement_path = request.url.path(),
                    "fetching what the answer needs first (the key set)"
                );
            });
        }
        #[cfg(not(feature = "tracing"))]
        let _ = request;
    }

    /// An answer with `status` arrived.
    pub(crate) fn answered(&self, status: u16) {
        #[cfg(feature = "tracing")]
        if let Some(span) = &self.span {
            span.record("status", status);
            span.in_scope(|| tracing::debug!(status, "answered"));
        }
        #[cfg(not(feature = "tracing"))]
        let _ = status;
    }

    /// The driver waits `wait` and tries again, because of `why`.
    pub(crate) fn retry(&self, wait: Duration, why: &dyn std::fmt::Display) {
        #[cfg(feature = "tracing")]
        if let Some(span) = &self.span {
            let wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
            span.record("retry_wait_ms", wait_ms);
            span.in_scope(|| tracing::info!(retry_wait_ms = wait_ms, reason = %why, "retry"));
        }
        #[cfg(not(feature = "tracing"))]
        let _ = (wait, why);
    }

    /// The step ended: `Ok` with an answer read, or the error (whose message holds no secret).
    pub(crate) fn finished(&self, outcome: Result<(), &dyn std::fmt::Display>) {
        #[cfg(feature = "tracing")]
        if let Some(span) = &self.span {
            match outcome {
                Ok(()) => {
                    span.record("outcome", "ok");
                    span.in_scope(|| tracing::debug!("done"));
                }
                Err(error) => {
                    span.record("outcome", "error");
                    span.in_scope(|| tracing::warn!(error = %error, "gave up"));
                }
            }
        }
        #[cfg(not(feature = "tracing"))]
        let _ = outcome;
    }
}

/// A token manager's decision about a renewal (`what`: "lease taken", "renewed", ...), with a
/// detail that holds no secret (a duration, an error message).
pub(crate) fn renewal(what: &'static str, detail: &dyn std::fmt::Display) {
    #[cfg(feature = "tracing")]
    tracing::info!(target: "latchkey::renewal", detail = %detail, "{what}");
    #[cfg(not(feature = "tracing"))]
    let _ = (what, detail);
}
