//! A minimal blocking HTTP client over ureq for exercising the mock on loopback.
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use latchkey_mock::MockServer;
use serde_json::Value;
use url::Url;

/// RFC 7636 Appendix B test vector.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
/// `BASE64URL(SHA256(VERIFIER))`.
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
pub const REDIRECT: &str = "https://app.example/callback";

pub fn agent_with(timeout: Option<Duration>) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .proxy(None)
        .timeout_global(timeout)
        .build()
        .into()
}

pub fn agent() -> ureq::Agent {
    agent_with(Some(Duration::from_secs(30)))
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    /// Asserts an RFC 6749 §5.2 error answer and returns its description.
    pub fn assert_error(&self, status: u16, error: &str) -> String {
        assert_eq!(self.status, status, "body: {}", self.body);
        let json = self.json();
        assert_eq!(json["error"], error, "body: {}", self.body);
        assert_eq!(self.header("cache-control"), Some("no-store"));
        if status == 401 {
            assert!(
                self.header("www-authenticate")
                    .is_some_and(|v| v.starts_with("Basic")),
                "{:?}",
                self.headers
            );
        }
        json["error_description"].as_str().unwrap_or("").to_owned()
    }

    pub fn location(&self) -> Url {
        Url::parse(self.header("location").expect("no Location header")).unwrap()
    }
}

pub fn finish(result: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Resp {
    let mut response = result.expect("request failed");
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = response
        .body_mut()
        .read_to_string()
        .expect("reading the body");
    Resp {
        status,
        headers,
        body,
    }
}

pub fn form_encode(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// `Authorization: Basic` with both parts form-urlencoded first (RFC 6749 §2.3.1).
pub fn basic(id: &str, secret: &str) -> String {
    let id: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
    let secret: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

pub fn post(url: &str, content_type: &str, body: &str, headers: &[(&str, &str)]) -> Resp {
    let mut request = agent().post(url).header("content-type", content_type);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    finish(request.send(body))
}

pub fn post_form(url: &str, pairs: &[(&str, &str)]) -> Resp {
    post(
        url,
        "application/x-www-form-urlencoded",
        &form_encode(pairs),
        &[],
    )
}

pub fn post_form_basic(url: &str, auth: &str, pairs: &[(&str, &str)]) -> Resp {
    post(
        url,
        "application/x-www-form-urlencoded",
        &form_encode(pairs),
        &[("authorization", auth)],
    )
}

pub fn multipart(boundary: &str, pairs: &[(&str, &str)]) -> String {
    let mut body = String::new();
    for (name, value) in pairs {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    body
}

pub fn get(url: &str, headers: &[(&str, &str)]) -> Resp {
    let mut request = agent().get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    finish(request.call())
}

pub fn authorize(server: &MockServer, params: &[(&str, &str)]) -> Resp {
    get(
        &format!(
            "{}?{}",
            server.authorization_endpoint(),
            form_encode(params)
        ),
        &[],
    )
}

pub fn query_param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.into_owned())
}

pub fn fragment_param(url: &Url, name: &str) -> Option<String> {
    url::form_urlencoded::parse(url.fragment().unwrap_or("").as_bytes())
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.into_owned())
}

/// Runs `/authorize` with `response_type=code` and returns the code.
pub fn get_code(server: &MockServer, client_id: &str, extra: &[(&str, &str)]) -> String {
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("state", "xyz"),
    ];
    params.extend_from_slice(extra);
    let resp = authorize(server, &params);
    assert_eq!(resp.status, 302, "{}", resp.body);
    let location = resp.location();
    assert_eq!(query_param(&location, "state").as_deref(), Some("xyz"));
    query_param(&location, "code").unwrap_or_else(|| panic!("no code in {location}"))
}

pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

pub fn userinfo(server: &MockServer, token: &str) -> Resp {
    get(
        &server.userinfo_endpoint(),
        &[("authorization", &bearer(token))],
    )
}
