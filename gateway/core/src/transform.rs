//! Transformation: the bytes that may leave for a given destination.
//!
//! Edits are spliced into the original bytes, so everything a rule did not touch keeps its exact
//! bytes (escapes, number spellings, key order, whitespace). The result is parsed again before it
//! is released: an edit that would produce invalid JSON is a fault, and a fault refuses the request
//! rather than forwarding something half-edited.

use crate::decode::DecodeOptions;
use crate::inspect::walk_for_edits;
use crate::json::{self, Edit, Kind};
use crate::rules::RuleSet;
use crate::types::{DestinationKind, Direction};
use crate::vault::Vault;
use std::fmt;

/// The outcome of [`transform`]: `None` when nothing changes (forward the original bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transformed {
    pub body: Option<Vec<u8>>,
    pub edits: usize,
}

#[derive(Debug, Clone)]
pub enum TransformError {
    Json(json::JsonError),
    /// The edits could not be applied cleanly; the body must not leave.
    Fault(String),
}

impl fmt::Display for TransformError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransformError::Json(e) => write!(f, "body is not acceptable JSON: {e}"),
            TransformError::Fault(m) => write!(f, "transformation fault: {m}"),
        }
    }
}

impl std::error::Error for TransformError {}

/// Applies every enforcing rule that acts for `dest`. Pseudonyms go into `vault`.
pub fn transform(
    body: &[u8],
    rules: &RuleSet,
    dir: Direction,
    dest: DestinationKind,
    vault: &mut Vault,
) -> Result<Transformed, TransformError> {
    transform_with(body, rules, dir, dest, vault, &DecodeOptions::default())
}

/// [`transform`] with the decoding limits of `[inspect]` (the same ones inspection used).
pub fn transform_with(
    body: &[u8],
    rules: &RuleSet,
    dir: Direction,
    dest: DestinationKind,
    vault: &mut Vault,
    opts: &DecodeOptions,
) -> Result<Transformed, TransformError> {
    let doc = json::parse(body).map_err(TransformError::Json)?;
    let (edits, fault) = walk_for_edits(body, &doc, rules, dir, dest, vault, opts);
    if fault {
        return Err(TransformError::Fault(
            "an embedded JSON document or a match range could not be edited".into(),
        ));
    }
    if edits.is_empty() {
        return Ok(Transformed {
            body: None,
            edits: 0,
        });
    }
    let n = edits.len();
    let out = json::splice(body, edits).map_err(|e| TransformError::Fault(format!("{e:?}")))?;
    json::parse(&out)
        .map_err(|e| TransformError::Fault(format!("edited body does not parse: {e}")))?;
    Ok(Transformed {
        body: Some(out),
        edits: n,
    })
}

/// Replaces the top-level string member `key` (e.g. `"model"`) with `value`, leaving every other
/// byte alone. `None` when the body has no such string member.
pub fn set_top_level_string(body: &[u8], key: &str, value: &str) -> Option<Vec<u8>> {
    let doc = json::parse(body).ok()?;
    let Kind::Object(members) = &doc.kind else {
        return None;
    };
    let m = members.iter().find(|m| &*m.key.text == key)?;
    let Kind::String(_) = &m.value.kind else {
        return None;
    };
    let mut rep = vec![b'"'];
    json::escape_into(value, &mut rep);
    rep.push(b'"');
    json::splice(
        body,
        vec![Edit {
            range: m.value.span.clone(),
            replacement: rep,
        }],
    )
    .ok()
}
