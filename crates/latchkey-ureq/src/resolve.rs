//! The default agent's resolver: IP-literal hosts without a thread, names as ureq resolves them.
//!
//! With a resolve timeout in force (this transport always sets a connect and an overall
//! timeout), ureq 3's `DefaultResolver` runs every lookup on a new thread so that it can stop
//! waiting for it, and it looks the host up on every request, pooled connection or not. For a
//! host that is already an address (`127.0.0.1`, `[::1]`, any IPv4 or IPv6 literal) there is
//! nothing to look up and nothing to wait for: [`LiteralResolver`] returns the address at once.
//! Every other host (a name, an address with a zone, an unknown scheme) goes to
//! `DefaultResolver` unchanged, with the same timeout, the same errors and the same
//! `ip_family` filter.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use ureq::config::Config;
use ureq::http::Uri;
use ureq::http::uri::Scheme;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// Resolves IP literals in place and delegates names to ureq's [`DefaultResolver`].
#[derive(Debug, Default)]
pub(crate) struct LiteralResolver {
    names: DefaultResolver,
}

impl Resolver for LiteralResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let Some(addr) = literal(uri) else {
            return self.names.resolve(uri, config, timeout);
        };
        let mut result = self.empty();
        for addr in config.ip_family().keep_wanted(std::iter::once(addr)) {
            result.push(addr);
        }
        if result.is_empty() {
            // As DefaultResolver answers when the address is of the unwanted family.
            Err(ureq::Error::HostNotFound)
        } else {
            Ok(result)
        }
    }
}

/// The socket address of an `http` or `https` URI whose host is an IP literal.
fn literal(uri: &Uri) -> Option<SocketAddr> {
    let scheme = uri.scheme()?;
    let default_port = if *scheme == Scheme::HTTPS {
        443
    } else if *scheme == Scheme::HTTP {
        80
    } else {
        return None;
    };
    let authority = uri.authority()?;
    let host = authority.host();
    let ip = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => IpAddr::V6(v6.parse::<Ipv6Addr>().ok()?),
        None => IpAddr::V4(host.parse::<Ipv4Addr>().ok()?),
    };
    let port = authority.port_u16().unwrap_or(default_port);
    Some(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(s: &str) -> Uri {
        s.parse().expect("uri")
    }

    #[test]
    fn literals_resolve_in_place() {
        assert_eq!(
            literal(&uri("http://127.0.0.1:8080/token")),
            Some("127.0.0.1:8080".parse().expect("addr"))
        );
        assert_eq!(
            literal(&uri("http://[::1]:9/x")),
            Some("[::1]:9".parse().expect("addr"))
        );
        assert_eq!(
            literal(&uri("https://10.1.2.3/")),
            Some("10.1.2.3:443".parse().expect("addr"))
        );
        assert_eq!(
            literal(&uri("http://[2001:db8::1]/")),
            Some("[2001:db8::1]:80".parse().expect("addr"))
        );
        assert_eq!(
            literal(&uri("http://user:pw@127.0.0.1:1/")),
            Some("127.0.0.1:1".parse().expect("addr"))
        );
    }

    #[test]
    fn names_and_odd_forms_go_to_the_default_resolver() {
        for s in [
            "http://localhost:8080/",
            "https://auth.example.com/token",
            "http://127.1/",
            "http://0x7f.0.0.1/",
            "http://1.2.3.4.example/",
            "http://[fe80::1%25eth0]:80/",
            "socks5://127.0.0.1:1080",
        ] {
            assert_eq!(literal(&uri(s)), None, "{s}");
        }
    }

    #[test]
    fn ip_family_is_respected() {
        let resolver = LiteralResolver::default();
        let v4_only = Config::builder()
            .ip_family(ureq::config::IpFamily::Ipv4Only)
            .build();
        let timeout = NextTimeout::default();
        let err = resolver
            .resolve(&uri("http://[::1]:1/"), &v4_only, timeout)
            .expect_err("v6 filtered out");
        assert!(matches!(err, ureq::Error::HostNotFound));
        let addrs = resolver
            .resolve(&uri("http://127.0.0.1:1/"), &v4_only, timeout)
            .expect("v4 kept");
        assert_eq!(&addrs[..], &["127.0.0.1:1".parse().expect("addr")]);
    }
}
