//! OpenAI chat completion → Anthropic message.

use serde_json::{json, Value};

use crate::translate::openai_to_anthropic_response;

const CLIENT_MODEL: &str = "claude-sonnet-4-5";

fn completion(message: Value, finish: &str) -> Value {
    json!({
        "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
        "object": "chat.completion",
        "created": 1741569952,
        "model": "llama-3.1-70b-instruct",
        "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish}],
        "usage": {"prompt_tokens": 19, "completion_tokens": 10, "total_tokens": 29}
    })
}

#[test]
fn text_answer_has_the_exact_message_shape() {
    let resp = completion(
        json!({"role": "assistant", "content": "Clause 7 caps liability.", "refusal": null}),
        "stop",
    );
    let out = openai_to_anthropic_response(&resp, CLIENT_MODEL).unwrap();
    assert_eq!(
        out,
        json!({
            "id": "msg_chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
            "type": "message",
            "role": "assistant",
            "model": CLIENT_MODEL,
            "content": [{"type": "text", "text": "Clause 7 caps liability."}],
            "stop_reason": "end_turn",
            "stop_sequence": null,
            "usage": {"input_tokens": 19, "output_tokens": 10}
        })
    );
}

#[test]
fn tool_calls_become_tool_use_blocks_after_the_text() {
    let resp = completion(
        json!({"role": "assistant", "content": "Looking that up.", "tool_calls": [
            {"id": "call_abc", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}},
            {"id": "call_def", "type": "function", "function": {"name": "get_time", "arguments": ""}}
        ]}),
        "tool_calls",
    );
    let out = openai_to_anthropic_response(&resp, CLIENT_MODEL).unwrap();
    assert_eq!(
        out["content"],
        json!([
            {"type": "text", "text": "Looking that up."},
            {"type": "tool_use", "id": "call_abc", "name": "get_weather", "input": {"city": "Paris"}},
            {"type": "tool_use", "id": "call_def", "name": "get_time", "input": {}}
        ])
    );
    assert_eq!(out["stop_reason"], "tool_use");
}

#[test]
fn tool_calls_without_content_or_finish_reason_still_say_tool_use() {
    // Some servers end a tool-calling turn with "stop" and null content.
    let resp = completion(
        json!({"role": "assistant", "content": null, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
        ]}),
        "stop",
    );
    let out = openai_to_anthropic_response(&resp, CLIENT_MODEL).unwrap();
    assert_eq!(out["content"].as_array().unwrap().len(), 1);
    assert_eq!(out["content"][0]["type"], "tool_use");
    assert_eq!(out["stop_reason"], "tool_use");
}

#[test]
fn finish_reasons_map() {
    for (finish, expected) in [
        ("stop", "end_turn"),
        ("length", "max_tokens"),
        ("content_filter", "refusal"),
        ("tool_calls", "end_turn"), // no tool call came with it: nothing to run
        ("something_new", "end_turn"),
    ] {
        let resp = completion(json!({"role": "assistant", "content": "x"}), finish);
        let out = openai_to_anthropic_response(&resp, CLIENT_MODEL).unwrap();
        assert_eq!(out["stop_reason"], expected, "{finish}");
        assert_eq!(out["stop_sequence"], Value::Null);
    }
}

#[test]
fn matched_stop_string_reports_stop_sequence() {
    let mut resp = completion(json!({"role": "assistant", "content": "42"}), "stop");
    resp["choices"][0]["stop_reason"] = json!("</answer>"); // vLLM
    let out = openai_to_anthropic_response(&resp, CLIENT_MODEL).unwrap();
    assert_eq!(out["stop_reason"], "stop_sequence");
    assert_eq!(out["stop_sequence"], "</answer>");

    let mut resp = completion(json!({"role": "assistant", "content": "42"}), "stop");
    resp["choices"][0]["matched_stop"] = json!(128009); // SGLang, an EOS token id
    let out = openai_to_anthropic_response(&resp, CLIENT_MODEL).unwrap();
    assert_eq!(out["stop_reason"], "end_turn");
}

#[test]
fn refusal_text_is_kept_and_empty_answers_have_no_blocks() {
    let resp = completion(
        json!({"role": "assistant", "content": null, "refusal": "I can't help with that."}),
        "stop",
    );
    let out = openai_to_anthropic_response(&resp, CLIENT_MODEL).unwrap();
    assert_eq!(
        out["content"],
        json!([{"type": "text", "text": "I can't help with that."}])
    );

    let mut resp = completion(json!({"role": "assistant", "content": ""}), "length");
    resp.as_object_mut().unwrap().remove("usage");
    let out = openai_to_anthropic_response(&resp, CLIENT_MODEL).unwrap();
    assert_eq!(out["content"], json!([]));
    assert_eq!(out["usage"], json!({"input_tokens": 0, "output_tokens": 0}));
}

#[test]
fn missing_tool_call_id_gets_one() {
    let resp = completion(
        json!({"role": "assistant", "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": {"a": 1}}}]}),
        "tool_calls",
    );
    let out = openai_to_anthropic_response(&resp, CLIENT_MODEL).unwrap();
    let id = out["content"][0]["id"].as_str().unwrap();
    assert!(
        id.starts_with("toolu_") && id.len() > "toolu_".len(),
        "{id}"
    );
    assert_eq!(out["content"][0]["input"], json!({"a": 1}));
}

#[test]
fn broken_tool_arguments_are_an_upstream_error() {
    for args in ["{\"city\": \"Par", "[1, 2]", "\"text\""] {
        let resp = completion(
            json!({"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": args}}]}),
            "tool_calls",
        );
        let err = openai_to_anthropic_response(&resp, CLIENT_MODEL).unwrap_err();
        assert!(err.is_upstream() && err.status() == 502, "{args}: {err}");
        assert!(
            err.message().contains("tool_calls[0].function.arguments"),
            "{}",
            err.message()
        );
    }
}

#[test]
fn malformed_completions_are_upstream_errors() {
    let cases = [
        json!("nope"),
        json!({"id": "x"}),
        json!({"choices": []}),
        json!({"choices": [{"index": 0}]}),
        json!({"choices": [{"message": {"content": 5}}]}),
        json!({"error": {"message": "boom"}}),
        json!({"choices": [{"message": {"tool_calls": [{"id": "c", "function": {"arguments": "{}"}}]}}]}),
    ];
    for resp in cases {
        let err = openai_to_anthropic_response(&resp, CLIENT_MODEL).unwrap_err();
        assert!(err.is_upstream(), "{resp}: {err}");
    }
}

#[test]
fn ids_look_like_anthropic_ids() {
    let mut resp = completion(json!({"role": "assistant", "content": "x"}), "stop");
    resp["id"] = json!("cmpl-a b/c");
    let out = openai_to_anthropic_response(&resp, CLIENT_MODEL).unwrap();
    assert_eq!(out["id"], "msg_cmpl-abc");
    resp["id"] = json!("msg_01XFDUDYJgAACzvnptvVoYEL");
    let out = openai_to_anthropic_response(&resp, CLIENT_MODEL).unwrap();
    assert_eq!(out["id"], "msg_01XFDUDYJgAACzvnptvVoYEL");
}
