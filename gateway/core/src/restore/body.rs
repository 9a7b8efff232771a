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

/// Restores the members of an object except those named in `skip` (the channels a framing
/// restores itself).
pub(crate) fn restore_members_except(
    map: &mut serde_json::Map<String, Value>,
    vault: &Vault,
    skip: &[&str],
) -> usize {
    if vault.is_empty() {
        return 0;
    }
    map.iter_mut()
        .filter(|(k, _)| !skip.contains(&k.as_str()))
        .map(|(k, v)| walk(v, vault, mode_for_key(k)))
        .sum()
}

fn mode_for_key(key: &str) -> Mode {
    match key {
        "arguments" | "partial_json" => Mode::JsonString,
        _ => Mode::Text,
    }
}

/// serde_json limits nesting to 128 when parsing, which bounds this recursion.
fn walk(value: &mut Value, vault: &Vault, mode: Mode) -> usize {
    match value {
        Value::String(s) => {
            if !contains_open(s) {
                return 0;
            }
            let (out, n) = restore_str(vault, s, mode);
            if n > 0 {
                *s = out.into_owned();
            }
            n
        }
        Value::Array(items) => items.iter_mut().map(|v| walk(v, vault, Mode::Text)).sum(),
        Value::Object(map) => map
            .iter_mut()
            .map(|(k, v)| walk(v, vault, mode_for_key(k)))
            .sum(),
        _ => 0,
    }
}
