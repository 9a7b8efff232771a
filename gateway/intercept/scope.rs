//! What the interception CA may sign for: its X.509 NameConstraints.
//!
//! `sovgate ca init` writes a CA whose permitted DNS subtrees are the LLM API domains of the
//! built-in host list (plus `--permit`), and which excludes every IP address unless some are
//! permitted: if the CA key ever leaks, clients that trust it still reject a certificate it
//! signs for any other site. The gateway reads the constraints back from the CA it loads and
//! mints only inside them ([`Scope::permits`]); RFC 5280 matching: a DNS constraint
//! `example.com` covers the name and every name under it, `.example.com` only names under it.

use super::hosts::BUILTIN_HOSTS;
use std::net::IpAddr;

/// Vertex AI regions (`{region}-aiplatform.googleapis.com`): a wildcard inside a label cannot be
/// a name constraint, and permitting all of `googleapis.com` would cover every Google API.
const VERTEX_REGIONS: &[&str] = &[
    "us-central1",
    "us-east1",
    "us-east4",
    "us-east5",
    "us-south1",
    "us-west1",
    "us-west4",
    "northamerica-northeast1",
    "southamerica-east1",
    "europe-west1",
    "europe-west2",
    "europe-west3",
    "europe-west4",
    "europe-west6",
    "europe-west8",
    "europe-west9",
    "europe-north1",
    "europe-central2",
    "europe-southwest1",
    "asia-east1",
    "asia-east2",
    "asia-northeast1",
    "asia-northeast3",
    "asia-south1",
    "asia-southeast1",
    "australia-southeast1",
    "me-central1",
    "me-west1",
];

/// AWS regions with Bedrock (`bedrock-runtime.{region}.amazonaws.com` and its variants), for
/// the same reason: `amazonaws.com` would cover all of AWS.
const BEDROCK_REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-2",
    "us-gov-west-1",
    "ca-central-1",
    "sa-east-1",
    "eu-central-1",
    "eu-central-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
];

/// The DNS subtrees a new CA permits by default: every built-in LLM API host, a `*.` pattern as
/// its parent domain, and the regional expansions above for patterns with an inner wildcard.
pub fn default_domains() -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (pattern, _) in BUILTIN_HOSTS {
        let name = pattern.strip_prefix("*.").unwrap_or(pattern);
        if let Some(rest) = name.strip_prefix("*-") {
            out.extend(VERTEX_REGIONS.iter().map(|r| format!("{r}-{rest}")));
        } else if let Some((head, tail)) = name.split_once(".*.") {
            out.extend(BEDROCK_REGIONS.iter().map(|r| format!("{head}.{r}.{tail}")));
        } else if !name.contains(['*', '?']) {
            out.push(name.to_owned());
        }
    }
    let all = out.clone();
    // A name already under another permitted domain adds nothing.
    out.retain(|d| !all.iter().any(|p| p != d && dns_within(d, p)));
    out.sort();
    out.dedup();
    out
}

/// An IP subtree: an address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Net {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Net {
    /// `10.0.0.0/8`, `2001:db8::/32`, or a single address.
    pub fn parse(text: &str) -> Option<Net> {
        let (a, p) = text.split_once('/').unwrap_or((text, ""));
        let addr: IpAddr = a.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = if p.is_empty() { max } else { p.parse().ok()? };
        (prefix <= max).then_some(Net { addr, prefix })
    }

    /// From a NameConstraints iPAddress value: the address then the mask.
    pub fn from_der(bytes: &[u8]) -> Option<Net> {
        let half = bytes.len() / 2;
        let (addr, mask) = bytes.split_at(half);
        let addr = match addr.len() {
            4 => IpAddr::from(<[u8; 4]>::try_from(addr).ok()?),
            16 => IpAddr::from(<[u8; 16]>::try_from(addr).ok()?),
            _ => return None,
        };
        let prefix = mask.iter().map(|b| b.count_ones()).sum::<u32>();
        Some(Net {
            addr,
            prefix: u8::try_from(prefix).ok()?,
        })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let bits = |a: IpAddr| -> u128 {
            match a {
                IpAddr::V4(v) => u128::from(u32::from(v)) << 96,
                IpAddr::V6(v) => u128::from(v),
            }
        };
        if self.addr.is_ipv4() != ip.is_ipv4() {
            return false;
        }
        let width = if ip.is_ipv4() { 32 } else { 128 };
        let prefix = u32::from(self.prefix).min(width);
        let mask = if prefix == 0 {
            0
        } else {
            u128::MAX << (128 - prefix)
        };
        bits(self.addr) & mask == bits(ip) & mask
    }
}

