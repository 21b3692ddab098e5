//! Mutual TLS ([RFC 8705](https://www.rfc-editor.org/rfc/rfc8705)): the client's
//! certificate and key, the certificate authorities a transport trusts, and certificate
//! thumbprints.
//!
//! The core opens no connection: it reads the PEM files' contents into checked values that
//! an adapter hands to its TLS library (`Transport::builder().client_certificate(identity)`
//! in `latchkey-ureq` and `latchkey-reqwest`), and it decides what a client certificate
//! means for the protocol:
//!
//! - **Client authentication.** [`ClientAuth::TlsClientAuth`](crate::ClientAuth::TlsClientAuth)
//!   and [`ClientAuth::SelfSignedTlsClientAuth`](crate::ClientAuth::SelfSignedTlsClientAuth)
//!   send `client_id` and no secret: the TLS handshake proves who the client is (§2).
//! - **Endpoint aliases.** When the client uses mutual TLS
//!   ([`ClientBuilder::mutual_tls`](crate::ClientBuilder::mutual_tls), on by itself with
//!   those two methods), the `mtls_endpoint_aliases` of the server metadata replace the
//!   token, revocation, introspection, PAR, device authorization and userinfo endpoints
//!   (§5).
//! - **Certificate-bound tokens** (§3). A token response does not say whether the server
//!   bound the access token to the certificate, so latchkey assumes it did: every token set
//!   read from a response that arrived over a connection presenting a client certificate
//!   records that certificate's SHA-256 thumbprint
//!   ([`TokenSet::certificate_binding`](crate::TokenSet::certificate_binding), kept by the
//!   token stores). A token manager hands out and sends such a token only when its own
//!   transport presents the same certificate; otherwise it refuses with
//!   [`ConfigError::CertificateBound`] before anything
//!   is sent. A token obtained without a client certificate is bound to nothing and goes
//!   over any transport. Introspection shows the server's own view
//!   ([`Introspection::certificate_thumbprint`](crate::Introspection::certificate_thumbprint)).

use std::fmt;

use rustls_pki_types::pem::{self, PemObject, SectionKind};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::error::{ConfigError, Error};
use crate::wire::encode;

/// The SHA-256 thumbprint of a DER certificate: the `x5t#S256` of a certificate-bound token's
/// `cnf` claim (RFC 8705 §3.1). Not a secret: the certificate is sent in clear in every
/// handshake. Displayed and serialized as base64url without padding.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CertificateThumbprint([u8; 32]);

impl CertificateThumbprint {
    /// The thumbprint of a certificate in DER.
    #[must_use]
    pub fn of_der(der: &[u8]) -> Self {
        Self(Sha256::digest(der).into())
    }

    /// Reads an `x5t#S256` value (base64url, no padding); `None` if it is not 32 bytes so
    /// written.
    #[must_use]
    pub fn parse(x5t_s256: &str) -> Option<Self> {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(x5t_s256)
            .ok()?;
        bytes.try_into().ok().map(Self)
    }

    /// The 32 bytes of the digest.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for CertificateThumbprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&encode::base64url(&self.0))
    }
}

impl fmt::Debug for CertificateThumbprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CertificateThumbprint({self})")
    }
}

impl Serialize for CertificateThumbprint {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CertificateThumbprint {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text)
            .ok_or_else(|| serde::de::Error::custom("not a base64url SHA-256 thumbprint"))
    }
}

/// The encoding of a client's private key.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// PKCS#8 (`-----BEGIN PRIVATE KEY-----`): RSA, ECDSA or Ed25519.
    Pkcs8,
    /// PKCS#1 (`-----BEGIN RSA PRIVATE KEY-----`).
    Pkcs1,
    /// SEC1 (`-----BEGIN EC PRIVATE KEY-----`).
    Sec1,
}

