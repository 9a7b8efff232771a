//! OpenAI chat request → Anthropic Messages request.

use serde_json::json;

use crate::translate::{openai_to_anthropic_request, DEFAULT_MAX_TOKENS};

const POOL: &str = "claude-sonnet-4-5";

#[test]
fn simple_request_maps_every_scalar_field() {
    let req = json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "developer", "content": "Be terse."},
            {"role": "system", "content": [{"type": "text", "text": "Cite clauses."}]},
            {"role": "user", "content": "What does clause 4 say?", "name": "alice"}
        ],
        "max_completion_tokens": 800,
        "max_tokens": 100,
        "temperature": 0.3,
        "top_p": 0.95,
        "stop": "END",
        "user": "u-77",
        "seed": 7,
        "frequency_penalty": 0.5,
        "stream": true,
        "stream_options": {"include_usage": true}
    });
    let out = openai_to_anthropic_request(&req, POOL).unwrap();
    assert_eq!(
        out,
        json!({
            "model": POOL,
            "max_tokens": 800,
            "system": "Be terse.\n\nCite clauses.",
            "messages": [{"role": "user", "content": "What does clause 4 say?"}],
            "temperature": 0.3,
            "top_p": 0.95,
            "stop_sequences": ["END"],
            "stream": true,
            "metadata": {"user_id": "u-77"}
        })
    );
}

#[test]
fn max_tokens_defaults_and_temperature_is_capped() {
    let req = json!({"messages": [{"role": "user", "content": "x"}], "temperature": 1.7});
    let out = openai_to_anthropic_request(&req, POOL).unwrap();
    assert_eq!(out["max_tokens"], DEFAULT_MAX_TOKENS);
    assert_eq!(out["temperature"], 1.0);
    let req = json!({"messages": [{"role": "user", "content": "x"}], "max_tokens": 64, "stop": ["a", "b"]});
    let out = openai_to_anthropic_request(&req, POOL).unwrap();
    assert_eq!(out["max_tokens"], 64);
    assert_eq!(out["stop_sequences"], json!(["a", "b"]));
}

#[test]
fn image_parts_become_image_blocks() {
    let req = json!({"messages": [{"role": "user", "content": [
        {"type": "text", "text": "What is in these?"},
        {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4AAQ", "detail": "high"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}
    ]}]});
    let out = openai_to_anthropic_request(&req, POOL).unwrap();
    assert_eq!(
        out["messages"][0]["content"],
        json!([
            {"type": "text", "text": "What is in these?"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9j/4AAQ"}},
            {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}}
        ])
    );
}

#[test]
fn tool_round_trip_history_becomes_tool_use_and_merged_tool_results() {
    let req = json!({
        "messages": [
            {"role": "user", "content": "Weather in Paris and Berlin?"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                {"id": "call_2", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Berlin\"}"}}
            ]},
            {"role": "tool", "tool_call_id": "call_1", "content": "18°C"},
            {"role": "tool", "tool_call_id": "call_2", "content": [{"type": "text", "text": "12°C"}]},
            {"role": "user", "content": "Which is warmer?"}
        ],
        "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Current weather",
                   "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}},
                  {"type": "function", "function": {"name": "ping"}}],
        "tool_choice": "required",
        "parallel_tool_calls": false
    });
    let out = openai_to_anthropic_request(&req, POOL).unwrap();
    assert_eq!(
        out["messages"],
        json!([
            {"role": "user", "content": "Weather in Paris and Berlin?"},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "call_2", "name": "get_weather", "input": {"city": "Berlin"}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "call_1", "content": "18°C"},
                {"type": "tool_result", "tool_use_id": "call_2", "content": "12°C"},
                {"type": "text", "text": "Which is warmer?"}
            ]}
        ])
    );
    assert_eq!(
        out["tools"],
        json!([
            {"name": "get_weather", "description": "Current weather",
             "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}},
            {"name": "ping", "input_schema": {"type": "object", "properties": {}}}
        ])
    );
    assert_eq!(
        out["tool_choice"],
        json!({"type": "any", "disable_parallel_tool_use": true})
    );
}

#[test]
fn tool_choice_variants() {
    let base = |choice: serde_json::Value| {
        let mut req = json!({"messages": [{"role": "user", "content": "x"}]});
        if !choice.is_null() {
            req["tool_choice"] = choice;
        }
        openai_to_anthropic_request(&req, POOL).unwrap()
    };
    assert_eq!(base(json!("auto"))["tool_choice"], json!({"type": "auto"}));
    assert_eq!(base(json!("none"))["tool_choice"], json!({"type": "none"}));
    assert_eq!(
        base(json!({"type": "function", "function": {"name": "lookup"}}))["tool_choice"],
        json!({"type": "tool", "name": "lookup"})
    );
    assert!(base(json!(null)).get("tool_choice").is_none());
    let req = json!({"messages": [{"role": "user", "content": "x"}], "parallel_tool_calls": false});
    let out = openai_to_anthropic_request(&req, POOL).unwrap();
    assert_eq!(
        out["tool_choice"],
        json!({"type": "auto", "disable_parallel_tool_use": true})
    );
}

#[test]
fn assistant_text_and_refusal_parts_join_and_empty_messages_vanish() {
    let req = json!({"messages": [
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": [{"type": "text", "text": "b1"}, {"type": "refusal", "refusal": "b2"}]},
        {"role": "user", "content": ""},
        {"role": "user", "content": "c"}
    ]});
    let out = openai_to_anthropic_request(&req, POOL).unwrap();
    assert_eq!(
        out["messages"],
        json!([
            {"role": "user", "content": "a"},
            {"role": "assistant", "content": "b1\n\nb2"},
            {"role": "user", "content": "c"}
        ])
    );
}

#[test]
fn requests_an_anthropic_pool_cannot_honour_are_refused() {
    let user = json!([{"role": "user", "content": "x"}]);
    let cases = [
        (json!({"messages": user, "n": 2}), "n:"),
        (json!({"messages": user, "logprobs": true}), "logprobs:"),
        (
            json!({"messages": user, "response_format": {"type": "json_object"}}),
            "response_format.type:",
        ),
        (
            json!({"messages": user, "functions": [{"name": "f"}]}),
            "functions:",
        ),
        (
            json!({"messages": user, "tools": [{"type": "custom", "custom": {"name": "f"}}]}),
            "tools[0].type:",
        ),
        (
            json!({"messages": user, "tool_choice": "sometimes"}),
            "tool_choice:",
        ),
        (
            json!({"messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}]}),
            "messages[0].content[0].type:",
        ),
        (
            json!({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png,abc"}}]}]}),
            "messages[0].content[0].image_url.url:",
        ),
        (
            json!({"messages": [{"role": "function", "name": "f", "content": "x"}]}),
            "messages[0].role:",
        ),
        (
            json!({"messages": [{"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{oops"}}]}]}),
            "messages[0].tool_calls[0].function.arguments:",
        ),
        (
            json!({"messages": [{"role": "tool", "content": "x"}]}),
            "messages[0].tool_call_id:",
        ),
        (json!({"messages": "hi"}), "messages:"),
        (json!({}), "messages:"),
    ];
    for (req, prefix) in cases {
        let err = openai_to_anthropic_request(&req, POOL).unwrap_err();
        assert!(err.is_client(), "{req}: {err}");
        assert!(
            err.message().starts_with(prefix),
            "{prefix} vs {}",
            err.message()
        );
    }
    let ok =
        json!({"messages": user, "n": 1, "response_format": {"type": "text"}, "logprobs": false});
    assert!(openai_to_anthropic_request(&ok, POOL).is_ok());
}
