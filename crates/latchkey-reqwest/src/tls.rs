//! Mutual TLS ([RFC 8705](https://www.rfc-editor.org/rfc/rfc8705)) on reqwest's rustls: the
//! client certificate the transport presents and the certificate authorities it trusts.
//!
//! The core reads the PEM files ([`ClientIdentity`], [`CaCertificates`]) and decides what a
//! client certificate means for the protocol (see [`latchkey::mtls`]); this module only hands
//! them to reqwest's client builder and tells the core which certificate the transport
//! presents ([`TransportSettings::client_certificate`](latchkey::drive::TransportSettings)),
//! so every token set obtained through this transport is bound to it and a token manager on
//! another transport refuses to send it.

use latchkey::{CaCertificates, ClientIdentity, ConfigError, Error};

use crate::TransportBuilder;

impl TransportBuilder {
    /// Presents `identity` (a certificate chain and its key, read with
    /// [`ClientIdentity::from_pem`]) in every TLS handshake, for `tls_client_auth`,
    /// `self_signed_tls_client_auth` and certificate-bound tokens (RFC 8705). Token sets
    /// obtained through the transport are bound to its thumbprint. Also set on a caller's
    /// [`client_builder`](Self::client_builder).
    pub fn client_certificate(mut self, identity: ClientIdentity) -> Self {
        self.settings.client_certificate = Some(identity.thumbprint());
        self.identity = Some(identity);
        self
    }

    /// Trusts only these certificate authorities for the servers' certificates, instead of
    /// the platform's roots: for a private PKI or a test CA.
    pub fn root_certificates(mut self, authorities: CaCertificates) -> Self {
        self.roots = Some(authorities);
        self
    }
}

/// Sets the identity and the roots on `builder`.
///
/// # Errors
///
/// [`ConfigError::ClientCertificate`] when reqwest refuses the identity or a root (a key
/// rustls cannot use); the message never holds the key.
pub(crate) fn configure(
    mut builder: reqwest::ClientBuilder,
    identity: Option<&ClientIdentity>,
    roots: Option<&CaCertificates>,
) -> Result<reqwest::ClientBuilder, Error> {
    if let Some(identity) = identity {
        let identity = reqwest::Identity::from_pem(identity.expose_pem().as_bytes())
            .map_err(|_| ConfigError::ClientCertificate("reqwest cannot use the identity"))?;
        builder = builder.identity(identity);
    }
    if let Some(roots) = roots {
        let roots = roots
            .iter()
            .map(reqwest::Certificate::from_der)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| ConfigError::ClientCertificate("reqwest cannot use a CA certificate"))?;
        builder = builder.tls_certs_only(roots);
    }
    Ok(builder)
}
