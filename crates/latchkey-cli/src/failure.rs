//! [`Failure`]: why a command did not succeed, its exit status and its one-line message.

/// Why a command did not succeed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The flags cannot work together (exit status 2).
    Usage(String),
    /// latchkey (core or adapter) reported an error.
    OAuth(latchkey::Error),
    /// Anything else: the listener timed out, stdin closed, stdout failed (exit status 1).
    Other(String),
    /// A failure and what the user can do about it (exit status of the failure).
    Hinted {
        /// The failure.
        failure: Box<Self>,
        /// What to try, shown after the message.
        hint: String,
    },
}

impl From<latchkey::Error> for Failure {
    fn from(error: latchkey::Error) -> Self {
        Self::OAuth(error)
    }
}

/// What ended a wait of the loopback listener (RFC 8252), or stopped it from binding.
impl From<latchkey_loopback::Error> for Failure {
    fn from(error: latchkey_loopback::Error) -> Self {
        match error {
            latchkey_loopback::Error::Authorization(error) => Self::OAuth(error),
            latchkey_loopback::Error::RedirectUri(why) => Self::Usage(format!(
                "the loopback listener cannot use this --redirect-uri ({why}); use --callback \
                 for other redirect URIs"
            )),
            latchkey_loopback::Error::TimedOut { redirect_uri, .. } => Self::Other(format!(
                "timed out waiting for the redirect to {redirect_uri} (--login-timeout)"
            )),
            other => Self::Other(other.to_string()),
        }
    }
}

impl Failure {
    /// The process exit status: 2 for usage and configuration errors, 1 otherwise.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Self::Hinted { failure, .. } => failure.exit_code(),
            Self::Usage(_) | Self::OAuth(latchkey::Error::Config(_)) => 2,
            Self::OAuth(_) | Self::Other(_) => 1,
        }
    }

    /// The message, unescaped: for the server's error, its code, description, HTTP status
    /// and error URI.
    pub(crate) fn message(&self) -> String {
        match self {
            Self::Hinted { failure, hint } => format!("{} ({hint})", failure.message()),
            Self::Usage(message) => format!("{message} (see --help)"),
            Self::Other(message) => message.clone(),
            Self::OAuth(latchkey::Error::Server(e)) => {
                let mut message = format!("the server answered {}", e.code.as_str());
                if let Some(description) = &e.description {
                    message.push_str(": ");
                    message.push_str(description);
                }
                match e.status {
                    Some(status) => message.push_str(&format!(" (HTTP {status})")),
                    None => message.push_str(" (in the redirect)"),
                }
                if let Some(uri) = &e.uri {
                    message.push_str(&format!(" [see {uri}]"));
                }
                message
            }
            Self::OAuth(error) => error.to_string(),
        }
    }

    /// This failure with a hint of what to try.
    pub(crate) fn with_hint(self, hint: String) -> Self {
        Self::Hinted {
            failure: Box::new(self),
            hint,
        }
    }
}
