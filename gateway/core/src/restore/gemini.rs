//! Gemini `streamGenerateContent` answers, as SSE (`alt=sse`).
//!
//! Each chunk is a `GenerateContentResponse`; text arrives in
//! `candidates[i].content.parts[j].text`. Part positions are not stable across chunks (every chunk
//! has a fresh `parts` list), so the channel is the candidate, split into thought and answer
//! text: consecutive text parts of one kind are one growing text. Function calls arrive whole in
//! one part (`functionCall.args`) and are restored fully, like every other string of a chunk.
//!
//! A candidate's channels end with its `finishReason`: held text goes into the last text part of
//! that kind in the same chunk, or into a chunk synthesized before it (`candidates[i]` with one
//! text part, plus the stream's `modelVersion` and `responseId`). The end of the stream flushes
//! the rest. The chunk logic is shared with [`super::GeminiJsonArrayRestorer`].

use std::borrow::Borrow;

use serde_json::{json, Map, Value};

use super::text::{Channels, Mode};
use super::{
    index_or, may_hold_placeholder, parse_object, write_json, write_synthesized, RestoreError,
    StreamRestorer,
};
use crate::output::{OutputRules, OutputTally};
use crate::sse::{write_sse, SseEvent};
use crate::vault::Vault;

/// (candidate index, thought)
type Key = (u64, bool);

/// The per-stream state of Gemini restoration, whatever the outer framing.
#[derive(Debug)]
pub(crate) struct GeminiChunks {
    channels: Channels<Key>,
    /// `modelVersion` and `responseId` of the latest chunk: the frame of synthesized chunks.
    meta: Map<String, Value>,
    walked: usize,
}

impl GeminiChunks {
    pub(crate) fn new() -> Self {
        Self {
            channels: Channels::new(),
            meta: Map::new(),
            walked: 0,
        }
    }

    pub(crate) fn set_output(&mut self, rules: OutputRules) {
        self.channels.set_output(rules);
    }

    pub(crate) fn tally(&self) -> &OutputTally {
        &self.channels.tally
    }

    /// Restores (and filters) a complete value, e.g. a non-streamed answer in the array framing.
    pub(crate) fn walk_value(&mut self, vault: &Vault, value: &mut Value) -> (usize, bool) {
        match value {
            Value::Object(map) => self.channels.walk_members(vault, map, &[]),
            _ => (0, false),
        }
    }

    pub(crate) fn is_holding(&self) -> bool {
        self.channels.is_holding()
    }

    pub(crate) fn restored(&self) -> usize {
        self.channels.restored + self.walked
    }

    /// Restores one chunk in place. Returns the chunks to send before it and whether it changed.
    pub(crate) fn restore_chunk(
        &mut self,
        vault: &Vault,
        chunk: &mut Map<String, Value>,
    ) -> (Vec<Value>, bool) {
        for key in ["modelVersion", "responseId"] {
            if let Some(v) = chunk.get(key) {
                self.meta.insert(key.to_owned(), v.clone());
            }
        }
        let mut before = Vec::new();
        let (mut walked, mut changed) = self.channels.walk_members(vault, chunk, &["candidates"]);
        changed |= self.channels.clear_token_copies(chunk);
        if let Some(Value::Array(candidates)) = chunk.get_mut("candidates") {
            for (pos, candidate) in candidates.iter_mut().enumerate() {
                let ci = index_or(candidate, "index", pos);
                let Value::Object(candidate) = candidate else {
                    continue;
                };
                let (n, c) = self.channels.walk_members(vault, candidate, &["content"]);
                walked += n;
                changed |= c;
                // Per kind (answer, thought): the last text part of this chunk, for the flush.
                let mut last_part: [Option<usize>; 2] = [None, None];
                if let Some(Value::Object(content)) = candidate.get_mut("content") {
                    let (n, c) = self.channels.walk_members(vault, content, &["parts"]);
                    walked += n;
                    changed |= c;
                    if let Some(Value::Array(parts)) = content.get_mut("parts") {
                        for (j, part) in parts.iter_mut().enumerate() {
                            let Value::Object(part) = part else {
                                continue;
                            };
                            let thought =
                                part.get("thought").and_then(Value::as_bool) == Some(true);
                            match part.get_mut("text") {
                                Some(Value::String(text)) => {
                                    let key = (ci, thought);
                                    changed |=
                                        self.channels.push_in_place(vault, &key, Mode::Text, text);
                                    last_part[usize::from(thought)] = Some(j);
                                    let (n, c) = self.channels.walk_members(vault, part, &["text"]);
                                    walked += n;
                                    changed |= c;
                                }
                                _ => {
                                    let (n, c) = self.channels.walk_members(vault, part, &[]);
                                    walked += n;
                                    changed |= c;
                                }
                            }
                        }
                    }
                }
                let finished = candidate.get("finishReason").is_some_and(|f| !f.is_null());
                if !finished {
                    continue;
                }
                for ((_, thought), held) in self.channels.take_where(vault, |k| k.0 == ci) {
                    let target = last_part[usize::from(thought)].and_then(|j| {
                        candidate
                            .get_mut("content")?
                            .get_mut("parts")?
                            .get_mut(j)?
                            .get_mut("text")
                    });
                    match target {
                        Some(Value::String(text)) => {
                            text.push_str(&held);
                            changed = true;
                        }
                        _ => before.push(self.synthesize(ci, thought, held)),
                    }
                }
            }
        }
        self.walked += walked;
        (before, changed)
    }

