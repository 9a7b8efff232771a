//! Anthropic Messages SSE events → OpenAI `chat.completion.chunk` stream.
//!
//! What an OpenAI client expects, and how each piece is made:
//!
//! | OpenAI chunk | from |
//! |---|---|
//! | `delta: {role: "assistant", content: ""}` | `message_start` |
//! | `delta: {content}` | `text_delta` |
//! | `delta: {tool_calls: [{index, id, type, function: {name, arguments: ""}}]}` | `content_block_start` of a `tool_use` block (tool calls are numbered 0, 1, ... in block order) |
//! | `delta: {tool_calls: [{index, function: {arguments}}]}` | `input_json_delta` |
//! | `delta: {}, finish_reason` | `message_delta` |
//! | `choices: [], usage` (only when the client asked `stream_options.include_usage`) | `message_stop`, with the usage gathered from `message_start` and `message_delta` |
//! | `[DONE]` | `message_stop` |
//!
//! `ping`, `content_block_stop`, thinking and signature deltas produce nothing. An Anthropic
//! `error` event becomes an OpenAI error payload (`{"error": {...}}`, which the `openai` SDK
//! raises) and ends the stream without `[DONE]`; so does a stream cut before `message_delta`,
//! so a truncated answer never looks complete.

use serde_json::{Map, Value};

use super::error::{Side, TranslateError};
use super::error_body::openai_error;
use super::response_to_openai::{finish_reason, openai_usage, prompt_tokens, unix_now};
use super::shape::{field, obj, object, opt_str};
use super::SseOut;

const SIDE: Side = Side::Upstream;

/// Translates one Anthropic event stream into OpenAI chunk payloads. One per response.
#[derive(Debug)]
pub struct OpenAiStreamTranslator {
    id: String,
    model: String,
    created: u64,
    include_usage: bool,
    state: State,
    role_sent: bool,
    /// Anthropic block index → what it became.
    blocks: Vec<(u64, Block)>,
    next_tool: u64,
    prompt_tokens: u64,
    completion_tokens: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Streaming,
    /// `message_delta` (and its finish chunk) was sent; waiting for `message_stop`.
    Finishing,
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    Text,
    /// A tool call with this OpenAI `index`.
    Tool(u64),
    /// Thinking: nothing reaches the client.
    Hidden,
}

impl OpenAiStreamTranslator {
    /// `client_model` is the model name the client asked for; `id` the `chatcmpl-…` id it sees.
    /// Usage is not reported unless [`with_usage`](Self::with_usage) says the client asked for it.
    pub fn new(client_model: &str, id: &str) -> Self {
        OpenAiStreamTranslator {
            id: id.to_owned(),
            model: client_model.to_owned(),
            created: unix_now(),
            include_usage: false,
            state: State::Streaming,
            role_sent: false,
            blocks: Vec::new(),
            next_tool: 0,
            prompt_tokens: 0,
            completion_tokens: 0,
        }
    }

    /// Whether to send the usage chunk: the client's `stream_options.include_usage`.
    pub fn with_usage(mut self, include_usage: bool) -> Self {
        self.include_usage = include_usage;
        self
    }

