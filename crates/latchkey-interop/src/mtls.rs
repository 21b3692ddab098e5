//! Mutual TLS (RFC 8705) against oidc-provider: a test PKI made with `rcgen` on the spot, and
//! the provider served over HTTPS with it ([`Provider::start_mtls`]).
//!
//! [`TestPki::generate`] makes a CA, a server certificate for `127.0.0.1` and `localhost`
//! signed by it, a client certificate signed by it (subject `CN=latchkey-mtls-client`, the
//! `tls_client_auth` client [`MTLS_CA`](crate::clients::MTLS_CA)) and a self-signed client
//! certificate (the `self_signed_tls_client_auth` client
//! [`MTLS_SELF_SIGNED`](crate::clients::MTLS_SELF_SIGNED), whose registered JWK set
//! `interop/server.mjs` derives from it), and writes them as PEM files in a fresh directory
//! that it removes on drop. `interop/server.mjs` reads them from `INTEROP_TLS_DIR`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use latchkey::{CaCertificates, ClientIdentity};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair,
};

use crate::Provider;

/// The environment variable that points `interop/server.mjs` at the PEM files.
pub const TLS_DIR_VAR: &str = "INTEROP_TLS_DIR";

/// A CA, a server certificate and two client certificates, as PEM files in a directory of
/// their own (removed on drop).
#[derive(Debug)]
pub struct TestPki {
    dir: PathBuf,
}

/// The PEM files [`TestPki`] writes.
const FILES: [&str; 7] = [
    "ca.pem",
    "server.pem",
    "server-key.pem",
    "client.pem",
    "client-key.pem",
    "self-signed.pem",
    "self-signed-key.pem",
];

impl TestPki {
    /// Makes the certificates and writes them under the system's temporary directory.
    ///
    /// # Panics
    ///
    /// When `rcgen` fails or the files cannot be written.
    #[must_use]
    pub fn generate() -> Self {
        static COUNT: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "latchkey-mtls-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("create the PKI directory");

        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name = named("latchkey interop test CA");
        let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().expect("CA key"))
            .expect("CA certificate");

        let server_key = KeyPair::generate().expect("server key");
        let mut server =
            CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
                .expect("server parameters");
        server.distinguished_name = named("127.0.0.1");
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server = server
            .signed_by(&server_key, &ca)
            .expect("server certificate");

        let client_key = KeyPair::generate().expect("client key");
        let client = client_params("latchkey-mtls-client")
            .signed_by(&client_key, &ca)
            .expect("client certificate");

        let self_key = KeyPair::generate().expect("self-signed key");
        let self_signed = client_params("latchkey-self-signed")
            .self_signed(&self_key)
            .expect("self-signed certificate");

        let contents = [
            ca.pem(),
            server.pem(),
            server_key.serialize_pem(),
            client.pem(),
            client_key.serialize_pem(),
            self_signed.pem(),
            self_key.serialize_pem(),
        ];
        for (name, pem) in FILES.iter().zip(contents) {
            std::fs::write(dir.join(name), pem).expect("write a PEM file");
        }
        Self { dir }
    }

    /// The directory of the PEM files (`INTEROP_TLS_DIR`).
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The path of one of the files: `ca.pem`, `client.pem`, `client-key.pem`,
    /// `self-signed.pem`, `self-signed-key.pem` (and the server's).
    #[must_use]
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The CA certificate's file, for clients that trust it (`--ca-file`,
    /// [`Login::ca_file`](crate::Login::ca_file)).
    #[must_use]
    pub fn ca_file(&self) -> PathBuf {
        self.file("ca.pem")
    }

    /// The CA, for a transport's `root_certificates`.
    ///
    /// # Panics
    ///
    /// When the file cannot be read.
    #[must_use]
    pub fn ca(&self) -> CaCertificates {
        CaCertificates::from_pem(&self.read("ca.pem")).expect("the test CA")
    }

    /// The client certificate signed by the CA and its key (`tls_client_auth`).
    ///
    /// # Panics
    ///
    /// When the files cannot be read.
    #[must_use]
    pub fn client_identity(&self) -> ClientIdentity {
        self.identity("client")
    }

    /// The self-signed client certificate and its key (`self_signed_tls_client_auth`).
    ///
    /// # Panics
    ///
    /// When the files cannot be read.
    #[must_use]
    pub fn self_signed_identity(&self) -> ClientIdentity {
        self.identity("self-signed")
    }

    fn identity(&self, name: &str) -> ClientIdentity {
        let certificate = self.read(&format!("{name}.pem"));
        let key = self.read(&format!("{name}-key.pem"));
        ClientIdentity::from_pem(&certificate, &key).expect("a client identity")
    }

    fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.file(name)).unwrap_or_else(|e| panic!("cannot read {name}: {e}"))
    }
}

impl Drop for TestPki {
    fn drop(&mut self) {
        for name in FILES {
            let _ = std::fs::remove_file(self.dir.join(name));
        }
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// A subject of one common name.
fn named(common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, common_name);
    name
}

/// A client certificate's parameters: one common name, `clientAuth`.
fn client_params(common_name: &str) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("client parameters");
    params.distinguished_name = named(common_name);
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params
}

impl Provider {
    /// A new server over HTTPS with mutual TLS on (`features.mTLS`: `tls_client_auth`,
    /// `self_signed_tls_client_auth`, certificate-bound access tokens), its certificates from
    /// `pki`, its `mtls_endpoint_aliases` under `/mtls/` (see `interop/server.mjs`).
    /// `None` as for [`start`](Self::start).
    ///
    /// # Panics
    ///
    /// As [`start`](Self::start).
    #[must_use]
    pub fn start_mtls(pki: &TestPki) -> Option<Self> {
        let dir = pki.dir().to_str().expect("a UTF-8 temporary directory");
        Self::start_with(&[(TLS_DIR_VAR, dir)])
    }
}
