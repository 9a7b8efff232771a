//! Streaming stages: bytes in, bytes out, one SSE event at a time.

use super::{ResponsePlan, Translation};
use crate::api::{Family, Op};
use crate::restore::{
    AnthropicRestorer, GeminiJsonArrayRestorer, GeminiSseRestorer, OpenAiChatRestorer,
    ResponsesRestorer, StreamRestorer,
};
use crate::sse::{write_event, write_sse, SseEvent, SseParser};
use crate::translate::{AnthropicStreamTranslator, OpenAiStreamTranslator, SseOut};
use crate::vault::Vault;
use std::fmt;
use std::sync::Arc;

/// The most one SSE event may hold; larger means a broken or hostile upstream.
const MAX_EVENT: usize = 16 << 20;

/// A stream could not be processed; the client's stream must end visibly broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RespondError(String);

impl RespondError {
    pub(crate) fn new(m: String) -> Self {
        RespondError(m)
    }
    pub(crate) fn translate(e: crate::translate::TranslateError) -> Self {
        RespondError(format!("translation: {}", e.message()))
    }
}

impl fmt::Display for RespondError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RespondError {}

/// Bytes in, bytes out. `push` may return nothing (an event is incomplete); `finish` flushes.
pub trait StreamStage: Send + Sync {
    fn push(&mut self, chunk: &[u8]) -> Result<Vec<u8>, RespondError>;
    fn finish(&mut self) -> Vec<u8>;
    /// Placeholders restored so far.
    fn restored(&self) -> usize;
}

enum Translator {
    ToAnthropic(AnthropicStreamTranslator),
    ToOpenAi(OpenAiStreamTranslator),
}

pub(crate) struct SseStage {
    parser: SseParser,
    translator: Option<Translator>,
    restorer: Option<Box<dyn StreamRestorer + Send + Sync>>,
    failed: bool,
}

fn restorer_for(
    family: Family,
    op: Op,
    vault: &Arc<Vault>,
) -> Option<Box<dyn StreamRestorer + Send + Sync>> {
    if vault.is_empty() {
        return None;
    }
    let v = Arc::clone(vault);
    Some(match (family, op) {
        (Family::Anthropic, _) => Box::new(AnthropicRestorer::new(v)),
        (_, Op::Responses) => Box::new(ResponsesRestorer::new(v)),
        (Family::Gemini, _) => Box::new(GeminiSseRestorer::new(v)),
        _ => Box::new(OpenAiChatRestorer::new(v)),
    })
}

impl SseStage {
    pub(crate) fn new(plan: &ResponsePlan) -> Self {
        let translator = plan.translation.map(|t| match t {
            Translation::AnthropicToOpenAi => {
                Translator::ToAnthropic(AnthropicStreamTranslator::new(
                    &plan.client_model,
                    &format!("msg_{}", plan.request_id),
                ))
            }
            Translation::OpenAiToAnthropic => Translator::ToOpenAi(
                OpenAiStreamTranslator::new(
                    &plan.client_model,
                    &format!("chatcmpl-{}", plan.request_id),
                )
                .with_usage(plan.include_usage),
            ),
        });
        SseStage {
            parser: SseParser::new(MAX_EVENT),
            translator,
            restorer: restorer_for(plan.family, plan.op, &plan.vault),
            failed: false,
        }
    }

    /// Emits one client-facing event, through the restorer when there is one.
    fn emit(&mut self, ev: &SseEvent, out: &mut Vec<u8>) {
        match self.restorer.as_mut() {
            Some(r) => match r.on_event(ev) {
                Ok(bytes) => out.extend_from_slice(&bytes),
                Err(_) => write_sse(out, ev),
            },
            None => write_sse(out, ev),
        }
    }

    fn emit_outs(&mut self, outs: Vec<SseOut>, out: &mut Vec<u8>) {
        for o in outs {
            let ev = SseEvent {
                event: o.event,
                data: o.data,
                ..SseEvent::default()
            };
            self.emit(&ev, out);
        }
    }

    fn on_upstream(&mut self, ev: SseEvent, out: &mut Vec<u8>) {
        let translated = match self.translator.as_mut() {
            None => None,
            Some(_) if ev.comment_only => Some(Ok(Vec::new())),
            Some(Translator::ToAnthropic(t)) => Some(t.on_data(&ev.data)),
            Some(Translator::ToOpenAi(t)) => Some(t.on_event(ev.event.as_deref(), &ev.data)),
        };
        match translated {
            None => self.emit(&ev, out),
            Some(Ok(outs)) => self.emit_outs(outs, out),
            Some(Err(_)) => {
                // The translator cannot follow the upstream: close the client's stream with an
                // explicit error in its own framing, never a clean end.
                self.failed = true;
                let outs = self.finish_translator();
                self.emit_outs(outs, out);
            }
        }
    }

    fn finish_translator(&mut self) -> Vec<SseOut> {
        match self.translator.as_mut() {
            Some(Translator::ToAnthropic(t)) => t.finish(),
            Some(Translator::ToOpenAi(t)) => t.finish(),
            None => Vec::new(),
        }
    }
}

impl StreamStage for SseStage {
    fn push(&mut self, chunk: &[u8]) -> Result<Vec<u8>, RespondError> {
        if self.failed {
            return Ok(Vec::new());
        }
        let events = self
            .parser
            .feed(chunk)
            .map_err(|e| RespondError::new(format!("upstream event stream: {e}")))?;
        let mut out = Vec::new();
        for ev in events {
            self.on_upstream(ev, &mut out);
            if self.failed {
                break;
            }
        }
        Ok(out)
    }

    fn finish(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        if !self.failed {
            if let Some(ev) = self.parser.finish() {
                self.on_upstream(ev, &mut out);
            }
            let outs = self.finish_translator();
            self.emit_outs(outs, &mut out);
        }
        if let Some(r) = self.restorer.as_mut() {
            out.extend_from_slice(&r.finish());
        }
        out
    }

    fn restored(&self) -> usize {
        self.restorer.as_ref().map_or(0, |r| r.restored())
    }
}

pub(crate) struct ArrayStage(GeminiJsonArrayRestorer<Arc<Vault>>);

impl ArrayStage {
    pub(crate) fn new(vault: Arc<Vault>) -> Self {
        ArrayStage(GeminiJsonArrayRestorer::new(vault))
    }
}

impl StreamStage for ArrayStage {
    fn push(&mut self, chunk: &[u8]) -> Result<Vec<u8>, RespondError> {
        self.0
            .push(chunk)
            .map_err(|e| RespondError::new(format!("gemini stream: {e}")))
    }
    fn finish(&mut self) -> Vec<u8> {
        self.0.finish()
    }
    fn restored(&self) -> usize {
        self.0.restored()
    }
}

/// Frames a gateway-made error event in the client's streaming format, for a stream that has to
/// be cut (upstream died, or the stage failed).
pub fn error_event(family: Family, message: &str) -> Vec<u8> {
    let mut out = Vec::new();
    match family {
        Family::Anthropic => {
            let data = serde_json::json!({"type": "error", "error": {"type": "api_error", "message": message}});
            write_event(&mut out, Some("error"), &data.to_string());
        }
        _ => {
            let data = serde_json::json!({"error": {"message": message, "type": "server_error", "param": null, "code": "stream_interrupted"}});
            write_event(&mut out, None, &data.to_string());
        }
    }
    out
}
