//! What went wrong, as a kind a caller can match on: the source of every [`StoreError`] this
//! crate returns.

use std::fmt;

use latchkey::StoreError;

/// The kind of a [`RedisStore`](crate::RedisStore) failure. Every [`StoreError`] this crate
/// returns has a [`RedisStoreError`] as its source; [`ErrorKind::of`] reads it back.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The builder's settings are not usable: a URL that is not `redis://host…`, an empty
    /// prefix, a zero duration.
    Config,
    /// Redis could not be reached or did not answer in time: refused, dropped or timed-out
    /// connections, or a server still loading its data after a restart (`LOADING`) or
    /// failing over. Worth trying again later: such a [`StoreError`] is
    /// [transient](StoreError::is_transient), and a token manager saves again through it.
    Unavailable,
    /// Redis answered with an error (a wrong password, a key of another type, a script that
    /// failed).
    Redis,
    /// The TLS handshake of a `rediss://` connection failed: a certificate that the trusted
    /// roots do not vouch for, or that names another host. Not transient.
    Tls,
    /// Another holder kept the renewal lease for longer than the caller would wait.
    LeaseBusy,
    /// A save under a lease was refused: the lease was lost to another holder, who holds it
    /// now or has saved since (fencing).
    LeaseLost,
    /// An encrypted value could not be decrypted: the wrong key, or a value that was changed.
    Decrypt,
    /// The operating system's random generator failed (for a nonce or a lease value).
    Random,
    /// The stored value is not what this store expects: not a token set, an unencrypted value
    /// where the store has a key, or an encrypted one where it has none.
    Format,
}

impl ErrorKind {
    /// The kind of `error` when this crate made it, else `None`.
    #[must_use]
    pub fn of(error: &StoreError) -> Option<Self> {
        std::error::Error::source(error)?
            .downcast_ref::<RedisStoreError>()
            .map(RedisStoreError::kind)
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Config => "invalid configuration",
            Self::Unavailable => "Redis is unavailable",
            Self::Redis => "Redis returned an error",
            Self::Tls => "the TLS handshake with Redis failed",
            Self::LeaseBusy => "the lease is held by another holder",
            Self::LeaseLost => "the lease was lost to another holder",
            Self::Decrypt => "cannot decrypt: wrong key or tampered value",
            Self::Random => "the operating system's random generator failed",
            Self::Format => "unexpected stored value",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// The source of every [`StoreError`] of this crate: its [`ErrorKind`], and the `redis`
/// crate's error underneath when there is one (as this error's own source).
///
/// Its text is the kind's description; it never contains a token, a password or the key.
#[derive(Clone, Debug)]
pub struct RedisStoreError {
    kind: ErrorKind,
    source: Option<redis::RedisError>,
}

impl RedisStoreError {
    /// What went wrong.
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The `redis` crate's error underneath, if any.
    #[must_use]
    pub fn redis_error(&self) -> Option<&redis::RedisError> {
        self.source.as_ref()
    }
}

impl fmt::Display for RedisStoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.describe())
    }
}

impl std::error::Error for RedisStoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// A [`StoreError`] of `kind` saying `message` (which must hold no secret).
pub(crate) fn store_error(kind: ErrorKind, message: impl Into<String>) -> StoreError {
    StoreError::new(message).with_source(RedisStoreError { kind, source: None })
}

/// A [`StoreError`] for a failed Redis call while doing `what`, classified by the `redis`
/// crate's error: [`ErrorKind::Unavailable`] for the connection, [`ErrorKind::Redis`] for an
/// error Redis itself answered.
pub(crate) fn redis_failure(what: &str, at: &str, error: redis::RedisError) -> StoreError {
    let (kind, how) = if let Some(refused) = tls_failure(&error) {
        (ErrorKind::Tls, format!("TLS: {refused}"))
    } else if error.is_timeout() {
        (ErrorKind::Unavailable, "timed out".to_owned())
    } else if error.is_connection_refusal() {
        (ErrorKind::Unavailable, "connection refused".to_owned())
    } else if error.is_connection_dropped() {
        (ErrorKind::Unavailable, "connection dropped".to_owned())
    } else if error.is_io_error() {
        (ErrorKind::Unavailable, "connection failed".to_owned())
    } else if matches!(error.retry_method(), redis::RetryMethod::WaitAndRetry) {
        // LOADING (a restarted server reading its data back), TRYAGAIN, MASTERDOWN...
        (ErrorKind::Unavailable, format!("{:?}", error.kind()))
    } else {
        // The kind's name only (`AuthenticationFailed`, `Server(ResponseError)`): the
        // detail stays in the source.
        (ErrorKind::Redis, format!("{:?}", error.kind()))
    };
    let failure = StoreError::new(format!("{what} at {at} ({how})")).with_source(RedisStoreError {
        kind,
        source: Some(error),
    });
    // A token manager saves again, with backoff, through a passing outage.
    if kind == ErrorKind::Unavailable {
        failure.transient()
    } else {
        failure
    }
}

/// The rustls error inside a failed connection, if TLS refused it.
#[cfg(feature = "tls")]
fn tls_failure(error: &redis::RedisError) -> Option<&rustls::Error> {
    type Shared = std::sync::Arc<dyn std::error::Error + Send + Sync>;
    // The redis crate keeps the I/O error behind an `Arc` (its source is that `Arc`).
    let source = std::error::Error::source(error)?;
    let io = match source.downcast_ref::<Shared>() {
        Some(shared) => shared.downcast_ref::<std::io::Error>()?,
        None => source.downcast_ref::<std::io::Error>()?,
    };
    io.get_ref()?.downcast_ref::<rustls::Error>()
}

#[cfg(not(feature = "tls"))]
fn tls_failure(_: &redis::RedisError) -> Option<std::convert::Infallible> {
    None
}
