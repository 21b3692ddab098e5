//! RFC 9207 issuer identification: `iss` required on the authorization response and compared
//! with the configured issuer.

use latchkey::{CallbackError, Client, Error, State};

#[test]
fn issuer_identification() {
    let client = Client::builder("id")
        .authorization_endpoint("https://as.example/authorize")
        .token_endpoint("https://as.example/token")
        .issuer("https://as.example")
        .require_issuer_parameter(true)
        .build()
        .unwrap();
    let start = || {
        client
            .authorization_code()
            .state(State::new("s"))
            .build()
            .unwrap()
            .1
    };
    assert!(
        start()
            .callback(&client, "?code=c&state=s&iss=https%3A%2F%2Fas.example")
            .is_ok()
    );
    assert_eq!(
        start()
            .callback(&client, "?code=c&state=s&iss=https%3A%2F%2Fevil.example")
            .unwrap_err(),
        Error::Callback(CallbackError::IssuerMismatch)
    );
    assert_eq!(
        start().callback(&client, "?code=c&state=s").unwrap_err(),
        Error::Callback(CallbackError::MissingIssuer)
    );
}
