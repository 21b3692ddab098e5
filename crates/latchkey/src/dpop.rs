//! DPoP: proof of possession of the client's key on every request
//! ([RFC 9449](https://www.rfc-editor.org/rfc/rfc9449)).
//!
//! A [`Dpop`] holds the client's [`SigningKey`] and the server nonces seen so far (one per
//! origin). It writes a proof JWT for a request at a given `now`:
//!
//! ```text
//!   header  {"typ":"dpop+jwt","alg":"ES256","jwk":{public key}}
//!   claims  {"jti":unique,"htm":"POST","htu":"https://as.example/token","iat":now,
//!            "nonce":last DPoP-Nonce of that origin (if any),
//!            "ath":base64url(SHA-256(access token)) (resource requests only)}
//! ```
//!
//! The [`SendDriver`](crate::drive::SendDriver) puts the proof on each attempt of an
//! [`Exchange`](crate::Exchange) whose [`dpop`](crate::Exchange::dpop) says so, remembers every
//! `DPoP-Nonce` it is answered with, and retries once when the server asks for a nonce
//! (`use_dpop_nonce`, RFC 9449 §8 and §9). Adapters need no code of their own for any of it.
//!
//! Clones of a `Dpop` share the key and the nonces.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use std::time::SystemTime;

use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};

use crate::Error;
use crate::drive::http::{Method, Response};
use crate::jose::SigningKey;
use crate::url::Url;
use crate::wire::challenge::Challenge;
use crate::wire::encode::base64url;

/// The `typ` of a DPoP proof (RFC 9449 §4.2).
pub const DPOP_PROOF_TYP: &str = "dpop+jwt";

/// At most this many origins' nonces are kept; past it the oldest half is forgotten (a
/// forgotten nonce costs one `use_dpop_nonce` retry).
const MAX_ORIGINS: usize = 64;

/// A client's DPoP key and the server nonces it has been given.
///
/// Clones share both. The key can be replaced for every clone at once
/// ([`adopt`](Self::adopt)): a token manager does so when the store holds tokens bound to
/// another key (a DPoP-bound refresh token is useless without its key).
#[derive(Clone)]
pub struct Dpop {
    key: Arc<ArcSwap<Keyed>>,
    nonces: Arc<Mutex<Nonces>>,
}

/// A key and its thumbprint, computed once.
struct Keyed {
    key: SigningKey,
    jkt: String,
}

impl Keyed {
    fn new(key: SigningKey) -> Self {
        let jkt = key.thumbprint();
        Self { key, jkt }
    }
}

#[derive(Default)]
struct Nonces {
    by_origin: HashMap<String, (u64, String)>,
    counter: u64,
}

impl std::fmt::Debug for Dpop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Nonces are not secret, but they say nothing useful in a log either.
        f.debug_struct("Dpop")
            .field("key", &self.key.load().key)
            .finish_non_exhaustive()
    }
}

impl PartialEq for Dpop {
    /// The same key (by thumbprint).
    fn eq(&self, other: &Self) -> bool {
        self.key.load().jkt == other.key.load().jkt
    }
}

impl Eq for Dpop {}

impl Dpop {
    /// DPoP with `key` (see [`SigningKey::generate`] and [`SigningKey::from_pkcs8_pem`]);
    /// no nonce is known yet.
    #[must_use]
    pub fn new(key: SigningKey) -> Self {
        Self {
            key: Arc::new(ArcSwap::from_pointee(Keyed::new(key))),
            nonces: Arc::default(),
        }
    }

    /// The key (a cheap handle: clones share one copy of the private key).
    #[must_use]
    pub fn key(&self) -> SigningKey {
        self.key.load().key.clone()
    }

    /// The key's JWK thumbprint ([RFC 7638](https://www.rfc-editor.org/rfc/rfc7638)): the
    /// `dpop_jkt` authorization parameter, and a bound token's `cnf.jkt`.
    #[must_use]
    pub fn jkt(&self) -> String {
        self.key.load().jkt.clone()
    }

