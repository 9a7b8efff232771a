//! OpenAI chunk stream → Anthropic SSE events.

use serde_json::{json, Value};

use super::{anthropic_accumulate, chunk, names};
use crate::translate::{AnthropicStreamTranslator, SseOut};

const MODEL: &str = "claude-sonnet-4-5";

fn run(payloads: &[String]) -> Vec<SseOut> {
    let mut t = AnthropicStreamTranslator::new(MODEL, "msg_01Sovgate");
    let mut out = Vec::new();
    for p in payloads {
        out.extend(t.on_data(p).unwrap());
    }
    out.extend(t.finish());
    out
}

fn data(e: &SseOut) -> Value {
    serde_json::from_str(&e.data).unwrap()
}

fn tool_fragment(index: u64, id: Option<&str>, name: Option<&str>, args: &str) -> Value {
    let mut call = json!({"index": index, "function": {"arguments": args}});
    if let Some(id) = id {
        call["id"] = json!(id);
        call["type"] = json!("function");
    }
    if let Some(name) = name {
        call["function"]["name"] = json!(name);
    }
    json!({"tool_calls": [call]})
}

/// A vLLM-style stream: role, text, then two parallel tool calls with fragmented arguments,
/// the finish chunk, the usage chunk, `[DONE]`.
fn text_then_two_tools() -> Vec<String> {
    vec![
        chunk(json!({"role": "assistant", "content": ""}), None),
        chunk(json!({"content": "Let me check "}), None),
        chunk(json!({"content": "both cities."}), None),
        chunk(
            tool_fragment(0, Some("call_paris"), Some("get_weather"), ""),
            None,
        ),
        chunk(tool_fragment(0, None, None, "{\"city\": "), None),
        chunk(tool_fragment(0, None, None, "\"Paris\"}"), None),
        chunk(
            tool_fragment(1, Some("call_berlin"), Some("get_weather"), "{\"ci"),
            None,
        ),
        chunk(tool_fragment(1, None, None, "ty\": \"Berlin\", "), None),
        chunk(tool_fragment(1, None, None, "\"unit\": \"c\"}"), None),
        chunk(json!({}), Some("tool_calls")),
        json!({"id": "chatcmpl-8f2a", "object": "chat.completion.chunk", "created": 1718000000,
               "model": "llama-3.1-70b-instruct", "choices": [],
               "usage": {"prompt_tokens": 412, "completion_tokens": 57, "total_tokens": 469}})
        .to_string(),
        "[DONE]".to_owned(),
    ]
}

#[test]
fn text_then_parallel_tool_calls_is_a_valid_anthropic_stream() {
    let events = run(&text_then_two_tools());
    assert_eq!(
        names(&events),
        [
            "message_start",
            "content_block_start", // 0: text
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "content_block_start", // 1: tool_use Paris
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "content_block_start", // 2: tool_use Berlin
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop",
        ]
    );
    let indexes: Vec<_> = events
        .iter()
        .filter_map(|e| data(e).get("index").and_then(Value::as_u64))
        .collect();
    assert_eq!(indexes, [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 2]);

    let berlin: String = events
        .iter()
        .map(data)
        .filter(|d| d["index"] == 2 && d["delta"]["type"] == "input_json_delta")
        .map(|d| d["delta"]["partial_json"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(berlin, "{\"city\": \"Berlin\", \"unit\": \"c\"}");

    let message = anthropic_accumulate(&events);
    assert_eq!(
        message,
        json!({
            "id": "msg_01Sovgate", "type": "message", "role": "assistant", "model": MODEL,
            "content": [
                {"type": "text", "text": "Let me check both cities."},
                {"type": "tool_use", "id": "call_paris", "name": "get_weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "call_berlin", "name": "get_weather", "input": {"city": "Berlin", "unit": "c"}}
            ],
            "stop_reason": "tool_use", "stop_sequence": null,
            "usage": {"input_tokens": 412, "output_tokens": 57}
        })
    );
}

#[test]
fn exact_event_payloads_match_the_sdk_types() {
    let events = run(&text_then_two_tools());
    assert_eq!(
        data(&events[0]),
        json!({"type": "message_start", "message": {
            "id": "msg_01Sovgate", "type": "message", "role": "assistant", "model": MODEL,
            "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": 0, "output_tokens": 0}}})
    );
    assert_eq!(
        data(&events[1]),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})
    );
    assert_eq!(
        data(&events[2]),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Let me check "}})
    );
    assert_eq!(
        data(&events[4]),
        json!({"type": "content_block_stop", "index": 0})
    );
    assert_eq!(
        data(&events[5]),
        json!({"type": "content_block_start", "index": 1,
               "content_block": {"type": "tool_use", "id": "call_paris", "name": "get_weather", "input": {}}})
    );
    assert_eq!(
        data(&events[6]),
        json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "{\"city\": "}})
    );
    assert_eq!(
        data(&events[14]),
        json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null},
               "usage": {"input_tokens": 412, "output_tokens": 57}})
    );
    assert_eq!(data(&events[15]), json!({"type": "message_stop"}));
    assert_eq!(
        events[15].to_frame(),
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
    );
}

