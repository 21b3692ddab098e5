use super::*;
use crate::ErrorCode;

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn parse(body: &str) -> Result<TokenSet, Error> {
    TokenSet::from_response(
        &Response::json(200, body, at(1_000_000)),
        &Dialect::default(),
        &[],
    )
}

#[test]
fn auth0_style() {
    let t = parse(r#"{"access_token":"eyJz93a...k4laUWw","token_type":"Bearer","scope":"USER","expires_in":86400}"#).unwrap();
    assert_eq!(t.access_token().expose_secret(), "eyJz93a...k4laUWw");
    assert_eq!(t.token_type(), &TokenType::Bearer);
    assert_eq!(t.expires_at(), Some(at(1_000_000 + 86400)));
    assert_eq!(t.scope(), Some("USER"));
}

#[test]
fn token_type_any_case_and_expires_in_as_string() {
    let a = parse(r#"{"access_token":"a","token_type":"bEaReR","expires_in":"3600"}"#).unwrap();
    let b = parse(r#"{"access_token":"a","token_type":"Bearer","expires_in":3600}"#).unwrap();
    assert_eq!(a.token_type(), &TokenType::Bearer);
    assert_eq!(a.expires_at(), b.expires_at());
    assert_eq!(a.expires_in(), Some(3600));
}

#[test]
fn doorkeeper_created_at_without_expires_in_is_unknown_expiry() {
    let t =
        parse(r#"{"access_token":"lt_x","token_type":"bearer","created_at":1529032029}"#).unwrap();
    assert_eq!(t.expires_at(), None);
    assert!(!t.is_expired(at(u32::MAX as u64)));
    assert_eq!(t.extra()["created_at"], 1529032029);
}

#[test]
fn created_at_is_used_with_expires_in() {
    let t = parse(
        r#"{"access_token":"x","token_type":"bearer","created_at":1529032029,"expires_in":7200}"#,
    )
    .unwrap();
    assert_eq!(t.expires_at(), Some(at(1529032029 + 7200)));
}

#[test]
fn extras_are_kept() {
    let t = parse(
        r#"{"access_token":"x","token_type":"bearer","id_token":"a.b.c","custom":{"k":[1]}}"#,
    )
    .unwrap();
    assert_eq!(t.id_token(), Some("a.b.c"));
    assert_eq!(t.extra()["custom"]["k"][0], 1);
}

#[test]
fn error_with_200_is_a_server_error() {
    let e = parse(r#"{"error":"bad_verification_code","error_description":"The code passed is incorrect or expired."}"#).unwrap_err();
    assert_eq!(
        e.server_code(),
        Some(&ErrorCode::Other("bad_verification_code".into()))
    );
}

#[test]
fn error_status_with_json() {
    let r = Response::json(400, r#"{"error":"invalid_grant"}"#, at(0));
    let e = TokenSet::from_response(&r, &Dialect::default(), &[]).unwrap_err();
    assert!(e.is_invalid_grant());
}

#[test]
fn html_error_page_is_a_response_error_with_excerpt() {
    let mut headers = crate::drive::Headers::new();
    headers.append("Content-Type", "text/html");
    let r = Response::new(
        502,
        headers,
        b"<html><body>Bad Gateway secretcode</body></html>".to_vec(),
        at(0),
    );
    let e = TokenSet::from_response(&r, &Dialect::default(), &["secretcode"]).unwrap_err();
    match &e {
        Error::Response(ResponseError::Unexpected {
            status,
            content_type,
            excerpt,
            ..
        }) => {
            assert_eq!(*status, 502);
            assert_eq!(content_type.as_deref(), Some("text/html"));
            assert!(excerpt.starts_with("<html><body>Bad Gateway"));
            assert!(!excerpt.contains("secretcode"));
        }
        other => panic!("{other:?}"),
    }
    assert!(!e.to_string().contains("secretcode"));
    // The same page with 200 is not "a missing access_token" either.
    let r = Response::new(
        200,
        crate::drive::Headers::new(),
        b"<html>oops</html>".to_vec(),
        at(0),
    );
    assert!(matches!(
        TokenSet::from_response(&r, &Dialect::default(), &[]),
        Err(Error::Response(ResponseError::Unexpected {
            status: 200,
            ..
        }))
    ));
}

#[test]
fn any_2xx_is_success() {
    let r = Response::json(201, r#"{"access_token":"x","token_type":"bearer"}"#, at(0));
    assert!(TokenSet::from_response(&r, &Dialect::default(), &[]).is_ok());
}

#[test]
fn unknown_token_type_refused_by_default() {
    let e = parse(r#"{"access_token":"x","token_type":"mac"}"#).unwrap_err();
    assert_eq!(
        e,
        Error::Response(ResponseError::UnsupportedTokenType("mac".into()))
    );
    let dialect = Dialect {
        accept_any_token_type: true,
        ..Dialect::default()
    };
    let r = Response::json(200, r#"{"access_token":"x","token_type":"mac"}"#, at(0));
    let t = TokenSet::from_response(&r, &dialect, &[]).unwrap();
    assert_eq!(t.token_type(), &TokenType::Other("mac".into()));
}

#[test]
fn missing_token_type_only_with_dialect() {
    let e = parse(r#"{"access_token":"x"}"#).unwrap_err();
    assert_eq!(
        e,
        Error::Response(ResponseError::MissingField("token_type"))
    );
    let dialect = Dialect {
        missing_token_type_is_bearer: true,
        ..Dialect::default()
    };
    let r = Response::json(200, r#"{"access_token":"x"}"#, at(0));
    assert_eq!(
        TokenSet::from_response(&r, &dialect, &[])
            .unwrap()
            .token_type(),
        &TokenType::Bearer
    );
}

#[test]
fn hostile_values_are_typed_errors() {
    for body in [
        r#"{"access_token":"x","token_type":"bearer","expires_in":-5}"#,
        r#"{"access_token":"x","token_type":"bearer","expires_in":"soon"}"#,
        r#"{"access_token":"x","token_type":"bearer","expires_in":18446744073709551615}"#,
        r#"{"access_token":5,"token_type":"bearer"}"#,
        r#"{"access_token":"","token_type":"bearer"}"#,
        r#"{"access_token":"a","access_token":"b","token_type":"bearer"}"#,
        r#"[1,2]"#,
        r#"{"token_type":"bearer"}"#,
        "",
        "null",
    ] {
        let e = parse(body).unwrap_err();
        assert!(matches!(e, Error::Response(_)), "{body}: {e:?}");
    }
}

#[test]
fn scope_as_list_and_null_refresh_token() {
    let t = parse(
        r#"{"access_token":"x","token_type":"bearer","scope":["a","b"],"refresh_token":null}"#,
    )
    .unwrap();
    assert_eq!(t.scope(), Some("a b"));
    assert_eq!(t.scopes().collect::<Vec<_>>(), ["a", "b"]);
    assert!(t.refresh_token().is_none());
}

#[test]
fn token_set_serde_round_trip() {
    let t = parse(r#"{"access_token":"x","token_type":"bearer","expires_in":10,"refresh_token":"r","id_token":"i"}"#).unwrap();
    let json = serde_json::to_string(&t).unwrap();
    let back: TokenSet = serde_json::from_str(&json).unwrap();
    assert_eq!(back.access_token().expose_secret(), "x");
    assert_eq!(back.expires_at(), t.expires_at());
    assert_eq!(back.refresh_token().unwrap().expose_secret(), "r");
    assert_eq!(back.id_token(), Some("i"));
    assert!(!format!("{t:?}").contains("\"x\""));
}

#[test]
fn strings_are_borrowed_from_the_body_when_they_can_be() {
    let body = br#"{"access_token":"a","token_type":"Bearer","refresh_token":"r","error_description":"d","x":1}"#;
    let raw = RawToken::read_json(body).unwrap();
    for member in [
        &raw.access_token,
        &raw.token_type,
        &raw.refresh_token,
        &raw.error_description,
    ] {
        assert!(matches!(member, Some(Cow::Borrowed(_))), "{member:?}");
    }
    assert_eq!(raw.extra["x"], 1);
    // A string with escapes needs a copy.
    let raw = RawToken::read_json(br#"{"access_token":"\u0061","refresh_token":"\n"}"#).unwrap();
    assert!(matches!(raw.access_token, Some(Cow::Owned(ref t)) if t == "a"));
    assert!(matches!(raw.refresh_token, Some(Cow::Owned(ref t)) if t == "\n"));
}

#[test]
fn bodies_read_as_str_or_bytes_give_serde_json_errors() {
    // Valid UTF-8 is read as a str, anything else as bytes: the same parse either way, and a
    // body that is not UTF-8 still gets serde_json's own error (with its position).
    let read =
        |body: &[u8]| RawToken::read_json(body).map(|raw| raw.access_token.map(Cow::into_owned));
    assert_eq!(
        read(br#"{"access_token":"caf\u00e9 \"x\"","token_type":"Bearer"}"#).unwrap(),
        Some("café \"x\"".to_owned())
    );
    assert_eq!(
        read("{\"access_token\":\"café\"}".as_bytes()).unwrap(),
        Some("café".to_owned())
    );
    let not_utf8 = b"{\"access_token\":\"caf\xe9\",\"token_type\":\"Bearer\"}";
    let expected = serde_json::from_slice::<Value>(not_utf8)
        .unwrap_err()
        .to_string();
    assert_eq!(read(not_utf8).unwrap_err().to_string(), expected);
    // Valid UTF-8 that fails: the same error as reading the bytes.
    for bad in [
        &br#"{"access_token":"a","access_token":"b"}"#[..],
        br#"{"access_token":5}"#,
        b"{\n\"expires_in\":[]}",
        br#"{"scope":["a",1]}"#,
        br#"{"access_token":"\ud800"}"#,
        br#"{"a":1} x"#,
    ] {
        let bytes = serde_json::from_slice::<RawToken<'_>>(bad).err().unwrap();
        assert_eq!(read(bad).unwrap_err().to_string(), bytes.to_string());
    }
    let mut err = Response::json(200, "", at(0));
    err.body = not_utf8.to_vec();
    let e = TokenSet::from_response(&err, &Dialect::default(), &[]).unwrap_err();
    assert!(
        e.to_string()
            .contains("invalid token response: invalid unicode code point"),
        "{e}"
    );
}

/// Found by the property test: a fractional `expires_in` near 5e14 is read the same as a
/// number and as text (serde_json's `float_roundtrip`: exact, not one unit off).
#[test]
fn a_large_fractional_expires_in_reads_the_same_as_number_and_text() {
    let number =
        parse(r#"{"access_token":"a","token_type":"Bearer","expires_in":500000000197174.945}"#);
    let text =
        parse(r#"{"access_token":"a","token_type":"Bearer","expires_in":"500000000197174.945"}"#);
    assert_eq!(number.unwrap().expires_in(), Some(500_000_000_197_174));
    assert_eq!(text.unwrap().expires_in(), Some(500_000_000_197_174));
}
