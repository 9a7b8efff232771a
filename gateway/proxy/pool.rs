//! Runtime state of local pools: which endpoint takes the next request.
//!
//! Built once from the config. Selection is lock-free (atomics only) because it runs on every
//! request. An endpoint that fails to connect is ejected for a short while (passive health), so
//! retries and later requests go elsewhere; it comes back on its own.

use crate::config::{Balance, Pool, Upstream};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long an endpoint stays out of rotation after a connect failure or a 5xx.
const EJECT_FOR: Duration = Duration::from_secs(2);

#[derive(Debug)]
pub struct EndpointState {
    pub upstream: Upstream,
    outstanding: AtomicUsize,
    /// Milliseconds since `PoolSet::epoch` until which the endpoint is ejected.
    ejected_until_ms: AtomicU64,
}

#[derive(Debug)]
pub struct PoolState {
    pub config: Pool,
    pub endpoints: Vec<EndpointState>,
    next: AtomicUsize,
    epoch: Instant,
}

/// Releases the outstanding count when the request is done with the endpoint.
#[derive(Debug)]
pub struct Lease {
    pool: Arc<PoolState>,
    pub index: usize,
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(e) = self.pool.endpoints.get(self.index) {
            e.outstanding.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl Lease {
    pub fn upstream(&self) -> &Upstream {
        &self.pool.endpoints[self.index].upstream
    }

    /// Takes the endpoint out of rotation for a while.
    pub fn eject(&self) {
        self.pool.eject(self.index);
    }
}

impl PoolState {
    pub fn new(config: Pool) -> Arc<PoolState> {
        let endpoints = config
            .endpoints
            .iter()
            .map(|u| EndpointState {
                upstream: u.clone(),
                outstanding: AtomicUsize::new(0),
                ejected_until_ms: AtomicU64::new(0),
            })
            .collect();
        Arc::new(PoolState {
            config,
            endpoints,
            next: AtomicUsize::new(0),
            epoch: Instant::now(),
        })
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    fn eject(&self, i: usize) {
        if let Some(e) = self.endpoints.get(i) {
            let until = self.now_ms() + EJECT_FOR.as_millis() as u64;
            e.ejected_until_ms.store(until, Ordering::Relaxed);
        }
    }

    fn available(&self, i: usize, now: u64, exclude: &[usize]) -> bool {
        !exclude.contains(&i) && self.endpoints[i].ejected_until_ms.load(Ordering::Relaxed) <= now
    }

    /// Number of endpoints currently in rotation.
    pub fn healthy(&self) -> usize {
        let now = self.now_ms();
        (0..self.endpoints.len())
            .filter(|&i| self.available(i, now, &[]))
            .count()
    }

    /// Picks an endpoint not in `exclude`, per the pool's strategy.
    pub fn pick(self: &Arc<Self>, exclude: &[usize]) -> Option<Lease> {
        let now = self.now_ms();
        let n = self.endpoints.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let candidates = (0..n)
            .map(|k| (start + k) % n)
            .filter(|&i| self.available(i, now, exclude));
        let chosen = match self.config.balance {
            Balance::RoundRobin => candidates.into_iter().next(),
            // The other strategies refine this; least outstanding is the safe common ground.
            _ => candidates.min_by_key(|&i| self.endpoints[i].outstanding.load(Ordering::Relaxed)),
        }?;
        self.endpoints[chosen]
            .outstanding
            .fetch_add(1, Ordering::Relaxed);
        Some(Lease {
            pool: Arc::clone(self),
            index: chosen,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::config::parse_upstream;
    use sovgate_core::api::Family;

    fn pool(balance: Balance, n: usize) -> Arc<PoolState> {
        PoolState::new(Pool {
            name: "p".into(),
            family: Family::OpenAi,
            region: None,
            balance,
            endpoints: (0..n)
                .map(|i| parse_upstream(&format!("http://127.0.0.1:{}", 9000 + i)).unwrap())
                .collect(),
            models: vec![],
        })
    }

    #[test]
    fn round_robin_cycles_and_skips_ejected() {
        let p = pool(Balance::RoundRobin, 3);
        let picks: Vec<usize> = (0..6).map(|_| p.pick(&[]).unwrap().index).collect();
        assert_eq!(picks, vec![0, 1, 2, 0, 1, 2]);
        p.pick(&[]).unwrap().eject();
        assert_eq!(p.healthy(), 2);
        for _ in 0..6 {
            assert_ne!(p.pick(&[]).unwrap().index, 0);
        }
    }

    #[test]
    fn least_outstanding_prefers_idle_and_excludes() {
        let p = pool(Balance::LeastOutstanding, 2);
        let a = p.pick(&[]).unwrap();
        let b = p.pick(&[]).unwrap();
        assert_ne!(a.index, b.index);
        drop(b);
        let c = p.pick(&[]).unwrap();
        assert_ne!(c.index, a.index);
        assert!(p.pick(&[0, 1]).is_none());
    }
}
