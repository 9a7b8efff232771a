//! OpenAI Responses API streams.
//!
//! Every event is typed (`event: response.output_text.delta` plus a `type` in the JSON) and
//! numbered (`sequence_number`). Any `*.delta` event with a string `delta` is a channel, keyed by
//! its type, `item_id`, `content_index` and `summary_index`: output text, refusals, reasoning
//! summaries, audio transcripts, and function or MCP call arguments (JSON text,
//! [`Mode::JsonString`]). Events that carry complete text (`*.done`, `content_part.done`,
//! `output_item.done`, `response.completed`, ...) are restored fully.
//!
//! A channel ends with a `*.done` event of its item, or a terminal event (`response.completed`,
//! `response.failed`, `response.incomplete`, `error`): held text is sent before it as a copy of
//! the channel's last delta event. From the first synthesized event on, every later
//! `sequence_number` is shifted so the numbers stay strictly increasing.

use std::borrow::Borrow;
use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::text::{Channels, Mode};
use super::{
    may_hold_placeholder, parse_object, write_json, write_synthesized, RestoreError, StreamRestorer,
};
use crate::output::{OutputRules, OutputTally};
use crate::sse::{write_sse, SseEvent};
use crate::vault::Vault;

const TERMINAL: [&str; 4] = [
    "response.completed",
    "response.failed",
    "response.incomplete",
    "error",
];

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    item: String,
    /// The event type without `.delta`.
    family: String,
    content_index: Option<u64>,
    summary_index: Option<u64>,
}

/// Restorer for Responses API streams.
#[derive(Debug)]
pub struct ResponsesRestorer<V> {
    vault: V,
    channels: Channels<Key>,
    /// The last delta event (name and JSON) of each holding channel: the model of its flush.
    templates: BTreeMap<Key, (Option<String>, Map<String, Value>)>,
    /// How many events were synthesized: added to every later upstream sequence number.
    shift: u64,
    last_seq: Option<u64>,
    /// `last_seq` before the event being processed: an event written instead of it continues
    /// from here.
    seq_before_event: Option<u64>,
    walked: usize,
    unparsed: usize,
}

/// A restorer for a Responses API stream answering a request pseudonymized with `vault`.
pub fn responses_restorer(vault: &Vault) -> ResponsesRestorer<&Vault> {
    ResponsesRestorer::new(vault)
}

/// The item an event belongs to: `item_id`, `item.id`, or its output index.
fn item_ref(v: &Map<String, Value>) -> Option<String> {
    if let Some(id) = v.get("item_id").and_then(Value::as_str) {
        return Some(id.to_owned());
    }
    if let Some(id) = v
        .get("item")
        .and_then(|i| i.get("id"))
        .and_then(Value::as_str)
    {
        return Some(id.to_owned());
    }
    v.get("output_index")
        .and_then(Value::as_u64)
        .map(|i| format!("#{i}"))
}

impl<V: Borrow<Vault>> ResponsesRestorer<V> {
    /// `vault` may be borrowed or owned (`Arc<Vault>`).
    pub fn new(vault: V) -> Self {
        Self {
            vault,
            channels: Channels::new(),
            templates: BTreeMap::new(),
            shift: 0,
            last_seq: None,
            seq_before_event: None,
            walked: 0,
            unparsed: 0,
        }
    }

    /// Runs the response rules on this stream's text from now on ([`crate::output`]).
    pub fn with_output(mut self, rules: OutputRules) -> Self {
        self.channels.set_output(rules);
        self
    }

