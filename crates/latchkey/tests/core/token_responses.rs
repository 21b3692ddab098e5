//! Reading token endpoint answers: token responses and OAuth error objects, pinned input by input
//! (see `support.rs` for how the tables were recorded).

use std::time::UNIX_EPOCH;

use latchkey::{Dialect, Response, ServerError, TokenSet};

use crate::support::{Want, check, outcome};

#[test]
fn token_responses() {
    let cases: &[(&str, Want)] = &[
        (
            r#"{"access_token":"a","token_type":"Bearer"}"#,
            Ok(r#"{"access_token":"a","token_type":"Bearer"}"#),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","access_token":"b"}"#,
            Err(r"invalid token response: duplicate field `access_token` at line 1 column 56"),
        ),
        (
            r#"{"access_token":null,"token_type":"Bearer"}"#,
            Err(
                r"invalid token response: invalid type: null, expected a string at line 1 column 20",
            ),
        ),
        (
            r#"{"access_token":"a","token_type":null}"#,
            Err(
                r"invalid token response: invalid type: null, expected a string at line 1 column 37",
            ),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","expires_in":null}"#,
            Err(r"response member expires_in is invalid: not a non-negative number of seconds"),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","expires_in":60,"created_at":null}"#,
            Err(r"response member created_at is invalid: not a non-negative number of seconds"),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","created_at":null}"#,
            Err(r"response member created_at is invalid: not a non-negative number of seconds"),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","expires_in":true}"#,
            Err(r"response member expires_in is invalid: not a non-negative number of seconds"),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","expires_in":[]}"#,
            Err(
                r"invalid token response: invalid type: sequence, expected a number of seconds at line 1 column 57",
            ),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","expires_in":1,"expires_in":2}"#,
            Err(r"invalid token response: duplicate field `expires_in` at line 1 column 69"),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","refresh_token":null}"#,
            Ok(r#"{"access_token":"a","token_type":"Bearer"}"#),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","refresh_token":null,"refresh_token":"r"}"#,
            Err(r"invalid token response: duplicate field `refresh_token` at line 1 column 78"),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","refresh_token":"r","refresh_token":"s"}"#,
            Err(r"invalid token response: duplicate field `refresh_token` at line 1 column 77"),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","refresh_token":""}"#,
            Ok(r#"{"access_token":"a","token_type":"Bearer"}"#),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","refresh_token":5}"#,
            Err(
                r"invalid token response: invalid type: integer `5`, expected a string at line 1 column 59",
            ),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","scope":null}"#,
            Ok(r#"{"access_token":"a","token_type":"Bearer"}"#),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","scope":["a","b"]}"#,
            Ok(r#"{"access_token":"a","token_type":"Bearer","scope":"a b"}"#),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","scope":[]}"#,
            Ok(r#"{"access_token":"a","token_type":"Bearer","scope":""}"#),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","scope":["a",1]}"#,
            Err(
                r"invalid token response: invalid type: integer `1`, expected a string at line 1 column 56",
            ),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","scope":5}"#,
            Err(
                r"invalid token response: invalid type: integer `5`, expected a scope string or a list of scopes at line 1 column 51",
            ),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","scope":"x","scope":"y"}"#,
            Err(r"invalid token response: duplicate field `scope` at line 1 column 61"),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","scope":null,"scope":"y"}"#,
            Err(r"invalid token response: duplicate field `scope` at line 1 column 62"),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","x":1,"x":2}"#,
            Ok(r#"{"access_token":"a","token_type":"Bearer","extra":{"x":2}}"#),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","id_token":"i","created_at":5}"#,
            Ok(
                r#"{"access_token":"a","token_type":"Bearer","extra":{"created_at":5,"id_token":"i"}}"#,
            ),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","created_at":5,"expires_in":10}"#,
            Ok(
                r#"{"access_token":"a","token_type":"Bearer","expires_in":10,"expires_at":15,"extra":{"created_at":5}}"#,
            ),
        ),
        (
            r#"{"error":"invalid_grant","error_description":"x","error_description":"y"}"#,
            Err(r"invalid token response: duplicate field `error_description` at line 1 column 68"),
        ),
        (
            r#"{"error":"invalid_grant","error_description":null,"error_uri":null}"#,
            Err(r"server error invalid_grant (HTTP 200)"),
        ),
        (
            r#"{"error":"invalid_grant","error":"x"}"#,
            Err(r"invalid token response: duplicate field `error` at line 1 column 32"),
        ),
        (
            r#"{"error":null,"access_token":"a","token_type":"Bearer"}"#,
            Err(
                r"invalid token response: invalid type: null, expected a string at line 1 column 13",
            ),
        ),
        (
            r#"{"error":5}"#,
            Err(
                r"invalid token response: invalid type: integer `5`, expected a string at line 1 column 10",
            ),
        ),
        (
            r#"{"error":"e","error_description":5}"#,
            Err(
                r"invalid token response: invalid type: integer `5`, expected a string at line 1 column 34",
            ),
        ),
        (
            r#"{"access_tok\u0065n":"a","token_type":"Bearer"}"#,
            Ok(r#"{"access_token":"a","token_type":"Bearer"}"#),
        ),
        (
            r#"{"access_token":"a\nb","token_type":"Bearer"}"#,
            Ok(r#"{"access_token":"a\nb","token_type":"Bearer"}"#),
        ),
        (r#"["a","Bearer"]"#, Err(r"not a JSON object")),
        (
            r#"{"access_token":"a","token_type":"Bearer"} x"#,
            Err(r"invalid token response: trailing characters at line 1 column 44"),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer""#,
            Err(r"invalid token response: EOF while parsing an object at line 1 column 41"),
        ),
        (r"", Err(r"not a JSON object")),
        (r"null", Err(r"not a JSON object")),
    ];
    for (body, want) in cases {
        let response = Response::json(200, *body, UNIX_EPOCH);
        let got = outcome(
            TokenSet::from_response(&response, &Dialect::default(), &[]),
            |tokens| serde_json::to_string(&tokens).unwrap(),
        );
        check(body, got, *want);
    }
}

#[test]
fn error_objects() {
    let cases: &[(&str, Option<&str>)] = &[
        (
            r#"{"error":"invalid_grant"}"#,
            Some(r"InvalidGrant None None"),
        ),
        (
            r#"{"error":"invalid_grant","error_description":"x","error_uri":"u","other":[1]}"#,
            Some(r#"InvalidGrant Some("x") Some("u")"#),
        ),
        (
            r#"{"error":"invalid_grant","error_description":"x","error_description":"y"}"#,
            None,
        ),
        (
            r#"{"error":"invalid_grant","error_description":null}"#,
            Some(r"InvalidGrant None None"),
        ),
        (r#"{"error":null}"#, None),
        (r#"{"error":5}"#, None),
        (r#"{"error_description":"x"}"#, None),
        (r#"{"error":"a","error":"b"}"#, None),
        (r#"["invalid_grant"]"#, None),
        (r#"["invalid_grant","d","u"]"#, None),
        (r#" {"error":"e"}"#, Some(r#"Other("e") None None"#)),
        (r#"{"error":"e"} x"#, None),
        (r#"{"error":"e","error_description":5}"#, None),
        (
            r#"{"error":"e\u0000","error_description":"a\u202eb"}"#,
            Some(r#"Other("e\0") Some("a\u{202e}b") None"#),
        ),
    ];
    for (body, want) in cases {
        let got = ServerError::from_json(Some(400), body.as_bytes())
            .map(|e| format!("{:?} {:?} {:?}", e.code, e.description, e.uri));
        assert_eq!(got.as_deref(), *want, "{body}");
    }
}
