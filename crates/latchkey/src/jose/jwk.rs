//! JSON Web Keys and key sets ([RFC 7517](https://www.rfc-editor.org/rfc/rfc7517)), as public
//! verification keys, and the choice of a key for a JWS header.

use std::time::{Duration, SystemTime};

use serde::Deserialize;
use sha2::{Digest, Sha256, Sha384, Sha512};

use super::{Algorithm, b64url_decode};
use crate::error::IdTokenError;

/// The smallest RSA modulus accepted, in bits (RFC 7518 §3.3: 2048 or larger).
const MIN_RSA_BITS: usize = 2048;
/// The largest RSA modulus accepted, in bits (larger keys only cost verification time).
const MAX_RSA_BITS: usize = 8192;
/// At most this many keys are read from a set; the rest are ignored.
const MAX_KEYS: usize = 100;

/// The kind of a public key.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyType {
    /// `kty: RSA`.
    Rsa,
    /// `kty: EC`, `crv: P-256`.
    P256,
    /// `kty: EC`, `crv: P-384`.
    P384,
    /// `kty: OKP`, `crv: Ed25519`.
    Ed25519,
}

#[derive(Clone)]
enum Material {
    Rsa(rsa::PublicKey),
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
}

/// One public verification key from a JWK set: its type, `kid` and `alg`. Symmetric (`oct`)
/// keys are never read from a set: an HMAC secret is the client's own.
#[derive(Clone)]
pub struct Jwk {
    kid: Option<String>,
    alg: Option<Algorithm>,
    material: Material,
}

impl std::fmt::Debug for Jwk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jwk")
            .field("kty", &self.key_type())
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish()
    }
}

/// A JWK as it arrives; members latchkey does not use are ignored.
#[derive(Deserialize)]
struct RawJwk {
    kty: String,
    #[serde(default, rename = "use")]
    use_: Option<String>,
    #[serde(default)]
    key_ops: Option<Vec<String>>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Option<String>,
}

impl Jwk {
    /// Parses one JWK (a JSON object). `None` for a key latchkey cannot use for verifying
    /// signatures: a private or symmetric key, an unknown type or curve, `use` other than
    /// `sig`, `key_ops` without `verify`, an `alg` that does not fit the key, an RSA modulus
    /// outside 2048 to 8192 bits, or a point not on its curve.
    #[must_use]
    pub fn from_json(json: &serde_json::Value) -> Option<Self> {
        let raw = RawJwk::deserialize(json).ok()?;
        // A private key in a public set is a server mistake; never hold one.
        if json.get("d").is_some() {
            return None;
        }
        if raw.use_.as_deref().is_some_and(|u| u != "sig") {
            return None;
        }
        if raw
            .key_ops
            .as_ref()
            .is_some_and(|ops| !ops.iter().any(|op| op == "verify"))
        {
            return None;
        }
        let alg = match raw.alg.as_deref() {
            None => None,
            Some(alg) => Some(Algorithm::parse(alg)?),
        };
        let coordinate = |c: &Option<String>, len: usize| -> Option<Vec<u8>> {
            let bytes = b64url_decode(c.as_deref()?)?;
            (bytes.len() == len).then_some(bytes)
        };
        let material = match (raw.kty.as_str(), raw.crv.as_deref()) {
            ("RSA", _) => {
                let n = b64url_decode(raw.n.as_deref()?)?;
                let e = b64url_decode(raw.e.as_deref()?)?;
                // RFC 7518 §6.3.1.1 asks for no leading zero octets; some servers send one
                // anyway, and the value is the same without it.
                let trim = |bytes: &[u8]| -> Vec<u8> {
                    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
                    bytes[start..].to_vec()
                };
                let (n, e) = (trim(&n), trim(&e));
                if n.is_empty() || e.is_empty() || e.len() > 8 {
                    return None;
                }
                let key = rsa::PublicKey::new_with_size_limits(
                    rsa::BoxedUint::from_be_slice_vartime(&n),
                    rsa::BoxedUint::from_be_slice_vartime(&e),
                    MIN_RSA_BITS..=MAX_RSA_BITS,
                )
                .ok()?;
                Material::Rsa(key)
            }
            ("EC", Some("P-256")) => {
                let mut point = vec![4u8];
                point.extend(coordinate(&raw.x, 32)?);
                point.extend(coordinate(&raw.y, 32)?);
                Material::P256(p256::ecdsa::VerifyingKey::from_sec1_bytes(&point).ok()?)
            }
            ("EC", Some("P-384")) => {
                let mut point = vec![4u8];
                point.extend(coordinate(&raw.x, 48)?);
                point.extend(coordinate(&raw.y, 48)?);
                Material::P384(p384::ecdsa::VerifyingKey::from_sec1_bytes(&point).ok()?)
            }
            ("OKP", Some("Ed25519")) => {
                let x: [u8; 32] = coordinate(&raw.x, 32)?.try_into().ok()?;
                Material::Ed25519(ed25519_dalek::VerifyingKey::from_bytes(&x).ok()?)
            }
            _ => return None,
        };
        let key = Self {
            kid: raw.kid,
            alg,
            material,
        };
        // A key whose own `alg` it cannot serve (an RSA key marked ES256) is unusable.
        match alg {
            Some(alg) if !key.fits(alg) => None,
            _ => Some(key),
        }
    }

