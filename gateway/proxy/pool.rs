//! Runtime state of local pools: which endpoint takes the next request.
//!
//! Built once from the config. Selection runs on every request, so it touches atomics only: no
//! lock, no allocation. The strategies themselves live in [`super::balance`]; this module holds
//! what they read:
//!
//! - `outstanding`: requests leased to the endpoint and not finished (a [`Lease`] is held until
//!   the response stream ends, so a long generation keeps counting);
//! - passive health: an endpoint that refuses a connection or answers 5xx is ejected for
//!   [`EJECT_FOR`], so retries and later requests go elsewhere; it comes back on its own;
//! - active health: [`super::health`] probes each endpoint and flips `up` after `rise` good or
//!   `fall` bad probes in a row;
//! - a latency EWMA (for `p2c`), fed by every finished lease;
//! - the scraped queue depth (for `queue_aware`), written by the health task;
//! - backpressure: with `max_inflight` set, an endpoint at its cap is no candidate, and requests
//!   that find every endpoint full wait in a bounded queue ([`super::admit`]) until a lease ends.

use super::balance::{self, Ring};
use crate::config::{Pool, Upstream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// How long an endpoint stays out of rotation after a connect failure or a 5xx.
const EJECT_FOR: Duration = Duration::from_secs(2);

/// `queue` value of an endpoint whose `/metrics` gave nothing usable (or was never scraped).
pub const NO_QUEUE: u64 = u64::MAX;

/// Weight of a new latency sample in the EWMA: 1/8, smooth enough to ignore one slow answer,
/// quick enough that a degraded server loses traffic within a few requests.
const EWMA_SHIFT: u32 = 3;

#[derive(Debug)]
pub struct EndpointState {
    pub upstream: Upstream,
    pub(super) outstanding: AtomicUsize,
    /// Milliseconds since `PoolState::epoch` until which the endpoint is ejected.
    ejected_until_ms: AtomicU64,
    /// Verdict of the active health checks; endpoints start up so a fresh gateway serves at once.
    up: AtomicBool,
    /// Smoothed lease duration in microseconds; 0 until the first sample.
    pub(super) ewma_us: AtomicU64,
    /// Scraped load: waiting requests × 1000 + KV cache use in thousandths, or [`NO_QUEUE`].
    pub(super) queue: AtomicU64,
    /// Attempts sent here (retries included), for operators and for tests that must prove an
    /// endpoint got no traffic: a dead server cannot record the requests it never received.
    picks: AtomicU64,
}

impl EndpointState {
    /// Whether the active health checks consider the endpoint up.
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// Attempts the balancer sent to this endpoint so far.
    pub fn picks(&self) -> u64 {
        self.picks.load(Ordering::Relaxed)
    }

    /// Requests leased to this endpoint and not finished.
    pub fn outstanding(&self) -> usize {
        self.outstanding.load(Ordering::Relaxed)
    }

    /// Smoothed latency of finished leases, if any finished.
    pub fn latency(&self) -> Option<Duration> {
        match self.ewma_us.load(Ordering::Relaxed) {
            0 => None,
            us => Some(Duration::from_micros(us)),
        }
    }

    pub(super) fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::Relaxed);
    }

    pub(super) fn set_queue(&self, q: u64) {
        self.queue.store(q, Ordering::Relaxed);
    }

    /// Folds one latency sample into the EWMA. Racing updates may lose a sample; the average
    /// does not need every one.
    pub(super) fn record_latency(&self, sample: Duration) {
        let s = (sample.as_micros().min(u64::MAX as u128) as u64).max(1);
        let old = self.ewma_us.load(Ordering::Relaxed);
        let new = if old == 0 {
            s
        } else {
            // Signed arithmetic on i128 so a sample below the average pulls it down.
            let delta = (s as i128 - old as i128) >> EWMA_SHIFT;
            (old as i128 + delta).max(1) as u64
        };
        self.ewma_us.store(new, Ordering::Relaxed);
    }
}

#[derive(Debug)]
pub struct PoolState {
    pub config: Pool,
    pub endpoints: Vec<EndpointState>,
    pub(super) next: AtomicUsize,
    /// Counter behind the `p2c` random numbers (splitmix64 of a Weyl sequence).
    pub(super) rng: AtomicU64,
    pub(super) total_outstanding: AtomicUsize,
    pub(super) ring: Ring,
    epoch: Instant,
    /// Per-endpoint `max_inflight`, `usize::MAX` without one.
    cap: usize,
    /// Requests waiting in the backpressure queue.
    pub(super) queued: AtomicUsize,
    /// Woken whenever a lease ends while requests are queued.
    pub(super) freed: Notify,
}

