//! A small MaxMind DB writer for tests and benches: known ranges, known answers.
//!
//! The format (MaxMind DB 2.0): a binary search tree over the address bits (IPv6 tree, IPv4 at
//! `::a.b.c.d`, 24-bit records), 16 zero bytes, a data section of typed values, then the metadata
//! marker `\xAB\xCD\xEFMaxMind.com` and a metadata map. Records follow GeoLite2-Country / City:
//! `{"country": {"iso_code": .., "names": {"en": ..}}}`.
#![allow(dead_code)]

use std::net::IpAddr;

/// What a range's record says.
#[derive(Debug, Clone, Copy)]
pub enum Rec<'a> {
    /// A Country-database record.
    Country(&'a str),
    /// A City-database record (country and city).
    City(&'a str, &'a str),
    /// Only `registered_country`: the address has no located country.
    NoCountry(&'a str),
    /// A tree record pointing past the data section: the lookup fails.
    Corrupt,
}

#[derive(Clone, Copy, PartialEq)]
enum Child {
    Empty,
    Node(usize),
    Data(usize),
}

/// Builds a database from `(CIDR, record)` pairs; later ranges split earlier ones.
pub fn build(kind: &str, ranges: &[(&str, Rec<'_>)]) -> Vec<u8> {
    let mut data = Vec::new();
    let mut nodes: Vec<[Child; 2]> = vec![[Child::Empty; 2]];
    for (cidr, rec) in ranges {
        let (bits, len) = parse(cidr);
        let offset = match rec {
            Rec::Corrupt => 1 << 20,
            _ => {
                let at = data.len();
                record(&mut data, rec);
                at
            }
        };
        insert(&mut nodes, bits, len, offset);
    }
    let node_count = nodes.len();
    let mut out = Vec::new();
    for n in &nodes {
        for child in n {
            let v = match *child {
                Child::Empty => node_count,
                Child::Node(i) => i,
                Child::Data(off) => node_count + 16 + off,
            };
            out.extend_from_slice(&(v as u32).to_be_bytes()[1..]);
        }
    }
    out.extend_from_slice(&[0u8; 16]);
    out.extend_from_slice(&data);
    out.extend_from_slice(b"\xAB\xCD\xEFMaxMind.com");
    map(&mut out, 9);
    string(&mut out, "binary_format_major_version");
    uint(&mut out, 5, 2);
    string(&mut out, "binary_format_minor_version");
    uint(&mut out, 5, 0);
    string(&mut out, "build_epoch");
    uint(&mut out, 9, 1_700_000_000);
    string(&mut out, "database_type");
    string(&mut out, kind);
    string(&mut out, "description");
    map(&mut out, 1);
    string(&mut out, "en");
    string(&mut out, "Sovgate test database");
    string(&mut out, "ip_version");
    uint(&mut out, 5, 6);
    string(&mut out, "languages");
    ctrl(&mut out, 11, 1);
    string(&mut out, "en");
    string(&mut out, "node_count");
    uint(&mut out, 6, node_count as u64);
    string(&mut out, "record_size");
    uint(&mut out, 5, 24);
    out
}

/// A range in the database's 128-bit space (IPv4 at `::a.b.c.d`).
fn parse(cidr: &str) -> (u128, u32) {
    let (addr, len) = cidr.split_once('/').unwrap_or((cidr, ""));
    let ip: IpAddr = addr.parse().expect("test range address");
    match ip {
        IpAddr::V4(v4) => (
            u128::from(u32::from(v4)),
            96 + len.parse::<u32>().unwrap_or(32),
        ),
        IpAddr::V6(v6) => (u128::from(v6), len.parse::<u32>().unwrap_or(128)),
    }
}

fn insert(nodes: &mut Vec<[Child; 2]>, bits: u128, len: u32, offset: usize) {
    let mut node = 0;
    for i in 0..len {
        let bit = ((bits >> (127 - i)) & 1) as usize;
        if i + 1 == len {
            nodes[node][bit] = Child::Data(offset);
            return;
        }
        node = match nodes[node][bit] {
            Child::Node(n) => n,
            other => {
                // Empty, or a wider range being split: both halves keep what was there.
                nodes.push([other; 2]);
                let n = nodes.len() - 1;
                nodes[node][bit] = Child::Node(n);
                n
            }
        };
    }
}

fn record(out: &mut Vec<u8>, rec: &Rec<'_>) {
    match rec {
        Rec::Country(iso) => {
            map(out, 1);
            country(out, "country", iso);
        }
        Rec::City(iso, city) => {
            map(out, 2);
            string(out, "city");
            map(out, 2);
            string(out, "geoname_id");
            uint(out, 6, 2_950_159);
            string(out, "names");
            map(out, 1);
            string(out, "en");
            string(out, city);
            country(out, "country", iso);
        }
        Rec::NoCountry(iso) => {
            map(out, 1);
            country(out, "registered_country", iso);
        }
        Rec::Corrupt => {}
    }
}

fn country(out: &mut Vec<u8>, key: &str, iso: &str) {
    string(out, key);
    map(out, 3);
    string(out, "geoname_id");
    uint(out, 6, 2_921_044);
    string(out, "iso_code");
    string(out, iso);
    string(out, "names");
    map(out, 1);
    string(out, "en");
    string(out, &format!("Country {iso}"));
}

/// A control byte (plus extended type and size bytes) for `kind` of `size`.
fn ctrl(out: &mut Vec<u8>, kind: u8, size: usize) {
    let (low, extra): (u8, Vec<u8>) = if size < 29 {
        (size as u8, vec![])
    } else if size < 29 + 256 {
        (29, vec![(size - 29) as u8])
    } else {
        (30, ((size - 285) as u16).to_be_bytes().to_vec())
    };
    if kind <= 7 {
        out.push(kind << 5 | low);
    } else {
        out.push(low);
        out.push(kind - 7);
    }
    out.extend(extra);
}

fn string(out: &mut Vec<u8>, s: &str) {
    ctrl(out, 2, s.len());
    out.extend_from_slice(s.as_bytes());
}

fn map(out: &mut Vec<u8>, pairs: usize) {
    ctrl(out, 7, pairs);
}

/// An unsigned integer of type `kind` (5 = u16, 6 = u32, 9 = u64), minimal big-endian bytes.
fn uint(out: &mut Vec<u8>, kind: u8, v: u64) {
    let bytes = v.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    ctrl(out, kind, 8 - skip);
    out.extend_from_slice(&bytes[skip..]);
}
