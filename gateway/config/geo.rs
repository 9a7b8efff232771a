//! Building `[geo]`, `[zones]`, provider regions and per-zone upstreams.
//!
//! The database is opened here, while the config is built, so that a database that cannot be
//! read is a positioned config error (`file:line:column` of the `database` key) and the gateway
//! refuses to start on it, rather than discovering it on the first request.

use super::build::parse_upstream;
use super::error::Collector;
use super::file::GeoFile;
use super::model::{GeoConfig, ZoneUpstream};
use sovgate_core::cidr::{Cidr, Overrides};
use sovgate_core::geo::Country;
use sovgate_core::residency::Residency;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use toml::Spanned;

/// Addresses whose location is remembered, unless `cache_size` says otherwise.
const DEFAULT_CACHE: usize = 65_536;

pub fn geo(
    c: &mut Collector<'_>,
    file: &GeoFile,
    name: &str,
    text: &str,
    path: &dyn Fn(&str) -> PathBuf,
) -> GeoConfig {
    let mut table = Vec::new();
    for (cidr, country) in &file.overrides {
        let range = Cidr::parse(cidr);
        if range.is_none() {
            c.at(
                country.span().start,
                format!("override key `{cidr}` is not an address range"),
                Some("write a CIDR such as \"10.0.0.0/8\" or \"2001:db8::/32\", or one address"),
            );
        }
        let code = Country::parse(country.get_ref());
        if code.is_none() {
            c.at(
                country.span().start,
                format!(
                    "override for {cidr}: `{}` is not an ISO country code",
                    country.get_ref()
                ),
                Some("write a two-letter code such as \"DE\""),
            );
        }
        if let (Some(r), Some(k)) = (range, code) {
            table.push((r, k));
        }
    }
    let mut trusted = Vec::new();
    for p in &file.trusted_proxies {
        match Cidr::parse(p.get_ref()) {
            Some(r) => trusted.push(r),
            None => c.at(
                p.span().start,
                format!("trusted proxy `{}` is not an address range", p.get_ref()),
                Some("write a CIDR such as \"10.0.0.0/8\", or one address"),
            ),
        }
    }
    let cache_size = match &file.cache_size {
        Some(n) if *n.get_ref() == 0 => {
            c.at(n.span().start, "cache_size must be at least 1", None);
            DEFAULT_CACHE
        }
        Some(n) => usize::try_from(*n.get_ref()).unwrap_or(usize::MAX),
        None => DEFAULT_CACHE,
    };
    let database = file.database.as_ref().map(|s| path(s.get_ref()));
    let database_at = file.database.as_ref().map_or_else(String::new, |s| {
        let (line, col) = super::error::line_col(text, s.span().start);
        format!("{name}:{line}:{col}")
    });
    let opened = match (&file.database, &database) {
        (Some(key), Some(p)) => match crate::geo::Database::open(p) {
            Ok(db) => Some(Arc::new(db)),
            Err(e) => {
                c.at(
                    key.span().start,
                    format!("cannot read the geo database `{}`: {e}", key.get_ref()),
                    Some("point it at a MaxMind DB file (GeoLite2/GeoIP2 Country or City, DB-IP lite); Sovgate does not start without the database it is told to use"),
                );
                None
            }
        },
        _ => None,
    };
    GeoConfig {
        database,
        database_at,
        overrides: file
            .overrides
            .iter()
            .map(|(k, v)| (k.clone(), v.get_ref().to_ascii_uppercase()))
            .collect(),
        override_table: Overrides::new(table),
        trusted_proxies: trusted,
        cache_size,
        opened,
    }
}

/// Every member of an operator zone must be a country code: a typo would silently shrink it.
pub fn check_zones(c: &mut Collector<'_>, zones: &BTreeMap<String, Spanned<Vec<String>>>) {
    for (zone, list) in zones {
        for code in list.get_ref() {
            if Country::parse(code).is_none() {
                c.at(
                    list.span().start,
                    format!("zone {zone}: `{code}` is not an ISO country code"),
                    Some("zones list two-letter codes such as \"DE\""),
                );
            }
        }
    }
}

/// A provider's `region` as a set of countries: a country code or a zone name.
pub fn declared(
    c: &mut Collector<'_>,
    written: Option<&Spanned<String>>,
    region: &str,
    zones: &[(String, Vec<String>)],
) -> Residency {
    Residency::resolve(&[region.to_owned()], zones).unwrap_or_else(|bad| {
        c.at(
            written.map_or(0, |w| w.span().start),
            format!("region `{bad}` is neither an ISO country code nor a zone"),
            Some("write where the provider processes data, e.g. \"US\" or \"DE\""),
        );
        Residency::default()
    })
}

