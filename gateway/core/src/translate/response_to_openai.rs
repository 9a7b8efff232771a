//! Anthropic message (non-streamed) → OpenAI chat completion.
//!
//! The answer of an Anthropic pool as the `openai` SDK's `ChatCompletion`: `id` (`chatcmpl-…`),
//! `object: "chat.completion"`, `created`, the model the client asked for, one choice whose
//! `message` has the text blocks joined into `content` and the `tool_use` blocks as `tool_calls`
//! (`arguments` = the input serialized as JSON), `finish_reason`, and `usage`.
//!
//! `stop_reason` maps `end_turn`/`stop_sequence`/`pause_turn`→`stop`, `max_tokens` and
//! `model_context_window_exceeded`→`length`, `tool_use`→`tool_calls`, `refusal`→`content_filter`.
//! `prompt_tokens` counts cached input too (Anthropic reports it apart), as OpenAI does.
//! `thinking` blocks are dropped (OpenAI's chat API has no place for them); server-tool blocks,
//! which the translated request never asks for, fail the translation (502).

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use super::error::{Side, TranslateError};
use super::request_to_openai::JOIN;
use super::shape::{array, count, field, obj, object, opt_str, req_str};

const SIDE: Side = Side::Upstream;

/// Translates an Anthropic message into an OpenAI chat completion; `client_model` is echoed back.
///
/// Fails with an upstream error (answer 502) when the message cannot be represented.
pub fn anthropic_to_openai_response(
    resp: &Value,
    client_model: &str,
) -> Result<Value, TranslateError> {
    let root = object(resp, "", SIDE)?;
    if opt_str(root, "type", "", SIDE)? == Some("error") {
        return Err(SIDE.err("the pool answered an error object instead of a message"));
    }
    let id = opt_str(root, "id", "", SIDE)?.unwrap_or("sovgate");
    let content =
        field(root, "content").ok_or_else(|| SIDE.err("content: required array is missing"))?;
    let mut texts = Vec::new();
    let mut calls = Vec::new();
    for (i, block) in array(content, "content", SIDE)?.iter().enumerate() {
        let path = format!("content[{i}]");
        let block = object(block, &path, SIDE)?;
        match req_str(block, "type", &path, SIDE)? {
            "text" => texts.push(req_str(block, "text", &path, SIDE)?),
            "tool_use" => {
                let input = field(block, "input").cloned().unwrap_or_else(|| obj([]));
                calls.push(obj([
                    ("id", req_str(block, "id", &path, SIDE)?.into()),
                    ("type", "function".into()),
                    (
                        "function",
                        obj([
                            ("name", req_str(block, "name", &path, SIDE)?.into()),
                            ("arguments", input.to_string().into()),
                        ]),
                    ),
                ]));
            }
            "thinking" | "redacted_thinking" => {}
            other => {
                return Err(SIDE.err(format!(
                    "{path}.type: a \"{other}\" block has no OpenAI chat equivalent"
                )))
            }
        }
    }
    let text = texts.join(JOIN);
    let mut message = Map::new();
    message.insert("role".into(), "assistant".into());
    let content = if text.is_empty() && !calls.is_empty() {
        Value::Null
    } else {
        text.into()
    };
    message.insert("content".into(), content);
    message.insert("refusal".into(), Value::Null);
    if !calls.is_empty() {
        message.insert("tool_calls".into(), Value::Array(calls));
    }
    let finish = finish_reason(opt_str(root, "stop_reason", "", SIDE)?);
    let choice = obj([
        ("index", 0.into()),
        ("message", Value::Object(message)),
        ("logprobs", Value::Null),
        ("finish_reason", finish.into()),
    ]);
    let usage = field(root, "usage").and_then(Value::as_object);
    Ok(obj([
        ("id", completion_id(id).into()),
        ("object", "chat.completion".into()),
        ("created", unix_now().into()),
        ("model", client_model.into()),
        ("choices", Value::Array(vec![choice])),
        (
            "usage",
            openai_usage(prompt_tokens(usage), count(usage, "output_tokens")),
        ),
    ]))
}

/// OpenAI `finish_reason` for an Anthropic `stop_reason`.
pub(super) fn finish_reason(stop_reason: Option<&str>) -> &'static str {
    match stop_reason {
        Some("max_tokens" | "model_context_window_exceeded") => "length",
        Some("tool_use") => "tool_calls",
        Some("refusal") => "content_filter",
        _ => "stop",
    }
}

/// Anthropic reports cached input apart from `input_tokens`; OpenAI's `prompt_tokens` is the sum.
pub(super) fn prompt_tokens(usage: Option<&Map<String, Value>>) -> u64 {
    [
        "input_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
    ]
    .iter()
    .map(|k| count(usage, k))
    .sum()
}

pub(super) fn openai_usage(prompt: u64, completion: u64) -> Value {
    obj([
        ("prompt_tokens", prompt.into()),
        ("completion_tokens", completion.into()),
        ("total_tokens", (prompt + completion).into()),
    ])
}

/// An OpenAI-looking completion id that still shows the upstream's message id.
pub(super) fn completion_id(upstream: &str) -> String {
    if upstream.starts_with("chatcmpl-") {
        upstream.to_owned()
    } else {
        format!("chatcmpl-{upstream}")
    }
}

/// Seconds since the epoch for `created`; a clock before 1970 reads as 0 rather than failing.
pub(super) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
