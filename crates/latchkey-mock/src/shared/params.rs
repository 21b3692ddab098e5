//! A decoded request as the endpoints see it, and parameter look-ups.

use std::time::SystemTime;

use crate::client::Encoding;
use crate::shared::reply::Reply;

/// A decoded request, as the handlers need it.
#[derive(Debug)]
pub(crate) struct Incoming {
    /// The time the request is handled at.
    pub(crate) now: SystemTime,
    pub(crate) method: String,
    /// The first `Authorization` header, lossily decoded.
    pub(crate) authorization: Option<String>,
    /// Every `DPoP` header value, in order.
    pub(crate) dpop: Vec<String>,
    /// The path the request was sent to.
    pub(crate) path: String,
    /// The endpoint's URL (base URL and path): what a DPoP proof's `htu` must name.
    pub(crate) url: String,
    /// The parameters from the body, or from the query string for `GET` and `HEAD`.
    pub(crate) params: Vec<(String, String)>,
    pub(crate) encoding: Option<Encoding>,
    /// The body's media type, lower-cased, when it had a `Content-Type`.
    pub(crate) media_type: Option<String>,
    /// Why the parameters could not be decoded.
    pub(crate) decode_error: Option<String>,
}

impl Incoming {
    /// The parameters, with RFC 6749 look-up rules.
    pub(crate) fn params(&self) -> Params<'_> {
        Params(&self.params)
    }

    /// The parameters of a request an endpoint answers with an OAuth error object: refused
    /// with `invalid_request` when the body could not be decoded or a parameter other than
    /// `repeatable` was sent more than once.
    pub(crate) fn unique_params(&self, repeatable: &[&str]) -> Result<Params<'_>, Reply> {
        if let Some(why) = &self.decode_error {
            return Err(Reply::oauth_error("invalid_request", why));
        }
        let p = self.params();
        match p.duplicate_except(repeatable) {
            Some(name) => Err(Reply::oauth_error(
                "invalid_request",
                &format!("the {name} parameter was sent more than once"),
            )),
            None => Ok(p),
        }
    }
}

/// Parameter look-ups with RFC 6749 §3.1 rules: a parameter sent without a value is absent.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Params<'a>(pub(crate) &'a [(String, String)]);

impl<'a> Params<'a> {
    /// The first non-empty value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&'a str> {
        self.0
            .iter()
            .find(|(n, v)| n == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// How many times `name` was sent, empty or not.
    pub(crate) fn count(&self, name: &str) -> usize {
        self.0.iter().filter(|(n, _)| n == name).count()
    }

    /// Every non-empty value of `name`, in order (for repeatable parameters).
    pub(crate) fn all(&self, name: &str) -> Vec<&'a str> {
        self.0
            .iter()
            .filter(|(n, v)| n == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The first parameter sent more than once (RFC 6749 §3.1, §3.2), `resource` excepted
    /// (RFC 8707 lets it repeat).
    pub(crate) fn duplicate(&self) -> Option<&'a str> {
        self.duplicate_except(&["resource"])
    }

    /// The first parameter sent more than once that is not in `repeatable`.
    pub(crate) fn duplicate_except(&self, repeatable: &[&str]) -> Option<&'a str> {
        self.0.iter().enumerate().find_map(|(i, (name, _))| {
            (!repeatable.contains(&name.as_str()) && self.0[..i].iter().any(|(n, _)| n == name))
                .then_some(name.as_str())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn empty_values_are_absent_and_duplicates_found() {
        let list = pairs(&[
            ("a", ""),
            ("b", "1"),
            ("resource", "x"),
            ("resource", "y"),
            ("b", "2"),
        ]);
        let p = Params(&list);
        assert_eq!(p.get("a"), None);
        assert_eq!(p.count("a"), 1);
        assert_eq!(p.get("b"), Some("1"));
        assert_eq!(p.all("resource"), ["x", "y"]);
        assert_eq!(p.duplicate(), Some("b"));
        assert_eq!(p.duplicate_except(&["resource", "b"]), None);
    }
}