#[test]
fn message_delta_waits_for_the_usage_chunk() {
    let mut t = AnthropicStreamTranslator::new(MODEL, "msg_1");
    t.on_data(&chunk(json!({"role": "assistant", "content": "Hi"}), None))
        .unwrap();
    let at_finish = t.on_data(&chunk(json!({}), Some("stop"))).unwrap();
    assert_eq!(names(&at_finish), ["content_block_stop"]);
    let usage = json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
                       "choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12}});
    assert!(t.on_data(&usage.to_string()).unwrap().is_empty());
    assert!(
        t.on_data("  ").unwrap().is_empty(),
        "keep-alive frames emit nothing"
    );
    let done = t.on_data("[DONE]").unwrap();
    assert_eq!(names(&done), ["message_delta", "message_stop"]);
    assert_eq!(
        data(&done[0])["usage"],
        json!({"input_tokens": 9, "output_tokens": 3})
    );
    assert_eq!(data(&done[0])["delta"]["stop_reason"], "end_turn");
    assert!(t.finish().is_empty(), "nothing after message_stop");
    assert!(t
        .on_data(&chunk(json!({"content": "late"}), None))
        .unwrap()
        .is_empty());
}

#[test]
fn finish_reason_without_done_closes_cleanly_in_finish() {
    let mut t = AnthropicStreamTranslator::new(MODEL, "msg_1");
    let mut events = t
        .on_data(&chunk(json!({"content": "partial answer"}), None))
        .unwrap();
    events.extend(t.on_data(&chunk(json!({}), Some("length"))).unwrap());
    events.extend(t.finish());
    let message = anthropic_accumulate(&events);
    assert_eq!(message["stop_reason"], "max_tokens");
    assert_eq!(
        message["content"],
        json!([{"type": "text", "text": "partial answer"}])
    );
}

#[test]
fn a_cut_stream_ends_with_an_error_event_not_message_stop() {
    let mut t = AnthropicStreamTranslator::new(MODEL, "msg_1");
    let first = t
        .on_data(&chunk(
            json!({"role": "assistant", "content": "The answer is"}),
            None,
        ))
        .unwrap();
    assert_eq!(
        names(&first),
        [
            "message_start",
            "content_block_start",
            "content_block_delta"
        ]
    );
    let end = t.finish();
    assert_eq!(end.len(), 1);
    assert_eq!(end[0].event.as_deref(), Some("error"));
    assert_eq!(
        data(&end[0]),
        json!({"type": "error", "error": {"type": "api_error", "message": "upstream stream ended unexpectedly"}})
    );
    assert!(t.finish().is_empty());

    // Nothing at all received: still an error, never a clean empty message.
    let mut t = AnthropicStreamTranslator::new(MODEL, "msg_2");
    assert_eq!(names(&t.finish()), ["error"]);
}

#[test]
fn a_bad_chunk_is_an_upstream_error_and_finish_reports_the_cut() {
    let mut t = AnthropicStreamTranslator::new(MODEL, "msg_1");
    t.on_data(&chunk(json!({"content": "x"}), None)).unwrap();
    let err = t.on_data("{\"choices\": [").unwrap_err();
    assert!(err.is_upstream());
    assert_eq!(names(&t.finish()), ["error"]);
}

