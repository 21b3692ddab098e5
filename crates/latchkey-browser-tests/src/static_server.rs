//! [`StaticServer`]: the files of a directory (and a few in memory) over HTTP on loopback.

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// The longest request head read.
const MAX_HEAD: usize = 16 * 1024;

/// A static file server on `127.0.0.1` (an ephemeral port), one thread per connection, `GET`
/// and `HEAD` only, `Connection: close`. Paths are made of ASCII letters, digits, `.`, `-`,
/// `_` and `/`, without `..`; `/` is `/index.html`. Stopped on drop.
#[derive(Debug)]
pub struct StaticServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
    site: Arc<Site>,
}

/// What the server serves.
#[derive(Debug)]
struct Site {
    root: PathBuf,
    extra: Mutex<HashMap<String, (String, Vec<u8>)>>,
}

impl StaticServer {
    /// Serves `root`, and `extra` files (path, content type, body) that win over it.
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound.
    #[must_use]
    pub fn start(root: impl Into<PathBuf>, extra: Vec<(&str, &str, Vec<u8>)>) -> Self {
        let site = Arc::new(Site {
            root: root.into(),
            extra: Mutex::new(
                extra
                    .into_iter()
                    .map(|(path, kind, body)| (path.to_owned(), (kind.to_owned(), body)))
                    .collect(),
            ),
        });
        let serving = Arc::clone(&site);
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let accept = thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let site = Arc::clone(&serving);
                thread::spawn(move || {
                    let _ = serve(&site, stream);
                });
            }
        });
        Self {
            addr,
            stop,
            accept: Some(accept),
            site,
        }
    }

    /// Serves `body` as `kind` at `path` from now on (e.g. a `config.json` that names a
    /// server started after this one).
    pub fn put(&self, path: &str, kind: &str, body: Vec<u8>) {
        self.site
            .extra
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(path.to_owned(), (kind.to_owned(), body));
    }

    /// `http://127.0.0.1:<port>`.
    #[must_use]
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop up.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

/// Answers one request.
fn serve(site: &Site, stream: TcpStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Read (and ignore) the rest of the head.
    let mut seen = request_line.len();
    loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line)?;
        seen += n;
        if n == 0 || line == "\r\n" || line == "\n" || seen > MAX_HEAD {
            break;
        }
    }
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split(['?', '#']).next().unwrap_or("");
    let answer = match method {
        "GET" | "HEAD" => lookup(site, path),
        _ => Err("405 Method Not Allowed"),
    };
    let mut out = stream;
    match answer {
        Ok((kind, body)) => {
            write!(
                out,
                "HTTP/1.1 200 OK\r\ncontent-type: {kind}\r\ncontent-length: {}\r\n\
                 cache-control: no-store\r\nconnection: close\r\n\r\n",
                body.len()
            )?;
            if method == "GET" {
                out.write_all(&body)?;
            }
        }
        Err(status) => write!(
            out,
            "HTTP/1.1 {status}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\
             connection: close\r\n\r\n{status}",
            status.len()
        )?,
    }
    out.flush()
}

/// The content type and body for `path`.
fn lookup(site: &Site, path: &str) -> Result<(String, Vec<u8>), &'static str> {
    let path = if path == "/" { "/index.html" } else { path };
    let extra = site.extra.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((kind, body)) = extra.get(path) {
        return Ok((kind.clone(), body.clone()));
    }
    drop(extra);
    let safe = path.starts_with('/')
        && !path.contains("..")
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'/'));
    if !safe {
        return Err("400 Bad Request");
    }
    let file = site.root.join(&path[1..]);
    let body = std::fs::read(&file).map_err(|_| "404 Not Found")?;
    let kind = match file.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    };
    Ok((kind.to_owned(), body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    fn get(server: &StaticServer, target: &str) -> String {
        let mut stream = TcpStream::connect(server.addr).unwrap();
        write!(stream, "GET {target} HTTP/1.1\r\nhost: x\r\n\r\n").unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    }

    #[test]
    fn serves_files_extra_files_and_refuses_the_rest() {
        let root = std::env::temp_dir().join(format!("latchkey-static-{}", std::process::id()));
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("index.html"), "<p>hi</p>").unwrap();
        std::fs::write(root.join("app.wasm"), b"\0asm").unwrap();
        let server = StaticServer::start(
            &root,
            vec![("/config.json", "application/json", b"{}".to_vec())],
        );
        assert!(server.origin().starts_with("http://127.0.0.1:"));
        let index = get(&server, "/?code=x#y");
        assert!(index.starts_with("HTTP/1.1 200 OK"), "{index}");
        assert!(
            index.contains("text/html") && index.ends_with("<p>hi</p>"),
            "{index}"
        );
        assert!(get(&server, "/app.wasm").contains("application/wasm"));
        assert!(get(&server, "/config.json").ends_with("{}"));
        server.put("/config.json", "application/json", b"[1]".to_vec());
        assert!(get(&server, "/config.json").ends_with("[1]"));
        assert!(get(&server, "/missing.js").starts_with("HTTP/1.1 404"));
        assert!(get(&server, "/../etc/passwd").starts_with("HTTP/1.1 400"));
        assert!(get(&server, "/a%2e%2e").starts_with("HTTP/1.1 400"));
        drop(server);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
