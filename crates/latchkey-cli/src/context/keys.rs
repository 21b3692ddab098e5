//! The client's private keys from files: `--private-key` (private_key_jwt, RFC 7523) and
//! `--dpop-key` (DPoP, RFC 9449), which is created when missing.

use std::io::Write as _;
use std::path::Path;

use latchkey::jose::{Algorithm, SigningKey};

use crate::failure::Failure;

/// The algorithms tried, in order, for a key file without `--key-alg`: one per key type.
const BY_KEY_TYPE: [Algorithm; 3] = [Algorithm::ES256, Algorithm::EdDSA, Algorithm::RS256];

/// `--key-alg`, parsed: one of the algorithms latchkey signs with.
fn algorithm(name: Option<&str>) -> Result<Option<Algorithm>, Failure> {
    let Some(name) = name else {
        return Ok(None);
    };
    match Algorithm::parse(name) {
        Some(alg @ (Algorithm::ES256 | Algorithm::EdDSA | Algorithm::RS256 | Algorithm::PS256)) => {
            Ok(Some(alg))
        }
        _ => Err(Failure::Usage(format!(
            "--key-alg {name}: latchkey signs with ES256, EdDSA, RS256 or PS256"
        ))),
    }
}

/// Reads the PKCS#8 PEM key in `path` for `flag`, to sign with `--key-alg` or the key
/// type's algorithm. The messages name the file, never its contents.
pub(crate) fn load(flag: &str, path: &Path, key_alg: Option<&str>) -> Result<SigningKey, Failure> {
    let pem = std::fs::read_to_string(path)
        .map_err(|e| Failure::Usage(format!("{flag} {}: {e}", path.display())))?;
    let tried: Vec<Algorithm> = match algorithm(key_alg)? {
        Some(alg) => vec![alg],
        None => BY_KEY_TYPE.to_vec(),
    };
    tried
        .iter()
        .find_map(|alg| SigningKey::from_pkcs8_pem(&pem, *alg).ok())
        .ok_or_else(|| {
            Failure::Usage(format!(
                "{flag} {}: not an unencrypted PKCS#8 PEM private key (P-256, Ed25519, or RSA \
                 of 2048 bits or more) for {}",
                path.display(),
                tried
                    .iter()
                    .map(|a| a.as_str())
                    .collect::<Vec<_>>()
                    .join(" or ")
            ))
        })
}

/// The DPoP key: read from `path`, or created there (ES256, or `--key-alg`; mode 0600) when
/// the file does not exist; a new key for this run without a path.
pub(crate) fn dpop(path: Option<&Path>, key_alg: Option<&str>) -> Result<SigningKey, Failure> {
    let alg = algorithm(key_alg)?;
    let Some(path) = path else {
        return generate(alg.unwrap_or(Algorithm::ES256));
    };
    if path.exists() {
        return load("--dpop-key", path, key_alg);
    }
    let key = generate(alg.unwrap_or(Algorithm::ES256))?;
    let pem = key.to_pkcs8_pem()?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options
        .open(path)
        .and_then(|mut file| {
            file.write_all(pem.expose_secret().as_bytes())?;
            file.sync_all()
        })
        .map_err(|e| {
            Failure::Usage(format!(
                "--dpop-key {}: cannot create it: {e}",
                path.display()
            ))
        })?;
    Ok(key)
}

fn generate(alg: Algorithm) -> Result<SigningKey, Failure> {
    Ok(SigningKey::generate(alg)?)
}
