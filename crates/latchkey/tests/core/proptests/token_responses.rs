//! Property tests for the token response and OAuth error object parsers: no input panics,
//! `expires_in` as a number or a string agree, error objects are server errors whatever the
//! status, secrets are masked in unexpected-response errors.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use latchkey::{
    Client, Dialect, Error, ErrorCode, Response, ServerError, State, TokenSet, TokenType,
};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::callbacks::text;

/// The members a token response parser looks at.
const TOKEN_MEMBERS: [&str; 10] = [
    "access_token",
    "token_type",
    "expires_in",
    "created_at",
    "refresh_token",
    "scope",
    "error",
    "error_description",
    "error_uri",
    "id_token",
];

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn lenient() -> Dialect {
    let mut d = Dialect::default();
    d.missing_token_type_is_bearer = true;
    d.accept_any_token_type = true;
    d
}

fn dialects() -> [Dialect; 2] {
    [Dialect::default(), lenient()]
}

fn member_name() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(&TOKEN_MEMBERS[..]).prop_map(str::to_owned),
        "[a-z_]{1,10}",
        any::<String>(),
    ]
}

/// Arbitrary JSON values, nested up to four levels.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        "[A-Za-z0-9 ._-]{0,12}".prop_map(Value::String),
        "[0-9]{1,25}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::btree_map(member_name(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Objects whose members are often the ones the parser knows, with any values.
fn token_like_object() -> impl Strategy<Value = Value> {
    proptest::collection::btree_map(member_name(), json_value(), 0..8)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
}

/// Raw JSON text of an object whose members may repeat.
fn object_with_repeats() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        (proptest::sample::select(&TOKEN_MEMBERS[..]), json_value()),
        0..8,
    )
    .prop_map(|members| {
        let members: Vec<String> = members
            .iter()
            .map(|(k, v)| format!("{}:{v}", Value::from(*k)))
            .collect();
        format!("{{{}}}", members.join(","))
    })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..128),
        json_value().prop_map(|v| v.to_string().into_bytes()),
        token_like_object().prop_map(|v| v.to_string().into_bytes()),
        object_with_repeats().prop_map(String::into_bytes),
        "<html>[ -~]{0,40}</html>".prop_map(String::into_bytes),
    ]
}

fn check_token_response(status: u16, body: &[u8]) -> Result<(), TestCaseError> {
    let response = Response::json(status, body.to_vec(), at(1_700_000_000));
    for (i, dialect) in dialects().iter().enumerate() {
        match TokenSet::from_response(&response, dialect, &["s3cr3t-value"]) {
            Ok(tokens) => {
                prop_assert!(response.is_success());
                prop_assert!(!tokens.access_token().expose_secret().is_empty());
                if i == 0 {
                    prop_assert!(matches!(
                        tokens.token_type(),
                        TokenType::Bearer | TokenType::DPoP
                    ));
                }
                let _ = format!("{tokens:?}");
            }
            Err(e) => {
                let _ = format!("{e} {e:?}");
            }
        }
    }
    if let Some(e) = ServerError::from_json(Some(status), body) {
        let _ = e.to_string();
    }
    Ok(())
}

