//! Anthropic Messages request → OpenAI chat completions request.
//!
//! Used when an Anthropic client's request is routed to a pool that speaks the OpenAI API (every
//! local inference server does). The mapping, field by field:
//!
//! | Anthropic | OpenAI |
//! |---|---|
//! | `system` (string, or text blocks joined by a blank line; `cache_control` ignored) | a first `system` message |
//! | `text` block | text (a message whose parts are all text gets one string, which every server accepts) |
//! | `image` block, `base64` / `url` source | `image_url` part with a `data:` URL / the URL |
//! | `document` block with a `text` or `content` source | text (its `title` first) |
//! | assistant `tool_use` blocks | `tool_calls` (`arguments` = the input serialized as JSON) |
//! | user `tool_result` blocks | one `role: "tool"` message each, in place: text before them becomes a user message before, text after a user message after |
//! | assistant `thinking` / `redacted_thinking` blocks | dropped: their signatures mean nothing to a local model |
//! | `tools`, `tool_choice` (`auto`, `any`→`required`, `tool`→named, `none`), `disable_parallel_tool_use` | `tools`, `tool_choice`, `parallel_tool_calls: false` |
//! | `max_tokens`, `temperature`, `top_p`, `stop_sequences`, `metadata.user_id` | `max_tokens`, `temperature`, `top_p`, `stop`, `user` |
//! | `stream: true` | `stream: true` + `stream_options.include_usage` (so usage reaches `message_delta`) |
//!
//! Ignored top-level fields: `thinking`, `top_k`, `service_tier`, `container`, `mcp_servers` and
//! any other we do not know — sampling hints, not content. Content is different: an unknown block
//! type, a PDF, a server tool or an image inside a `tool_result` has no OpenAI equivalent and fails
//! the translation (a 400) instead of being silently dropped, because a model answering without
//! part of its input is a wrong answer that looks right.

use serde_json::{Map, Value};

use super::error::{Side, TranslateError};
use super::shape::{array, at, field, obj, object, opt_bool, opt_number, opt_str, req_str};

const SIDE: Side = Side::Client;

/// How separate text blocks are joined when a target needs one string.
pub(super) const JOIN: &str = "\n\n";

/// Translates an Anthropic Messages request into an OpenAI chat completions request for `model`.
///
/// Fails with a client error (answer 400) when the request uses something the OpenAI API cannot
/// carry; see the module docs for the mapping.
pub fn anthropic_to_openai_request(req: &Value, model: &str) -> Result<Value, TranslateError> {
    let root = object(req, "", SIDE)?;
    let mut messages = Vec::new();
    if let Some(system) = field(root, "system") {
        let text = system_text(system)?;
        if !text.is_empty() {
            messages.push(obj([("role", "system".into()), ("content", text.into())]));
        }
    }
    let input =
        field(root, "messages").ok_or_else(|| SIDE.err("messages: required array is missing"))?;
    for (i, message) in array(input, "messages", SIDE)?.iter().enumerate() {
        push_message(message, &format!("messages[{i}]"), &mut messages)?;
    }

    let mut out = Map::new();
    out.insert("model".into(), model.into());
    out.insert("messages".into(), Value::Array(messages));
    for key in ["max_tokens", "temperature", "top_p"] {
        if let Some(n) = opt_number(root, key, "", SIDE)? {
            out.insert(key.into(), n);
        }
    }
    if let Some(stop) = field(root, "stop_sequences") {
        let stop = string_list(stop, "stop_sequences")?;
        if !stop.is_empty() {
            out.insert("stop".into(), stop.into());
        }
    }
    if opt_bool(root, "stream", "", SIDE)? == Some(true) {
        out.insert("stream".into(), true.into());
        out.insert(
            "stream_options".into(),
            obj([("include_usage", true.into())]),
        );
    }
    if let Some(tools) = field(root, "tools") {
        out.insert("tools".into(), tools_to_openai(tools)?);
    }
    if let Some(choice) = field(root, "tool_choice") {
        let (choice, parallel) = tool_choice_to_openai(choice)?;
        out.insert("tool_choice".into(), choice);
        if !parallel {
            out.insert("parallel_tool_calls".into(), false.into());
        }
    }
    if let Some(metadata) = field(root, "metadata") {
        let metadata = object(metadata, "metadata", SIDE)?;
        if let Some(user) = opt_str(metadata, "user_id", "metadata", SIDE)? {
            out.insert("user".into(), user.into());
        }
    }
    Ok(Value::Object(out))
}

