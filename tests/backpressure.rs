//! Backpressure with slow stubs: a pool whose endpoints are all at `max_inflight` queues
//! requests, serves them as places free, and refuses with 503 + `Retry-After` (in the client's
//! own error shape, audited) when the queue is full or a wait runs out.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::pools::{calls, gateway, stub_with};
use crate::support::*;
use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Watches the first pool until told to stop: the most requests any endpoint held at once, and
/// the longest queue seen.
fn watch(h: &Harness) -> (Arc<AtomicBool>, tokio::task::JoinHandle<(usize, usize)>) {
    let pool = Arc::clone(&h.gw.state.pools[0]);
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let task = tokio::spawn(async move {
        let (mut busiest, mut longest) = (0, 0);
        while !flag.load(Ordering::Relaxed) {
            for e in &pool.endpoints {
                busiest = busiest.max(e.outstanding());
            }
            longest = longest.max(pool.queued());
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        (busiest, longest)
    });
    (stop, task)
}

fn refusals(h: &Harness) -> Vec<Value> {
    h.audit_lines()
        .into_iter()
        .filter(|l| l["action"] == "refuse")
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saturated_pool_queues_and_serves_as_places_free() {
    let s = [
        stub_with("gpu0", 250, None).await,
        stub_with("gpu1", 250, None).await,
    ];
    let h = gateway(
        "least_outstanding",
        "max_inflight = 1\nqueue_size = 8\nqueue_timeout_ms = 10000",
        &[&s[0], &s[1]],
    )
    .await;
    let (stop, watcher) = watch(&h);
    let bodies = (0..6).map(|i| chat(&format!("queued {i}"))).collect();
    let statuses = crate::pools::concurrent(&h, bodies).await;
    stop.store(true, Ordering::Relaxed);
    let (busiest, longest) = watcher.await.unwrap();
    assert_eq!(statuses, vec![200; 6], "every queued request was served");
    let c = calls(&s);
    assert_eq!(c.iter().sum::<usize>(), 6);
    assert!(
        c.iter().all(|&n| n >= 2),
        "both endpoints took turns: {c:?}"
    );
    assert_eq!(busiest, 1, "max_inflight held");
    assert!(longest >= 2, "requests waited in the queue: {longest}");
    assert_eq!(h.gw.state.pools[0].queued(), 0);
    assert!(refusals(&h).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_queue_bound_a_client_gets_503_with_retry_after() {
    let s = stub_with("gpu0", 1000, None).await;
    let h = gateway(
        "round_robin",
        "max_inflight = 1\nqueue_size = 1\nqueue_timeout_ms = 4000",
        &[&s],
    )
    .await;
    let url = format!("{}/v1/chat/completions", h.url());
    let send = |i: usize| {
        let url = url.clone();
        tokio::spawn(async move { post(&url, chat(&format!("r{i}")).into(), &[], false).await })
    };
    let served = send(0);
    while s.calls() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let queued = send(1);
    while h.gw.state.pools[0].queued() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (_, metrics) = get(&format!("{}/metrics", h.admin_url())).await;
    let metrics = String::from_utf8_lossy(&metrics);
    assert!(
        metrics.contains("sovgate_pool_queued{pool=\"gpu\"} 1\n"),
        "{metrics}"
    );
    let (status, headers, body) = send(2).await.unwrap();
    assert_eq!(status, 503, "{}", String::from_utf8_lossy(&body));
    assert_eq!(headers["retry-after"], "4");
    assert_eq!(headers["x-sovgate-error"], "pool_saturated");
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        v["error"]["code"], "pool_saturated",
        "OpenAI error shape: {v}"
    );
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("saturated"),
        "{v}"
    );
    assert_eq!(served.await.unwrap().0, 200);
    assert_eq!(queued.await.unwrap().0, 200, "the queued one was served");
    assert_eq!(s.calls(), 2, "the refused request never reached the pool");
    assert_eq!(h.external.calls(), 0);
    let refused = refusals(&h);
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0]["status"], 503);
    assert!(
        refused[0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("pool_saturated"),
        "{}",
        refused[0]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wait_past_the_queue_timeout_gets_503_in_the_anthropic_shape() {
    let s = stub_with("gpu0", 1200, None).await;
    let h = gateway(
        "round_robin",
        "max_inflight = 1\nqueue_size = 4\nqueue_timeout_ms = 200",
        &[&s],
    )
    .await;
    let url = format!("{}/v1/messages", h.url());
    let ask = |i: usize| {
        serde_json::json!({"model": "gpt-4o", "max_tokens": 50,
            "messages": [{"role": "user", "content": format!("m{i}")}]})
        .to_string()
    };
    let served = {
        let (url, body) = (url.clone(), ask(0));
        tokio::spawn(async move { post(&url, body.into(), &[], false).await })
    };
    while s.calls() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let waited = std::time::Instant::now();
    let (status, headers, body) = post(&url, ask(1).into(), &[], false).await;
    assert!(
        waited.elapsed() >= Duration::from_millis(200),
        "it waited its turn first"
    );
    assert_eq!(status, 503, "{}", String::from_utf8_lossy(&body));
    assert_eq!(headers["retry-after"], "1");
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["type"], "error", "Anthropic error shape: {v}");
    assert_eq!(v["error"]["type"], "overloaded_error");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("200 ms"),
        "{v}"
    );
    let (status, _, _) = served.await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(s.calls(), 1);
    assert_eq!(refusals(&h).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_max_inflight_nothing_queues() {
    let s = stub_with("gpu0", 200, None).await;
    let h = gateway("round_robin", "", &[&s]).await;
    let (stop, watcher) = watch(&h);
    let bodies = (0..20).map(|i| chat(&format!("{i}"))).collect();
    let statuses = crate::pools::concurrent(&h, bodies).await;
    stop.store(true, Ordering::Relaxed);
    let (busiest, longest) = watcher.await.unwrap();
    assert_eq!(statuses, vec![200; 20]);
    assert_eq!(longest, 0);
    assert!(busiest > 1, "all at once on the one endpoint: {busiest}");
}
