//! Mutual TLS ([RFC 8705](https://www.rfc-editor.org/rfc/rfc8705)) on ureq's rustls: the
//! client certificate the transport presents and the certificate authorities it trusts.
//!
//! The core reads the PEM files ([`ClientIdentity`], [`CaCertificates`]) and decides what a
//! client certificate means for the protocol (see [`latchkey::mtls`]); this module only hands
//! them to ureq's TLS configuration and tells the core which certificate the transport
//! presents ([`TransportSettings::client_certificate`](latchkey::drive::TransportSettings)),
//! so every token set obtained through this transport is bound to it and a token manager on
//! another transport refuses to send it.

use latchkey::{CaCertificates, ClientIdentity, ConfigError, Error};
use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig};

use crate::TransportBuilder;

impl TransportBuilder {
    /// Presents `identity` (a certificate chain and its key, read with
    /// [`ClientIdentity::from_pem`]) in every TLS handshake, for `tls_client_auth`,
    /// `self_signed_tls_client_auth` and certificate-bound tokens (RFC 8705). Token sets
    /// obtained through the transport are bound to its thumbprint. With a caller's
    /// [`agent`](Self::agent), each request carries this TLS configuration instead of the
    /// agent's own (and so bypasses the agent's connection pool).
    pub fn client_certificate(mut self, identity: ClientIdentity) -> Self {
        self.settings.client_certificate = Some(identity.thumbprint());
        self.identity = Some(identity);
        self
    }

    /// Trusts only these certificate authorities for the servers' certificates, instead of
    /// the Mozilla roots ureq ships: for a private PKI or a test CA.
    pub fn root_certificates(mut self, authorities: CaCertificates) -> Self {
        self.roots = Some(authorities);
        self
    }

    /// The TLS configuration for the identity and the roots, when either is set.
    ///
    /// # Errors
    ///
    /// [`ConfigError::ClientCertificate`] when ureq cannot read the key back (the key PEM is
    /// the core's own writing of a key it read, [`ClientIdentity::expose_key_pem`]).
    pub(crate) fn tls_config(&self) -> Result<Option<TlsConfig>, Error> {
        if self.identity.is_none() && self.roots.is_none() {
            return Ok(None);
        }
        let mut config = TlsConfig::builder();
        if let Some(identity) = &self.identity {
            let chain: Vec<Certificate<'static>> = identity
                .certificate_chain()
                .map(|der| Certificate::from_der(der).to_owned())
                .collect();
            // ureq names no key kind outside its PEM reader: the key goes through PEM.
            let key = PrivateKey::from_pem(identity.expose_key_pem().as_bytes())
                .map_err(|_| ConfigError::ClientCertificate("ureq cannot read the private key"))?;
            config = config.client_cert(Some(ClientCert::new_with_certs(&chain, key)));
        }
        if let Some(roots) = &self.roots {
            let roots: Vec<Certificate<'static>> = roots
                .iter()
                .map(|der| Certificate::from_der(der).to_owned())
                .collect();
            config = config.root_certs(RootCerts::new_with_certs(&roots));
        }
        Ok(Some(config.build()))
    }
}
