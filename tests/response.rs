#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The response path through the real gateway: pseudonyms restored for the client (the model only
//! ever saw placeholders), and Anthropic clients served by an OpenAI-only pool.

use crate::support::*;
use bytes::Bytes;
use serde_json::{json, Value};
use sovgate_core::sse::SseParser;

fn sse_events(body: &[u8]) -> Vec<sovgate_core::sse::SseEvent> {
    let mut p = SseParser::new(1 << 20);
    let mut evs = p.feed(body).unwrap();
    evs.extend(p.finish());
    evs
}

#[tokio::test]
async fn pseudonyms_restored_in_answers_but_never_seen_by_the_model() {
    let h = Harness::start().await;
    let (status, _, answer) = h
        .post(
            "/v1/chat/completions",
            chat("Reply to jane.doe@example.com kindly"),
        )
        .await;
    assert_eq!(status, 200);
    let seen = h.local.requests()[0].body_str().into_owned();
    assert!(
        seen.contains("⟦EMAIL_1⟧") && !seen.contains("jane.doe"),
        "{seen}"
    );
    let v: Value = serde_json::from_slice(&answer).unwrap();
    let text = v["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(
        text.contains("jane.doe@example.com") && !text.contains('⟦'),
        "{text}"
    );
}

#[tokio::test]
async fn pseudonyms_restored_in_streams() {
    let h = Harness::start().await;
    let body = json!({"model": "gpt-4o", "stream": true, "messages": [{"role": "user", "content": "Reply to jane.doe@example.com kindly"}]});
    let (status, headers, answer) = h.post("/v1/chat/completions", body.to_string()).await;
    assert_eq!(status, 200);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let evs = sse_events(&answer);
    assert_eq!(evs.last().unwrap().data, "[DONE]");
    let text: String = evs
        .iter()
        .filter(|e| e.data != "[DONE]")
        .filter_map(|e| {
            serde_json::from_str::<Value>(&e.data).unwrap()["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert!(
        text.contains("jane.doe@example.com") && !text.contains('⟦'),
        "{text}"
    );
    assert!(h.local.requests()[0].body_str().contains("⟦EMAIL_1⟧"));
}

async fn anthropic_on_openai_pool() -> Harness {
    Harness::with_config(&CONFIG.replace("pool = \"gpu-anthropic\"", "pool = \"gpu\"")).await
}

#[tokio::test]
async fn anthropic_client_served_by_openai_pool() {
    let h = anthropic_on_openai_pool().await;
    let body = json!({"model": "claude-3-5-sonnet-latest", "max_tokens": 100, "system": "Be brief.",
        "messages": [{"role": "user", "content": "Attorney-client privileged: summarize the memo"}]});
    let (status, _, answer) = h.post("/v1/messages", body.to_string()).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    assert_eq!(h.external.calls(), 0);
    let got = &h.local.requests()[0];
    assert_eq!(got.path, "/v1/chat/completions");
    let sent: Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(sent["model"], "local-claude");
    assert_eq!(
        sent["messages"][0],
        json!({"role": "system", "content": "Be brief."})
    );
    let v: Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(v["type"], "message");
    assert_eq!(v["model"], "claude-3-5-sonnet-latest");
    assert!(v["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains("summarize the memo"));
}

#[tokio::test]
async fn anthropic_stream_served_by_openai_pool_with_restoration() {
    let h = anthropic_on_openai_pool().await;
    let body = json!({"model": "claude-3-5-sonnet-latest", "max_tokens": 100, "stream": true,
        "messages": [{"role": "user", "content": "privileged and confidential: email jane.doe@example.com"}]});
    let (status, _, answer) = post(
        &format!("{}/v1/messages", h.url()),
        Bytes::from(body.to_string()),
        &[],
        true,
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    let evs = sse_events(&answer);
    let names: Vec<&str> = evs.iter().filter_map(|e| e.event.as_deref()).collect();
    assert_eq!(names.first(), Some(&"message_start"), "{names:?}");
    assert_eq!(names.last(), Some(&"message_stop"), "{names:?}");
    let text: String = evs
        .iter()
        .filter(|e| e.event.as_deref() == Some("content_block_delta"))
        .map(|e| {
            serde_json::from_str::<Value>(&e.data).unwrap()["delta"]["text"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert!(text.contains("jane.doe@example.com"), "{text}");
    let seen = h.local.requests()[0].body_str().into_owned();
    assert!(
        !seen.contains("jane.doe") && seen.contains("\"stream\":true"),
        "{seen}"
    );
    assert_eq!(h.external.calls(), 0);
}

#[tokio::test]
async fn upstream_cut_mid_stream_is_visible_to_the_client() {
    let local = sovgate::stub::start(
        sovgate::stub::StubConfig {
            name: "dying".into(),
            die_after_chunks: Some(2),
            ..Default::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let external = sovgate::stub::start(
        sovgate::stub::StubConfig::default(),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let h = Harness::with_stubs(
        &CONFIG.replace("pool = \"gpu-anthropic\"", "pool = \"gpu\""),
        local,
        external,
    )
    .await;
    let body = json!({"model": "claude-3-5-sonnet-latest", "max_tokens": 100, "stream": true,
        "messages": [{"role": "user", "content": "privileged and confidential: a long answer please, with many many words in it"}]});
    let client: hyper_util::client::legacy::Client<_, http_body_util::Full<Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http();
    let req = http::Request::post(format!("{}/v1/messages", h.url()))
        .header("content-type", "application/json")
        .body(http_body_util::Full::new(Bytes::from(body.to_string())))
        .unwrap();
    let resp = client.request(req).await.unwrap();
    use http_body_util::BodyExt;
    let mut body = resp.into_body();
    let mut got = Vec::new();
    let mut cut = false;
    while let Some(f) = body.frame().await {
        match f {
            Ok(f) => got.extend_from_slice(&f.into_data().unwrap_or_default()),
            Err(_) => {
                cut = true;
                break;
            }
        }
    }
    let evs = sse_events(&got);
    assert!(
        !evs.iter()
            .any(|e| e.event.as_deref() == Some("message_stop")),
        "a cut stream must not end cleanly"
    );
    assert!(
        cut || evs.iter().any(|e| e.event.as_deref() == Some("error")),
        "client must see the cut: {}",
        String::from_utf8_lossy(&got)
    );
}
