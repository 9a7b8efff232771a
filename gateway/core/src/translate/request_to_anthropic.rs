//! OpenAI chat completions request → Anthropic Messages request.
//!
//! Used when an OpenAI client's request goes to a pool configured `api = "anthropic"`.
//!
//! | OpenAI | Anthropic |
//! |---|---|
//! | `system` / `developer` messages (anywhere) | top-level `system`, joined by a blank line |
//! | user text and `image_url` parts (`data:` URL → `base64` source, else `url` source) | `text` / `image` blocks |
//! | assistant `content` (and `refusal` parts), `tool_calls` | `text` block, `tool_use` blocks (`input` = parsed `arguments`) |
//! | `tool` messages | `tool_result` blocks in a user turn; consecutive turns of one role are merged, as Anthropic requires alternating roles |
//! | `tools` (`function`), `tool_choice` (`auto`, `required`→`any`, `none`, named→`tool`), `parallel_tool_calls: false` | `tools` (`input_schema` = `parameters`), `tool_choice`, `disable_parallel_tool_use` |
//! | `max_completion_tokens`, else `max_tokens`, else 4096 | `max_tokens` (required by Anthropic) |
//! | `temperature` (0–2, capped at 1, Anthropic's maximum), `top_p`, `stop`, `stream`, `user` | `temperature`, `top_p`, `stop_sequences`, `stream`, `metadata.user_id` |
//!
//! Ignored: `frequency_penalty`, `presence_penalty`, `seed`, `logit_bias`, `store`,
//! `reasoning_effort`, `stream_options` (the response translator takes `include_usage` itself).
//! Refused with a 400, because the answer would silently differ from what was asked: `n > 1`,
//! `logprobs`, a `response_format` other than text, legacy `functions`/`function_call`, audio and
//! file parts, and tool arguments that are not a JSON object.

use serde_json::{Map, Value};

use super::error::{Side, TranslateError};
use super::request_to_openai::JOIN;
use super::response_to_anthropic::parse_arguments;
use super::shape::{array, at, field, kind, obj, object, opt_bool, opt_number, opt_str, req_str};

const SIDE: Side = Side::Client;

/// What Anthropic requires and OpenAI clients often leave out.
pub const DEFAULT_MAX_TOKENS: u64 = 4096;

/// Translates an OpenAI chat completions request into an Anthropic Messages request for `model`.
///
/// Fails with a client error (answer 400) when the request asks for something the Messages API
/// cannot give; see the module docs.
pub fn openai_to_anthropic_request(req: &Value, model: &str) -> Result<Value, TranslateError> {
    let root = object(req, "", SIDE)?;
    refuse_unsupported(root)?;
    let input =
        field(root, "messages").ok_or_else(|| SIDE.err("messages: required array is missing"))?;
    let mut system = Vec::new();
    let mut turns: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for (i, message) in array(input, "messages", SIDE)?.iter().enumerate() {
        let path = format!("messages[{i}]");
        let message = object(message, &path, SIDE)?;
        let content = field(message, "content");
        let cpath = at(&path, "content");
        let (role, blocks) = match req_str(message, "role", &path, SIDE)? {
            "system" | "developer" => {
                system.push(text_of(content, &cpath)?);
                continue;
            }
            "user" => ("user", user_blocks(content, &cpath)?),
            "assistant" => ("assistant", assistant_blocks(message, &path)?),
            "tool" => ("user", vec![tool_result(message, &path)?]),
            other => {
                return Err(SIDE.err(format!(
                    "{path}.role: \"{other}\" messages are not supported; use \"tool\" messages \
                     with tool_call_id"
                )))
            }
        };
        match turns.last_mut() {
            Some((last, prev)) if *last == role => prev.extend(blocks),
            _ if blocks.is_empty() => {}
            _ => turns.push((role, blocks)),
        }
    }

    let mut out = Map::new();
    out.insert("model".into(), model.into());
    let max_tokens = match opt_number(root, "max_completion_tokens", "", SIDE)? {
        Some(n) => n,
        None => opt_number(root, "max_tokens", "", SIDE)?.unwrap_or(DEFAULT_MAX_TOKENS.into()),
    };
    out.insert("max_tokens".into(), max_tokens);
    let system: Vec<String> = system.into_iter().filter(|s| !s.is_empty()).collect();
    if !system.is_empty() {
        out.insert("system".into(), system.join(JOIN).into());
    }
    let messages = turns
        .into_iter()
        .map(|(role, blocks)| obj([("role", role.into()), ("content", compact(blocks))]))
        .collect();
    out.insert("messages".into(), Value::Array(messages));
    if let Some(t) = opt_number(root, "temperature", "", SIDE)? {
        let capped = t.as_f64().is_some_and(|t| t > 1.0);
        out.insert("temperature".into(), if capped { 1.0.into() } else { t });
    }
    if let Some(p) = opt_number(root, "top_p", "", SIDE)? {
        out.insert("top_p".into(), p);
    }
    match field(root, "stop") {
        None => {}
        Some(Value::String(s)) => {
            out.insert("stop_sequences".into(), vec![s.clone()].into());
        }
        Some(list) => {
            let stops = text_list(list, "stop")?;
            if !stops.is_empty() {
                out.insert("stop_sequences".into(), stops.into());
            }
        }
    }
    if opt_bool(root, "stream", "", SIDE)? == Some(true) {
        out.insert("stream".into(), true.into());
    }
    if let Some(tools) = field(root, "tools") {
        out.insert("tools".into(), tools_to_anthropic(tools)?);
    }
    let parallel = opt_bool(root, "parallel_tool_calls", "", SIDE)? != Some(false);
    if let Some(choice) = tool_choice_to_anthropic(field(root, "tool_choice"), parallel)? {
        out.insert("tool_choice".into(), choice);
    }
    if let Some(user) = opt_str(root, "user", "", SIDE)? {
        out.insert("metadata".into(), obj([("user_id", user.into())]));
    }
    Ok(Value::Object(out))
}

