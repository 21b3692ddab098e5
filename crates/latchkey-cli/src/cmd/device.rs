//! `latchkey device`: the device authorization grant (RFC 8628), with a live countdown on
//! stderr while it polls.

use std::io::{self, IsTerminal as _, Write as _};
use std::time::Duration;

use clap::Args;
use latchkey::{Error, ErrorCode};
use latchkey_ureq::DeviceWait;

use crate::context::options::Common;
use crate::context::{
    client, endpoint, joined_scopes, print_tokens, register_secrets, required, send, transport,
};
use crate::failure::Failure;
use crate::output::add_secret;
use crate::say;

/// `latchkey device`.
#[derive(Debug, Args)]
pub(crate) struct DeviceArgs {
    /// The flags every flow takes.
    #[command(flatten)]
    pub(crate) common: Common,
}

/// Runs `latchkey device`: asks for a user code, shows it, polls until the user approves,
/// prints the token set.
///
/// # Errors
///
/// [`Failure::Other`] when the device code expired before approval, and whatever else the
/// requests met.
pub(crate) fn run(args: &DeviceArgs) -> Result<(), Failure> {
    let common = &args.common;
    register_secrets(common);
    let client_id = required(common.client.client_id.as_deref(), "device", "--client-id")?;
    let client = client(common, client_id, None)?;
    let device_url = endpoint(
        client.device_authorization_endpoint(),
        "--device-url",
        common,
    )?;
    endpoint(client.token_endpoint(), "--token-url", common)?;
    let transport = transport(common);
    let mut request = client.device_authorization()?;
    let scope = joined_scopes(&common.request.scopes);
    if !scope.is_empty() {
        request = request.scope(scope);
    }
    for resource in &common.request.resources {
        request = request.resource(resource);
    }
    say!("latchkey: asking for a user code at {device_url}");
    let auth = send(&transport, request, common.verbose)?;
    add_secret(auth.device_code.expose_secret());
    say!(
        "latchkey: on a device with a browser, open {}",
        auth.verification_uri
    );
    say!("latchkey: and enter the code {}", auth.user_code);
    if let Some(complete) = &auth.verification_uri_complete {
        say!("latchkey: (or open {complete} directly)");
    }
    let poll = auth.poller(&client)?;
    say!(
        "latchkey: waiting up to {} s for approval, polling every {} s",
        auth.expires_in.as_secs(),
        poll.interval().as_secs()
    );
    let mut countdown = Countdown::new(poll.interval());
    let result = transport.poll_device_with(poll, |wait| countdown.show(wait));
    countdown.finish();
    let tokens = match result {
        Err(Error::Server(e)) if e.code == ErrorCode::ExpiredToken && e.status.is_none() => {
            return Err(Failure::Other(
                "the device code expired before the authorization was approved \
                 (expired_token); run `latchkey device` again"
                    .into(),
            ));
        }
        other => other?,
    };
    print_tokens(&tokens)
}

/// The live countdown while `device` waits: one rewritten line on a terminal; otherwise a
/// line only when the server slows polling down.
struct Countdown {
    /// Whether stderr is a terminal, where the line is rewritten in place.
    live: bool,
    /// Whether a countdown line is on the screen now.
    shown: bool,
    /// The polling interval last announced.
    interval: Duration,
}

impl Countdown {
    /// A countdown for polling every `interval`.
    fn new(interval: Duration) -> Self {
        Self {
            live: io::stderr().is_terminal(),
            shown: false,
            interval,
        }
    }

    /// Shows the time left before the device code expires and the polls so far; says so
    /// when the server slowed polling down.
    fn show(&mut self, wait: DeviceWait) {
        if wait.interval != self.interval {
            self.interval = wait.interval;
            self.finish();
            say!(
                "latchkey: the server asked to slow down; polling every {} s",
                wait.interval.as_secs()
            );
        }
        if self.live {
            let left = wait.expires_in.as_secs();
            // Only digits and our own words: nothing to redact or escape.
            let mut err = io::stderr().lock();
            let _ = write!(
                err,
                "\r\x1b[2Klatchkey: waiting for approval, {}:{:02} left ({} polls)",
                left / 60,
                left % 60,
                wait.polls
            );
            let _ = err.flush();
            self.shown = true;
        }
    }

    /// Clears the countdown line, if one is shown.
    fn finish(&mut self) {
        if self.shown {
            let mut err = io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            self.shown = false;
        }
    }
}
