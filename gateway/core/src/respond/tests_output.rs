//! Response rules and restoration together, in every framing, with the upstream bytes cut at
//! every position: what the client assembles, how its stream ends, and that numbering survives.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::output::tests::{output_rules, vault};
use crate::sse::SseParser;
use serde_json::{json, Value};

/// The model writes the placeholder of the user's address, an address of its own, and a code
/// name; the user reads their address back, the model's address and the code name redacted.
const MODEL: &str = "Mail ⟦EMAIL_1⟧ or bob@x.example about Falcon; done.";
const CLIENT: &str =
    "Mail jane@corp.example or [REDACTED:out.email] about [REDACTED:out.codename]; done.";
const BLOCKED: &str = "The launch code is TOPSECRET; keep it.";

fn plan(family: Family, op: Op) -> ResponsePlan {
    ResponsePlan {
        family,
        op,
        translation: None,
        vault: Arc::new(vault()),
        client_model: "m".into(),
        request_id: "r1".into(),
        include_usage: false,
        output: Some(output_rules()),
    }
}

/// The model's text in pieces of four characters: placeholders and matches cross events.
fn pieces(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(4).map(|c| c.iter().collect()).collect()
}

fn sse(event: Option<&str>, data: &Value) -> String {
    match event {
        Some(name) => format!("event: {name}\ndata: {data}\n\n"),
        None => format!("data: {data}\n\n"),
    }
}

fn openai_upstream(text: &str) -> String {
    let chunk = |delta: Value, finish: Value| {
        sse(
            None,
            &json!({"id":"c1","object":"chat.completion.chunk","created":1,"model":"m",
                "choices":[{"index":0,"delta":delta,"finish_reason":finish}]}),
        )
    };
    let mut s = chunk(json!({"role":"assistant","content":""}), Value::Null);
    for p in pieces(text) {
        s.push_str(&chunk(json!({ "content": p }), Value::Null));
    }
    s.push_str(&chunk(json!({}), json!("stop")));
    s.push_str("data: [DONE]\n\n");
    s
}

fn responses_upstream(text: &str) -> String {
    let mut seq = 0;
    let mut next = || {
        seq += 1;
        seq - 1
    };
    let mut s = sse(
        Some("response.created"),
        &json!({"type":"response.created","sequence_number":next(),"response":{"id":"resp_1","status":"in_progress","output":[]}}),
    );
    for p in pieces(text) {
        s.push_str(&sse(
            Some("response.output_text.delta"),
            &json!({"type":"response.output_text.delta","item_id":"msg_1","output_index":0,"content_index":0,"delta":p,"logprobs":[],"sequence_number":next()}),
        ));
    }
    s.push_str(&sse(
        Some("response.output_text.done"),
        &json!({"type":"response.output_text.done","item_id":"msg_1","output_index":0,"content_index":0,"text":text,"logprobs":[],"sequence_number":next()}),
    ));
    s.push_str(&sse(
        Some("response.completed"),
        &json!({"type":"response.completed","sequence_number":next(),"response":{"id":"resp_1","status":"completed",
            "output":[{"type":"message","id":"msg_1","role":"assistant","status":"completed",
                "content":[{"type":"output_text","text":text,"annotations":[]}]}]}}),
    ));
    s
}

fn anthropic_upstream(text: &str) -> String {
    let mut s = sse(
        Some("message_start"),
        &json!({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"m","stop_reason":null,"usage":{"input_tokens":1,"output_tokens":1}}}),
    );
    s.push_str(&sse(
        Some("content_block_start"),
        &json!({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}),
    ));
    for p in pieces(text) {
        s.push_str(&sse(
            Some("content_block_delta"),
            &json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":p}}),
        ));
    }
    s.push_str(&sse(
        Some("content_block_stop"),
        &json!({"type":"content_block_stop","index":0}),
    ));
    s.push_str(&sse(
        Some("message_delta"),
        &json!({"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":9}}),
    ));
    s.push_str(&sse(Some("message_stop"), &json!({"type":"message_stop"})));
    s
}

fn gemini_chunks(text: &str) -> Vec<Value> {
    let ps = pieces(text);
    let last = ps.len() - 1;
    ps.into_iter()
        .enumerate()
        .map(|(i, p)| {
            let mut c = json!({"content":{"parts":[{"text":p}],"role":"model"},"index":0});
            if i == last {
                c["finishReason"] = json!("STOP");
            }
            json!({"candidates":[c],"modelVersion":"g"})
        })
        .collect()
}