    /// Proves possession of `key` from now on, in this value and every clone (the client's
    /// flows, a token manager): what a token manager does when the store holds tokens bound
    /// to `key` (see [`TokenSet::dpop_key`](crate::TokenSet::dpop_key)). The nonces stay:
    /// they belong to the servers, not to the key. Returns whether the key changed.
    pub fn adopt(&self, key: &SigningKey) -> bool {
        let keyed = Keyed::new(key.clone());
        if keyed.jkt == self.key.load().jkt {
            return false;
        }
        self.key.store(Arc::new(keyed));
        true
    }

    /// The last nonce the origin of `url` gave, if any.
    #[must_use]
    pub fn nonce(&self, url: &Url) -> Option<String> {
        let nonces = self.nonces.lock().unwrap_or_else(|p| p.into_inner());
        nonces.by_origin.get(&origin(url)).map(|(_, n)| n.clone())
    }

    /// Remembers `nonce` for the origin of `url`, replacing the one before.
    pub fn set_nonce(&self, url: &Url, nonce: impl Into<String>) {
        let mut nonces = self.nonces.lock().unwrap_or_else(|p| p.into_inner());
        nonces.counter += 1;
        let stamp = nonces.counter;
        if nonces.by_origin.len() >= MAX_ORIGINS {
            let mut stamps: Vec<u64> = nonces.by_origin.values().map(|(s, _)| *s).collect();
            stamps.sort_unstable();
            let cut = stamps.get(MAX_ORIGINS / 2).copied().unwrap_or(u64::MAX);
            nonces.by_origin.retain(|_, (s, _)| *s >= cut);
        }
        nonces.by_origin.insert(origin(url), (stamp, nonce.into()));
    }

    /// Remembers the `DPoP-Nonce` of an answer from `url` (any status), if it carries a
    /// usable one; returns whether it did.
    pub fn remember(&self, url: &Url, response: &Response) -> bool {
        match response_nonce(response) {
            Some(nonce) => {
                self.set_nonce(url, nonce);
                true
            }
            None => false,
        }
    }

    /// [`remember`](Self::remember) for another HTTP stack's answer (a tower layer, a
    /// middleware): the value of its `DPoP-Nonce` header, if any. Returns whether it was
    /// a usable nonce, now remembered for the origin of `url`.
    pub fn remember_header(&self, url: &Url, dpop_nonce: Option<&str>) -> bool {
        match dpop_nonce.and_then(usable_nonce) {
            Some(nonce) => {
                self.set_nonce(url, nonce);
                true
            }
            None => false,
        }
    }