#[test]
fn an_error_object_mid_stream_becomes_an_error_event() {
    let mut t = AnthropicStreamTranslator::new(MODEL, "msg_1");
    t.on_data(&chunk(json!({"content": "x"}), None)).unwrap();
    let err = json!({"error": {"object": "error", "message": "CUDA out of memory", "type": "InternalServerError", "code": 500}});
    let out = t.on_data(&err.to_string()).unwrap();
    assert_eq!(
        out,
        [SseOut {
            event: Some("error".into()),
            data: json!({"type": "error", "error": {"type": "api_error", "message": "CUDA out of memory"}}).to_string()
        }]
    );
    assert!(t.finish().is_empty());
}

#[test]
fn done_alone_is_an_empty_clean_message() {
    let events = run(&["[DONE]".to_owned()]);
    assert_eq!(
        names(&events),
        ["message_start", "message_delta", "message_stop"]
    );
    let message = anthropic_accumulate(&events);
    assert_eq!(message["content"], json!([]));
    assert_eq!(message["stop_reason"], "end_turn");
}

#[test]
fn arguments_before_the_name_are_replayed_when_the_block_starts() {
    let events = run(&[
        chunk(
            json!({"tool_calls": [{"index": 0, "id": "call_x", "function": {"arguments": "{\"q\":"}}]}),
            None,
        ),
        chunk(tool_fragment(0, None, Some("search"), " \"nda\"}"), None),
        chunk(json!({}), Some("tool_calls")),
        "[DONE]".to_owned(),
    ]);
    let message = anthropic_accumulate(&events);
    assert_eq!(
        message["content"],
        json!([{"type": "tool_use", "id": "call_x", "name": "search", "input": {"q": "nda"}}])
    );
}

#[test]
fn text_after_a_tool_call_opens_a_new_block() {
    let events = run(&[
        chunk(tool_fragment(0, Some("c1"), Some("f"), "{}"), None),
        chunk(json!({"content": "done"}), None),
        chunk(json!({}), Some("stop")),
        "[DONE]".to_owned(),
    ]);
    let message = anthropic_accumulate(&events);
    assert_eq!(message["content"][0]["type"], "tool_use");
    assert_eq!(
        message["content"][1],
        json!({"type": "text", "text": "done"})
    );
    assert_eq!(message["stop_reason"], "tool_use");
}

#[test]
fn a_tool_call_resumed_after_another_started_is_refused() {
    let mut t = AnthropicStreamTranslator::new(MODEL, "msg_1");
    t.on_data(&chunk(tool_fragment(0, Some("a"), Some("f"), "{"), None))
        .unwrap();
    t.on_data(&chunk(tool_fragment(1, Some("b"), Some("g"), "{}"), None))
        .unwrap();
    let err = t
        .on_data(&chunk(tool_fragment(0, None, None, "}"), None))
        .unwrap_err();
    assert!(err.is_upstream());
    assert!(err.message().contains("tool call 0"));
}

#[test]
fn a_tool_call_that_never_gets_a_name_fails_the_stream() {
    let events = run(&[
        chunk(
            json!({"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]}),
            None,
        ),
        chunk(json!({}), Some("tool_calls")),
        "[DONE]".to_owned(),
    ]);
    assert_eq!(names(&events).last().map(String::as_str), Some("error"));
    assert!(!names(&events).contains(&"message_stop".to_owned()));
}

#[test]
fn vllm_stop_string_becomes_stop_sequence_and_other_choices_are_ignored() {
    let mut last = serde_json::from_str::<Value>(&chunk(json!({}), Some("stop"))).unwrap();
    last["choices"][0]["stop_reason"] = json!("###");
    let mut extra =
        serde_json::from_str::<Value>(&chunk(json!({"content": "other"}), None)).unwrap();
    extra["choices"][0]["index"] = json!(1);
    let events = run(&[
        chunk(json!({"content": "Answer"}), None),
        extra.to_string(),
        last.to_string(),
        "[DONE]".to_owned(),
    ]);
    let message = anthropic_accumulate(&events);
    assert_eq!(
        message["content"],
        json!([{"type": "text", "text": "Answer"}])
    );
    assert_eq!(message["stop_reason"], "stop_sequence");
    assert_eq!(message["stop_sequence"], "###");
}
