//! Tests of the restorers: the text channel's properties, then each framing driven by realistic
//! upstream streams cut at every position.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod anthropic;
mod body;
mod gemini;
mod gemini_array;
mod openai;
mod responses;
mod text;

use serde_json::Value;

use super::StreamRestorer;
use crate::sse::{SseEvent, SseParser};
use crate::vault::Vault;

pub(super) const EMAIL: &str = "jane.doe@example.com";
pub(super) const PHONE: &str = "+49 30 1234567";
/// An original that needs escaping inside JSON text.
pub(super) const NAME: &str = "Jane \"JD\" Doe\\II\nBerlin";

/// A vault holding `⟦EMAIL_1⟧`, `⟦PHONE_1⟧` and `⟦NAME_1⟧`.
pub(super) fn vault() -> Vault {
    let mut v = Vault::new();
    assert_eq!(v.placeholder_for("email", EMAIL), "⟦EMAIL_1⟧");
    assert_eq!(v.placeholder_for("phone", PHONE), "⟦PHONE_1⟧");
    assert_eq!(v.placeholder_for("name", NAME), "⟦NAME_1⟧");
    v
}

/// What the model writes: two placeholders of the vault, an invented one and a bare bracket.
pub(super) const ANSWER: &str = "Write to ⟦EMAIL_1⟧ or call ⟦PHONE_1⟧; ⟦EMAIL_9⟧ is unknown ⟦ ok.";

pub(super) fn restored_answer() -> String {
    format!("Write to {EMAIL} or call {PHONE}; ⟦EMAIL_9⟧ is unknown ⟦ ok.")
}

/// Every way to cut `text` in two at a character boundary.
pub(super) fn char_splits(text: &str) -> impl Iterator<Item = (&str, &str)> {
    (0..=text.len())
        .filter(|&i| text.is_char_boundary(i))
        .map(move |i| text.split_at(i))
}

/// Every character of `text` as its own fragment.
pub(super) fn chars(text: &str) -> Vec<String> {
    text.chars().map(String::from).collect()
}

/// Runs `upstream` (SSE bytes) through a parser fed in pieces cut at `cuts`, then the restorer;
/// returns what the client receives.
pub(super) fn run(restorer: &mut dyn StreamRestorer, upstream: &[u8], cuts: &[usize]) -> Vec<u8> {
    let mut parser = SseParser::new(1 << 20);
    let mut out = Vec::new();
    let mut start = 0;
    for &cut in cuts.iter().chain(std::iter::once(&upstream.len())) {
        for ev in parser.feed(&upstream[start..cut]).unwrap() {
            out.extend(restorer.on_event(&ev).unwrap());
        }
        start = cut;
    }
    if let Some(ev) = parser.finish() {
        out.extend(restorer.on_event(&ev).unwrap());
    }
    out.extend(restorer.finish());
    out
}

/// Parses what the client received.
pub(super) fn client_events(bytes: &[u8]) -> Vec<SseEvent> {
    let mut parser = SseParser::new(1 << 20);
    let events = parser.feed(bytes).unwrap();
    assert!(
        !parser.has_partial(),
        "client stream ends inside an event: {}",
        String::from_utf8_lossy(bytes)
    );
    events
}

/// The JSON of every data event, asserting each parses (`[DONE]` excepted).
pub(super) fn client_json(events: &[SseEvent]) -> Vec<Value> {
    events
        .iter()
        .filter(|e| !e.comment_only && e.data != "[DONE]")
        .map(|e| {
            serde_json::from_str(&e.data)
                .unwrap_or_else(|err| panic!("event is not JSON ({err}): {}", e.data))
        })
        .collect()
}

#[test]
fn two_concurrent_restorers_over_two_vaults_stay_apart() {
    use super::{anthropic_restorer, openai_chat_restorer};
    let mut a = Vault::new();
    a.placeholder_for("email", "alice@a.example");
    let mut b = Vault::new();
    b.placeholder_for("email", "bob@b.example");
    b.placeholder_for("email", "carol@b.example");
    let mut ra = openai_chat_restorer(&a);
    let mut rb = openai_chat_restorer(&b);
    let mut ta = super::TextRestorer::new(&a);
    let mut tb = super::TextRestorer::new(&b);
    let mut aa = anthropic_restorer(&a);
    let (mut out_a, mut out_b, mut text_a, mut text_b) =
        (vec![], vec![], String::new(), String::new());
    for piece in ["Hi ⟦EMA", "IL_1⟧ and ⟦EMAIL_2", "⟧."] {
        let ev = openai::chunk(0, piece);
        out_a.extend(ra.on_event(&ev).unwrap());
        out_b.extend(rb.on_event(&ev).unwrap());
        text_a.push_str(&ta.push(piece));
        text_b.push_str(&tb.push(piece));
        aa.on_event(&anthropic::text_delta(0, piece)).unwrap();
    }
    out_a.extend(ra.finish());
    out_b.extend(rb.finish());
    text_a.push_str(&ta.finish());
    text_b.push_str(&tb.finish());
    assert_eq!(
        openai::content_of(&out_a),
        "Hi alice@a.example and ⟦EMAIL_2⟧."
    );
    assert_eq!(
        openai::content_of(&out_b),
        "Hi bob@b.example and carol@b.example."
    );
    assert_eq!(text_a, "Hi alice@a.example and ⟦EMAIL_2⟧.");
    assert_eq!(text_b, "Hi bob@b.example and carol@b.example.");
    assert_eq!((ra.restored(), rb.restored()), (1, 2));
}

#[test]
fn restorers_can_own_their_vault_and_move_across_threads() {
    use super::{
        AnthropicRestorer, GeminiJsonArrayRestorer, GeminiSseRestorer, OpenAiChatRestorer,
        ResponsesRestorer,
    };
    use std::sync::Arc;
    fn boxed<R: StreamRestorer + Send + 'static>(r: R) -> Box<dyn StreamRestorer + Send> {
        Box::new(r)
    }
    let vault = Arc::new(vault());
    let mut all = [
        boxed(OpenAiChatRestorer::new(Arc::clone(&vault))),
        boxed(ResponsesRestorer::new(Arc::clone(&vault))),
        boxed(AnthropicRestorer::new(Arc::clone(&vault))),
        boxed(GeminiSseRestorer::new(Arc::clone(&vault))),
    ];
    let handle = std::thread::spawn(move || {
        let ev = openai::chunk(0, "⟦EMAIL_1⟧");
        all[0].on_event(&ev).unwrap();
        all[0].restored()
    });
    assert_eq!(handle.join().unwrap(), 1);
    let mut array = GeminiJsonArrayRestorer::new(vault);
    assert_eq!(array.push(b"[]").unwrap(), b"[]");
}
