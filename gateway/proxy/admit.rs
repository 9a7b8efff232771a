//! Backpressure: what a request does when every endpoint of its pool is at `max_inflight`.
//!
//! It waits, in a queue of at most `queue_size` requests, for at most `queue_timeout`; a lease
//! that ends wakes the waiters and one of them takes the freed place. A request that finds the
//! queue full, or waits past the timeout, is refused with 503 and a `Retry-After`: a GPU server
//! pushed past its batch size only answers everyone later, and a client told to come back
//! shortly does better than one whose request times out in the server's own queue.
//!
//! The queue is not strictly first come, first served: a request arriving just as a place frees
//! may take it before a waiter wakes. Waiters re-check at least every [`RECHECK`], so an
//! endpoint that comes back into rotation (health checks flip it without ending a lease) is
//! found without a lease having to end first.

use super::pool::{Lease, PoolState};
use crate::error::GatewayError;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Longest a waiter sleeps without looking at the pool again.
const RECHECK: Duration = Duration::from_millis(100);

/// Why no lease was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// No endpoint outside `exclude` is in rotation: waiting would not help.
    NoneInRotation,
    /// Every endpoint is full and `queue_size` requests already wait.
    QueueFull,
    /// Every endpoint stayed full for `queue_timeout`.
    TimedOut,
}

impl Refused {
    /// The error the client gets for a full pool (in its own API's shape, via
    /// [`GatewayError::to_response`]); `None` for [`Refused::NoneInRotation`], which the caller
    /// words itself.
    pub fn error(self, pool: &PoolState) -> Option<GatewayError> {
        let t = &pool.config.tuning;
        let cap = t.max_inflight.unwrap_or(0);
        let message = match self {
            Refused::NoneInRotation => return None,
            Refused::QueueFull => format!(
                "local pool `{}` is saturated: every endpoint serves {cap} requests and {} more \
                 already wait; retry shortly",
                pool.config.name, t.queue_size
            ),
            Refused::TimedOut => format!(
                "local pool `{}` is saturated: every endpoint serves {cap} requests and none \
                 freed within {} ms; retry shortly",
                pool.config.name,
                t.queue_timeout.as_millis()
            ),
        };
        let retry_after = t.queue_timeout.as_secs_f64().ceil().max(1.0) as u32;
        Some(GatewayError::unavailable("pool_saturated", message).with_retry_after(retry_after))
    }
}

/// A place in the queue, given back on drop (also when the waiting future is cancelled).
struct Place<'a>(&'a PoolState);

impl<'a> Place<'a> {
    fn take(pool: &'a PoolState) -> Option<Place<'a>> {
        let bound = pool.queue_bound();
        pool.queued
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < bound).then_some(n + 1)
            })
            .ok()
            .map(|_| Place(pool))
    }
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        self.0.queued.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A lease on an endpoint of `pool` not in `exclude`, waiting in the queue if all are full.
pub async fn lease(
    pool: &Arc<PoolState>,
    key: Option<u64>,
    exclude: &[usize],
) -> Result<Lease, Refused> {
    if let Some(l) = pool.pick_with(key, exclude) {
        return Ok(l);
    }
    if !pool.could_serve(exclude) {
        return Err(Refused::NoneInRotation);
    }
    let Some(_place) = Place::take(pool) else {
        return Err(Refused::QueueFull);
    };
    let deadline = Instant::now() + pool.config.tuning.queue_timeout;
    loop {
        // Registered before the pool is looked at, so a lease ending in between still wakes us.
        let freed = pool.freed.notified();
        tokio::pin!(freed);
        freed.as_mut().enable();
        if let Some(l) = pool.pick_with(key, exclude) {
            return Ok(l);
        }
        if !pool.could_serve(exclude) {
            return Err(Refused::NoneInRotation);
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(Refused::TimedOut);
        }
        let _ = tokio::time::timeout_at(deadline.min(now + RECHECK), freed).await;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::config::Balance;
    use crate::proxy::pool::tests::pool_with;

    fn capped(cap: u32, queue: u32, timeout_ms: u64) -> Arc<PoolState> {
        pool_with(Balance::LeastOutstanding, 2, |t| {
            t.max_inflight = Some(cap);
            t.queue_size = queue;
            t.queue_timeout = Duration::from_millis(timeout_ms);
        })
    }

    #[tokio::test]
    async fn a_waiter_gets_the_place_a_finished_lease_frees() {
        let p = capped(1, 4, 5000);
        let a = lease(&p, None, &[]).await.unwrap();
        let b = lease(&p, None, &[]).await.unwrap();
        assert_ne!(a.index, b.index);
        let waiter = {
            let p = Arc::clone(&p);
            tokio::spawn(async move { lease(&p, None, &[]).await.map(|l| l.index) })
        };
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert_eq!(p.queued.load(Ordering::Relaxed), 1, "it waits");
        let freed = b.index;
        drop(b);
        assert_eq!(waiter.await.unwrap(), Ok(freed));
        assert_eq!(p.queued.load(Ordering::Relaxed), 0);
        drop(a);
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_and_a_wait_times_out() {
        let p = capped(1, 1, 150);
        let _held = (
            lease(&p, None, &[]).await.unwrap(),
            lease(&p, None, &[]).await.unwrap(),
        );
        let waiter = {
            let p = Arc::clone(&p);
            tokio::spawn(async move { lease(&p, None, &[]).await.map(|l| l.index) })
        };
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert_eq!(lease(&p, None, &[]).await.unwrap_err(), Refused::QueueFull);
        let started = std::time::Instant::now();
        assert_eq!(waiter.await.unwrap(), Err(Refused::TimedOut));
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(
            p.queued.load(Ordering::Relaxed),
            0,
            "the place was given back"
        );
        let e = Refused::TimedOut.error(&p).unwrap();
        assert_eq!((e.status().as_u16(), e.code()), (503, "pool_saturated"));
    }

    #[tokio::test]
    async fn nothing_in_rotation_is_not_queued() {
        let p = capped(1, 8, 5000);
        for e in &p.endpoints {
            e.set_up(false);
        }
        let started = std::time::Instant::now();
        assert_eq!(
            lease(&p, None, &[]).await.unwrap_err(),
            Refused::NoneInRotation
        );
        assert!(started.elapsed() < Duration::from_secs(1), "no wait");
        assert!(Refused::NoneInRotation.error(&p).is_none());
    }

    #[tokio::test]
    async fn racing_requests_never_pass_the_cap() {
        let p = capped(3, 1000, 5000);
        let mut tasks = Vec::new();
        for _ in 0..64 {
            let p = Arc::clone(&p);
            tasks.push(tokio::spawn(async move {
                for _ in 0..20 {
                    let l = lease(&p, None, &[]).await.unwrap();
                    assert!(p.endpoints[l.index].outstanding() <= 3);
                    tokio::task::yield_now().await;
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(p.endpoints.iter().map(|e| e.picks()).sum::<u64>(), 64 * 20);
    }
}
