//! `[egress]` (ext): what the forward and transparent listeners do with hosts that are not LLM
//! APIs, who may use them, and how many minted certificates are kept.
//!
//! ```toml
//! [egress]
//! tunnel = ["*.github.com", "pypi.org", "registry.npmjs.org:443", "10.0.0.7:*"]
//! clients = ["10.0.0.0/8", "127.0.0.1/32"]
//! cert_cache = 1024
//! ```
//!
//! Everything not listed in `tunnel` is denied (403 and an audit record). A tunnel pattern is a
//! host glob with an optional port: no port means 443, `:*` means any port. LLM hosts are never
//! tunneled, whatever the list says: they are intercepted, or refused.

use super::error::Collector;
use super::file::ConfigFile;
use serde::Deserialize;
use sovgate_core::glob::Glob;
use std::net::IpAddr;
use toml::Spanned;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct EgressFile {
    #[serde(default)]
    pub tunnel: Vec<Spanned<String>>,
    #[serde(default)]
    pub clients: Vec<Spanned<String>>,
    pub cert_cache: Option<Spanned<u32>>,
}

/// The built `[egress]` section.
#[derive(Debug, Clone)]
pub struct Egress {
    pub tunnel: Vec<TunnelRule>,
    /// Client networks allowed on the forward and transparent listeners; empty allows any.
    pub clients: Vec<Cidr>,
    /// Most minted leaf certificates kept (one per host).
    pub cert_cache: usize,
}

impl Default for Egress {
    fn default() -> Self {
        Egress {
            tunnel: Vec::new(),
            clients: Vec::new(),
            cert_cache: 1024,
        }
    }
}

impl Egress {
    /// Whether a client address may use the interception listeners.
    pub fn client_allowed(&self, ip: IpAddr) -> bool {
        self.clients.is_empty() || self.clients.iter().any(|c| c.contains(ip))
    }

    /// Whether `host:port` (already normalized) may be tunneled.
    pub fn tunnel_allowed(&self, host: &str, port: u16) -> bool {
        self.tunnel
            .iter()
            .any(|r| r.port.is_none_or(|p| p == port) && r.host.matches(host))
    }
}

#[derive(Debug, Clone)]
pub struct TunnelRule {
    pub host: Glob,
    /// `None`: any port.
    pub port: Option<u16>,
}

/// An address block, `10.0.0.0/8` or `2001:db8::/32`; a bare address is a /32 or /128.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Option<Cidr> {
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a.trim().parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p.trim().parse::<u8>().ok().filter(|p| *p <= max)?,
            None => max,
        };
        Some(Cidr { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical_ip(ip);
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                masked(u32::from(n).into(), u32::from(a).into(), 32, self.prefix)
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                masked(u128::from(n), u128::from(a), 128, self.prefix)
            }
            _ => false,
        }
    }
}

fn masked(net: u128, addr: u128, bits: u32, prefix: u8) -> bool {
    let shift = bits - u32::from(prefix);
    if shift >= 128 {
        return true;
    }
    (net >> shift) == (addr >> shift)
}

/// An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`, what a dual-stack socket reports) is the IPv4
/// address it carries.
pub fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The upstream of a provider whose hosts are all patterns and that names no `upstream`: only
/// intercepted requests (which carry the real host) can be sent; `.invalid` never resolves.
pub const PATTERN_UPSTREAM: &str = "https://host-pattern.sovgate.invalid";

/// Builds `[egress]` and checks the keys the interception listeners depend on.
pub(super) fn check(c: &mut Collector<'_>, file: &ConfigFile) -> Egress {
    let needs_ca = [&file.listen.forward, &file.listen.transparent]
        .into_iter()
        .flatten()
        .next();
    if let Some(l) = needs_ca {
        if file.tls.ca_cert.is_none() || file.tls.ca_key.is_none() {
            c.at(
                l.span().start,
                "the forward and transparent listeners mint certificates and need [tls] ca_cert and ca_key",
                Some("run `sovgate ca init --out certs` and set ca_cert = \"certs/ca.pem\", ca_key = \"certs/ca.key\""),
            );
        }
    }
    if file.tls.ca_cert.is_some() != file.tls.ca_key.is_some() {
        let at = file
            .tls
            .ca_cert
            .as_ref()
            .or(file.tls.ca_key.as_ref())
            .map_or(0, |s| s.span().start);
        c.at(
            at,
            "ca_cert and ca_key go together",
            Some("set both, or neither"),
        );
    }
    if let Some(ca) = &file.tls.client_ca {
        if file.tls.server_cert.is_none() {
            c.at(
                ca.span().start,
                "client_ca needs TLS on the reverse listener",
                Some("set [tls] server_cert and server_key as well"),
            );
        }
    }
    build(c, &file.egress)
}