fn gemini_sse_upstream(text: &str) -> String {
    gemini_chunks(text).iter().map(|c| sse(None, c)).collect()
}

fn gemini_array_upstream(text: &str) -> String {
    let parts: Vec<String> = gemini_chunks(text).iter().map(Value::to_string).collect();
    format!("[{}]", parts.join(",\r\n"))
}

/// The upstream bytes cut in two at `at`, through a fresh stage of `plan`.
fn run(plan: &ResponsePlan, upstream: &[u8], at: usize, array: bool) -> (Vec<u8>, OutputTally) {
    let mut stage = if array {
        plan.json_array_stage()
    } else {
        plan.sse_stage()
    };
    let mut out = stage.push(&upstream[..at]).unwrap();
    out.extend(stage.push(&upstream[at..]).unwrap());
    out.extend(stage.finish());
    (out, stage.tally().clone())
}

fn client_events(bytes: &[u8]) -> Vec<(Option<String>, Value)> {
    let mut p = SseParser::new(1 << 20);
    let evs = p.feed(bytes).unwrap();
    assert!(!p.has_partial(), "stream ends inside an event");
    evs.into_iter()
        .filter(|e| !e.comment_only && e.data != "[DONE]")
        .map(|e| {
            let v = serde_json::from_str(&e.data)
                .unwrap_or_else(|err| panic!("event is not JSON ({err}): {}", e.data));
            (e.event, v)
        })
        .collect()
}

fn text_of(family: Family, op: Op, events: &[(Option<String>, Value)]) -> String {
    let mut s = String::new();
    for (_, v) in events {
        let piece = match (family, op) {
            (Family::Anthropic, _) => v.pointer("/delta/text"),
            (_, Op::Responses) => (v["type"] == "response.output_text.delta")
                .then(|| v.get("delta"))
                .flatten(),
            (Family::Gemini, _) => v.pointer("/candidates/0/content/parts/0/text"),
            _ => v.pointer("/choices/0/delta/content"),
        };
        s.push_str(piece.and_then(Value::as_str).unwrap_or(""));
    }
    s
}

struct Case {
    family: Family,
    op: Op,
    upstream: fn(&str) -> String,
}

const SSE_CASES: [Case; 4] = [
    Case {
        family: Family::OpenAi,
        op: Op::ChatCompletions,
        upstream: openai_upstream,
    },
    Case {
        family: Family::OpenAi,
        op: Op::Responses,
        upstream: responses_upstream,
    },
    Case {
        family: Family::Anthropic,
        op: Op::Messages,
        upstream: anthropic_upstream,
    },
    Case {
        family: Family::Gemini,
        op: Op::StreamGenerateContent,
        upstream: gemini_sse_upstream,
    },
];

#[test]
fn every_framing_redacts_and_restores_at_every_byte_cut() {
    for case in &SSE_CASES {
        let plan = plan(case.family, case.op);
        let upstream = (case.upstream)(MODEL);
        for at in 0..=upstream.len() {
            let (out, tally) = run(&plan, upstream.as_bytes(), at, false);
            let events = client_events(&out);
            let what = format!("{:?}/{:?} cut at {at}", case.family, case.op);
            assert_eq!(text_of(case.family, case.op, &events), CLIENT, "{what}");
            let raw = String::from_utf8_lossy(&out);
            assert!(
                !raw.contains("bob@x.example") && !raw.contains("Falcon"),
                "{what}"
            );
            let found: Vec<u32> = tally.findings().map(|(_, n)| n).collect();
            assert!(!found.is_empty() && tally.blocked().is_none(), "{what}");
            match (case.family, case.op) {
                (Family::OpenAi, Op::ChatCompletions) => {
                    assert!(raw.ends_with("data: [DONE]\n\n"), "{what}")
                }
                (Family::Anthropic, _) => {
                    assert_eq!(events.last().unwrap().1["type"], "message_stop", "{what}")
                }
                (_, Op::Responses) => {
                    let seqs: Vec<u64> = events
                        .iter()
                        .map(|(_, v)| v["sequence_number"].as_u64().unwrap())
                        .collect();
                    let expected: Vec<u64> = (0..seqs.len() as u64).collect();
                    assert_eq!(seqs, expected, "{what}");
                    let done = events
                        .iter()
                        .find(|(_, v)| v["type"] == "response.output_text.done");
                    assert_eq!(done.unwrap().1["text"], CLIENT, "{what}");
                    let completed = &events.last().unwrap().1;
                    assert_eq!(completed["type"], "response.completed", "{what}");
                    assert_eq!(
                        completed
                            .pointer("/response/output/0/content/0/text")
                            .unwrap(),
                        CLIENT,
                        "{what}"
                    );
                }
                _ => {}
            }
        }
    }
}

