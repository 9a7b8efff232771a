//! Inspection: walk every key and every string of a body, run the rule set, collect findings.
//!
//! The walk is generic — it does not know OpenAI from Anthropic — because a secret can hide in any
//! field an API accepts today or adds tomorrow (tool arguments, response schemas, document blocks).
//! Strings that are themselves JSON (tool-call arguments, CRM records pasted into a prompt) are
//! parsed and walked too, so field rules apply inside them.
//!
//! The same walker runs twice when a body has findings: once to classify ([`inspect`]), and once
//! the destination is known, to compute the edits for it ([`crate::transform::transform`]), since
//! `applies_to = "external"` rules only act on the way out of the company.

mod decoded;
mod path;
mod strings;
mod walk;

#[doc(hidden)]
pub mod fuzzing;

pub use path::render_path;
use walk::Walker;

use crate::decode::DecodeOptions;
use crate::json::{self, JsonError};
use crate::rules::{RuleIdx, RuleSet};
use crate::types::{Action, Class, Direction, Mode};
use std::fmt;

/// One rule firing at one JSON path, with how many times it fired there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: RuleIdx,
    /// `$.messages[1].content`, with `#json` marking a descent into JSON embedded in a string.
    pub path: String,
    pub count: u32,
}

/// What inspection concluded about a body.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
    /// The highest class among enforcing findings (monitor-mode findings never change routing).
    pub class: Class,
    /// The first enforcing `block` rule that fired, if any.
    pub block: Option<RuleIdx>,
    /// Whether any enforcing finding has an action that edits the body.
    pub transforms: bool,
    /// The top-level `"model"` string, if the body has one.
    pub model: Option<String>,
    /// Whether the top-level `"stream"` member is `true`.
    pub stream: bool,
    /// Whether `stream_options.include_usage` is `true` (OpenAI clients that want a usage chunk).
    pub include_usage: bool,
    /// Parts that could not be read (an image's pixels, an unreadable PDF, audio, a payload past
    /// a decoding limit), as `path (kind)`; they raise the class to `[inspect] opaque`.
    pub opaque: Vec<String>,
}

impl Report {
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }
}

/// Why a body could not be inspected. Always a refusal: nothing uninspected is forwarded.
#[derive(Debug, Clone)]
pub enum InspectError {
    /// Not strict JSON (see [`crate::json`] for what is refused).
    Json(JsonError),
    /// A matching limit was hit (e.g. a backtracking rule ran out of budget).
    Limit { rule: RuleIdx },
}

impl fmt::Display for InspectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InspectError::Json(e) => write!(f, "body is not acceptable JSON: {e}"),
            InspectError::Limit { rule } => write!(f, "rule #{} hit its matching limit", rule.0),
        }
    }
}

impl std::error::Error for InspectError {}

/// Inspects a JSON body in direction `dir` with the default decoding limits. A body that is not
/// strict JSON is an error.
pub fn inspect(body: &[u8], rules: &RuleSet, dir: Direction) -> Result<Report, InspectError> {
    inspect_with(body, rules, dir, &DecodeOptions::default())
}

/// [`inspect`] with the decoding limits and opaque class of `[inspect]`.
pub fn inspect_with(
    body: &[u8],
    rules: &RuleSet,
    dir: Direction,
    opts: &DecodeOptions,
) -> Result<Report, InspectError> {
    let doc = json::parse(body).map_err(InspectError::Json)?;
    let mut w = Walker::new(rules, dir, None, *opts);
    w.walk_document(body, &doc);
    let mut report = w.into_report(rules);
    if let json::Kind::Object(members) = &doc.kind {
        for m in members {
            match (&*m.key.text, &m.value.kind) {
                ("model", json::Kind::String(s)) => report.model = Some(s.text.to_string()),
                ("stream", json::Kind::Bool(b)) => report.stream = *b,
                ("stream_options", json::Kind::Object(opts)) => {
                    report.include_usage = opts.iter().any(|o| {
                        &*o.key.text == "include_usage"
                            && matches!(o.value.kind, json::Kind::Bool(true))
                    });
                }
                _ => {}
            }
        }
    }
    Ok(report)
}

/// Runs the walker in edit mode for `dest`; returns the edits and whether any edit faulted.
pub(crate) fn walk_for_edits(
    body: &[u8],
    doc: &json::Value<'_>,
    rules: &RuleSet,
    dir: Direction,
    dest: crate::types::DestinationKind,
    vault: &mut crate::vault::Vault,
    opts: &DecodeOptions,
) -> (Vec<json::Edit>, bool) {
    let mut w = Walker::new(rules, dir, Some(walk::EditMode { dest, vault }), *opts);
    let edits = w.walk_document(body, doc);
    (edits, w.fault)
}

/// Whether a rule's action, in its mode, changes anything at all.
pub(crate) fn acts(rules: &RuleSet, idx: RuleIdx) -> bool {
    let r = rules.rule(idx);
    r.mode == Mode::Enforce && r.action != Action::Tag
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_prop;
#[cfg(test)]
mod tests_records;
