//! Anthropic Messages API answers, streaming with Anthropic's named events.

use super::body::{self, sse_event, Body, Ctx};
use super::text::{all_text, last_user_message, tokens};
use super::tools;
use http::{Response, StatusCode};
use serde_json::{json, Value};

pub(super) fn messages(ctx: Ctx, req: &Value) -> Response<Body> {
    if let Some(call) = tools::anthropic_call(req) {
        return tools::anthropic_answer(ctx, req, &call);
    }
    let input = tools::anthropic_tool_result(req).unwrap_or_else(|| last_user_message(req));
    let text = ctx.reply(&input);
    let model = ctx.model(req);
    let id = format!("msg_{}_{}", ctx.name(), ctx.next_id());
    let input_tokens = tokens(&all_text(req));
    let output_tokens = tokens(&text);
    if req.get("stream").and_then(Value::as_bool) != Some(true) {
        return ctx.json(&json!({
            "id": id, "type": "message", "role": "assistant",
            "content": [{"type": "text", "text": text}],
            "model": model, "stop_reason": "end_turn", "stop_sequence": null,
            "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
        }));
    }
    let deltas = ctx
        .chunks(&text)
        .into_iter()
        .map(|piece| json!({"type": "text_delta", "text": piece}))
        .collect();
    let head = Head {
        id: &id,
        model: &model,
        input_tokens,
        output_tokens,
    };
    let block = json!({"type": "text", "text": ""});
    stream_one_block(ctx, &head, block, deltas, "end_turn")
}

/// What the `message_start` and `message_delta` events of a streamed message carry.
pub(super) struct Head<'a> {
    pub id: &'a str,
    pub model: &'a str,
    pub input_tokens: u64,
    pub output_tokens: u64,
}

/// A streamed message with one content block: `message_start`, the block's start, one
/// `content_block_delta` per delta, its stop, `message_delta` with `stop_reason`, `message_stop`.
pub(super) fn stream_one_block(
    ctx: Ctx,
    head: &Head<'_>,
    block: Value,
    deltas: Vec<Value>,
    stop_reason: &str,
) -> Response<Body> {
    let mut frames = vec![
        sse_event(
            "message_start",
            &json!({"type": "message_start", "message": {
                "id": head.id, "type": "message", "role": "assistant", "content": [],
                "model": head.model, "stop_reason": null, "stop_sequence": null,
                "usage": {"input_tokens": head.input_tokens, "output_tokens": 1},
            }}),
        ),
        sse_event(
            "content_block_start",
            &json!({"type": "content_block_start", "index": 0, "content_block": block}),
        ),
    ];
    for delta in deltas {
        frames.push(sse_event(
            "content_block_delta",
            &json!({"type": "content_block_delta", "index": 0, "delta": delta}),
        ));
    }
    frames.push(sse_event(
        "content_block_stop",
        &json!({"type": "content_block_stop", "index": 0}),
    ));
    frames.push(sse_event(
        "message_delta",
        &json!({"type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": null},
                "usage": {"output_tokens": head.output_tokens}}),
    ));
    frames.push(sse_event("message_stop", &json!({"type": "message_stop"})));
    ctx.sse(frames)
}

pub(super) fn count_tokens(req: &Value) -> Response<Body> {
    body::json(
        StatusCode::OK,
        &json!({"input_tokens": tokens(&all_text(req))}),
    )
}