    /// A resource server's answer to a request to `url`, seen by another HTTP stack (a tower
    /// layer, a middleware): remembers its `DPoP-Nonce` (any status), and says whether to
    /// send the request once more with that nonce (`401` with a `DPoP` challenge whose
    /// `error` is `use_dpop_nonce`, and a usable nonce). Once: a second challenge is the
    /// answer to return.
    pub fn answered<'a>(
        &self,
        url: &Url,
        status: u16,
        www_authenticate: impl IntoIterator<Item = &'a str>,
        dpop_nonce: Option<&str>,
    ) -> bool {
        self.remember_header(url, dpop_nonce) && resource_asks_for_nonce(status, www_authenticate)
    }

    /// The proof for a resource request made by another HTTP stack: `method` (its name, as
    /// `GET`) to `url` at `now`, carrying `access_token` (`ath`) and the origin's nonce.
    ///
    /// # Errors
    ///
    /// As [`proof`](Self::proof).
    pub fn resource_proof(
        &self,
        method: &str,
        url: &Url,
        now: SystemTime,
        access_token: &crate::AccessToken,
    ) -> Result<String, Error> {
        let mut jti = [0u8; 16];
        crate::random::fill(&mut jti)?;
        let nonce = self.nonce(url);
        self.proof_with(&ProofInput {
            method,
            url,
            now,
            jti: &base64url(&jti),
            nonce: nonce.as_deref(),
            access_token: Some(access_token.expose_secret()),
        })
    }

    /// A proof for a `method` request to `url` at `now`, with a fresh `jti`, the origin's
    /// nonce when one is known, and `ath` when `access_token` is given (a resource request).
    ///
    /// # Errors
    ///
    /// [`Error::Random`] when no `jti` can be drawn; [`ConfigError::SigningKey`](crate::ConfigError::SigningKey)
    /// when the key cannot sign.
    pub fn proof(
        &self,
        method: &Method,
        url: &Url,
        now: SystemTime,
        access_token: Option<&str>,
    ) -> Result<String, Error> {
        let mut jti = [0u8; 16];
        crate::random::fill(&mut jti)?;
        let nonce = self.nonce(url);
        self.proof_with(&ProofInput {
            method: method.as_str(),
            url,
            now,
            jti: &base64url(&jti),
            nonce: nonce.as_deref(),
            access_token,
        })
    }

    /// A proof with every input given (tests, callers with their own randomness).
    ///
    /// # Errors
    ///
    /// [`ConfigError::SigningKey`](crate::ConfigError::SigningKey) when the key cannot sign.
    pub fn proof_with(&self, input: &ProofInput<'_>) -> Result<String, Error> {
        let mut header = Map::new();
        header.insert("typ".into(), Value::from(DPOP_PROOF_TYP));
        let keyed = self.key.load();
        header.insert("jwk".into(), keyed.key.public_jwk());
        let iat = input
            .now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let mut claims = json!({
            "jti": input.jti,
            "htm": input.method,
            "htu": htu(input.url),
            "iat": iat,
        });
        if let Some(nonce) = input.nonce {
            claims["nonce"] = Value::from(nonce);
        }
        if let Some(token) = input.access_token {
            claims["ath"] = Value::from(ath(token));
        }
        // A DPoP proof carries the public key itself, never a `kid`.
        let key = match keyed.key.kid() {
            Some(_) => keyed.key.clone().without_kid(),
            None => keyed.key.clone(),
        };
        key.sign(header, &claims)
    }
}

/// Everything a proof is made of, for [`Dpop::proof_with`].
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct ProofInput<'a> {
    /// The request method (`htm`).
    pub method: &'a str,
    /// The request URL (`htu` is it without query and fragment).
    pub url: &'a Url,
    /// The time of the request (`iat`).
    pub now: SystemTime,
    /// The unique identifier (`jti`).
    pub jti: &'a str,
    /// The server nonce, if any (`nonce`).
    pub nonce: Option<&'a str>,
    /// The access token of a resource request, if any (`ath` is its hash).
    pub access_token: Option<&'a str>,
}

impl<'a> ProofInput<'a> {
    /// The inputs of a proof without nonce or access token.
    #[must_use]
    pub fn new(method: &'a str, url: &'a Url, now: SystemTime, jti: &'a str) -> Self {
        Self {
            method,
            url,
            now,
            jti,
            nonce: None,
            access_token: None,
        }
    }

    /// With a server nonce.
    #[must_use]
    pub fn nonce(mut self, nonce: &'a str) -> Self {
        self.nonce = Some(nonce);
        self
    }

    /// With the access token of a resource request.
    #[must_use]
    pub fn access_token(mut self, token: &'a str) -> Self {
        self.access_token = Some(token);
        self
    }
}

/// The `htu` of a request to `url`: the URL without query and fragment (RFC 9449 §4.2), in
/// the URL parser's normal form (lower-case scheme and host, default port dropped, an empty
/// path as `/`).
#[must_use]
pub fn htu(url: &Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.set_fragment(None);
    url.to_string()
}

/// `ath`: base64url(SHA-256(access token)) (RFC 9449 §4.2).
#[must_use]
pub fn ath(access_token: &str) -> String {
    base64url(&Sha256::digest(access_token.as_bytes()))
}