/// `system` as one string: a string as is, text blocks joined.
fn system_text(system: &Value) -> Result<String, TranslateError> {
    match system {
        Value::String(s) => Ok(s.clone()),
        Value::Array(blocks) => {
            let mut texts = Vec::with_capacity(blocks.len());
            for (i, block) in blocks.iter().enumerate() {
                let path = format!("system[{i}]");
                let block = object(block, &path, SIDE)?;
                match req_str(block, "type", &path, SIDE)? {
                    "text" => texts.push(req_str(block, "text", &path, SIDE)?),
                    other => {
                        return Err(SIDE.err(format!(
                            "{path}.type: system blocks must be \"text\", found \"{other}\""
                        )))
                    }
                }
            }
            Ok(texts.join(JOIN))
        }
        _ => Err(SIDE.err("system: expected a string or an array of text blocks")),
    }
}

fn push_message(message: &Value, path: &str, out: &mut Vec<Value>) -> Result<(), TranslateError> {
    let message = object(message, path, SIDE)?;
    let role = req_str(message, "role", path, SIDE)?;
    let content = field(message, "content")
        .ok_or_else(|| SIDE.err(format!("{path}.content: required field is missing")))?;
    let content_path = at(path, "content");
    match role {
        "user" => push_user(content, &content_path, out),
        "assistant" => push_assistant(content, &content_path, out),
        other => Err(SIDE.err(format!(
            "{path}.role: unknown role \"{other}\"; messages are \"user\" or \"assistant\" \
             (a system prompt goes in the top-level `system`)"
        ))),
    }
}

/// A user turn. `tool_result` blocks become `tool` messages in place, so the text around them
/// keeps its order relative to the results.
fn push_user(content: &Value, path: &str, out: &mut Vec<Value>) -> Result<(), TranslateError> {
    let blocks = match content {
        Value::String(s) => {
            out.push(user_message(Value::String(s.clone())));
            return Ok(());
        }
        other => array(other, path, SIDE)?,
    };
    let mut parts: Vec<Value> = Vec::new();
    let mut emitted = false;
    for (i, block) in blocks.iter().enumerate() {
        let path = format!("{path}[{i}]");
        let block = object(block, &path, SIDE)?;
        match req_str(block, "type", &path, SIDE)? {
            "text" => parts.push(text_part(req_str(block, "text", &path, SIDE)?)),
            "image" => parts.push(image_part(block, &path)?),
            "document" => parts.push(text_part(&document_text(block, &path)?)),
            "tool_result" => {
                if !parts.is_empty() {
                    out.push(user_message(parts_content(std::mem::take(&mut parts))));
                }
                out.push(tool_message(block, &path)?);
                emitted = true;
            }
            other => return Err(unknown_block(&path, other, "user")),
        }
    }
    if !parts.is_empty() || !emitted {
        out.push(user_message(parts_content(parts)));
    }
    Ok(())
}

