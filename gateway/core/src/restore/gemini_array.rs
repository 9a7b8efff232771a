//! Gemini `streamGenerateContent` without `alt=sse`: one JSON array, streamed in pieces.
//!
//! The body looks like `[{…}\n,\r\n{…}\n]`, and the network cuts it anywhere. The splitter
//! tracks strings, escapes and nesting depth to find each top-level element, restores it as one
//! Gemini chunk (the same channels as [`super::GeminiSseRestorer`]) and re-emits it; separators
//! and whitespace between elements pass through as they came, the moment they arrive. Only the
//! element being read is buffered, up to a bound. Text held back at the end of an element goes
//! into the next element, or into an element synthesized before the closing `]`.
//!
//! A body whose top level is an object (an error, or a non-streamed answer) is restored as one
//! complete value; anything else passes through untouched.

use std::borrow::Borrow;

use serde_json::Value;

use super::gemini::GeminiChunks;
use super::{may_hold_placeholder, RestoreError, RestoreErrorKind};
use crate::output::{OutputRules, OutputTally};
use crate::vault::Vault;

/// Default bound on one array element: 16 MiB, far above any real chunk.
pub const DEFAULT_MAX_ELEMENT_BYTES: usize = 16 << 20;

/// Separator written after (or before) a synthesized element.
const SEPARATOR: &[u8] = b",\r\n";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the first non-whitespace byte.
    Start,
    /// Inside the array, between elements.
    Between,
    /// Reading an array element.
    Element,
    /// Reading a top-level object.
    Single,
    /// After the value: pass through.
    Done,
    /// Not a JSON array or object: pass through.
    Raw,
    /// The bound was exceeded.
    Failed,
}

/// Incremental restorer for Gemini's streamed JSON array.
#[derive(Debug)]
pub struct GeminiJsonArrayRestorer<V> {
    vault: V,
    chunks: GeminiChunks,
    state: State,
    element: Vec<u8>,
    depth: usize,
    in_string: bool,
    escaped: bool,
    max_element_bytes: usize,
    walked: usize,
    unparsed: usize,
}

impl<V: Borrow<Vault>> GeminiJsonArrayRestorer<V> {
    /// A restorer with [`DEFAULT_MAX_ELEMENT_BYTES`]. `vault` may be borrowed or owned.
    pub fn new(vault: V) -> Self {
        Self::with_max_element_bytes(vault, DEFAULT_MAX_ELEMENT_BYTES)
    }

    /// A restorer that fails once one element exceeds `max_element_bytes`.
    pub fn with_max_element_bytes(vault: V, max_element_bytes: usize) -> Self {
        Self {
            vault,
            chunks: GeminiChunks::new(),
            state: State::Start,
            element: Vec::new(),
            depth: 0,
            in_string: false,
            escaped: false,
            max_element_bytes,
            walked: 0,
            unparsed: 0,
        }
    }