fn refuse_unsupported(root: &Map<String, Value>) -> Result<(), TranslateError> {
    if let Some(n) = field(root, "n") {
        if n.as_u64() != Some(1) {
            return Err(SIDE.err("n: an Anthropic pool answers with one choice; send n = 1"));
        }
    }
    if opt_bool(root, "logprobs", "", SIDE)? == Some(true) {
        return Err(SIDE.err("logprobs: an Anthropic pool cannot return log probabilities"));
    }
    if let Some(format) = field(root, "response_format") {
        let format = object(format, "response_format", SIDE)?;
        if opt_str(format, "type", "response_format", SIDE)? != Some("text") {
            return Err(SIDE.err(
                "response_format.type: JSON modes cannot be enforced by an Anthropic pool; \
                 describe the format in the prompt or use a tool",
            ));
        }
    }
    for legacy in ["functions", "function_call"] {
        if field(root, legacy).is_some() {
            return Err(SIDE.err(format!(
                "{legacy}: the legacy functions API is not translated; use tools and tool_choice"
            )));
        }
    }
    Ok(())
}

/// A single text block reads as a plain string, the form every Anthropic client sends.
fn compact(blocks: Vec<Value>) -> Value {
    match blocks.as_slice() {
        [only] if only.get("type").and_then(Value::as_str) == Some("text") => {
            only.get("text").cloned().unwrap_or_default()
        }
        _ => Value::Array(blocks),
    }
}

fn text_block(text: &str) -> Value {
    obj([("type", "text".into()), ("text", text.into())])
}

/// Content that must be text: absent, a string, or `text` parts (joined).
fn text_of(content: Option<&Value>, path: &str) -> Result<String, TranslateError> {
    match content {
        None => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => {
            let mut texts = Vec::new();
            for (i, part) in array(other, path, SIDE)?.iter().enumerate() {
                let ppath = format!("{path}[{i}]");
                let part = object(part, &ppath, SIDE)?;
                match req_str(part, "type", &ppath, SIDE)? {
                    "text" => texts.push(req_str(part, "text", &ppath, SIDE)?),
                    other => {
                        return Err(SIDE.err(format!(
                            "{ppath}.type: only text is allowed here, found \"{other}\""
                        )))
                    }
                }
            }
            Ok(texts.join(JOIN))
        }
    }
}

