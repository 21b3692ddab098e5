//! What the server saw.

use crate::Encoding;

/// One request as the server received it, for assertions in tests.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The method, e.g. `POST`.
    pub method: String,
    /// The path, e.g. `/token`.
    pub path: String,
    /// The raw query string (without `?`), if any.
    pub query: Option<String>,
    /// The headers in arrival order, names lower-cased, values lossily decoded as UTF-8.
    pub headers: Vec<(String, String)>,
    /// The raw body bytes.
    pub body: Vec<u8>,
    /// The decoded parameters, in order and with duplicates: from the body for a request
    /// with a body (whatever its encoding), else from the query string. Empty when the body
    /// could not be decoded.
    pub params: Vec<(String, String)>,
    /// The body's encoding, or `None` when the parameters came from the query string (or
    /// the body could not be decoded).
    pub encoding: Option<Encoding>,
}

impl RecordedRequest {
    /// The first value of the header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first value of the decoded parameter `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (lossy UTF-8).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A DPoP proof (RFC 9449) the server received, and what it made of it, for assertions in
/// tests (see [`Mock::dpop_proofs`](crate::Mock::dpop_proofs)). The proof itself is not
/// kept.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DpopProof {
    /// The path it was sent to, e.g. `/token`.
    pub path: String,
    /// The thumbprint (RFC 7638) of its key, when its signature verified.
    pub jkt: Option<String>,
    /// Its `nonce` claim, if any.
    pub nonce: Option<String>,
    /// `None` when it was accepted, else the error it was refused with:
    /// `invalid_dpop_proof` or `use_dpop_nonce`.
    pub error: Option<String>,
}
