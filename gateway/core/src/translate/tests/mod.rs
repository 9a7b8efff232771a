//! Tests for the translation layer, one file per translator, plus round trips.
//!
//! The stream tests replay each translator's output through a checker that enforces what the
//! SDKs rely on (see [`anthropic_accumulate`] and [`openai_accumulate`]), so a test fails on an
//! out-of-order event, a wrong index or a missing field, not only on a wrong string.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod errors;
mod request_to_anthropic;
mod request_to_openai;
mod response_to_anthropic;
mod response_to_openai;
mod round_trip;
mod stream_a;
mod stream_o;

use serde_json::{json, Map, Value};

use super::SseOut;

/// Replays Anthropic SSE events the way the `anthropic` SDK's message accumulator does and returns
/// the final message. Panics on anything the SDK would reject or mis-assemble: an event before
/// `message_start`, a `data.type` that differs from the event name, a block index that is not the
/// next position, a delta to a block that is not open, a block left open, `partial_json` that does
/// not concatenate to a JSON object, or anything after `message_stop`.
pub(super) fn anthropic_accumulate(events: &[SseOut]) -> Value {
    let mut message: Option<Value> = None;
    let mut open: Option<usize> = None;
    let mut json_bufs: Vec<String> = Vec::new();
    let mut stopped = false;
    for e in events {
        assert!(!stopped, "event after message_stop: {e:?}");
        let name = e.event.as_deref().expect("Anthropic events are named");
        let data: Value = serde_json::from_str(&e.data).expect("event data is JSON");
        assert_eq!(data["type"], name, "data.type must equal the event name");
        if name == "ping" {
            continue;
        }
        if name == "message_start" {
            assert!(message.is_none(), "second message_start");
            let m = data["message"].clone();
            for key in [
                "id",
                "type",
                "role",
                "model",
                "content",
                "stop_reason",
                "stop_sequence",
                "usage",
            ] {
                assert!(m.get(key).is_some(), "message_start.message lacks {key}");
            }
            assert_eq!(m["type"], "message");
            assert_eq!(m["role"], "assistant");
            assert_eq!(m["content"], json!([]));
            assert!(m["usage"]["input_tokens"].is_u64() && m["usage"]["output_tokens"].is_u64());
            message = Some(m);
            continue;
        }
        assert_ne!(name, "error", "stream carried an error event: {}", e.data);
        let msg = message.as_mut().expect("event before message_start");
        let content = msg["content"].as_array_mut().unwrap();
        match name {
            "content_block_start" => {
                assert!(open.is_none(), "block started while block {open:?} is open");
                let index = data["index"].as_u64().unwrap() as usize;
                assert_eq!(index, content.len(), "block indexes must be 0, 1, 2, ...");
                let block = data["content_block"].clone();
                match block["type"].as_str().unwrap() {
                    "text" => assert_eq!(block["text"], ""),
                    "tool_use" => {
                        assert!(block["id"].as_str().is_some_and(|s| !s.is_empty()));
                        assert!(block["name"].as_str().is_some_and(|s| !s.is_empty()));
                        assert_eq!(block["input"], json!({}));
                    }
                    other => panic!("unexpected block type {other}"),
                }
                content.push(block);
                json_bufs.push(String::new());
                open = Some(index);
            }
            "content_block_delta" => {
                let index = data["index"].as_u64().unwrap() as usize;
                assert_eq!(open, Some(index), "delta to a block that is not open");
                let delta = &data["delta"];
                match delta["type"].as_str().unwrap() {
                    "text_delta" => {
                        assert_eq!(content[index]["type"], "text");
                        let t = format!(
                            "{}{}",
                            content[index]["text"].as_str().unwrap(),
                            delta["text"].as_str().unwrap()
                        );
                        content[index]["text"] = t.into();
                    }
                    "input_json_delta" => {
                        assert_eq!(content[index]["type"], "tool_use");
                        json_bufs[index].push_str(delta["partial_json"].as_str().unwrap());
                    }
                    other => panic!("unexpected delta type {other}"),
                }
            }
            "content_block_stop" => {
                let index = data["index"].as_u64().unwrap() as usize;
                assert_eq!(open, Some(index), "stop of a block that is not open");
                if content[index]["type"] == "tool_use" && !json_bufs[index].is_empty() {
                    let input: Value = serde_json::from_str(&json_bufs[index])
                        .expect("partial_json fragments concatenate to JSON");
                    assert!(input.is_object());
                    content[index]["input"] = input;
                }
                open = None;
            }
            "message_delta" => {
                assert!(open.is_none(), "message_delta with block {open:?} open");
                assert!(data["delta"]["stop_reason"].is_string());
                assert!(data["delta"].get("stop_sequence").is_some());
                assert!(data["usage"]["output_tokens"].is_u64());
                msg["stop_reason"] = data["delta"]["stop_reason"].clone();
                msg["stop_sequence"] = data["delta"]["stop_sequence"].clone();
                msg["usage"]["output_tokens"] = data["usage"]["output_tokens"].clone();
                if let Some(n) = data["usage"].get("input_tokens") {
                    msg["usage"]["input_tokens"] = n.clone();
                }
            }
            "message_stop" => {
                assert!(
                    msg["stop_reason"].is_string(),
                    "message_stop before message_delta"
                );
                stopped = true;
            }
            other => panic!("unknown event {other}"),
        }
    }
    assert!(stopped, "stream did not end with message_stop");
    message.unwrap()
}

