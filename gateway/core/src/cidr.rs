//! Address ranges: `[geo] overrides` (CIDR → country) and `[geo] trusted_proxies`.
//!
//! Every address is compared in one 128-bit space where IPv4 lives at `::ffff:0:0/96`, so an
//! IPv4-mapped IPv6 address (`::ffff:10.1.2.3`, what a dual-stack socket reports) matches the
//! IPv4 range an operator wrote.

use crate::geo::Country;
use std::net::IpAddr;

/// One address range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    bits: u128,
    /// Prefix length in the 128-bit space.
    len: u8,
}

/// The address in the shared 128-bit space.
pub fn key(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => 0xffff_u128 << 32 | u128::from(u32::from(v4)),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => key(IpAddr::V4(v4)),
            None => u128::from(v6),
        },
    }
}

fn mask(len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len))
    }
}

impl Cidr {
    /// `10.0.0.0/8`, `2001:db8::/32`, or a single address. Host bits past the prefix are
    /// ignored (`10.1.2.3/8` is `10.0.0.0/8`).
    pub fn parse(s: &str) -> Option<Cidr> {
        let (addr, len) = match s.trim().split_once('/') {
            Some((a, l)) => (a, Some(l.parse::<u8>().ok()?)),
            None => (s.trim(), None),
        };
        let ip: IpAddr = addr.parse().ok()?;
        let len = match (ip, len) {
            (IpAddr::V4(_), Some(l)) if l <= 32 => l + 96,
            (IpAddr::V6(_), Some(l)) if l <= 128 => l,
            (_, Some(_)) => return None,
            (_, None) => 128,
        };
        Some(Cidr {
            bits: key(ip) & mask(len),
            len,
        })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        (key(ip) ^ self.bits) & mask(self.len) == 0
    }

    pub fn prefix_len(&self) -> u8 {
        self.len
    }
}

/// Whether `ip` is in any of `ranges`.
pub fn any_contains(ranges: &[Cidr], ip: IpAddr) -> bool {
    ranges.iter().any(|r| r.contains(ip))
}

/// CIDR → country, the most specific range winning.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// Longest prefix first, so the first match is the most specific.
    ranges: Vec<(Cidr, Country)>,
}

impl Overrides {
    pub fn new(mut ranges: Vec<(Cidr, Country)>) -> Overrides {
        ranges.sort_by_key(|r| std::cmp::Reverse(r.0.len));
        Overrides { ranges }
    }

    pub fn lookup(&self, ip: IpAddr) -> Option<Country> {
        let k = key(ip);
        self.ranges
            .iter()
            .find(|(c, _)| (k ^ c.bits) & mask(c.len) == 0)
            .map(|(_, country)| *country)
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ranges_parse_and_match() {
        let c = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(c.contains(ip("10.255.1.2")) && !c.contains(ip("11.0.0.1")));
        assert!(
            c.contains(ip("::ffff:10.1.2.3")),
            "IPv4-mapped matches IPv4 ranges"
        );
        let host = Cidr::parse("127.0.0.2").unwrap();
        assert!(host.contains(ip("127.0.0.2")) && !host.contains(ip("127.0.0.3")));
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains(ip("2001:db8:1::5")) && !v6.contains(ip("2001:db9::1")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(!Cidr::parse("0.0.0.0/0")
            .unwrap()
            .contains(ip("2001:db8::1")));
        for bad in [
            "10.0.0.0/33",
            "2001:db8::/129",
            "10.0.0/8",
            "example.com",
            "10.0.0.0/x",
            "",
        ] {
            assert!(Cidr::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(Cidr::parse("10.1.2.3/8"), Cidr::parse("10.0.0.0/8"));
    }

    #[test]
    fn the_most_specific_override_wins() {
        let c = |s: &str| Country::parse(s).unwrap();
        let o = Overrides::new(vec![
            (Cidr::parse("127.0.0.0/8").unwrap(), c("FR")),
            (Cidr::parse("127.0.0.2/32").unwrap(), c("DE")),
            (Cidr::parse("127.0.0.0/24").unwrap(), c("US")),
        ]);
        assert_eq!(o.lookup(ip("127.0.0.2")), Some(c("DE")));
        assert_eq!(o.lookup(ip("127.0.0.9")), Some(c("US")));
        assert_eq!(o.lookup(ip("127.1.0.9")), Some(c("FR")));
        assert_eq!(o.lookup(ip("192.0.2.1")), None);
        assert_eq!(o.lookup(ip("::1")), None);
    }
}
