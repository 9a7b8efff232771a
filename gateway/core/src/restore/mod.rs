//! Restoring pseudonyms in answers, streamed or not.
//!
//! A request left the gateway with personal data replaced by placeholders (`⟦EMAIL_1⟧`, see
//! [`crate::vault`]); the model answers with those placeholders and the user must read the real
//! values. This module puts them back, and the hard part is streaming:
//!
//! - a placeholder can be cut anywhere: between two SSE events, between two chunks of one event,
//!   inside a JSON `\u27e6` escape. Events are parsed first ([`crate::sse`]), JSON strings are
//!   decoded by serde_json, and each text channel goes through a [`TextRestorer`] that holds back
//!   only a suffix that may still become a placeholder of this request's vault;
//! - nothing is buffered beyond that hold-back: an event with nothing to change is written out
//!   as it came (re-framed from the parsed event), without being parsed at all when it holds no
//!   `⟦` and no channel is holding text;
//! - held text goes into the next event of the same channel; when the channel ends (a finish
//!   reason, `content_block_stop`, `*.done`, `[DONE]`, the end of the stream) it is sent in a
//!   delta event synthesized in the channel's own shape, before the closing event;
//! - placeholders the model invented or mangled are left as they are, never mapped to another
//!   value, and restored text is never scanned again. Restorers share nothing: two requests, two
//!   vaults, two restorers.
//!
//! One restorer per framing: [`OpenAiChatRestorer`] (chat completions chunks),
//! [`ResponsesRestorer`] (the Responses API's typed events), [`AnthropicRestorer`] (messages
//! stream), [`GeminiSseRestorer`] (`alt=sse`) and [`GeminiJsonArrayRestorer`] (Gemini's streamed
//! JSON array); [`restore_json_body`] handles answers that are not streamed.
//!
//! Tool-call arguments are JSON text inside a JSON string, and the placeholder sits inside one of
//! their string literals: there the original is written JSON-escaped ([`Mode::JsonString`]) so the
//! arguments stay valid JSON whatever the value holds. Complete strings under a key named
//! `arguments` or `partial_json` are treated the same way.
//!
//! An event whose data should be JSON but is not passes through unchanged and is counted
//! ([`StreamRestorer::unparsed`]): a restore error cannot leak a secret (the worst case is a
//! placeholder the user sees), so failing the whole answer would only lose data.

mod anthropic;
mod body;
mod gemini;
mod gemini_array;
mod openai;
mod responses;
mod text;

#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::LazyLock;

use memchr::memmem::Finder;

use serde_json::Value;

use crate::output::OutputTally;
use crate::sse::{write_event, write_sse_with_data, SseEvent};

pub use anthropic::{anthropic_restorer, AnthropicRestorer};
pub use body::{filter_restore_value, restore_json_body, restore_value};
pub use gemini::{gemini_sse_restorer, GeminiSseRestorer};
pub use gemini_array::GeminiJsonArrayRestorer;
pub use openai::{openai_chat_restorer, OpenAiChatRestorer};
pub use responses::{responses_restorer, ResponsesRestorer};
pub use text::{restore_str, Mode, TextRestorer};

/// A restorer for one streamed answer in one framing.
pub trait StreamRestorer {
    /// Takes the next upstream event; returns the framed SSE bytes to send to the client now
    /// (possibly several events, possibly none).
    fn on_event(&mut self, ev: &SseEvent) -> Result<Vec<u8>, RestoreError>;
    /// The upstream stream ended: returns the events that flush any held-back text.
    fn finish(&mut self) -> Vec<u8>;
    /// How many placeholders were restored so far.
    fn restored(&self) -> usize;
    /// How many events were passed through unchanged because their data was not the JSON the
    /// framing expects.
    fn unparsed(&self) -> usize;
    /// What the response rules found so far; a block there means the events this restorer
    /// returned since the block must not be sent.
    fn tally(&self) -> &OutputTally;
    /// The sequence number the next event sent to the client should carry, in framings that
    /// number events (the Responses API): an event the gateway writes itself continues there.
    fn next_sequence(&self) -> Option<u64> {
        None
    }
}

/// Why an answer could not be restored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreError {
    kind: RestoreErrorKind,
}

/// The kinds of [`RestoreError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RestoreErrorKind {
    /// A body that must be JSON to be restored is not.
    InvalidJson,
    /// One element of a streamed JSON array exceeded the bound.
    ElementTooLarge { limit: usize },
    /// A restored value could not be serialized again.
    Serialize,
}

impl RestoreError {
    pub(crate) fn new(kind: RestoreErrorKind) -> Self {
        Self { kind }
    }

    pub fn kind(&self) -> RestoreErrorKind {
        self.kind
    }

    pub fn is_invalid_json(&self) -> bool {
        self.kind == RestoreErrorKind::InvalidJson
    }
}

impl fmt::Display for RestoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            RestoreErrorKind::InvalidJson => {
                f.write_str("upstream answer is not valid JSON; its placeholders cannot be restored")
            }
            RestoreErrorKind::ElementTooLarge { limit } => write!(
                f,
                "upstream streamed JSON array: one element exceeds {limit} bytes; raise the element size limit if this upstream legitimately sends larger ones"
            ),
            RestoreErrorKind::Serialize => f.write_str("restored answer could not be serialized"),
        }
    }
}

impl std::error::Error for RestoreError {}

/// Whether `data` may contain a placeholder: the opening bracket raw or as a JSON escape. When
/// it cannot and no channel holds text, an event is relayed without being parsed.
pub(crate) fn may_hold_placeholder(data: &[u8]) -> bool {
    static ESCAPED: LazyLock<[Finder<'static>; 2]> =
        LazyLock::new(|| [Finder::new(b"\\u27e6"), Finder::new(b"\\u27E6")]);
    text::OPEN_FINDER.find(data).is_some() || ESCAPED.iter().any(|f| f.find(data).is_some())
}

fn serialize(v: &Value) -> Result<String, RestoreError> {
    serde_json::to_string(v).map_err(|_| RestoreError::new(RestoreErrorKind::Serialize))
}

/// Writes `ev` with `v` as its data, keeping its event name, id, retry and comments.
pub(crate) fn write_json(out: &mut Vec<u8>, ev: &SseEvent, v: &Value) -> Result<(), RestoreError> {
    let data = serialize(v)?;
    write_sse_with_data(out, ev, Some(&data));
    Ok(())
}

/// Writes an event the restorer made up (a flush of held-back text).
pub(crate) fn write_synthesized(
    out: &mut Vec<u8>,
    event: Option<&str>,
    v: &Value,
) -> Result<(), RestoreError> {
    write_event(out, event, &serialize(v)?);
    Ok(())
}

/// Parses event data as a JSON object.
pub(crate) fn parse_object(data: &str) -> Option<serde_json::Map<String, Value>> {
    match serde_json::from_str(data) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    }
}

/// A JSON index field (`index`, `output_index`, ...), or the position when absent.
pub(crate) fn index_or(v: &Value, key: &str, position: usize) -> u64 {
    v.get(key)
        .and_then(Value::as_u64)
        .unwrap_or(position as u64)
}
