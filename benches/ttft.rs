//! Time to first token through the gateway, against the same stub called directly, in one run.
//!
//! The gateway (`sovgate::proxy`) and a recording stub (`sovgate::stub`) run in this process on
//! 127.0.0.1 ephemeral ports, like the integration tests. Each iteration sends one streamed 2 KB
//! chat request on a kept-alive connection and stops the clock when the first frame carrying the
//! answer's text arrives; the rest of the stream is drained untimed. Scenarios:
//!
//! - `direct`: the client talks to the stub (OpenAI chat, `stream: true`): the baseline;
//! - `gateway-openai`: the same request through the gateway to an OpenAI-speaking pool;
//! - `gateway-anthropic-translated`: an Anthropic Messages request through the gateway to the
//!   same OpenAI-speaking pool (request and stream translated);
//! - `gateway-restore`: an OpenAI request whose email is pseudonymized on the way out; the stub
//!   echoes the placeholder and the gateway restores it in the stream.
//!
//! Added time to first token is a scenario's time minus `direct`'s. Before timing, a paced stub
//! (one SSE event every few milliseconds) checks chunk coalescing: the frames the client receives
//! against the events the upstream sent, printed per scenario. Run with
//! `cargo bench --bench ttft -- --warm-up-time 1 --measurement-time 3`.

// A benchmark is test code: a broken setup should stop it loudly.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod common;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use sovgate::stub::{StubConfig, StubHandle};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CONFIG: &str = r#"
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

[[pools]]
name = "gpu"
api = "openai"
endpoints = ["{LOCAL}"]

[[models]]
external = "gpt-4o*"
pool = "gpu"
model = "llama-3.1-70b-instruct"

[[models]]
external = "claude-*"
pool = "gpu"
model = "llama-3.1-70b-instruct"

[audit]
path = "audit.jsonl"
"#;

/// The stub's name: every answer starts with `[tok] `, which marks the first token.
const NAME: &str = "tok";
const MARK: &[u8] = b"[tok]";
const ASK: &str = "Write a two-line status note for the account team about this case.";
const ASK_EMAIL: &str = "Write a two-line status note and copy jane.doe@example.com on it.";

type HttpClient = Client<HttpConnector, Full<Bytes>>;

struct Scenario {
    name: &'static str,
    url: String,
    body: Bytes,
    anthropic: bool,
}

/// The 2 KB clean chat body with a short last user turn (the stub echoes it), streamed.
fn openai_body(ask: &str) -> Bytes {
    let mut v: serde_json::Value = serde_json::from_slice(common::CHAT_CLEAN_2K).unwrap();
    v["stream"] = true.into();
    v["messages"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"role": "user", "content": ask}));
    Bytes::from(v.to_string())
}

/// The same conversation as an Anthropic Messages request.
fn anthropic_body(ask: &str) -> Bytes {
    let v: serde_json::Value = serde_json::from_slice(&openai_body(ask)).unwrap();
    let msgs = v["messages"].as_array().unwrap();
    let system = msgs[0]["content"].clone();
    let rest: Vec<_> = msgs[1..].to_vec();
    let body = serde_json::json!({
        "model": "claude-3-5-sonnet-latest", "max_tokens": 512, "stream": true,
        "system": system, "messages": rest,
    });
    Bytes::from(body.to_string())
}

