//! The page: two buttons, `sessionStorage` across the redirect, `fetch` for the token
//! request, and a status line that says when the token expires (never the token).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use js_sys::{Array, Promise, Uint8Array};
use latchkey::drive::{BodyCap, Headers, SendDriver, TransportSettings};
use latchkey::{Request, Response, TokenSet, TransportError, TransportErrorKind};
use wasm_bindgen::JsCast as _;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{RequestInit, RequestRedirect, ResponseType, Window};

use crate::config::SpaConfig;
use crate::drive::drive;
use crate::flow::{self, Finished, Flow, STORAGE_KEY, SpaError};

/// The browser's clock (the core never reads one: it is handed `now`).
fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(js_sys::Date::now() as u64)
}

fn page(what: &str) -> impl Fn(JsValue) -> SpaError + '_ {
    move |_| SpaError::Page(format!("{what} failed"))
}

fn browser_window() -> Result<Window, SpaError> {
    web_sys::window().ok_or_else(|| SpaError::Page("no window".into()))
}

/// Runs when the module is instantiated.
#[wasm_bindgen(start)]
pub(crate) fn main() {
    spawn_local(async {
        if let Err(error) = run().await {
            show(false, &format!("Refused: {error}."), None);
        }
    });
}

async fn run() -> Result<(), SpaError> {
    let window = browser_window()?;
    let config = load_config(&window).await?;
    let location = window.location();
    let href = location.href().map_err(page("location"))?;
    let origin = location.origin().map_err(page("location"))?;
    let path = location.pathname().map_err(page("location"))?;
    let redirect_uri = format!("{origin}{path}");
    if !flow::is_callback(&href) {
        for (id, which) in [("implicit", Flow::Implicit), ("code", Flow::CodePkce)] {
            on_click(&window, id, config.clone(), redirect_uri.clone(), which)?;
        }
        show(true, "Ready: choose a sign-in.", None);
        return Ok(());
    }
    // The callback: take the pending value (used once), and wipe the response (a token or
    // a code) from the address bar and the history before anything else.
    let storage = window
        .session_storage()
        .map_err(page("sessionStorage"))?
        .ok_or_else(|| SpaError::Page("no sessionStorage".into()))?;
    let stored = storage
        .get_item(STORAGE_KEY)
        .map_err(page("sessionStorage"))?;
    storage
        .remove_item(STORAGE_KEY)
        .map_err(page("sessionStorage"))?;
    window
        .history()
        .map_err(page("history"))?
        .replace_state_with_url(&JsValue::NULL, "", Some(&redirect_uri))
        .map_err(page("history"))?;
    show(true, "Signing in…", None);
    let (which, finished) = flow::finish(&config, stored.as_deref(), &href, &redirect_uri, now())?;
    let tokens = match finished {
        Finished::Tokens(tokens) => tokens,
        Finished::Exchange(exchange) => {
            let settings = TransportSettings::default();
            let driver = SendDriver::new(exchange, &settings);
            drive(driver, |request| fetch(request, settings), sleep, now).await?
        }
    };
    signed_in(which, &tokens);
    Ok(())
}

/// Shows the outcome: when the token expires, and nothing of the token itself.
fn signed_in(which: Flow, tokens: &TokenSet) {
    match flow::expiry(tokens, now()) {
        Some((unix, left)) => {
            let at = js_sys::Date::new(&JsValue::from_f64(unix as f64 * 1000.0));
            let at: String = at.to_iso_string().into();
            show(
                true,
                &format!("Signed in with {which}. The access token expires at {at} (in {left} s)."),
                Some(unix),
            );
        }
        None => show(
            true,
            &format!("Signed in with {which}. The server did not say when the token expires."),
            None,
        ),
    }
}

/// Writes the status line (`#status`, class `ok` or `error`, `data-expires-at`).
fn show(ok: bool, text: &str, expires_at: Option<u64>) {
    let Some(status) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("status"))
    else {
        return;
    };
    status.set_text_content(Some(text));
    let _ = status.set_attribute("class", if ok { "ok" } else { "error" });
    if let Some(unix) = expires_at {
        let _ = status.set_attribute("data-expires-at", &unix.to_string());
    }
}

async fn load_config(window: &Window) -> Result<SpaConfig, SpaError> {
    let answer = JsFuture::from(window.fetch_with_str("config.json"))
        .await
        .map_err(page("fetching config.json"))?;
    let answer: web_sys::Response = answer.dyn_into().map_err(page("config.json"))?;
    let text = JsFuture::from(answer.text().map_err(page("config.json"))?)
        .await
        .map_err(page("config.json"))?;
    let text = text.as_string().unwrap_or_default();
    SpaConfig::from_json(&text).map_err(|e| SpaError::Page(format!("config.json: {e}")))
}

