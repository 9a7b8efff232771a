//! Anthropic SSE events → OpenAI chunk stream.

use serde_json::{json, Value};

use super::openai_accumulate;
use crate::translate::{OpenAiStreamTranslator, SseOut};

/// A recorded-style Anthropic stream: thinking, text, two tool calls, pings, usage.
fn anthropic_events() -> Vec<(&'static str, Value)> {
    vec![
        (
            "message_start",
            json!({"type": "message_start", "message": {
            "id": "msg_014p7gG3wDgGV9EUtLvnow3U", "type": "message", "role": "assistant",
            "model": "claude-sonnet-4-5", "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": 472, "output_tokens": 2, "cache_read_input_tokens": 28}}}),
        ),
        (
            "content_block_start",
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
        ),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "Two cities."}}),
        ),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "EqQB"}}),
        ),
        (
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 0}),
        ),
        (
            "content_block_start",
            json!({"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}}),
        ),
        ("ping", json!({"type": "ping"})),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "Okay, "}}),
        ),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "checking."}}),
        ),
        (
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 1}),
        ),
        (
            "content_block_start",
            json!({"type": "content_block_start", "index": 2, "content_block": {"type": "tool_use", "id": "toolu_01T1x", "name": "get_weather", "input": {}}}),
        ),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": ""}}),
        ),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": "{\"city\": \"Pa"}}),
        ),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": "ris\"}"}}),
        ),
        (
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 2}),
        ),
        (
            "content_block_start",
            json!({"type": "content_block_start", "index": 3, "content_block": {"type": "tool_use", "id": "toolu_01T2y", "name": "get_weather", "input": {}}}),
        ),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 3, "delta": {"type": "input_json_delta", "partial_json": "{\"city\": \"Berlin\"}"}}),
        ),
        (
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 3}),
        ),
        (
            "message_delta",
            json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null}, "usage": {"output_tokens": 89}}),
        ),
        ("message_stop", json!({"type": "message_stop"})),
    ]
}

fn run(t: &mut OpenAiStreamTranslator, events: &[(&str, Value)]) -> Vec<SseOut> {
    let mut out = Vec::new();
    for (name, data) in events {
        out.extend(t.on_event(Some(name), &data.to_string()).unwrap());
    }
    out.extend(t.finish());
    out
}

fn parsed(p: &SseOut) -> Value {
    serde_json::from_str(&p.data).unwrap()
}

#[test]
fn full_stream_accumulates_to_the_same_answer() {
    let mut t = OpenAiStreamTranslator::new("gpt-4o", "chatcmpl-msg_014p").with_usage(true);
    let out = run(&mut t, &anthropic_events());
    let (message, finish, usage) = openai_accumulate(&out);
    assert_eq!(
        message,
        json!({"content": "Okay, checking.", "tool_calls": [
            {"id": "toolu_01T1x", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}},
            {"id": "toolu_01T2y", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Berlin\"}"}}
        ]})
    );
    assert_eq!(finish.as_deref(), Some("tool_calls"));
    assert_eq!(
        usage,
        Some(json!({"prompt_tokens": 500, "completion_tokens": 89, "total_tokens": 589}))
    );
}

#[test]
fn exact_chunk_payloads() {
    let mut t = OpenAiStreamTranslator::new("gpt-4o", "chatcmpl-1");
    let out = run(&mut t, &anthropic_events());
    let first = parsed(&out[0]);
    let created = first["created"].as_u64().unwrap();
    assert_eq!(
        first,
        json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": created, "model": "gpt-4o",
               "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": null, "finish_reason": null}]})
    );
    assert_eq!(
        parsed(&out[1])["choices"][0]["delta"],
        json!({"content": "Okay, "})
    );
    assert_eq!(
        parsed(&out[3])["choices"][0]["delta"],
        json!({"tool_calls": [{"index": 0, "id": "toolu_01T1x", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]})
    );
    assert_eq!(
        parsed(&out[4])["choices"][0]["delta"],
        json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"city\": \"Pa"}}]})
    );
    assert_eq!(
        parsed(&out[6])["choices"][0]["delta"]["tool_calls"][0]["index"],
        1
    );
    let finish = parsed(&out[out.len() - 2]);
    assert_eq!(
        finish["choices"][0],
        json!({"index": 0, "delta": {}, "logprobs": null, "finish_reason": "tool_calls"})
    );
    // Without include_usage: no usage chunk, no usage field.
    assert!(out
        .iter()
        .all(|p| p.data == "[DONE]" || parsed(p).get("usage").is_none()));
    assert_eq!(out.last().unwrap().to_frame(), "data: [DONE]\n\n");
    assert_eq!(out.len(), 10);
}