    /// The flush of `key`'s held text, numbered to precede an event numbered `before` upstream.
    fn synthesize(
        &mut self,
        key: &Key,
        held: String,
        before: Option<u64>,
    ) -> (Option<String>, Value) {
        let delta_type = format!("{}.delta", key.family);
        let (name, mut ev) = self.templates.remove(key).unwrap_or_else(|| {
            let mut ev = Map::new();
            ev.insert("type".to_owned(), Value::String(delta_type.clone()));
            ev.insert("item_id".to_owned(), Value::String(key.item.clone()));
            (Some(delta_type), ev)
        });
        ev.insert("delta".to_owned(), Value::String(held));
        if let Some(logprobs) = ev.get_mut("logprobs") {
            // They described the upstream delta's tokens, not this text.
            *logprobs = Value::Array(Vec::new());
        }
        let seq = match before {
            Some(seq) => Some(seq + self.shift),
            None => self.last_seq.map(|s| s + 1),
        };
        if let Some(seq) = seq {
            ev.insert("sequence_number".to_owned(), Value::from(seq));
            self.last_seq = Some(seq);
        }
        self.shift += 1;
        (name, Value::Object(ev))
    }

    fn flush(
        &mut self,
        out: &mut Vec<u8>,
        flushed: Vec<(Key, String)>,
        before: Option<u64>,
    ) -> Result<(), RestoreError> {
        for (key, held) in flushed {
            let (name, ev) = self.synthesize(&key, held, before);
            write_synthesized(out, name.as_deref(), &ev)?;
        }
        Ok(())
    }

    /// Restores one event in place; returns whether it changed.
    fn restore_event(&mut self, ev: &SseEvent, ty: &str, v: &mut Map<String, Value>) -> bool {
        let vault = self.vault.borrow();
        let cleared = self.channels.clear_token_copies(v);
        let is_text = matches!(v.get("delta"), Some(Value::String(_)));
        let Some(family) = ty.strip_suffix(".delta").filter(|_| is_text) else {
            let (n, changed) = self.channels.walk_members(vault, v, &[]);
            self.walked += n;
            return changed || cleared;
        };
        let key = Key {
            item: item_ref(v).unwrap_or_default(),
            family: family.to_owned(),
            content_index: v.get("content_index").and_then(Value::as_u64),
            summary_index: v.get("summary_index").and_then(Value::as_u64),
        };
        let mode = if family.ends_with("arguments") {
            Mode::JsonString
        } else {
            Mode::Text
        };
        let changed = match v.get_mut("delta") {
            Some(Value::String(delta)) => self.channels.push_in_place(vault, &key, mode, delta),
            _ => false,
        };
        if self.channels.is_holding_key(&key) {
            self.templates.insert(key, (ev.event.clone(), v.clone()));
        } else {
            self.templates.remove(&key);
        }
        changed || cleared
    }
}

impl<V: Borrow<Vault>> StreamRestorer for ResponsesRestorer<V> {
    fn on_event(&mut self, ev: &SseEvent) -> Result<Vec<u8>, RestoreError> {
        let mut out = Vec::new();
        self.seq_before_event = self.last_seq;
        let quiet = !self.channels.is_holding() && self.shift == 0;
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
        let seq = v.get("sequence_number").and_then(Value::as_u64);
        let flushed = if TERMINAL.contains(&ty.as_str()) {
            self.channels.take_all(self.vault.borrow())
        } else if ty.ends_with(".done") {
            match item_ref(&v) {
                Some(item) => self
                    .channels
                    .take_where(self.vault.borrow(), |k| k.item == item),
                None => Vec::new(),
            }
        } else {
            Vec::new()
        };
        self.flush(&mut out, flushed, seq)?;
        let mut changed = self.restore_event(ev, &ty, &mut v);
        if let Some(seq) = seq {
            let renumbered = seq + self.shift;
            if renumbered != seq {
                v.insert("sequence_number".to_owned(), Value::from(renumbered));
                changed = true;
            }
            self.last_seq = Some(renumbered);
        }
        if changed {
            write_json(&mut out, ev, &Value::Object(v))?;
        } else {
            write_sse(&mut out, ev);
        }
        Ok(out)
    }

    fn finish(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        self.seq_before_event = self.last_seq;
        let flushed = self.channels.take_all(self.vault.borrow());
        // Serializing a serde_json value cannot fail; nothing else could be sent anyway.
        let _ = self.flush(&mut out, flushed, None);
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

    fn next_sequence(&self) -> Option<u64> {
        Some(self.seq_before_event.map_or(0, |s| s + 1))
    }
}
