#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The response path through the real gateway in every framing: pseudonyms restored and response
//! rules applied while the stub sends its answer one byte per network frame; blocks that end each
//! stream with an error in its own framing; audit records that count both; concurrent requests
//! that keep their own values; a cut stream that stays cut.

use crate::support::*;
use bytes::Bytes;
use serde_json::{json, Value};
use sovgate::stub::{StubConfig, StubHandle};
use sovgate_core::sse::SseParser;

/// Response rules: a code name the answer must not show, a secret that ends the answer.
pub const OUTPUT_RULES: &str = r#"
[[rule]]
id = "out.falcon"
kind = "literal"
patterns = ["Falcon"]
action = "redact"
class = "internal"
scope = "response"
examples.match = ["Project Falcon"]

[[rule]]
id = "out.secret"
kind = "literal"
patterns = ["TOPSECRET"]
action = "block"
class = "privileged"
scope = "response"
examples.match = ["the TOPSECRET code"]
"#;

/// The test config plus the rules above and a Gemini pool.
pub fn config_with_output_rules(rules_dir: &std::path::Path) -> String {
    std::fs::write(rules_dir.join("output.toml"), OUTPUT_RULES).unwrap();
    let mut text = CONFIG.replace(
        "[rules]\nembedded = true",
        &format!(
            "[rules]\nembedded = true\ndirs = [\"{}\"]",
            rules_dir.display()
        ),
    );
    text.push_str(
        "\n[[pools]]\nname = \"gpu-gemini\"\napi = \"gemini\"\nendpoints = [\"{LOCAL}\"]\n\n[[models]]\nexternal = \"gemini-*\"\npool = \"gpu-gemini\"\n",
    );
    text
}