/// A client's certificate chain and private key for mutual TLS, read from PEM. Its `Debug`
/// shows the thumbprint and never the key.
#[derive(Clone)]
pub struct ClientIdentity {
    chain: Vec<Vec<u8>>,
    key_kind: KeyKind,
    key_der: Vec<u8>,
    thumbprint: CertificateThumbprint,
}

impl ClientIdentity {
    /// Reads the certificate chain (the client's certificate first, then any intermediates)
    /// from `certificate_pem` and the unencrypted private key (PKCS#8, SEC1 or RSA PKCS#1)
    /// from `key_pem`. Other PEM sections are skipped. Whether the key suits the certificate
    /// is checked by the TLS library when it builds its configuration.
    ///
    /// # Errors
    ///
    /// [`ConfigError::ClientCertificate`] for malformed PEM, no certificate, no key or more
    /// than one key; the message never holds the key.
    pub fn from_pem(certificate_pem: &[u8], key_pem: &[u8]) -> Result<Self, Error> {
        let chain = certificates(certificate_pem, "no CERTIFICATE in the certificate PEM")?;
        let mut keys = Vec::new();
        for section in <(SectionKind, Vec<u8>)>::pem_slice_iter(key_pem) {
            let (kind, der) = section.map_err(|_| bad("the key PEM is malformed"))?;
            let kind = match kind {
                SectionKind::PrivateKey => KeyKind::Pkcs8,
                SectionKind::RsaPrivateKey => KeyKind::Pkcs1,
                SectionKind::EcPrivateKey => KeyKind::Sec1,
                _ => continue,
            };
            keys.push((kind, der));
        }
        let (key_kind, key_der) = match keys.len() {
            1 => keys.remove(0),
            0 => {
                return Err(bad(
                    "no unencrypted private key (PKCS#8, SEC1 or RSA) in the key PEM",
                ));
            }
            _ => return Err(bad("more than one private key in the key PEM")),
        };
        let thumbprint = CertificateThumbprint::of_der(&chain[0]);
        Ok(Self {
            chain,
            key_kind,
            key_der,
            thumbprint,
        })
    }

    /// The thumbprint of the client's certificate (the first of the chain).
    #[must_use]
    pub fn thumbprint(&self) -> CertificateThumbprint {
        self.thumbprint
    }

    /// The certificate chain in DER, the client's certificate first.
    pub fn certificate_chain(&self) -> impl Iterator<Item = &[u8]> {
        self.chain.iter().map(Vec::as_slice)
    }

    /// The private key's encoding and its DER: a secret, for the adapter's TLS library only.
    #[must_use]
    pub fn expose_private_key(&self) -> (KeyKind, &[u8]) {
        (self.key_kind, &self.key_der)
    }

    /// The private key alone as PEM, written again from what was read (no other section):
    /// a secret, for the adapter's TLS library only.
    #[must_use]
    pub fn expose_key_pem(&self) -> String {
        let label = match self.key_kind {
            KeyKind::Pkcs8 => "PRIVATE KEY",
            KeyKind::Pkcs1 => "RSA PRIVATE KEY",
            KeyKind::Sec1 => "EC PRIVATE KEY",
        };
        pem_section(label, &self.key_der)
    }

    /// The certificate chain, then the private key, as PEM written again from what was read
    /// (no other section), as TLS libraries that read an identity from one PEM buffer want
    /// it: a secret, for the adapter only.
    #[must_use]
    pub fn expose_pem(&self) -> String {
        let mut pem: String = self
            .chain
            .iter()
            .map(|der| pem_section("CERTIFICATE", der))
            .collect();
        pem.push_str(&self.expose_key_pem());
        pem
    }
}

impl fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientIdentity")
            .field("thumbprint", &self.thumbprint)
            .field("chain_len", &self.chain.len())
            .field("key", &format_args!("<redacted {:?}>", self.key_kind))
            .finish()
    }
}

/// Certificate authorities a transport trusts instead of its default roots: for a private
/// PKI or a test CA.
#[derive(Clone, PartialEq, Eq)]
pub struct CaCertificates(Vec<Vec<u8>>);