/// Holds one request's place on an endpoint: the outstanding count is released, and the
/// latency sample recorded, when the lease is dropped or [`finish`](Lease::finish)ed.
#[derive(Debug)]
pub struct Lease {
    pool: Arc<PoolState>,
    pub index: usize,
    started: Instant,
    /// Set on eject or finish: a failed attempt's quick refusal must not look like a fast server.
    no_sample: AtomicBool,
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(e) = self.pool.endpoints.get(self.index) {
            if !self.no_sample.load(Ordering::Relaxed) {
                e.record_latency(self.started.elapsed());
            }
            e.outstanding.fetch_sub(1, Ordering::Relaxed);
            self.pool.total_outstanding.fetch_sub(1, Ordering::Relaxed);
            if self.pool.queued.load(Ordering::Relaxed) > 0 {
                self.pool.freed.notify_waiters();
            }
        }
    }
}

impl Lease {
    pub fn upstream(&self) -> &Upstream {
        &self.pool.endpoints[self.index].upstream
    }

    /// Takes the endpoint out of rotation for a while.
    pub fn eject(&self) {
        self.no_sample.store(true, Ordering::Relaxed);
        self.pool.eject(self.index);
    }

    /// Releases the endpoint with an explicitly measured latency (e.g. time to first token)
    /// instead of the lease's lifetime.
    pub fn finish(self, latency: Duration) {
        if let Some(e) = self.pool.endpoints.get(self.index) {
            if !self.no_sample.swap(true, Ordering::Relaxed) {
                e.record_latency(latency);
            }
        }
    }
}

impl PoolState {
    pub fn new(config: Pool) -> Arc<PoolState> {
        let endpoints: Vec<EndpointState> = config
            .endpoints
            .iter()
            .map(|u| EndpointState {
                upstream: u.clone(),
                outstanding: AtomicUsize::new(0),
                ejected_until_ms: AtomicU64::new(0),
                up: AtomicBool::new(true),
                ewma_us: AtomicU64::new(0),
                queue: AtomicU64::new(NO_QUEUE),
                picks: AtomicU64::new(0),
            })
            .collect();
        let ring = Ring::new(&config.endpoints);
        let cap = config
            .tuning
            .max_inflight
            .map_or(usize::MAX, |n| n as usize);
        Arc::new(PoolState {
            config,
            endpoints,
            next: AtomicUsize::new(0),
            rng: AtomicU64::new(balance::seed()),
            total_outstanding: AtomicUsize::new(0),
            ring,
            epoch: Instant::now(),
            cap,
            queued: AtomicUsize::new(0),
            freed: Notify::new(),
        })
    }

    pub(super) fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    fn eject(&self, i: usize) {
        if let Some(e) = self.endpoints.get(i) {
            let until = self.now_ms() + EJECT_FOR.as_millis() as u64;
            e.ejected_until_ms.store(until, Ordering::Relaxed);
        }
    }

    /// In rotation (up, not ejected), not already tried by this request, and below its cap.
    pub(super) fn available(&self, i: usize, now: u64, exclude: &[usize]) -> bool {
        self.in_rotation(i, now, exclude) && self.endpoints[i].outstanding() < self.cap
    }

    fn in_rotation(&self, i: usize, now: u64, exclude: &[usize]) -> bool {
        let e = &self.endpoints[i];
        !exclude.contains(&i) && e.is_up() && e.ejected_until_ms.load(Ordering::Relaxed) <= now
    }

    /// Number of endpoints currently in rotation (busy or not).
    pub fn healthy(&self) -> usize {
        let now = self.now_ms();
        (0..self.endpoints.len())
            .filter(|&i| self.in_rotation(i, now, &[]))
            .count()
    }

    /// Whether an endpoint not in `exclude` is in rotation, so a request that found none free
    /// is worth queueing.
    pub(super) fn could_serve(&self, exclude: &[usize]) -> bool {
        let now = self.now_ms();
        (0..self.endpoints.len()).any(|i| self.in_rotation(i, now, exclude))
    }

    /// Requests waiting in the backpressure queue right now.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    /// Requests that may wait for a free endpoint at once (none without a cap).
    pub(super) fn queue_bound(&self) -> usize {
        match self.config.tuning.max_inflight {
            Some(_) => self.config.tuning.queue_size as usize,
            None => 0,
        }
    }

    /// Picks an endpoint not in `exclude`, per the pool's strategy.
    pub fn pick(self: &Arc<Self>, exclude: &[usize]) -> Option<Lease> {
        self.pick_with(None, exclude)
    }

    /// Like [`pick`](PoolState::pick), with the request's affinity key (see
    /// [`super::balance::affinity_key`]); strategies other than `prefix_affinity` ignore it.
    pub fn pick_with(self: &Arc<Self>, key: Option<u64>, exclude: &[usize]) -> Option<Lease> {
        let chosen = self.reserve(key, exclude)?;
        self.endpoints[chosen].picks.fetch_add(1, Ordering::Relaxed);
        self.total_outstanding.fetch_add(1, Ordering::Relaxed);
        Some(Lease {
            pool: Arc::clone(self),
            index: chosen,
            started: Instant::now(),
            no_sample: AtomicBool::new(false),
        })
    }

