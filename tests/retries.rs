//! Retries inside a local pool, end to end: which failures move a request to another endpoint,
//! how many times, within which time, and what a client sees when a server dies after the
//! answer has begun. Every pool here keeps every class local, and the external stand-in must
//! never see a call, whatever fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::pools::{calls, gateway, gateway_urls, stub_with};
use crate::support::*;
use bytes::Bytes;
use http_body_util::BodyExt;
use serde_json::Value;
use sovgate::stub::{self, StubConfig, StubHandle};
use std::time::Duration;

/// Active checks off, so only the retry logic decides where requests go.
const NO_CHECKS: &str = "health_interval_ms = 0";

/// A URL on which nothing listens: the port was bound, then released.
async fn dead_url() -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}")
}

async fn dying(name: &str) -> StubHandle {
    let cfg = StubConfig {
        name: name.into(),
        die_after_chunks: Some(2),
        stream_chunk_chars: 4,
        ..StubConfig::default()
    };
    stub::start(cfg, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn error_code(body: &[u8]) -> String {
    let v: Value = serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(body)));
    v["error"]["code"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_503_moves_the_request_to_another_endpoint_of_the_pool() {
    let s = [
        stub_with("busy", 0, Some(503)).await,
        stub_with("gpu1", 0, None).await,
        stub_with("gpu2", 0, None).await,
    ];
    let h = gateway("round_robin", NO_CHECKS, &[&s[0], &s[1], &s[2]]).await;
    let (status, headers, body) = h.post("/v1/chat/completions", chat("first")).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(calls(&s), vec![1, 1, 0], "tried busy, then the next one");
    assert_eq!(headers["x-sovgate-destination"], "local:gpu");
    assert_eq!(h.external.calls(), 0);
    // The 503 ejected `busy`: the next requests skip it.
    for i in 0..4 {
        assert_eq!(
            h.post("/v1/chat/completions", chat(&format!("{i}")))
                .await
                .0,
            200
        );
    }
    assert_eq!(s[0].calls(), 1);
    let completions: Vec<Value> = h
        .audit_lines()
        .into_iter()
        .filter(|l| l["event"] == "complete")
        .collect();
    assert_eq!(completions.len(), 5);
    assert!(
        completions
            .iter()
            .all(|c| c["destination"]["endpoint"] != s[0].url().as_str()),
        "the completion record names the endpoint that answered"
    );
}

#[tokio::test]
async fn at_most_two_retries_then_the_last_answer() {
    let s = [
        stub_with("b0", 0, Some(503)).await,
        stub_with("b1", 0, Some(503)).await,
        stub_with("b2", 0, Some(503)).await,
        stub_with("fine", 0, None).await,
    ];
    let h = gateway("round_robin", NO_CHECKS, &[&s[0], &s[1], &s[2], &s[3]]).await;
    let (status, _, body) = h.post("/v1/chat/completions", chat("anyone?")).await;
    assert_eq!(status, 503, "{}", String::from_utf8_lossy(&body));
    assert_eq!(calls(&s), vec![1, 1, 1, 0], "three attempts, no fourth");
    assert_eq!(h.external.calls(), 0, "never retried outside the pool");
}

#[tokio::test]
async fn refused_connections_retry_and_a_dead_pool_never_goes_external() {
    let live = stub_with("live", 0, None).await;
    let urls = [dead_url().await, dead_url().await, live.url()];
    let h = gateway_urls("round_robin", NO_CHECKS, &urls).await;
    let (status, _, body) = h.post("/v1/chat/completions", chat("hello")).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(live.calls(), 1);

    let urls = [dead_url().await, dead_url().await];
    let h = gateway_urls("p2c", NO_CHECKS, &urls).await;
    let (status, headers, body) = h.post("/v1/chat/completions", chat("hello")).await;
    assert_eq!(status, 503, "{}", String::from_utf8_lossy(&body));
    assert_eq!(error_code(&body), "pool_unavailable");
    assert_eq!(headers["retry-after"], "1");
    assert_eq!(
        h.external.calls(),
        0,
        "a local class was sent to the provider"
    );
    assert_eq!(h.local.calls(), 0);
}

#[tokio::test]
async fn no_retry_starts_after_the_retry_budget() {
    // The first endpoint takes 400 ms to say 503; the budget is spent by then.
    let s = [
        stub_with("slow-busy", 400, Some(503)).await,
        stub_with("fine", 0, None).await,
    ];
    let extra = format!("{NO_CHECKS}\nretry_budget_ms = 150");
    let h = gateway("round_robin", &extra, &[&s[0], &s[1]]).await;
    let (status, _, body) = h.post("/v1/chat/completions", chat("late")).await;
    assert_eq!(status, 503, "{}", String::from_utf8_lossy(&body));
    assert_eq!(error_code(&body), "pool_unavailable");
    assert_eq!(calls(&s), vec![1, 0]);

    // The same pool with the default budget retries.
    let s = [
        stub_with("slow-busy", 400, Some(503)).await,
        stub_with("fine", 0, None).await,
    ];
    let h = gateway("round_robin", NO_CHECKS, &[&s[0], &s[1]]).await;
    assert_eq!(h.post("/v1/chat/completions", chat("late")).await.0, 200);
    assert_eq!(calls(&s), vec![1, 1]);
}

/// Reads a response to the end: the bytes that arrived, and whether the body failed.
async fn read_all(url: &str, body: Value) -> (u16, Vec<u8>, bool) {
    let client: hyper_util::client::legacy::Client<_, http_body_util::Full<Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http();
    let req = http::Request::post(url)
        .header("content-type", "application/json")
        .body(http_body_util::Full::new(Bytes::from(body.to_string())))
        .unwrap();
    let resp = client.request(req).await.unwrap();
    let status = resp.status().as_u16();
    let mut body = resp.into_body();
    let mut got = Vec::new();
    while let Some(f) = body.frame().await {
        match f {
            Ok(f) => got.extend_from_slice(&f.into_data().unwrap_or_default()),
            Err(_) => return (status, got, true),
        }
    }
    (status, got, false)
}

#[tokio::test]
async fn a_server_dying_mid_answer_is_never_retried_and_never_ends_cleanly() {
    let d = dying("dying").await;
    let fine = stub_with("fine", 0, None).await;
    let h = gateway("round_robin", NO_CHECKS, &[&d, &fine]).await;
    let url = format!("{}/v1/chat/completions", h.url());
    let ask = |stream: bool| {
        serde_json::json!({"model": "gpt-4o", "stream": stream, "messages": [
            {"role": "user", "content": "a long answer please, with many many words in it"}]})
    };
    // Native OpenAI stream, relayed as it comes: the first chunks reached the client.
    let (status, got, cut) = read_all(&url, ask(true)).await;
    assert_eq!(status, 200);
    let text = String::from_utf8_lossy(&got);
    assert!(text.contains("data: "), "first chunks relayed: {text}");
    assert!(
        !text.contains("[DONE]"),
        "a cut stream ended cleanly: {text}"
    );
    assert!(cut, "the client must see the stream abort: {text}");
    assert_eq!(
        (d.calls(), fine.calls()),
        (1, 0),
        "no retry after the first byte"
    );

    // Wait out the passive ejection, then a plain answer cut in half.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (status, got, cut) = loop {
        let r = read_all(&url, ask(false)).await;
        if d.calls() == 2 {
            break r;
        }
    };
    assert_eq!(status, 200);
    assert!(cut, "half a JSON body must not look complete");
    assert!(serde_json::from_slice::<Value>(&got).is_err());
    assert_eq!(d.calls(), 2);
    assert_eq!(h.external.calls(), 0);
    let errors = h
        .audit_lines()
        .into_iter()
        .filter(|l| l["event"] == "complete" && l["reason"] == "upstream_error")
        .count();
    assert_eq!(
        errors, 2,
        "both cut answers are on record as upstream errors"
    );
}

#[tokio::test]
async fn an_anthropic_pool_dying_mid_stream_gives_an_openai_client_an_error() {
    let d = dying("dying").await;
    let external = stub_with("external", 0, None).await;
    let h = Harness::with_stubs(POOL_CONFIG_ANTHROPIC, d, external).await;
    let body = serde_json::json!({"model": "gpt-4o", "stream": true, "messages": [
        {"role": "user", "content": "a long answer please, with many many words in it"}]});
    let (status, got, cut) = read_all(&format!("{}/v1/chat/completions", h.url()), body).await;
    assert_eq!(status, 200);
    let text = String::from_utf8_lossy(&got);
    assert!(!text.contains("[DONE]"), "{text}");
    assert!(
        cut || text.contains("\"error\""),
        "an explicit error or an aborted stream: {text}"
    );
    assert_eq!(h.local.calls(), 1);
    assert_eq!(h.local.requests()[0].path, "/v1/messages");
    assert_eq!(h.external.calls(), 0);
}

/// Every class local, to one Anthropic-speaking pool.
const POOL_CONFIG_ANTHROPIC: &str = r#"
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
name = "claude-local"
api = "anthropic"
endpoints = ["{LOCAL}"]
health_interval_ms = 0

[[models]]
external = "gpt-4o*"
pool = "claude-local"
model = "local-claude"

[audit]
path = "audit.jsonl"
"#;
