//! Destination checks: which address a residency-bound request may be sent to.
//!
//! Each candidate upstream (a provider's per-zone upstreams, then its default; or a pool's
//! endpoints) is resolved, every address located, and the first address whose country is inside
//! both the tenant's residency and the candidate's declared region is chosen. The request is then
//! sent to exactly that address (`proxy::dial`): the name is never resolved a second time, so a
//! DNS answer that changes between the check and the connection cannot move the data.

use super::Geo;
use crate::config::Upstream;
use sovgate_core::geo::{Country, GeoRefusal};
use sovgate_core::residency::Residency;
use std::collections::HashMap;
use std::net::IpAddr;

/// How host names become addresses.
/// How long a destination lookup may take before the request is refused.
const RESOLVE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

#[derive(Debug, Clone)]
pub enum Resolver {
    /// The system resolver (`getaddrinfo`, on the blocking pool).
    System,
    /// Fixed answers; names not listed do not resolve. For tests.
    Static(HashMap<String, Vec<IpAddr>>),
}

impl Resolver {
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<IpAddr>, String> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(vec![ip]);
        }
        match self {
            // A resolver that never answers must not hold the request: past the bound the
            // host counts as unresolved, which is outside every zone (451), never a pass.
            Resolver::System => {
                match tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((host, port)))
                    .await
                {
                    Ok(found) => found
                        .map(|addrs| addrs.map(|a| a.ip()).collect())
                        .map_err(|e| e.to_string()),
                    Err(_) => Err(format!(
                        "no answer from the resolver within {} s",
                        RESOLVE_TIMEOUT.as_secs()
                    )),
                }
            }
            Resolver::Static(map) => map
                .get(host)
                .cloned()
                .ok_or_else(|| "no such host".to_owned()),
        }
    }
}

/// One place a request could go, with where it is declared to be.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    pub upstream: &'a Upstream,
    /// Empty when nothing is declared (a pool without `region`): the residency alone decides.
    pub declared: &'a Residency,
}

/// The checked destination: the upstream (for the Host header and TLS name) and the address to
/// dial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pinned {
    pub upstream: Upstream,
    pub addr: IpAddr,
    pub country: Country,
}

/// Whether a located address may receive the data. Pure, and the whole per-address decision.
pub fn admits(residency: &Residency, declared: &Residency, country: Country) -> bool {
    residency.allows_country(country)
        && (declared.countries().is_empty() || declared.allows_country(country))
}

/// The first address of the first candidate that is inside, or why there is none.
pub async fn pick(
    geo: &Geo,
    residency: &Residency,
    candidates: &[Candidate<'_>],
) -> Result<Pinned, GeoRefusal> {
    let mut tried = Vec::new();
    let mut unresolved = None;
    let mut hosts = Vec::new();
    for c in candidates {
        let host = &c.upstream.host;
        hosts.push(host.clone());
        let addrs = match geo.resolver().resolve(host, c.upstream.port).await {
            Ok(a) if !a.is_empty() => a,
            Ok(_) => {
                unresolved.get_or_insert_with(|| (host.clone(), "no addresses".to_owned()));
                continue;
            }
            Err(e) => {
                unresolved.get_or_insert_with(|| (host.clone(), e));
                continue;
            }
        };
        for addr in addrs {
            match geo.locate(addr) {
                Ok(country) if admits(residency, c.declared, country) => {
                    return Ok(Pinned {
                        upstream: c.upstream.clone(),
                        addr,
                        country,
                    })
                }
                Ok(country) => tried.push(format!("{addr} is in {country}")),
                Err(why) => tried.push(format!("{addr} is unlocated: {why}")),
            }
        }
    }
    match unresolved {
        Some((host, error)) if tried.is_empty() => Err(GeoRefusal::Unresolved { host, error }),
        _ => Err(GeoRefusal::NoAddressInside {
            host: hosts.join(", "),
            zones: residency.names().to_vec(),
            tried,
        }),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::config::{parse_upstream, GeoConfig};
    use sovgate_core::cidr::{Cidr, Overrides};

    fn geo(resolver: Resolver) -> Geo {
        let c = |s: &str| Country::parse(s).unwrap();
        let cfg = GeoConfig {
            override_table: Overrides::new(vec![
                (Cidr::parse("192.0.2.0/24").unwrap(), c("US")),
                (Cidr::parse("198.51.100.0/24").unwrap(), c("DE")),
                (Cidr::parse("203.0.113.0/24").unwrap(), c("FR")),
            ]),
            cache_size: 16,
            ..GeoConfig::default()
        };
        Geo::new(&cfg).with_resolver(resolver)
    }

    fn zone(s: &str) -> Residency {
        Residency::resolve(&[s.to_owned()], &[]).unwrap()
    }

    #[tokio::test]
    async fn the_address_inside_is_chosen_among_all() {
        let mut names = HashMap::new();
        names.insert(
            "api.example".to_owned(),
            vec![
                "192.0.2.1".parse().unwrap(),
                "198.51.100.1".parse().unwrap(),
            ],
        );
        let g = geo(Resolver::Static(names));
        let up = parse_upstream("https://api.example").unwrap();
        let eu = zone("EU");
        let got = pick(
            &g,
            &eu,
            &[Candidate {
                upstream: &up,
                declared: &Residency::default(),
            }],
        )
        .await
        .unwrap();
        assert_eq!(got.addr, "198.51.100.1".parse::<IpAddr>().unwrap());
        assert_eq!(got.country.as_str(), "DE");
        // Declared in France: the German address does not agree with the declaration.
        let fr = zone("FR");
        let err = pick(
            &g,
            &eu,
            &[Candidate {
                upstream: &up,
                declared: &fr,
            }],
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), "residency_destination_outside");
        assert!(err.to_string().contains("192.0.2.1 is in US"), "{err}");
        assert!(err.to_string().contains("198.51.100.1 is in DE"), "{err}");
    }

    #[tokio::test]
    async fn unknown_and_unresolved_fail_closed() {
        let g = geo(Resolver::Static(HashMap::new()));
        let eu = zone("EU");
        let none = Residency::default();
        let up = parse_upstream("http://10.9.9.9:8000").unwrap();
        let err = pick(
            &g,
            &eu,
            &[Candidate {
                upstream: &up,
                declared: &none,
            }],
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("10.9.9.9 is unlocated"), "{err}");
        let up = parse_upstream("https://nowhere.example").unwrap();
        let err = pick(
            &g,
            &eu,
            &[Candidate {
                upstream: &up,
                declared: &none,
            }],
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), "residency_unresolved");
        // The next candidate is tried when one does not resolve.
        let fr_up = parse_upstream("http://203.0.113.9:80").unwrap();
        let got = pick(
            &g,
            &eu,
            &[
                Candidate {
                    upstream: &up,
                    declared: &none,
                },
                Candidate {
                    upstream: &fr_up,
                    declared: &none,
                },
            ],
        )
        .await
        .unwrap();
        assert_eq!(got.country.as_str(), "FR");
    }
}