impl CaCertificates {
    /// Reads every `CERTIFICATE` of `pem`.
    ///
    /// # Errors
    ///
    /// [`ConfigError::ClientCertificate`] for malformed PEM or no certificate.
    pub fn from_pem(pem: &[u8]) -> Result<Self, Error> {
        certificates(pem, "no CERTIFICATE in the CA PEM").map(Self)
    }

    /// The certificates in DER.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.0.iter().map(Vec::as_slice)
    }
}

impl fmt::Debug for CaCertificates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let thumbprints: Vec<_> = self
            .0
            .iter()
            .map(|der| CertificateThumbprint::of_der(der))
            .collect();
        f.debug_tuple("CaCertificates").field(&thumbprints).finish()
    }
}

/// Every `CERTIFICATE` section of `pem` in DER, at least one.
fn certificates(pem: &[u8], none: &'static str) -> Result<Vec<Vec<u8>>, Error> {
    let mut chain = Vec::new();
    for section in <(SectionKind, Vec<u8>)>::pem_slice_iter(pem) {
        match section {
            Ok((SectionKind::Certificate, der)) => chain.push(der),
            Ok(_) => {}
            Err(pem::Error::NoItemsFound) => break,
            Err(_) => return Err(bad("the certificate PEM is malformed")),
        }
    }
    if chain.is_empty() {
        return Err(bad(none));
    }
    Ok(chain)
}

