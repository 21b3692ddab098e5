//! `RedisStore` against a real `redis-server` that each test starts on a free loopback port
//! and kills when it ends.

use std::thread;
use std::time::{Duration, Instant, UNIX_EPOCH};

use latchkey::{AccessToken, RefreshToken, StoreError, TokenSet, TokenStore, TokenType};
use latchkey_redis::{ErrorKind, RedisStore};

#[macro_use]
mod support;

use support::{RedisServer, raw};

const KEY: [u8; 32] = [0x5a; 32];

fn tokens(access: &str, refresh: &str) -> TokenSet {
    TokenSet::new(AccessToken::new(access), TokenType::Bearer)
        .with_refresh_token(Some(RefreshToken::new(refresh)))
        .with_expires_at(Some(UNIX_EPOCH + Duration::from_secs(2_000_000_000)))
}

fn store(server: &RedisServer, prefix: &str) -> RedisStore {
    store_at(&server.url(), prefix)
}

fn store_at(url: &str, prefix: &str) -> RedisStore {
    RedisStore::builder(url, prefix).build().unwrap()
}

fn kind(error: &StoreError) -> ErrorKind {
    ErrorKind::of(error).unwrap_or_else(|| panic!("not an error of this crate: {error}"))
}

/// What `Debug` and `Display` show of an error, checked for secrets.
fn shown(error: &StoreError) -> String {
    let mut text = format!("{error} {error:?}");
    let mut source = std::error::Error::source(error);
    while let Some(s) = source {
        text.push_str(&format!(" / {s} {s:?}"));
        source = s.source();
    }
    text
}

fn assert_same(a: &TokenSet, b: &TokenSet) {
    assert_eq!(
        a.access_token().expose_secret(),
        b.access_token().expose_secret()
    );
    assert_eq!(
        a.refresh_token().map(RefreshToken::expose_secret),
        b.refresh_token().map(RefreshToken::expose_secret)
    );
    assert_eq!(a.expires_at(), b.expires_at());
}

fn hget(server: &RedisServer, key: &str, field: &str) -> Option<Vec<u8>> {
    redis::cmd("HGET")
        .arg(key)
        .arg(field)
        .query(&mut raw(server))
        .unwrap()
}

