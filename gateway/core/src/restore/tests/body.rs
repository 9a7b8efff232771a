//! Answers that are not streamed.

use serde_json::{json, Value};

use super::super::restore_json_body;
use super::*;

#[test]
fn every_string_is_restored_and_arguments_stay_valid_json() {
    let vault = vault();
    let body = json!({
        "id": "chatcmpl-1",
        "choices": [{"index": 0, "message": {
            "role": "assistant",
            "content": ANSWER,
            "tool_calls": [{"id": "call_1", "type": "function",
                "function": {"name": "send", "arguments": "{\"to\": \"⟦NAME_1⟧\"}"}}],
        }}],
    });
    let (out, n) = restore_json_body(body.to_string().as_bytes(), &vault).unwrap();
    let out: Value = serde_json::from_slice(&out).unwrap();
    let message = &out["choices"][0]["message"];
    assert_eq!(message["content"], restored_answer());
    let args: Value = serde_json::from_str(
        message["tool_calls"][0]["function"]["arguments"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(args, json!({ "to": NAME }));
    assert_eq!(n, 3);
    // Key order is kept.
    let keys: Vec<&String> = out.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["id", "choices"]);
}

#[test]
fn escaped_brackets_are_found() {
    let vault = vault();
    let body = br#"{"content":[{"type":"text","text":"\u27E6EMAIL_1\u27e7"}]}"#;
    let (out, n) = restore_json_body(body, &vault).unwrap();
    assert_eq!(n, 1);
    assert_eq!(
        serde_json::from_slice::<Value>(&out).unwrap()["content"][0]["text"],
        EMAIL
    );
}

#[test]
fn bodies_without_brackets_are_returned_unparsed() {
    let vault = vault();
    // Not JSON, but nothing to restore: not parsed, so not an error.
    let body = b"{ not json at all";
    assert_eq!(restore_json_body(body, &vault).unwrap(), (body.to_vec(), 0));
    // Pretty-printed JSON with only an invented placeholder keeps its bytes.
    let body = b"{\n  \"text\": \"\xe2\x9f\xa6EMAIL_9\xe2\x9f\xa7\"\n}";
    assert_eq!(restore_json_body(body, &vault).unwrap(), (body.to_vec(), 0));
}

#[test]
fn invalid_json_that_needs_parsing_is_an_error() {
    let vault = vault();
    let err = restore_json_body("{\"a\": \"⟦EMAIL_1⟧\"".as_bytes(), &vault).unwrap_err();
    assert!(err.is_invalid_json(), "{err}");
}
