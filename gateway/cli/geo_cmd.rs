//! `sovgate geo lookup IP...`: where the configured `[geo]` places each address, and which zones
//! hold it — the same answer the gateway acts on (overrides first, then the database).

use crate::config::{self, Config};
use crate::geo::{Geo, Source};
use sovgate_core::geo::Country;
use sovgate_core::residency::{builtin_zone, BUILTIN_ZONES};
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

pub fn lookup(config_path: Option<PathBuf>, addrs: &[String]) -> ExitCode {
    super::init_logging_quiet();
    let config = match &config_path {
        Some(p) => config::load(p),
        None => config::embedded(),
    };
    let config = match config {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let geo = Geo::new(&config.geo);
    let mut ok = true;
    for a in addrs {
        match a.trim().parse::<IpAddr>() {
            Ok(ip) => println!("{}", line(&config, &geo, ip)),
            Err(_) => {
                eprintln!("{a}: not an IP address");
                ok = false;
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `IP COUNTRY (SOURCE) zones: A, B` or `IP - (unlocated: WHY) zones: none`.
pub fn line(config: &Config, geo: &Geo, ip: IpAddr) -> String {
    match geo.explain(ip) {
        (Ok(country), source) => {
            let source = match source {
                Some(Source::Override) => "override",
                _ => "database",
            };
            let zones = zones_of(config, country);
            let zones = if zones.is_empty() {
                "none".to_owned()
            } else {
                zones.join(", ")
            };
            format!("{ip} {country} ({source}) zones: {zones}")
        }
        (Err(why), _) => format!("{ip} - (unlocated: {why}) zones: none"),
    }
}

/// The operator's zones, then the built-in ones, that hold `country`.
fn zones_of(config: &Config, country: Country) -> Vec<String> {
    let code = country.as_str();
    let mut out: Vec<String> = config
        .zones
        .iter()
        .filter(|(_, list)| list.iter().any(|c| c.eq_ignore_ascii_case(code)))
        .map(|(name, _)| name.clone())
        .collect();
    for z in BUILTIN_ZONES {
        let shadowed = config.zones.iter().any(|(n, _)| n.eq_ignore_ascii_case(z));
        if !shadowed && builtin_zone(z).is_some_and(|l| l.contains(&code)) {
            out.push((*z).to_owned());
        }
    }
    out
}
