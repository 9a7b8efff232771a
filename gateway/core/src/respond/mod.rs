//! The response path, composed: translate the answer back into the client's API (when a local
//! pool speaks another one), then restore pseudonyms, for whole bodies and for streams.
//!
//! The proxy decides a [`ResponsePlan`] once, when it picks the destination, and then only feeds
//! bytes through it. Streams are processed event by event: nothing is buffered beyond one SSE
//! event plus the few bytes the restorer may hold back when an event ends inside what could
//! still become a placeholder.

mod block;
mod stage;

pub use block::{blocked_array_tail, blocked_event, blocked_message, OUTPUT_BLOCKED};
pub use stage::{error_event, RespondError, StreamStage};

use crate::api::{Family, Op};
use crate::output::{clear_token_copies, filter_complete, OutputRules, OutputTally};
use crate::restore::{filter_restore_value, restore_json_body, restore_value};
use crate::translate::{
    anthropic_error_to_openai, anthropic_to_openai_response, openai_error_to_anthropic,
    openai_to_anthropic_response,
};
use crate::vault::Vault;
use std::sync::Arc;

/// A request crossing API families on its way to a local pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Translation {
    /// An Anthropic Messages client served by an OpenAI-compatible pool.
    AnthropicToOpenAi,
    /// An OpenAI chat client served by an Anthropic-speaking pool.
    OpenAiToAnthropic,
}

impl Translation {
    /// The translation needed between a client's API and a pool's, if the pair is supported.
    /// `Ok(None)` means same API; `Err(())` means no translator exists for the pair.
    #[allow(clippy::result_unit_err)]
    pub fn between(client: Family, client_op: Op, pool: Family) -> Result<Option<Translation>, ()> {
        let openai_like = |f| matches!(f, Family::OpenAi | Family::Azure);
        match (client, client_op, pool) {
            (c, _, p) if c == p || (openai_like(c) && openai_like(p)) => Ok(None),
            (Family::Anthropic, Op::Messages, Family::OpenAi) => {
                Ok(Some(Translation::AnthropicToOpenAi))
            }
            (c, Op::ChatCompletions, Family::Anthropic) if openai_like(c) => {
                Ok(Some(Translation::OpenAiToAnthropic))
            }
            _ => Err(()),
        }
    }

    /// The path the pool is called on.
    pub fn upstream_path(self) -> &'static str {
        match self {
            Translation::AnthropicToOpenAi => "/v1/chat/completions",
            Translation::OpenAiToAnthropic => "/v1/messages",
        }
    }
}

/// Everything the response path needs, decided when the route was chosen.
#[derive(Debug, Clone)]
pub struct ResponsePlan {
    pub family: Family,
    pub op: Op,
    pub translation: Option<Translation>,
    pub vault: Arc<Vault>,
    /// The model name the client asked for (echoed back in translated answers).
    pub client_model: String,
    pub request_id: String,
    /// OpenAI clients that asked for `stream_options.include_usage`.
    pub include_usage: bool,
    /// The response rules, when any rule scans model output ([`crate::output`]).
    pub output: Option<OutputRules>,
}

/// A complete answer on its way back.
#[derive(Debug, Clone)]
pub struct Answer {
    pub body: Vec<u8>,
    /// Placeholders restored.
    pub restored: usize,
    /// What the response rules found; when it says blocked, `body` must not be sent.
    pub output: OutputTally,
}

impl ResponsePlan {
    /// Nothing to translate, nothing to restore: relay bytes untouched.
    pub fn is_passthrough(&self) -> bool {
        self.translation.is_none() && self.vault.is_empty() && self.output.is_none()
    }

    /// A complete (non-streamed) answer: translated if needed, then restored. Returns the body and
    /// the number of placeholders restored.
    pub fn full_body(&self, status: u16, body: &[u8]) -> Result<(Vec<u8>, usize), RespondError> {
        self.full_answer(status, body).map(|a| (a.body, a.restored))
    }