/// Replays OpenAI chunk payloads the way the `openai` SDK's stream state does (content appended,
/// tool calls merged by `index`) and returns `(message, finish_reason, usage)`. Panics on a
/// chunk without the required fields, a second choice, a tool call whose first fragment lacks
/// `id`/`name`, anything after `[DONE]`, or a missing `[DONE]`.
pub(super) fn openai_accumulate(payloads: &[SseOut]) -> (Value, Option<String>, Option<Value>) {
    let mut content = String::new();
    let mut calls: Vec<Value> = Vec::new();
    let mut finish = None;
    let mut usage = None;
    let mut done = false;
    for p in payloads {
        assert!(p.event.is_none(), "OpenAI stream events are unnamed");
        assert!(!done, "payload after [DONE]");
        if p.data == "[DONE]" {
            done = true;
            continue;
        }
        let chunk: Value = serde_json::from_str(&p.data).unwrap();
        assert!(
            chunk.get("error").is_none(),
            "stream carried an error: {}",
            p.data
        );
        assert_eq!(chunk["object"], "chat.completion.chunk");
        assert!(chunk["id"].is_string() && chunk["created"].is_u64() && chunk["model"].is_string());
        if let Some(u) = chunk.get("usage").filter(|u| !u.is_null()) {
            assert_eq!(chunk["choices"], json!([]), "usage chunk has no choices");
            usage = Some(u.clone());
        }
        for choice in chunk["choices"].as_array().unwrap() {
            assert_eq!(choice["index"], 0);
            let delta = &choice["delta"];
            if let Some(t) = delta.get("content").and_then(Value::as_str) {
                content.push_str(t);
            }
            for call in delta
                .get("tool_calls")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let i = call["index"].as_u64().unwrap() as usize;
                let args = call["function"]["arguments"].as_str().unwrap_or("");
                if i == calls.len() {
                    assert!(call["id"].is_string() && call["function"]["name"].is_string());
                    assert_eq!(call["type"], "function");
                    calls.push(call.clone());
                    calls[i].as_object_mut().unwrap().remove("index");
                } else {
                    let so_far = calls[i]["function"]["arguments"]
                        .as_str()
                        .unwrap()
                        .to_owned();
                    calls[i]["function"]["arguments"] = format!("{so_far}{args}").into();
                }
            }
            if let Some(f) = choice["finish_reason"].as_str() {
                finish = Some(f.to_owned());
            }
        }
    }
    assert!(done, "stream did not end with [DONE]");
    let mut message = Map::new();
    message.insert("content".into(), content.into());
    if !calls.is_empty() {
        message.insert("tool_calls".into(), Value::Array(calls));
    }
    (Value::Object(message), finish, usage)
}

/// The event names of a translated Anthropic stream, in order.
pub(super) fn names(events: &[SseOut]) -> Vec<String> {
    events.iter().filter_map(|e| e.event.clone()).collect()
}

/// An OpenAI chunk with one choice.
pub(super) fn chunk(delta: Value, finish: Option<&str>) -> String {
    json!({
        "id": "chatcmpl-8f2a", "object": "chat.completion.chunk", "created": 1718000000,
        "model": "llama-3.1-70b-instruct", "system_fingerprint": null,
        "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]
    })
    .to_string()
}
