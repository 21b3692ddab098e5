//! Values an application stores between requests keep their JSON form: a pending implicit or
//! code authorization between the redirect and the callback, a token set between runs, and the
//! enums inside them (see `support.rs` for how the tables were recorded).

use latchkey::{PendingAuthorization, PendingImplicit, PkceMethod, TokenSet, TokenType};

use crate::support::round_trip;

#[test]
fn pending_implicit() {
    round_trip::<PendingImplicit>(&[
        (
            r#"{"state":"st"}"#,
            Ok(r#"{"state":"st","require_iss":false}"#),
        ),
        (
            r#"{"state":"st","issuer":"https://as","require_iss":true,"x":[1]}"#,
            Ok(r#"{"state":"st","issuer":"https://as","require_iss":true}"#),
        ),
        (
            r#"{"state":"st","issuer":null}"#,
            Ok(r#"{"state":"st","require_iss":false}"#),
        ),
        (
            r#"{"state":"st","state":"st"}"#,
            Err(r"duplicate field `state` at line 1 column 21"),
        ),
        (
            r#"{"state":"st","issuer":null,"issuer":"a"}"#,
            Err(r"duplicate field `issuer` at line 1 column 36"),
        ),
        (
            r#"{"state":"st","require_iss":"yes"}"#,
            Err(r#"invalid type: string "yes", expected a boolean at line 1 column 33"#),
        ),
        (
            r#"{"state":"st","require_iss":null}"#,
            Err(r"invalid type: null, expected a boolean at line 1 column 32"),
        ),
        (
            r#"{"issuer":"a"}"#,
            Err(r"missing field `state` at line 1 column 14"),
        ),
        (
            r#"{"state":5}"#,
            Err(r"invalid type: integer `5`, expected a string at line 1 column 10"),
        ),
        (r#"["st"]"#, Ok(r#"{"state":"st","require_iss":false}"#)),
        (
            r#"["st","i",true]"#,
            Ok(r#"{"state":"st","issuer":"i","require_iss":true}"#),
        ),
        (
            // The fourth member is the OpenID Connect nonce, the fifth max_age.
            r#"["st","i",true,4]"#,
            Err(r"invalid type: integer `4`, expected a string at line 1 column 16"),
        ),
        (
            r#"["st","i",true,"n",60,4]"#,
            Err(r"trailing characters at line 1 column 23"),
        ),
        (
            r"[]",
            Err(
                r"invalid length 0, expected struct PendingImplicit with 5 elements at line 1 column 2",
            ),
        ),
        (
            r"[1]",
            Err(r"invalid type: integer `1`, expected a string at line 1 column 2"),
        ),
        (
            r"5",
            Err(r"invalid type: integer `5`, expected struct PendingImplicit at line 1 column 1"),
        ),
        (
            r"null",
            Err(r"invalid type: null, expected struct PendingImplicit at line 1 column 4"),
        ),
        (r"{", Err(r"EOF while parsing an object at line 1 column 1")),
    ]);
}

#[test]
fn pending_authorization() {
    round_trip::<PendingAuthorization>(&[
        (
            r#"{"state":"st","pkce_verifier":"0123456789012345678901234567890123456789abc","redirect_uri":"http://127.0.0.1/cb"}"#,
            Ok(
                r#"{"state":"st","pkce_verifier":"0123456789012345678901234567890123456789abc","redirect_uri":"http://127.0.0.1/cb","require_iss":false}"#,
            ),
        ),
        (
            r#"{"state":"st","pkce_verifier":"short"}"#,
            Err(r"invalid PKCE verifier: length must be 43 to 128 at line 1 column 38"),
        ),
        (
            r#"{"require_iss":false,"state":"st","issuer":"i"}"#,
            Ok(r#"{"state":"st","issuer":"i","require_iss":false}"#),
        ),
        (
            r#"{"state":"st","pkce_verifier":"0123456789012345678901234567890123456789abc","pkce_verifier":"0123456789012345678901234567890123456789abc"}"#,
            Err(r"duplicate field `pkce_verifier` at line 1 column 91"),
        ),
        (
            r#"["st",null,"r"]"#,
            Ok(r#"{"state":"st","redirect_uri":"r","require_iss":false}"#),
        ),
        (
            r#"["st","0123456789012345678901234567890123456789abc","r","i",true]"#,
            Ok(
                r#"{"state":"st","pkce_verifier":"0123456789012345678901234567890123456789abc","redirect_uri":"r","issuer":"i","require_iss":true}"#,
            ),
        ),
        (
            r#"{"pkce_verifier":null}"#,
            Err(r"missing field `state` at line 1 column 22"),
        ),
    ]);
}

#[test]
fn enums() {
    round_trip::<TokenType>(&[
        (r#""Bearer""#, Ok(r#""Bearer""#)),
        (r#""DPoP""#, Ok(r#""DPoP""#)),
        (
            r#""bearer""#,
            Err(
                r"unknown variant `bearer`, expected one of `Bearer`, `DPoP`, `Other` at line 1 column 8",
            ),
        ),
        (r#"{"Other":"mac"}"#, Ok(r#"{"Other":"mac"}"#)),
        (
            r#"{"Other":5}"#,
            Err(r"invalid type: integer `5`, expected a string at line 1 column 10"),
        ),
        (r#"{"Bearer":null}"#, Ok(r#""Bearer""#)),
        (
            r#""Other""#,
            Err(r"invalid type: unit variant, expected newtype variant"),
        ),
        (
            r#"{"Bearer":1}"#,
            Err(r"invalid type: integer `1`, expected unit at line 1 column 11"),
        ),
        (r"2", Err(r"expected value at line 1 column 1")),
        (r"0", Err(r"expected value at line 1 column 1")),
        (r"[]", Err(r"expected value at line 1 column 1")),
        (
            r#"{"Bearer":null,"x":1}"#,
            Err(r"expected value at line 1 column 14"),
        ),
    ]);
    round_trip::<PkceMethod>(&[
        (r#""S256""#, Ok(r#""S256""#)),
        (r#""Plain""#, Ok(r#""Plain""#)),
        (
            r#""plain""#,
            Err(r"unknown variant `plain`, expected `S256` or `Plain` at line 1 column 7"),
        ),
        (r#"{"S256":null}"#, Ok(r#""S256""#)),
        (r"0", Err(r"expected value at line 1 column 1")),
        (r"1", Err(r"expected value at line 1 column 1")),
        (r"2", Err(r"expected value at line 1 column 1")),
        (r"null", Err(r"expected value at line 1 column 1")),
    ]);
}

#[test]
fn token_set() {
    round_trip::<TokenSet>(&[
        (
            r#"{"access_token":"a","token_type":"Bearer"}"#,
            Ok(r#"{"access_token":"a","token_type":"Bearer"}"#),
        ),
        (
            r#"{"access_token":"a","token_type":{"Other":"mac"},"expires_in":60,"expires_at":1700000000,"refresh_token":"r","scope":"s t","extra":{"id_token":"x"}}"#,
            Ok(
                r#"{"access_token":"a","token_type":{"Other":"mac"},"expires_in":60,"expires_at":1700000000,"refresh_token":"r","scope":"s t","extra":{"id_token":"x"}}"#,
            ),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","extra":{}}"#,
            Ok(r#"{"access_token":"a","token_type":"Bearer"}"#),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","expires_at":null,"unknown":1}"#,
            Ok(r#"{"access_token":"a","token_type":"Bearer"}"#),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","expires_at":-1}"#,
            Err(r"invalid value: integer `-1`, expected u64 at line 1 column 57"),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","expires_at":18446744073709551615}"#,
            Ok(r#"{"access_token":"a","token_type":"Bearer"}"#),
        ),
        (
            r#"{"access_token":"a"}"#,
            Err(r"missing field `token_type` at line 1 column 20"),
        ),
        (
            r#"{"access_token":"a","token_type":"Bearer","access_token":"b"}"#,
            Err(r"duplicate field `access_token` at line 1 column 56"),
        ),
        (
            r#"{"access_token":null,"token_type":"Bearer"}"#,
            Err(r"invalid type: null, expected a string at line 1 column 20"),
        ),
        (
            r#"["a","Bearer",1,2,"r","s",{}]"#,
            Ok(
                r#"{"access_token":"a","token_type":"Bearer","expires_in":1,"expires_at":2,"refresh_token":"r","scope":"s"}"#,
            ),
        ),
        (
            r#"["a","Bearer"]"#,
            Ok(r#"{"access_token":"a","token_type":"Bearer"}"#),
        ),
        (
            r#"["a"]"#,
            // The eighth and ninth members are the ID token claims and the DPoP key (feature
            // `oidc`), the last the certificate binding (mutual TLS).
            Err(if cfg!(feature = "oidc") {
                r"invalid length 1, expected struct TokenSet with 10 elements at line 1 column 5"
            } else {
                r"invalid length 1, expected struct TokenSet with 8 elements at line 1 column 5"
            }),
        ),
    ]);
}
