//! What every exchange promises the adapters: it is `Send + 'static`, so it can move into another
//! thread or an async task.

use latchkey::RefreshToken;

use crate::providers::coloop::coloop_private;

#[test]
fn exchanges_are_send_and_static() {
    fn check<T: Send + 'static>(_: &T) {}
    let client = coloop_private();
    check(&client.client_credentials().unwrap());
    check(&client.refresh(&RefreshToken::new("r")).unwrap());
    check(&client.userinfo(&latchkey::AccessToken::new("a")).unwrap());
    let (_, pending) = client.authorization_code().build().unwrap();
    check(&pending);
}