/// `upstreams = { EU = "https://eu.api.openai.com" }`: each key a zone or country code.
pub fn zone_upstreams(
    c: &mut Collector<'_>,
    written: &BTreeMap<String, Spanned<String>>,
    zones: &[(String, Vec<String>)],
) -> Vec<ZoneUpstream> {
    let mut out = Vec::new();
    for (zone, url) in written {
        let declared = Residency::resolve(std::slice::from_ref(zone), zones);
        let upstream = parse_upstream(url.get_ref());
        match (declared, upstream) {
            (Ok(declared), Some(upstream)) => out.push(ZoneUpstream {
                zone: zone.clone(),
                declared,
                upstream,
            }),
            (Err(bad), _) => c.at(
                url.span().start,
                format!("upstreams: `{bad}` is neither a zone nor an ISO country code"),
                Some("key each upstream by the zone it is inside, e.g. EU = \"https://eu.api.openai.com\""),
            ),
            (_, None) => c.at(
                url.span().start,
                format!("upstreams: `{}` is not an http(s) URL", url.get_ref()),
                None,
            ),
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::config::build;
    use std::path::Path;

    fn errors(text: &str) -> String {
        build("t.toml", text, Path::new("."))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn geo_keys_are_checked_with_positions() {
        let e = errors("[geo]\noverrides = { \"10.0.0.0/33\" = \"DE\", \"10.0.0.0/8\" = \"Germany\" }\ntrusted_proxies = [\"proxy.local\"]\n");
        assert!(
            e.contains("t.toml:2:") && e.contains("`10.0.0.0/33` is not an address range"),
            "{e}"
        );
        assert!(e.contains("`Germany` is not an ISO country code"), "{e}");
        assert!(
            e.contains("t.toml:3:20: error: trusted proxy `proxy.local`"),
            "{e}"
        );
        let e = errors("[zones]\nDACH = [\"DE\", \"AUT\"]\n");
        assert!(
            e.contains("zone DACH: `AUT` is not an ISO country code"),
            "{e}"
        );
        let e = errors("[[tenants]]\nname = \"t\"\nresidency_from_client = true\n");
        assert!(
            e.contains("t.toml:3:25: error: residency_from_client picks among"),
            "{e}"
        );
        let e = errors("[[providers]]\nname = \"p\"\napi = \"openai\"\nupstream = \"https://x\"\nregion = \"Mars\"\nupstreams = { Atlantis = \"https://a\", EU = \"ftp://b\" }\n");
        assert!(e.contains("region `MARS` is neither"), "{e}");
        assert!(e.contains("upstreams: `Atlantis` is neither a zone"), "{e}");
        assert!(
            e.contains("upstreams: `ftp://b` is not an http(s) URL"),
            "{e}"
        );
        let e = errors(
            "[[pools]]\nname = \"g\"\nregion = \"Moon\"\nendpoints = [\"http://127.0.0.1:1\"]\n",
        );
        assert!(e.contains("t.toml:3:10: error: region `Moon`"), "{e}");
    }

    #[test]
    fn geo_keys_build() {
        let c = build(
            "t.toml",
            "[zones]\nDACH = [\"DE\", \"AT\", \"CH\"]\n[geo]\noverrides = { \"10.0.0.0/8\" = \"de\" }\ntrusted_proxies = [\"10.1.0.0/16\", \"::1\"]\ncache_size = 10\n[[tenants]]\nname = \"t\"\nresidency = [\"DACH\", \"US\"]\nresidency_from_client = true\n[[providers]]\nname = \"p\"\napi = \"openai\"\nupstream = \"https://api.example\"\nupstreams = { DACH = \"https://dach.example\", EU = \"https://eu.example\" }\n",
            Path::new("."),
        )
        .unwrap();
        assert_eq!(c.geo.trusted_proxies.len(), 2);
        assert_eq!(c.geo.cache_size, 10);
        assert!(c.geo.opened.is_none());
        assert!(c.tenants[0].residency_from_client);
        let p = &c.providers[0];
        assert_eq!(p.zone_upstreams.len(), 2);
        assert!(p
            .zone_upstreams
            .iter()
            .any(|z| z.zone == "DACH" && z.declared.allows("CH")));
        // The candidates for a DACH+US tenant: the DACH upstream by name, never the EU one (it
        // reaches beyond DACH), and the default (declared US) last.
        let r = c.tenants[0].residency.as_ref().unwrap();
        let hosts: Vec<&str> = crate::routing::upstream_candidates(p, Some(r))
            .iter()
            .map(|c| c.upstream.host.as_str())
            .collect();
        assert_eq!(hosts, ["dach.example", "api.example"]);
    }
}
