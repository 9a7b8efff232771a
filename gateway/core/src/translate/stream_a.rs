//! OpenAI `chat.completion.chunk` stream → Anthropic Messages SSE events.
//!
//! An Anthropic stream is a strict grammar the SDK's accumulator relies on:
//!
//! ```text
//! message_start
//! (content_block_start  content_block_delta*  content_block_stop)*   indexes 0, 1, 2, ... in order
//! message_delta   (stop_reason, usage)
//! message_stop
//! ```
//!
//! An OpenAI stream is looser: text and tool-call fragments arrive in deltas, the finish reason
//! in one chunk, the usage in a later chunk with no choices (`stream_options.include_usage`), then
//! `[DONE]`. The translator keeps at most one content block open, opens a `text` block on the first
//! non-empty text, a `tool_use` block per tool call (once its name is known; argument fragments
//! seen before are replayed), and closes the open block whenever another one starts. Because usage
//! arrives after the finish chunk, `message_delta` waits for `[DONE]` or [`finish`].
//!
//! A stream that stops without a finish reason or `[DONE]` was cut (pool crash, timeout): the
//! client must not take a truncated answer for a complete one, so [`finish`] emits an Anthropic
//! `error` event instead of `message_stop`, which the SDK raises as an exception.
//!
//! [`finish`]: AnthropicStreamTranslator::finish

use serde_json::{Map, Value};

use super::error::{Side, TranslateError};
use super::error_body::{anthropic_error, anthropic_error_type, upstream_message};
use super::response_to_anthropic::{matched_stop, stop_reason};
use super::shape::{array, field, obj, object};
use super::SseOut;

const SIDE: Side = Side::Upstream;

/// Translates one OpenAI chat completion stream into Anthropic SSE events. One per response.
#[derive(Debug)]
pub struct AnthropicStreamTranslator {
    model: String,
    id: String,
    started: bool,
    state: State,
    next_index: u64,
    open: Option<Open>,
    tools: Vec<ToolSlot>,
    finish_reason: Option<String>,
    matched_stop: Option<String>,
    usage: Option<(u64, u64)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Chunks are flowing; no finish reason yet.
    Streaming,
    /// A finish reason was seen; waiting for usage and `[DONE]`.
    Finishing,
    /// `message_stop` or an `error` event was emitted; nothing more may follow.
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    Text(u64),
    /// A tool block: its position in `tools`.
    Tool(usize),
}

/// One OpenAI tool call (by its `index`) and the Anthropic block it became.
#[derive(Debug)]
struct ToolSlot {
    openai_index: u64,
    id: Option<String>,
    name: Option<String>,
    /// Argument fragments that arrived before the name, replayed once the block starts.
    pending: String,
    block: Option<u64>,
}

impl AnthropicStreamTranslator {
    /// `client_model` is the model name the client asked for; `message_id` is the `msg_…` id the
    /// client will see.
    pub fn new(client_model: &str, message_id: &str) -> Self {
        AnthropicStreamTranslator {
            model: client_model.to_owned(),
            id: message_id.to_owned(),
            started: false,
            state: State::Streaming,
            next_index: 0,
            open: None,
            tools: Vec::new(),
            finish_reason: None,
            matched_stop: None,
            usage: None,
        }
    }

    /// One OpenAI SSE `data:` payload (a chunk's JSON text, or `[DONE]`). Returns the Anthropic
    /// events to emit, in order.
    ///
    /// An `Err` leaves the state as it was: the caller should stop reading and call
    /// [`finish`](Self::finish), which then reports the stream as cut.
    pub fn on_data(&mut self, data: &str) -> Result<Vec<SseOut>, TranslateError> {
        let mut out = Vec::new();
        if self.state == State::Closed {
            return Ok(out);
        }
        let data = data.trim();
        // Keep-alive frames carry no data; they mean nothing to the client.
        if data.is_empty() {
            return Ok(out);
        }
        if data == "[DONE]" {
            self.close_clean(&mut out);
            return Ok(out);
        }
        let chunk: Value = serde_json::from_str(data)
            .map_err(|e| SIDE.err(format!("stream chunk is not JSON ({e})")))?;
        let chunk = object(&chunk, "chunk", SIDE)?;
        if field(chunk, "error").is_some() && field(chunk, "choices").is_none() {
            self.error_event(&mut out, chunk);
            return Ok(out);
        }
        if let Some(usage) = field(chunk, "usage").and_then(Value::as_object) {
            let get = |k| usage.get(k).and_then(Value::as_u64).unwrap_or(0);
            self.usage = Some((get("prompt_tokens"), get("completion_tokens")));
        }
        self.ensure_started(&mut out);
        if let Some(choices) = field(chunk, "choices") {
            for (i, choice) in array(choices, "chunk.choices", SIDE)?.iter().enumerate() {
                let path = format!("chunk.choices[{i}]");
                let choice = object(choice, &path, SIDE)?;
                // An Anthropic message has one answer; the request never asks for `n > 1`.
                if choice.get("index").and_then(Value::as_u64).unwrap_or(0) != 0 {
                    continue;
                }
                self.on_choice(choice, &path, &mut out)?;
            }
        }
        Ok(out)
    }

