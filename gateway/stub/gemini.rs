//! Gemini `generateContent` / `streamGenerateContent` answers.

use super::body::{sse_data, Body, Ctx};
use super::text::{gemini_contents, tokens};
use bytes::Bytes;
use http::Response;
use serde_json::{json, Value};

/// `model` comes from the path (`/v1beta/models/{model}:generateContent`); `sse` is `alt=sse`.
pub(super) fn generate(
    ctx: Ctx,
    req: &Value,
    model: &str,
    stream: bool,
    sse: bool,
) -> Response<Body> {
    let input = gemini_contents(req);
    let text = ctx.reply(&input);
    let usage = json!({
        "promptTokenCount": tokens(&input),
        "candidatesTokenCount": tokens(&text),
        "totalTokenCount": tokens(&input) + tokens(&text),
    });
    let candidate = |text: &str, finish: bool| {
        let mut c = json!({"content": {"parts": [{"text": text}], "role": "model"}, "index": 0});
        if finish {
            c["finishReason"] = json!("STOP");
        }
        c
    };
    if !stream {
        return ctx.json(&json!({
            "candidates": [candidate(&text, true)],
            "usageMetadata": usage,
            "modelVersion": model,
        }));
    }
    let pieces = ctx.chunks(&text);
    let last = pieces.len().saturating_sub(1);
    let mut objects: Vec<Value> = pieces
        .iter()
        .enumerate()
        .map(|(i, p)| json!({"candidates": [candidate(p, i == last)], "modelVersion": model}))
        .collect();
    if objects.is_empty() {
        objects.push(json!({"candidates": [candidate("", true)], "modelVersion": model}));
    }
    if let Some(final_chunk) = objects.last_mut() {
        final_chunk["usageMetadata"] = usage;
    }
    if sse {
        let frames = objects.iter().map(sse_data).collect();
        return ctx.sse(frames);
    }
    // Without `alt=sse` Gemini streams one JSON array, an element at a time.
    let n = objects.len();
    let frames = objects
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let open = if i == 0 { "[" } else { ",\r\n" };
            let close = if i + 1 == n { "]" } else { "" };
            Bytes::from(format!("{open}{o}{close}"))
        })
        .collect();
    ctx.stream(frames, "application/json")
}
