//! API translation between Anthropic Messages and OpenAI chat completions.
//!
//! A request is sometimes answered by a pool that speaks another API than the client: an
//! Anthropic SDK client routed to a local vLLM/SGLang/TGI/llama.cpp/Ollama server (they all speak
//! OpenAI chat completions), or an OpenAI client routed to a pool configured `api = "anthropic"`.
//! The client must not notice: it gets its own API's shapes, streaming and errors included, so
//! its SDK parses every byte.
//!
//! Everything here is a pure function over [`serde_json::Value`] (or a small state machine for
//! streams); the proxy decodes bodies and SSE frames, calls in, and frames what comes out.
//!
//! | direction | request | response | stream | error body |
//! |---|---|---|---|---|
//! | Anthropic client → OpenAI pool | [`anthropic_to_openai_request`] | [`openai_to_anthropic_response`] | [`AnthropicStreamTranslator`] | [`openai_error_to_anthropic`] |
//! | OpenAI client → Anthropic pool | [`openai_to_anthropic_request`] | [`anthropic_to_openai_response`] | [`OpenAiStreamTranslator`] | [`anthropic_error_to_openai`] |
//!
//! # Failing closed
//!
//! What has no faithful equivalent is refused, never dropped: a PDF, a server tool or an unknown
//! content block fails the request with a [`TranslateError`] that [`is_client`] (answer 400, send
//! nothing); broken tool-call JSON from a model fails the answer with one that [`is_upstream`]
//! (answer 502). A stream cut before its end becomes an error event, never a clean stop.
//! Sampling hints that do not change *what* is answered (`top_k`, `seed`, penalties) are
//! dropped and listed in each module's docs.
//!
//! # Example
//!
//! ```
//! use serde_json::json;
//! use sovgate_core::translate::{anthropic_to_openai_request, AnthropicStreamTranslator};
//!
//! let req = json!({
//!     "model": "claude-sonnet-4-5",
//!     "max_tokens": 256,
//!     "system": "Answer briefly.",
//!     "messages": [{"role": "user", "content": "Hello"}],
//!     "stream": true
//! });
//! let upstream = anthropic_to_openai_request(&req, "llama-3.1-70b-instruct").unwrap();
//! assert_eq!(upstream["messages"][0], json!({"role": "system", "content": "Answer briefly."}));
//! assert_eq!(upstream["stream_options"]["include_usage"], true);
//!
//! let mut stream = AnthropicStreamTranslator::new("claude-sonnet-4-5", "msg_01");
//! let mut events = stream
//!     .on_data(r#"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m",
//!                  "choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":"stop"}]}"#)
//!     .unwrap();
//! events.extend(stream.on_data("[DONE]").unwrap());
//! let names: Vec<_> = events.iter().filter_map(|e| e.event.as_deref()).collect();
//! assert_eq!(names, ["message_start", "content_block_start", "content_block_delta",
//!                    "content_block_stop", "message_delta", "message_stop"]);
//! ```
//!
//! [`is_client`]: TranslateError::is_client
//! [`is_upstream`]: TranslateError::is_upstream

mod error;
mod error_body;
mod request_to_anthropic;
mod request_to_openai;
mod response_to_anthropic;
mod response_to_openai;
mod shape;
mod stream_a;
mod stream_o;

#[cfg(test)]
mod tests;

pub use error::TranslateError;
pub use error_body::{anthropic_error_to_openai, openai_error_to_anthropic};
pub use request_to_anthropic::{openai_to_anthropic_request, DEFAULT_MAX_TOKENS};
pub use request_to_openai::anthropic_to_openai_request;
pub use response_to_anthropic::openai_to_anthropic_response;
pub use response_to_openai::anthropic_to_openai_response;
pub use stream_a::AnthropicStreamTranslator;
pub use stream_o::OpenAiStreamTranslator;

/// One server-sent event to send to the client. The caller frames it as
/// `event: {event}\ndata: {data}\n\n` (or `data: {data}\n\n` when `event` is `None`, as in
/// OpenAI streams). `data` is a single line of JSON, or `[DONE]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseOut {
    pub event: Option<String>,
    pub data: String,
}

impl SseOut {
    /// The event framed for the wire.
    pub fn to_frame(&self) -> String {
        match &self.event {
            Some(event) => format!("event: {event}\ndata: {}\n\n", self.data),
            None => format!("data: {}\n\n", self.data),
        }
    }
}
