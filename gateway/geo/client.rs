//! Where the client is: the connecting address, or what a trusted proxy says it forwarded for.
//!
//! `X-Forwarded-For` and `Forwarded` are written by whoever sent the request, so they are read
//! only when the connecting address is in `[geo] trusted_proxies`, and then right to left: each
//! hop appended by a trusted proxy is believed, and the first address not itself a trusted proxy
//! is the client. Anything a client wrote further left is never reached, so a spoofed header
//! changes nothing. A trusted proxy that forwarded something unreadable (`unknown`, an obfuscated
//! name, garbage) leaves the client unlocated rather than guessed.

use http::HeaderMap;
use sovgate_core::cidr::{any_contains, Cidr};
use std::net::IpAddr;

/// More hops than this are not walked: a chain that long is not a real deployment.
const MAX_HOPS: usize = 32;

/// The client's address. `Err` says why a trusted proxy's header could not be read.
pub fn client_address(
    remote: IpAddr,
    headers: &HeaderMap,
    trusted: &[Cidr],
) -> Result<IpAddr, String> {
    if trusted.is_empty() || !any_contains(trusted, remote) {
        return Ok(remote);
    }
    let hops = forwarded_hops(headers);
    let mut leftmost = remote;
    for hop in hops.iter().rev().take(MAX_HOPS) {
        match hop {
            Some(ip) if any_contains(trusted, *ip) => leftmost = *ip,
            Some(ip) => return Ok(*ip),
            None => {
                return Err(
                    "a trusted proxy forwarded a client address that is not an IP address".into(),
                )
            }
        }
    }
    Ok(leftmost)
}

/// The forwarded-for chain, left (original client) to right (last proxy). `Forwarded`
/// (RFC 7239) wins over `X-Forwarded-For` when both are present. `None` marks an unreadable hop.
pub fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let forwarded: Vec<&str> = headers
        .get_all(http::header::FORWARDED)
        .iter()
        .map(|v| v.to_str().unwrap_or("\u{0}"))
        .collect();
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|v| v.split(','))
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, v)| parse_hop(v))
            })
            .collect();
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|v| v.to_str().unwrap_or("\u{0}").split(','))
        .map(parse_hop)
        .collect()
}

/// `192.0.2.1`, `192.0.2.1:4711`, `"[2001:db8::1]:4711"`, `2001:db8::1`.
fn parse_hop(s: &str) -> Option<IpAddr> {
    let s = s.trim().trim_matches('"');
    if let Ok(ip) = s.parse() {
        return Some(ip);
    }
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    match s.split_once(':') {
        Some((v4, port)) if port.parse::<u16>().is_ok() => v4.parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                http::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn untrusted_peers_cannot_claim_an_address() {
        let trusted = [Cidr::parse("10.0.0.0/8").unwrap()];
        let h = headers(&[("x-forwarded-for", "198.51.100.7")]);
        assert_eq!(
            client_address(ip("203.0.113.5"), &h, &trusted),
            Ok(ip("203.0.113.5"))
        );
        assert_eq!(
            client_address(ip("203.0.113.5"), &h, &[]),
            Ok(ip("203.0.113.5"))
        );
        let h = headers(&[("forwarded", "for=198.51.100.7")]);
        assert_eq!(
            client_address(ip("203.0.113.5"), &h, &trusted),
            Ok(ip("203.0.113.5"))
        );
    }

    #[test]
    fn trusted_proxies_are_walked_right_to_left() {
        let trusted = [Cidr::parse("10.0.0.0/8").unwrap()];
        // The client spoofed the first entry; the proxy appended what it saw.
        let h = headers(&[("x-forwarded-for", "192.0.2.66, 198.51.100.7, 10.1.1.1")]);
        assert_eq!(
            client_address(ip("10.0.0.1"), &h, &trusted),
            Ok(ip("198.51.100.7"))
        );
        // Two header lines are one list.
        let h = headers(&[
            ("x-forwarded-for", "192.0.2.66"),
            ("x-forwarded-for", "198.51.100.7"),
        ]);
        assert_eq!(
            client_address(ip("10.0.0.1"), &h, &trusted),
            Ok(ip("198.51.100.7"))
        );
        // A trusted proxy with no header is the client itself.
        assert_eq!(
            client_address(ip("10.0.0.1"), &HeaderMap::new(), &trusted),
            Ok(ip("10.0.0.1"))
        );
        // Only trusted hops: the leftmost is the client.
        let h = headers(&[("x-forwarded-for", "10.9.9.9, 10.1.1.1")]);
        assert_eq!(
            client_address(ip("10.0.0.1"), &h, &trusted),
            Ok(ip("10.9.9.9"))
        );
    }

    #[test]
    fn forwarded_header_forms() {
        let trusted = [Cidr::parse("10.0.0.1").unwrap()];
        let h = headers(&[(
            "forwarded",
            "for=192.0.2.60;proto=http;by=203.0.113.43, For=\"[2001:db8:cafe::17]:4711\"",
        )]);
        assert_eq!(
            client_address(ip("10.0.0.1"), &h, &trusted),
            Ok(ip("2001:db8:cafe::17"))
        );
        let h = headers(&[("forwarded", "for=192.0.2.43:8080")]);
        assert_eq!(
            client_address(ip("10.0.0.1"), &h, &trusted),
            Ok(ip("192.0.2.43"))
        );
        // Forwarded wins over X-Forwarded-For.
        let h = headers(&[
            ("forwarded", "for=192.0.2.43"),
            ("x-forwarded-for", "198.51.100.1"),
        ]);
        assert_eq!(
            client_address(ip("10.0.0.1"), &h, &trusted),
            Ok(ip("192.0.2.43"))
        );
    }

    #[test]
    fn unreadable_hops_from_a_trusted_proxy_are_not_guessed() {
        let trusted = [Cidr::parse("10.0.0.1").unwrap()];
        for bad in [
            ("forwarded", "for=unknown"),
            ("forwarded", "for=_hidden"),
            ("x-forwarded-for", "not-an-ip"),
            ("x-forwarded-for", "192.0.2.1, "),
        ] {
            let h = headers(&[bad]);
            assert!(
                client_address(ip("10.0.0.1"), &h, &trusted).is_err(),
                "{bad:?}"
            );
        }
        // Garbage left of a readable untrusted hop is never reached.
        let h = headers(&[("x-forwarded-for", "garbage, 192.0.2.1")]);
        assert_eq!(
            client_address(ip("10.0.0.1"), &h, &trusted),
            Ok(ip("192.0.2.1"))
        );
    }
}