/// Empty text is left out: Anthropic rejects empty text blocks.
fn user_blocks(content: Option<&Value>, path: &str) -> Result<Vec<Value>, TranslateError> {
    let parts = match content {
        None => return Ok(Vec::new()),
        Some(Value::String(s)) if s.is_empty() => return Ok(Vec::new()),
        Some(Value::String(s)) => return Ok(vec![text_block(s)]),
        Some(other) => array(other, path, SIDE)?,
    };
    let mut blocks = Vec::with_capacity(parts.len());
    for (i, part) in parts.iter().enumerate() {
        let ppath = format!("{path}[{i}]");
        let part = object(part, &ppath, SIDE)?;
        match req_str(part, "type", &ppath, SIDE)? {
            "text" => {
                let text = req_str(part, "text", &ppath, SIDE)?;
                if !text.is_empty() {
                    blocks.push(text_block(text));
                }
            }
            "image_url" => blocks.push(image_block(part, &ppath)?),
            other => {
                return Err(SIDE.err(format!(
                    "{ppath}.type: \"{other}\" parts cannot be sent to an Anthropic pool; \
                     send text or image_url"
                )))
            }
        }
    }
    Ok(blocks)
}

fn image_block(part: &Map<String, Value>, path: &str) -> Result<Value, TranslateError> {
    let ipath = at(path, "image_url");
    let url = match field(part, "image_url") {
        Some(Value::String(url)) => url.as_str(),
        Some(v) => req_str(object(v, &ipath, SIDE)?, "url", &ipath, SIDE)?,
        None => return Err(SIDE.err(format!("{ipath}: required object is missing"))),
    };
    let source = match url.strip_prefix("data:") {
        Some(rest) => {
            let (media_type, data) = rest.split_once(";base64,").ok_or_else(|| {
                SIDE.err(format!(
                    "{ipath}.url: a data URL must be base64 (data:<type>;base64,<data>)"
                ))
            })?;
            obj([
                ("type", "base64".into()),
                ("media_type", media_type.into()),
                ("data", data.into()),
            ])
        }
        None => obj([("type", "url".into()), ("url", url.into())]),
    };
    Ok(obj([("type", "image".into()), ("source", source)]))
}

fn assistant_blocks(
    message: &Map<String, Value>,
    path: &str,
) -> Result<Vec<Value>, TranslateError> {
    let cpath = at(path, "content");
    let mut texts = Vec::new();
    match field(message, "content") {
        None => {}
        Some(Value::String(s)) => texts.push(s.clone()),
        Some(other) => {
            for (i, part) in array(other, &cpath, SIDE)?.iter().enumerate() {
                let ppath = format!("{cpath}[{i}]");
                let part = object(part, &ppath, SIDE)?;
                let key = match req_str(part, "type", &ppath, SIDE)? {
                    "text" => "text",
                    "refusal" => "refusal",
                    other => {
                        return Err(SIDE.err(format!(
                            "{ppath}.type: assistant content must be text, found \"{other}\""
                        )))
                    }
                };
                texts.push(req_str(part, key, &ppath, SIDE)?.to_owned());
            }
        }
    }
    let text = texts.join(JOIN);
    let mut blocks = Vec::new();
    if !text.is_empty() {
        blocks.push(text_block(&text));
    }
    if field(message, "function_call").is_some() {
        return Err(SIDE.err(format!(
            "{path}.function_call: the legacy functions API is not translated; use tool_calls"
        )));
    }
    if let Some(calls) = field(message, "tool_calls") {
        let tpath = at(path, "tool_calls");
        for (i, call) in array(calls, &tpath, SIDE)?.iter().enumerate() {
            let cpath = format!("{tpath}[{i}]");
            let call = object(call, &cpath, SIDE)?;
            let fpath = at(&cpath, "function");
            let function = field(call, "function")
                .ok_or_else(|| SIDE.err(format!("{fpath}: required object is missing")))?;
            let function = object(function, &fpath, SIDE)?;
            let arguments = opt_str(function, "arguments", &fpath, SIDE)?.unwrap_or("");
            blocks.push(obj([
                ("type", "tool_use".into()),
                ("id", req_str(call, "id", &cpath, SIDE)?.into()),
                ("name", req_str(function, "name", &fpath, SIDE)?.into()),
                ("input", parse_arguments(arguments, &fpath, SIDE)?),
            ]));
        }
    }
    Ok(blocks)
}

