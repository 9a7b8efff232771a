//! Residency zones: named sets of countries.
//!
//! A tenant declares where its data may be processed (`residency = ["EU"]`, or ISO codes such as
//! `"DE"`); a destination is inside the residency when its country is in one of those sets. The
//! built-in zones follow the political definitions as of 2025; operators can add their own in
//! config. Anything unknown is outside every zone: residency fails closed.

use std::collections::BTreeSet;

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

/// A resolved residency requirement: the union of the countries of its zones.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Residency {
    names: Vec<String>,
    countries: BTreeSet<String>,
}

impl Residency {
    /// Resolves zone names and country codes. `extra` are operator-defined zones
    /// (name, countries), consulted before the built-ins. Returns the unknown names on failure.
    pub fn resolve(names: &[String], extra: &[(String, Vec<String>)]) -> Result<Residency, String> {
        let mut countries = BTreeSet::new();
        for name in names {
            if let Some((_, list)) = extra.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
                countries.extend(list.iter().map(|c| c.to_ascii_uppercase()));
            } else if let Some(list) = builtin_zone(name) {
                countries.extend(list.into_iter().map(str::to_owned));
            } else if is_country_code(name) {
                countries.insert(name.to_ascii_uppercase());
            } else {
                return Err(name.clone());
            }
        }
        Ok(Residency {
            names: names.to_vec(),
            countries,
        })
    }

    /// The zone names as the operator wrote them.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Whether a destination in `country` (ISO alpha-2) satisfies this residency.
    pub fn allows(&self, country: &str) -> bool {
        self.countries.contains(&country.to_ascii_uppercase())
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
}
