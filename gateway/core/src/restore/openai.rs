//! OpenAI chat completions streams (also Azure OpenAI and every OpenAI-compatible local server).
//!
//! Each event is a `chat.completion.chunk`; text arrives in `choices[i].delta.content` (also
//! `refusal`, and `reasoning_content` / `reasoning` from vLLM, SGLang and llama.cpp) and tool-call
//! arguments in `choices[i].delta.tool_calls[j].function.arguments` (or the deprecated
//! `function_call.arguments`). Channels: one per choice and text field, one per (choice, tool
//! index). Other fields of a chunk (ids, names, logprob tokens) are left alone. A channel ends with its choice's `finish_reason`:
//! held text goes into that chunk when it carries the same field, else into a chunk synthesized
//! just before it, with the `id`, `object`, `created` and `model` of the stream's chunks.
//! `[DONE]` and the end of the stream flush whatever is still held.

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

/// Text fields of a delta, each its own channel.
const TEXT_FIELDS: [&str; 4] = ["content", "refusal", "reasoning_content", "reasoning"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Field {
    Text(&'static str),
    Tool(u64),
    /// The deprecated `function_call.arguments`.
    Function,
}

/// (choice index, field)
type Key = (u64, Field);

/// Restorer for OpenAI chat completions streams.
#[derive(Debug)]
pub struct OpenAiChatRestorer<V> {
    vault: V,
    channels: Channels<Key>,
    /// The top-level fields of the latest chunk except `choices`, `usage` and `obfuscation`: the
    /// frame of synthesized chunks.
    meta: Map<String, Value>,
    unparsed: usize,
}

/// A restorer for an OpenAI chat completions stream answering a request pseudonymized with `vault`.
pub fn openai_chat_restorer(vault: &Vault) -> OpenAiChatRestorer<&Vault> {
    OpenAiChatRestorer::new(vault)
}

impl<V: Borrow<Vault>> OpenAiChatRestorer<V> {
    /// `vault` may be borrowed or owned (`Arc<Vault>`), so the restorer can live in a `'static`
    /// response body.
    pub fn new(vault: V) -> Self {
        Self {
            vault,
            channels: Channels::new(),
            meta: Map::new(),
            unparsed: 0,
        }
    }

    /// Runs the response rules on this stream's text from now on ([`crate::output`]).
    pub fn with_output(mut self, rules: OutputRules) -> Self {
        self.channels.set_output(rules);
        self
    }

    /// Restores one chunk in place. Returns the chunks to send before it (flushes of channels
    /// it ends but does not carry) and whether it changed.
    fn restore_chunk(&mut self, chunk: &mut Map<String, Value>) -> (Vec<Value>, bool) {
        let vault = self.vault.borrow();
        let mut before = Vec::new();
        let mut changed = self.channels.clear_token_copies(chunk);
        let Some(Value::Array(choices)) = chunk.get_mut("choices") else {
            return (before, changed);
        };
        for (pos, choice) in choices.iter_mut().enumerate() {
            let ci = index_or(choice, "index", pos);
            let Value::Object(choice) = choice else {
                continue;
            };
            let mut present = Vec::new();
            if let Some(Value::Object(delta)) = choice.get_mut("delta") {
                for name in TEXT_FIELDS {
                    if let Some(Value::String(s)) = delta.get_mut(name) {
                        present.push(Field::Text(name));
                        let key = (ci, Field::Text(name));
                        changed |= self.channels.push_in_place(vault, &key, Mode::Text, s);
                    }
                }
                if let Some(Value::Array(calls)) = delta.get_mut("tool_calls") {
                    for (tpos, call) in calls.iter_mut().enumerate() {
                        let ti = index_or(call, "index", tpos);
                        if let Some(Value::String(s)) = call.pointer_mut("/function/arguments") {
                            present.push(Field::Tool(ti));
                            let key = (ci, Field::Tool(ti));
                            changed |=
                                self.channels
                                    .push_in_place(vault, &key, Mode::JsonString, s);
                        }
                    }
                }
                let legacy = delta
                    .get_mut("function_call")
                    .and_then(|f| f.get_mut("arguments"));
                if let Some(Value::String(s)) = legacy {
                    present.push(Field::Function);
                    let key = (ci, Field::Function);
                    changed |= self
                        .channels
                        .push_in_place(vault, &key, Mode::JsonString, s);
                }
            }
            let finished = choice.get("finish_reason").is_some_and(|f| !f.is_null());
            if !finished {
                continue;
            }
            let mut flushed = Vec::new();
            for ((_, field), held) in self.channels.take_where(vault, |k| k.0 == ci) {
                match field_mut(choice, field).filter(|_| present.contains(&field)) {
                    Some(text) => {
                        text.push_str(&held);
                        changed = true;
                    }
                    None => flushed.push((field, held)),
                }
            }
            if !flushed.is_empty() {
                before.push(self.synthesize(ci, flushed));
            }
        }
        (before, changed)
    }

    /// A chunk carrying `flushed` as the deltas of choice `ci`.
    fn synthesize(&self, ci: u64, flushed: Vec<(Field, String)>) -> Value {
        let mut delta = Map::new();
        let mut calls = Vec::new();
        for (field, text) in flushed {
            match field {
                Field::Text(name) => {
                    delta.insert(name.to_owned(), Value::String(text));
                }
                Field::Tool(ti) => {
                    calls.push(json!({"index": ti, "function": {"arguments": text}}))
                }
                Field::Function => {
                    delta.insert("function_call".to_owned(), json!({ "arguments": text }));
                }
            }
        }
        if !calls.is_empty() {
            delta.insert("tool_calls".to_owned(), Value::Array(calls));
        }
        let mut chunk = self.meta.clone();
        chunk.insert(
            "choices".to_owned(),
            json!([{"index": ci, "delta": delta, "finish_reason": null}]),
        );
        Value::Object(chunk)
    }

    fn flush_all(&mut self) -> Vec<Value> {
        let mut by_choice: Vec<(u64, Vec<(Field, String)>)> = Vec::new();
        for ((ci, field), held) in self.channels.take_all(self.vault.borrow()) {
            match by_choice.last_mut() {
                Some((last, fields)) if *last == ci => fields.push((field, held)),
                _ => by_choice.push((ci, vec![(field, held)])),
            }
        }
        by_choice
            .into_iter()
            .map(|(ci, fields)| self.synthesize(ci, fields))
            .collect()
    }

    fn remember_meta(&mut self, chunk: &Map<String, Value>) {
        self.meta = chunk
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "choices" | "usage" | "obfuscation"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
    }
}

fn field_mut(choice: &mut Map<String, Value>, field: Field) -> Option<&mut String> {
    let delta = choice.get_mut("delta")?;
    let value = match field {
        Field::Text(name) => delta.get_mut(name)?,
        Field::Tool(ti) => delta
            .get_mut("tool_calls")?
            .as_array_mut()?
            .iter_mut()
            .enumerate()
            .find(|(pos, call)| index_or(call, "index", *pos) == ti)?
            .1
            .pointer_mut("/function/arguments")?,
        Field::Function => delta.pointer_mut("/function_call/arguments")?,
    };
    match value {
        Value::String(s) => Some(s),
        _ => None,
    }
}

impl<V: Borrow<Vault>> StreamRestorer for OpenAiChatRestorer<V> {
    fn on_event(&mut self, ev: &SseEvent) -> Result<Vec<u8>, RestoreError> {
        let mut out = Vec::new();
        if ev.comment_only {
            write_sse(&mut out, ev);
            return Ok(out);
        }
        if ev.data.trim() == "[DONE]" {
            for chunk in self.flush_all() {
                write_synthesized(&mut out, None, &chunk)?;
            }
            write_sse(&mut out, ev);
            return Ok(out);
        }
        if !self.channels.is_holding() && !may_hold_placeholder(ev.data.as_bytes()) {
            write_sse(&mut out, ev);
            return Ok(out);
        }
        let Some(mut chunk) = parse_object(&ev.data) else {
            self.unparsed += 1;
            write_sse(&mut out, ev);
            return Ok(out);
        };
        self.remember_meta(&chunk);
        let (before, changed) = self.restore_chunk(&mut chunk);
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
        for chunk in self.flush_all() {
            // Serializing a serde_json value cannot fail; nothing else could be sent anyway.
            let _ = write_synthesized(&mut out, None, &chunk);
        }
        out
    }

    fn restored(&self) -> usize {
        self.channels.restored
    }

    fn unparsed(&self) -> usize {
        self.unparsed
    }

    fn tally(&self) -> &OutputTally {
        &self.channels.tally
    }
}
