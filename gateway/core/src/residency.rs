//! Residency zones: named sets of countries.
//!
//! A tenant declares where its data may be processed (`residency = ["EU"]`, or ISO codes such as
//! `"DE"`); a destination is inside the residency when its country is in one of those sets. The
//! built-in zones follow the political definitions as of 2025; operators can add their own in
//! config. Anything unknown is outside every zone: residency fails closed.

use crate::geo::{Country, CountrySet};

const EU: &[&str] = &[
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV",
    "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
];
const EFTA: &[&str] = &["IS", "LI", "NO", "CH"];
const EEA_EXTRA: &[&str] = &["IS", "LI", "NO"];

/// The built-in zone names, for docs and validation messages.
pub const BUILTIN_ZONES: &[&str] = &["EU", "EEA", "EFTA", "UK", "US", "CA", "CH", "JP", "AU"];

/// The countries of a built-in zone, or `None` if the name is not one.
pub fn builtin_zone(name: &str) -> Option<Vec<&'static str>> {
    Some(match name.to_ascii_uppercase().as_str() {
        "EU" => EU.to_vec(),
        "EEA" => EU.iter().chain(EEA_EXTRA).copied().collect(),
        "EFTA" => EFTA.to_vec(),
        "UK" | "GB" => vec!["GB"],
        "US" => vec!["US"],
        "CA" => vec!["CA"],
        "CH" => vec!["CH"],
        "JP" => vec!["JP"],
        "AU" => vec!["AU"],
        _ => return None,
    })
}

/// Whether `s` looks like an ISO 3166-1 alpha-2 code.
pub fn is_country_code(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_alphabetic())
}

/// A resolved residency requirement: the union of the countries of its zones, each zone kept
/// apart too so that a request can be narrowed to the zone its client is in.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Residency {
    names: Vec<String>,
    /// The countries of each name, in the order written.
    parts: Vec<CountrySet>,
    all: CountrySet,
}

impl Residency {
    /// Resolves zone names and country codes. `extra` are operator-defined zones
    /// (name, countries), consulted before the built-ins. Returns the unknown names on failure.
    pub fn resolve(names: &[String], extra: &[(String, Vec<String>)]) -> Result<Residency, String> {
        let mut parts = Vec::with_capacity(names.len());
        for name in names {
            let set: CountrySet =
                if let Some((_, list)) = extra.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
                    list.iter().filter_map(|c| Country::parse(c)).collect()
                } else if let Some(list) = builtin_zone(name) {
                    list.into_iter().filter_map(Country::parse).collect()
                } else if let Some(c) = Country::parse(name) {
                    [c].into_iter().collect()
                } else {
                    return Err(name.clone());
                };
            parts.push(set);
        }
        let mut all = CountrySet::default();
        for p in &parts {
            all.union(p);
        }
        Ok(Residency {
            names: names.to_vec(),
            parts,
            all,
        })
    }

    /// The zone names as the operator wrote them.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Whether a destination in `country` (ISO alpha-2) satisfies this residency.
    pub fn allows(&self, country: &str) -> bool {
        Country::parse(country).is_some_and(|c| self.all.contains(c))
    }

    /// [`allows`](Self::allows) for a parsed country: one bit test.
    pub fn allows_country(&self, country: Country) -> bool {
        self.all.contains(country)
    }

    /// Every country this residency allows.
    pub fn countries(&self) -> &CountrySet {
        &self.all
    }

    /// Whether everything `other` allows, this allows too (a declared region inside a zone).
    pub fn covers(&self, other: &Residency) -> bool {
        !other.all.is_empty() && self.all.covers(&other.all)
    }

    /// The part of this residency that holds `country`: the zones (and codes) containing it.
    /// `None` when none does. Used to keep a client's data in the client's own zone.
    pub fn narrow(&self, country: Country) -> Option<Residency> {
        let mut out = Residency::default();
        for (name, set) in self.names.iter().zip(&self.parts) {
            if set.contains(country) {
                out.names.push(name.clone());
                out.parts.push(*set);
                out.all.union(set);
            }
        }
        (!out.names.is_empty()).then_some(out)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn zones_and_codes() {
        let eu = Residency::resolve(&["EU".into()], &[]).unwrap();
        assert!(eu.allows("DE") && eu.allows("ie") && !eu.allows("US") && !eu.allows("GB"));
        let eea = Residency::resolve(&["EEA".into()], &[]).unwrap();
        assert!(eea.allows("NO") && !eea.allows("CH"));
        let mixed = Residency::resolve(&["CH".into(), "US".into()], &[]).unwrap();
        assert!(mixed.allows("CH") && mixed.allows("US") && !mixed.allows("DE"));
        let custom = Residency::resolve(
            &["dach".into()],
            &[("DACH".into(), vec!["de".into(), "at".into()])],
        )
        .unwrap();
        assert!(custom.allows("AT") && !custom.allows("CH"));
        assert_eq!(
            Residency::resolve(&["Mars".into()], &[]),
            Err("Mars".into())
        );
    }

    #[test]
    fn narrowing_to_the_client_zone() {
        let r = Residency::resolve(&["EU".into(), "US".into(), "CH".into()], &[]).unwrap();
        let de = Country::parse("DE").unwrap();
        let eu = r.narrow(de).unwrap();
        assert_eq!(eu.names(), ["EU"]);
        assert!(eu.allows("FR") && !eu.allows("US") && !eu.allows("CH"));
        let us = r.narrow(Country::parse("US").unwrap()).unwrap();
        assert!(us.allows("US") && !us.allows("DE"));
        assert!(r.narrow(Country::parse("JP").unwrap()).is_none());
        let de_only = Residency::resolve(&["DE".into()], &[]).unwrap();
        assert!(eu.covers(&de_only) && !de_only.covers(&eu));
        assert!(!eu.covers(&Residency::default()));
    }
}
