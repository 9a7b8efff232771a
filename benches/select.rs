//! Endpoint selection cost per strategy, for a pool of 64 endpoints (target: under 1 µs).
//!
//! Each iteration picks and drops a lease, so the figure includes the outstanding-count
//! bookkeeping and the EWMA update, as on the data path.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use sovgate::config::{parse_upstream, Balance, Pool, PoolTuning};
use sovgate::proxy::balance::affinity_key;
use sovgate::proxy::pool::PoolState;
use sovgate_core::api::Family;

fn pool(balance: Balance, n: usize) -> std::sync::Arc<PoolState> {
    PoolState::new(Pool {
        name: "bench".into(),
        family: Family::OpenAi,
        region: None,
        balance,
        endpoints: (0..n)
            .map(|i| parse_upstream(&format!("http://10.0.{}.{}:8000", i / 250, i % 250)).unwrap())
            .collect(),
        models: vec![],
        tuning: PoolTuning::default(),
    })
}

fn select(c: &mut Criterion) {
    let mut g = c.benchmark_group("pool/select");
    for (name, balance) in [
        ("round_robin", Balance::RoundRobin),
        ("least_outstanding", Balance::LeastOutstanding),
        ("p2c", Balance::P2c),
        ("queue_aware", Balance::QueueAware),
        ("prefix_affinity", Balance::PrefixAffinity),
    ] {
        let p = pool(balance, 64);
        // Some load everywhere, as in a busy pool.
        let held: Vec<_> = (0..128).filter_map(|_| p.pick(&[])).collect();
        let mut key = 0u64;
        g.bench_function(name, |b| {
            b.iter(|| {
                key = key.wrapping_add(0x9e37_79b9_7f4a_7c15);
                black_box(p.pick_with(Some(key), black_box(&[3, 9])))
            })
        });
        drop(held);
    }
    g.finish();
    let body = br#"{"model":"m","messages":[{"role":"system","content":"You are a careful legal assistant."},{"role":"user","content":"Summarize the attached contract in five bullet points."}]}"#;
    c.bench_function("pool/affinity_key", |b| {
        b.iter(|| affinity_key(black_box(body)))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(300))
        .measurement_time(std::time::Duration::from_secs(1));
    targets = select
}
criterion_main!(benches);
