//! The end of an answer a response rule blocked, in the client's own framing.
//!
//! A blocked stream must end visibly broken, never with a clean `[DONE]` or `message_stop` that
//! would let a client take the truncated text for the whole answer; and it must end in a shape the
//! client's SDK turns into an error:
//! - OpenAI chat (and Azure, and the default): a `data:` object with an `error` member, then the
//!   stream stops (the `openai` SDK raises `APIError` on it);
//! - Responses API: an `error` event (`type`, `code`, `message`, `param`, `sequence_number`
//!   continuing the stream's numbering);
//! - Anthropic: `event: error` with `{"type":"error","error":{...}}` (the `anthropic` SDK raises);
//! - Gemini: a chunk `{"error":{"code":403,...}}`, in SSE or as the last element of the array.

use crate::api::{Family, Op};
use crate::sse::write_event;
use serde_json::{json, Value};

/// The code every blocked answer carries.
pub const OUTPUT_BLOCKED: &str = "output_blocked";

/// What the client reads: the rule, never the matched text.
pub fn blocked_message(rule_id: &str) -> String {
    format!(
        "answer blocked by Sovgate policy: rule {rule_id} matched in the model's output; the rest of the answer was withheld"
    )
}

fn gemini_error(rule_id: &str) -> Value {
    json!({"error": {"code": 403, "message": blocked_message(rule_id), "status": "PERMISSION_DENIED"}})
}

/// The SSE event that ends a blocked stream. `seq` is the next Responses API sequence number.
pub fn blocked_event(family: Family, op: Op, rule_id: &str, seq: Option<u64>) -> Vec<u8> {
    let message = blocked_message(rule_id);
    let mut out = Vec::new();
    match (family, op) {
        (Family::Anthropic, _) => {
            let data =
                json!({"type": "error", "error": {"type": "permission_error", "message": message}});
            write_event(&mut out, Some("error"), &data.to_string());
        }
        (_, Op::Responses) => {
            let mut data =
                json!({"type": "error", "code": OUTPUT_BLOCKED, "message": message, "param": null});
            if let (Some(seq), Value::Object(map)) = (seq, &mut data) {
                map.insert("sequence_number".into(), Value::from(seq));
            }
            write_event(&mut out, Some("error"), &data.to_string());
        }
        (Family::Gemini, _) => write_event(&mut out, None, &gemini_error(rule_id).to_string()),
        _ => {
            let data = json!({"error": {"message": message, "type": "invalid_request_error", "param": null, "code": OUTPUT_BLOCKED}});
            write_event(&mut out, None, &data.to_string());
        }
    }
    out
}

/// The end of a blocked Gemini JSON-array stream: the error as the last element, then `]`, so
/// what the client received still parses as one array (`[{"error":...}]` when nothing was sent
/// yet, as Gemini itself streams errors). `last_sent` is the last non-whitespace byte the client got.
pub fn blocked_array_tail(last_sent: Option<u8>, rule_id: &str) -> Vec<u8> {
    let error = gemini_error(rule_id).to_string();
    match last_sent {
        None => format!("[{error}]"),
        Some(b'[' | b',') => format!("{error}]"),
        Some(_) => format!(",\r\n{error}]"),
    }
    .into_bytes()
}