fn get(server: &RedisServer, key: &str) -> Option<String> {
    redis::cmd("GET").arg(key).query(&mut raw(server)).unwrap()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

redis_test! {
    fn round_trip_with_a_version_and_a_ttl() {
        let server = RedisServer::start();
        let store = store(&server, "rt");
        assert!(store.load().unwrap().is_none());
        assert_eq!(store.version().unwrap(), 0);

        let first = tokens("at-round-1", "rt-round-1");
        store.save(&first).unwrap();
        assert_same(&store.load().unwrap().unwrap(), &first);
        assert_eq!(store.version().unwrap(), 1);
        // Plain JSON without a key, and no TTL unless one is configured.
        let raw_value = hget(&server, "rt:tokens", "value").unwrap();
        assert!(raw_value.starts_with(b"{"));
        let ttl: i64 = redis::cmd("PTTL").arg("rt:tokens").query(&mut raw(&server)).unwrap();
        assert_eq!(ttl, -1);

        // Another store object on the same prefix sees it; its save bumps the version.
        let other = RedisStore::builder(&server.url(), "rt")
            .tokens_ttl(Duration::from_secs(60))
            .build()
            .unwrap();
        assert_same(&other.load().unwrap().unwrap(), &first);
        let second = tokens("at-round-2", "rt-round-2");
        other.save(&second).unwrap();
        assert_same(&store.load().unwrap().unwrap(), &second);
        assert_eq!(store.version().unwrap(), 2);
        let ttl: i64 = redis::cmd("PTTL").arg("rt:tokens").query(&mut raw(&server)).unwrap();
        assert!((1..=60_000).contains(&ttl), "{ttl}");
        // A save without a TTL takes the earlier one away.
        store.save(&first).unwrap();
        let ttl: i64 = redis::cmd("PTTL").arg("rt:tokens").query(&mut raw(&server)).unwrap();
        assert_eq!(ttl, -1);
        assert_eq!(store.version().unwrap(), 3);

        // Prefixes do not mix.
        assert!(RedisStore::builder(&server.url(), "rt2").build().unwrap().load().unwrap().is_none());

        store.remove().unwrap();
        assert!(store.load().unwrap().is_none());
        assert_eq!(store.version().unwrap(), 0);
    }
}

redis_test! {
    fn a_short_token_ttl_expires_the_token_set() {
        let server = RedisServer::start();
        let store = RedisStore::builder(&server.url(), "ttl")
            .tokens_ttl(Duration::from_millis(150))
            .build()
            .unwrap();
        store.save(&tokens("at-ttl", "rt-ttl")).unwrap();
        assert!(store.load().unwrap().is_some());
        thread::sleep(Duration::from_millis(400));
        assert!(store.load().unwrap().is_none());
    }
}

redis_test! {
    fn encrypted_at_rest_and_a_wrong_key_is_a_typed_error() {
        let server = RedisServer::start();
        let store = RedisStore::builder(&server.url(), "enc")
            .encryption_key(KEY)
            .build()
            .unwrap();
        let saved = tokens("at-secret-8c1f", "rt-secret-77d2");
        store.save(&saved).unwrap();
        assert_same(&store.load().unwrap().unwrap(), &saved);

        // Redis holds neither token, under any key of the prefix.
        let keys: Vec<String> = redis::cmd("KEYS").arg("enc:*").query(&mut raw(&server)).unwrap();
        assert_eq!(keys, ["enc:tokens"]);
        let value = hget(&server, "enc:tokens", "value").unwrap();
        assert!(!contains(&value, "at-secret-8c1f"));
        assert!(!contains(&value, "rt-secret-77d2"));
        assert!(!contains(&value, "access_token"));
        // A fresh nonce every save: the same tokens never look the same twice.
        store.save(&saved).unwrap();
        assert_ne!(hget(&server, "enc:tokens", "value").unwrap(), value);

        // Another key: a typed error, never a panic, and no secret in it.
        let wrong = RedisStore::builder(&server.url(), "enc")
            .encryption_key([0x5b; 32])
            .build()
            .unwrap();
        let error = wrong.load().unwrap_err();
        assert_eq!(kind(&error), ErrorKind::Decrypt);
        let text = shown(&error);
        assert!(text.contains("cannot decrypt: wrong key or tampered value"), "{text}");
        for secret in ["at-secret-8c1f", "rt-secret-77d2", "5a", "90, 90"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }

        // A changed byte: the same error.
        let mut tampered = hget(&server, "enc:tokens", "value").unwrap();
        let last = tampered.len() - 1;
        tampered[last] ^= 0x01;
        let _: () = redis::cmd("HSET")
            .arg("enc:tokens")
            .arg("value")
            .arg(&tampered)
            .query(&mut raw(&server))
            .unwrap();
        assert_eq!(kind(&store.load().unwrap_err()), ErrorKind::Decrypt);

        // A store without the key cannot read it; a store with a key refuses a plain value.
        let plain = RedisStore::builder(&server.url(), "enc").build().unwrap();
        let error = plain.load().unwrap_err();
        assert_eq!(kind(&error), ErrorKind::Format);
        assert!(error.to_string().contains("is encrypted"), "{error}");
        plain.save(&saved).unwrap();
        let error = store.load().unwrap_err();
        assert_eq!(kind(&error), ErrorKind::Format);
        assert!(error.to_string().contains("is not encrypted"), "{error}");

        // The same sealed value under another prefix does not open: it is bound to its key.
        store.save(&saved).unwrap();
        let sealed = hget(&server, "enc:tokens", "value").unwrap();
        let _: () = redis::cmd("HSET")
            .arg("moved:tokens")
            .arg("value")
            .arg(&sealed)
            .query(&mut raw(&server))
            .unwrap();
        let moved = RedisStore::builder(&server.url(), "moved")
            .encryption_key(KEY)
            .build()
            .unwrap();
        assert_eq!(kind(&moved.load().unwrap_err()), ErrorKind::Decrypt);
    }
}

redis_test! {
    fn the_lease_is_exclusive_across_store_objects() {
        let server = RedisServer::start();
        let a = store(&server, "ex");
        let b = store(&server, "ex");

        let held = a.lease(Duration::from_secs(1)).unwrap();
        let value = get(&server, "ex:lease").unwrap();
        let (fence, random) = value.split_once(':').unwrap();
        assert_eq!(fence, "1");
        assert!(random.len() >= 16, "{value}");
        let ttl: i64 = redis::cmd("PTTL").arg("ex:lease").query(&mut raw(&server)).unwrap();
        assert!((1..=30_000).contains(&ttl), "{ttl}");

        // b waits for `wait`, then gets a typed error.
        let started = Instant::now();
        let error = b.lease(Duration::from_millis(300)).unwrap_err();
        let waited = started.elapsed();
        assert_eq!(kind(&error), ErrorKind::LeaseBusy, "{error}");
        assert!(waited >= Duration::from_millis(300), "{waited:?}");
        assert!(waited < Duration::from_secs(3), "{waited:?}");
        // So does a second lease through the same store object.
        assert_eq!(kind(&a.lease(Duration::ZERO).unwrap_err()), ErrorKind::LeaseBusy);
        // A failed attempt takes no fencing number.
        assert_eq!(get(&server, "ex:fence").as_deref(), Some("1"));

        drop(held);
        assert_eq!(get(&server, "ex:lease"), None);
        let started = Instant::now();
        let again = b.lease(Duration::from_millis(300)).unwrap();
        assert!(started.elapsed() < Duration::from_millis(300));
        assert!(get(&server, "ex:lease").unwrap().starts_with("2:"));
        drop(again);
        assert_eq!(get(&server, "ex:lease"), None);
    }
}

redis_test! {
    fn a_waiter_gets_the_lease_while_another_thread_holds_it_then_releases() {
        let server = RedisServer::start();
        let a = store(&server, "hand");
        let b = store(&server, "hand");
        let held = a.lease(Duration::from_secs(1)).unwrap();
        thread::scope(|scope| {
            let waiter = scope.spawn(|| b.lease(Duration::from_secs(10)));
            thread::sleep(Duration::from_millis(200));
            assert!(!waiter.is_finished(), "b got the lease while a held it");
            drop(held);
            let lease = waiter.join().unwrap().unwrap();
            assert!(get(&server, "hand:lease").unwrap().starts_with("2:"));
            drop(lease);
        });
    }
}

redis_test! {
    fn fencing_refuses_the_save_of_a_holder_whose_lease_expired() {
        let server = RedisServer::start();
        let a = RedisStore::builder(&server.url(), "fence")
            .lease_ttl(Duration::from_millis(200))
            .build()
            .unwrap();
        let b = store(&server, "fence");

        let a_lease = a.lease(Duration::from_secs(1)).unwrap();
        // a stalls past its lease's TTL; b takes the lease.
        thread::sleep(Duration::from_millis(400));
        let b_lease = b.lease(Duration::from_secs(1)).unwrap();
        let b_value = get(&server, "fence:lease").unwrap();
        assert!(b_value.starts_with("2:"));

        // a's save is refused: the lease is b's now.
        let a_tokens = tokens("at-from-a", "rt-from-a");
        let error = a.save(&a_tokens).unwrap_err();
        assert_eq!(kind(&error), ErrorKind::LeaseLost, "{error}");
        let text = shown(&error);
        assert!(text.contains("the lease was lost to another holder"), "{text}");
        assert!(!text.contains("at-from-a") && !text.contains("rt-from-a"), "{text}");
        assert!(a.load().unwrap().is_none());
        assert_eq!(a.version().unwrap(), 0);

        // b's save goes through.
        let b_tokens = tokens("at-from-b", "rt-from-b");
        b.save(&b_tokens).unwrap();
        assert_same(&a.load().unwrap().unwrap(), &b_tokens);
        assert_eq!(b.version().unwrap(), 1);

        // a's release does not delete b's lease.
        drop(a_lease);
        assert_eq!(get(&server, "fence:lease").as_deref(), Some(b_value.as_str()));
        assert_eq!(
            kind(&store(&server, "fence").lease(Duration::ZERO).unwrap_err()),
            ErrorKind::LeaseBusy
        );
        drop(b_lease);
        assert_eq!(get(&server, "fence:lease"), None);
    }
}

redis_test! {
    fn fencing_refuses_a_save_after_a_later_holder_saved_and_left() {
        let server = RedisServer::start();
        let a = RedisStore::builder(&server.url(), "later")
            .lease_ttl(Duration::from_millis(150))
            .build()
            .unwrap();
        let b = store(&server, "later");
        let a_lease = a.lease(Duration::from_secs(1)).unwrap();
        thread::sleep(Duration::from_millis(300));
        {
            let _b_lease = b.lease(Duration::from_secs(1)).unwrap();
            b.save(&tokens("at-later-b", "rt-later-b")).unwrap();
        }
        // The lease is free now, but b saved under a later fencing number.
        assert_eq!(get(&server, "later:lease"), None);
        let error = a.save(&tokens("at-later-a", "rt-later-a")).unwrap_err();
        assert_eq!(kind(&error), ErrorKind::LeaseLost, "{error}");
        assert!(error.to_string().contains("saved since"), "{error}");
        assert_eq!(
            a.load().unwrap().unwrap().access_token().expose_secret(),
            "at-later-b"
        );
        drop(a_lease);
    }
}

redis_test! {
    fn a_lease_that_expired_with_no_successor_still_saves() {
        let server = RedisServer::start();
        let a = RedisStore::builder(&server.url(), "alone")
            .lease_ttl(Duration::from_millis(100))
            .build()
            .unwrap();
        let lease = a.lease(Duration::from_secs(1)).unwrap();
        thread::sleep(Duration::from_millis(300));
        assert_eq!(get(&server, "alone:lease"), None);
        a.save(&tokens("at-alone", "rt-alone")).unwrap();
        assert_eq!(hget(&server, "alone:tokens", "fence").as_deref(), Some(&b"1"[..]));
        drop(lease);
        // After the lease is dropped, saves are not fenced.
        a.save(&tokens("at-alone-2", "rt-alone-2")).unwrap();
        assert_eq!(a.version().unwrap(), 2);
    }
}

redis_test! {
    fn a_release_wakes_a_waiter_long_before_its_next_poll() {
        let server = RedisServer::start();
        // Polling alone would take up to 5 s to notice the release.
        let poll = Duration::from_secs(5);
        let a = store(&server, "wake");
        let b = RedisStore::builder(&server.url(), "wake")
            .poll_interval(poll)
            .build()
            .unwrap();
        let held = a.lease(Duration::from_secs(1)).unwrap();
        thread::scope(|scope| {
            let waiter = scope.spawn(|| {
                let lease = b.lease(Duration::from_secs(30));
                (lease, Instant::now())
            });
            // The waiter has subscribed and is inside its first 5 s wait.
            thread::sleep(Duration::from_millis(500));
            let released = Instant::now();
            drop(held);
            let (lease, got) = waiter.join().unwrap();
            lease.unwrap();
            let took = got - released;
            assert!(took < Duration::from_secs(2), "woken after {took:?}");
        });
    }
}

redis_test! {
    fn a_crashed_holder_blocks_only_until_its_lease_expires() {
        let server = RedisServer::start();
        let a = RedisStore::builder(&server.url(), "crash")
            .lease_ttl(Duration::from_millis(300))
            .build()
            .unwrap();
        let b = store(&server, "crash");
        // The holder dies without releasing: no message, only the TTL ends it.
        std::mem::forget(a.lease(Duration::from_secs(1)).unwrap());
        let started = Instant::now();
        b.lease(Duration::from_secs(5)).unwrap();
        let took = started.elapsed();
        assert!(took < Duration::from_secs(2), "{took:?}");
    }
}

redis_test! {
    fn a_redis_restart_gives_typed_errors_then_recovers() {
        let mut server = RedisServer::start();
        let port = server.port();
        let store = RedisStore::builder(&server.url(), "restart")
            .timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        let saved = tokens("at-restart", "rt-restart");
        store.save(&saved).unwrap();
        // Another store object holds the lease across the restart.
        let holder = store_at(&server.url(), "restart");
        let held = holder.lease(Duration::from_secs(1)).unwrap();

        server.kill();
        let started = Instant::now();
        for error in [
            store.load().unwrap_err(),
            store.save(&saved).unwrap_err(),
            store.lease(Duration::from_millis(100)).unwrap_err(),
            store.version().unwrap_err(),
        ] {
            eprintln!("SHOWN: {}", shown(&error));
            assert_eq!(kind(&error), ErrorKind::Unavailable, "{error}");
            assert!(error.is_transient(), "a token manager saves again through it: {error}");
            let text = shown(&error);
            assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
            assert!(!text.contains("at-restart") && !text.contains("rt-restart"), "{text}");
        }
        assert!(started.elapsed() < Duration::from_secs(10));

        // Back on the same port, empty (no persistence): the same store object recovers.
        let server = RedisServer::start_on(port);
        assert!(store.load().unwrap().is_none());
        store.save(&saved).unwrap();
        assert_same(&store.load().unwrap().unwrap(), &saved);
        let lease = store.lease(Duration::from_secs(1)).unwrap();
        store.save(&saved).unwrap();
        // The lease from before the restart, released over a broken connection and then a
        // new one, does not delete its successor's.
        let successor = get(&server, "restart:lease").unwrap();
        drop(held);
        assert_eq!(get(&server, "restart:lease"), Some(successor));
        drop(lease);
        assert_eq!(get(&server, "restart:lease"), None);
        assert_eq!(store.version().unwrap(), 2);
    }
}

redis_test! {
    fn debug_and_errors_show_no_password_key_or_token() {
        let server = RedisServer::start();
        let store = RedisStore::builder(
            &format!("redis://user:pw-3f9a@127.0.0.1:{}/", server.port()),
            "dbg",
        )
        .encryption_key(KEY)
        .build()
        .unwrap();
        let debug = format!("{store:?}");
        assert!(!debug.contains("pw-3f9a"), "{debug}");
        assert!(debug.contains("encrypted: true"), "{debug}");
        assert!(!debug.contains("90, 90"), "{debug}");
        // The server has no such user: Redis says so, and the password stays out of it.
        let error = store.save(&tokens("at-dbg", "rt-dbg")).unwrap_err();
        assert_eq!(kind(&error), ErrorKind::Redis, "{error}");
        let text = shown(&error);
        assert!(!text.contains("pw-3f9a"), "{text}");
        assert!(!text.contains("at-dbg"), "{text}");
        eprintln!("SHOWN: {text}");
        let lease = store.lease(Duration::ZERO).unwrap_err();
        assert!(!shown(&lease).contains("pw-3f9a"));
    }
}

redis_test! {
    fn a_lease_waits_out_a_redis_restart_and_the_holders_lease_survives_it() {
        let mut server = RedisServer::start_persistent();
        let holder = RedisStore::builder(&server.url(), "outage")
            .timeout(Duration::from_millis(500))
            .build()
            .unwrap();
        let waiter = RedisStore::builder(&server.url(), "outage")
            .timeout(Duration::from_millis(500))
            .build()
            .unwrap();
        holder.save(&tokens("at-1", "rt-1")).unwrap();
        let held = holder.lease(Duration::ZERO).unwrap();
        let waiting = thread::spawn(move || {
            let asked = Instant::now();
            let lease = waiter.lease(Duration::from_secs(20));
            (waiter, lease, asked.elapsed())
        });
        thread::sleep(Duration::from_millis(300));
        server.restart();
        // The holder's lease came back with the data: the waiter still waits, and the holder
        // may still save (fenced: the lease is its own).
        thread::sleep(Duration::from_millis(300));
        assert!(!waiting.is_finished(), "the lease outlived the restart");
        let lease_value = get(&server, "outage:lease").expect("the lease survived");
        assert!(lease_value.starts_with("1:"), "{lease_value}");
        holder.save(&tokens("at-2", "rt-2")).unwrap();
        drop(held);

        let (waiter, lease, waited) = waiting.join().unwrap();
        let lease = lease.expect("the waiter took the lease once the holder released it");
        assert!(waited < Duration::from_secs(10), "{waited:?}");
        assert!(get(&server, "outage:lease").unwrap().starts_with("2:"));
        assert_same(&waiter.load().unwrap().unwrap(), &tokens("at-2", "rt-2"));
        drop(lease);
        assert_eq!(holder.version().unwrap(), 2);
    }
}

redis_test! {
    fn a_lease_wait_that_ends_in_an_outage_says_redis_is_unavailable() {
        let mut server = RedisServer::start();
        let store = RedisStore::builder(&server.url(), "down")
            .timeout(Duration::from_millis(200))
            .build()
            .unwrap();
        server.kill();
        let asked = Instant::now();
        let error = store.lease(Duration::from_millis(600)).unwrap_err();
        // Waited out, not given up at the first refusal.
        assert!(asked.elapsed() >= Duration::from_millis(600), "{:?}", asked.elapsed());
        assert_eq!(kind(&error), ErrorKind::Unavailable, "{error}");
        assert!(error.is_transient());
    }
}

/// How many connections the server has accepted since it started.
fn connections_received(server: &RedisServer) -> u64 {
    let info: String = redis::cmd("INFO")
        .arg("stats")
        .query(&mut raw(server))
        .unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("total_connections_received:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("INFO stats names total_connections_received")
}

redis_test! {
    fn one_connection_serves_call_after_call_and_a_dead_one_is_replaced_at_once() {
        let mut server = RedisServer::start();
        let store = store(&server, "reuse");
        let before = connections_received(&server);
        for i in 0..20 {
            store.save(&tokens(&format!("at-{i}"), "rt")).unwrap();
            store.load().unwrap().unwrap();
            drop(store.lease(Duration::ZERO).unwrap());
        }
        // The store's one connection, and `connections_received`'s own.
        assert_eq!(connections_received(&server) - before, 2);

        // Restarted with no call in between: the kept connection is dead, and the next calls
        // reconnect instead of failing.
        server.restart();
        assert!(store.load().unwrap().is_none());
        drop(store.lease(Duration::ZERO).unwrap());
        store.save(&tokens("at-after", "rt")).unwrap();
        assert_eq!(store.version().unwrap(), 1);
    }
}

/// A certificate authority, and a certificate it signed for 127.0.0.1: (CA PEM, server
/// certificate PEM, server key PEM).
#[cfg(feature = "tls")]
fn certificates() -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    (ca.pem(), server.pem(), key.serialize_pem())
}

redis_test! {
    #[cfg(feature = "tls")]
    fn rediss_with_the_servers_ca_works_and_an_unknown_ca_is_refused() {
        let (ca, certificate, key) = certificates();
        let server = RedisServer::start_tls(&certificate, &key);
        let store = RedisStore::builder(&server.tls_url(), "tls")
            .tls_root_certificate(ca)
            .encryption_key(KEY)
            .build()
            .unwrap();
        store.save(&tokens("at-tls", "rt-tls")).unwrap();
        assert_same(&store.load().unwrap().unwrap(), &tokens("at-tls", "rt-tls"));
        drop(store.lease(Duration::ZERO).unwrap());
        assert_eq!(store.version().unwrap(), 1);

        // Another CA's certificate: the handshake fails, with a typed error that names the
        // host and no secret, and the store is not fooled into sending anything.
        let (other_ca, _, _) = certificates();
        let stranger = RedisStore::builder(&server.tls_url(), "tls")
            .tls_root_certificate(other_ca)
            .timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        let error = stranger.load().unwrap_err();
        eprintln!("SHOWN: {}", shown(&error));
        assert_eq!(kind(&error), ErrorKind::Tls, "{error}");
        assert!(!error.is_transient(), "a certificate does not fix itself: {error}");
        assert!(shown(&error).contains(&format!("127.0.0.1:{}", server.port())));

        // Certificate checks cannot be turned off through the URL.
        let insecure = RedisStore::builder(&format!("{}#insecure", server.tls_url()), "tls").build();
        assert_eq!(kind(&insecure.unwrap_err()), ErrorKind::Config);
    }
}
