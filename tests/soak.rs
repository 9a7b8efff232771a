//! Soak: 20,000 requests, 32 at a time, over a pool of four stubs, one of them killed halfway.
//! None may be lost: every request gets an answer or an explicit error (an error status with an
//! error body, or a stream the client sees abort), never a transport failure and never a stream
//! that ends cleanly without its end marker. The audit log holds exactly one final record per
//! request, and from 3 s after the kill on, no request is sent to the dead endpoint.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::pools::{gateway, stub_with};
use crate::support::*;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use sovgate::stub::StubHandle;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::watch;

const TOTAL: usize = 20_000;
const CONCURRENCY: usize = 32;
/// The request whose sender kills the victim.
const KILL_AT: usize = TOTAL / 2;
/// Requests from here on are sent only once 3 s have passed since the kill.
const LATE_FROM: usize = TOTAL * 9 / 10;
/// Every this-many-th request streams.
const STREAM_EVERY: usize = 8;
const VICTIM: usize = 1;

#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Answer,
    /// An error status with an error body in the API's shape.
    Refused(u16),
    /// A stream (or body) the client saw fail.
    Aborted,
    /// Lost: a transport failure, or a stream that ended cleanly without `[DONE]`.
    Lost(String),
}

struct Done {
    index: usize,
    request_id: String,
    outcome: Outcome,
}

type HttpClient = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