#[test]
fn event_names_may_be_absent() {
    let mut t = OpenAiStreamTranslator::new("gpt-4o", "c");
    let mut out = Vec::new();
    for (_, data) in anthropic_events() {
        out.extend(t.on_event(None, &data.to_string()).unwrap());
    }
    let (message, finish, _) = openai_accumulate(&out);
    assert_eq!(message["content"], "Okay, checking.");
    assert_eq!(finish.as_deref(), Some("tool_calls"));
}

#[test]
fn a_cut_stream_ends_with_an_error_payload_and_no_done() {
    let mut t = OpenAiStreamTranslator::new("gpt-4o", "c");
    for (name, data) in &anthropic_events()[..9] {
        t.on_event(Some(name), &data.to_string()).unwrap();
    }
    let end = t.finish();
    assert_eq!(end.len(), 1);
    assert_eq!(
        parsed(&end[0]),
        json!({"error": {"message": "upstream stream ended unexpectedly", "type": "server_error", "param": null, "code": "api_error"}})
    );
    assert!(t.finish().is_empty());
}

#[test]
fn message_delta_without_message_stop_still_closes_in_finish() {
    let mut t = OpenAiStreamTranslator::new("gpt-4o", "c").with_usage(true);
    let events = anthropic_events();
    let mut out = Vec::new();
    for (name, data) in &events[..events.len() - 1] {
        out.extend(t.on_event(Some(name), &data.to_string()).unwrap());
    }
    out.extend(t.finish());
    let (_, finish, usage) = openai_accumulate(&out);
    assert_eq!(finish.as_deref(), Some("tool_calls"));
    assert!(usage.is_some());
}

#[test]
fn an_anthropic_error_event_becomes_an_openai_error_payload() {
    let mut t = OpenAiStreamTranslator::new("gpt-4o", "c");
    t.on_event(Some("message_start"), &anthropic_events()[0].1.to_string())
        .unwrap();
    let err =
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}});
    let out = t.on_event(Some("error"), &err.to_string()).unwrap();
    assert_eq!(
        out.iter().map(parsed).collect::<Vec<_>>(),
        [
            json!({"error": {"message": "Overloaded", "type": "server_error", "param": null, "code": "overloaded_error"}})
        ]
    );
    assert!(t.finish().is_empty());
    assert!(t
        .on_event(Some("message_stop"), "{\"type\":\"message_stop\"}")
        .unwrap()
        .is_empty());
}

#[test]
fn stop_reasons_reach_finish_reason() {
    for (stop, finish) in [
        ("end_turn", "stop"),
        ("max_tokens", "length"),
        ("stop_sequence", "stop"),
        ("refusal", "content_filter"),
    ] {
        let mut t = OpenAiStreamTranslator::new("m", "c");
        let events = [
            ("message_start", anthropic_events()[0].1.clone()),
            (
                "message_delta",
                json!({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": null}, "usage": {"output_tokens": 1}}),
            ),
            ("message_stop", json!({"type": "message_stop"})),
        ];
        let (_, got, _) = openai_accumulate(&run(&mut t, &events));
        assert_eq!(got.as_deref(), Some(finish), "{stop}");
    }
}

#[test]
fn malformed_events_are_upstream_errors() {
    let mut t = OpenAiStreamTranslator::new("m", "c");
    assert!(t
        .on_event(Some("message_start"), "not json")
        .unwrap_err()
        .is_upstream());
    let cases = [
        json!({"type": "content_block_delta", "index": 9, "delta": {"type": "text_delta", "text": "x"}}),
        json!({"type": "content_block_start", "content_block": {"type": "text", "text": ""}}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "server_tool_use", "id": "s", "name": "web_search", "input": {}}}),
    ];
    for event in cases {
        assert!(
            t.on_event(None, &event.to_string())
                .unwrap_err()
                .is_upstream(),
            "{event}"
        );
    }
    assert!(t.on_event(Some("ping"), "").unwrap().is_empty());
    // Unknown event types are skipped, as the SDKs do.
    assert!(t
        .on_event(Some("future_event"), "{\"type\":\"future_event\"}")
        .unwrap()
        .is_empty());
}