proptest! {
    #[test]
    fn token_and_error_parsers_never_panic(status in 100u16..600, body in body()) {
        check_token_response(status, &body)?;
    }

    #[test]
    fn token_parser_never_panics_on_success(status in 200u16..300, body in body()) {
        check_token_response(status, &body)?;
    }

    #[test]
    fn expires_in_as_number_or_string_is_the_same(
        lifetime in prop_oneof![0u64..100_000_000, any::<u64>()],
        created_at in proptest::option::of(prop_oneof![0u64..4_000_000_000, any::<u64>()]),
        status in 200u16..300,
    ) {
        let received_at = at(1_700_000_000);
        let body = |expires_in: Value| {
            let mut m = Map::new();
            m.insert("access_token".into(), json!("at"));
            m.insert("token_type".into(), json!("Bearer"));
            m.insert("expires_in".into(), expires_in);
            if let Some(c) = created_at {
                m.insert("created_at".into(), json!(c));
            }
            Value::Object(m).to_string()
        };
        let parse = |b: String| TokenSet::from_response(&Response::json(status, b, received_at), &Dialect::default(), &[]);
        let number = parse(body(json!(lifetime)));
        let string = parse(body(json!(lifetime.to_string())));
        match (&number, &string) {
            (Ok(a), Ok(b)) => {
                prop_assert_eq!(a.expires_in(), Some(lifetime));
                prop_assert_eq!(b.expires_in(), Some(lifetime));
                prop_assert_eq!(a.expires_at(), b.expires_at());
                let issued = created_at.map_or(received_at, at);
                prop_assert_eq!(a.expires_at(), Some(issued + Duration::from_secs(lifetime)));
            }
            (Err(a), Err(b)) => prop_assert_eq!(a, b),
            _ => prop_assert!(false, "number {:?} vs string {:?}", number, string),
        }
        if created_at.is_none() {
            // The implicit flow reads the same lifetime from the fragment, counted from `now`.
            let client = Client::builder("app")
                .authorization_endpoint("https://auth.example/authorize")
                .build()
                .unwrap();
            let (_, pending) = client.implicit().state(State::new("s")).build().unwrap();
            let implicit = pending.callback(
                &client,
                &format!("https://app/cb#access_token=at&token_type=Bearer&state=s&expires_in={lifetime}"),
                received_at,
            );
            match (&number, &implicit) {
                (Ok(a), Ok(b)) => {
                    prop_assert_eq!(a.expires_in(), b.expires_in());
                    prop_assert_eq!(a.expires_at(), b.expires_at());
                }
                (Err(a), Err(b)) => prop_assert_eq!(a, b),
                _ => prop_assert!(false, "token response {:?} vs implicit {:?}", number, implicit),
            }
        }
    }

    #[test]
    fn expires_in_as_any_number_or_its_text_agree(
        number in prop_oneof![
            any::<u64>().prop_map(|n| n.to_string()),
            any::<i64>().prop_map(|n| n.to_string()),
            any::<f64>().prop_map(|f| f.to_string()),
            any::<f64>().prop_map(|f| format!("{f:e}")),
            "-?[1-9][0-9]{0,29}",
            "-?[1-9][0-9]{0,15}\\.[0-9]{1,4}",
            "-?[1-9](\\.[0-9]{1,3})?[eE][+-]?[0-9]{1,3}",
        ].prop_filter("a JSON number", |t| serde_json::from_str::<Value>(t).is_ok_and(|v| v.is_number())),
    ) {
        let token = |expires_in: &str| {
            let body = format!(r#"{{"access_token":"at","token_type":"Bearer","expires_in":{expires_in}}}"#);
            TokenSet::from_response(&Response::json(200, body, at(1_700_000_000)), &Dialect::default(), &[])
        };
        let as_number = token(&number);
        let as_string = token(&format!("\"{number}\""));
        match (&as_number, &as_string) {
            (Ok(a), Ok(b)) => {
                prop_assert_eq!(a.expires_in(), b.expires_in());
                prop_assert_eq!(a.expires_at(), b.expires_at());
            }
            (Err(_), Err(_)) => {}
            _ => prop_assert!(false, "{}: number {:?} vs string {:?}", number, as_number, as_string),
        }
    }

    #[test]
    fn error_object_with_success_status_is_a_server_error(
        status in 200u16..300,
        code in text(),
        description in proptest::option::of(proptest::option::of(text())),
        uri in proptest::option::of(proptest::option::of(text())),
        token in proptest::option::of(("[A-Za-z0-9]{1,20}", prop_oneof![Just("Bearer"), Just("bearer"), Just("mac")])),
        extra in proptest::collection::btree_map(
            member_name().prop_filter("not a token member", |n| !TOKEN_MEMBERS.contains(&n.as_str())),
            json_value(),
            0..4,
        ),
    ) {
        let mut m: Map<String, Value> = extra.into_iter().collect();
        m.insert("error".into(), json!(code));
        // `Some(None)` is an explicit `null`.
        if let Some(d) = &description {
            m.insert("error_description".into(), json!(d));
        }
        if let Some(u) = &uri {
            m.insert("error_uri".into(), json!(u));
        }
        if let Some((access_token, token_type)) = &token {
            m.insert("access_token".into(), json!(access_token));
            m.insert("token_type".into(), json!(token_type));
        }
        let body = Value::Object(m).to_string();
        let response = Response::json(status, body.clone(), at(0));
        for dialect in dialects() {
            let result = TokenSet::from_response(&response, &dialect, &[]);
            match result {
                Err(Error::Server(e)) => {
                    prop_assert_eq!(&e.code, &ErrorCode::parse(&code));
                    prop_assert_eq!(e.code.as_str(), code.as_str());
                    prop_assert_eq!(e.status, Some(status));
                    prop_assert_eq!(e.description.is_some(), matches!(description, Some(Some(_))));
                }
                other => prop_assert!(false, "{body}: {:?}", other),
            }
        }
        let e = ServerError::from_json(Some(status), body.as_bytes());
        prop_assert_eq!(e.map(|e| e.code), Some(ErrorCode::parse(&code)));
    }

    #[test]
    fn error_object_with_error_status_is_a_server_error(
        status in 300u16..600,
        code in "[a-z_]{1,20}",
    ) {
        let body = json!({ "error": code, "error_description": "nope" }).to_string();
        let result = TokenSet::from_response(&Response::json(status, body, at(0)), &Dialect::default(), &[]);
        prop_assert!(matches!(&result, Err(Error::Server(e)) if e.code.as_str() == code && e.status == Some(status)), "{:?}", result);
    }

    #[test]
    fn secrets_are_masked_in_unexpected_response_errors(
        status in 100u16..600,
        prefix in "[ -~]{0,100}",
        suffix in "[ -~]{0,100}",
        secret in "[A-Za-z][A-Za-z0-9]{11,23}",
    ) {
        let body = format!("<html>{prefix}{secret}{suffix}</html>");
        let response = Response::json(status, body, at(0));
        let result = TokenSet::from_response(&response, &Dialect::default(), &[&secret]);
        match result {
            Err(Error::Response(e)) => {
                let shown = format!("{e} {e:?}");
                prop_assert!(!shown.contains(&secret), "{}", shown);
            }
            other => prop_assert!(false, "{:?}", other),
        }
    }
}

/// A few fixed cases the strategies could miss.
#[test]
fn nested_and_huge_json_does_not_panic() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let deep_object = format!(
        "{{\"access_token\":\"a\",\"token_type\":\"Bearer\",\"x\":{}1{}}}",
        "[".repeat(200),
        "]".repeat(200)
    );
    for body in [
        deep.as_str(),
        deep_object.as_str(),
        r#"{"access_token":"a","token_type":"Bearer","expires_in":1e400}"#,
        r#"{"access_token":"a","token_type":"Bearer","expires_in":18446744073709551616}"#,
        r#"{"access_token":"a","token_type":"Bearer","expires_in":"18446744073709551615"}"#,
        r#"{"access_token":"a","token_type":"Bearer","expires_in":1,"created_at":18446744073709551615}"#,
        r#"{"access_token":"a","token_type":"Bearer","expires_in":-1}"#,
        r#"{"access_token":"a","token_type":"Bearer","expires_in":"NaN"}"#,
        r#"{"access_token":"a","token_type":"Bearer","expires_in":"inf"}"#,
        r#"{"access_token":"a","token_type":"Bearer","scope":["a",1]}"#,
    ] {
        for status in [200, 400] {
            let r = Response::json(status, body, at(1_700_000_000));
            for dialect in dialects() {
                let _ = TokenSet::from_response(&r, &dialect, &[]).map_err(|e| e.to_string());
            }
            let _ = ServerError::from_json(Some(status), body.as_bytes());
        }
    }
}