    /// One Anthropic SSE event: its `event:` name (if any) and its `data:` JSON. Returns the
    /// OpenAI `data:` payloads to emit (events are unnamed in OpenAI streams), `[DONE]` last.
    ///
    /// An `Err` leaves the state as it was: stop reading and call [`finish`](Self::finish).
    pub fn on_event(
        &mut self,
        event: Option<&str>,
        data: &str,
    ) -> Result<Vec<SseOut>, TranslateError> {
        let mut out = Vec::new();
        if self.state == State::Closed || data.trim().is_empty() {
            return Ok(out);
        }
        let value: Value = serde_json::from_str(data)
            .map_err(|e| SIDE.err(format!("stream event is not JSON ({e})")))?;
        let data = object(&value, "event", SIDE)?;
        let kind = opt_str(data, "type", "event", SIDE)?
            .or(event)
            .unwrap_or("");
        match kind {
            "message_start" => {
                let usage = data
                    .get("message")
                    .and_then(|m| m.get("usage"))
                    .and_then(Value::as_object);
                self.prompt_tokens = prompt_tokens(usage);
                self.ensure_role(&mut out);
            }
            "content_block_start" => self.on_block_start(data, &mut out)?,
            "content_block_delta" => self.on_block_delta(data, &mut out)?,
            "message_delta" => {
                let usage = field(data, "usage").and_then(Value::as_object);
                if let Some(n) = usage
                    .and_then(|u| u.get("output_tokens"))
                    .and_then(Value::as_u64)
                {
                    self.completion_tokens = n;
                }
                if usage.is_some_and(|u| u.contains_key("input_tokens")) {
                    self.prompt_tokens = prompt_tokens(usage);
                }
                let reason = data
                    .get("delta")
                    .and_then(|d| d.get("stop_reason"))
                    .and_then(Value::as_str);
                self.ensure_role(&mut out);
                out.push(self.chunk(obj([]), Some(finish_reason(reason))));
                self.state = State::Finishing;
            }
            "message_stop" => {
                if self.state == State::Streaming {
                    self.ensure_role(&mut out);
                    out.push(self.chunk(obj([]), Some("stop")));
                }
                self.close_clean(&mut out);
            }
            "error" => {
                let error = data.get("error");
                let text = |k| error.and_then(|e| e.get(k)).and_then(Value::as_str);
                let code = text("type").unwrap_or("api_error");
                let message = text("message").unwrap_or("upstream stream failed");
                self.fail(&mut out, message, code);
            }
            // `content_block_stop`, `ping`, and event types added after this was written.
            _ => {}
        }
        Ok(out)
    }

    /// Upstream ended. After `message_delta`, returns whatever closing payloads are missing; a
    /// stream cut before it gets an error payload and no `[DONE]`.
    pub fn finish(&mut self) -> Vec<SseOut> {
        let mut out = Vec::new();
        match self.state {
            State::Closed => {}
            State::Finishing => self.close_clean(&mut out),
            State::Streaming => {
                self.fail(&mut out, "upstream stream ended unexpectedly", "api_error");
            }
        }
        out
    }

    fn on_block_start(
        &mut self,
        data: &Map<String, Value>,
        out: &mut Vec<SseOut>,
    ) -> Result<(), TranslateError> {
        let index = block_index(data)?;
        let block = field(data, "content_block")
            .ok_or_else(|| SIDE.err("content_block_start: content_block is missing"))?;
        let block = object(block, "content_block", SIDE)?;
        self.ensure_role(out);
        let kind = match opt_str(block, "type", "content_block", SIDE)? {
            Some("text") => {
                if let Some(text) = block.get("text").and_then(Value::as_str) {
                    if !text.is_empty() {
                        out.push(self.chunk(obj([("content", text.into())]), None));
                    }
                }
                Block::Text
            }
            Some("tool_use") => {
                let tool = self.next_tool;
                self.next_tool += 1;
                let id = block.get("id").and_then(Value::as_str).unwrap_or("");
                let name = block.get("name").and_then(Value::as_str).unwrap_or("");
                // The start block's `input` is `{}`; the arguments come as deltas.
                let arguments = match block.get("input") {
                    Some(Value::Object(m)) if !m.is_empty() => Value::Object(m.clone()).to_string(),
                    _ => String::new(),
                };
                let call = obj([
                    ("index", tool.into()),
                    ("id", id.into()),
                    ("type", "function".into()),
                    (
                        "function",
                        obj([("name", name.into()), ("arguments", arguments.into())]),
                    ),
                ]);
                out.push(self.chunk(obj([("tool_calls", Value::Array(vec![call]))]), None));
                Block::Tool(tool)
            }
            Some("thinking" | "redacted_thinking") => Block::Hidden,
            other => {
                return Err(SIDE.err(format!(
                    "content_block_start: a \"{}\" block has no OpenAI chat equivalent",
                    other.unwrap_or("untyped")
                )))
            }
        };
        self.blocks.push((index, kind));
        Ok(())
    }

