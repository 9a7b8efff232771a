//! Anthropic message → OpenAI chat completion.

use serde_json::{json, Value};

use crate::translate::anthropic_to_openai_response;

fn message(content: Value, stop_reason: &str) -> Value {
    json!({
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": null,
        "usage": {"input_tokens": 2095, "output_tokens": 503,
                  "cache_creation_input_tokens": 100, "cache_read_input_tokens": 5}
    })
}

#[test]
fn text_answer_has_the_exact_completion_shape() {
    let out = anthropic_to_openai_response(
        &message(json!([{"type": "text", "text": "Hello!"}]), "end_turn"),
        "gpt-4o",
    )
    .unwrap();
    let created = out["created"].as_u64().unwrap();
    assert!(created > 1_600_000_000);
    assert_eq!(
        out,
        json!({
            "id": "chatcmpl-msg_01XFDUDYJgAACzvnptvVoYEL",
            "object": "chat.completion",
            "created": created,
            "model": "gpt-4o",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello!", "refusal": null},
                         "logprobs": null, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 2200, "completion_tokens": 503, "total_tokens": 2703}
        })
    );
}

#[test]
fn tool_use_blocks_become_tool_calls() {
    let content = json!([
        {"type": "thinking", "thinking": "need weather", "signature": "abc"},
        {"type": "text", "text": "Checking."},
        {"type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": {"city": "Paris", "days": 2}}
    ]);
    let out = anthropic_to_openai_response(&message(content, "tool_use"), "gpt-4o").unwrap();
    let choice = &out["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(choice["message"]["content"], "Checking.");
    assert_eq!(
        choice["message"]["tool_calls"],
        json!([{"id": "toolu_01A", "type": "function",
                "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\",\"days\":2}"}}])
    );
    let only_tool = json!([{"type": "tool_use", "id": "t", "name": "f", "input": {}}]);
    let out = anthropic_to_openai_response(&message(only_tool, "tool_use"), "gpt-4o").unwrap();
    assert_eq!(out["choices"][0]["message"]["content"], Value::Null);
}

#[test]
fn stop_reasons_map() {
    for (stop, finish) in [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("pause_turn", "stop"),
        ("max_tokens", "length"),
        ("model_context_window_exceeded", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
    ] {
        let out = anthropic_to_openai_response(
            &message(json!([{"type": "text", "text": "x"}]), stop),
            "m",
        )
        .unwrap();
        assert_eq!(out["choices"][0]["finish_reason"], finish, "{stop}");
    }
}

#[test]
fn unrepresentable_messages_are_upstream_errors() {
    let cases = [
        json!({"type": "error", "error": {"type": "api_error", "message": "x"}}),
        json!({"id": "m"}),
        message(
            json!([{"type": "server_tool_use", "id": "s", "name": "web_search", "input": {}}]),
            "end_turn",
        ),
        message(json!([{"type": "text"}]), "end_turn"),
        json!([1]),
    ];
    for resp in cases {
        let err = anthropic_to_openai_response(&resp, "m").unwrap_err();
        assert!(err.is_upstream() && err.status() == 502, "{resp}: {err}");
    }
}
