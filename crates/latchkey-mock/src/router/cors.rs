//! CORS (the Fetch standard's cross-origin checks) for a single-page app in a browser:
//! preflights answered, and `Access-Control-Allow-Origin` on the answers to requests from
//! an allowed origin ([`MockServerBuilder::cors_origins`](crate::MockServerBuilder::cors_origins)).

use crate::http::{Response, Routed, SocketFault};

/// What a browser may send beyond the CORS-safelisted request headers.
const ALLOW_HEADERS: &str = "authorization, content-type, dpop";

/// Response headers a script may read beyond the safelisted ones: what the core looks at.
const EXPOSE_HEADERS: &str = "retry-after, www-authenticate, dpop-nonce";

/// The CORS side of one request: its `Origin`, if the server allows it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cors {
    /// Any CORS origin is configured at all (else nothing here applies).
    enabled: bool,
    /// The request's `Origin`, when it is one of the allowed origins.
    allowed: Option<String>,
    /// An `OPTIONS` request with `Access-Control-Request-Method`.
    preflight: bool,
}

impl Cors {
    /// The CORS side of a request with these headers, for a server that allows `origins`.
    pub(crate) fn new(origins: &[String], method: &str, headers: &[(String, String)]) -> Self {
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        let enabled = !origins.is_empty();
        Self {
            enabled,
            allowed: header("origin")
                .filter(|origin| origins.iter().any(|allowed| allowed == origin))
                .map(str::to_owned),
            preflight: enabled
                && method == "OPTIONS"
                && header("access-control-request-method").is_some(),
        }
    }

    /// A preflight: no endpoint sees it, and no armed fault is used up.
    pub(crate) fn is_preflight(&self) -> bool {
        self.preflight
    }

    /// The answer to a preflight: `204` with what is allowed, or `403` (and no CORS header,
    /// so the browser refuses) for an origin that is not allowed.
    pub(crate) fn preflight_answer(&self) -> Response {
        let Some(origin) = &self.allowed else {
            return Response {
                status: 403,
                headers: vec![("content-type".into(), "text/plain".into())],
                body: b"origin not allowed".to_vec(),
            };
        };
        let headers = [
            ("access-control-allow-origin", origin.as_str()),
            ("access-control-allow-methods", "GET, POST"),
            ("access-control-allow-headers", ALLOW_HEADERS),
            ("access-control-max-age", "600"),
            ("vary", "origin"),
        ];
        Response {
            status: 204,
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            body: Vec::new(),
        }
    }

    /// `routed` with the CORS headers for an allowed origin.
    pub(crate) fn decorate(&self, mut routed: Routed) -> Routed {
        if !self.enabled {
            return routed;
        }
        let response = match &mut routed {
            Routed::Answer(response)
            | Routed::Fault(
                SocketFault::Delay { response, .. } | SocketFault::Dribble { response, .. },
            ) => response,
            Routed::Fault(_) => return routed,
        };
        // Caches must not hand one origin's answer to another.
        response.headers.push(("vary".into(), "origin".into()));
        if let Some(origin) = &self.allowed {
            response
                .headers
                .push(("access-control-allow-origin".into(), origin.clone()));
            response.headers.push((
                "access-control-expose-headers".into(),
                EXPOSE_HEADERS.into(),
            ));
        }
        routed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn only_configured_origins_get_cors_headers() {
        let origins = vec!["http://127.0.0.1:8000".to_owned()];
        let ok = Cors::new(
            &origins,
            "POST",
            &headers(&[("Origin", "http://127.0.0.1:8000")]),
        );
        let answer = Routed::Answer(Response {
            status: 200,
            headers: Vec::new(),
            body: Vec::new(),
        });
        let decorated = ok.decorate(answer.clone());
        let response = decorated.response().unwrap();
        assert_eq!(
            response.header("access-control-allow-origin"),
            Some("http://127.0.0.1:8000")
        );
        let other = Cors::new(
            &origins,
            "POST",
            &headers(&[("origin", "http://evil.invalid")]),
        );
        let decorated = other.decorate(answer.clone());
        assert_eq!(
            decorated
                .response()
                .unwrap()
                .header("access-control-allow-origin"),
            None
        );
        // Without configured origins nothing changes, OPTIONS included.
        let off = Cors::new(
            &[],
            "OPTIONS",
            &headers(&[
                ("origin", "http://127.0.0.1:8000"),
                ("access-control-request-method", "POST"),
            ]),
        );
        assert!(!off.is_preflight());
        assert_eq!(off.decorate(answer.clone()), answer);
    }

    #[test]
    fn preflights_allow_the_origin_or_are_refused() {
        let origins = vec!["http://127.0.0.1:8000".to_owned()];
        let request = |origin: &str| {
            Cors::new(
                &origins,
                "OPTIONS",
                &headers(&[
                    ("origin", origin),
                    ("access-control-request-method", "POST"),
                ]),
            )
        };
        let ok = request("http://127.0.0.1:8000");
        assert!(ok.is_preflight());
        let answer = ok.preflight_answer();
        assert_eq!(answer.status, 204);
        assert_eq!(
            answer.header("access-control-allow-origin"),
            Some("http://127.0.0.1:8000")
        );
        assert!(
            answer
                .header("access-control-allow-methods")
                .unwrap()
                .contains("POST")
        );
        let refused = request("http://127.0.0.1:9999").preflight_answer();
        assert_eq!(refused.status, 403);
        assert_eq!(refused.header("access-control-allow-origin"), None);
    }
}
