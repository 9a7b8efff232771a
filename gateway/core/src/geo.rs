//! The vocabulary of residency decisions: countries, sets of countries, why an address could not
//! be located, and why a request was refused on location.
//!
//! Pure and allocation-free on the hot path: a [`Country`] is two bytes and a [`CountrySet`] is a
//! bitset over the 676 two-letter codes, so asking "is this address's country inside the zone"
//! costs one shift and one mask. The gateway's `geo` module does the I/O (database, DNS) and
//! hands its answers to these types.

use std::fmt;

/// An ISO 3166-1 alpha-2 country code, upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Country([u8; 2]);

impl Country {
    /// Parses a two-letter code in either case; anything else is `None`.
    pub fn parse(s: &str) -> Option<Country> {
        match s.as_bytes() {
            [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
                Some(Country([a.to_ascii_uppercase(), b.to_ascii_uppercase()]))
            }
            _ => None,
        }
    }

    pub fn as_str(&self) -> &str {
        // Both bytes are ASCII letters by construction.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }

    fn index(self) -> usize {
        (self.0[0] - b'A') as usize * 26 + (self.0[1] - b'A') as usize
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of countries: one bit per possible code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CountrySet([u64; 11]);

impl CountrySet {
    pub fn insert(&mut self, c: Country) {
        let i = c.index();
        self.0[i / 64] |= 1 << (i % 64);
    }

    pub fn contains(&self, c: Country) -> bool {
        let i = c.index();
        self.0[i / 64] & (1 << (i % 64)) != 0
    }

    /// Whether every country of `other` is in `self`.
    pub fn covers(&self, other: &CountrySet) -> bool {
        self.0.iter().zip(other.0.iter()).all(|(a, b)| b & !a == 0)
    }

    pub fn union(&mut self, other: &CountrySet) {
        for (a, b) in self.0.iter_mut().zip(other.0.iter()) {
            *a |= b;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }
}

impl FromIterator<Country> for CountrySet {
    fn from_iter<I: IntoIterator<Item = Country>>(iter: I) -> Self {
        let mut s = CountrySet::default();
        for c in iter {
            s.insert(c);
        }
        s
    }
}

/// Why an address has no country. Every one of these puts the address outside every zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unlocated {
    /// No override covers the address and no database is configured.
    NoDatabase,
    /// The database has no record for the address.
    NotInDatabase,
    /// The record exists but names no country (anonymous proxies, satellite providers, ...).
    NoCountry,
    /// The database could not answer (corrupt data, an IPv6 address in an IPv4-only file).
    LookupFailed(String),
}

impl fmt::Display for Unlocated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unlocated::NoDatabase => {
                f.write_str("no [geo] override covers it and no database is configured")
            }
            Unlocated::NotInDatabase => f.write_str("the geo database has no record for it"),
            Unlocated::NoCountry => f.write_str("the geo database names no country for it"),
            Unlocated::LookupFailed(e) => write!(f, "the geo database lookup failed: {e}"),
        }
    }
}

/// Where an address is: a country, or why it has none.
pub type Location = Result<Country, Unlocated>;

/// Why a request was refused on location (all 451). Each has a stable code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GeoRefusal {
    /// `residency_from_client`: the client could not be located.
    ClientUnlocated { client: String, why: Unlocated },
    /// `residency_from_client`: the client is outside every zone of the tenant.
    ClientOutside {
        client: String,
        country: Country,
        zones: Vec<String>,
    },
    /// The destination host did not resolve.
    Unresolved { host: String, error: String },
    /// No address of the destination is located inside the residency and its declared region;
    /// `tried` lists each address with its country or why it has none.
    NoAddressInside {
        host: String,
        zones: Vec<String>,
        tried: Vec<String>,
    },
}

impl GeoRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            GeoRefusal::ClientUnlocated { .. } => "residency_client_unlocated",
            GeoRefusal::ClientOutside { .. } => "residency_client_outside",
            GeoRefusal::Unresolved { .. } => "residency_unresolved",
            GeoRefusal::NoAddressInside { .. } => "residency_destination_outside",
        }
    }
}

impl fmt::Display for GeoRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GeoRefusal::ClientUnlocated { client, why } => write!(
                f,
                "the tenant's residency follows the client's location, and the client {client} cannot be located: {why}"
            ),
            GeoRefusal::ClientOutside { client, country, zones } => write!(
                f,
                "the client {client} is in {country}, outside every zone of the tenant ({})",
                zones.join(", ")
            ),
            GeoRefusal::Unresolved { host, error } => {
                write!(f, "the destination {host} did not resolve: {error}")
            }
            GeoRefusal::NoAddressInside { host, zones, tried } => write!(
                f,
                "no address of {host} is located inside the residency ({}) and the destination's declared region: {}",
                zones.join(", "),
                tried.join("; ")
            ),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn countries_and_sets() {
        let de = Country::parse("de").unwrap();
        assert_eq!(de.as_str(), "DE");
        assert!(Country::parse("DEU").is_none() && Country::parse("D1").is_none());
        assert!(Country::parse("é").is_none());
        let zz = Country::parse("ZZ").unwrap();
        let aa = Country::parse("AA").unwrap();
        let s: CountrySet = [de, zz, aa].into_iter().collect();
        assert!(s.contains(de) && s.contains(zz) && s.contains(aa));
        assert!(!s.contains(Country::parse("US").unwrap()));
        let only_de: CountrySet = [de].into_iter().collect();
        assert!(s.covers(&only_de) && !only_de.covers(&s));
        assert!(CountrySet::default().is_empty() && !s.is_empty());
    }
}
