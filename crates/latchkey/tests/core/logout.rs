//! RP-initiated logout: the URL at the end-session endpoint, from discovery or configured.

use latchkey::{Client, ConfigError, Error, ServerMetadata, State};

use crate::support::query;

#[test]
fn the_logout_url_carries_the_hint_the_client_the_redirect_and_the_state() {
    let metadata: ServerMetadata = serde_json::from_value(serde_json::json!({
        "issuer": "https://as.example",
        "end_session_endpoint": "https://as.example/session/end?tenant=1",
    }))
    .unwrap();
    let client = Client::builder("app").metadata(&metadata).build().unwrap();
    assert_eq!(
        client.end_session_endpoint().map(|u| u.as_str()),
        Some("https://as.example/session/end?tenant=1")
    );
    let url = client
        .logout()
        .id_token_hint("eyJ.hint.sig")
        .post_logout_redirect_uri("http://127.0.0.1:8080/bye")
        .state(State::new("st"))
        .param("ui_locales", "fr en")
        .build()
        .unwrap();
    assert_eq!(
        url.as_str(),
        "https://as.example/session/end?tenant=1&id_token_hint=eyJ.hint.sig&client_id=app\
         &post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Fbye&state=st&ui_locales=fr%20en"
    );
    let q = query(url.as_str());
    assert_eq!(q["client_id"], "app");
    // The bare minimum: client_id alone.
    let url = client.logout().build().unwrap();
    assert_eq!(
        url.as_str(),
        "https://as.example/session/end?tenant=1&client_id=app"
    );
    // The flow's own parameters cannot be overridden; a bad redirect URI is refused.
    assert!(matches!(
        client.logout().param("client_id", "other").build(),
        Err(Error::Config(ConfigError::InvalidParameter { .. }))
    ));
    assert!(matches!(
        client
            .logout()
            .post_logout_redirect_uri("not a url")
            .build(),
        Err(Error::Config(ConfigError::InvalidUrl { .. }))
    ));
    // No endpoint, no URL.
    let bare = Client::builder("app").build().unwrap();
    assert!(matches!(
        bare.logout().build(),
        Err(Error::Config(ConfigError::MissingEndpoint("end session")))
    ));
    let configured = Client::builder("app")
        .end_session_endpoint("https://idp.example/logout")
        .build()
        .unwrap();
    assert_eq!(
        configured.logout().build().unwrap().as_str(),
        "https://idp.example/logout?client_id=app"
    );
}
