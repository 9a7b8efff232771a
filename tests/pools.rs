//! Local pools of three real stub backends: how each strategy spreads requests, and what
//! happens when an endpoint dies or fails its health checks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::*;
use sovgate::stub::{self, StubConfig, StubHandle};
use std::time::{Duration, Instant};

/// Every class stays local, so every request goes to the pool.
const POOL_CONFIG: &str = r#"
[listen]
reverse = "127.0.0.1:0"
admin = "127.0.0.1:0"

[rules]
embedded = true

[policy]
privileged = "local"
confidential = "local"
internal = "local"
public = "local"

[[providers]]
name = "openai"
api = "openai"
hosts = ["api.openai.com"]
upstream = "{EXTERNAL}"
region = "US"

[[pools]]
name = "gpu"
api = "openai"
endpoints = [{ENDPOINTS}]
balance = "{BALANCE}"
{EXTRA}

[[models]]
external = "gpt-4o*"
pool = "gpu"

[audit]
path = "audit.jsonl"
"#;

pub(crate) async fn stub_with(name: &str, delay_ms: u64, fail_status: Option<u16>) -> StubHandle {
    let cfg = StubConfig {
        name: name.into(),
        delay_ms,
        fail_status,
        ..StubConfig::default()
    };
    stub::start(cfg, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

pub(crate) async fn three(delay_ms: u64) -> Vec<StubHandle> {
    let mut v = Vec::new();
    for i in 0..3 {
        v.push(stub_with(&format!("gpu{i}"), delay_ms, None).await);
    }
    v
}

/// A gateway whose pool `gpu` holds `endpoints`.
pub(crate) async fn gateway(balance: &str, extra: &str, endpoints: &[&StubHandle]) -> Harness {
    let urls: Vec<String> = endpoints.iter().map(|s| s.url()).collect();
    gateway_urls(balance, extra, &urls).await
}

/// A gateway whose pool `gpu` holds these endpoint URLs (some may be dead ports).
pub(crate) async fn gateway_urls(balance: &str, extra: &str, urls: &[String]) -> Harness {
    let list: Vec<String> = urls.iter().map(|u| format!("\"{u}\"")).collect();
    let text = POOL_CONFIG
        .replace("{ENDPOINTS}", &list.join(", "))
        .replace("{BALANCE}", balance)
        .replace("{EXTRA}", extra);
    let unused = stub_with("unused-local", 0, None).await;
    let external = stub_with("external", 0, None).await;
    Harness::with_stubs(&text, unused, external).await
}

fn conversation(system: &str, turns: usize) -> String {
    let mut messages = vec![
        serde_json::json!({"role": "system", "content": system}),
        serde_json::json!({"role": "user", "content": "Summarize the quarterly numbers"}),
    ];
    for t in 0..turns {
        messages.push(serde_json::json!({"role": "assistant", "content": format!("answer {t}")}));
        messages.push(serde_json::json!({"role": "user", "content": format!("follow-up {t}")}));
    }
    serde_json::json!({"model": "gpt-4o", "messages": messages}).to_string()
}

/// Sends all bodies at once; returns every status.
pub(crate) async fn concurrent(h: &Harness, bodies: Vec<String>) -> Vec<u16> {
    let url = format!("{}/v1/chat/completions", h.url());
    let tasks: Vec<_> = bodies
        .into_iter()
        .map(|b| {
            let url = url.clone();
            tokio::spawn(async move { post(&url, b.into(), &[], false).await.0 })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    statuses
}

pub(crate) fn calls(stubs: &[StubHandle]) -> Vec<usize> {
    stubs.iter().map(StubHandle::calls).collect()
}

#[tokio::test]
async fn round_robin_is_exactly_even() {
    let s = three(0).await;
    let h = gateway("round_robin", "", &[&s[0], &s[1], &s[2]]).await;
    for i in 0..90 {
        let (status, _, body) = h
            .post("/v1/chat/completions", chat(&format!("hello {i}")))
            .await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    }
    assert_eq!(calls(&s), vec![30, 30, 30]);
}

#[tokio::test]
async fn least_outstanding_p2c_and_queue_aware_spread_concurrent_load() {
    for balance in ["least_outstanding", "p2c", "queue_aware"] {
        let s = three(30).await;
        let h = gateway(balance, "health_interval_ms = 100", &[&s[0], &s[1], &s[2]]).await;
        let bodies = (0..90).map(|i| chat(&format!("request {i}"))).collect();
        let statuses = concurrent(&h, bodies).await;
        assert!(
            statuses.iter().all(|&s| s == 200),
            "{balance}: {statuses:?}"
        );
        let c = calls(&s);
        assert_eq!(c.iter().sum::<usize>(), 90, "{balance}");
        assert!(c.iter().all(|&n| n >= 10), "{balance} spread poorly: {c:?}");
    }
}

#[tokio::test]
async fn prefix_affinity_keeps_a_conversation_on_one_endpoint() {
    let s = three(0).await;
    let h = gateway("prefix_affinity", "", &[&s[0], &s[1], &s[2]]).await;
    for turns in 0..30 {
        let (status, _, _) = h
            .post(
                "/v1/chat/completions",
                conversation("You are counsel.", turns),
            )
            .await;
        assert_eq!(status, 200);
    }
    let c = calls(&s);
    assert!(c.contains(&30), "one conversation, one endpoint: {c:?}");
    for s in &s {
        s.clear();
    }
    for i in 0..60 {
        let body = conversation(&format!("You are assistant number {i}."), 0);
        assert_eq!(h.post("/v1/chat/completions", body).await.0, 200);
    }
    let c = calls(&s);
    assert!(
        c.iter().all(|&n| n >= 5),
        "different prefixes spread: {c:?}"
    );
}

#[tokio::test]
async fn prefix_affinity_bounds_the_load_of_a_hot_conversation() {
    // Slow answers keep all requests outstanding together.
    let s = three(400).await;
    let h = gateway("prefix_affinity", "", &[&s[0], &s[1], &s[2]]).await;
    let bodies = (0..30)
        .map(|t| conversation("One hot prompt.", t))
        .collect();
    let statuses = concurrent(&h, bodies).await;
    assert!(statuses.iter().all(|&s| s == 200), "{statuses:?}");
    let c = calls(&s);
    // Unbounded, all 30 would go home; bounded at 1.25 × (29/3 + 1), at most 14 can.
    let max = *c.iter().max().unwrap();
    assert!(max <= 14, "bound exceeded: {c:?}");
    assert_eq!(c.iter().sum::<usize>(), 30);
}

/// Waits (up to 3 s after `since`) until endpoint `i` of the first pool is out of rotation.
pub(crate) async fn out_of_rotation_within_3s(h: &Harness, i: usize, since: Instant) -> bool {
    let pool = &h.gw.state.pools[0];
    while since.elapsed() < Duration::from_secs(3) {
        if !pool.endpoints[i].is_up() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    !pool.endpoints[i].is_up()
}

#[tokio::test]
async fn a_killed_endpoint_leaves_rotation_and_clients_see_no_error() {
    let mut s = three(0).await;
    let h = gateway("round_robin", "", &[&s[0], &s[1], &s[2]]).await;
    for i in 0..6 {
        assert_eq!(
            h.post("/v1/chat/completions", chat(&format!("warm {i}")))
                .await
                .0,
            200
        );
    }
    let dead = s.remove(1);
    let killed = Instant::now();
    dead.shutdown().await;
    // Right away, before any health check noticed: retries hide the dead endpoint.
    for i in 0..12 {
        let (status, _, body) = h
            .post("/v1/chat/completions", chat(&format!("during {i}")))
            .await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    }
    assert!(
        out_of_rotation_within_3s(&h, 1, killed).await,
        "active checks did not take the dead endpoint out within 3 s"
    );
    for s in &s {
        s.clear();
    }
    for i in 0..30 {
        assert_eq!(
            h.post("/v1/chat/completions", chat(&format!("after {i}")))
                .await
                .0,
            200
        );
    }
    let c = calls(&s);
    assert_eq!(c.iter().sum::<usize>(), 30);
    assert!(
        c.iter().all(|&n| n >= 10),
        "the live endpoints share the load: {c:?}"
    );
    assert_eq!(h.gw.state.pools[0].healthy(), 2);
    let (status, _) = get(&format!("{}/readyz", h.admin_url())).await;
    assert_eq!(status, 200, "two endpoints left: still ready");
}

#[tokio::test]
async fn an_endpoint_failing_health_checks_gets_no_requests() {
    let s = [
        stub_with("gpu0", 0, None).await,
        stub_with("sick", 0, Some(503)).await,
        stub_with("gpu2", 0, None).await,
    ];
    let h = gateway("least_outstanding", "", &[&s[0], &s[1], &s[2]]).await;
    assert!(out_of_rotation_within_3s(&h, 1, Instant::now()).await);
    assert!(s[1].probes() >= 2, "it was probed");
    for i in 0..30 {
        assert_eq!(
            h.post("/v1/chat/completions", chat(&format!("q {i}")))
                .await
                .0,
            200
        );
    }
    assert_eq!(s[1].calls(), 0);
    assert_eq!(s[0].calls() + s[2].calls(), 30);
}

#[tokio::test]
async fn a_pool_with_every_endpoint_down_is_not_ready() {
    let s = [
        stub_with("a", 0, Some(503)).await,
        stub_with("b", 0, Some(503)).await,
    ];
    let h = gateway(
        "p2c",
        "health_interval_ms = 200\nrise = 1\nfall = 1",
        &[&s[0], &s[1]],
    )
    .await;
    let since = Instant::now();
    assert!(out_of_rotation_within_3s(&h, 0, since).await);
    assert!(out_of_rotation_within_3s(&h, 1, since).await);
    let (status, body) = get(&format!("{}/readyz", h.admin_url())).await;
    assert_eq!(status, 503, "{}", String::from_utf8_lossy(&body));
    let (status, headers, _) = h.post("/v1/chat/completions", chat("anyone?")).await;
    assert_eq!(status, 503);
    assert_eq!(headers["x-sovgate-error"], "pool_unavailable");
    assert_eq!(s[0].calls() + s[1].calls(), 0);
}

#[tokio::test]
async fn a_dead_endpoint_is_out_within_3s_and_back_once_it_recovers() {
    let mut s = three(0).await;
    let h = gateway("round_robin", "", &[&s[0], &s[1], &s[2]]).await;
    let pool = &h.gw.state.pools[0];
    let addr = s[1].addr();
    let dead = s.remove(1);
    let killed = Instant::now();
    dead.shutdown().await;
    assert!(
        out_of_rotation_within_3s(&h, 1, killed).await,
        "active checks did not take the dead endpoint out within 3 s"
    );
    let picks = pool.endpoints[1].picks();
    for i in 0..20 {
        let (status, _, _) = h
            .post("/v1/chat/completions", chat(&format!("down {i}")))
            .await;
        assert_eq!(status, 200);
    }
    assert_eq!(
        pool.endpoints[1].picks(),
        picks,
        "no attempt on a dead endpoint"
    );

    // The server comes back on the same address: `rise` good probes bring it back.
    let back = stub::start(
        StubConfig {
            name: "back".into(),
            ..StubConfig::default()
        },
        addr,
    )
    .await
    .unwrap();
    let revived = Instant::now();
    while !pool.endpoints[1].is_up() {
        assert!(
            revived.elapsed() < Duration::from_secs(5),
            "a recovered endpoint stayed out of rotation"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for i in 0..30 {
        let (status, _, _) = h
            .post("/v1/chat/completions", chat(&format!("up {i}")))
            .await;
        assert_eq!(status, 200);
    }
    assert_eq!(back.calls(), 10, "round robin gives it its third again");
    assert_eq!(h.gw.state.pools[0].healthy(), 3);
}