fn build(c: &mut Collector<'_>, f: &EgressFile) -> Egress {
    let mut e = Egress::default();
    for t in &f.tunnel {
        let text = t.get_ref().trim().to_ascii_lowercase();
        let (host, port) = match text.rsplit_once(':') {
            // An IPv6 literal without a port has colons but ends in `]` or has no brackets.
            Some((h, p)) if !h.is_empty() && (h.ends_with(']') || !h.contains(':')) => {
                if p == "*" {
                    (h.to_owned(), None)
                } else if let Ok(p) = p.parse::<u16>() {
                    (h.to_owned(), Some(p))
                } else {
                    c.at(
                        t.span().start,
                        format!("tunnel `{}`: `{p}` is not a port", t.get_ref()),
                        Some("write HOST, HOST:PORT or HOST:* (any port)"),
                    );
                    continue;
                }
            }
            _ => (text.clone(), Some(443)),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let host = host.trim_end_matches('.');
        if host.is_empty() {
            c.at(t.span().start, "empty tunnel pattern", None);
            continue;
        }
        e.tunnel.push(TunnelRule {
            host: Glob::case_insensitive(host),
            port,
        });
    }
    for cl in &f.clients {
        match Cidr::parse(cl.get_ref()) {
            Some(cidr) => e.clients.push(cidr),
            None => c.at(
                cl.span().start,
                format!("`{}` is not an address block", cl.get_ref()),
                Some("write it as \"10.0.0.0/8\", \"2001:db8::/32\" or a single address"),
            ),
        }
    }
    if let Some(n) = &f.cert_cache {
        if *n.get_ref() == 0 {
            c.at(
                n.span().start,
                "cert_cache must be at least 1",
                Some("the default, 1024, holds one certificate per intercepted host"),
            );
        } else {
            e.cert_cache = *n.get_ref() as usize;
        }
    }
    e
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn cidr_blocks() {
        let c = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(c.contains("10.1.2.3".parse().unwrap()));
        assert!(c.contains("::ffff:10.1.2.3".parse().unwrap()));
        assert!(!c.contains("11.0.0.1".parse().unwrap()));
        assert!(Cidr::parse("0.0.0.0/0")
            .unwrap()
            .contains("8.8.8.8".parse().unwrap()));
        assert!(Cidr::parse("::/0")
            .unwrap()
            .contains("::1".parse().unwrap()));
        assert!(Cidr::parse("127.0.0.1")
            .unwrap()
            .contains("127.0.0.1".parse().unwrap()));
        assert!(Cidr::parse("10.0.0.0/33").is_none());
        assert!(Cidr::parse("nonsense").is_none());
    }

    #[test]
    fn tunnel_patterns() {
        let text = "tunnel = [\"*.github.com\", \"pypi.org:8443\", \"127.0.0.1:*\", \"[::1]:22\"]";
        let f: EgressFile = toml::from_str(text).unwrap();
        let mut c = Collector::new("t.toml", text);
        let e = build(&mut c, &f);
        assert!(c.finish().is_ok());
        assert!(e.tunnel_allowed("api.github.com", 443));
        assert!(!e.tunnel_allowed("api.github.com", 22));
        assert!(e.tunnel_allowed("pypi.org", 8443));
        assert!(!e.tunnel_allowed("pypi.org", 443));
        assert!(e.tunnel_allowed("127.0.0.1", 9));
        assert!(e.tunnel_allowed("::1", 22));
        assert!(!e.tunnel_allowed("example.com", 443));
    }
}
