//! `latchkey`: OAuth 2.0 tokens from any provider with flags alone.
//!
//! ```text
//! latchkey authorize | implicit | client-credentials | refresh | userinfo | demo  [flags]
//! latchkey discover | device | revoke | introspect | token-exchange  [flags]
//! ```
//!
//! The result goes to stdout as one JSON object; progress and the one-line failure message
//! go to stderr, secrets masked and server text escaped ([`output`]). Exit status: 0 on
//! success, 1 when the flow failed, 2 for a usage error.
//!
//! Modules: [`args`] (the clap interface), [`commands`] (one function per subcommand),
//! [`listener`] (the RFC 8252 loopback redirect listener), [`output`] (JSON, redaction,
//! escaping), [`trace`] (recording what was sent), [`protocol`] (discovery, device grant,
//! revocation, introspection, token exchange, PAR) and [`demo`].

#![forbid(unsafe_code)]

mod args;
mod commands;
mod demo;
mod listener;
mod output;
mod protocol;
mod trace;

use std::process::ExitCode;

use clap::Parser as _;

/// Why a command did not succeed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The flags cannot work together (exit status 2).
    Usage(String),
    /// latchkey (core or adapter) reported an error.
    OAuth(latchkey::Error),
    /// Anything else: the listener timed out, stdin closed, stdout failed (exit status 1).
    Other(String),
}

impl From<latchkey::Error> for Failure {
    fn from(error: latchkey::Error) -> Self {
        Self::OAuth(error)
    }
}

impl Failure {
    /// The process exit status: 2 for usage and configuration errors, 1 otherwise.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) | Self::OAuth(latchkey::Error::Config(_)) => 2,
            Self::OAuth(_) | Self::Other(_) => 1,
        }
    }

    /// The message, unescaped: for the server's error, its code, description, HTTP status
    /// and error URI.
    pub(crate) fn message(&self) -> String {
        match self {
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

    /// The message for the browser page (secrets masked; the page escapes HTML).
    pub(crate) fn page_message(&self) -> String {
        output::redact(&self.message())
    }
}

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            say!("latchkey: error: {}", failure.message());
            ExitCode::from(failure.exit_code())
        }
    }
}
