//! Token introspection (RFC 7662): the request, live and inactive answers, a body that is not
//! JSON, and the introspection response's wire format.

use std::time::UNIX_EPOCH;

use latchkey::{AccessToken, Error, Exchange, Introspection, Response};

use crate::support::{discovered_client as client, round_trip};

#[test]
fn introspection() {
    let client = client();
    let ask = client.introspect(&AccessToken::new("at-1")).unwrap();
    assert_eq!(
        String::from_utf8(ask.request().unwrap().body).unwrap(),
        "client_id=app&client_secret=s3cret&token=at-1&token_type_hint=access_token"
    );
    let live = ask
        .clone()
        .response(Response::json(
            200,
            r#"{"active":true,"client_id":"l238j323ds-23ij4","username":"jdoe","scope":"read write dolphin","sub":"Z5O3upPC88QrAjx00dis","aud":"https://protected.example.net/resource","iss":"https://server.example.com/","exp":1419356238,"iat":1419350238,"extension_field":"twenty-seven"}"#,
            UNIX_EPOCH,
        ))
        .unwrap();
    assert!(live.active);
    assert_eq!(live.aud, ["https://protected.example.net/resource"]);
    assert_eq!(live.exp, Some(1419356238));
    assert_eq!(live.extra["extension_field"], "twenty-seven");
    let dead = ask
        .clone()
        .response(Response::json(200, r#"{"active":false}"#, UNIX_EPOCH))
        .unwrap();
    assert!(!dead.active);
    assert!(matches!(
        ask.response(Response::json(200, "<html>", UNIX_EPOCH)),
        Err(Error::Response(_))
    ));
}

#[test]
fn introspection_wire_format() {
    round_trip::<Introspection>(&[
        (r#"{"active":false}"#, Ok(r#"{"active":false}"#)),
        (
            r#"{"active":true,"scope":"a b","client_id":"c","exp":1,"iat":2,"nbf":3,"sub":"s","aud":"x","iss":"i","jti":"j","ext":{"k":true}}"#,
            Ok(
                r#"{"active":true,"scope":"a b","client_id":"c","exp":1,"iat":2,"nbf":3,"sub":"s","aud":["x"],"iss":"i","jti":"j","ext":{"k":true}}"#,
            ),
        ),
        (
            r#"{"active":true,"aud":["x","y"]}"#,
            Ok(r#"{"active":true,"aud":["x","y"]}"#),
        ),
        (r#"{"active":true,"aud":[]}"#, Ok(r#"{"active":true}"#)),
        (r#"{"active":true,"aud":null}"#, Ok(r#"{"active":true}"#)),
        (
            r#"{"active":true,"aud":5}"#,
            Err(
                r"invalid type: integer `5`, expected an audience string or a list of them at line 1 column 22",
            ),
        ),
        (
            r#"{"active":true,"aud":[1]}"#,
            Err(r"invalid type: integer `1`, expected a string at line 1 column 23"),
        ),
        (
            r#"{"active":true,"aud":"x","aud":"y"}"#,
            Err(r"duplicate field `aud` at line 1 column 30"),
        ),
        (
            r#"{"active":true,"exp":-1}"#,
            Err(r"invalid value: integer `-1`, expected u64 at line 1 column 23"),
        ),
        (
            r#"{"active":true,"exp":1.5}"#,
            Err(r"invalid type: floating point `1.5`, expected u64 at line 1 column 24"),
        ),
        (
            r#"{"active":"true"}"#,
            Err(r#"invalid type: string "true", expected a boolean at line 1 column 16"#),
        ),
        (
            r#"{"scope":"a"}"#,
            Err(r"missing field `active` at line 1 column 13"),
        ),
        (
            r#"{"active":true,"active":false}"#,
            Err(r"duplicate field `active` at line 1 column 23"),
        ),
        (
            r"[true]",
            Err(r"invalid type: sequence, expected struct Introspection at line 1 column 0"),
        ),
    ]);
}