    /// A complete (non-streamed) answer: translated if needed, response rules applied, then
    /// restored.
    pub fn full_answer(&self, status: u16, body: &[u8]) -> Result<Answer, RespondError> {
        let mut tally = OutputTally::default();
        let (body, restored) = self.full_inner(status, body, &mut tally)?;
        Ok(Answer {
            body,
            restored,
            output: tally,
        })
    }

    fn full_inner(
        &self,
        status: u16,
        body: &[u8],
        tally: &mut OutputTally,
    ) -> Result<(Vec<u8>, usize), RespondError> {
        let ok = (200..300).contains(&status);
        let translated: Option<serde_json::Value> = match self.translation {
            None => None,
            Some(t) => Some(match (t, ok) {
                (Translation::AnthropicToOpenAi, true) => {
                    let v = parse(body)?;
                    openai_to_anthropic_response(&v, &self.client_model)
                        .map_err(RespondError::translate)?
                }
                (Translation::OpenAiToAnthropic, true) => {
                    let v = parse(body)?;
                    anthropic_to_openai_response(&v, &self.client_model)
                        .map_err(RespondError::translate)?
                }
                (Translation::AnthropicToOpenAi, false) => openai_error_to_anthropic(status, body),
                (Translation::OpenAiToAnthropic, false) => anthropic_error_to_openai(status, body),
            }),
        };
        if let Some(o) = &self.output {
            return filter_body(translated, body, &self.vault, o, tally);
        }
        match translated {
            Some(mut v) => {
                let n = restore_value(&mut v, &self.vault);
                let out = serde_json::to_vec(&v)
                    .map_err(|e| RespondError::new(format!("serialize: {e}")))?;
                Ok((out, n))
            }
            None if self.vault.is_empty() => Ok((body.to_vec(), 0)),
            None => match restore_json_body(body, &self.vault) {
                Ok(r) => Ok(r),
                // Not JSON (an upstream's plain-text error page): restore as text.
                Err(_) => match std::str::from_utf8(body) {
                    Ok(text) => {
                        let (t, n) = self.vault.restore(text);
                        Ok((t.into_owned().into_bytes(), n))
                    }
                    Err(_) => Ok((body.to_vec(), 0)),
                },
            },
        }
    }

    /// The stage for an SSE answer (`text/event-stream`).
    pub fn sse_stage(&self) -> Box<dyn StreamStage> {
        Box::new(stage::SseStage::new(self))
    }

    /// The stage for Gemini's streamed JSON array (`streamGenerateContent` without `alt=sse`).
    pub fn json_array_stage(&self) -> Box<dyn StreamStage> {
        Box::new(stage::ArrayStage::new(
            Arc::clone(&self.vault),
            self.output.clone(),
        ))
    }
}

/// A complete answer under response rules: every string of a JSON answer (or the text of one
/// that is not JSON) filtered, then restored.
fn filter_body(
    translated: Option<serde_json::Value>,
    body: &[u8],
    vault: &Vault,
    rules: &OutputRules,
    tally: &mut OutputTally,
) -> Result<(Vec<u8>, usize), RespondError> {
    let was_translated = translated.is_some();
    let parsed = match translated {
        Some(v) => Some(v),
        None => serde_json::from_slice(body).ok(),
    };
    match parsed {
        Some(mut v) => {
            let (n, changed) = filter_restore_value(&mut v, vault, rules, tally);
            let cleared = clear_token_copies(&mut v);
            if !changed && !cleared && !was_translated {
                return Ok((body.to_vec(), 0));
            }
            let out =
                serde_json::to_vec(&v).map_err(|e| RespondError::new(format!("serialize: {e}")))?;
            Ok((out, n))
        }
        None => {
            let text = String::from_utf8_lossy(body);
            let filtered = filter_complete(rules, vault, &text, tally);
            let text = filtered.as_deref().unwrap_or(&text);
            let (t, n) = vault.restore(text);
            if filtered.is_none() && n == 0 {
                return Ok((body.to_vec(), 0));
            }
            Ok((t.into_owned().into_bytes(), n))
        }
    }
}

fn parse(body: &[u8]) -> Result<serde_json::Value, RespondError> {
    serde_json::from_slice(body)
        .map_err(|e| RespondError::new(format!("upstream answer is not JSON: {e}")))
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_output;
