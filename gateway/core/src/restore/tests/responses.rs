//! OpenAI Responses API streams.

use serde_json::{json, Value};

use super::super::{responses_restorer, StreamRestorer};
use super::*;
use crate::sse::write_event;

const ARGS: &str = r#"{"to": "⟦NAME_1⟧", "phone": "⟦PHONE_1⟧"}"#;

fn message_item(status: &str, text: &str) -> Value {
    let content = if text.is_empty() {
        json!([])
    } else {
        json!([{"type": "output_text", "text": text, "annotations": []}])
    };
    json!({"id": "msg_1", "type": "message", "status": status, "role": "assistant", "content": content})
}

fn call_item(status: &str, args: &str) -> Value {
    json!({"id": "fc_1", "type": "function_call", "status": status, "arguments": args, "call_id": "call_1", "name": "send"})
}

fn upstream(text: &[&str], args: &[&str]) -> Vec<u8> {
    let full_text = text.concat();
    let full_args = args.concat();
    let mut seq = 0;
    let mut out = Vec::new();
    let mut push = |mut v: Value| {
        v["sequence_number"] = json!(seq);
        seq += 1;
        write_event(&mut out, v["type"].as_str(), &v.to_string());
    };
    let response = |status: &str, output: Value| json!({"id": "resp_1", "object": "response", "status": status, "model": "gpt-4.1", "output": output});
    push(json!({"type": "response.created", "response": response("in_progress", json!([]))}));
    push(json!({"type": "response.in_progress", "response": response("in_progress", json!([]))}));
    push(
        json!({"type": "response.output_item.added", "output_index": 0, "item": message_item("in_progress", "")}),
    );
    let ids = json!({"item_id": "msg_1", "output_index": 0, "content_index": 0});
    let with = |mut v: Value, extra: &Value| {
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        v
    };
    push(with(
        json!({"type": "response.content_part.added", "part": {"type": "output_text", "text": "", "annotations": []}}),
        &ids,
    ));
    for t in text {
        push(with(
            json!({"type": "response.output_text.delta", "delta": t, "logprobs": []}),
            &ids,
        ));
    }
    push(with(
        json!({"type": "response.output_text.done", "text": full_text, "logprobs": []}),
        &ids,
    ));
    push(with(
        json!({"type": "response.content_part.done", "part": {"type": "output_text", "text": full_text, "annotations": []}}),
        &ids,
    ));
    push(
        json!({"type": "response.output_item.done", "output_index": 0, "item": message_item("completed", &full_text)}),
    );
    push(
        json!({"type": "response.output_item.added", "output_index": 1, "item": call_item("in_progress", "")}),
    );
    for a in args {
        push(
            json!({"type": "response.function_call_arguments.delta", "item_id": "fc_1", "output_index": 1, "delta": a}),
        );
    }
    push(
        json!({"type": "response.function_call_arguments.done", "item_id": "fc_1", "output_index": 1, "arguments": full_args}),
    );
    push(
        json!({"type": "response.output_item.done", "output_index": 1, "item": call_item("completed", &full_args)}),
    );
    let output = json!([
        message_item("completed", &full_text),
        call_item("completed", &full_args)
    ]);
    push(json!({"type": "response.completed", "response": response("completed", output)}));
    out
}

fn expected_args() -> Value {
    json!({"to": NAME, "phone": PHONE})
}

