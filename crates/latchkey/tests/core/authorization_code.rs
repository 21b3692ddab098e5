//! The authorization code flow past the provider documents: the authorization URL's generated
//! values and configuration errors, and what a callback is checked for (state first, then the
//! server's error, the code, duplicates, encoding). The stored form of a pending authorization is
//! in `persistence.rs`, the `iss` check in `issuer_identification.rs`.

use latchkey::{CallbackError, Client, Error, ErrorCode, RefreshToken, State};

use crate::providers::coloop::coloop_private;
use crate::providers::loom_client;
use crate::support::query;

#[test]
fn callback_error_checks_state_first() {
    let client = coloop_private();
    let start = || {
        client
            .authorization_code()
            .state(State::new("good"))
            .build()
            .unwrap()
            .1
    };
    // An error redirect with the right state is the server's error, with its description.
    let err = start()
        .callback(
            &client,
            "https://your-domain.com/oauth2/callback?error=access_denied&error_description=The+user+denied&error_uri=https%3A%2F%2Fdocs&state=good",
        )
        .unwrap_err();
    match err {
        Error::Server(e) => {
            assert_eq!(e.code, ErrorCode::AccessDenied);
            assert_eq!(e.description.as_deref(), Some("The user denied"));
            assert_eq!(e.uri.as_deref(), Some("https://docs"));
            assert_eq!(e.status, None);
        }
        other => panic!("{other:?}"),
    }
    // An error redirect with the wrong state or none is refused as such.
    assert_eq!(
        start()
            .callback(&client, "?error=access_denied&state=bad")
            .unwrap_err(),
        Error::Callback(CallbackError::StateMismatch)
    );
    assert_eq!(
        start()
            .callback(&client, "?error=access_denied")
            .unwrap_err(),
        Error::Callback(CallbackError::MissingState)
    );
    assert_eq!(
        start().callback(&client, "?state=good").unwrap_err(),
        Error::Callback(CallbackError::MissingCode)
    );
    assert_eq!(
        start()
            .callback(&client, "?code=a&state=good&state=good")
            .unwrap_err(),
        Error::Callback(CallbackError::DuplicateParameter("state".into()))
    );
    assert!(matches!(
        start()
            .callback(&client, "?code=%FF&state=good")
            .unwrap_err(),
        Error::Callback(CallbackError::Malformed(_))
    ));
}

#[test]
fn generated_values_and_configuration_errors() {
    let client = loom_client();
    let (url, pending) = client.authorization_code().build().unwrap();
    let q = query(url.as_str());
    assert_eq!(q["state"], pending.state().as_str());
    assert_eq!(q["state"].len(), 22);
    let verifier = pending.pkce_verifier().unwrap();
    assert_eq!(
        q["code_challenge"],
        verifier.challenge(latchkey::PkceMethod::S256).as_str()
    );
    // Two requests never share state or verifier.
    let (_, other) = client.authorization_code().build().unwrap();
    assert_ne!(other.state().as_str(), pending.state().as_str());
    // plain only by opt-in.
    let (url, _) = client.authorization_code().pkce_plain().build().unwrap();
    assert_eq!(query(url.as_str())["code_challenge_method"], "plain");
    // Reserved parameters cannot be overridden.
    assert!(matches!(
        client.authorization_code().param("state", "x").build(),
        Err(Error::Config(_))
    ));
    // Missing endpoints are configuration errors when the flow starts.
    let bare = Client::builder("id").build().unwrap();
    assert!(matches!(
        bare.authorization_code().build(),
        Err(Error::Config(latchkey::ConfigError::MissingEndpoint(
            "authorization"
        )))
    ));
    assert!(matches!(
        bare.refresh(&RefreshToken::new("r")),
        Err(Error::Config(latchkey::ConfigError::MissingEndpoint(
            "token"
        )))
    ));
    // An endpoint that already has a query keeps it.
    let with_query = Client::builder("id")
        .authorization_endpoint("https://as.example/authorize?tenant=acme")
        .build()
        .unwrap();
    let (url, _) = with_query
        .authorization_code()
        .no_pkce()
        .state(State::new("s"))
        .build()
        .unwrap();
    assert_eq!(
        url.as_str(),
        "https://as.example/authorize?tenant=acme&response_type=code&client_id=id&state=s"
    );
}