/// Starts `which` when the button `id` is pressed: the pending value into
/// `sessionStorage`, then off to the authorization server.
fn on_click(
    window: &Window,
    id: &str,
    config: SpaConfig,
    redirect_uri: String,
    which: Flow,
) -> Result<(), SpaError> {
    let button = window
        .document()
        .and_then(|d| d.get_element_by_id(id))
        .ok_or_else(|| SpaError::Page(format!("no #{id} button")))?;
    let handler = Closure::<dyn FnMut()>::new(move || {
        let go = || -> Result<(), SpaError> {
            let (url, stored) = flow::start(&config, which, &redirect_uri)?;
            let window = browser_window()?;
            window
                .session_storage()
                .map_err(page("sessionStorage"))?
                .ok_or_else(|| SpaError::Page("no sessionStorage".into()))?
                .set_item(STORAGE_KEY, &stored)
                .map_err(page("sessionStorage"))?;
            window.location().assign(&url).map_err(page("navigation"))
        };
        if let Err(error) = go() {
            show(false, &format!("Refused: {error}."), None);
        }
    });
    button
        .add_event_listener_with_callback("click", handler.as_ref().unchecked_ref())
        .map_err(page("addEventListener"))?;
    // The page lives as long as the button: so does its handler.
    handler.forget();
    Ok(())
}

/// `setTimeout` as a future.
async fn sleep(duration: Duration) {
    let ms = i32::try_from(duration.as_millis()).unwrap_or(i32::MAX);
    let promise = Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// One attempt with the browser's `fetch`: no redirect followed, the overall timeout as an
/// abort signal, the body read up to the cap. Messages carry no URL, header or body.
async fn fetch(request: Request, settings: TransportSettings) -> Result<Response, TransportError> {
    let url = &request.url;
    let host = latchkey::host_port(url);
    let cap = BodyCap::of(&request, &settings);
    let unbuildable = |_| TransportError::unbuildable(&host);
    let init = RequestInit::new();
    init.set_method(request.method.as_str());
    init.set_redirect(RequestRedirect::Manual);
    let headers = web_sys::Headers::new().map_err(unbuildable)?;
    for (name, value) in request.headers.iter() {
        headers.append(name, value).map_err(unbuildable)?;
    }
    init.set_headers(&headers);
    if !request.body.is_empty() {
        init.set_body(&Uint8Array::from(request.body.as_slice()));
    }
    let timeout = u32::try_from(settings.timeout.as_millis()).unwrap_or(u32::MAX);
    init.set_signal(Some(&web_sys::AbortSignal::timeout_with_u32(timeout)));
    let outgoing =
        web_sys::Request::new_with_str_and_init(url.as_str(), &init).map_err(unbuildable)?;
    let window = web_sys::window().ok_or_else(|| TransportError::unbuildable(&host))?;
    let answer = JsFuture::from(window.fetch_with_request(&outgoing))
        .await
        .map_err(|e| failed(&e, &host))?;
    let answer: web_sys::Response = answer.dyn_into().map_err(|e| failed(&e, &host))?;
    if answer.type_() == ResponseType::Opaqueredirect {
        // `redirect: "manual"` hides the status; never followed on OAuth endpoints.
        return Err(TransportError::new(
            TransportErrorKind::Redirect { status: 300 },
            format!("{host} answered with a redirect"),
        ));
    }
    let status = answer.status();
    let mut received = Headers::new();
    if let Ok(Some(entries)) = js_sys::try_iter(&answer.headers()) {
        for entry in entries.flatten() {
            let pair: Array = entry.unchecked_into();
            if let (Some(name), Some(value)) = (pair.get(0).as_string(), pair.get(1).as_string()) {
                received.append(name, value);
            }
        }
    }
    let announced = received.get("content-length").and_then(|v| v.parse().ok());
    cap.buffer(announced, url)?;
    let body = answer.array_buffer().map_err(|e| failed(&e, &host))?;
    let body = JsFuture::from(body).await.map_err(|e| failed(&e, &host))?;
    let body = Uint8Array::new(&body).to_vec();
    cap.check(body.len(), url)?;
    Ok(Response::new(status, received, body, now()))
}

/// A rejected `fetch`: a timeout (the abort signal), or anything else (refused connection,
/// CORS refusal), which may have reached the server.
fn failed(error: &JsValue, host: &str) -> TransportError {
    let name = error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.name()))
        .unwrap_or_default();
    if name == "TimeoutError" || name == "AbortError" {
        TransportError::new(
            TransportErrorKind::Timeout,
            format!("{host} did not answer in time"),
        )
    } else {
        TransportError::new(
            TransportErrorKind::Other,
            format!("fetch to {host} failed ({name})"),
        )
    }
}
