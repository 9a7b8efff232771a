//! Per-address memory of locations, bounded.
//!
//! A database lookup walks up to 128 tree nodes and decodes a record; the same few provider and
//! client addresses come back on every request, so their answers are kept. The cache lives inside
//! one database snapshot: a reload starts a fresh, empty cache with the new file, so an answer is
//! never served from a database that is no longer in force.
//!
//! Bounded because client addresses are chosen by the world: 16 shards (so concurrent requests
//! rarely wait on one lock) of at most `capacity / 16` entries; a full shard forgets an entry
//! before it learns one. Keys are hashed with the standard library's seeded hasher, so nobody can
//! pick addresses that collide.

use sovgate_core::geo::Location;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

const SHARDS: usize = 16;

#[derive(Debug)]
pub struct Cache {
    shards: Vec<Mutex<HashMap<IpAddr, Location>>>,
    per_shard: usize,
}

fn shard_of(ip: IpAddr) -> usize {
    let k = sovgate_core::cidr::key(ip);
    // Fold the address so that neighbours spread over the shards.
    let x = (k as u64) ^ ((k >> 64) as u64);
    (x.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 60) as usize % SHARDS
}

impl Cache {
    pub fn new(capacity: usize) -> Cache {
        Cache {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            per_shard: capacity.div_ceil(SHARDS).max(1),
        }
    }

    pub fn get(&self, ip: IpAddr) -> Option<Location> {
        let shard = self.shards.get(shard_of(ip))?;
        let map = shard.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&ip).cloned()
    }

    pub fn insert(&self, ip: IpAddr, loc: Location) {
        let Some(shard) = self.shards.get(shard_of(ip)) else {
            return;
        };
        let mut map = shard.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= self.per_shard && !map.contains_key(&ip) {
            if let Some(old) = map.keys().next().copied() {
                map.remove(&old);
            }
        }
        map.insert(ip, loc);
    }

    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).len())
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use sovgate_core::geo::{Country, Unlocated};

    #[test]
    fn remembers_and_stays_bounded() {
        let c = Cache::new(64);
        let de = Country::parse("DE").unwrap();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        assert!(c.get(a).is_none());
        c.insert(a, Ok(de));
        c.insert("2001:db8::1".parse().unwrap(), Err(Unlocated::NoCountry));
        assert_eq!(c.get(a), Some(Ok(de)));
        assert_eq!(
            c.get("2001:db8::1".parse().unwrap()),
            Some(Err(Unlocated::NoCountry))
        );
        for i in 0..10_000u32 {
            c.insert(IpAddr::from(i.to_be_bytes()), Ok(de));
        }
        assert!(c.len() <= 64, "{} entries", c.len());
        assert!(!c.is_empty());
        // Rewriting a present key never evicts another.
        let before = c.len();
        let present = (0..10_000u32)
            .map(|i| IpAddr::from(i.to_be_bytes()))
            .find(|ip| c.get(*ip).is_some())
            .unwrap();
        c.insert(present, Ok(de));
        assert_eq!(c.len(), before);
    }
}
