//! `latchkey device`: the device authorization grant (RFC 8628), with a live countdown on
//! stderr while it polls (on a terminal; see [`progress`](crate::progress)).

use std::time::Duration;

use clap::Args;
use latchkey::DeviceWait;
use latchkey::{Error, ErrorCode};

use crate::context::options::{
    ClientIdArg, IssuerArgs, NetworkArgs, OutputArgs, ParamArgs, ScopeArgs, SecretArgs, TokenUrlArg,
};
use crate::context::{Common, client, endpoint, print_tokens, wire};
use crate::failure::Failure;
use crate::output::add_secret;
use crate::progress::Wait;
use crate::say;

/// `latchkey device`.
#[derive(Debug, Args)]
pub(crate) struct DeviceArgs {
    #[command(flatten)]
    pub(crate) issuer: IssuerArgs,
    /// Device authorization endpoint [default: from --issuer].
    #[arg(long, value_name = "URL", help_heading = "Server")]
    pub(crate) device_url: Option<String>,
    #[command(flatten)]
    pub(crate) token_url: TokenUrlArg,
    #[command(flatten)]
    pub(crate) client_id: ClientIdArg,
    #[command(flatten)]
    pub(crate) secret: SecretArgs,
    #[command(flatten)]
    pub(crate) scope: ScopeArgs,
    #[command(flatten)]
    pub(crate) params: ParamArgs,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
    #[command(flatten)]
    pub(crate) network: NetworkArgs,
}

/// Runs `latchkey device`: asks for a user code, shows it, polls until the user approves,
/// prints the token set.
///
/// # Errors
///
/// [`Failure::Other`] when the device code expired before approval, and whatever else the
/// requests met.
pub(crate) fn run(args: &DeviceArgs) -> Result<(), Failure> {
    let mut common = Common::new(&args.issuer, &args.network, &args.client_id.client_id);
    common.endpoints.device_url = args.device_url.clone();
    common.endpoints.token_url = args.token_url.token_url.clone();
    common.secret = args.secret.clone();
    common.scope = args.scope.clone();
    common.token_params = args.params.params.clone();
    common.register_secrets();
    let client = client(&common, None)?;
    let device_url = endpoint(
        client.device_authorization_endpoint(),
        "--device-url",
        &common,
    )?;
    endpoint(client.token_endpoint(), "--token-url", &common)?;
    let wire = wire(&common)?;
    let mut request = client.device_authorization()?;
    let scope = common.scope();
    if !scope.is_empty() {
        request = request.scope(scope);
    }
    for resource in &common.scope.resources {
        request = request.resource(resource);
    }
    say!("latchkey: asking for a user code at {device_url}");
    let auth = wire.send(request)?;
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
    let mut countdown = Countdown::new(poll.interval(), auth.expires_in);
    let result = wire.poll_device(poll, |wait| countdown.show(wait));
    drop(countdown);
    let tokens = match result {
        Err(Failure::OAuth(Error::Server(e)))
            if e.code == ErrorCode::ExpiredToken && e.status.is_none() =>
        {
            return Err(Failure::Other(
                "the device code expired before the authorization was approved \
                 (expired_token); run `latchkey device` again"
                    .into(),
            ));
        }
        other => other?,
    };
    print_tokens(&tokens, args.output.output)
}

/// The live countdown while `device` waits: one redrawn line on a terminal; otherwise a
/// line only when the server slows polling down.
struct Countdown {
    wait: Wait,
    /// The polling interval last announced.
    interval: Duration,
}

impl Countdown {
    /// A countdown for polling every `interval` until the device code expires in `expires_in`.
    fn new(interval: Duration, expires_in: Duration) -> Self {
        Self {
            wait: Wait::new("waiting for approval", expires_in),
            interval,
        }
    }

    /// Shows the time left before the device code expires and the polls so far; says so
    /// when the server slowed polling down.
    fn show(&mut self, wait: DeviceWait) {
        if wait.interval != self.interval {
            self.interval = wait.interval;
            self.wait.say(&format!(
                "latchkey: the server asked to slow down; polling every {} s",
                wait.interval.as_secs()
            ));
        }
        self.wait
            .show(wait.expires_in, &format!(" ({} polls)", wait.polls));
    }
}
