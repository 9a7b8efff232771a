//! Streaming stages: bytes in, bytes out, one SSE event at a time.

use super::block::{blocked_array_tail, blocked_event};
use super::{ResponsePlan, Translation};
use crate::api::{Family, Op};
use crate::output::{OutputRules, OutputTally};
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
    /// What the response rules found so far. After a block the stage has written the error
    /// event in the client's framing and writes nothing more.
    fn tally(&self) -> &OutputTally;
}

/// The tally of a stage without response rules.
static NO_FINDINGS: OutputTally = OutputTally::EMPTY;

enum Translator {
    ToAnthropic(AnthropicStreamTranslator),
    ToOpenAi(OpenAiStreamTranslator),
}

pub(crate) struct SseStage {
    parser: SseParser,
    translator: Option<Translator>,
    restorer: Option<Box<dyn StreamRestorer + Send + Sync>>,
    failed: bool,
    /// A response rule blocked the answer: its error event was written, nothing else follows.
    blocked: bool,
    family: Family,
    op: Op,
    output: Option<OutputRules>,
}

fn restorer_for(
    family: Family,
    op: Op,
    vault: &Arc<Vault>,
    output: Option<&OutputRules>,
) -> Option<Box<dyn StreamRestorer + Send + Sync>> {
    if vault.is_empty() && output.is_none() {
        return None;
    }
    let v = Arc::clone(vault);
    Some(match (family, op, output.cloned()) {
        (Family::Anthropic, _, None) => Box::new(AnthropicRestorer::new(v)),
        (Family::Anthropic, _, Some(o)) => Box::new(AnthropicRestorer::new(v).with_output(o)),
        (_, Op::Responses, None) => Box::new(ResponsesRestorer::new(v)),
        (_, Op::Responses, Some(o)) => Box::new(ResponsesRestorer::new(v).with_output(o)),
        (Family::Gemini, _, None) => Box::new(GeminiSseRestorer::new(v)),
        (Family::Gemini, _, Some(o)) => Box::new(GeminiSseRestorer::new(v).with_output(o)),
        (_, _, None) => Box::new(OpenAiChatRestorer::new(v)),
        (_, _, Some(o)) => Box::new(OpenAiChatRestorer::new(v).with_output(o)),
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
            restorer: restorer_for(plan.family, plan.op, &plan.vault, plan.output.as_ref()),
            failed: false,
            blocked: false,
            family: plan.family,
            op: plan.op,
            output: plan.output.clone(),
        }
    }

    /// Emits one client-facing event, through the restorer when there is one. When a response
    /// rule blocks, what the restorer returned for this event is dropped (it may end right
    /// before the match) and the block's error event ends the stream.
    fn emit(&mut self, ev: &SseEvent, out: &mut Vec<u8>) {
        if self.blocked {
            return;
        }
        let Some(r) = self.restorer.as_mut() else {
            write_sse(out, ev);
            return;
        };
        let bytes = match r.on_event(ev) {
            Ok(bytes) => bytes,
            Err(_) => {
                let mut raw = Vec::new();
                write_sse(&mut raw, ev);
                raw
            }
        };
        match (r.tally().blocked(), &self.output) {
            (Some(rule), Some(o)) => {
                let id = &o.rules().rule(rule).id;
                let seq = r.next_sequence();
                out.extend_from_slice(&blocked_event(self.family, self.op, id, seq));
                self.blocked = true;
                self.failed = true;
            }
            _ => out.extend_from_slice(&bytes),
        }
    }

    fn emit_outs(&mut self, outs: Vec<SseOut>, out: &mut Vec<u8>) {
        for o in outs {
            if self.blocked {
                return;
            }
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
        if self.blocked {
            return out;
        }
        if let Some(r) = self.restorer.as_mut() {
            let flushed = r.finish();
            if let (Some(rule), Some(o)) = (r.tally().blocked(), &self.output) {
                let id = &o.rules().rule(rule).id;
                let seq = r.next_sequence();
                out.extend_from_slice(&blocked_event(self.family, self.op, id, seq));
                self.blocked = true;
            } else {
                out.extend_from_slice(&flushed);
            }
        }
        out
    }

    fn restored(&self) -> usize {
        self.restorer.as_ref().map_or(0, |r| r.restored())
    }

    fn tally(&self) -> &OutputTally {
        self.restorer.as_ref().map_or(&NO_FINDINGS, |r| r.tally())
    }
}

pub(crate) struct ArrayStage {
    inner: GeminiJsonArrayRestorer<Arc<Vault>>,
    output: Option<OutputRules>,
    /// The last non-whitespace byte sent: where a blocked array's error element goes.
    last_sent: Option<u8>,
    blocked: bool,
}

impl ArrayStage {
    pub(crate) fn new(vault: Arc<Vault>, output: Option<OutputRules>) -> Self {
        let inner = GeminiJsonArrayRestorer::new(vault);
        let inner = match output.clone() {
            Some(o) => inner.with_output(o),
            None => inner,
        };
        ArrayStage {
            inner,
            output,
            last_sent: None,
            blocked: false,
        }
    }

    /// Passes `out` on, or the array's blocked ending when a response rule blocked.
    fn checked(&mut self, out: Vec<u8>) -> Vec<u8> {
        if let (Some(rule), Some(o)) = (self.inner.tally().blocked(), &self.output) {
            self.blocked = true;
            let id = &o.rules().rule(rule).id;
            return blocked_array_tail(self.last_sent, id);
        }
        if let Some(&b) = out.iter().rev().find(|b| !b.is_ascii_whitespace()) {
            self.last_sent = Some(b);
        }
        out
    }
}

impl StreamStage for ArrayStage {
    fn push(&mut self, chunk: &[u8]) -> Result<Vec<u8>, RespondError> {
        if self.blocked {
            return Ok(Vec::new());
        }
        let out = self
            .inner
            .push(chunk)
            .map_err(|e| RespondError::new(format!("gemini stream: {e}")))?;
        Ok(self.checked(out))
    }
    fn finish(&mut self) -> Vec<u8> {
        if self.blocked {
            return Vec::new();
        }
        let out = self.inner.finish();
        self.checked(out)
    }
    fn restored(&self) -> usize {
        self.inner.restored()
    }
    fn tally(&self) -> &OutputTally {
        self.inner.tally()
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