    /// Chooses an endpoint and counts the request on it. With a cap, the count is raised only
    /// while below it, so racing requests cannot push an endpoint past `max_inflight`; one that
    /// lost the race chooses again (a bounded number of times: each lost race means another
    /// request took the place, so the pool is as busy as the cap allows).
    fn reserve(&self, key: Option<u64>, exclude: &[usize]) -> Option<usize> {
        if self.cap == usize::MAX {
            let chosen = balance::choose(self, key, exclude)?;
            self.endpoints[chosen]
                .outstanding
                .fetch_add(1, Ordering::Relaxed);
            return Some(chosen);
        }
        for _ in 0..=self.endpoints.len() {
            let chosen = balance::choose(self, key, exclude)?;
            let raised = self.endpoints[chosen].outstanding.fetch_update(
                Ordering::AcqRel,
                Ordering::Acquire,
                |n| (n < self.cap).then_some(n + 1),
            );
            if raised.is_ok() {
                return Some(chosen);
            }
        }
        None
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(super) mod tests {
    use super::*;
    use crate::config::{parse_upstream, Balance, PoolTuning};
    use sovgate_core::api::Family;

    pub(crate) fn pool(balance: Balance, n: usize) -> Arc<PoolState> {
        pool_with(balance, n, |_| {})
    }

    pub(crate) fn pool_with(
        balance: Balance,
        n: usize,
        tune: impl FnOnce(&mut PoolTuning),
    ) -> Arc<PoolState> {
        let mut tuning = PoolTuning::default();
        tune(&mut tuning);
        PoolState::new(Pool {
            name: "p".into(),
            family: Family::OpenAi,
            region: None,
            declared: Default::default(),
            balance,
            endpoints: (0..n)
                .map(|i| parse_upstream(&format!("http://127.0.0.1:{}", 9000 + i)).unwrap())
                .collect(),
            models: vec![],
            tuning,
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

    #[test]
    fn lease_drop_releases_counts_and_feeds_the_ewma() {
        let p = pool(Balance::P2c, 1);
        let l = p.pick(&[]).unwrap();
        assert_eq!(p.endpoints[0].outstanding(), 1);
        l.finish(Duration::from_millis(80));
        assert_eq!(p.endpoints[0].outstanding(), 0);
        assert_eq!(p.total_outstanding.load(Ordering::Relaxed), 0);
        assert_eq!(p.endpoints[0].latency(), Some(Duration::from_millis(80)));
        // An ejected attempt adds no sample.
        p.pick(&[]).unwrap().eject();
        assert_eq!(p.endpoints[0].latency(), Some(Duration::from_millis(80)));
    }

    #[test]
    fn ewma_moves_an_eighth_of_the_way_towards_each_sample() {
        let p = pool(Balance::P2c, 1);
        let e = &p.endpoints[0];
        e.record_latency(Duration::from_micros(8000));
        e.record_latency(Duration::from_micros(16000));
        assert_eq!(e.latency(), Some(Duration::from_micros(9000)));
        e.record_latency(Duration::from_micros(1000));
        assert_eq!(e.latency(), Some(Duration::from_micros(8000)));
        for _ in 0..200 {
            e.record_latency(Duration::from_micros(500));
        }
        let settled = e.latency().unwrap().as_micros();
        assert!((500..=510).contains(&settled), "{settled}");
    }

    #[test]
    fn a_down_endpoint_leaves_rotation() {
        let p = pool(Balance::RoundRobin, 3);
        p.endpoints[1].set_up(false);
        assert_eq!(p.healthy(), 2);
        assert!((0..9).all(|_| p.pick(&[]).unwrap().index != 1));
        p.endpoints[1].set_up(true);
        assert!((0..3).any(|_| p.pick(&[]).unwrap().index == 1));
    }

    #[test]
    fn an_endpoint_at_max_inflight_is_no_candidate() {
        let p = pool_with(Balance::RoundRobin, 2, |t| t.max_inflight = Some(2));
        let held: Vec<Lease> = (0..4).map(|_| p.pick(&[]).unwrap()).collect();
        assert!(p.pick(&[]).is_none(), "both endpoints at 2");
        assert_eq!(p.healthy(), 2, "full is not unhealthy");
        assert!(p.could_serve(&[]));
        assert_eq!((p.endpoints[0].picks(), p.endpoints[1].picks()), (2, 2));
        drop(held);
        assert!(p.pick(&[]).is_some());
    }
}
