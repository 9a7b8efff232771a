//! Finding "what the model was shown" in each API's request shape.

use serde_json::Value;

/// Text of a content value: a string, or the `text` of every part of an array (OpenAI
/// `text`/`input_text` parts, Anthropic text blocks), joined.
pub(super) fn content_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    }
}

/// The last message with `role: "user"` in `messages` (OpenAI chat, Anthropic messages).
pub(super) fn last_user_message(req: &Value) -> String {
    last_user(req.get("messages"))
}

fn last_user(items: Option<&Value>) -> String {
    items
        .and_then(Value::as_array)
        .and_then(|m| {
            m.iter()
                .rev()
                .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        })
        .and_then(|m| m.get("content"))
        .map(content_text)
        .unwrap_or_default()
}

/// `prompt` of the legacy completions API: a string, or the last of an array of strings.
pub(super) fn prompt(req: &Value) -> String {
    match req.get("prompt") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .rev()
            .find_map(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        _ => String::new(),
    }
}

/// `input` of the Responses API: a string, or the last user item of an array.
pub(super) fn responses_input(req: &Value) -> String {
    match req.get("input") {
        Some(Value::String(s)) => s.clone(),
        items @ Some(Value::Array(_)) => last_user(items),
        _ => String::new(),
    }
}

/// The last user turn of a Gemini request: `contents[].parts[].text` (a turn without a role is
/// a user turn).
pub(super) fn gemini_contents(req: &Value) -> String {
    req.get("contents")
        .and_then(Value::as_array)
        .and_then(|c| {
            c.iter()
                .rev()
                .find(|c| matches!(c.get("role").and_then(Value::as_str), None | Some("user")))
        })
        .and_then(|c| c.get("parts"))
        .map(content_text)
        .unwrap_or_default()
}

/// Every text of a request (system prompt and all messages), for token counting.
pub(super) fn all_text(req: &Value) -> String {
    let mut out = req.get("system").map(content_text).unwrap_or_default();
    for m in req
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        out.push(' ');
        out.push_str(&m.get("content").map(content_text).unwrap_or_default());
    }
    out
}

/// A stand-in token count: one per whitespace-separated word. Deterministic, which is all a
/// test needs of it.
pub(super) fn tokens(text: &str) -> u64 {
    text.split_whitespace().count() as u64
}
