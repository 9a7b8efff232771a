//! Gemini `alt=sse` streams.

use serde_json::{json, Value};

use super::super::{gemini_sse_restorer, StreamRestorer};
use super::*;

/// One chunk: text parts (`(text, thought)`), an optional finish reason.
pub(super) fn chunk(parts: &[(&str, bool)], finish: Option<&str>) -> Value {
    let parts: Vec<Value> = parts
        .iter()
        .map(|(t, thought)| {
            if *thought {
                json!({"text": t, "thought": true})
            } else {
                json!({ "text": t })
            }
        })
        .collect();
    let mut candidate = json!({"content": {"parts": parts, "role": "model"}, "index": 0});
    if let Some(f) = finish {
        candidate["finishReason"] = json!(f);
    }
    json!({"candidates": [candidate], "usageMetadata": {"promptTokenCount": 5},
        "modelVersion": "gemini-2.5-flash", "responseId": "resp-1"})
}

/// The chunks of a stream answering `text` in pieces, the last one finishing.
pub(super) fn chunks(text: &[&str], finish_alone: bool) -> Vec<Value> {
    let mut out: Vec<Value> = text.iter().map(|t| chunk(&[(t, false)], None)).collect();
    if finish_alone {
        out.push(chunk(&[], Some("STOP")));
    } else if let Some(last) = out.last_mut() {
        last["candidates"][0]["finishReason"] = json!("STOP");
    }
    out
}

/// Gemini frames events with CRLF.
fn upstream(chunks: &[Value]) -> Vec<u8> {
    chunks
        .iter()
        .flat_map(|c| format!("data: {c}\r\n\r\n").into_bytes())
        .collect()
}

/// (answer text, thought text) of a list of chunks, checking each is well formed.
pub(super) fn texts(chunks: &[Value]) -> (String, String) {
    let (mut text, mut thought) = (String::new(), String::new());
    let mut finished = false;
    for c in chunks {
        assert_eq!(c["modelVersion"], "gemini-2.5-flash");
        let candidate = &c["candidates"][0];
        assert_eq!(candidate["index"], 0);
        assert!(!finished, "chunk after the finish");
        for part in candidate["content"]["parts"].as_array().unwrap() {
            if let Some(t) = part["text"].as_str() {
                if part["thought"] == true {
                    &mut thought
                } else {
                    &mut text
                }
                .push_str(t);
            }
        }
        finished = candidate["finishReason"].is_string();
    }
    assert!(finished);
    (text, thought)
}

fn client_texts(bytes: &[u8]) -> (String, String) {
    texts(&client_json(&client_events(bytes)))
}

#[test]
fn every_cut_across_two_chunks_restores() {
    let vault = vault();
    for finish_alone in [false, true] {
        for (a, b) in char_splits(ANSWER) {
            let mut r = gemini_sse_restorer(&vault);
            let out = run(&mut r, &upstream(&chunks(&[a, b], finish_alone)), &[]);
            assert_eq!(client_texts(&out).0, restored_answer(), "cut {a:?} | {b:?}");
            assert_eq!(r.restored(), 2);
        }
    }
}

#[test]
fn every_byte_cut_of_the_upstream_bytes_restores() {
    let vault = vault();
    let bytes = upstream(&chunks(
        &[
            "Write to ⟦EMAIL_1",
            "⟧ or call ⟦PHONE_1⟧; ⟦EMAIL_9⟧ is unknown ⟦ ok.",
        ],
        false,
    ));
    for cut in 0..=bytes.len() {
        let mut r = gemini_sse_restorer(&vault);
        assert_eq!(
            client_texts(&run(&mut r, &bytes, &[cut])).0,
            restored_answer(),
            "cut {cut}"
        );
    }
}

#[test]
fn one_character_per_chunk_restores() {
    let vault = vault();
    let pieces = chars(ANSWER);
    let pieces: Vec<&str> = pieces.iter().map(String::as_str).collect();
    let mut r = gemini_sse_restorer(&vault);
    assert_eq!(
        client_texts(&run(&mut r, &upstream(&chunks(&pieces, true)), &[])).0,
        restored_answer()
    );
}

#[test]
fn thoughts_and_answer_are_separate_channels_and_function_args_are_restored() {
    let vault = vault();
    let mut call = chunk(&[("mail ⟦EMAIL_1⟧", false)], Some("STOP"));
    call["candidates"][0]["content"]["parts"]
        .as_array_mut()
        .unwrap()
        .push(json!({"functionCall": {"name": "send", "args": {"to": "⟦NAME_1⟧"}}}));
    let stream = [
        chunk(&[("thinking of ⟦PHO", true), ("Hello ⟦NAME", false)], None),
        chunk(&[("NE_1⟧.", true), ("_1⟧, ", false)], None),
        call,
    ];
    let mut r = gemini_sse_restorer(&vault);
    let out = run(&mut r, &upstream(&stream), &[]);
    let json = client_json(&client_events(&out));
    assert_eq!(
        texts(&json),
        (
            format!("Hello {NAME}, mail {EMAIL}"),
            format!("thinking of {PHONE}.")
        )
    );
    assert_eq!(
        json[2]["candidates"][0]["content"]["parts"][1]["functionCall"]["args"]["to"],
        NAME
    );
    assert_eq!(r.restored(), 4);
}

#[test]
fn held_text_without_a_text_part_at_finish_is_synthesized() {
    let vault = vault();
    let mut r = gemini_sse_restorer(&vault);
    let out = run(&mut r, &upstream(&chunks(&["bye ⟦EMAIL_"], true)), &[]);
    let json = client_json(&client_events(&out));
    assert_eq!(json.len(), 3);
    assert_eq!(
        json[1],
        json!({"candidates": [{"content": {"parts": [{"text": "⟦EMAIL_"}], "role": "model"}, "index": 0}],
            "modelVersion": "gemini-2.5-flash", "responseId": "resp-1"})
    );
    assert_eq!(json[2]["candidates"][0]["finishReason"], "STOP");
}

#[test]
fn unchanged_stream_passes_through() {
    let vault = vault();
    let mut bytes = Vec::new();
    for c in chunks(&["nothing ⟦x", "⟦EMAIL_3⟧ here"], true) {
        crate::sse::write_event(&mut bytes, None, &c.to_string());
    }
    let mut r = gemini_sse_restorer(&vault);
    assert_eq!(run(&mut r, &bytes, &[]), bytes);
}