/// A CA's NameConstraints, as far as minting server certificates is concerned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// No NameConstraints extension: the CA can sign for anything.
    pub unconstrained: bool,
    pub dns: Vec<String>,
    pub ips: Vec<Net>,
    pub excluded_dns: Vec<String>,
    pub excluded_ips: Vec<Net>,
}

impl Scope {
    pub fn unconstrained() -> Scope {
        Scope {
            unconstrained: true,
            ..Scope::default()
        }
    }

    /// Whether a certificate for `host` (normalized name or IP literal) is inside the scope.
    pub fn permits(&self, host: &str) -> bool {
        if self.unconstrained {
            return true;
        }
        if let Ok(ip) = host.parse::<IpAddr>() {
            return !self.excluded_ips.iter().any(|n| n.contains(ip))
                && (self.ips.is_empty() || self.ips.iter().any(|n| n.contains(ip)));
        }
        !self.excluded_dns.iter().any(|c| dns_within(host, c))
            && (self.dns.is_empty() || self.dns.iter().any(|c| dns_within(host, c)))
    }

    /// Whether every host a config pattern (`*.openai.azure.com`, `api.x.ai`, an IP) matches
    /// is inside the scope.
    pub fn covers(&self, pattern: &str) -> bool {
        if !pattern.contains(['*', '?']) {
            return self.permits(pattern);
        }
        if self.unconstrained {
            return true;
        }
        // Everything right of the last label with a wildcard is fixed.
        let labels: Vec<&str> = pattern.split('.').collect();
        let fixed = labels
            .iter()
            .rposition(|l| l.contains(['*', '?']))
            .map_or(&labels[..], |i| &labels[i + 1..]);
        if fixed.is_empty() {
            return self.dns.is_empty() && self.excluded_dns.is_empty();
        }
        let suffix = fixed.join(".");
        let excluded_inside = self
            .excluded_dns
            .iter()
            .any(|c| dns_within(c.trim_start_matches('.'), &suffix) || dns_within(&suffix, c));
        !excluded_inside
            && (self.dns.is_empty()
                || self
                    .dns
                    .iter()
                    .any(|c| dns_within(&suffix, c.trim_start_matches('.'))))
    }
}

/// RFC 5280 DNS name constraint matching, case-insensitive.
pub fn dns_within(name: &str, constraint: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let c = constraint.trim_end_matches('.').to_ascii_lowercase();
    if c.is_empty() {
        return true;
    }
    if let Some(sub) = c.strip_prefix('.') {
        return name.ends_with(&format!(".{sub}"));
    }
    name == c || name.ends_with(&format!(".{c}"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn defaults_cover_every_builtin_host_and_nothing_broad() {
        let scope = Scope {
            dns: default_domains(),
            excluded_ips: vec![
                Net::parse("0.0.0.0/0").unwrap(),
                Net::parse("::/0").unwrap(),
            ],
            ..Scope::default()
        };
        for h in [
            "api.openai.com",
            "eu.api.openai.com",
            "myres.openai.azure.com",
            "europe-west4-aiplatform.googleapis.com",
            "bedrock-runtime.eu-central-1.amazonaws.com",
            "api.anthropic.com",
            "API.Mistral.AI",
        ] {
            assert!(scope.permits(h), "{h}");
        }
        for h in [
            "example.com",
            "openai.com",
            "evilapi.openai.com",
            "storage.googleapis.com",
            "s3.amazonaws.com",
            "10.0.0.1",
            "::1",
        ] {
            assert!(!scope.permits(h), "{h}");
        }
        assert!(scope.covers("*.openai.azure.com"));
        assert!(scope.covers("*.api.openai.com"));
        assert!(!scope.covers("*.azure.com"));
        assert!(
            !scope.covers("bedrock-runtime.*.amazonaws.com"),
            "only listed regions"
        );
        assert!(!scope.covers("203.0.113.7"));
    }

    #[test]
    fn nets_and_leading_dots() {
        let n = Net::parse("10.1.0.0/16").unwrap();
        assert!(n.contains("10.1.2.3".parse().unwrap()));
        assert!(!n.contains("10.2.0.1".parse().unwrap()));
        assert_eq!(Net::from_der(&[10, 1, 0, 0, 255, 255, 0, 0]), Some(n));
        assert!(dns_within("a.example.com", ".example.com"));
        assert!(!dns_within("example.com", ".example.com"));
        assert!(!dns_within("badexample.com", "example.com"));
        let ip_scope = Scope {
            ips: vec![n],
            ..Scope::default()
        };
        assert!(ip_scope.permits("10.1.9.9") && !ip_scope.permits("10.3.0.1"));
        assert!(
            ip_scope.permits("any.example"),
            "no DNS subtrees: DNS unconstrained"
        );
    }
}
