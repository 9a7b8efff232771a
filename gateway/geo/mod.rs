//! Where addresses are: `[geo]` overrides, the MaxMind database, a per-address cache, the
//! client's location and the destination checks that residency routing relies on.
//!
//! Every answer is a country or a reason why there is none ([`Unlocated`]); an address without a
//! country is outside every zone, so each failure — no database, an address the database does not
//! know, a record without a country, a lookup error — refuses rather than lets through.
//!
//! Overrides win over the database (private ranges, on-premises sites). The database is read
//! whole into memory and replaced atomically when its file changes ([`watch`]); requests in
//! flight keep the snapshot they started with, and each snapshot carries its own cache.

mod cache;
mod client;
mod db;
pub mod decision;
pub mod destination;
pub mod watch;

/// The test database writer, shared with the integration tests and benches.
#[cfg(test)]
#[path = "../../tests/support/mmdb.rs"]
#[allow(clippy::expect_used)]
pub(crate) mod test_mmdb;

pub use cache::Cache;
pub use client::{client_address, forwarded_hops};
pub use db::Database;
pub use destination::Resolver;

use crate::config::GeoConfig;
use arc_swap::ArcSwap;
use sovgate_core::cidr::{Cidr, Overrides};
use sovgate_core::geo::{Location, Unlocated};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// One database (or none) and the answers learnt from it.
struct Snapshot {
    db: Option<Arc<Database>>,
    cache: Cache,
}

pub struct Geo {
    snapshot: ArcSwap<Snapshot>,
    overrides: Overrides,
    trusted: Vec<Cidr>,
    cache_size: usize,
    path: Option<PathBuf>,
    resolver: Resolver,
}

/// Where an answer came from, for `sovgate geo lookup`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Override,
    Database,
}

impl Geo {
    /// From a built config: the database it opened (a config whose database cannot be read does
    /// not build), its overrides and trusted proxies.
    pub fn new(cfg: &GeoConfig) -> Geo {
        Geo {
            snapshot: ArcSwap::from_pointee(Snapshot {
                db: cfg.opened.clone(),
                cache: Cache::new(cfg.cache_size),
            }),
            overrides: cfg.override_table.clone(),
            trusted: cfg.trusted_proxies.clone(),
            cache_size: cfg.cache_size.max(1),
            path: cfg.database.clone(),
            resolver: Resolver::System,
        }
    }

    /// Replaces how destination hosts are resolved (tests pin names to loopback addresses).
    pub fn with_resolver(mut self, resolver: Resolver) -> Geo {
        self.resolver = resolver;
        self
    }

    pub fn resolver(&self) -> &Resolver {
        &self.resolver
    }

    /// The country of `ip`, or why there is none. Cached per address.
    pub fn locate(&self, ip: IpAddr) -> Location {
        let snap = self.snapshot.load();
        if let Some(hit) = snap.cache.get(ip) {
            return hit;
        }
        let found = self.locate_uncached(&snap, ip).0;
        snap.cache.insert(ip, found.clone());
        found
    }

    /// [`locate`](Self::locate) without the cache, saying where the answer came from.
    pub fn explain(&self, ip: IpAddr) -> (Location, Option<Source>) {
        self.locate_uncached(&self.snapshot.load(), ip)
    }

    fn locate_uncached(&self, snap: &Snapshot, ip: IpAddr) -> (Location, Option<Source>) {
        if let Some(c) = self.overrides.lookup(ip) {
            return (Ok(c), Some(Source::Override));
        }
        match &snap.db {
            Some(db) => (db.country(ip), Some(Source::Database)),
            None => (Err(Unlocated::NoDatabase), None),
        }
    }

    /// Puts a newly read database in force, with a fresh cache.
    pub fn swap_database(&self, db: Database) {
        self.snapshot.store(Arc::new(Snapshot {
            db: Some(Arc::new(db)),
            cache: Cache::new(self.cache_size),
        }));
    }

    pub fn database(&self) -> Option<Arc<Database>> {
        self.snapshot.load().db.clone()
    }

    /// The configured database file, watched for changes.
    pub fn path(&self) -> Option<&std::path::Path> {
        self.path.as_deref()
    }

    pub fn trusted_proxies(&self) -> &[Cidr] {
        &self.trusted
    }
}