/// Checks every event of the client stream: names, numbering, order and every text it carries.
fn check(bytes: &[u8]) {
    let events = client_events(bytes);
    let json = client_json(&events);
    assert_eq!(events.len(), json.len());
    let (mut text, mut args) = (String::new(), String::new());
    let mut text_done = false;
    for (i, (ev, v)) in events.iter().zip(&json).enumerate() {
        let ty = v["type"].as_str().unwrap();
        assert_eq!(ev.event.as_deref(), Some(ty));
        assert_eq!(
            v["sequence_number"],
            json!(i),
            "sequence numbers count up from 0"
        );
        match ty {
            "response.output_text.delta" => {
                assert!(!text_done, "delta after done");
                assert_eq!(
                    (&v["item_id"], &v["content_index"]),
                    (&json!("msg_1"), &json!(0))
                );
                text.push_str(v["delta"].as_str().unwrap());
            }
            "response.output_text.done" => {
                text_done = true;
                assert_eq!(v["text"], restored_answer());
            }
            "response.content_part.done" => assert_eq!(v["part"]["text"], restored_answer()),
            "response.function_call_arguments.delta" => {
                assert_eq!(v["item_id"], "fc_1");
                args.push_str(v["delta"].as_str().unwrap());
            }
            "response.function_call_arguments.done" => {
                let done: Value = serde_json::from_str(v["arguments"].as_str().unwrap()).unwrap();
                assert_eq!(done, expected_args());
            }
            "response.completed" => {
                let output = &v["response"]["output"];
                assert_eq!(output[0]["content"][0]["text"], restored_answer());
                let done: Value =
                    serde_json::from_str(output[1]["arguments"].as_str().unwrap()).unwrap();
                assert_eq!(done, expected_args());
            }
            _ => {}
        }
    }
    assert_eq!(text, restored_answer());
    assert_eq!(
        serde_json::from_str::<Value>(&args).unwrap(),
        expected_args()
    );
    assert_eq!(json.last().unwrap()["type"], "response.completed");
}

#[test]
fn every_cut_of_text_and_arguments_restores_with_consistent_numbering() {
    let vault = vault();
    for (a, b) in char_splits(ANSWER) {
        let mut r = responses_restorer(&vault);
        let out = run(&mut r, &upstream(&[a, b], &[ARGS]), &[]);
        check(&out);
        // 2 in the deltas, and in output_text.done, content_part.done, output_item.done,
        // completed; 2 in the arguments likewise, in their delta, done, item done, completed.
        assert_eq!(r.restored(), 2 * 5 + 2 * 4);
    }
    for (a, b) in char_splits(ARGS) {
        let mut r = responses_restorer(&vault);
        check(&run(&mut r, &upstream(&[ANSWER], &[a, b]), &[]));
    }
}

#[test]
fn every_byte_cut_of_the_upstream_bytes_restores() {
    let vault = vault();
    let bytes = upstream(
        &[
            "Write to ⟦EMAIL_1⟧ or call ⟦PH",
            "ONE_1⟧; ⟦EMAIL_9⟧ is unknown ⟦ ok.",
        ],
        &[ARGS],
    );
    for cut in 0..=bytes.len() {
        let mut r = responses_restorer(&vault);
        check(&run(&mut r, &bytes, &[cut]));
    }
}

#[test]
fn one_character_per_delta_restores() {
    let vault = vault();
    let text = chars(ANSWER);
    let args = chars(ARGS);
    let text: Vec<&str> = text.iter().map(String::as_str).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut r = responses_restorer(&vault);
    check(&run(&mut r, &upstream(&text, &args), &[]));
}

#[test]
fn synthesized_flush_copies_the_last_delta_and_shifts_later_numbers() {
    let vault = vault();
    let mut r = responses_restorer(&vault);
    let out = run(&mut r, &upstream(&["ends with ⟦EMAIL_"], &[r#"{}"#]), &[]);
    let json = client_json(&client_events(&out));
    let done = json
        .iter()
        .position(|v| v["type"] == "response.output_text.done")
        .unwrap();
    assert_eq!(
        json[done - 1],
        json!({"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0,
            "content_index": 0, "delta": "⟦EMAIL_", "logprobs": [], "sequence_number": done - 1})
    );
    assert_eq!(json[done]["sequence_number"], json!(done));
    assert_eq!(
        json.last().unwrap()["sequence_number"],
        json!(json.len() - 1)
    );
}

#[test]
fn unchanged_stream_passes_through_byte_for_byte() {
    let vault = vault();
    let bytes = upstream(&["plain ", "⟦EMAIL_7⟧ text"], &[r#"{"a": "⟦"}"#]);
    let mut r = responses_restorer(&vault);
    assert_eq!(run(&mut r, &bytes, &[]), bytes);
}