/// A gateway whose local stub sends streamed answers one byte per frame.
pub async fn harness(rules_dir: &std::path::Path, local: StubConfig) -> Harness {
    let local = sovgate::stub::start(local, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let external: StubHandle = sovgate::stub::start(
        StubConfig {
            name: "external".into(),
            ..StubConfig::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    Harness::with_stubs(&config_with_output_rules(rules_dir), local, external).await
}

pub fn bytewise() -> StubConfig {
    StubConfig {
        name: "local".into(),
        stream_chunk_chars: 3,
        frame_bytes: Some(1),
        chunk_interval_ms: 1,
        ..StubConfig::default()
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Framing {
    Chat,
    Responses,
    Anthropic,
    GeminiSse,
    GeminiArray,
}

const ALL: [Framing; 5] = [
    Framing::Chat,
    Framing::Responses,
    Framing::Anthropic,
    Framing::GeminiSse,
    Framing::GeminiArray,
];

fn request(f: Framing, prompt: &str) -> (&'static str, String) {
    match f {
        Framing::Chat => (
            "/v1/chat/completions",
            json!({"model": "gpt-4o", "stream": true, "messages": [{"role": "user", "content": prompt}]}).to_string(),
        ),
        Framing::Responses => (
            "/v1/responses",
            json!({"model": "gpt-4o", "stream": true, "input": prompt}).to_string(),
        ),
        Framing::Anthropic => (
            "/v1/messages",
            json!({"model": "claude-3-5-sonnet-latest", "max_tokens": 200, "stream": true, "messages": [{"role": "user", "content": prompt}]}).to_string(),
        ),
        Framing::GeminiSse => (
            "/v1beta/models/gemini-1.5-pro:streamGenerateContent?alt=sse",
            json!({"contents": [{"role": "user", "parts": [{"text": prompt}]}]}).to_string(),
        ),
        Framing::GeminiArray => (
            "/v1beta/models/gemini-1.5-pro:streamGenerateContent",
            json!({"contents": [{"role": "user", "parts": [{"text": prompt}]}]}).to_string(),
        ),
    }
}

/// Events (name, JSON) of an SSE answer; every event must parse.
pub fn sse_json(body: &[u8]) -> Vec<(Option<String>, Value)> {
    let mut p = SseParser::new(1 << 20);
    let evs = p.feed(body).unwrap();
    assert!(!p.has_partial(), "answer ends inside an event");
    evs.into_iter()
        .filter(|e| !e.comment_only && e.data != "[DONE]")
        .map(|e| {
            let v = serde_json::from_str(&e.data)
                .unwrap_or_else(|err| panic!("event is not JSON ({err}): {}", e.data));
            (e.event, v)
        })
        .collect()
}

/// What a client of this framing assembles from the answer.
fn client_text(f: Framing, body: &[u8]) -> String {
    if f == Framing::GeminiArray {
        let all: Vec<Value> = serde_json::from_slice(body).unwrap_or_else(|e| {
            panic!(
                "not one JSON array ({e}): {}",
                String::from_utf8_lossy(body)
            )
        });
        return all
            .iter()
            .filter_map(|c| c.pointer("/candidates/0/content/parts/0/text")?.as_str())
            .collect();
    }
    sse_json(body)
        .iter()
        .filter_map(|(_, v)| match f {
            Framing::Chat => v.pointer("/choices/0/delta/content")?.as_str(),
            Framing::Responses => (v["type"] == "response.output_text.delta")
                .then(|| v["delta"].as_str())
                .flatten(),
            Framing::Anthropic => v.pointer("/delta/text")?.as_str(),
            _ => v.pointer("/candidates/0/content/parts/0/text")?.as_str(),
        })
        .collect()
}

/// The `complete` audit record of the last request.
fn last_complete(h: &Harness) -> Value {
    h.audit_lines()
        .into_iter()
        .rev()
        .find(|l| l["event"] == "complete")
        .expect("a complete record")
}

#[tokio::test]
async fn every_framing_restores_and_redacts_with_a_frame_boundary_at_every_byte() {
    let dir = tempfile::tempdir().unwrap();
    let h = harness(dir.path(), bytewise()).await;
    let prompt = "Reply to jane.doe@example.com about Falcon kindly";
    for f in ALL {
        let (path, body) = request(f, prompt);
        let (status, _, answer) = h.post(path, body).await;
        assert_eq!(status, 200, "{f:?}: {}", String::from_utf8_lossy(&answer));
        let seen = h.local.requests().last().unwrap().body_str().into_owned();
        assert!(
            seen.contains("⟦EMAIL_1⟧") && seen.contains("Falcon") && !seen.contains("jane.doe"),
            "{f:?}: the model saw {seen}"
        );
        assert_eq!(
            client_text(f, &answer),
            "[local] Reply to jane.doe@example.com about [REDACTED:out.falcon] kindly",
            "{f:?}"
        );
        let raw = String::from_utf8_lossy(&answer);
        assert!(
            !raw.contains("Falcon") && !raw.contains('⟦'),
            "{f:?}: {raw}"
        );
        match f {
            Framing::Chat => assert!(raw.ends_with("data: [DONE]\n\n"), "{f:?}"),
            Framing::Anthropic => {
                assert_eq!(sse_json(&answer).last().unwrap().1["type"], "message_stop")
            }
            Framing::Responses => {
                let evs = sse_json(&answer);
                let seqs: Vec<u64> = evs
                    .iter()
                    .map(|(_, v)| v["sequence_number"].as_u64().unwrap())
                    .collect();
                assert_eq!(seqs, (0..seqs.len() as u64).collect::<Vec<_>>());
                let done = &evs.last().unwrap().1;
                assert_eq!(done["type"], "response.completed");
                let text = done.pointer("/response/output/0/content/0/text").unwrap();
                assert_eq!(
                    text,
                    "[local] Reply to jane.doe@example.com about [REDACTED:out.falcon] kindly"
                );
            }
            _ => {}
        }
        // Counts are per copy sent: the Responses API repeats the text in its `.done` events
        // (text, part, item) and in `response.completed`.
        let copies = if f == Framing::Responses { 5 } else { 1 };
        let rec = last_complete(&h);
        assert_eq!(rec["restored"], copies, "{f:?}: {rec}");
        assert_eq!(
            rec["output_findings"],
            json!([{"rule": "out.falcon", "action": "redact", "mode": "enforce", "count": copies}]),
            "{f:?}"
        );
        let line = rec.to_string();
        assert!(
            !line.contains("jane.doe") && !line.contains("Falcon"),
            "{line}"
        );
    }
    assert_eq!(h.external.calls(), 0);
}

#[tokio::test]
async fn a_complete_answer_is_restored_and_redacted_or_refused() {
    let dir = tempfile::tempdir().unwrap();
    let h = harness(dir.path(), bytewise()).await;
    let (status, _, answer) = h
        .post(
            "/v1/chat/completions",
            chat("Reply to jane.doe@example.com about Falcon kindly"),
        )
        .await;
    assert_eq!(status, 200);
    let v: Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(
        v["choices"][0]["message"]["content"],
        "[local] Reply to jane.doe@example.com about [REDACTED:out.falcon] kindly"
    );
    let rec = last_complete(&h);
    assert_eq!(
        (rec["restored"].clone(), rec["status"].clone()),
        (json!(1), json!(200))
    );

    let (status, _, answer) = h
        .post(
            "/v1/chat/completions",
            chat("Reply to jane.doe@example.com with TOPSECRET"),
        )
        .await;
    assert_eq!(status, 403);
    let v: Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(v["error"]["code"], "output_blocked", "{v}");
    assert!(!String::from_utf8_lossy(&answer).contains("TOPSECRET"));
    let rec = last_complete(&h);
    assert_eq!(rec["output_blocked"], "out.secret");
    assert_eq!(rec["status"], 403);
    assert!(rec["reason"]
        .as_str()
        .unwrap()
        .starts_with("output_blocked"));
    assert_eq!(h.external.calls(), 0);
}

#[tokio::test]
async fn a_block_ends_every_framing_with_its_own_error() {
    let dir = tempfile::tempdir().unwrap();
    let h = harness(dir.path(), bytewise()).await;
    for f in ALL {
        let (path, body) = request(f, "Reply to jane.doe@example.com with TOPSECRET at once");
        let (status, _, answer) = h.post(path, body).await;
        assert_eq!(
            status, 200,
            "{f:?}: the head was sent before the answer was read"
        );
        let raw = String::from_utf8_lossy(&answer);
        assert!(!raw.contains("TOPSECRET"), "{f:?}: {raw}");
        assert!(
            !raw.contains("[DONE]") && !raw.contains("message_stop"),
            "{f:?}"
        );
        assert!(!raw.contains("response.completed"), "{f:?}");
        let last = if f == Framing::GeminiArray {
            let all: Vec<Value> = serde_json::from_slice(&answer).unwrap();
            (None, all.last().unwrap().clone())
        } else {
            sse_json(&answer).last().unwrap().clone()
        };
        assert!(
            last.1.to_string().contains("rule out.secret"),
            "{f:?}: {raw}"
        );
        match f {
            Framing::Chat => assert_eq!(last.1["error"]["code"], "output_blocked"),
            Framing::Responses => {
                assert_eq!(last.0.as_deref(), Some("error"));
                assert_eq!(last.1["code"], "output_blocked");
            }
            Framing::Anthropic => {
                assert_eq!(last.0.as_deref(), Some("error"));
                assert_eq!(last.1["type"], "error");
            }
            _ => assert_eq!(last.1["error"]["code"], 403),
        }
        let rec = last_complete(&h);
        assert_eq!(rec["output_blocked"], "out.secret", "{f:?}: {rec}");
        assert!(!rec.to_string().contains("TOPSECRET"));
    }
}

#[tokio::test]
async fn concurrent_requests_never_see_each_others_values() {
    // Every request's vault calls its address ⟦EMAIL_1⟧: a restorer that looked at another
    // request's vault would hand out someone else's address.
    let dir = tempfile::tempdir().unwrap();
    let h = harness(
        dir.path(),
        StubConfig {
            name: "local".into(),
            stream_chunk_chars: 2,
            chunk_interval_ms: 2,
            ..StubConfig::default()
        },
    )
    .await;
    let url = h.url();
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let f = ALL[i % ALL.len()];
            let email = format!("user{i}@client{i}.example");
            let (path, body) = request(f, &format!("Write to {email} today"));
            let url = url.clone();
            tokio::spawn(async move {
                let (status, _, answer) =
                    post(&format!("{url}{path}"), Bytes::from(body), &[], false).await;
                (f, email, status, answer)
            })
        })
        .collect();
    for t in tasks {
        let (f, email, status, answer) = t.await.unwrap();
        assert_eq!(status, 200);
        let text = client_text(f, &answer);
        assert_eq!(text, format!("[local] Write to {email} today"), "{f:?}");
        let raw = String::from_utf8_lossy(&answer);
        assert_eq!(
            raw.matches("@client").count(),
            raw.matches(&email).count(),
            "{raw}"
        );
    }
    assert_eq!(h.local.requests().len(), 8);
    assert!(h
        .local
        .requests()
        .iter()
        .all(|r| !r.body_str().contains("@client")));
}

#[tokio::test]
async fn a_stream_cut_upstream_stays_cut_with_restoration_and_rules() {
    for f in [Framing::Chat, Framing::Responses, Framing::Anthropic] {
        // A fresh gateway each time: the cut ejects the pool endpoint.
        let dir = tempfile::tempdir().unwrap();
        let h = harness(
            dir.path(),
            StubConfig {
                name: "local".into(),
                stream_chunk_chars: 4,
                die_after_chunks: Some(4),
                ..StubConfig::default()
            },
        )
        .await;
        let (path, body) = request(
            f,
            "Reply to jane.doe@example.com about Falcon, with a long answer please",
        );
        let client: hyper_util::client::legacy::Client<_, http_body_util::Full<Bytes>> =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http();
        let req = http::Request::post(format!("{}{path}", h.url()))
            .header("content-type", "application/json")
            .body(http_body_util::Full::new(Bytes::from(body)))
            .unwrap();
        let resp = client.request(req).await.unwrap();
        use http_body_util::BodyExt;
        let mut body = resp.into_body();
        let (mut got, mut cut) = (Vec::new(), false);
        while let Some(frame) = body.frame().await {
            match frame {
                Ok(frame) => got.extend_from_slice(&frame.into_data().unwrap_or_default()),
                Err(_) => {
                    cut = true;
                    break;
                }
            }
        }
        let raw = String::from_utf8_lossy(&got);
        assert!(cut, "{f:?}: the client must see the cut: {raw}");
        assert!(
            !raw.contains("[DONE]")
                && !raw.contains("message_stop")
                && !raw.contains("response.completed"),
            "{f:?}: a cut stream must not end cleanly: {raw}"
        );
        let rec = last_complete(&h);
        assert_eq!(rec["reason"], "upstream_error", "{f:?}: {rec}");
    }
}