    /// Takes the next piece of the body; returns the bytes to send now.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<u8>, RestoreError> {
        let mut out = Vec::with_capacity(chunk.len());
        let mut i = 0;
        while i < chunk.len() {
            let b = chunk[i];
            match self.state {
                State::Start | State::Between if b.is_ascii_whitespace() => {
                    out.push(b);
                    i += 1;
                }
                State::Start => match b {
                    b'[' => {
                        out.push(b);
                        self.state = State::Between;
                        i += 1;
                    }
                    b'{' => self.begin(State::Single),
                    _ => self.state = State::Raw,
                },
                State::Between => match b {
                    b',' => {
                        out.push(b);
                        i += 1;
                    }
                    b']' => {
                        self.flush(&mut out)?;
                        out.push(b);
                        self.state = State::Done;
                        i += 1;
                    }
                    b'{' | b'[' => self.begin(State::Element),
                    _ => {
                        self.unparsed += 1;
                        self.state = State::Raw;
                    }
                },
                State::Element | State::Single => i = self.read_element(chunk, i, &mut out)?,
                State::Done | State::Raw => {
                    out.extend_from_slice(&chunk[i..]);
                    break;
                }
                State::Failed => return Err(self.too_large()),
            }
        }
        Ok(out)
    }

    fn begin(&mut self, state: State) {
        self.state = state;
        self.element.clear();
        self.depth = 0;
        self.in_string = false;
        self.escaped = false;
    }

    fn too_large(&self) -> RestoreError {
        RestoreError::new(RestoreErrorKind::ElementTooLarge {
            limit: self.max_element_bytes,
        })
    }

    /// Reads element bytes from `chunk[start..]`; returns where reading stopped.
    fn read_element(
        &mut self,
        chunk: &[u8],
        start: usize,
        out: &mut Vec<u8>,
    ) -> Result<usize, RestoreError> {
        let mut end = None;
        for (i, &b) in chunk.iter().enumerate().skip(start) {
            if self.in_string {
                match b {
                    _ if self.escaped => self.escaped = false,
                    b'\\' => self.escaped = true,
                    b'"' => self.in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        end = Some(i + 1);
                        break;
                    }
                }
                _ => {}
            }
        }
        let stop = end.unwrap_or(chunk.len());
        if self.element.len() + (stop - start) > self.max_element_bytes {
            self.state = State::Failed;
            self.element = Vec::new();
            return Err(self.too_large());
        }
        self.element.extend_from_slice(&chunk[start..stop]);
        if end.is_some() {
            let single = self.state == State::Single;
            self.complete(out, single)?;
            self.state = if single { State::Done } else { State::Between };
        }
        Ok(stop)
    }

    /// Restores the element just read and writes it (after any synthesized elements).
    fn complete(&mut self, out: &mut Vec<u8>, single: bool) -> Result<(), RestoreError> {
        let element = std::mem::take(&mut self.element);
        if !self.chunks.is_holding() && !may_hold_placeholder(&element) {
            out.extend_from_slice(&element);
            self.element = element;
            self.element.clear();
            return Ok(());
        }
        let vault = self.vault.borrow();
        let parsed: Result<Value, _> = serde_json::from_slice(&element);
        let restored = match parsed {
            Ok(mut value) if single => {
                let (n, changed) = self.chunks.walk_value(vault, &mut value);
                self.walked += n;
                changed.then_some(value)
            }
            Ok(Value::Object(mut chunk)) => {
                let (before, changed) = self.chunks.restore_chunk(vault, &mut chunk);
                for synthesized in &before {
                    out.extend_from_slice(&to_json(synthesized)?);
                    out.extend_from_slice(SEPARATOR);
                }
                changed.then_some(Value::Object(chunk))
            }
            _ => {
                self.unparsed += 1;
                None
            }
        };
        match restored {
            Some(value) => out.extend_from_slice(&to_json(&value)?),
            None => out.extend_from_slice(&element),
        }
        self.element = element;
        self.element.clear();
        Ok(())
    }

    /// Writes held text as elements appended to the array.
    fn flush(&mut self, out: &mut Vec<u8>) -> Result<(), RestoreError> {
        for synthesized in self.chunks.flush_all(self.vault.borrow()) {
            out.extend_from_slice(SEPARATOR);
            out.extend_from_slice(&to_json(&synthesized)?);
        }
        Ok(())
    }

    /// The body ended: returns a truncated element as it came, then any held text.
    pub fn finish(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        if matches!(self.state, State::Element | State::Single) {
            self.unparsed += 1;
            out.append(&mut self.element);
        }
        if matches!(self.state, State::Between | State::Element) {
            // Serializing a serde_json value cannot fail; nothing else could be sent anyway.
            let _ = self.flush(&mut out);
        }
        self.state = State::Done;
        out
    }

    /// How many placeholders were restored so far.
    pub fn restored(&self) -> usize {
        self.chunks.restored() + self.walked
    }

    /// Runs the response rules on this stream's text from now on ([`crate::output`]).
    pub fn with_output(mut self, rules: OutputRules) -> Self {
        self.chunks.set_output(rules);
        self
    }

    /// What the response rules found so far.
    pub fn tally(&self) -> &OutputTally {
        self.chunks.tally()
    }

    /// How many elements passed through unchanged because they were not JSON objects.
    pub fn unparsed(&self) -> usize {
        self.unparsed
    }
}

fn to_json(v: &Value) -> Result<Vec<u8>, RestoreError> {
    serde_json::to_vec(v).map_err(|_| RestoreError::new(RestoreErrorKind::Serialize))
}
