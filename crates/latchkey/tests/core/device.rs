//! The device authorization grant (RFC 8628): the device authorization response's wire format.
//! The polling state machine is unit-tested in `src/flow/device.rs`.

use std::time::UNIX_EPOCH;

use latchkey::{Exchange, Response};

use crate::support::{Want, check, outcome, wire_client};

#[test]
fn device_authorization_responses() {
    let client = wire_client();
    let cases: &[(&str, Want)] = &[
        (
            r#"{"device_code":"d","user_code":"u","verification_uri":"https://as/v","expires_in":600}"#,
            Ok(r"u https://as/v None 600s 5s"),
        ),
        (
            r#"{"device_code":"d","user_code":"u","verification_url":"https://as/v","verification_url_complete":"https://as/v?u","expires_in":"600","interval":2}"#,
            Ok(r#"u https://as/v Some("https://as/v?u") 600s 2s"#),
        ),
        (
            r#"{"device_code":"d","user_code":"u","verification_uri":"https://as/v","verification_url":"https://as/w","expires_in":600}"#,
            Err(
                r"invalid device authorization response: duplicate field `verification_uri` at line 1 column 87",
            ),
        ),
        (
            r#"{"device_code":"d","user_code":"u","verification_uri":"https://as/v","expires_in":600,"interval":null}"#,
            Ok(r"u https://as/v None 600s 5s"),
        ),
        (
            r#"{"device_code":"d","user_code":"u","verification_uri":"https://as/v","expires_in":null}"#,
            Err(r"response member expires_in is invalid: not a non-negative number of seconds"),
        ),
        (
            r#"{"device_code":"d","verification_uri":"https://as/v","expires_in":600}"#,
            Err(
                r"invalid device authorization response: missing field `user_code` at line 1 column 70",
            ),
        ),
        (
            r#"{"device_code":"d","user_code":"u","verification_uri":"https://as/v","expires_in":600,"device_code":"e"}"#,
            Err(
                r"invalid device authorization response: duplicate field `device_code` at line 1 column 99",
            ),
        ),
        (
            r#"["d","u","https://as/v",600]"#,
            Err(
                r"invalid device authorization response: invalid type: integer `600`, expected a string at line 1 column 27",
            ),
        ),
        (
            r#"["d","u","https://as/v"]"#,
            Err(
                r"invalid device authorization response: invalid length 4, expected struct Wire with 6 elements at line 1 column 24",
            ),
        ),
    ];
    for (body, want) in cases {
        let exchange = client.device_authorization().unwrap();
        let got = outcome(
            exchange.response(Response::json(200, *body, UNIX_EPOCH)),
            |d| {
                format!(
                    "{} {} {:?} {:?} {:?}",
                    d.user_code,
                    d.verification_uri,
                    d.verification_uri_complete,
                    d.expires_in,
                    d.interval
                )
            },
        );
        check(body, got, *want);
    }
}
