//! Whole conversations through both directions: what a client sends back after a translated
//! answer must translate again into a valid request for the pool.

use serde_json::{json, Value};

use crate::translate::{
    anthropic_to_openai_request, anthropic_to_openai_response, openai_to_anthropic_request,
    openai_to_anthropic_response,
};

fn weather_tool_anthropic() -> Value {
    json!({"name": "get_weather", "description": "Current weather for a city",
           "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}})
}

#[test]
fn anthropic_client_on_openai_pool_completes_a_tool_loop() {
    // Turn 1: the client asks; the pool answers with a tool call.
    let mut request = json!({
        "model": "claude-sonnet-4-5", "max_tokens": 1024,
        "tools": [weather_tool_anthropic()],
        "messages": [{"role": "user", "content": "Is it raining in Oslo?"}]
    });
    let upstream = anthropic_to_openai_request(&request, "qwen2.5-72b").unwrap();
    assert_eq!(upstream["tools"][0]["function"]["name"], "get_weather");
    let pool_answer = json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "qwen2.5-72b",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": null,
            "tool_calls": [{"id": "chatcmpl-tool-9a", "type": "function",
                            "function": {"name": "get_weather", "arguments": "{\"city\": \"Oslo\"}"}}]}}],
        "usage": {"prompt_tokens": 200, "completion_tokens": 20, "total_tokens": 220}
    });
    let answer = openai_to_anthropic_response(&pool_answer, "claude-sonnet-4-5").unwrap();
    assert_eq!(answer["stop_reason"], "tool_use");

    // Turn 2: the client appends the assistant content as-is and its tool_result, as the SDK docs show.
    let tool_use = answer["content"][0].clone();
    let messages = request["messages"].as_array_mut().unwrap();
    messages.push(json!({"role": "assistant", "content": answer["content"]}));
    messages.push(json!({"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": tool_use["id"], "content": "Light rain, 9°C"}
    ]}));
    let upstream = anthropic_to_openai_request(&request, "qwen2.5-72b").unwrap();
    let msgs = upstream["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 3);
    let call = &msgs[1]["tool_calls"][0];
    assert_eq!(call["id"], "chatcmpl-tool-9a");
    let args: Value =
        serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(args, json!({"city": "Oslo"}));
    assert_eq!(
        msgs[2],
        json!({"role": "tool", "tool_call_id": "chatcmpl-tool-9a", "content": "Light rain, 9°C"})
    );
}

#[test]
fn openai_client_on_anthropic_pool_completes_a_tool_loop() {
    let mut request = json!({
        "model": "gpt-4o",
        "tools": [{"type": "function", "function": {"name": "get_weather",
                   "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}],
        "messages": [{"role": "user", "content": "Is it raining in Oslo?"}]
    });
    let upstream = openai_to_anthropic_request(&request, "claude-sonnet-4-5").unwrap();
    assert_eq!(upstream["max_tokens"], 4096);
    let pool_answer = json!({
        "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [{"type": "text", "text": "I'll check."},
                    {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Oslo"}}],
        "stop_reason": "tool_use", "stop_sequence": null,
        "usage": {"input_tokens": 300, "output_tokens": 40}
    });
    let answer = anthropic_to_openai_response(&pool_answer, "gpt-4o").unwrap();
    let reply = answer["choices"][0]["message"].clone();

    let messages = request["messages"].as_array_mut().unwrap();
    messages.push(reply);
    messages.push(json!({"role": "tool", "tool_call_id": "toolu_01", "content": "Light rain"}));
    let upstream = openai_to_anthropic_request(&request, "claude-sonnet-4-5").unwrap();
    assert_eq!(
        upstream["messages"],
        json!([
            {"role": "user", "content": "Is it raining in Oslo?"},
            {"role": "assistant", "content": [
                {"type": "text", "text": "I'll check."},
                {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Oslo"}}
            ]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01", "content": "Light rain"}]}
        ])
    );
}

#[test]
fn an_anthropic_request_survives_both_translations() {
    let original = json!({
        "model": "claude-sonnet-4-5",
        "max_tokens": 700,
        "system": "Be exact.",
        "messages": [
            {"role": "user", "content": [
                {"type": "text", "text": "Look at this."},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBOR"}}
            ]},
            {"role": "assistant", "content": [
                {"type": "text", "text": "Reading it."},
                {"type": "tool_use", "id": "toolu_7", "name": "ocr", "input": {"page": 1}}
            ]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_7", "content": "INVOICE 42"}]}
        ],
        "tools": [{"name": "ocr", "description": "Read text", "input_schema": {"type": "object", "properties": {"page": {"type": "integer"}}}}],
        "tool_choice": {"type": "auto"},
        "temperature": 0.5,
        "stop_sequences": ["###"],
        "stream": true
    });
    let openai = anthropic_to_openai_request(&original, "local").unwrap();
    let back = openai_to_anthropic_request(&openai, "claude-sonnet-4-5").unwrap();
    for key in [
        "model",
        "max_tokens",
        "system",
        "messages",
        "tools",
        "tool_choice",
        "temperature",
        "stream",
    ] {
        assert_eq!(back[key], original[key], "{key}");
    }
    assert_eq!(back["stop_sequences"], original["stop_sequences"]);
}
