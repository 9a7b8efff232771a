//! The one error type of the translation layer.
//!
//! A translation fails for one of two reasons, and the gateway answers them differently:
//! - the **client** sent a body that has no faithful equivalent in the other API (an unknown
//!   content block, a PDF for an OpenAI-compatible pool, `n = 3` for an Anthropic pool): the
//!   client gets a 400 in its own API's error shape and nothing is sent upstream;
//! - the **upstream** answered something that cannot be turned into a valid answer for the
//!   client (tool arguments that are not JSON, a chunk that is not JSON): the client gets a 502,
//!   because handing it a half-translated answer would be worse than an honest failure.
//!
//! The error is opaque on purpose (as in `aho-corasick`'s and `hyper`'s error types): callers ask
//! [`TranslateError::is_client`] / [`TranslateError::is_upstream`] or [`TranslateError::status`]
//! instead of matching on variants, so new causes can be added without breaking them.

use std::fmt;

/// Why a body could not be translated between the OpenAI and Anthropic APIs.
///
/// The message names the JSON path at fault and, where it helps, what to send instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranslateError {
    source: Side,
    message: String,
}

/// Who produced the body that failed to translate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    /// The client's request.
    Client,
    /// The pool's (or provider's) response.
    Upstream,
}

impl Side {
    /// Builds an error attributed to this side.
    pub(super) fn err(self, message: impl Into<String>) -> TranslateError {
        TranslateError {
            source: self,
            message: message.into(),
        }
    }
}

impl TranslateError {
    /// The human-readable reason, without the HTTP framing.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// True when the client's request was at fault: answer 400, send nothing upstream.
    pub fn is_client(&self) -> bool {
        self.source == Side::Client
    }

    /// True when the upstream's answer could not be translated: answer 502.
    pub fn is_upstream(&self) -> bool {
        self.source == Side::Upstream
    }

    /// The HTTP status the gateway should answer with: 400 for client faults, 502 for upstream.
    pub fn status(&self) -> u16 {
        match self.source {
            Side::Client => 400,
            Side::Upstream => 502,
        }
    }
}

impl fmt::Display for TranslateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.source {
            Side::Client => write!(f, "cannot translate request: {}", self.message),
            Side::Upstream => write!(f, "cannot translate upstream response: {}", self.message),
        }
    }
}

impl std::error::Error for TranslateError {}