    /// The key's type (and curve).
    #[must_use]
    pub fn key_type(&self) -> KeyType {
        match self.material {
            Material::Rsa(_) => KeyType::Rsa,
            Material::P256(_) => KeyType::P256,
            Material::P384(_) => KeyType::P384,
            Material::Ed25519(_) => KeyType::Ed25519,
        }
    }

    /// The key's `kid`, if any.
    #[must_use]
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The key's `alg`, if it names one.
    #[must_use]
    pub fn alg(&self) -> Option<Algorithm> {
        self.alg
    }

    /// True when this key can verify `alg`: its type and curve serve the algorithm and its own
    /// `alg`, if any, is that one. Never for an HMAC algorithm.
    #[must_use]
    pub fn fits(&self, alg: Algorithm) -> bool {
        if self.alg.is_some_and(|own| own != alg) {
            return false;
        }
        matches!(
            (&self.material, alg),
            (
                Material::Rsa(_),
                Algorithm::RS256
                    | Algorithm::RS384
                    | Algorithm::RS512
                    | Algorithm::PS256
                    | Algorithm::PS384
                    | Algorithm::PS512
            ) | (Material::P256(_), Algorithm::ES256)
                | (Material::P384(_), Algorithm::ES384)
                | (Material::Ed25519(_), Algorithm::EdDSA)
        )
    }