#[test]
fn gemini_array_redacts_and_restores_at_every_byte_cut() {
    let plan = plan(Family::Gemini, Op::StreamGenerateContent);
    let upstream = gemini_array_upstream(MODEL);
    for at in 0..=upstream.len() {
        let (out, _) = run(&plan, upstream.as_bytes(), at, true);
        let all: Vec<Value> = serde_json::from_slice(&out)
            .unwrap_or_else(|e| panic!("cut at {at}: not one JSON array ({e})"));
        let text: String = all
            .iter()
            .filter_map(|c| c.pointer("/candidates/0/content/parts/0/text")?.as_str())
            .collect();
        assert_eq!(text, CLIENT, "cut at {at}");
    }
}

#[test]
fn a_block_ends_every_framing_with_its_own_error_and_no_clean_end() {
    for case in &SSE_CASES {
        let plan = plan(case.family, case.op);
        let upstream = (case.upstream)(BLOCKED);
        for at in 0..=upstream.len() {
            let (out, tally) = run(&plan, upstream.as_bytes(), at, false);
            let what = format!("{:?}/{:?} cut at {at}", case.family, case.op);
            let raw = String::from_utf8_lossy(&out);
            assert!(!raw.contains("TOPSECRET"), "{what}: {raw}");
            assert!(!raw.contains("[DONE]"), "{what}");
            let rule = tally.blocked().expect("blocked");
            assert_eq!(output_rules().rules().rule(rule).id, "out.secret");
            let events = client_events(&out);
            let (name, last) = events.last().unwrap();
            assert!(
                last.to_string().contains("rule out.secret matched"),
                "{what}: {last}"
            );
            match (case.family, case.op) {
                (Family::Anthropic, _) => {
                    assert_eq!(name.as_deref(), Some("error"));
                    assert_eq!(last["type"], "error");
                    assert!(!events.iter().any(|(_, v)| v["type"] == "message_stop"));
                }
                (_, Op::Responses) => {
                    assert_eq!(name.as_deref(), Some("error"));
                    assert_eq!(last["code"], OUTPUT_BLOCKED);
                    let seqs: Vec<u64> = events
                        .iter()
                        .map(|(_, v)| v["sequence_number"].as_u64().unwrap())
                        .collect();
                    assert!(
                        seqs.windows(2).all(|w| w[1] == w[0] + 1),
                        "{what}: {seqs:?}"
                    );
                    assert!(!events
                        .iter()
                        .any(|(_, v)| v["type"] == "response.completed"));
                }
                (Family::Gemini, _) => assert_eq!(last["error"]["code"], 403),
                _ => assert_eq!(last["error"]["code"], OUTPUT_BLOCKED),
            }
        }
    }
}

#[test]
fn a_blocked_gemini_array_still_parses_and_ends_with_the_error() {
    let plan = plan(Family::Gemini, Op::StreamGenerateContent);
    let upstream = gemini_array_upstream(BLOCKED);
    for at in 0..=upstream.len() {
        let (out, _) = run(&plan, upstream.as_bytes(), at, true);
        assert!(!String::from_utf8_lossy(&out).contains("TOPSECRET"));
        let all: Vec<Value> = serde_json::from_slice(&out)
            .unwrap_or_else(|e| panic!("cut at {at}: not one JSON array ({e})"));
        assert_eq!(all.last().unwrap()["error"]["code"], 403, "cut at {at}");
    }
}

