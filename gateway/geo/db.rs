//! The MaxMind DB file: GeoLite2 / GeoIP2 Country or City, DB-IP lite, or anything else in the
//! MaxMind DB format whose records carry `country.iso_code`.
//!
//! The whole file is read into memory: a reload then builds a new reader beside the old one and
//! swaps it in, and a file replaced or truncated underneath a running gateway cannot change what
//! an open reader sees. Only `country` counts; `registered_country` (where the network's owner is
//! registered) says nothing about where the data goes, so a record without `country` leaves the
//! address unlocated.

use serde::Deserialize;
use sovgate_core::geo::{Country, Location, Unlocated};
use std::net::IpAddr;
use std::path::Path;

pub struct Database {
    reader: maxminddb::Reader<Vec<u8>>,
    /// `database_type` from the metadata, e.g. `GeoLite2-Country`.
    kind: String,
    build_epoch: u64,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("kind", &self.kind)
            .field("build_epoch", &self.build_epoch)
            .finish()
    }
}

#[derive(Deserialize)]
struct Record<'a> {
    #[serde(borrow)]
    country: Option<IsoCode<'a>>,
}

#[derive(Deserialize)]
struct IsoCode<'a> {
    #[serde(borrow)]
    iso_code: Option<&'a str>,
}

impl Database {
    /// Reads and checks a database file. The error says what is wrong with it.
    pub fn open(path: &Path) -> Result<Database, String> {
        let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
        Database::from_bytes(bytes)
    }

    pub fn from_bytes(bytes: Vec<u8>) -> Result<Database, String> {
        let reader = maxminddb::Reader::from_source(bytes)
            .map_err(|e| format!("not a MaxMind DB file: {e}"))?;
        let kind = reader.metadata().database_type.clone();
        let build_epoch = reader.metadata().build_epoch;
        Ok(Database {
            reader,
            kind,
            build_epoch,
        })
    }

    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The country of `ip`, or why there is none. Never panics, whatever the file holds.
    pub fn country(&self, ip: IpAddr) -> Location {
        let result = self
            .reader
            .lookup(ip)
            .map_err(|e| Unlocated::LookupFailed(e.to_string()))?;
        let record: Option<Record<'_>> = result
            .decode()
            .map_err(|e| Unlocated::LookupFailed(e.to_string()))?;
        let record = record.ok_or(Unlocated::NotInDatabase)?;
        let code = record
            .country
            .and_then(|c| c.iso_code)
            .ok_or(Unlocated::NoCountry)?;
        Country::parse(code).ok_or(Unlocated::NoCountry)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    use crate::geo::test_mmdb as mmdb;
    use mmdb::Rec;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn code(l: &Location) -> Option<&str> {
        l.as_ref().ok().map(|c| c.as_str())
    }

    #[test]
    fn country_and_city_records() {
        let bytes = mmdb::build(
            "Test-City",
            &[
                ("81.2.69.0/24", Rec::City("GB", "London")),
                ("2.125.160.0/20", Rec::Country("DE")),
                ("2001:db8::/32", Rec::Country("FR")),
                ("198.51.100.0/24", Rec::NoCountry("US")),
            ],
        );
        let db = Database::from_bytes(bytes).unwrap();
        assert_eq!(db.kind(), "Test-City");
        assert_eq!(code(&db.country(ip("81.2.69.160"))), Some("GB"));
        assert_eq!(code(&db.country(ip("2.125.175.1"))), Some("DE"));
        assert_eq!(code(&db.country(ip("2001:db8::7"))), Some("FR"));
        assert_eq!(db.country(ip("198.51.100.1")), Err(Unlocated::NoCountry));
        assert_eq!(db.country(ip("8.8.8.8")), Err(Unlocated::NotInDatabase));
        assert_eq!(db.country(ip("2002::1")), Err(Unlocated::NotInDatabase));
    }

    #[test]
    fn a_corrupt_database_fails_closed() {
        // A tree record pointing past the data section: opens, but every lookup there fails.
        let bytes = mmdb::build(
            "Test-Country",
            &[
                ("192.0.2.0/24", Rec::Country("DE")),
                ("203.0.113.0/24", Rec::Corrupt),
            ],
        );
        let db = Database::from_bytes(bytes.clone()).unwrap();
        assert_eq!(code(&db.country(ip("192.0.2.1"))), Some("DE"));
        assert!(matches!(
            db.country(ip("203.0.113.1")),
            Err(Unlocated::LookupFailed(_))
        ));
        // Truncated, garbage, empty: refused when opened.
        for bad in [
            &bytes[..bytes.len() - 20],
            b"not a database at all".as_slice(),
            b"",
        ] {
            assert!(Database::from_bytes(bad.to_vec()).is_err());
        }
        let dir = tempfile::tempdir().unwrap();
        let err = Database::open(&dir.path().join("missing.mmdb")).unwrap_err();
        assert!(err.contains("No such file"), "{err}");
    }
}