    /// Parses a public key in PEM (`-----BEGIN PUBLIC KEY-----`, an X.509
    /// SubjectPublicKeyInfo): RSA (2048 to 8192 bits), P-256 or Ed25519, the keys that sign
    /// DPoP proofs and client assertions. `None` for
    /// anything else, a private key included. The key has no `kid` and no `alg`.
    #[must_use]
    pub fn from_public_key_pem(pem: &str) -> Option<Self> {
        use p256::pkcs8::DecodePublicKey as _;
        let material = if let Ok(key) = p256::ecdsa::VerifyingKey::from_public_key_pem(pem) {
            Material::P256(key)
        } else if let Ok(key) = ed25519_dalek::VerifyingKey::from_public_key_pem(pem) {
            Material::Ed25519(key)
        } else {
            use rsa::traits::PublicKeyParts as _;
            let key = rsa::PublicKey::from_public_key_pem(pem).ok()?;
            let bits = key.size() * 8;
            if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
                return None;
            }
            Material::Rsa(key)
        };
        Some(Self {
            kid: None,
            alg: None,
            material,
        })
    }

    /// The key as a JWK with its required members only
    /// ([RFC 7638 §3.2](https://www.rfc-editor.org/rfc/rfc7638#section-3.2)): `kty`, `crv`,
    /// `x`, `y` for EC; `kty`, `crv`, `x` for OKP; `kty`, `n`, `e` for RSA.
    #[must_use]
    pub fn public_json(&self) -> serde_json::Value {
        use super::b64url_encode as b64;
        let ec = |crv: &str, point: &[u8]| {
            // The uncompressed point: 0x04, then x and y of equal length.
            let xy = point.get(1..).unwrap_or_default();
            let (x, y) = xy.split_at(xy.len() / 2);
            serde_json::json!({"crv": crv, "kty": "EC", "x": b64(x), "y": b64(y)})
        };
        match &self.material {
            Material::Rsa(key) => {
                use rsa::traits::PublicKeyParts as _;
                serde_json::json!({
                    "e": b64(&key.e().to_be_bytes_trimmed_vartime()),
                    "kty": "RSA",
                    "n": b64(&key.n().to_be_bytes_trimmed_vartime()),
                })
            }
            Material::P256(key) => ec("P-256", key.to_sec1_point(false).as_bytes()),
            Material::P384(key) => ec("P-384", key.to_sec1_point(false).as_bytes()),
            Material::Ed25519(key) => {
                serde_json::json!({"crv": "Ed25519", "kty": "OKP", "x": b64(key.as_bytes())})
            }
        }
    }

    /// The key's JWK thumbprint ([RFC 7638](https://www.rfc-editor.org/rfc/rfc7638)):
    /// base64url(SHA-256) of [`public_json`](Self::public_json) with its members in
    /// lexicographic order and no white space. A DPoP proof's key is known by it (`jkt`,
    /// [RFC 9449 §6](https://www.rfc-editor.org/rfc/rfc9449#section-6)), and it equals
    /// [`SigningKey::thumbprint`](super::SigningKey::thumbprint) of the private key.
    #[must_use]
    pub fn thumbprint(&self) -> String {
        // The members are written in lexicographic order (and serde_json's map keeps them
        // sorted anyway), and `to_string` writes no white space: exactly RFC 7638 §3's form.
        let canonical = self.public_json().to_string();
        super::b64url_encode(&Sha256::digest(canonical.as_bytes()))
    }

    /// Verifies `signature` over `input` with `alg` (which must fit).
    pub(crate) fn verify(&self, alg: Algorithm, input: &[u8], signature: &[u8]) -> bool {
        use p256::ecdsa::signature::Verifier;
        match (&self.material, alg) {
            (Material::Rsa(key), Algorithm::RS256) => {
                rsa_verify::<Sha256>(key, false, input, signature)
            }
            (Material::Rsa(key), Algorithm::RS384) => {
                rsa_verify::<Sha384>(key, false, input, signature)
            }
            (Material::Rsa(key), Algorithm::RS512) => {
                rsa_verify::<Sha512>(key, false, input, signature)
            }
            (Material::Rsa(key), Algorithm::PS256) => {
                rsa_verify::<Sha256>(key, true, input, signature)
            }
            (Material::Rsa(key), Algorithm::PS384) => {
                rsa_verify::<Sha384>(key, true, input, signature)
            }
            (Material::Rsa(key), Algorithm::PS512) => {
                rsa_verify::<Sha512>(key, true, input, signature)
            }
            (Material::P256(key), Algorithm::ES256) => {
                // JWS carries R || S, fixed width (RFC 7518 §3.4), not DER.
                p256::ecdsa::Signature::from_slice(signature)
                    .is_ok_and(|sig| key.verify(input, &sig).is_ok())
            }
            (Material::P384(key), Algorithm::ES384) => {
                p384::ecdsa::Signature::from_slice(signature)
                    .is_ok_and(|sig| key.verify(input, &sig).is_ok())
            }
            (Material::Ed25519(key), Algorithm::EdDSA) => <[u8; 64]>::try_from(signature)
                .is_ok_and(|sig| {
                    key.verify_strict(input, &ed25519_dalek::Signature::from_bytes(&sig))
                        .is_ok()
                }),
            _ => false,
        }
    }
}