#[test]
fn a_complete_answer_is_redacted_restored_or_blocked() {
    let plan = plan(Family::OpenAi, Op::ChatCompletions);
    let body = json!({"id":"c1","object":"chat.completion","model":"m",
        "choices":[{"index":0,"message":{"role":"assistant","content":MODEL},"finish_reason":"stop"}]});
    let a = plan.full_answer(200, body.to_string().as_bytes()).unwrap();
    let v: Value = serde_json::from_slice(&a.body).unwrap();
    assert_eq!(v["choices"][0]["message"]["content"], CLIENT);
    assert_eq!(v["id"], "c1");
    assert_eq!(a.restored, 1);
    assert_eq!(a.output.findings().count(), 2);
    let body = json!({"choices":[{"message":{"content":BLOCKED}}]});
    let a = plan.full_answer(200, body.to_string().as_bytes()).unwrap();
    assert!(a.output.blocked().is_some());
}

#[test]
fn token_level_copies_of_the_text_are_emptied_under_response_rules() {
    let plan = plan(Family::OpenAi, Op::ChatCompletions);
    let chunk = json!({"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,
        "delta":{"content":"Fal"},"logprobs":{"content":[{"token":"Fal","logprob":-0.1,"bytes":[70,97,108]}]},
        "finish_reason":null}]});
    let mut stage = plan.sse_stage();
    let out = stage.push(sse(None, &chunk).as_bytes()).unwrap();
    let mut all = out;
    all.extend(stage.finish());
    let raw = String::from_utf8_lossy(&all);
    assert!(!raw.contains("\"token\""), "{raw}");
    let plan_r = self::plan(Family::OpenAi, Op::Responses);
    let delta = json!({"type":"response.output_text.delta","item_id":"m","output_index":0,
        "content_index":0,"delta":"Fal","logprobs":[{"token":"Fal","logprob":-0.1}],"sequence_number":0});
    let mut stage = plan_r.sse_stage();
    let mut all = stage
        .push(sse(Some("response.output_text.delta"), &delta).as_bytes())
        .unwrap();
    all.extend(stage.finish());
    let raw = String::from_utf8_lossy(&all);
    assert!(!raw.contains("\"token\""), "{raw}");
    let body = json!({"choices":[{"message":{"content":"ok"},"logprobs":{"content":[{"token":"Falcon"}]}}]});
    let a = plan.full_answer(200, body.to_string().as_bytes()).unwrap();
    let v: Value = serde_json::from_slice(&a.body).unwrap();
    assert_eq!(v["choices"][0]["logprobs"], Value::Null);
}

mod random_cuts {
    use super::*;
    use crate::output::filter_complete;
    use proptest::prelude::*;

    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => "[a-z .;,!\n]{0,7}",
            2 => proptest::sample::select(vec![
                "bob@x.example", "Falcon", "xFalcon", "⟦EMAIL_1⟧", "⟦EMAIL_2⟧", "⟦EMA", "@",
                "é", "EMAIL_1",
            ])
            .prop_map(str::to_owned),
        ]
    }

    proptest! {
        /// Response rules and restoration together, through a real framing, with the upstream
        /// bytes cut at random points: the client reads exactly what filtering the whole text
        /// and then restoring it gives.
        #[test]
        fn chat_stream_equals_batch_filter_then_restore(
            text in proptest::collection::vec(piece(), 1..12).prop_map(|p| p.concat()),
            cuts in proptest::collection::vec(0usize..3000, 0..8),
        ) {
            let plan = plan(Family::OpenAi, Op::ChatCompletions);
            let rules = output_rules();
            let v = vault();
            let filtered = filter_complete(&rules, &v, &text, &mut OutputTally::default())
                .unwrap_or_else(|| text.clone());
            let (expected, _) = v.restore(&filtered);
            let upstream = openai_upstream(&text);
            let bytes = upstream.as_bytes();
            let mut at: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
            at.sort_unstable();
            let mut stage = plan.sse_stage();
            let mut out = Vec::new();
            let mut start = 0;
            for end in at.into_iter().chain(std::iter::once(bytes.len())) {
                out.extend(stage.push(&bytes[start..end]).unwrap());
                start = end;
            }
            out.extend(stage.finish());
            let events = client_events(&out);
            prop_assert_eq!(text_of(Family::OpenAi, Op::ChatCompletions, &events), expected);
            prop_assert!(String::from_utf8_lossy(&out).ends_with("data: [DONE]\n\n"));
        }
    }
}
