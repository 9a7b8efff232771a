//! OpenAI-shaped answers: chat completions, completions, embeddings, responses, models.

use super::body::{self, sse_data, sse_event, Body, Ctx};
use super::text::{last_user_message, prompt, responses_input, tokens};
use super::tools;
use bytes::Bytes;
use http::{Response, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub(super) const DONE: &[u8] = b"data: [DONE]\n\n";

pub(super) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn is_stream(req: &Value) -> bool {
    req.get("stream").and_then(Value::as_bool) == Some(true)
}

pub(super) fn usage(prompt_tokens: u64, completion_tokens: u64) -> Value {
    json!({
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    })
}

pub(super) fn chat(ctx: Ctx, req: &Value) -> Response<Body> {
    if let Some(call) = tools::openai_call(req) {
        return tools::openai_answer(ctx, req, &call);
    }
    let input = tools::openai_tool_result(req).unwrap_or_else(|| last_user_message(req));
    let text = ctx.reply(&input);
    let model = ctx.model(req);
    let id = format!("chatcmpl-{}-{}", ctx.name(), ctx.next_id());
    let created = now();
    let usage = usage(tokens(&input), tokens(&text));
    if !is_stream(req) {
        return ctx.json(&json!({
            "id": id, "object": "chat.completion", "created": created, "model": model,
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "logprobs": null,
                "finish_reason": "stop",
            }],
            "usage": usage,
        }));
    }
    let chunk = |delta: Value, finish: Value| {
        sse_data(&json!({
            "id": id, "object": "chat.completion.chunk", "created": created, "model": model,
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
        }))
    };
    let mut frames = vec![chunk(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    )];
    for piece in ctx.chunks(&text) {
        frames.push(chunk(json!({"content": piece}), Value::Null));
    }
    frames.push(chunk(json!({}), json!("stop")));
    if include_usage(req) {
        frames.push(sse_data(&json!({
            "id": id, "object": "chat.completion.chunk", "created": created, "model": model,
            "choices": [], "usage": usage,
        })));
    }
    frames.push(Bytes::from_static(DONE));
    ctx.sse(frames)
}

pub(super) fn include_usage(req: &Value) -> bool {
    req.pointer("/stream_options/include_usage")
        .and_then(Value::as_bool)
        == Some(true)
}

pub(super) fn completions(ctx: Ctx, req: &Value) -> Response<Body> {
    let input = prompt(req);
    let text = ctx.reply(&input);
    let model = ctx.model(req);
    let id = format!("cmpl-{}-{}", ctx.name(), ctx.next_id());
    let created = now();
    let choice = |text: &str, finish: Value| json!({"index": 0, "text": text, "logprobs": null, "finish_reason": finish});
    if !is_stream(req) {
        return ctx.json(&json!({
            "id": id, "object": "text_completion", "created": created, "model": model,
            "choices": [choice(&text, json!("stop"))],
            "usage": usage(tokens(&input), tokens(&text)),
        }));
    }
    let chunk = |c: Value| {
        sse_data(&json!({
            "id": id, "object": "text_completion", "created": created, "model": model,
            "choices": [c],
        }))
    };
    let mut frames: Vec<Bytes> = ctx
        .chunks(&text)
        .iter()
        .map(|piece| chunk(choice(piece, Value::Null)))
        .collect();
    frames.push(chunk(choice("", json!("stop"))));
    frames.push(Bytes::from_static(DONE));
    ctx.sse(frames)
}

/// Deterministic 8-dimensional vectors derived from each input's hash: equal inputs give equal
/// vectors, so a test can tell which text was embedded.
pub(super) fn embeddings(ctx: Ctx, req: &Value) -> Response<Body> {
    let inputs: Vec<String> = match req.get("input") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
            .collect(),
        _ => Vec::new(),
    };
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let digest = Sha256::digest(text.as_bytes());
            let vector: Vec<f64> = digest[..8]
                .iter()
                .map(|&b| f64::from(b) / 127.5 - 1.0)
                .collect();
            json!({"object": "embedding", "index": i, "embedding": vector})
        })
        .collect();
    let n: u64 = inputs.iter().map(|t| tokens(t)).sum();
    let model = ctx.model(req);
    ctx.json(&json!({
        "object": "list", "data": data, "model": model,
        "usage": {"prompt_tokens": n, "total_tokens": n},
    }))
}

pub(super) fn responses(ctx: Ctx, req: &Value) -> Response<Body> {
    let input = responses_input(req);
    let text = ctx.reply(&input);
    let n = ctx.next_id();
    let (id, item_id) = (
        format!("resp_{}_{n}", ctx.name()),
        format!("msg_{}_{n}", ctx.name()),
    );
    let object = |status: &str, output: Value| {
        json!({
            "id": id, "object": "response", "created_at": now(), "status": status,
            "model": ctx.model(req), "output": output,
            "usage": {
                "input_tokens": tokens(&input),
                "output_tokens": tokens(&text),
                "total_tokens": tokens(&input) + tokens(&text),
            },
        })
    };
    let output = json!([{
        "type": "message", "id": item_id, "status": "completed", "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }]);
    if !is_stream(req) {
        let done = object("completed", output);
        return ctx.json(&done);
    }
    let mut seq = 0u64;
    let mut event = |kind: &str, mut fields: Value| {
        fields["type"] = json!(kind);
        fields["sequence_number"] = json!(seq);
        seq += 1;
        sse_event(kind, &fields)
    };
    let mut frames = vec![event(
        "response.created",
        json!({"response": object("in_progress", json!([]))}),
    )];
    // The item and part lifecycle events of the real API: SDK stream helpers build their
    // snapshot from them and refuse a delta for an item they were never told about.
    frames.push(event(
        "response.output_item.added",
        json!({"output_index": 0, "item": {"type": "message", "id": item_id,
            "status": "in_progress", "role": "assistant", "content": []}}),
    ));
    let part = json!({"item_id": item_id, "output_index": 0, "content_index": 0});
    let mut added = part.clone();
    added["part"] = json!({"type": "output_text", "text": "", "annotations": []});
    frames.push(event("response.content_part.added", added));
    for piece in ctx.chunks(&text) {
        let mut fields = part.clone();
        fields["delta"] = json!(piece);
        frames.push(event("response.output_text.delta", fields));
    }
    let mut fields = part.clone();
    fields["text"] = json!(text);
    frames.push(event("response.output_text.done", fields));
    let mut part_done = part.clone();
    part_done["part"] = json!({"type": "output_text", "text": text, "annotations": []});
    frames.push(event("response.content_part.done", part_done));
    frames.push(event(
        "response.output_item.done",
        json!({"output_index": 0, "item": output[0].clone()}),
    ));
    let completed = object("completed", output);
    frames.push(event(
        "response.completed",
        json!({ "response": completed }),
    ));
    ctx.sse(frames)
}

pub(super) fn models(ctx: &Ctx) -> Response<Body> {
    body::json(
        StatusCode::OK,
        &json!({
            "object": "list",
            "data": [{
                "id": ctx.state.cfg.model, "object": "model", "created": 0,
                "owned_by": ctx.name(),
            }],
        }),
    )
}
