//! Anthropic messages streams.
//!
//! Text arrives in `content_block_delta` events: `text_delta.text`, `thinking_delta.thinking`, and
//! tool input as `input_json_delta.partial_json` (JSON text, [`Mode::JsonString`]). Each block
//! index is a channel. A block ends with `content_block_stop`: its held text is sent first, as a
//! `content_block_delta` of the same type, so the stop still closes a complete block.
//! `message_delta`, `message_stop` and `error` flush every block. `ping` events flush nothing: a
//! ping can arrive in the middle of a placeholder. Other events (`message_start`,
//! `content_block_start`, `citations_delta`, ...) carry complete strings and are restored fully.

use std::borrow::Borrow;

use serde_json::{json, Map, Value};

use super::text::{Channels, Mode};
use super::{
    may_hold_placeholder, parse_object, write_json, write_synthesized, RestoreError, StreamRestorer,
};
use crate::output::{OutputRules, OutputTally};
use crate::sse::{write_sse, SseEvent};
use crate::vault::Vault;

/// (block index, delta type)
type Key = (u64, &'static str);

/// The streamed text field of a delta type, and how its text is restored.
fn delta_field(delta_type: &str) -> Option<(&'static str, &'static str, Mode)> {
    match delta_type {
        "text_delta" => Some(("text_delta", "text", Mode::Text)),
        "thinking_delta" => Some(("thinking_delta", "thinking", Mode::Text)),
        "input_json_delta" => Some(("input_json_delta", "partial_json", Mode::JsonString)),
        _ => None,
    }
}

/// Restorer for Anthropic messages streams.
#[derive(Debug)]
pub struct AnthropicRestorer<V> {
    vault: V,
    channels: Channels<Key>,
    walked: usize,
    unparsed: usize,
}

/// A restorer for an Anthropic messages stream answering a request pseudonymized with `vault`.
pub fn anthropic_restorer(vault: &Vault) -> AnthropicRestorer<&Vault> {
    AnthropicRestorer::new(vault)
}

impl<V: Borrow<Vault>> AnthropicRestorer<V> {
    /// `vault` may be borrowed or owned (`Arc<Vault>`).
    pub fn new(vault: V) -> Self {
        Self {
            vault,
            channels: Channels::new(),
            walked: 0,
            unparsed: 0,
        }
    }

    /// Runs the response rules on this stream's text from now on ([`crate::output`]).
    pub fn with_output(mut self, rules: OutputRules) -> Self {
        self.channels.set_output(rules);
        self
    }

    /// Restores one event in place; returns whether it changed.
    fn restore_event(&mut self, ty: &str, v: &mut Map<String, Value>) -> bool {
        let vault = self.vault.borrow();
        let index = v.get("index").and_then(Value::as_u64).unwrap_or(0);
        let channel = (ty == "content_block_delta")
            .then(|| v.get("delta")?.get("type")?.as_str())
            .flatten()
            .and_then(delta_field);
        if let Some((delta_type, field, mode)) = channel {
            if let Some(Value::String(text)) = v.get_mut("delta").and_then(|d| d.get_mut(field)) {
                return self
                    .channels
                    .push_in_place(vault, &(index, delta_type), mode, text);
            }
        }
        let (n, changed) = self.channels.walk_members(vault, v, &[]);
        self.walked += n;
        changed
    }
}

fn write_flushes(out: &mut Vec<u8>, flushed: Vec<(Key, String)>) -> Result<(), RestoreError> {
    for ((index, delta_type), held) in flushed {
        let field = delta_field(delta_type).map_or("text", |(_, field, _)| field);
        let ev = json!({
            "type": "content_block_delta",
            "index": index,
            "delta": {"type": delta_type, field: held},
        });
        write_synthesized(out, Some("content_block_delta"), &ev)?;
    }
    Ok(())
}

impl<V: Borrow<Vault>> StreamRestorer for AnthropicRestorer<V> {
    fn on_event(&mut self, ev: &SseEvent) -> Result<Vec<u8>, RestoreError> {
        let mut out = Vec::new();
        let quiet = !self.channels.is_holding();
        if ev.comment_only || (quiet && !may_hold_placeholder(ev.data.as_bytes())) {
            write_sse(&mut out, ev);
            return Ok(out);
        }
        let Some(mut v) = parse_object(&ev.data) else {
            self.unparsed += 1;
            write_sse(&mut out, ev);
            return Ok(out);
        };
        let ty = v
            .get("type")
            .and_then(Value::as_str)
            .or(ev.event.as_deref())
            .unwrap_or_default()
            .to_owned();
        let flushed = match ty.as_str() {
            "content_block_stop" | "content_block_start" => {
                let index = v.get("index").and_then(Value::as_u64).unwrap_or(0);
                self.channels
                    .take_where(self.vault.borrow(), |k| k.0 == index)
            }
            "message_delta" | "message_stop" | "error" => {
                self.channels.take_all(self.vault.borrow())
            }
            _ => Vec::new(),
        };
        write_flushes(&mut out, flushed)?;
        if self.restore_event(&ty, &mut v) {
            write_json(&mut out, ev, &Value::Object(v))?;
        } else {
            write_sse(&mut out, ev);
        }
        Ok(out)
    }

    fn finish(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        // Serializing a serde_json value cannot fail; nothing else could be sent anyway.
        let _ = write_flushes(&mut out, self.channels.take_all(self.vault.borrow()));
        out
    }

    fn restored(&self) -> usize {
        self.channels.restored + self.walked
    }

    fn unparsed(&self) -> usize {
        self.unparsed
    }

    fn tally(&self) -> &OutputTally {
        &self.channels.tally
    }
}