/// RSASSA-PKCS1-v1_5 or, with `pss`, RSASSA-PSS with a salt as long as the hash (RFC 7518
/// §3.5), over the `D` hash of `input`.
fn rsa_verify<D>(key: &rsa::PublicKey, pss: bool, input: &[u8], signature: &[u8]) -> bool
where
    D: Digest + sha2::digest::const_oid::AssociatedOid + sha2::digest::FixedOutputReset,
{
    let hashed = D::digest(input);
    if pss {
        key.verify(rsa::Pss::<D>::new(), &hashed, signature).is_ok()
    } else {
        key.verify(rsa::Pkcs1v15Sign::new::<D>(), &hashed, signature)
            .is_ok()
    }
}

/// The issuer's public keys (its `jwks_uri` document), held as data with when they were
/// fetched and how long they may be used.
///
/// A set older than its [`max_age`](Self::max_age) is [stale](Self::is_stale) and should be
/// fetched again before use; on a `kid` it does not know, it is fetched again at most once
/// every [`REFETCH_INTERVAL`](Self::REFETCH_INTERVAL) ([`may_refetch`](Self::may_refetch)).
#[derive(Clone, Debug)]
pub struct KeySet {
    keys: Vec<Jwk>,
    fetched_at: Option<SystemTime>,
    max_age: Duration,
    /// The last fetch that failed, if later than `fetched_at`.
    failed_at: Option<SystemTime>,
}

impl Default for KeySet {
    fn default() -> Self {
        Self::empty()
    }
}

impl KeySet {
    /// How long a fetched set is used when the server does not say (`Cache-Control: max-age`).
    pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(5 * 60);
    /// The shortest time between two fetches caused by an unknown `kid`.
    pub const REFETCH_INTERVAL: Duration = Duration::from_secs(30);

    /// A set with no keys, never fetched.
    #[must_use]
    pub fn empty() -> Self {
        Self {
            keys: Vec::new(),
            fetched_at: None,
            max_age: Self::DEFAULT_MAX_AGE,
            failed_at: None,
        }
    }

    /// A set of keys the caller already has (configured, not fetched): never stale.
    #[must_use]
    pub fn from_keys(keys: Vec<Jwk>) -> Self {
        Self {
            keys,
            fetched_at: None,
            max_age: Duration::MAX,
            failed_at: None,
        }
    }

    /// Parses a JWK set document (`{"keys": [...]}`) fetched at `fetched_at`, usable for
    /// `max_age`. Keys that do not fit (see [`Jwk::from_json`]) are skipped; past 100 keys the
    /// rest are ignored.
    ///
    /// # Errors
    ///
    /// [`IdTokenError::KeySet`] when the document is not a JSON object with a `keys` array.
    pub fn from_json(
        body: &[u8],
        fetched_at: SystemTime,
        max_age: Duration,
    ) -> Result<Self, IdTokenError> {
        #[derive(Deserialize)]
        struct Document {
            keys: Vec<serde_json::Value>,
        }
        let doc: Document = serde_json::from_slice(body)
            .map_err(|_| IdTokenError::KeySet("not a JSON object with a keys array"))?;
        Ok(Self {
            keys: doc
                .keys
                .iter()
                .take(MAX_KEYS)
                .filter_map(Jwk::from_json)
                .collect(),
            fetched_at: Some(fetched_at),
            max_age,
            failed_at: None,
        })
    }

    /// The usable keys.
    #[must_use]
    pub fn keys(&self) -> &[Jwk] {
        &self.keys
    }

