//! The loopback login with a real HTTP client playing the browser: ureq against the
//! blocking API, reqwest against the async one. Nothing here leaves the loopback interface,
//! and no browser is launched (the browser is a test stand-in or print-only).

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use latchkey::{Client, State};
use latchkey_loopback::{Browser, Error, Loopback, Mode};

/// A client whose endpoints are never contacted (the code exchange is only built).
fn client(redirect_uri: &str) -> Client {
    Client::builder("native-app")
        .authorization_endpoint("http://127.0.0.1:9/authorize")
        .token_endpoint("http://127.0.0.1:9/token")
        .redirect_uri(redirect_uri)
        .build()
        .unwrap()
}

/// The browser: no redirects, no proxy, statuses as answers.
fn browser() -> ureq::Agent {
    ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

/// GET `url`: the status and the page.
fn get(url: &str) -> (u16, String) {
    let mut response = browser().get(url).call().expect("the listener answers");
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    (status, body)
}

/// The state the authorization URL carries.
fn state_of(url: &str) -> String {
    let url = latchkey::parse_url(url).unwrap();
    url.query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

#[test]
fn the_right_callback_gives_the_code_exchange() {
    let loopback = Loopback::builder()
        .browser(Browser::PrintOnly)
        .timeout(Duration::from_secs(20))
        .bind()
        .unwrap();
    let redirect_uri = loopback.redirect_uri().to_owned();
    assert!(
        redirect_uri.starts_with("http://127.0.0.1:"),
        "{redirect_uri}"
    );
    assert!(redirect_uri.ends_with("/callback"), "{redirect_uri}");
    assert_ne!(loopback.local_addr().port(), 0);
    assert!(redirect_uri.contains(&format!(":{}/", loopback.local_addr().port())));
    let client = client(&redirect_uri);
    let (url, pending) = client.authorization_code().build().unwrap();
    let state = state_of(url.as_str());
    let visit = thread::spawn(move || get(&format!("{redirect_uri}?code=c0de-1234&state={state}")));
    let exchange = loopback.code(pending, &client).unwrap();
    assert_eq!(exchange.code().expose_secret(), "c0de-1234");
    let (status, page) = visit.join().unwrap();
    assert_eq!(status, 200);
    assert!(page.contains("Signed in"), "{page}");
    assert!(!page.contains("c0de-1234"), "{page}");
}

#[test]
fn stray_requests_are_answered_and_ignored() {
    let loopback = Loopback::builder()
        .timeout(Duration::from_secs(20))
        .bind()
        .unwrap();
    let redirect_uri = loopback.redirect_uri().to_owned();
    let base = format!("http://{}", loopback.local_addr());
    let client = client(&redirect_uri);
    let (url, pending) = client.authorization_code().build().unwrap();
    let state = state_of(url.as_str());
    let visits = thread::spawn(move || {
        let favicon = get(&format!("{base}/favicon.ico"));
        let other_path = get(&format!("{base}/other?code=c&state={state}"));
        let wrong_state = get(&format!("{redirect_uri}?code=forged&state=not-{state}"));
        let no_state = get(&format!("{redirect_uri}?code=forged"));
        let post = browser()
            .post(&format!("{redirect_uri}?code=c&state={state}"))
            .send_empty()
            .map(|r| r.status().as_u16());
        let right = get(&format!("{redirect_uri}?code=the-code&state={state}"));
        (favicon, other_path, wrong_state, no_state, post, right)
    });
    let exchange = loopback.code(pending, &client).unwrap();
    assert_eq!(exchange.code().expose_secret(), "the-code");
    let (favicon, other_path, wrong_state, no_state, post, right) = visits.join().unwrap();
    assert_eq!(favicon.0, 404);
    assert!(favicon.1.contains("still waiting"), "{}", favicon.1);
    assert_eq!(other_path.0, 404);
    assert_eq!(wrong_state.0, 400);
    assert!(wrong_state.1.contains("still waiting"), "{}", wrong_state.1);
    assert!(!wrong_state.1.contains("forged"), "{}", wrong_state.1);
    assert_eq!(no_state.0, 400);
    assert_eq!(post.unwrap(), 405);
    assert_eq!(right.0, 200);
}

#[test]
fn an_error_callback_ends_the_wait_with_the_servers_error() {
    let loopback = Loopback::builder()
        .timeout(Duration::from_secs(20))
        .bind()
        .unwrap();
    let redirect_uri = loopback.redirect_uri().to_owned();
    let client = client(&redirect_uri);
    let (url, pending) = client.authorization_code().build().unwrap();
    let state = state_of(url.as_str());
    let secret_state = state.clone();
    let visit = thread::spawn(move || {
        get(&format!(
            "{redirect_uri}?error=access_denied&error_description=the+user+said+%3Cb%3Eno%3C%2Fb%3E&state={state}"
        ))
    });
    let error = loopback.code(pending, &client).unwrap_err();
    let server = error.server_error().expect("the server's error");
    assert_eq!(server.code.as_str(), "access_denied");
    assert_eq!(
        server.description.as_deref(),
        Some("the user said <b>no</b>")
    );
    let (status, page) = visit.join().unwrap();
    assert_eq!(status, 400);
    assert!(page.contains("Authorization failed"), "{page}");
    assert!(
        page.contains("access_denied: the user said &lt;b&gt;no&lt;/b&gt;"),
        "{page}"
    );
    assert!(!page.contains("<b>no"), "{page}");
    for shown in [format!("{error}"), format!("{error:?}"), page] {
        assert!(
            !shown.contains(&secret_state),
            "the state is shown: {shown}"
        );
    }
}

#[test]
fn a_callback_the_flow_refuses_ends_the_wait() {
    let loopback = Loopback::builder()
        .timeout(Duration::from_secs(20))
        .bind()
        .unwrap();
    let redirect_uri = loopback.redirect_uri().to_owned();
    let client = client(&redirect_uri);
    let (url, pending) = client.authorization_code().build().unwrap();
    let state = state_of(url.as_str());
    // The state is right, the code is missing.
    let visit = thread::spawn(move || get(&format!("{redirect_uri}?state={state}")));
    let error = loopback.code(pending, &client).unwrap_err();
    assert!(
        matches!(
            error,
            Error::Authorization(latchkey::Error::Callback(
                latchkey::CallbackError::MissingCode
            ))
        ),
        "{error:?}"
    );
    let (status, page) = visit.join().unwrap();
    assert_eq!(status, 400);
    assert!(page.contains("no code"), "{page}");
}

#[test]
fn nothing_in_time_is_a_typed_timeout_and_ticks_count_down() {
    let ticks = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&ticks);
    let loopback = Loopback::builder()
        .timeout(Duration::from_millis(1500))
        .bind()
        .unwrap()
        .on_tick(move |left| seen.lock().unwrap().push(left));
    let redirect_uri = loopback.redirect_uri().to_owned();
    let start = Instant::now();
    let error = loopback
        .wait_with(&State::new("s"), |_| Ok(()))
        .unwrap_err();
    let elapsed = start.elapsed();
    assert!(elapsed >= Duration::from_millis(1500), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    match &error {
        Error::TimedOut {
            waited,
            redirect_uri: uri,
        } => {
            assert!(*waited >= Duration::from_millis(1500));
            assert_eq!(uri, &redirect_uri);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        error.to_string().starts_with("timed out after 1."),
        "{error}"
    );
    let ticks = ticks.lock().unwrap();
    assert!(ticks.len() >= 2, "{ticks:?}");
    assert!(ticks[0] > ticks[1], "{ticks:?}");
    assert!(ticks[0] <= Duration::from_millis(1500), "{ticks:?}");
    // The port is free by the time the wait returns.
    let addr = redirect_uri
        .trim_start_matches("http://")
        .trim_end_matches("/callback")
        .to_owned();
    TcpListener::bind(&addr).expect("the port is free again");
}

#[test]
fn the_implicit_flow_relays_the_fragment() {
    let loopback = Loopback::builder()
        .redirect_uri("http://localhost:0/cb/")
        .mode(Mode::Fragment)
        .timeout(Duration::from_secs(20))
        .bind()
        .unwrap();
    let redirect_uri = loopback.redirect_uri().to_owned();
    assert!(
        redirect_uri.starts_with("http://localhost:"),
        "{redirect_uri}"
    );
    let client = client(&redirect_uri);
    let (url, pending) = client.implicit().build().unwrap();
    let state = state_of(url.as_str());
    let base = format!("http://{}", loopback.local_addr());
    let visits = thread::spawn(move || {
        // The redirect itself: the browser keeps the fragment and gets the relay page...
        let relay = get(&redirect_uri);
        // ...whose script sends the fragment back.
        let done = get(&format!(
            "{base}/cb/fragment?access_token=t0ken-5678&token_type=Bearer&expires_in=60&state={state}"
        ));
        (relay, done)
    });
    let expected = pending.state().clone();
    let tokens = loopback
        .wait_with(&expected, |params| {
            pending.callback(&client, params, std::time::SystemTime::now())
        })
        .unwrap();
    assert_eq!(tokens.access_token().expose_secret(), "t0ken-5678");
    let ((relay_status, relay), (done_status, done)) = visits.join().unwrap();
    assert_eq!(relay_status, 200);
    assert!(relay.contains("\"/cb/fragment\""), "{relay}");
    assert!(relay.contains("location.hash"), "{relay}");
    assert_eq!(done_status, 200);
    assert!(done.contains("Signed in"), "{done}");
}

#[test]
fn only_loopback_http_redirect_uris_are_served() {
    for uri in [
        "http://example.com/cb",
        "http://10.0.0.1/cb",
        "https://127.0.0.1/cb",
        "http://127.0.0.1/cb#frag",
        "not a url",
    ] {
        let error = Loopback::builder().redirect_uri(uri).bind().unwrap_err();
        assert!(matches!(error, Error::RedirectUri(_)), "{uri}: {error:?}");
    }
    for path in ["cb", "/cb?x=1", "/cb#f"] {
        let error = Loopback::builder().path(path).bind().unwrap_err();
        assert!(matches!(error, Error::RedirectUri(_)), "{path}: {error:?}");
    }
    // A port that is taken.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let error = Loopback::builder().port(port).bind().unwrap_err();
    assert!(matches!(error, Error::Bind { .. }), "{error:?}");
    drop(taken);
    // A given port and path are the redirect URI's.
    let loopback = Loopback::builder().port(port).path("/done").bind().unwrap();
    assert_eq!(
        loopback.redirect_uri(),
        format!("http://127.0.0.1:{port}/done")
    );
}

#[test]
fn open_refuses_non_web_urls_and_runs_the_named_browser() {
    let loopback = Loopback::builder()
        .browser(Browser::command("/nonexistent/browser"))
        .bind()
        .unwrap();
    for url in ["file:///etc/passwd", "javascript:alert(1)", "not a url"] {
        let error = loopback.open(url).unwrap_err();
        assert!(matches!(error, Error::InvalidUrl(_)), "{url}: {error:?}");
    }
    let error = loopback.open("http://127.0.0.1:9/authorize").unwrap_err();
    assert!(matches!(error, Error::Browser(_)), "{error:?}");
}

/// The named browser is run with the URL as its last argument (a shell script stands in).
#[cfg(unix)]
#[test]
fn the_named_browser_gets_the_url() {
    let dir = std::env::temp_dir().join(format!("latchkey-loopback-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("opened");
    let _ = std::fs::remove_file(&out);
    let loopback = Loopback::builder()
        .browser(Browser::Command {
            program: "sh".into(),
            args: vec![
                "-c".into(),
                format!("printf '%s' \"$1\" > '{}'", out.display()).into(),
                "browser".into(),
            ],
        })
        .bind()
        .unwrap();
    let url = "http://127.0.0.1:9/authorize?client_id=a&state=s";
    loopback.open(url).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let opened = loop {
        match std::fs::read_to_string(&out) {
            Ok(text) if !text.is_empty() => break text,
            _ if Instant::now() > deadline => panic!("the browser was not run"),
            _ => thread::sleep(Duration::from_millis(20)),
        }
    };
    assert_eq!(opened, url);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The async API, with reqwest as the browser.
#[cfg(feature = "tokio")]
mod with_tokio {
    use std::net::{SocketAddr, TcpStream};

    use super::*;

    /// Whether something listens on `addr`.
    fn listening(addr: SocketAddr) -> bool {
        TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn async_the_right_callback_after_strays() {
        let loopback = Loopback::builder()
            .timeout(Duration::from_secs(20))
            .bind()
            .unwrap();
        let redirect_uri = loopback.redirect_uri().to_owned();
        let base = format!("http://{}", loopback.local_addr());
        let client = client(&redirect_uri);
        let (url, pending) = client.authorization_code().build().unwrap();
        let state = state_of(url.as_str());
        let visits = tokio::spawn(async move {
            let http = reqwest::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap();
            let mut statuses = Vec::new();
            for target in [
                format!("{base}/favicon.ico"),
                format!("{redirect_uri}?code=forged&state=other"),
                format!("{redirect_uri}?code=a-code&state={state}"),
            ] {
                let response = http.get(&target).send().await.unwrap();
                statuses.push(response.status().as_u16());
                let _ = response.text().await;
            }
            statuses
        });
        let exchange = loopback.code_async(pending, &client).await.unwrap();
        assert_eq!(exchange.code().expose_secret(), "a-code");
        assert_eq!(visits.await.unwrap(), [404, 400, 200]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn async_error_callback_and_timeout() {
        let loopback = Loopback::builder()
            .timeout(Duration::from_secs(20))
            .bind()
            .unwrap();
        let redirect_uri = loopback.redirect_uri().to_owned();
        let visit = tokio::spawn(async move {
            let response = reqwest::Client::builder()
                .no_proxy()
                .build()
                .unwrap()
                .get(format!("{redirect_uri}?error=access_denied"))
                .send()
                .await
                .unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        });
        let error = loopback
            .wait_with_async(&State::new("s"), |_| Ok(()))
            .await
            .unwrap_err();
        assert_eq!(error.server_error().unwrap().code.as_str(), "access_denied");
        let (status, page) = visit.await.unwrap();
        assert_eq!(status, 400);
        assert!(page.contains("access_denied"), "{page}");

        let loopback = Loopback::builder()
            .timeout(Duration::from_millis(300))
            .bind()
            .unwrap();
        let error = loopback
            .wait_with_async(&State::new("s"), |_| Ok(()))
            .await
            .unwrap_err();
        assert!(matches!(error, Error::TimedOut { .. }), "{error:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn dropping_the_async_wait_frees_the_port() {
        let loopback = Loopback::builder()
            .timeout(Duration::from_secs(60))
            .bind()
            .unwrap();
        let addr = loopback.local_addr();
        let wait =
            tokio::spawn(
                async move { loopback.wait_with_async(&State::new("s"), |_| Ok(())).await },
            );
        // It listens, and a connection that sends nothing is held open by the wait.
        assert!(
            tokio::task::spawn_blocking(move || listening(addr))
                .await
                .unwrap()
        );
        let idle = tokio::net::TcpStream::connect(addr).await.unwrap();
        wait.abort();
        assert!(wait.await.unwrap_err().is_cancelled());
        // The port is free at once: nothing listens, and it can be bound again.
        assert!(
            !tokio::task::spawn_blocking(move || listening(addr))
                .await
                .unwrap()
        );
        let again = TcpListener::bind(addr).expect("the port is free again");
        drop(again);
        // The idle connection was closed with the wait.
        let mut idle = idle;
        let mut buf = [0u8; 16];
        let read = tokio::time::timeout(
            Duration::from_secs(5),
            tokio::io::AsyncReadExt::read(&mut idle, &mut buf),
        )
        .await
        .expect("closed, not left hanging");
        assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn dropping_a_wait_that_never_ran_frees_the_port() {
        let loopback = Loopback::bind().unwrap();
        let addr = loopback.local_addr();
        let state = State::new("s");
        let wait = loopback.wait_with_async(&state, |_| Ok(()));
        drop(wait);
        TcpListener::bind(addr).expect("the port is free again");
    }
}