    fn synthesize(&self, ci: u64, thought: bool, held: String) -> Value {
        let part = if thought {
            json!({"text": held, "thought": true})
        } else {
            json!({ "text": held })
        };
        let mut chunk = Map::new();
        chunk.insert(
            "candidates".to_owned(),
            json!([{"content": {"parts": [part], "role": "model"}, "index": ci}]),
        );
        chunk.extend(self.meta.clone());
        Value::Object(chunk)
    }

    /// Ends every channel: the chunks that carry what was held.
    pub(crate) fn flush_all(&mut self, vault: &Vault) -> Vec<Value> {
        self.channels
            .take_all(vault)
            .into_iter()
            .map(|((ci, thought), held)| self.synthesize(ci, thought, held))
            .collect()
    }
}

/// Restorer for Gemini `alt=sse` streams.
#[derive(Debug)]
pub struct GeminiSseRestorer<V> {
    vault: V,
    chunks: GeminiChunks,
    unparsed: usize,
}

/// A restorer for a Gemini `alt=sse` stream answering a request pseudonymized with `vault`.
pub fn gemini_sse_restorer(vault: &Vault) -> GeminiSseRestorer<&Vault> {
    GeminiSseRestorer::new(vault)
}

impl<V: Borrow<Vault>> GeminiSseRestorer<V> {
    /// `vault` may be borrowed or owned (`Arc<Vault>`).
    pub fn new(vault: V) -> Self {
        Self {
            vault,
            chunks: GeminiChunks::new(),
            unparsed: 0,
        }
    }

    /// Runs the response rules on this stream's text from now on ([`crate::output`]).
    pub fn with_output(mut self, rules: OutputRules) -> Self {
        self.chunks.set_output(rules);
        self
    }
}

impl<V: Borrow<Vault>> StreamRestorer for GeminiSseRestorer<V> {
    fn on_event(&mut self, ev: &SseEvent) -> Result<Vec<u8>, RestoreError> {
        let mut out = Vec::new();
        let quiet = !self.chunks.is_holding();
        if ev.comment_only || (quiet && !may_hold_placeholder(ev.data.as_bytes())) {
            write_sse(&mut out, ev);
            return Ok(out);
        }
        let Some(mut chunk) = parse_object(&ev.data) else {
            self.unparsed += 1;
            write_sse(&mut out, ev);
            return Ok(out);
        };
        let (before, changed) = self.chunks.restore_chunk(self.vault.borrow(), &mut chunk);
        for synthesized in &before {
            write_synthesized(&mut out, ev.event.as_deref(), synthesized)?;
        }
        if changed {
            write_json(&mut out, ev, &Value::Object(chunk))?;
        } else {
            write_sse(&mut out, ev);
        }
        Ok(out)
    }

    fn finish(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        for chunk in self.chunks.flush_all(self.vault.borrow()) {
            // Serializing a serde_json value cannot fail; nothing else could be sent anyway.
            let _ = write_synthesized(&mut out, None, &chunk);
        }
        out
    }

    fn restored(&self) -> usize {
        self.chunks.restored()
    }

    fn unparsed(&self) -> usize {
        self.unparsed
    }

    fn tally(&self) -> &OutputTally {
        self.chunks.tally()
    }
}
