//! `--cert`, `--key` and `--ca-file`: mutual TLS (RFC 8705) and the CAs to trust, read from
//! PEM files and handed to the transport.

use std::path::Path;

use latchkey::{CaCertificates, ClientIdentity};
use latchkey_ureq::TransportBuilder;

use super::options::NetworkArgs;
use crate::failure::Failure;

/// Sets the client certificate and the trusted CAs the flags name on `builder`.
///
/// # Errors
///
/// [`Failure::Usage`] when a file cannot be read or holds no usable PEM (the message names
/// the flag and the file, never the key).
pub(super) fn configure(
    mut builder: TransportBuilder,
    network: &NetworkArgs,
) -> Result<TransportBuilder, Failure> {
    if let (Some(cert), Some(key)) = (&network.cert, &network.key) {
        let identity = ClientIdentity::from_pem(&read("--cert", cert)?, &read("--key", key)?)
            .map_err(|e| {
                Failure::Usage(format!(
                    "--cert {} --key {}: {e}",
                    cert.display(),
                    key.display()
                ))
            })?;
        builder = builder.client_certificate(identity);
    }
    if let Some(file) = &network.ca_file {
        let authorities = CaCertificates::from_pem(&read("--ca-file", file)?)
            .map_err(|e| Failure::Usage(format!("--ca-file {}: {e}", file.display())))?;
        builder = builder.root_certificates(authorities);
    }
    Ok(builder)
}

/// The contents of `path`, or a usage failure naming `flag`.
fn read(flag: &str, path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| Failure::Usage(format!("{flag} {}: {e}", path.display())))
}
