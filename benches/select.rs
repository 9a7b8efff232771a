//! Endpoint selection cost per strategy, for a pool of 64 endpoints (target: under 1 µs).
//!
//! The pools are brought into a busy, uneven state through the same public calls the data path
//! makes, before anything is timed:
//!
//! - latency EWMAs: 4,096 leases taken and finished with latencies that differ per endpoint
//!   (20–83 ms), so `p2c` compares real figures instead of the "never measured" zero;
//! - outstanding counts: 192 leases held for the whole run, spread by the strategy itself, plus
//!   up to 8 more on the first 16 endpoints (a few hot servers);
//! - `prefix_affinity` keys differ on every pick (many conversations).
//!
//! Each iteration picks and drops a lease, so the figure includes the outstanding-count
//! bookkeeping and the EWMA update on drop, as on the data path. `retry` variants pass two
//! already-tried endpoints to skip. `prefix_affinity+key` adds computing the affinity key from
//! the 2 KB chat body, which the handler does before every pick for that strategy.
//!
//! Not reproduced: scraped queue depths (`queue_aware` reads one atomic per endpoint either way;
//! unscraped endpoints fall back to outstanding counts, which is what runs here) and actively
//! failed endpoints (the health task's setter is private to the proxy).
//! Run with `cargo bench --bench select -- --warm-up-time 1 --measurement-time 3`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use sovgate::config::{parse_upstream, Balance, Pool, PoolTuning};
use sovgate::proxy::balance::{affinity_for, affinity_key};
use sovgate::proxy::pool::{Lease, PoolState};
use sovgate_core::api::Family;
use std::sync::Arc;
use std::time::Duration;

const ENDPOINTS: usize = 64;

fn pool(balance: Balance, n: usize) -> Arc<PoolState> {
    PoolState::new(Pool {
        name: "bench".into(),
        family: Family::OpenAi,
        region: None,
        declared: Default::default(),
        balance,
        endpoints: (0..n)
            .map(|i| parse_upstream(&format!("http://10.0.{}.{}:8000", i / 250, i % 250)).unwrap())
            .collect(),
        models: vec![],
        tuning: PoolTuning::default(),
    })
}

/// Feeds latencies and holds leases as a busy pool would; returns the held leases.
fn load(p: &Arc<PoolState>) -> Vec<Lease> {
    let mut key = 1u64;
    let mut next_key = || {
        key = key.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        Some(key)
    };
    for _ in 0..4096 {
        let l = p.pick_with(next_key(), &[]).unwrap();
        let ms = 20 + (l.index as u64 * 37) % 64;
        l.finish(Duration::from_millis(ms));
    }
    let mut held: Vec<Lease> = (0..192)
        .filter_map(|_| p.pick_with(next_key(), &[]))
        .collect();
    // A few hot servers: extra leases on the first 16 endpoints, whatever the strategy.
    for _ in 0..512 {
        if let Some(l) = p.pick_with(next_key(), &[]) {
            if l.index < 16 && p.endpoints[l.index].outstanding() < 8 {
                held.push(l);
            }
        }
    }
    held
}

fn select(c: &mut Criterion) {
    let body = common::CHAT_CLEAN_2K;
    let mut g = c.benchmark_group("pool/select");
    for (name, balance) in [
        ("round_robin", Balance::RoundRobin),
        ("least_outstanding", Balance::LeastOutstanding),
        ("p2c", Balance::P2c),
        ("queue_aware", Balance::QueueAware),
        ("prefix_affinity", Balance::PrefixAffinity),
    ] {
        let p = pool(balance, ENDPOINTS);
        let held = load(&p);
        assert!(held.len() >= 192, "{name}: pool refused leases");
        let mut key = 0u64;
        g.bench_function(name, |b| {
            b.iter(|| {
                key = key.wrapping_add(0x9e37_79b9_7f4a_7c15);
                black_box(p.pick_with(Some(key), black_box(&[])))
            })
        });
        g.bench_function(format!("{name}/retry"), |b| {
            b.iter(|| {
                key = key.wrapping_add(0x9e37_79b9_7f4a_7c15);
                black_box(p.pick_with(Some(key), black_box(&[3, 9])))
            })
        });
        if balance == Balance::PrefixAffinity {
            assert!(affinity_for(&p, body).is_some());
            g.bench_function(format!("{name}+key"), |b| {
                b.iter(|| black_box(p.pick_with(affinity_for(&p, black_box(body)), &[])))
            });
        }
        drop(held);
    }
    g.finish();
    c.bench_function("pool/affinity_key/2KB", |b| {
        b.iter(|| affinity_key(black_box(body)))
    });
    // Baseline in the same run: a full `serde_json::Value` parse of the same body (what the key
    // used to cost before it read borrowed views of the few members it needs).
    c.bench_function("pool/serde_json_value/2KB", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(body)).ok())
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    targets = select
}
criterion_main!(benches);