    /// Upstream ended. After a clean end, returns the closing events not yet sent; after a cut
    /// (no finish reason, no `[DONE]`), returns an `error` event and never `message_stop`.
    pub fn finish(&mut self) -> Vec<SseOut> {
        let mut out = Vec::new();
        match self.state {
            State::Closed => {}
            State::Finishing => self.close_clean(&mut out),
            State::Streaming => {
                self.state = State::Closed;
                out.push(error_sse("api_error", "upstream stream ended unexpectedly"));
            }
        }
        out
    }

    fn on_choice(
        &mut self,
        choice: &Map<String, Value>,
        path: &str,
        out: &mut Vec<SseOut>,
    ) -> Result<(), TranslateError> {
        if let Some(delta) = field(choice, "delta") {
            let delta = object(delta, &format!("{path}.delta"), SIDE)?;
            for key in ["content", "refusal"] {
                if let Some(text) = delta.get(key).and_then(Value::as_str) {
                    self.on_text(text, out);
                }
            }
            if let Some(calls) = field(delta, "tool_calls") {
                let cpath = format!("{path}.delta.tool_calls");
                for (i, call) in array(calls, &cpath, SIDE)?.iter().enumerate() {
                    let call = object(call, &format!("{cpath}[{i}]"), SIDE)?;
                    self.on_tool_fragment(call, out)?;
                }
            }
        }
        if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
            self.finish_reason = Some(reason.to_owned());
            self.matched_stop = matched_stop(choice).map(str::to_owned);
            self.state = State::Finishing;
            self.close_open(out);
        }
        Ok(())
    }

    fn on_text(&mut self, text: &str, out: &mut Vec<SseOut>) {
        if text.is_empty() {
            return;
        }
        let index = match self.open {
            Some(Open::Text(index)) => index,
            _ => {
                self.close_open(out);
                let index = self.take_index();
                let block = obj([("type", "text".into()), ("text", "".into())]);
                out.push(block_start(index, block));
                self.open = Some(Open::Text(index));
                index
            }
        };
        let delta = obj([("type", "text_delta".into()), ("text", text.into())]);
        out.push(block_delta(index, delta));
    }

    fn on_tool_fragment(
        &mut self,
        call: &Map<String, Value>,
        out: &mut Vec<SseOut>,
    ) -> Result<(), TranslateError> {
        let id = call
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        let function = call.get("function").and_then(Value::as_object);
        let name = function
            .and_then(|f| f.get("name"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        let args = function
            .and_then(|f| f.get("arguments"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let slot = self.slot_for(call.get("index").and_then(Value::as_u64), id);
        let tool = &mut self.tools[slot];
        if tool.id.is_none() {
            tool.id = id.map(str::to_owned);
        }
        if tool.name.is_none() {
            tool.name = name.map(str::to_owned);
        }
        if tool.block.is_none() {
            tool.pending.push_str(args);
            if tool.name.is_some() {
                self.start_tool(slot, out);
            }
            return Ok(());
        }
        if self.open != Some(Open::Tool(slot)) {
            return Err(SIDE.err(format!(
                "tool call {} continued after another content block started; an Anthropic \
                 stream cannot reopen a block",
                self.tools[slot].openai_index
            )));
        }
        if let Some(index) = self.tools[slot].block {
            if !args.is_empty() {
                out.push(json_delta(index, args));
            }
        }
        Ok(())
    }

    /// The slot of the tool call with this OpenAI index (a new one if unseen). Servers that omit
    /// the index get one slot per new id, continuing the last call otherwise.
    fn slot_for(&mut self, index: Option<u64>, id: Option<&str>) -> usize {
        let found = match index {
            Some(i) => self.tools.iter().position(|t| t.openai_index == i),
            None if id.is_none() => self.tools.len().checked_sub(1),
            None => self.tools.iter().position(|t| t.id.as_deref() == id),
        };
        found.unwrap_or_else(|| {
            let openai_index = index.unwrap_or(self.tools.len() as u64);
            self.tools.push(ToolSlot {
                openai_index,
                id: None,
                name: None,
                pending: String::new(),
                block: None,
            });
            self.tools.len() - 1
        })
    }

    fn start_tool(&mut self, slot: usize, out: &mut Vec<SseOut>) {
        self.close_open(out);
        let index = self.take_index();
        let fallback = format!("toolu_{}_{slot}", self.id.trim_start_matches("msg_"));
        let tool = &mut self.tools[slot];
        tool.block = Some(index);
        let block = obj([
            ("type", "tool_use".into()),
            ("id", tool.id.clone().unwrap_or(fallback).into()),
            ("name", tool.name.clone().unwrap_or_default().into()),
            ("input", obj([])),
        ]);
        out.push(block_start(index, block));
        let pending = std::mem::take(&mut tool.pending);
        if !pending.is_empty() {
            out.push(json_delta(index, &pending));
        }
        self.open = Some(Open::Tool(slot));
    }

    fn take_index(&mut self) -> u64 {
        let index = self.next_index;
        self.next_index += 1;
        index
    }

    fn close_open(&mut self, out: &mut Vec<SseOut>) {
        let index = match self.open.take() {
            None => return,
            Some(Open::Text(index)) => Some(index),
            Some(Open::Tool(slot)) => self.tools[slot].block,
        };
        if let Some(index) = index {
            out.push(event(
                "content_block_stop",
                obj([
                    ("type", "content_block_stop".into()),
                    ("index", index.into()),
                ]),
            ));
        }
    }

    fn ensure_started(&mut self, out: &mut Vec<SseOut>) {
        if self.started {
            return;
        }
        self.started = true;
        let input_tokens = self.usage.map_or(0, |(input, _)| input);
        let message = obj([
            ("id", self.id.clone().into()),
            ("type", "message".into()),
            ("role", "assistant".into()),
            ("model", self.model.clone().into()),
            ("content", Value::Array(Vec::new())),
            ("stop_reason", Value::Null),
            ("stop_sequence", Value::Null),
            (
                "usage",
                obj([
                    ("input_tokens", input_tokens.into()),
                    ("output_tokens", 0.into()),
                ]),
            ),
        ]);
        out.push(event(
            "message_start",
            obj([("type", "message_start".into()), ("message", message)]),
        ));
    }

    /// `message_delta` + `message_stop`, after closing whatever is open.
    fn close_clean(&mut self, out: &mut Vec<SseOut>) {
        self.ensure_started(out);
        self.close_open(out);
        self.state = State::Closed;
        if self.tools.iter().any(|t| t.block.is_none()) {
            out.push(error_sse(
                "api_error",
                "upstream sent a tool call without a name",
            ));
            return;
        }
        let (reason, sequence) = stop_reason(
            self.finish_reason.as_deref(),
            self.matched_stop.as_deref(),
            !self.tools.is_empty(),
        );
        let mut usage = Map::new();
        if let Some((input, _)) = self.usage {
            usage.insert("input_tokens".into(), input.into());
        }
        let output = self.usage.map_or(0, |(_, output)| output);
        usage.insert("output_tokens".into(), output.into());
        let delta = obj([
            ("stop_reason", reason.into()),
            ("stop_sequence", sequence.map_or(Value::Null, Value::from)),
        ]);
        out.push(event(
            "message_delta",
            obj([
                ("type", "message_delta".into()),
                ("delta", delta),
                ("usage", Value::Object(usage)),
            ]),
        ));
        out.push(event(
            "message_stop",
            obj([("type", "message_stop".into())]),
        ));
    }

    /// An error object in the stream (vLLM and others send one mid-stream) ends it with an
    /// Anthropic `error` event carrying the upstream's message.
    fn error_event(&mut self, out: &mut Vec<SseOut>, chunk: &Map<String, Value>) {
        self.state = State::Closed;
        let status = chunk
            .get("error")
            .and_then(|e| e.get("code"))
            .and_then(Value::as_u64)
            .and_then(|c| u16::try_from(c).ok())
            .unwrap_or(500);
        let body = Value::Object(chunk.clone()).to_string();
        let message = upstream_message(status, body.as_bytes());
        out.push(error_sse(anthropic_error_type(status), &message));
    }
}

fn event(name: &str, data: Value) -> SseOut {
    SseOut {
        event: Some(name.to_owned()),
        data: data.to_string(),
    }
}

fn error_sse(kind: &str, message: &str) -> SseOut {
    event("error", anthropic_error(kind, message))
}

fn block_start(index: u64, block: Value) -> SseOut {
    event(
        "content_block_start",
        obj([
            ("type", "content_block_start".into()),
            ("index", index.into()),
            ("content_block", block),
        ]),
    )
}

fn block_delta(index: u64, delta: Value) -> SseOut {
    event(
        "content_block_delta",
        obj([
            ("type", "content_block_delta".into()),
            ("index", index.into()),
            ("delta", delta),
        ]),
    )
}

fn json_delta(index: u64, partial: &str) -> SseOut {
    block_delta(
        index,
        obj([
            ("type", "input_json_delta".into()),
            ("partial_json", partial.into()),
        ]),
    )
}
