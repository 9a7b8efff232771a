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
    let mut frames = vec![
        sse_event(
            "message_start",
            &json!({"type": "message_start", "message": {
                "id": id, "type": "message", "role": "assistant", "content": [],
                "model": model, "stop_reason": null, "stop_sequence": null,
                "usage": {"input_tokens": input_tokens, "output_tokens": 1},
            }}),
        ),
        sse_event(
            "content_block_start",
            &json!({"type": "content_block_start", "index": 0,
                    "content_block": {"type": "text", "text": ""}}),
        ),
    ];
    for piece in ctx.chunks(&text) {
        frames.push(sse_event(
            "content_block_delta",
            &json!({"type": "content_block_delta", "index": 0,
                    "delta": {"type": "text_delta", "text": piece}}),
        ));
    }
    frames.push(sse_event(
        "content_block_stop",
        &json!({"type": "content_block_stop", "index": 0}),
    ));
    frames.push(sse_event(
        "message_delta",
        &json!({"type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": null},
                "usage": {"output_tokens": output_tokens}}),
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
