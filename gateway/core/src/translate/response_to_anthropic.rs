//! OpenAI chat completion (non-streamed) → Anthropic message.
//!
//! The answer of an OpenAI-compatible pool, reshaped into what the `anthropic` SDK parses as a
//! `Message`: `id` (`msg_…`), `type: "message"`, `role: "assistant"`, the model the client asked
//! for, `content` (a `text` block when there is text, then one `tool_use` block per tool call),
//! `stop_reason`, `stop_sequence` and `usage`.
//!
//! Decisions worth knowing:
//! - Tool call `arguments` must parse as a JSON object, because `tool_use.input` is one. A model
//!   that produced broken JSON gets the request failed as an upstream error (502), not a made-up
//!   `{}` input that the client would execute as if the model had meant it.
//! - `finish_reason` maps `stop`→`end_turn`, `length`→`max_tokens`, `tool_calls`→`tool_use`,
//!   `content_filter`→`refusal` (a stop reason of the current Messages API). When the server
//!   reports which stop string matched (vLLM's `stop_reason`, SGLang's `matched_stop`) the answer
//!   says `stop_sequence` with that string, as Anthropic does. Some servers end a tool-calling
//!   turn with `stop`; any turn that carries tool calls reports `tool_use`, since that is what
//!   Anthropic clients test to run their tools.
//! - `reasoning_content` (from reasoning parsers) is dropped: thinking is not requested through
//!   the translation, and an unsigned thinking block would not survive the next turn anyway.

use serde_json::{Map, Value};

use super::error::{Side, TranslateError};
use super::shape::{array, count, field, obj, object, opt_str};

const SIDE: Side = Side::Upstream;

/// Translates an OpenAI chat completion into an Anthropic message; `client_model` is echoed back.
///
/// Fails with an upstream error (answer 502) when the completion cannot be represented.
pub fn openai_to_anthropic_response(
    resp: &Value,
    client_model: &str,
) -> Result<Value, TranslateError> {
    let root = object(resp, "", SIDE)?;
    if field(root, "error").is_some() {
        return Err(SIDE.err("the pool answered an error object instead of a completion"));
    }
    let choices =
        field(root, "choices").ok_or_else(|| SIDE.err("choices: required array is missing"))?;
    let choice = array(choices, "choices", SIDE)?
        .first()
        .ok_or_else(|| SIDE.err("choices: the completion has no choice"))?;
    let choice = object(choice, "choices[0]", SIDE)?;
    let message = field(choice, "message")
        .ok_or_else(|| SIDE.err("choices[0].message: required object is missing"))?;
    let message = object(message, "choices[0].message", SIDE)?;
    let id = message_id(opt_str(root, "id", "", SIDE)?);

    let mut content = Vec::new();
    let text = opt_str(message, "content", "choices[0].message", SIDE)?.unwrap_or("");
    let refusal = opt_str(message, "refusal", "choices[0].message", SIDE)?.unwrap_or("");
    let text = if text.is_empty() { refusal } else { text };
    if !text.is_empty() {
        content.push(obj([("type", "text".into()), ("text", text.into())]));
    }
    let mut has_tools = false;
    if let Some(calls) = field(message, "tool_calls") {
        let path = "choices[0].message.tool_calls";
        for (i, call) in array(calls, path, SIDE)?.iter().enumerate() {
            content.push(tool_use_block(call, &format!("{path}[{i}]"), &id, i)?);
            has_tools = true;
        }
    }

    let (stop_reason, stop_sequence) = stop_reason(
        opt_str(choice, "finish_reason", "choices[0]", SIDE)?,
        matched_stop(choice),
        has_tools,
    );
    let usage = field(root, "usage").and_then(Value::as_object);
    Ok(obj([
        ("id", id.into()),
        ("type", "message".into()),
        ("role", "assistant".into()),
        ("model", client_model.into()),
        ("content", Value::Array(content)),
        ("stop_reason", stop_reason.into()),
        (
            "stop_sequence",
            stop_sequence.map_or(Value::Null, Value::from),
        ),
        (
            "usage",
            obj([
                ("input_tokens", count(usage, "prompt_tokens").into()),
                ("output_tokens", count(usage, "completion_tokens").into()),
            ]),
        ),
    ]))
}

fn tool_use_block(
    call: &Value,
    path: &str,
    msg_id: &str,
    i: usize,
) -> Result<Value, TranslateError> {
    let call = object(call, path, SIDE)?;
    let function = field(call, "function")
        .ok_or_else(|| SIDE.err(format!("{path}.function: required object is missing")))?;
    let fpath = format!("{path}.function");
    let function = object(function, &fpath, SIDE)?;
    let id = match opt_str(call, "id", path, SIDE)? {
        Some(id) if !id.is_empty() => id.to_owned(),
        // Some servers omit ids; the client needs one to answer with a tool_result.
        _ => format!("toolu_{}_{i}", msg_id.trim_start_matches("msg_")),
    };
    let name = opt_str(function, "name", &fpath, SIDE)?.unwrap_or("");
    if name.is_empty() {
        return Err(SIDE.err(format!("{fpath}.name: a tool call without a name")));
    }
    let input = match field(function, "arguments") {
        None => obj([]),
        Some(Value::String(raw)) => parse_arguments(raw, &fpath, SIDE)?,
        // Ollama-style servers sometimes send the arguments already parsed.
        Some(v @ Value::Object(_)) => v.clone(),
        Some(_) => return Err(SIDE.err(format!("{fpath}.arguments: expected a JSON string"))),
    };
    Ok(obj([
        ("type", "tool_use".into()),
        ("id", id.into()),
        ("name", name.into()),
        ("input", input),
    ]))
}

/// Tool arguments as the object `tool_use.input` must be; blank means no arguments.
pub(super) fn parse_arguments(raw: &str, path: &str, side: Side) -> Result<Value, TranslateError> {
    if raw.trim().is_empty() {
        return Ok(obj([]));
    }
    match serde_json::from_str::<Value>(raw) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(side.err(format!(
            "{path}.arguments: tool arguments are not a JSON object"
        ))),
        Err(e) => Err(side.err(format!(
            "{path}.arguments: tool arguments are not valid JSON ({e})"
        ))),
    }
}

/// The stop string a server reports as matched, when it reports one as a string.
pub(super) fn matched_stop(choice: &Map<String, Value>) -> Option<&str> {
    ["stop_reason", "matched_stop"]
        .iter()
        .find_map(|k| choice.get(*k).and_then(Value::as_str))
}

/// Anthropic `stop_reason` (and `stop_sequence`) for an OpenAI `finish_reason`.
pub(super) fn stop_reason(
    finish: Option<&str>,
    matched: Option<&str>,
    has_tools: bool,
) -> (&'static str, Option<String>) {
    match finish {
        Some("length") => ("max_tokens", None),
        Some("content_filter") => ("refusal", None),
        _ if has_tools => ("tool_use", None),
        Some("stop") => match matched {
            Some(s) => ("stop_sequence", Some(s.to_owned())),
            None => ("end_turn", None),
        },
        _ => ("end_turn", None),
    }
}

/// An Anthropic-looking message id derived from the upstream's id, so logs on both sides match.
pub(super) fn message_id(upstream: Option<&str>) -> String {
    let upstream = upstream.unwrap_or("");
    if upstream.starts_with("msg_") {
        return upstream.to_owned();
    }
    let tail: String = upstream
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(64)
        .collect();
    if tail.is_empty() {
        "msg_sovgate".to_owned()
    } else {
        format!("msg_{tail}")
    }
}
