//! OpenAI chat completions streams.

use serde_json::{json, Value};

use super::super::{openai_chat_restorer, StreamRestorer};
use super::*;
use crate::sse::write_event;

fn frame(v: &Value) -> SseEvent {
    SseEvent {
        data: v.to_string(),
        ..SseEvent::default()
    }
}

fn chunk_json(choice: u64, delta: Value, finish: Value) -> Value {
    json!({
        "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1700000000,
        "model": "gpt-4o", "system_fingerprint": "fp_1",
        "choices": [{"index": choice, "delta": delta, "logprobs": null, "finish_reason": finish}],
    })
}

/// A content delta event for `choice`.
pub(in super::super) fn chunk(choice: u64, content: &str) -> SseEvent {
    frame(&chunk_json(
        choice,
        json!({ "content": content }),
        Value::Null,
    ))
}

/// A whole upstream stream whose content arrives in `deltas`.
fn upstream(deltas: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut push = |v: Value| write_event(&mut out, None, &v.to_string());
    push(chunk_json(
        0,
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    ));
    for d in deltas {
        push(chunk_json(0, json!({ "content": d }), Value::Null));
    }
    push(chunk_json(0, json!({}), json!("stop")));
    let mut usage = chunk_json(0, json!({}), Value::Null);
    usage["choices"] = json!([]);
    usage["usage"] = json!({"prompt_tokens": 9, "completion_tokens": 12, "total_tokens": 21});
    push(usage);
    write_event(&mut out, None, "[DONE]");
    out
}

/// The concatenated `choices[0].delta.content` a client sees.
pub(in super::super) fn content_of(bytes: &[u8]) -> String {
    client_json(&client_events(bytes))
        .iter()
        .filter_map(|c| {
            let choice = c["choices"]
                .as_array()?
                .iter()
                .find(|ch| ch["index"] == 0)?;
            Some(choice["delta"]["content"].as_str()?.to_owned())
        })
        .collect()
}

/// Checks the shape of a client stream: every chunk is a well-formed chunk of this completion,
/// no content after the finish, `[DONE]` last.
fn assert_well_formed(bytes: &[u8]) {
    let events = client_events(bytes);
    assert_eq!(events.last().map(|e| e.data.as_str()), Some("[DONE]"));
    let mut finished = false;
    for c in client_json(&events) {
        assert_eq!(c["id"], "chatcmpl-1");
        assert_eq!(c["object"], "chat.completion.chunk");
        assert_eq!(c["model"], "gpt-4o");
        assert_eq!(c["created"], 1700000000);
        for choice in c["choices"].as_array().unwrap() {
            assert_eq!(choice["index"], 0);
            let has_text = choice["delta"]["content"]
                .as_str()
                .is_some_and(|s| !s.is_empty());
            assert!(!(finished && has_text), "content after finish_reason");
            finished |= !choice["finish_reason"].is_null();
        }
    }
    assert!(finished);
}

#[test]
fn every_cut_of_the_answer_across_two_chunks_restores() {
    let vault = vault();
    for (a, b) in char_splits(ANSWER) {
        let mut r = openai_chat_restorer(&vault);
        let out = run(&mut r, &upstream(&[a, b]), &[]);
        assert_eq!(content_of(&out), restored_answer(), "cut {a:?} | {b:?}");
        assert_well_formed(&out);
        assert_eq!(r.restored(), 2);
        assert_eq!(r.unparsed(), 0);
    }
}

#[test]
fn every_byte_cut_of_the_upstream_bytes_restores() {
    let vault = vault();
    let bytes = upstream(&[
        "Write to ⟦EM",
        "AIL_1⟧ or call ⟦PHONE_1⟧; ⟦EMAIL_9⟧ is unknown ⟦ ok.",
    ]);
    for cut in 0..=bytes.len() {
        let mut r = openai_chat_restorer(&vault);
        let out = run(&mut r, &bytes, &[cut]);
        assert_eq!(content_of(&out), restored_answer(), "cut at byte {cut}");
        assert_well_formed(&out);
    }
}

#[test]
fn one_character_per_chunk_restores() {
    let vault = vault();
    let pieces = chars(ANSWER);
    let pieces: Vec<&str> = pieces.iter().map(String::as_str).collect();
    let mut r = openai_chat_restorer(&vault);
    let out = run(&mut r, &upstream(&pieces), &[]);
    assert_eq!(content_of(&out), restored_answer());
    assert_well_formed(&out);
}

#[test]
fn held_text_at_finish_is_synthesized_before_the_finish_chunk() {
    let vault = vault();
    let mut r = openai_chat_restorer(&vault);
    let out = run(&mut r, &upstream(&["Bye ⟦EMAIL_"]), &[]);
    let json = client_json(&client_events(&out));
    // role, "Bye ", synthesized "⟦EMAIL_", finish, usage.
    assert_eq!(json.len(), 5);
    assert_eq!(json[1]["choices"][0]["delta"]["content"], "Bye ");
    assert_eq!(json[2]["choices"][0]["delta"]["content"], "⟦EMAIL_");
    assert_eq!(json[2]["choices"][0]["finish_reason"], Value::Null);
    assert_eq!(json[2]["system_fingerprint"], "fp_1");
    assert_eq!(json[3]["choices"][0]["finish_reason"], "stop");
    assert_well_formed(&out);
}