    /// When the set was fetched; `None` for a set never fetched (empty or configured).
    #[must_use]
    pub fn fetched_at(&self) -> Option<SystemTime> {
        self.fetched_at
    }

    /// How long after [`fetched_at`](Self::fetched_at) the set may be used.
    #[must_use]
    pub fn max_age(&self) -> Duration {
        self.max_age
    }

    /// True when the set should be fetched (again) before use at `now`: never fetched and
    /// empty, or older than its maximum age.
    #[must_use]
    pub fn is_stale(&self, now: SystemTime) -> bool {
        match self.fetched_at {
            None => self.keys.is_empty(),
            Some(at) => now.duration_since(at).is_ok_and(|age| age > self.max_age),
        }
    }

    /// True when an unknown `kid` (or a stale set) may cause a fetch at `now`: no fetch was
    /// made or tried, or the last one was at least [`REFETCH_INTERVAL`](Self::REFETCH_INTERVAL)
    /// ago.
    #[must_use]
    pub fn may_refetch(&self, now: SystemTime) -> bool {
        match self.fetched_at.max(self.failed_at) {
            None => true,
            Some(at) => now
                .duration_since(at)
                .is_ok_and(|age| age >= Self::REFETCH_INTERVAL),
        }
    }

    /// The same set, with a failed fetch recorded at `at`.
    #[must_use]
    pub fn attempted(&self, at: SystemTime) -> Self {
        Self {
            failed_at: Some(at),
            ..self.clone()
        }
    }

    /// True when some key fits a JWS with this `kid` and `alg` (whether or not it is the only
    /// one).
    #[must_use]
    pub fn has_key_for(&self, kid: Option<&str>, alg: Algorithm) -> bool {
        self.candidates(kid, alg).next().is_some()
    }

    fn candidates<'a>(
        &'a self,
        kid: Option<&'a str>,
        alg: Algorithm,
    ) -> impl Iterator<Item = &'a Jwk> + 'a {
        self.keys
            .iter()
            .filter(move |k| k.fits(alg) && (kid.is_none() || k.kid.as_deref() == kid))
    }

    /// The one key that fits a JWS header's `kid` and `alg`.
    ///
    /// # Errors
    ///
    /// [`IdTokenError::UnknownKey`] when none fits; [`IdTokenError::AmbiguousKey`] when several
    /// do (a `kid` several keys share, or no `kid` and several keys for the `alg`: OpenID
    /// Connect Core §10.1 requires a `kid` then).
    pub fn select<'a>(
        &'a self,
        kid: Option<&'a str>,
        alg: Algorithm,
    ) -> Result<&'a Jwk, IdTokenError> {
        let mut fitting = self.candidates(kid, alg);
        let first = fitting.next().ok_or_else(|| IdTokenError::UnknownKey {
            kid: kid.map(|k| crate::wire::error_response::bounded(k, 80)),
        })?;
        if fitting.next().is_some() {
            return Err(IdTokenError::AmbiguousKey {
                kid: kid.map(|k| crate::wire::error_response::bounded(k, 80)),
            });
        }
        Ok(first)
    }
}

/// The `max-age` of a `Cache-Control` header value, if it has one (and no `no-store` /
/// `no-cache`, which make it zero).
pub(crate) fn cache_max_age(value: &str) -> Option<Duration> {
    let mut max_age = None;
    for directive in value.split(',') {
        let directive = directive.trim();
        let (name, arg) = match directive.split_once('=') {
            Some((n, a)) => (n.trim(), Some(a.trim().trim_matches('"'))),
            None => (directive, None),
        };
        if name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("no-cache") {
            return Some(Duration::ZERO);
        }
        if name.eq_ignore_ascii_case("max-age") {
            max_age = arg
                .and_then(|a| a.parse::<u64>().ok())
                .map(Duration::from_secs);
        }
    }
    max_age
}
