//! `WWW-Authenticate` challenges (RFC 9110 §11.6.1), as resource servers send them on a 401
//! ([RFC 6750 §3](https://www.rfc-editor.org/rfc/rfc6750#section-3)).

/// One challenge: an auth scheme and its parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// The auth scheme, e.g. `Bearer`.
    pub scheme: String,
    /// The auth parameters, names lower-cased, values unquoted.
    pub params: Vec<(String, String)>,
}

impl Challenge {
    /// The value of a parameter (name compared case-insensitively).
    #[must_use]
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Parses every challenge in a `WWW-Authenticate` value. Never fails: what cannot be read
    /// is skipped.
    #[must_use]
    pub fn parse_all(value: &str) -> Vec<Self> {
        let mut parser = Parser {
            s: value.as_bytes(),
            i: 0,
        };
        let mut out: Vec<Self> = Vec::new();
        loop {
            parser.skip(|b| b == b' ' || b == b'\t' || b == b',');
            let Some(scheme) = parser.token() else { break };
            let mut challenge = Self {
                scheme: scheme.to_owned(),
                params: Vec::new(),
            };
            loop {
                parser.skip(|b| b == b' ' || b == b'\t');
                let save = parser.i;
                let Some(name) = parser.token() else { break };
                parser.skip(|b| b == b' ' || b == b'\t');
                if parser.peek() != Some(b'=') {
                    // A new challenge's scheme (or a token68): stop this challenge.
                    parser.i = save;
                    break;
                }
                parser.i += 1;
                if parser.peek() == Some(b'=') {
                    // token68 such as `abc==`: skip it.
                    parser.skip(|b| b == b'=');
                    continue;
                }
                parser.skip(|b| b == b' ' || b == b'\t');
                let value = if parser.peek() == Some(b'"') {
                    parser.quoted()
                } else {
                    parser.token().unwrap_or("").to_owned()
                };
                challenge.params.push((name.to_ascii_lowercase(), value));
                parser.skip(|b| b == b' ' || b == b'\t');
                if parser.peek() == Some(b',') {
                    parser.i += 1;
                } else {
                    break;
                }
            }
            out.push(challenge);
            if parser.i >= parser.s.len() {
                break;
            }
            // Guarantee progress on junk.
            if parser
                .peek()
                .is_some_and(|b| !is_tchar(b) && b != b',' && b != b' ')
            {
                parser.i += 1;
            }
        }
        out
    }

    /// The first challenge with the given scheme (case-insensitive) among `values`.
    #[must_use]
    pub fn find<'a>(values: impl IntoIterator<Item = &'a str>, scheme: &str) -> Option<Self> {
        values
            .into_iter()
            .flat_map(Self::parse_all)
            .find(|c| c.scheme.eq_ignore_ascii_case(scheme))
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~/".contains(&b)
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip(&mut self, f: impl Fn(u8) -> bool) {
        while self.peek().is_some_and(&f) {
            self.i += 1;
        }
    }

    fn token(&mut self) -> Option<&'a str> {
        let start = self.i;
        self.skip(is_tchar);
        if self.i == start {
            return None;
        }
        std::str::from_utf8(&self.s[start..self.i]).ok()
    }

    fn quoted(&mut self) -> String {
        self.i += 1;
        let mut out = Vec::new();
        while let Some(b) = self.peek() {
            self.i += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    if let Some(next) = self.peek() {
                        out.push(next);
                        self.i += 1;
                    }
                }
                _ => out.push(b),
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_with_error() {
        let c = Challenge::parse_all(
            r#"Bearer realm="example", error="invalid_token", error_description="The access token \"expired\"""#,
        );
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].scheme, "Bearer");
        assert_eq!(c[0].param("error"), Some("invalid_token"));
        assert_eq!(
            c[0].param("error_description"),
            Some("The access token \"expired\"")
        );
    }

    #[test]
    fn several_challenges() {
        let c = Challenge::parse_all(
            r#"Basic realm="a", Bearer error=invalid_token, DPoP algs="ES256""#,
        );
        let schemes: Vec<_> = c.iter().map(|c| c.scheme.as_str()).collect();
        assert_eq!(schemes, ["Basic", "Bearer", "DPoP"]);
        assert_eq!(c[1].param("error"), Some("invalid_token"));
        assert_eq!(
            Challenge::find(["x", "bearer"], "Bearer")
                .unwrap()
                .params
                .len(),
            0
        );
    }

    #[test]
    fn junk_never_loops_or_panics() {
        for s in [
            "",
            "=",
            "\"",
            "Bearer =",
            "Bearer a=\"unterminated",
            "é=é, ,,",
            "Negotiate abc==",
        ] {
            let _ = Challenge::parse_all(s);
        }
    }
}