#[test]
fn finish_chunk_with_content_carries_the_flush_itself() {
    let vault = vault();
    let mut r = openai_chat_restorer(&vault);
    let mut out = r.on_event(&chunk(0, "x ⟦EMA")).unwrap();
    let last = chunk_json(0, json!({"content": "IL_"}), json!("length"));
    out.extend(r.on_event(&frame(&last)).unwrap());
    let json = client_json(&client_events(&out));
    assert_eq!(json.len(), 2);
    assert_eq!(json[1]["choices"][0]["delta"]["content"], "⟦EMAIL_");
    assert_eq!(json[1]["choices"][0]["finish_reason"], "length");
    assert!(r.finish().is_empty());
}

#[test]
fn stream_cut_off_without_done_is_flushed_by_finish() {
    let vault = vault();
    let mut r = openai_chat_restorer(&vault);
    let mut out = r.on_event(&chunk(0, "to ⟦PHONE")).unwrap();
    out.extend(r.finish());
    assert_eq!(content_of(&out), "to ⟦PHONE");
}

#[test]
fn tool_call_arguments_are_restored_as_valid_json_per_tool() {
    let vault = vault();
    let args0 = r#"{"who": "⟦NAME_1⟧", "mail": "⟦EMAIL_1⟧"}"#;
    let args1 = r#"{"phone": "⟦PHONE_1⟧"}"#;
    for (a, b) in char_splits(args0) {
        let mut r = openai_chat_restorer(&vault);
        let mut out = Vec::new();
        let tool = |index: u64, args: &str, head: bool| {
            let mut call = json!({"index": index, "function": {"arguments": args}});
            if head {
                call["id"] = json!(format!("call_{index}"));
                call["type"] = json!("function");
                call["function"]["name"] = json!("send");
            }
            frame(&chunk_json(0, json!({ "tool_calls": [call] }), Value::Null))
        };
        for ev in [
            tool(0, a, true),
            tool(0, b, false),
            tool(1, &args1[..14], true),
            tool(1, &args1[14..], false),
            frame(&chunk_json(0, json!({}), json!("tool_calls"))),
        ] {
            out.extend(r.on_event(&ev).unwrap());
        }
        out.extend(r.finish());
        let mut args = [String::new(), String::new()];
        for c in client_json(&client_events(&out)) {
            for call in c["choices"][0]["delta"]["tool_calls"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let i = call["index"].as_u64().unwrap() as usize;
                args[i].push_str(call["function"]["arguments"].as_str().unwrap_or(""));
            }
        }
        let parsed: Value = serde_json::from_str(&args[0]).unwrap();
        assert_eq!(
            parsed,
            json!({"who": NAME, "mail": EMAIL}),
            "cut {a:?} | {b:?}"
        );
        let parsed: Value = serde_json::from_str(&args[1]).unwrap();
        assert_eq!(parsed, json!({ "phone": PHONE }));
        assert_eq!(r.restored(), 3);
    }
}

#[test]
fn choices_are_separate_channels() {
    let vault = vault();
    let mut r = openai_chat_restorer(&vault);
    let mut out = Vec::new();
    for ev in [
        chunk(0, "A ⟦EMA"),
        chunk(1, "B ⟦PHO"),
        chunk(0, "IL_1⟧"),
        chunk(1, "NE_1⟧"),
    ] {
        out.extend(r.on_event(&ev).unwrap());
    }
    let mut text = [String::new(), String::new()];
    for c in client_json(&client_events(&out)) {
        let choice = &c["choices"][0];
        text[choice["index"].as_u64().unwrap() as usize]
            .push_str(choice["delta"]["content"].as_str().unwrap());
    }
    assert_eq!(text, [format!("A {EMAIL}"), format!("B {PHONE}")]);
}

#[test]
fn escaped_brackets_in_the_json_are_restored() {
    let vault = vault();
    let mut r = openai_chat_restorer(&vault);
    let ev = SseEvent {
        data:
            r#"{"choices":[{"index":0,"delta":{"content":"\u27e6EMAIL_1\u27E7 and \u27E6PHO"}}]}"#
                .into(),
        ..SseEvent::default()
    };
    let mut out = r.on_event(&ev).unwrap();
    out.extend(r.on_event(&chunk(0, "NE_1⟧")).unwrap());
    assert_eq!(content_of(&out), format!("{EMAIL} and {PHONE}"));
}

#[test]
fn unchanged_events_pass_through_byte_for_byte() {
    let vault = vault();
    let bytes = upstream(&["Nothing ⟦EMAIL_9⟧ to ", "restore here ⟦ ", "⟦EMAIL_1 ⟧"]);
    let mut r = openai_chat_restorer(&vault);
    assert_eq!(run(&mut r, &bytes, &[]), bytes);
    assert_eq!(r.restored(), 0);
}

#[test]
fn keepalives_and_non_json_events_pass_through_and_are_counted() {
    let vault = vault();
    let mut r = openai_chat_restorer(&vault);
    let bytes = b": keep-alive\n\ndata: not json \xe2\x9f\xa6EMAIL_1\xe2\x9f\xa7\n\n";
    assert_eq!(run(&mut r, bytes, &[]), bytes.to_vec());
    assert_eq!(r.unparsed(), 1);
}
