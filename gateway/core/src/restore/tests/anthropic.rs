//! Anthropic messages streams.

use serde_json::{json, Value};

use super::super::{anthropic_restorer, StreamRestorer};
use super::*;
use crate::sse::write_event;

fn named(v: &Value) -> SseEvent {
    SseEvent {
        event: v["type"].as_str().map(str::to_owned),
        data: v.to_string(),
        ..SseEvent::default()
    }
}

/// A `text_delta` event for block `index`.
pub(in super::super) fn text_delta(index: u64, text: &str) -> SseEvent {
    named(
        &json!({"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": text}}),
    )
}

fn upstream(text: &[&str], tool_input: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut push = |v: Value| write_event(&mut out, v["type"].as_str(), &v.to_string());
    push(
        json!({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant",
        "model": "claude-sonnet-4", "content": [], "stop_reason": null, "stop_sequence": null,
        "usage": {"input_tokens": 10, "output_tokens": 1}}}),
    );
    push(
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
    );
    for (i, t) in text.iter().enumerate() {
        if i == 1 {
            // A ping may come between any two events, also inside a placeholder.
            push(json!({"type": "ping"}));
        }
        push(
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": t}}),
        );
    }
    push(json!({"type": "content_block_stop", "index": 0}));
    push(
        json!({"type": "content_block_start", "index": 1, "content_block":
        {"type": "tool_use", "id": "toolu_1", "name": "send", "input": {}}}),
    );
    for t in tool_input {
        push(
            json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": t}}),
        );
    }
    push(json!({"type": "content_block_stop", "index": 1}));
    push(
        json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null},
        "usage": {"output_tokens": 15}}),
    );
    push(json!({"type": "message_stop"}));
    out
}

/// Checks the client stream's structure; returns (text of block 0, tool input of block 1).
fn check(bytes: &[u8]) -> (String, String) {
    let events = client_events(bytes);
    let json = client_json(&events);
    assert_eq!(events.len(), json.len());
    let mut open: Option<u64> = None;
    let mut blocks = [String::new(), String::new()];
    for (ev, v) in events.iter().zip(&json) {
        let ty = v["type"].as_str().unwrap();
        assert_eq!(ev.event.as_deref(), Some(ty), "event name matches its type");
        match ty {
            "content_block_start" => open = v["index"].as_u64(),
            "content_block_stop" => {
                assert_eq!(open, v["index"].as_u64());
                open = None;
            }
            "content_block_delta" => {
                let index = v["index"].as_u64().unwrap();
                assert_eq!(open, Some(index), "delta outside its block");
                let delta = &v["delta"];
                let field = if index == 0 { "text" } else { "partial_json" };
                let kind = if index == 0 {
                    "text_delta"
                } else {
                    "input_json_delta"
                };
                assert_eq!(delta["type"], kind);
                blocks[index as usize].push_str(delta[field].as_str().unwrap());
            }
            _ => {}
        }
    }
    assert_eq!(json.last().unwrap()["type"], "message_stop");
    let [text, tool] = blocks;
    (text, tool)
}

const TOOL_INPUT: &str = r#"{"to": "⟦NAME_1⟧", "mail": "⟦EMAIL_1⟧"}"#;

#[test]
fn every_cut_of_text_and_tool_input_restores() {
    let vault = vault();
    for (a, b) in char_splits(ANSWER) {
        let mut r = anthropic_restorer(&vault);
        let out = run(&mut r, &upstream(&[a, b], &[TOOL_INPUT]), &[]);
        let (text, _) = check(&out);
        assert_eq!(text, restored_answer(), "cut {a:?} | {b:?}");
        assert_eq!(r.restored(), 4);
    }
    for (a, b) in char_splits(TOOL_INPUT) {
        let mut r = anthropic_restorer(&vault);
        let out = run(&mut r, &upstream(&[ANSWER], &[a, b]), &[]);
        let (_, tool) = check(&out);
        let input: Value = serde_json::from_str(&tool).unwrap();
        assert_eq!(
            input,
            json!({"to": NAME, "mail": EMAIL}),
            "cut {a:?} | {b:?}"
        );
    }
}

#[test]
fn every_byte_cut_of_the_upstream_bytes_restores() {
    let vault = vault();
    let bytes = upstream(
        &[
            "Write to ⟦EMAIL",
            "_1⟧ or call ⟦PHONE_1⟧; ⟦EMAIL_9⟧ is unknown ⟦ ok.",
        ],
        &[TOOL_INPUT],
    );
    for cut in 0..=bytes.len() {
        let mut r = anthropic_restorer(&vault);
        let (text, _) = check(&run(&mut r, &bytes, &[cut]));
        assert_eq!(text, restored_answer(), "cut at byte {cut}");
    }
}

#[test]
fn one_character_per_delta_restores() {
    let vault = vault();
    let text = chars(ANSWER);
    let input = chars(TOOL_INPUT);
    let text: Vec<&str> = text.iter().map(String::as_str).collect();
    let input: Vec<&str> = input.iter().map(String::as_str).collect();
    let mut r = anthropic_restorer(&vault);
    let (t, tool) = check(&run(&mut r, &upstream(&text, &input), &[]));
    assert_eq!(t, restored_answer());
    assert_eq!(
        serde_json::from_str::<Value>(&tool).unwrap(),
        json!({"to": NAME, "mail": EMAIL})
    );
}

#[test]
fn held_text_is_flushed_before_content_block_stop() {
    let vault = vault();
    let mut r = anthropic_restorer(&vault);
    let out = run(&mut r, &upstream(&["See ⟦PHONE"], &[]), &[]);
    let events = client_events(&out);
    let names: Vec<&str> = events.iter().map(|e| e.event.as_deref().unwrap()).collect();
    let stop = names
        .iter()
        .position(|n| *n == "content_block_stop")
        .unwrap();
    assert_eq!(names[stop - 1], "content_block_delta");
    let flushed: Value = serde_json::from_str(&events[stop - 1].data).unwrap();
    assert_eq!(
        flushed,
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "⟦PHONE"}})
    );
}

#[test]
fn complete_strings_in_other_events_are_restored() {
    let vault = vault();
    let mut r = anthropic_restorer(&vault);
    let start = named(&json!({"type": "content_block_start", "index": 0,
        "content_block": {"type": "text", "text": "Hi ⟦NAME_1⟧"}}));
    let out = r.on_event(&start).unwrap();
    let v: Value = serde_json::from_str(&client_events(&out)[0].data).unwrap();
    assert_eq!(v["content_block"]["text"], format!("Hi {NAME}"));
    assert_eq!(r.restored(), 1);
}

#[test]
fn unchanged_stream_passes_through_byte_for_byte() {
    let vault = vault();
    let bytes = upstream(&["no ⟦EMAIL_2⟧ here"], &[r#"{"a": 1}"#]);
    let mut r = anthropic_restorer(&vault);
    assert_eq!(run(&mut r, &bytes, &[]), bytes);
}
