//! Error bodies from one API, re-shaped for the other's clients.
//!
//! SDKs pick their exception class from the HTTP status and read the message from the body, so
//! the status decides the error type and the message is carried over from whatever the upstream
//! wrote: OpenAI's `{"error":{"message"}}`, vLLM's top-level `{"message"}`, FastAPI's
//! `{"detail"}`, Anthropic's `{"error":{"type","message"}}`, or plain text. An upstream that said
//! nothing useful still yields a well-formed body that names its status.

use serde_json::Value;

use super::shape::obj;

/// The most of an upstream's own text that is copied into an error message.
const MAX_MESSAGE_CHARS: usize = 1000;

/// An OpenAI-style error body (and its status) as an Anthropic error body:
/// `{"type":"error","error":{"type": ..., "message": ...}}`.
///
/// The type follows the status: 400 `invalid_request_error`, 401 `authentication_error`,
/// 402 `billing_error`, 403 `permission_error`, 404 `not_found_error`, 413 `request_too_large`,
/// 429 `rate_limit_error`, 504 `timeout_error`, 529 `overloaded_error`, other 5xx `api_error`,
/// other 4xx `invalid_request_error`.
pub fn openai_error_to_anthropic(status: u16, body: &[u8]) -> Value {
    anthropic_error(
        anthropic_error_type(status),
        &upstream_message(status, body),
    )
}

/// An Anthropic error body (and its status) as an OpenAI error body:
/// `{"error":{"message", "type", "param": null, "code"}}`.
///
/// `type` is the OpenAI category for the status (`invalid_request_error` for 4xx,
/// `rate_limit_error` for 429, `server_error` for 5xx); `code` keeps the Anthropic error type
/// (`overloaded_error`, `authentication_error`, ...), so nothing the upstream said is lost.
pub fn anthropic_error_to_openai(status: u16, body: &[u8]) -> Value {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let code = parsed
        .as_ref()
        .and_then(|v| v.get("error"))
        .and_then(|e| e.get("type"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| anthropic_error_type(status).to_owned());
    let kind = match status {
        429 => "rate_limit_error",
        400..=499 => "invalid_request_error",
        _ => "server_error",
    };
    openai_error(&upstream_message(status, body), kind, Some(&code))
}

/// `{"type":"error","error":{"type","message"}}`, the body Anthropic sends and streams.
pub(super) fn anthropic_error(kind: &str, message: &str) -> Value {
    obj([
        ("type", "error".into()),
        (
            "error",
            obj([("type", kind.into()), ("message", message.into())]),
        ),
    ])
}

/// `{"error":{"message","type","param":null,"code"}}`, the body OpenAI sends and streams.
pub(super) fn openai_error(message: &str, kind: &str, code: Option<&str>) -> Value {
    obj([(
        "error",
        obj([
            ("message", message.into()),
            ("type", kind.into()),
            ("param", Value::Null),
            ("code", code.map_or(Value::Null, Value::from)),
        ]),
    )])
}

/// The Anthropic error type for an HTTP status.
pub(super) fn anthropic_error_type(status: u16) -> &'static str {
    match status {
        400 => "invalid_request_error",
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        504 => "timeout_error",
        529 => "overloaded_error",
        405..=499 => "invalid_request_error",
        _ => "api_error",
    }
}

/// The upstream's own words about the error, or a sentence naming the status.
pub(super) fn upstream_message(status: u16, body: &[u8]) -> String {
    let found = match serde_json::from_slice::<Value>(body) {
        Ok(v) => message_in(&v),
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            (!text.is_empty()).then(|| text.to_owned())
        }
    };
    match found {
        Some(m) if !m.trim().is_empty() => truncate(m),
        _ => format!("upstream answered HTTP {status}"),
    }
}

fn message_in(v: &Value) -> Option<String> {
    let error = v.get("error");
    let candidates = [
        error.and_then(|e| e.get("message")),
        error,
        v.get("message"),
        v.get("detail"),
    ];
    candidates.into_iter().flatten().find_map(|c| match c {
        Value::String(s) => Some(s.clone()),
        // FastAPI validation errors: a list of objects; their JSON is the best message there is.
        Value::Array(_) => Some(c.to_string()),
        _ => None,
    })
}

fn truncate(mut s: String) -> String {
    if let Some((cut, _)) = s.char_indices().nth(MAX_MESSAGE_CHARS) {
        s.truncate(cut);
        s.push('…');
    }
    s
}