/// The usable `DPoP-Nonce` of an answer: non-empty, printable ASCII without spaces
/// (RFC 9449 §8.1's `NQCHAR`), at most 1024 bytes.
fn response_nonce(response: &Response) -> Option<&str> {
    usable_nonce(response.headers.get("dpop-nonce")?)
}

/// `value` trimmed, when it is a usable nonce (see [`response_nonce`]).
fn usable_nonce(value: &str) -> Option<&str> {
    let nonce = value.trim();
    let usable = !nonce.is_empty()
        && nonce.len() <= 1024
        && nonce
            .bytes()
            .all(|b| (0x21..=0x7e).contains(&b) && b != b'"' && b != b'\\');
    usable.then_some(nonce)
}

/// Whether an answer asks for a DPoP nonce and gives one: a 400 with the OAuth error
/// `use_dpop_nonce` (an authorization server, RFC 9449 §8), or a 401 with
/// `WWW-Authenticate: DPoP error="use_dpop_nonce"` (a resource server, §9), carrying a
/// usable `DPoP-Nonce`.
#[must_use]
pub fn asks_for_nonce(response: &Response) -> bool {
    if response_nonce(response).is_none() {
        return false;
    }
    match response.status {
        400 => crate::ServerError::from_json(Some(400), &response.body)
            .is_some_and(|e| e.code.as_str() == "use_dpop_nonce"),
        401 => Challenge::find(response.headers.get_all("www-authenticate"), "DPoP")
            .is_some_and(|c| c.param("error") == Some("use_dpop_nonce")),
        _ => false,
    }
}

/// Whether a resource server's answer with `status` and these `WWW-Authenticate` values
/// asks for a nonce: `401` with a `DPoP` challenge whose `error` is `use_dpop_nonce`
/// (RFC 9449 §9). For another HTTP stack (a tower layer, a middleware), which then sends
/// the request once more with the nonce the answer's `DPoP-Nonce` gave.
#[must_use]
pub fn resource_asks_for_nonce<'a>(
    status: u16,
    www_authenticate: impl IntoIterator<Item = &'a str>,
) -> bool {
    status == 401
        && www_authenticate
            .into_iter()
            .flat_map(Challenge::parse_all)
            .any(|c| {
                c.scheme.eq_ignore_ascii_case("dpop") && c.param("error") == Some("use_dpop_nonce")
            })
}

/// The origin (`scheme://host:port`) nonces are kept by.
fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// A resource request sent with a DPoP-bound access token (RFC 9449 §7): the request with
/// `Authorization: DPoP <token>`, never following a redirect, as an [`Exchange`](crate::Exchange)
/// whose answer is handed back whatever its status. Driven by the
/// [`SendDriver`](crate::drive::SendDriver), each attempt carries a fresh proof with `ath`,
/// and a resource server's `use_dpop_nonce` is answered once with its nonce.
#[must_use = "an exchange does nothing until it is sent"]
#[derive(Clone, Debug)]
pub struct BoundRequest {
    request: crate::Request,
    dpop: Dpop,
}

impl Dpop {
    /// `request` with `Authorization: DPoP <token>` (replacing any `Authorization` it had),
    /// to be sent with this key's proofs: the DPoP counterpart of
    /// [`bearer::authorized`](crate::manage::bearer::authorized).
    pub fn bind(&self, request: &crate::Request, token: &crate::AccessToken) -> BoundRequest {
        let mut request = request.clone();
        request
            .headers
            .insert("Authorization", format!("DPoP {}", token.expose_secret()));
        request.follow_redirects = false;
        BoundRequest {
            request,
            dpop: self.clone(),
        }
    }
}

impl crate::Exchange for BoundRequest {
    type Output = Response;

    fn request(&self) -> Result<crate::Request, Error> {
        Ok(self.request.clone())
    }

    fn response(self, response: Response) -> Result<Response, Error> {
        Ok(response)
    }

    fn dpop(&self) -> Option<&Dpop> {
        Some(&self.dpop)
    }
}
