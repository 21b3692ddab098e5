//! A real `redis-server` for the tests: started on a free loopback port in a temporary
//! directory of its own (with no persistence, or with an append-only file synced on every
//! write, as a token store's Redis should run), and killed (by its process id) when the
//! guard drops.

#![allow(dead_code, unreachable_pub)]

use std::io::{ErrorKind, Read as _, Write as _};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// One test that needs `redis-server`: ignored, with the reason, where it cannot run (see
/// `build.rs`).
macro_rules! redis_test {
    ($(#[$meta:meta])* fn $name:ident() $body:block) => {
        $(#[$meta])*
        #[test]
        #[cfg_attr(
            not(redis_server),
            ignore = "redis: redis-server is not on PATH; install it (apt-get install redis-server) or set LATCHKEY_REDIS=required"
        )]
        fn $name() $body
    };
}

/// How long a server may take to answer its first PING.
const STARTUP: Duration = Duration::from_secs(10);

/// A running `redis-server`; killed when dropped.
pub struct RedisServer {
    child: Child,
    port: u16,
    dir: PathBuf,
    persistent: bool,
    /// TLS only, with this certificate and key (PEM files in `dir`).
    tls: bool,
}

impl RedisServer {
    /// A server on a free loopback port.
    pub fn start() -> Self {
        Self::start_on(free_port())
    }

    /// A server on `port` (to restart one where its clients expect it).
    ///
    /// # Panics
    ///
    /// When `redis-server` is not on PATH or does not answer PING in time.
    pub fn start_on(port: u16) -> Self {
        Self::spawn(port, new_dir(port), false, false)
    }

    /// A server that speaks only TLS, with `certificate` and `key` (PEM): `rediss://` at
    /// [`tls_url`](Self::tls_url).
    pub fn start_tls(certificate: &str, key: &str) -> Self {
        let port = free_port();
        let dir = new_dir(port);
        std::fs::write(dir.join("server.pem"), certificate).expect("the certificate file");
        std::fs::write(dir.join("server.key"), key).expect("the key file");
        Self::spawn(port, dir, false, true)
    }

    /// `rediss://127.0.0.1:<port>/`.
    pub fn tls_url(&self) -> String {
        format!("rediss://127.0.0.1:{}/", self.port)
    }

    /// A server that keeps what it was told in an append-only file synced before every
    /// answer, so a [`restart`](Self::restart) after a crash loses nothing acknowledged.
    pub fn start_persistent() -> Self {
        let port = free_port();
        Self::spawn(port, new_dir(port), true, false)
    }

    /// Kills the server (as a crash would) and starts it again on the same port and
    /// directory: a persistent one comes back with its data, keys' expiry times included.
    pub fn restart(&mut self) {
        self.kill();
        self.child = launch(self.port, &self.dir, self.persistent, self.tls);
        self.wait_for_ping();
    }

    fn spawn(port: u16, dir: PathBuf, persistent: bool, tls: bool) -> Self {
        let child = std::panic::catch_unwind(|| launch(port, &dir, persistent, tls));
        let child = child.unwrap_or_else(|panic| {
            let _ = std::fs::remove_dir_all(&dir);
            std::panic::resume_unwind(panic)
        });
        let mut server = Self {
            child,
            port,
            dir,
            persistent,
            tls,
        };
        server.wait_for_ping();
        server
    }

    fn wait_for_ping(&mut self) {
        let deadline = Instant::now() + STARTUP;
        loop {
            // A TLS port cannot be PINGed in the clear: listening is enough.
            let up = if self.tls {
                TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_ok()
            } else {
                ping(self.port)
            };
            if up {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "redis-server on port {} exited at startup ({status})",
                    self.port
                );
            }
            assert!(
                Instant::now() < deadline,
                "redis-server on port {} did not answer PING within {STARTUP:?}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// `redis://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the server now (as a crash would) and waits until it is gone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts `redis-server` on `port` in `dir`.
fn launch(port: u16, dir: &std::path::Path, persistent: bool, tls: bool) -> Child {
    let persistence: &[&str] = if persistent {
        &["--appendonly", "yes", "--appendfsync", "always"]
    } else {
        &["--appendonly", "no"]
    };
    let mut command = Command::new("redis-server");
    if tls {
        command
            .args(["--port", "0", "--tls-port", &port.to_string()])
            .arg("--tls-cert-file")
            .arg(dir.join("server.pem"))
            .arg("--tls-key-file")
            .arg(dir.join("server.key"))
            .args(["--tls-auth-clients", "no"]);
    } else {
        command.args(["--port", &port.to_string()]);
    }
    let child = command
        .args(["--bind", "127.0.0.1", "--save", ""])
        .args(persistence)
        .arg("--dir")
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    match child {
        Ok(child) => child,
        Err(e) if e.kind() == ErrorKind::NotFound => panic!(
            "redis-server is not on PATH, and these tests need it: install it \
             (apt-get install redis-server), or leave LATCHKEY_REDIS unset to have them \
             ignored where it is missing"
        ),
        Err(e) => panic!("cannot start redis-server: {e}"),
    }
}

/// A new temporary directory for a server on `port`.
fn new_dir(port: u16) -> PathBuf {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "latchkey-redis-{}-{port}-{}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("a temporary directory for redis-server");
    dir
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// Whether a server on `port` answers PING.
pub fn ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect((Ipv4Addr::LOCALHOST, port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let mut answer = [0u8; 7];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut answer).is_ok()
        && &answer == b"+PONG\r\n"
}

/// A plain connection for looking at what the store wrote.
pub fn raw(server: &RedisServer) -> redis::Connection {
    redis::Client::open(server.url())
        .and_then(|c| c.get_connection())
        .expect("a connection to the test server")
}