async fn stub(interval_ms: u64) -> StubHandle {
    sovgate::stub::start(
        StubConfig {
            name: NAME.into(),
            chunk_interval_ms: interval_ms,
            ..StubConfig::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap()
}

async fn gateway(local: &StubHandle, dir: &std::path::Path) -> sovgate::proxy::Running {
    let text = CONFIG.replace("{LOCAL}", &local.url());
    let config = sovgate::config::build("bench.toml", &text, dir).unwrap_or_else(|e| panic!("{e}"));
    let state = Arc::new(sovgate::cli::build_state(config).unwrap());
    sovgate::proxy::start(state).await.unwrap()
}

fn scenarios(stub: &StubHandle, gw: &sovgate::proxy::Running) -> Vec<Scenario> {
    let gw = format!("http://{}", gw.reverse.unwrap());
    vec![
        Scenario {
            name: "direct",
            url: format!("{}/v1/chat/completions", stub.url()),
            body: openai_body(ASK),
            anthropic: false,
        },
        Scenario {
            name: "gateway-openai",
            url: format!("{gw}/v1/chat/completions"),
            body: openai_body(ASK),
            anthropic: false,
        },
        Scenario {
            name: "gateway-anthropic-translated",
            url: format!("{gw}/v1/messages"),
            body: anthropic_body(ASK),
            anthropic: true,
        },
        Scenario {
            name: "gateway-restore",
            url: format!("{gw}/v1/chat/completions"),
            body: openai_body(ASK_EMAIL),
            anthropic: false,
        },
    ]
}

/// What one streamed request looked like from the client.
struct Seen {
    /// Until the response head arrived.
    head: Duration,
    ttft: Duration,
    frames: usize,
    /// Frames that carry a piece of the answer's text.
    text_frames: usize,
    text: Vec<u8>,
}

/// Whether a frame carries answer text: an OpenAI delta with non-empty content, or an
/// Anthropic `text_delta`.
fn carries_text(frame: &[u8]) -> bool {
    let finder = memchr::memmem::Finder::new(b"\"content\":\"");
    finder
        .find_iter(frame)
        .any(|i| frame.get(i + 11) != Some(&b'"'))
        || memchr::memmem::find(frame, b"\"text_delta\"").is_some()
}

async fn stream_once(client: &HttpClient, s: &Scenario) -> Seen {
    let mut req = http::Request::post(&s.url).header("content-type", "application/json");
    if s.anthropic {
        req = req.header("anthropic-version", "2023-06-01");
    }
    let start = Instant::now();
    let resp = client
        .request(req.body(Full::new(s.body.clone())).unwrap())
        .await
        .unwrap();
    let head = start.elapsed();
    assert_eq!(resp.status(), 200, "{}", s.name);
    let mut body = resp.into_body();
    let (mut ttft, mut frames, mut text_frames, mut text) = (None, 0, 0, Vec::new());
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.unwrap().into_data() else {
            continue;
        };
        frames += 1;
        text_frames += usize::from(carries_text(&data));
        text.extend_from_slice(&data);
        if ttft.is_none() && memchr::memmem::find(&text, MARK).is_some() {
            ttft = Some(start.elapsed());
        }
    }
    Seen {
        head,
        ttft: ttft.unwrap_or_else(|| panic!("{}: no answer text in the stream", s.name)),
        frames,
        text_frames,
        text,
    }
}

/// SSE events in a stream (`data:` lines), for comparing what was sent with what arrived.
fn events(text: &[u8]) -> usize {
    memchr::memmem::find_iter(text, b"data:").count()
}

/// Coalescing check on a paced stub: frames the client got vs events the upstream sent.
async fn coalescing(client: &HttpClient, dir: &std::path::Path) {
    let paced = stub(3).await;
    let gw = gateway(&paced, dir).await;
    eprintln!("chunk coalescing (upstream paced at one event per 3 ms):");
    for s in scenarios(&paced, &gw) {
        paced.clear();
        let seen = stream_once(client, &s).await;
        // What the upstream sent: replay the body it received straight to it.
        let sent_body = paced.requests()[0].body.clone();
        let upstream = stream_once(
            client,
            &Scenario {
                name: "replay",
                url: format!("{}/v1/chat/completions", paced.url()),
                body: sent_body,
                anthropic: false,
            },
        )
        .await;
        if s.name == "gateway-restore" {
            let text = String::from_utf8_lossy(&seen.text);
            assert!(text.contains("jane.doe@"), "the email was not restored");
            assert!(
                !text.contains('\u{27e6}'),
                "a placeholder reached the client"
            );
        }
        eprintln!(
            "  {:<30} upstream sent {:>3} events in {:>3} frames ({:>2} with text); \
             client got {:>3} events in {:>3} frames ({:>2} with text)",
            s.name,
            events(&upstream.text),
            upstream.frames,
            upstream.text_frames,
            events(&seen.text),
            seen.frames,
            seen.text_frames,
        );
    }
    gw.shutdown();
}

/// Medians over `n` requests of the time to the response head and to the first token: where
/// the added time is spent (before the upstream answers, or relaying its first chunk).
async fn split(client: &HttpClient, scenarios: &[Scenario], n: usize) {
    eprintln!("medians over {n} requests: response head / first token / difference");
    for s in scenarios {
        let (mut heads, mut firsts, mut gaps) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..n {
            let seen = stream_once(client, s).await;
            heads.push(seen.head);
            firsts.push(seen.ttft);
            gaps.push(seen.ttft - seen.head);
        }
        let median = |v: &mut Vec<Duration>| {
            v.sort_unstable();
            v[v.len() / 2].as_secs_f64() * 1e6
        };
        eprintln!(
            "  {:<30} {:>7.1} µs / {:>7.1} µs / {:>7.1} µs",
            s.name,
            median(&mut heads),
            median(&mut firsts),
            median(&mut gaps)
        );
    }
}

fn ttft(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    rt.block_on(coalescing(&client, dir.path()));

    let (upstream, gw) = rt.block_on(async {
        let s = stub(0).await;
        let g = gateway(&s, dir.path()).await;
        (s, g)
    });
    let all = scenarios(&upstream, &gw);
    rt.block_on(split(&client, &all, 500));
    let mut g = c.benchmark_group("ttft");
    for s in all {
        g.bench_function(s.name, |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        total += stream_once(&client, &s).await.ttft;
                    }
                    total
                })
            })
        });
    }
    g.finish();
    gw.shutdown();
}

criterion_group!(benches, ttft);
criterion_main!(benches);