fn tool_result(message: &Map<String, Value>, path: &str) -> Result<Value, TranslateError> {
    let content = text_of(field(message, "content"), &at(path, "content"))?;
    Ok(obj([
        ("type", "tool_result".into()),
        (
            "tool_use_id",
            req_str(message, "tool_call_id", path, SIDE)?.into(),
        ),
        ("content", content.into()),
    ]))
}

fn text_list(v: &Value, path: &str) -> Result<Vec<Value>, TranslateError> {
    array(v, path, SIDE)?
        .iter()
        .enumerate()
        .map(|(i, s)| match s {
            Value::String(_) => Ok(s.clone()),
            other => Err(SIDE.err(format!(
                "{path}[{i}]: expected a string, found {}",
                kind(other)
            ))),
        })
        .collect()
}

fn tools_to_anthropic(tools: &Value) -> Result<Value, TranslateError> {
    let mut out = Vec::new();
    for (i, tool) in array(tools, "tools", SIDE)?.iter().enumerate() {
        let path = format!("tools[{i}]");
        let tool = object(tool, &path, SIDE)?;
        match opt_str(tool, "type", &path, SIDE)? {
            None | Some("function") => {}
            Some(other) => {
                return Err(SIDE.err(format!(
                    "{path}.type: \"{other}\" tools cannot be sent to an Anthropic pool; use \
                     \"function\" tools"
                )))
            }
        }
        let fpath = at(&path, "function");
        let function = field(tool, "function")
            .ok_or_else(|| SIDE.err(format!("{fpath}: required object is missing")))?;
        let function = object(function, &fpath, SIDE)?;
        let mut out_tool = Map::new();
        out_tool.insert(
            "name".into(),
            req_str(function, "name", &fpath, SIDE)?.into(),
        );
        if let Some(d) = opt_str(function, "description", &fpath, SIDE)? {
            out_tool.insert("description".into(), d.into());
        }
        let schema = match field(function, "parameters") {
            Some(p) => Value::Object(object(p, &at(&fpath, "parameters"), SIDE)?.clone()),
            // A function without parameters takes none; Anthropic still wants a schema.
            None => obj([("type", "object".into()), ("properties", obj([]))]),
        };
        out_tool.insert("input_schema".into(), schema);
        out.push(Value::Object(out_tool));
    }
    Ok(Value::Array(out))
}

fn tool_choice_to_anthropic(
    choice: Option<&Value>,
    parallel: bool,
) -> Result<Option<Value>, TranslateError> {
    let path = "tool_choice";
    let mut mapped = match choice {
        None if parallel => return Ok(None),
        None => obj([("type", "auto".into())]),
        Some(Value::String(s)) => match s.as_str() {
            "auto" => obj([("type", "auto".into())]),
            "required" => obj([("type", "any".into())]),
            // `disable_parallel_tool_use` is not allowed with `none`, and means nothing there.
            "none" => return Ok(Some(obj([("type", "none".into())]))),
            other => {
                return Err(SIDE.err(format!(
                    "tool_choice: unknown value \"{other}\"; use auto, required, none or a function"
                )))
            }
        },
        Some(v) => {
            let choice = object(v, path, SIDE)?;
            if req_str(choice, "type", path, SIDE)? != "function" {
                return Err(SIDE.err("tool_choice.type: only \"function\" can be translated"));
            }
            let fpath = "tool_choice.function";
            let function = field(choice, "function")
                .ok_or_else(|| SIDE.err(format!("{fpath}: required object is missing")))?;
            let name = req_str(object(function, fpath, SIDE)?, "name", fpath, SIDE)?;
            obj([("type", "tool".into()), ("name", name.into())])
        }
    };
    if !parallel {
        if let Value::Object(map) = &mut mapped {
            map.insert("disable_parallel_tool_use".into(), true.into());
        }
    }
    Ok(Some(mapped))
}