/// An assistant turn: text joined into `content`, `tool_use` blocks into `tool_calls`.
fn push_assistant(content: &Value, path: &str, out: &mut Vec<Value>) -> Result<(), TranslateError> {
    let blocks = match content {
        Value::String(s) => {
            out.push(obj([
                ("role", "assistant".into()),
                ("content", s.clone().into()),
            ]));
            return Ok(());
        }
        other => array(other, path, SIDE)?,
    };
    let mut texts = Vec::new();
    let mut calls = Vec::new();
    for (i, block) in blocks.iter().enumerate() {
        let path = format!("{path}[{i}]");
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
            // Signed reasoning from an earlier Anthropic turn: a local model cannot verify or use
            // it, and the visible answer is in the text blocks.
            "thinking" | "redacted_thinking" => {}
            other => return Err(unknown_block(&path, other, "assistant")),
        }
    }
    let content = if texts.is_empty() && !calls.is_empty() {
        Value::Null
    } else {
        texts.join(JOIN).into()
    };
    let mut message = Map::new();
    message.insert("role".into(), "assistant".into());
    message.insert("content".into(), content);
    if !calls.is_empty() {
        message.insert("tool_calls".into(), Value::Array(calls));
    }
    out.push(Value::Object(message));
    Ok(())
}

fn user_message(content: Value) -> Value {
    obj([("role", "user".into()), ("content", content)])
}

fn text_part(text: &str) -> Value {
    obj([("type", "text".into()), ("text", text.into())])
}

/// All-text parts collapse to one string (the form every OpenAI-compatible server accepts);
/// anything with an image keeps the parts array.
fn parts_content(parts: Vec<Value>) -> Value {
    let texts: Option<Vec<&str>> = parts
        .iter()
        .map(|p| match p.get("type").and_then(Value::as_str) {
            Some("text") => p.get("text").and_then(Value::as_str),
            _ => None,
        })
        .collect();
    match texts {
        Some(texts) => texts.join(JOIN).into(),
        None => Value::Array(parts),
    }
}

fn image_part(block: &Map<String, Value>, path: &str) -> Result<Value, TranslateError> {
    let src_path = at(path, "source");
    let source = field(block, "source")
        .ok_or_else(|| SIDE.err(format!("{src_path}: required object is missing")))?;
    let source = object(source, &src_path, SIDE)?;
    let url = match req_str(source, "type", &src_path, SIDE)? {
        "base64" => format!(
            "data:{};base64,{}",
            req_str(source, "media_type", &src_path, SIDE)?,
            req_str(source, "data", &src_path, SIDE)?
        ),
        "url" => req_str(source, "url", &src_path, SIDE)?.to_owned(),
        other => {
            return Err(SIDE.err(format!(
                "{src_path}.type: image source \"{other}\" cannot be sent to an OpenAI-compatible \
                 pool; send the image as \"base64\" or \"url\""
            )))
        }
    };
    Ok(obj([
        ("type", "image_url".into()),
        ("image_url", obj([("url", url.into())])),
    ]))
}

/// A plain-text document as text, its title first. PDFs have no chat-completions equivalent.
fn document_text(block: &Map<String, Value>, path: &str) -> Result<String, TranslateError> {
    let src_path = at(path, "source");
    let source = field(block, "source")
        .ok_or_else(|| SIDE.err(format!("{src_path}: required object is missing")))?;
    let source = object(source, &src_path, SIDE)?;
    let body = match req_str(source, "type", &src_path, SIDE)? {
        "text" => req_str(source, "data", &src_path, SIDE)?.to_owned(),
        "content" => {
            let content = field(source, "content").unwrap_or(&Value::Null);
            text_only(content, &at(&src_path, "content"), "document")?
        }
        other => {
            return Err(SIDE.err(format!(
                "{src_path}.type: a \"{other}\" document (PDF) cannot be sent to an \
                 OpenAI-compatible pool; send its text as a \"text\" source"
            )))
        }
    };
    Ok(match opt_str(block, "title", path, SIDE)? {
        Some(title) if !title.is_empty() => format!("{title}{JOIN}{body}"),
        _ => body,
    })
}

/// A `tool_result` block as a `tool` message. OpenAI tool messages carry text only.
fn tool_message(block: &Map<String, Value>, path: &str) -> Result<Value, TranslateError> {
    let id = req_str(block, "tool_use_id", path, SIDE)?;
    let content = field(block, "content").unwrap_or(&Value::Null);
    let mut text = text_only(content, &at(path, "content"), "tool_result")?;
    if opt_bool(block, "is_error", path, SIDE)? == Some(true) {
        text = format!("Error: {text}");
    }
    Ok(obj([
        ("role", "tool".into()),
        ("tool_call_id", id.into()),
        ("content", text.into()),
    ]))
}