async fn one(client: &HttpClient, url: &str, index: usize) -> Done {
    let stream = index.is_multiple_of(STREAM_EVERY);
    let body = serde_json::json!({"model": "gpt-4o", "stream": stream,
        "messages": [{"role": "user", "content": format!("soak request {index}")}]});
    let req = http::Request::post(url)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    let done = |request_id: String, outcome| Done {
        index,
        request_id,
        outcome,
    };
    let resp = match client.request(req).await {
        Ok(r) => r,
        Err(e) => return done(String::new(), Outcome::Lost(format!("transport: {e}"))),
    };
    let status = resp.status().as_u16();
    let id = resp
        .headers()
        .get("x-sovgate-request-id")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let mut body = resp.into_body();
    let mut got = Vec::new();
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(f) => got.extend_from_slice(&f.into_data().unwrap_or_default()),
            Err(_) => return done(id, Outcome::Aborted),
        }
    }
    let outcome = if status != 200 {
        match serde_json::from_slice::<Value>(&got) {
            Ok(v) if v["error"]["message"].is_string() => Outcome::Refused(status),
            _ => Outcome::Lost(format!("{status} without an error body")),
        }
    } else if stream {
        let text = String::from_utf8_lossy(&got);
        if text.ends_with("data: [DONE]\n\n") {
            Outcome::Answer
        } else {
            Outcome::Lost(format!("stream ended cleanly without [DONE]: {text}"))
        }
    } else {
        match serde_json::from_slice::<Value>(&got) {
            Ok(v) if v["choices"][0]["message"]["content"].is_string() => Outcome::Answer,
            _ => Outcome::Lost(format!(
                "200 without an answer: {}",
                String::from_utf8_lossy(&got)
            )),
        }
    };
    done(id, outcome)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_20000_requests_with_an_endpoint_killed_midway_loses_none() {
    let mut stubs = Vec::new();
    for i in 0..4 {
        stubs.push(stub_with(&format!("gpu{i}"), 0, None).await);
    }
    // Default health checks (1 s interval, fall 2): the 3 s promise is the default's.
    let h = gateway("p2c", "", &stubs.iter().collect::<Vec<_>>()).await;
    let dead_url = stubs[VICTIM].url();
    let victim: Mutex<Option<StubHandle>> = Mutex::new(Some(stubs.remove(VICTIM)));
    let victim = Arc::new(victim);
    let pool = Arc::clone(&h.gw.state.pools[0]);
    let killed_at: Arc<OnceLock<Instant>> = Arc::default();
    // Picks of the dead endpoint and its health verdict, 3 s after the kill.
    let (late_tx, late_rx) = watch::channel(None::<(u64, bool)>);
    let observer = {
        let (pool, killed_at) = (Arc::clone(&pool), Arc::clone(&killed_at));
        tokio::spawn(async move {
            let killed = loop {
                if let Some(t) = killed_at.get() {
                    break *t;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            };
            tokio::time::sleep_until((killed + Duration::from_secs(3)).into()).await;
            let e = &pool.endpoints[VICTIM];
            late_tx.send_replace(Some((e.picks(), e.is_up())));
        })
    };

    // No Nagle: small request bodies would otherwise wait on delayed ACKs.
    let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
    connector.set_nodelay(true);
    let client: HttpClient = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(CONCURRENCY)
        .build(connector);
    let url = format!("{}/v1/chat/completions", h.url());
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..CONCURRENCY {
        let (client, url, next) = (client.clone(), url.clone(), Arc::clone(&next));
        let (victim, killed_at, mut late) =
            (Arc::clone(&victim), Arc::clone(&killed_at), late_rx.clone());
        workers.push(tokio::spawn(async move {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= TOTAL {
                    return done;
                }
                if i == KILL_AT {
                    let v = victim.lock().unwrap().take().unwrap();
                    killed_at.set(Instant::now()).unwrap();
                    v.shutdown().await;
                }
                if i >= LATE_FROM {
                    late.wait_for(Option::is_some).await.unwrap();
                }
                done.push(one(&client, &url, i).await);
            }
        }));
    }
    let mut results = Vec::with_capacity(TOTAL);
    for w in workers {
        results.extend(w.await.unwrap());
    }
    let elapsed = started.elapsed();
    observer.await.unwrap();

    // None lost: every request accounted for, as an answer or an explicit error.
    assert_eq!(results.len(), TOTAL);
    let lost: Vec<String> = results
        .iter()
        .filter_map(|d| match &d.outcome {
            Outcome::Lost(why) => Some(format!("#{}: {why}", d.index)),
            _ => None,
        })
        .collect();
    assert!(
        lost.is_empty(),
        "{} lost: {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
    let answered = results
        .iter()
        .filter(|d| d.outcome == Outcome::Answer)
        .count();
    let refused = results
        .iter()
        .filter(|d| matches!(d.outcome, Outcome::Refused(_)))
        .count();
    let aborted = results
        .iter()
        .filter(|d| d.outcome == Outcome::Aborted)
        .count();
    assert_eq!(answered + refused + aborted, TOTAL);
    eprintln!(
        "soak: {TOTAL} requests in {elapsed:?}: {answered} answered, {refused} refused, \
         {aborted} aborted"
    );
    // Only requests in flight on the victim when it died may fail; retries hide the rest.
    assert!(
        refused + aborted <= CONCURRENCY,
        "{refused} refused + {aborted} aborted"
    );

    // Out of rotation by 3 s after the kill, and never tried again.
    let (picks_at_3s, up_at_3s) = late_rx.borrow().unwrap();
    assert!(
        !up_at_3s,
        "the dead endpoint was still in rotation 3 s after the kill"
    );
    assert_eq!(
        pool.endpoints[VICTIM].picks(),
        picks_at_3s,
        "a request was sent to the dead endpoint more than 3 s after it died"
    );
    assert!(results
        .iter()
        .filter(|d| d.index >= LATE_FROM)
        .all(|d| d.outcome == Outcome::Answer));

    // The audit log: one final record per request, naming a live endpoint for late ones.
    let ids: HashMap<&str, usize> = results
        .iter()
        .map(|d| (d.request_id.as_str(), d.index))
        .collect();
    assert_eq!(
        ids.len(),
        TOTAL,
        "every response carries its own request id"
    );
    let lines = audit_settled(&h, TOTAL).await;
    let mut finals: HashMap<String, usize> = HashMap::new();
    for l in &lines {
        let id = l["request_id"].as_str().unwrap();
        let index = *ids
            .get(id)
            .unwrap_or_else(|| panic!("audit record for an unknown request: {l}"));
        if is_final(l) {
            *finals.entry(id.to_owned()).or_default() += 1;
            if index >= LATE_FROM {
                assert_ne!(l["destination"]["endpoint"], dead_url.as_str(), "{l}");
            }
        }
    }
    assert_eq!(finals.len(), TOTAL, "a request has no final audit record");
    assert!(
        finals.values().all(|&n| n == 1),
        "a request was audited twice"
    );
    assert_eq!(h.external.calls(), 0);
}

/// A request's last record: its completion, or its refusal.
fn is_final(l: &Value) -> bool {
    l["event"] == "complete" || l["action"] == "refuse"
}

/// The audit log once it holds `n` final records (completion records of bodies that just ended
/// may still be on their way), or after 10 s.
async fn audit_settled(h: &Harness, n: usize) -> Vec<Value> {
    let until = Instant::now() + Duration::from_secs(10);
    let path = h.dir.path().join("audit.jsonl");
    loop {
        // A line being appended right now is skipped, not misread.
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let lines: Vec<Value> = text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        if lines.iter().filter(|l| is_final(l)).count() >= n || Instant::now() > until {
            return lines;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
