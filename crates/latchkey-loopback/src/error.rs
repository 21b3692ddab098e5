//! [`Error`]: why a loopback login did not give a callback.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Why a loopback login did not give a callback.
///
/// Messages are lower-case, have no trailing period and never contain a code, a state or a
/// token.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The redirect URI (or path) cannot be served by a loopback listener: not `http://`,
    /// not on a loopback host, with a fragment, or not a URL at all.
    #[error("not a loopback redirect URI: {0}")]
    RedirectUri(String),
    /// The address could not be bound (the port is taken, or not allowed).
    #[error("cannot listen on {addr} for the redirect: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the operating system said.
        #[source]
        source: Arc<io::Error>,
    },
    /// The listener failed while waiting.
    #[error("the redirect listener failed: {0}")]
    Listener(#[source] Arc<io::Error>),
    /// Nothing that belongs to this login arrived in time.
    #[error("timed out after {} s waiting for the redirect to {redirect_uri}", seconds(*.waited))]
    TimedOut {
        /// How long the wait lasted.
        waited: Duration,
        /// The redirect URI waited on.
        redirect_uri: String,
    },
    /// The URL given to [`Loopback::open`](crate::Loopback::open) is not an `http://` or
    /// `https://` URL (the reason, not the URL: it carries the state).
    #[error("not a web URL to open: {0}")]
    InvalidUrl(String),
    /// No browser could be started.
    #[error("cannot open the browser: {0}")]
    Browser(#[source] Arc<io::Error>),
    /// The login itself failed: the server's error in the redirect (such as `access_denied`,
    /// [`latchkey::Error::Server`]), or what the flow refused in the callback.
    #[error(transparent)]
    Authorization(#[from] latchkey::Error),
}

impl Error {
    pub(crate) fn listener(error: io::Error) -> Self {
        Self::Listener(Arc::new(error))
    }

    /// The server's error, when the redirect carried one.
    #[must_use]
    pub fn server_error(&self) -> Option<&latchkey::ServerError> {
        match self {
            Self::Authorization(latchkey::Error::Server(e)) => Some(e),
            _ => None,
        }
    }
}

/// A duration as seconds with at most one decimal (`2`, `2.5`).
fn seconds(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 10.0).round() / 10.0
}