    fn on_block_delta(
        &mut self,
        data: &Map<String, Value>,
        out: &mut Vec<SseOut>,
    ) -> Result<(), TranslateError> {
        let index = block_index(data)?;
        let block = self
            .blocks
            .iter()
            .rev()
            .find(|(i, _)| *i == index)
            .map(|(_, b)| *b)
            .ok_or_else(|| SIDE.err(format!("content_block_delta for unopened block {index}")))?;
        let delta = field(data, "delta").and_then(Value::as_object);
        let text = |k| delta.and_then(|d| d.get(k)).and_then(Value::as_str);
        match (block, text("type")) {
            (Block::Text, Some("text_delta")) => {
                if let Some(t) = text("text").filter(|t| !t.is_empty()) {
                    out.push(self.chunk(obj([("content", t.into())]), None));
                }
            }
            (Block::Tool(tool), Some("input_json_delta")) => {
                if let Some(partial) = text("partial_json").filter(|t| !t.is_empty()) {
                    let call = obj([
                        ("index", tool.into()),
                        ("function", obj([("arguments", partial.into())])),
                    ]);
                    out.push(self.chunk(obj([("tool_calls", Value::Array(vec![call]))]), None));
                }
            }
            // Reasoning, signatures and citations have no place in a chat completion.
            (_, Some("thinking_delta" | "signature_delta" | "citations_delta"))
            | (Block::Hidden, _) => {}
            (_, other) => {
                return Err(SIDE.err(format!(
                    "content_block_delta: unexpected \"{}\" delta for block {index}",
                    other.unwrap_or("untyped")
                )))
            }
        }
        Ok(())
    }

    fn ensure_role(&mut self, out: &mut Vec<SseOut>) {
        if !self.role_sent {
            self.role_sent = true;
            let delta = obj([("role", "assistant".into()), ("content", "".into())]);
            out.push(self.chunk(delta, None));
        }
    }

    fn close_clean(&mut self, out: &mut Vec<SseOut>) {
        self.state = State::Closed;
        if self.include_usage {
            let mut chunk = self.envelope(Value::Array(Vec::new()));
            chunk.insert(
                "usage".into(),
                openai_usage(self.prompt_tokens, self.completion_tokens),
            );
            out.push(data(Value::Object(chunk)));
        }
        out.push(SseOut {
            event: None,
            data: "[DONE]".to_owned(),
        });
    }

    fn fail(&mut self, out: &mut Vec<SseOut>, message: &str, anthropic_type: &str) {
        self.state = State::Closed;
        let kind = match anthropic_type {
            "invalid_request_error" | "not_found_error" | "request_too_large" => {
                "invalid_request_error"
            }
            "rate_limit_error" => "rate_limit_error",
            _ => "server_error",
        };
        out.push(data(openai_error(message, kind, Some(anthropic_type))));
    }

    fn envelope(&self, choices: Value) -> Map<String, Value> {
        let mut chunk = Map::new();
        chunk.insert("id".into(), self.id.clone().into());
        chunk.insert("object".into(), "chat.completion.chunk".into());
        chunk.insert("created".into(), self.created.into());
        chunk.insert("model".into(), self.model.clone().into());
        chunk.insert("choices".into(), choices);
        chunk
    }

    fn chunk(&self, delta: Value, finish: Option<&str>) -> SseOut {
        let choice = obj([
            ("index", 0.into()),
            ("delta", delta),
            ("logprobs", Value::Null),
            ("finish_reason", finish.map_or(Value::Null, Value::from)),
        ]);
        let mut chunk = self.envelope(Value::Array(vec![choice]));
        if self.include_usage {
            chunk.insert("usage".into(), Value::Null);
        }
        data(Value::Object(chunk))
    }
}

fn block_index(data: &Map<String, Value>) -> Result<u64, TranslateError> {
    data.get("index")
        .and_then(Value::as_u64)
        .ok_or_else(|| SIDE.err("content block event without a numeric index"))
}

fn data(v: Value) -> SseOut {
    SseOut {
        event: None,
        data: v.to_string(),
    }
}
