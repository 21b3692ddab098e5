//! [`ResourceServer`]: a small DPoP-checking resource server on `127.0.0.1`, for the token
//! managers' resource requests with tokens oidc-provider issued.
//!
//! Each request must carry `Authorization: DPoP <token>` and one `DPoP` proof
//! ([RFC 9449 §7](https://www.rfc-editor.org/rfc/rfc9449#section-7)). The server checks the
//! proof's `typ`, `alg` and signature (with the public key of its own header), `htm`, `htu`,
//! `iat` (within 60 s), a `jti` never seen before, `ath` (the token's hash) and, when it was
//! started to require one, its current nonce (else `401` with
//! `WWW-Authenticate: DPoP error="use_dpop_nonce"` and a fresh `DPoP-Nonce`). It then asks
//! oidc-provider's introspection endpoint whether the token is active and bound to the
//! proof's key (`cnf.jkt`, the key's RFC 7638 thumbprint). Every answer is recorded.

use std::collections::HashSet;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use latchkey::jose::{Algorithm, Jwk, Jws};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::{Provider, agent};

/// What the resource server answered one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answered {
    /// The status.
    pub status: u16,
    /// `ok`, or why the request was refused (the `error` of the challenge and its
    /// description).
    pub outcome: String,
}

#[derive(Default)]
struct State {
    seen_jti: HashSet<String>,
    nonce: Option<String>,
    nonces_issued: u32,
    answered: Vec<Answered>,
}

/// A DPoP-checking resource server on `127.0.0.1`: it checks each request's DPoP proof and
/// asks oidc-provider's introspection whether the token is bound to the proof's key. It
/// stops when the test process exits.
#[derive(Clone)]
pub struct ResourceServer {
    base: String,
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for ResourceServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceServer")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// The introspection credentials the resource server uses (a confidential client of
/// `interop/server.mjs`, which may introspect any token).
const INTROSPECTOR: (&str, &str) = (
    crate::clients::CONF_BASIC,
    crate::clients::CONF_BASIC_SECRET,
);

impl ResourceServer {
    /// Starts one that introspects tokens at `provider`, and asks every request for its
    /// current nonce when `require_nonce` is true.
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound.
    #[must_use]
    pub fn start(provider: &Provider, require_nonce: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().expect("local address").port();
        let base = format!("http://127.0.0.1:{port}");
        let state = Arc::new(Mutex::new(State::default()));
        let server = Self {
            base,
            state: Arc::clone(&state),
        };
        let introspection = provider.introspection_endpoint().to_owned();
        let handler = Handler {
            base: server.base.clone(),
            introspection,
            require_nonce,
            state,
        };
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let handler = handler.clone();
                thread::spawn(move || handler.serve(stream));
            }
        });
        server
    }

    /// `http://127.0.0.1:<port>`.
    #[must_use]
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Every answer so far, in order.
    #[must_use]
    pub fn answered(&self) -> Vec<Answered> {
        self.lock().answered.clone()
    }

    /// How many nonces the server has handed out (each `use_dpop_nonce` challenge hands out
    /// one).
    #[must_use]
    pub fn nonces_issued(&self) -> u32 {
        self.lock().nonces_issued
    }

    /// Forgets the current nonce: the next request is challenged again.
    pub fn rotate_nonce(&self) {
        self.lock().nonce = None;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Clone)]
struct Handler {
    base: String,
    introspection: String,
    require_nonce: bool,
    state: Arc<Mutex<State>>,
}

