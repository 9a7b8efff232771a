//! Cost of a residency decision per request (target: under 1 µs with results cached per address).
//!
//! `baseline/hashmap_get` is a plain `HashMap<IpAddr, [u8; 2]>` lookup, the floor any per-address
//! cache pays; the other figures are read against it. `decision/cached` is what a residency-bound
//! request costs on the hot path: the client's location from the connecting address, the
//! destination address's location, and the zone checks — both addresses already cached.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/mmdb.rs"]
mod mmdb;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use sovgate::config::GeoConfig;
use sovgate::geo::destination::admits;
use sovgate::geo::{client_address, Database, Geo};
use sovgate_core::cidr::{Cidr, Overrides};
use sovgate_core::geo::Country;
use sovgate_core::residency::Residency;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

fn geo() -> Geo {
    // A database of a few thousand ranges, so the tree is deeper than a toy's.
    let mut ranges: Vec<(String, mmdb::Rec<'static>)> = Vec::new();
    let codes = ["DE", "FR", "US", "GB", "JP", "NL", "IE", "SE"];
    for a in 1..=200u32 {
        for b in (0..=255u32).step_by(16) {
            ranges.push((
                format!("{a}.{b}.0.0/12"),
                mmdb::Rec::Country(codes[(a + b) as usize % 8]),
            ));
        }
    }
    // The two addresses measured, placed by more specific ranges.
    ranges.push(("81.2.69.0/24".into(), mmdb::Rec::City("GB", "London")));
    ranges.push(("104.18.0.0/16".into(), mmdb::Rec::Country("US")));
    let refs: Vec<(&str, mmdb::Rec<'_>)> = ranges.iter().map(|(c, r)| (c.as_str(), *r)).collect();
    let db = Database::from_bytes(mmdb::build("Bench-Country", &refs)).unwrap();
    let c = |s: &str| Country::parse(s).unwrap();
    let cfg = GeoConfig {
        override_table: Overrides::new(vec![
            (Cidr::parse("10.0.0.0/8").unwrap(), c("DE")),
            (Cidr::parse("192.168.0.0/16").unwrap(), c("DE")),
            (Cidr::parse("172.16.0.0/12").unwrap(), c("NL")),
        ]),
        trusted_proxies: vec![Cidr::parse("10.0.0.0/8").unwrap()],
        cache_size: 65_536,
        opened: Some(Arc::new(db)),
        ..GeoConfig::default()
    };
    Geo::new(&cfg)
}

fn bench(c: &mut Criterion) {
    let g = geo();
    let client: IpAddr = "81.2.69.160".parse().unwrap();
    let dest: IpAddr = "104.18.7.192".parse().unwrap();
    let proxy: IpAddr = "10.1.2.3".parse().unwrap();
    let mut map: HashMap<IpAddr, [u8; 2]> = HashMap::new();
    for i in 0..4096u32 {
        map.insert(IpAddr::from((i << 8).to_be_bytes()), *b"DE");
    }
    map.insert(client, *b"GB");
    let residency = Residency::resolve(&["EU".into(), "UK".into(), "US".into()], &[]).unwrap();
    let declared = Residency::resolve(&["US".into()], &[]).unwrap();
    let no_headers = http::HeaderMap::new();
    let mut xff = http::HeaderMap::new();
    xff.insert("x-forwarded-for", "192.0.2.1, 81.2.69.160".parse().unwrap());
    // Warm the caches, as every request after the first finds them, and check the answers the
    // figures are for.
    assert_eq!(g.locate(client).unwrap().as_str(), "GB");
    let to = g.locate(dest).unwrap();
    assert!(residency.narrow(Country::parse("GB").unwrap()).is_some());
    assert_eq!(to.as_str(), "US");
    assert!(admits(&residency, &declared, to));
    assert_eq!(client_address(proxy, &xff, g.trusted_proxies()), Ok(client));

    let mut grp = c.benchmark_group("geo");
    grp.bench_function("baseline/hashmap_get", |b| {
        b.iter(|| black_box(map.get(black_box(&client))))
    });
    grp.bench_function("locate/cached", |b| {
        b.iter(|| black_box(g.locate(black_box(client))))
    });
    grp.bench_function("locate/uncached_database", |b| {
        let db = g.database().unwrap();
        b.iter(|| black_box(db.country(black_box(dest))))
    });
    grp.bench_function("decision/cached", |b| {
        b.iter(|| {
            let from = client_address(black_box(client), &no_headers, g.trusted_proxies()).unwrap();
            let home = g.locate(from).ok().and_then(|c| residency.narrow(c));
            let to = g.locate(black_box(dest)).unwrap();
            black_box((home.is_some(), admits(&residency, &declared, to)))
        })
    });
    grp.bench_function("decision/cached_via_trusted_proxy", |b| {
        b.iter(|| {
            let from = client_address(black_box(proxy), &xff, g.trusted_proxies()).unwrap();
            let home = g.locate(from).ok().and_then(|c| residency.narrow(c));
            let to = g.locate(black_box(dest)).unwrap();
            black_box((home.is_some(), admits(&residency, &declared, to)))
        })
    });
    grp.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
