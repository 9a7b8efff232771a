//! Answers that are not streamed, and complete values inside streamed events.
//!
//! A complete JSON value is restored string by string after serde_json decoded it, so a
//! placeholder written with `\u27e6` escapes is found like a raw one. Strings under the keys
//! `arguments` (OpenAI and Responses tool calls) and `partial_json` (Anthropic) are JSON text,
//! restored in [`Mode::JsonString`]. Object keys are left alone: models do not put placeholders
//! there, and renaming a key could collide with another.

use serde_json::Value;

use super::text::{contains_open, restore_str, Mode};
use super::{may_hold_placeholder, RestoreError, RestoreErrorKind};
use crate::output::{filter_complete, OutputRules, OutputTally};
use crate::vault::Vault;

/// Restores every placeholder of `vault` in every string value of a non-streamed JSON answer.
/// Returns the new body and the number restored. A body that cannot hold a placeholder (no `⟦`,
/// raw or escaped) is returned unchanged without being parsed, and so is a body in which nothing
/// was restored; only a body that needs parsing and is not JSON is an error.
pub fn restore_json_body(body: &[u8], vault: &Vault) -> Result<(Vec<u8>, usize), RestoreError> {
    if vault.is_empty() || !may_hold_placeholder(body) {
        return Ok((body.to_vec(), 0));
    }
    let mut value: Value = serde_json::from_slice(body)
        .map_err(|_| RestoreError::new(RestoreErrorKind::InvalidJson))?;
    let restored = restore_value(&mut value, vault);
    if restored == 0 {
        return Ok((body.to_vec(), 0));
    }
    let out =
        serde_json::to_vec(&value).map_err(|_| RestoreError::new(RestoreErrorKind::Serialize))?;
    Ok((out, restored))
}

/// Restores every string in a complete JSON value, in place. Returns how many placeholders were
/// restored.
pub fn restore_value(value: &mut Value, vault: &Vault) -> usize {
    if vault.is_empty() {
        return 0;
    }
    walk(value, vault, Mode::Text)
}

fn mode_for_key(key: &str) -> Mode {
    match key {
        "arguments" | "partial_json" => Mode::JsonString,
        _ => Mode::Text,
    }
}

/// Applies the response rules, when there are any, to a complete string, before restoring it.
pub(crate) type OutputCtx<'a> = Option<(&'a OutputRules, &'a mut OutputTally)>;

/// Keys whose string values are protocol, never model text: response rules leave them alone so a
/// literal rule cannot rename an event type or an id.
const STRUCTURAL: [&str; 12] = [
    "type",
    "id",
    "item_id",
    "call_id",
    "model",
    "object",
    "role",
    "status",
    "finish_reason",
    "stop_reason",
    "finishReason",
    "system_fingerprint",
];

/// Restores (and with `out`, filters) every string of `value`. Returns how many placeholders
/// were restored and whether anything changed.
pub(crate) fn walk_with(
    value: &mut Value,
    vault: &Vault,
    mode: Mode,
    out: &mut OutputCtx<'_>,
    key: Option<&str>,
) -> (usize, bool) {
    match value {
        Value::String(s) => {
            let mut changed = false;
            if let Some((rules, tally)) = out.as_mut() {
                if !key.is_some_and(|k| STRUCTURAL.contains(&k)) {
                    if let Some(f) = filter_complete(rules, vault, s, tally) {
                        *s = f;
                        changed = true;
                    }
                }
            }
            if vault.is_empty() || !contains_open(s) {
                return (0, changed);
            }
            let (restored, n) = restore_str(vault, s, mode);
            if n > 0 {
                *s = restored.into_owned();
            }
            (n, changed || n > 0)
        }
        Value::Array(items) => items.iter_mut().fold((0, false), |acc, v| {
            let (n, c) = walk_with(v, vault, Mode::Text, out, None);
            (acc.0 + n, acc.1 || c)
        }),
        Value::Object(map) => members_with(map, vault, &[], out),
        _ => (0, false),
    }
}

/// [`walk_with`] over the members of an object except those named in `skip`.
pub(crate) fn members_with(
    map: &mut serde_json::Map<String, Value>,
    vault: &Vault,
    skip: &[&str],
    out: &mut OutputCtx<'_>,
) -> (usize, bool) {
    map.iter_mut()
        .filter(|(k, _)| !skip.contains(&k.as_str()))
        .fold((0, false), |acc, (k, v)| {
            let (n, c) = walk_with(v, vault, mode_for_key(k), out, Some(k));
            (acc.0 + n, acc.1 || c)
        })
}

/// serde_json limits nesting to 128 when parsing, which bounds this recursion.
fn walk(value: &mut Value, vault: &Vault, mode: Mode) -> usize {
    walk_with(value, vault, mode, &mut None, None).0
}

/// Applies the response rules, then restores placeholders, in every string of a complete answer.
/// Returns how many placeholders were restored and whether anything changed; after a block the
/// tally says so and the value must not be sent.
pub fn filter_restore_value(
    value: &mut Value,
    vault: &Vault,
    rules: &OutputRules,
    tally: &mut OutputTally,
) -> (usize, bool) {
    walk_with(value, vault, Mode::Text, &mut Some((rules, tally)), None)
}