/// Content that must be text: absent, a string, or text blocks (joined).
fn text_only(content: &Value, path: &str, inside: &str) -> Result<String, TranslateError> {
    match content {
        Value::Null => Ok(String::new()),
        Value::String(s) => Ok(s.clone()),
        other => {
            let mut texts = Vec::new();
            for (i, block) in array(other, path, SIDE)?.iter().enumerate() {
                let path = format!("{path}[{i}]");
                let block = object(block, &path, SIDE)?;
                match req_str(block, "type", &path, SIDE)? {
                    "text" => texts.push(req_str(block, "text", &path, SIDE)?),
                    other => {
                        return Err(SIDE.err(format!(
                        "{path}.type: a \"{other}\" block inside a {inside} cannot be sent to an \
                             OpenAI-compatible pool; only text can"
                    )))
                    }
                }
            }
            Ok(texts.join(JOIN))
        }
    }
}

fn unknown_block(path: &str, kind: &str, role: &str) -> TranslateError {
    SIDE.err(format!(
        "{path}.type: a \"{kind}\" block in a {role} turn has no OpenAI chat equivalent; \
         the request is refused rather than sent without it"
    ))
}

fn string_list(v: &Value, path: &str) -> Result<Vec<Value>, TranslateError> {
    array(v, path, SIDE)?
        .iter()
        .enumerate()
        .map(|(i, s)| match s {
            Value::String(_) => Ok(s.clone()),
            _ => Err(SIDE.err(format!("{path}[{i}]: expected a string"))),
        })
        .collect()
}

fn tools_to_openai(tools: &Value) -> Result<Value, TranslateError> {
    let mut out = Vec::new();
    for (i, tool) in array(tools, "tools", SIDE)?.iter().enumerate() {
        let path = format!("tools[{i}]");
        let tool = object(tool, &path, SIDE)?;
        match opt_str(tool, "type", &path, SIDE)? {
            None | Some("custom") => {}
            Some(other) => {
                return Err(SIDE.err(format!(
                "{path}.type: the Anthropic server tool \"{other}\" cannot run on a local pool; \
                     declare it as a custom tool with an input_schema"
            )))
            }
        }
        let schema = field(tool, "input_schema")
            .ok_or_else(|| SIDE.err(format!("{path}.input_schema: required object is missing")))?;
        object(schema, &at(&path, "input_schema"), SIDE)?;
        let mut function = Map::new();
        function.insert("name".into(), req_str(tool, "name", &path, SIDE)?.into());
        if let Some(d) = opt_str(tool, "description", &path, SIDE)? {
            function.insert("description".into(), d.into());
        }
        function.insert("parameters".into(), schema.clone());
        if let Some(strict) = opt_bool(tool, "strict", &path, SIDE)? {
            function.insert("strict".into(), strict.into());
        }
        out.push(obj([
            ("type", "function".into()),
            ("function", Value::Object(function)),
        ]));
    }
    Ok(Value::Array(out))
}

/// The OpenAI `tool_choice`, and whether parallel tool calls stay allowed.
fn tool_choice_to_openai(choice: &Value) -> Result<(Value, bool), TranslateError> {
    let path = "tool_choice";
    let choice = object(choice, path, SIDE)?;
    let parallel = opt_bool(choice, "disable_parallel_tool_use", path, SIDE)? != Some(true);
    let mapped = match req_str(choice, "type", path, SIDE)? {
        "auto" => "auto".into(),
        "any" => "required".into(),
        "none" => "none".into(),
        "tool" => obj([
            ("type", "function".into()),
            (
                "function",
                obj([("name", req_str(choice, "name", path, SIDE)?.into())]),
            ),
        ]),
        other => {
            return Err(SIDE.err(format!(
                "tool_choice.type: unknown value \"{other}\"; use auto, any, tool or none"
            )))
        }
    };
    Ok((mapped, parallel))
}