/// A refusal: the challenge's `error`, its description.
type Refusal = (&'static str, String);

struct Incoming {
    method: String,
    path: String,
    authorization: Vec<String>,
    proofs: Vec<String>,
}

impl Handler {
    fn serve(&self, stream: TcpStream) {
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let Some(incoming) = read_request(&stream) else {
            return;
        };
        let (status, outcome, extra) = match self.check(&incoming) {
            Ok(body) => (200, "ok".to_owned(), Ok(body)),
            Err((error, description)) => {
                let nonce = (error == "use_dpop_nonce").then(|| self.fresh_nonce());
                (401, format!("{error}: {description}"), Err((error, nonce)))
            }
        };
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .answered
            .push(Answered {
                status,
                outcome: outcome.clone(),
            });
        let mut head = format!("HTTP/1.1 {status} X\r\nConnection: close\r\n");
        let body = match extra {
            Ok(body) => {
                head.push_str("Content-Type: application/json\r\n");
                body.to_string()
            }
            Err((error, nonce)) => {
                let description = outcome.replace(['"', '\\'], "'");
                head.push_str(&format!(
                    "WWW-Authenticate: DPoP error=\"{error}\", error_description=\"{description}\", algs=\"ES256 EdDSA RS256 PS256\"\r\n"
                ));
                if let Some(nonce) = nonce {
                    head.push_str(&format!("DPoP-Nonce: {nonce}\r\n"));
                }
                String::new()
            }
        };
        head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        let mut stream = stream;
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(body.as_bytes());
    }

    fn fresh_nonce(&self) -> String {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.nonces_issued += 1;
        let nonce = format!("rs-nonce-{}", state.nonces_issued);
        state.nonce = Some(nonce.clone());
        nonce
    }

    fn check(&self, incoming: &Incoming) -> Result<Value, Refusal> {
        let invalid = |why: &str| ("invalid_token", why.to_owned());
        let bad_proof = |why: &str| ("invalid_dpop_proof", why.to_owned());
        let [authorization] = incoming.authorization.as_slice() else {
            return Err(invalid("exactly one Authorization header"));
        };
        let token = match authorization.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("dpop") => token.trim(),
            _ => return Err(invalid("the token must be sent as DPoP")),
        };
        let [proof] = incoming.proofs.as_slice() else {
            return Err(bad_proof("exactly one DPoP header"));
        };
        let jws = Jws::parse(proof).map_err(|e| bad_proof(&format!("unreadable: {e}")))?;
        if jws.typ() != Some("dpop+jwt") {
            return Err(bad_proof("typ is not dpop+jwt"));
        }
        let allowed = [
            Algorithm::ES256,
            Algorithm::EdDSA,
            Algorithm::RS256,
            Algorithm::PS256,
        ];
        if !allowed.contains(&jws.alg()) {
            return Err(bad_proof("alg not allowed"));
        }
        let header = proof
            .split('.')
            .next()
            .and_then(|h| URL_SAFE_NO_PAD.decode(h).ok())
            .and_then(|h| serde_json::from_slice::<Value>(&h).ok())
            .ok_or_else(|| bad_proof("unreadable header"))?;
        let public = header.get("jwk").ok_or_else(|| bad_proof("no jwk"))?;
        if ["d", "p", "q", "dp", "dq", "qi"]
            .iter()
            .any(|m| public.get(m).is_some())
        {
            return Err(bad_proof("the jwk has private members"));
        }
        let jwk = Jwk::from_json(public).ok_or_else(|| bad_proof("unusable jwk"))?;
        jws.verify_key(&jwk)
            .map_err(|e| bad_proof(&format!("signature: {e}")))?;
        let claims: Value = serde_json::from_slice(jws.unverified_payload())
            .map_err(|_| bad_proof("claims are not JSON"))?;
        let claim = |name: &str| claims.get(name).and_then(Value::as_str);
        if claim("htm") != Some(incoming.method.as_str()) {
            return Err(bad_proof("htm"));
        }
        let path = incoming.path.split('?').next().unwrap_or_default();
        if claim("htu") != Some(format!("{}{path}", self.base).as_str()) {
            return Err(bad_proof("htu"));
        }
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let iat = claims
            .get("iat")
            .and_then(Value::as_u64)
            .unwrap_or_default();
        if iat.abs_diff(now) > 60 {
            return Err(bad_proof("iat outside 60 s"));
        }
        if claim("ath") != Some(latchkey::dpop::ath(token).as_str()) {
            return Err(bad_proof("ath"));
        }
        let jti = claim("jti").ok_or_else(|| bad_proof("no jti"))?.to_owned();
        {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if self.require_nonce
                && (state.nonce.is_none() || claim("nonce") != state.nonce.as_deref())
            {
                return Err(("use_dpop_nonce", "a fresh nonce is required".to_owned()));
            }
            if !state.seen_jti.insert(jti) {
                return Err(bad_proof("jti replayed"));
            }
        }
        let jkt = thumbprint(public).ok_or_else(|| bad_proof("no thumbprint"))?;
        let introspected = self.introspect(token).map_err(|why| invalid(&why))?;
        if introspected.get("active") != Some(&Value::Bool(true)) {
            return Err(invalid("not active"));
        }
        let bound = introspected
            .pointer("/cnf/jkt")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("the token is not DPoP-bound"))?;
        if bound != jkt {
            return Err(invalid("the token is bound to another key"));
        }
        Ok(json!({
            "ok": true,
            "sub": introspected.get("sub"),
            "client_id": introspected.get("client_id"),
            "jkt": jkt,
            "method": incoming.method,
        }))
    }

    fn introspect(&self, token: &str) -> Result<Value, String> {
        let (id, secret) = INTROSPECTOR;
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
        let mut answer = agent(None)
            .post(&self.introspection)
            .header("Authorization", format!("Basic {basic}"))
            .send_form([("token", token)])
            .map_err(|e| format!("introspection failed: {e}"))?;
        let text = answer
            .body_mut()
            .read_to_string()
            .map_err(|e| format!("introspection answer: {e}"))?;
        serde_json::from_str(&text).map_err(|e| format!("introspection answer: {e}"))
    }
}

/// The RFC 7638 thumbprint of a public JWK: base64url(SHA-256) of its required members in
/// lexicographic order with no white space.
fn thumbprint(jwk: &Value) -> Option<String> {
    let members: &[&str] = match jwk.get("kty")?.as_str()? {
        "EC" => &["crv", "kty", "x", "y"],
        "OKP" => &["crv", "kty", "x"],
        "RSA" => &["e", "kty", "n"],
        _ => return None,
    };
    let mut required = serde_json::Map::new();
    for member in members {
        required.insert((*member).to_owned(), jwk.get(*member)?.clone());
    }
    // serde_json's map is ordered by key, and `to_string` writes no white space.
    let canonical = Value::Object(required).to_string();
    Some(URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes())))
}

fn read_request(stream: &TcpStream) -> Option<Incoming> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let (mut authorization, mut proofs, mut length) = (Vec::new(), Vec::new(), 0usize);
    loop {
        line.clear();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        let value = value.trim().to_owned();
        match name.trim().to_ascii_lowercase().as_str() {
            "authorization" => authorization.push(value),
            "dpop" => proofs.push(value),
            "content-length" => length = value.parse().ok()?,
            _ => {}
        }
    }
    let mut body = vec![0; length.min(1 << 20)];
    reader.read_exact(&mut body).ok()?;
    Some(Incoming {
        method,
        path,
        authorization,
        proofs,
    })
}