/// One PEM section (RFC 7468 §2): the label lines around the base64 of `der`, 64 columns.
fn pem_section(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let text = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = format!("-----BEGIN {label}-----\n");
    for line in text.as_bytes().chunks(64) {
        // Base64 is ASCII: every chunk is a whole string.
        pem.push_str(std::str::from_utf8(line).unwrap_or_default());
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {label}-----\n"));
    pem
}

fn bad(why: &'static str) -> Error {
    ConfigError::ClientCertificate(why).into()
}

/// Checks that a token bound to `bound` may go over a transport presenting `presented`.
///
/// # Errors
///
/// [`ConfigError::CertificateBound`] when the token is bound to another certificate or the
/// transport presents none.
pub fn check_binding(
    bound: Option<&CertificateThumbprint>,
    presented: Option<&CertificateThumbprint>,
) -> Result<(), Error> {
    match bound {
        Some(bound) if presented != Some(bound) => Err(ConfigError::CertificateBound {
            token: *bound,
            transport: presented.copied(),
        }
        .into()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A self-signed P-256 certificate and its key (made with openssl for these tests only).
    const CERT: &str = "-----BEGIN CERTIFICATE-----
MIIBkTCCATegAwIBAgIUEYpfhdj6pWv12lTKjXJVRbJhp98wCgYIKoZIzj0EAwIw
HTEbMBkGA1UEAwwSbGF0Y2hrZXktY29yZS10ZXN0MCAXDTI2MTIwMzE5NTkzOVoY
DzIxMjYxMTA5MTk1OTM5WjAdMRswGQYDVQQDDBJsYXRjaGtleS1jb3JlLXRlc3Qw
WTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASA5R3a9wJSiPCuvYYXC4UMg0Yi+pOF
cjvPQ/PWMshL3MLRfsK5bXsij7wJCBdAzZwKdKXZebnMKRUIwu/oRj5co1MwUTAd
BgNVHQ4EFgQU4+I7wXI8Qm2MiJkAYJn/a4Rf5qMwHwYDVR0jBBgwFoAU4+I7wXI8
Qm2MiJkAYJn/a4Rf5qMwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBF
AiAbvxiBVPZ3Y55Mkv+ENQXa1Y79M8mzKo4unuf8CELZlgIhANbbV7abx4CV+DC4
aIe7dJoYDZZjzAdGd7gvHPxp/d91
-----END CERTIFICATE-----
";
    const KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgEzx1xlnhqTlz3ESS
WkBuj+TB1c+e/2Yv5HotKusgMD2hRANCAASA5R3a9wJSiPCuvYYXC4UMg0Yi+pOF
cjvPQ/PWMshL3MLRfsK5bXsij7wJCBdAzZwKdKXZebnMKRUIwu/oRj5c
-----END PRIVATE KEY-----
";

    #[test]
    fn reads_chain_and_key_and_hides_the_key() {
        let identity = ClientIdentity::from_pem(CERT.as_bytes(), KEY.as_bytes()).unwrap();
        assert_eq!(identity.certificate_chain().count(), 1);
        let der: Vec<u8> = identity.certificate_chain().next().unwrap().to_vec();
        assert_eq!(identity.thumbprint(), CertificateThumbprint::of_der(&der));
        assert_eq!(identity.expose_private_key().0, KeyKind::Pkcs8);
        let debug = format!("{identity:?}");
        assert!(
            !debug.contains("MIGHAgEA") && !debug.contains("Ezx1"),
            "{debug}"
        );
        assert!(debug.contains("redacted"));
        // Both files in one buffer work too: the sections are picked by kind.
        let both = format!("{CERT}{KEY}");
        let again = ClientIdentity::from_pem(both.as_bytes(), both.as_bytes()).unwrap();
        assert_eq!(again.thumbprint(), identity.thumbprint());
        // Written again, section by section: the same PEM, each section once.
        assert_eq!(identity.expose_key_pem(), KEY);
        assert_eq!(again.expose_pem(), both);
    }

    #[test]
    fn bad_pem_is_a_typed_error() {
        let refused =
            |cert: &str, key: &str| match ClientIdentity::from_pem(cert.as_bytes(), key.as_bytes())
            {
                Err(Error::Config(ConfigError::ClientCertificate(why))) => why,
                other => panic!("{other:?}"),
            };
        assert_eq!(refused("", KEY), "no CERTIFICATE in the certificate PEM");
        assert_eq!(refused(KEY, KEY), "no CERTIFICATE in the certificate PEM");
        assert_eq!(
            refused(CERT, CERT),
            "no unencrypted private key (PKCS#8, SEC1 or RSA) in the key PEM"
        );
        let two = format!("{KEY}{KEY}");
        assert_eq!(
            refused(CERT, &two),
            "more than one private key in the key PEM"
        );
        let broken = "-----BEGIN PRIVATE KEY-----\nnot base64 !!\n-----END PRIVATE KEY-----\n";
        let why = refused(CERT, broken);
        assert_eq!(why, "the key PEM is malformed");
        let broken = "-----BEGIN CERTIFICATE-----\nMIIB\n";
        assert_eq!(refused(broken, KEY), "the certificate PEM is malformed");
        assert!(CaCertificates::from_pem(b"nothing").is_err());
        assert_eq!(
            CaCertificates::from_pem(CERT.as_bytes())
                .unwrap()
                .iter()
                .count(),
            1
        );
    }

    #[test]
    fn thumbprints_round_trip_and_bindings_are_checked() {
        let a = CertificateThumbprint::of_der(b"certificate a");
        let b = CertificateThumbprint::of_der(b"certificate b");
        assert_eq!(CertificateThumbprint::parse(&a.to_string()), Some(a));
        assert_eq!(a.to_string().len(), 43);
        assert_eq!(CertificateThumbprint::parse("AAAA"), None);
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(
            serde_json::from_str::<CertificateThumbprint>(&json).unwrap(),
            a
        );
        assert!(check_binding(None, None).is_ok());
        assert!(check_binding(None, Some(&a)).is_ok());
        assert!(check_binding(Some(&a), Some(&a)).is_ok());
        assert_eq!(
            check_binding(Some(&a), Some(&b)),
            Err(Error::Config(ConfigError::CertificateBound {
                token: a,
                transport: Some(b)
            }))
        );
        assert!(check_binding(Some(&a), None).is_err());
    }
}
