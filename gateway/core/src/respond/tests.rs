#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::sse::SseParser;

fn plan(family: Family, op: Op, translation: Option<Translation>, vault: Vault) -> ResponsePlan {
    ResponsePlan {
        family,
        op,
        translation,
        vault: Arc::new(vault),
        client_model: "claude-3-5-sonnet".into(),
        request_id: "r1".into(),
        include_usage: false,
        output: None,
    }
}

fn vault_with_email() -> (Vault, String) {
    let mut v = Vault::new();
    let p = v
        .placeholder_for("EMAIL", "jane.doe@example.com")
        .to_owned();
    (v, p)
}

fn events(bytes: &[u8]) -> Vec<crate::sse::SseEvent> {
    let mut p = SseParser::new(1 << 20);
    let mut evs = p.feed(bytes).unwrap();
    evs.extend(p.finish());
    evs
}

#[test]
fn pairs() {
    assert_eq!(
        Translation::between(Family::OpenAi, Op::ChatCompletions, Family::OpenAi),
        Ok(None)
    );
    assert_eq!(
        Translation::between(Family::Azure, Op::ChatCompletions, Family::OpenAi),
        Ok(None)
    );
    assert_eq!(
        Translation::between(Family::Anthropic, Op::Messages, Family::OpenAi),
        Ok(Some(Translation::AnthropicToOpenAi))
    );
    assert_eq!(
        Translation::between(Family::OpenAi, Op::ChatCompletions, Family::Anthropic),
        Ok(Some(Translation::OpenAiToAnthropic))
    );
    assert!(Translation::between(Family::Gemini, Op::GenerateContent, Family::OpenAi).is_err());
    assert!(Translation::between(Family::OpenAi, Op::Embeddings, Family::Anthropic).is_err());
}

#[test]
fn anthropic_client_openai_pool_full_body_translated_and_restored() {
    let (v, p) = vault_with_email();
    let plan = plan(
        Family::Anthropic,
        Op::Messages,
        Some(Translation::AnthropicToOpenAi),
        v,
    );
    let upstream = serde_json::json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "llama",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": format!("Write to {p}.")}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
    });
    let (out, n) = plan
        .full_body(200, upstream.to_string().as_bytes())
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(n, 1);
    assert_eq!(v["type"], "message");
    assert_eq!(v["content"][0]["text"], "Write to jane.doe@example.com.");
    assert_eq!(v["stop_reason"], "end_turn");
    assert_eq!(v["model"], "claude-3-5-sonnet");
}

#[test]
fn upstream_errors_are_translated() {
    let plan = plan(
        Family::Anthropic,
        Op::Messages,
        Some(Translation::AnthropicToOpenAi),
        Vault::new(),
    );
    let (out, _) = plan
        .full_body(
            400,
            br#"{"error":{"message":"bad model","type":"invalid_request_error"}}"#,
        )
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "invalid_request_error");
}

#[test]
fn openai_stream_to_anthropic_events_with_placeholder_split_at_every_position() {
    let (v, p) = vault_with_email();
    let text = format!("Mail {p} now");
    let plan = plan(
        Family::Anthropic,
        Op::Messages,
        Some(Translation::AnthropicToOpenAi),
        v,
    );
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for &(split, _) in chars.iter().skip(1) {
        let chunk = |t: &str| {
            format!(
                "data: {}\n\n",
                serde_json::json!({"id":"c","object":"chat.completion.chunk","created":1,"model":"llama","choices":[{"index":0,"delta":{"content":t},"finish_reason":null}]})
            )
        };
        let stream = format!(
            "{}{}{}data: {}\n\ndata: [DONE]\n\n",
            chunk(""),
            chunk(&text[..split]),
            chunk(&text[split..]),
            serde_json::json!({"id":"c","object":"chat.completion.chunk","created":1,"model":"llama","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})
        );
        let mut stage = plan.sse_stage();
        let bytes = stream.as_bytes();
        let mut out = Vec::new();
        // Feed in awkward pieces too.
        for piece in bytes.chunks(7) {
            out.extend(stage.push(piece).unwrap());
        }
        out.extend(stage.finish());
        let evs = events(&out);
        let names: Vec<&str> = evs.iter().filter_map(|e| e.event.as_deref()).collect();
        assert_eq!(names.first(), Some(&"message_start"));
        assert_eq!(names.last(), Some(&"message_stop"), "split {split}");
        let mut got = String::new();
        for e in &evs {
            let d: serde_json::Value = serde_json::from_str(&e.data).unwrap();
            if d["type"] == "content_block_delta" {
                got.push_str(d["delta"]["text"].as_str().unwrap());
            }
        }
        assert_eq!(got, "Mail jane.doe@example.com now", "split {split}");
        assert_eq!(stage.restored(), 1);
    }
}

#[test]
fn passthrough_openai_stream_restores_without_translation() {
    let (v, p) = vault_with_email();
    let plan = plan(Family::OpenAi, Op::ChatCompletions, None, v);
    let mid = p.len() / 2;
    let mid = (mid..p.len()).find(|&i| p.is_char_boundary(i)).unwrap();
    let c = |t: &str| {
        format!(
            "data: {}\n\n",
            serde_json::json!({"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":t}}]})
        )
    };
    let stream = format!(
        "{}{}data: [DONE]\n\n",
        c(&format!("to {}", &p[..mid])),
        c(&format!("{} ok", &p[mid..]))
    );
    let mut stage = plan.sse_stage();
    let mut out = stage.push(stream.as_bytes()).unwrap();
    out.extend(stage.finish());
    let text: String = events(&out)
        .iter()
        .filter(|e| e.data != "[DONE]")
        .map(|e| {
            serde_json::from_str::<serde_json::Value>(&e.data).unwrap()["choices"][0]["delta"]
                ["content"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    assert_eq!(text, "to jane.doe@example.com ok");
    assert!(String::from_utf8_lossy(&out).ends_with("data: [DONE]\n\n"));
}

#[test]
fn cut_translated_stream_ends_with_error_event() {
    let plan = plan(
        Family::Anthropic,
        Op::Messages,
        Some(Translation::AnthropicToOpenAi),
        Vault::new(),
    );
    let mut stage = plan.sse_stage();
    let chunk = serde_json::json!({"id":"c","object":"chat.completion.chunk","created":1,"model":"llama","choices":[{"index":0,"delta":{"content":"partial"},"finish_reason":null}]});
    let mut out = stage.push(format!("data: {chunk}\n\n").as_bytes()).unwrap();
    out.extend(stage.finish());
    let evs = events(&out);
    assert_eq!(evs.last().and_then(|e| e.event.as_deref()), Some("error"));
    assert!(!evs
        .iter()
        .any(|e| e.event.as_deref() == Some("message_stop")));
}
