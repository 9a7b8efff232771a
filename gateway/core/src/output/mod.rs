//! Response rules on model output: rules with `scope = "response"` or `"both"` run on what the
//! model writes, in complete answers and in streams.
//!
//! What a finding does on the way back:
//! - `redact` and `pseudonymize` replace the match with the rule's replacement text
//!   (`[REDACTED:<id>]` by default): a pseudonym the user could not resolve would be noise;
//! - `drop` removes the match;
//! - `tag` and every rule in `monitor` mode only count;
//! - `block` ends the answer with an explicit error in the client's framing (the stages in
//!   [`crate::respond`] write it); the matched text is never sent.
//!
//! **Placeholders are never processed twice.** Output rules run on the model's text *before*
//! pseudonyms are restored, and a match overlapping a placeholder of this request's vault is
//! ignored: the placeholder stands for the user's own value, which was judged on the way out and
//! pseudonymized so the user would read it back. A response rule that matched the restored value
//! would undo that choice, so restored values are never scanned. Text that only looks like a
//! placeholder (invented or of another request) is ordinary text and is scanned.
//!
//! Streams hold back the trailing run of characters that could still be part of a match (see
//! [`StreamBound`](crate::rules::StreamBound) for why that is enough), so a match split across
//! events is found whole and the hold-back is bounded; [`stream::StreamFilter`] does it per text
//! channel.
//!
//! Findings are counted per rule ([`OutputTally`]) for the audit record; the matched text is never
//! kept.

pub mod stream;

#[cfg(test)]
pub(crate) mod tests;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::rules::{RuleIdx, RuleSet, TextMatch};
use crate::types::{Action, Direction, Mode};
use crate::vault::{Vault, CLOSE, MAX_PLACEHOLDER_LEN, OPEN};

pub use stream::StreamFilter;

/// The response rules of one request: the rule set current when the request arrived.
#[derive(Clone, Debug)]
pub struct OutputRules(Arc<RuleSet>);

impl OutputRules {
    /// `None` when no literal or regex rule scans responses: the response path then costs nothing.
    pub fn new(rules: Arc<RuleSet>) -> Option<OutputRules> {
        rules.scans_responses().then_some(OutputRules(rules))
    }

    pub fn rules(&self) -> &RuleSet {
        &self.0
    }
}

/// What the response rules found in one answer: counts per rule, and the rule that blocked it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutputTally {
    counts: BTreeMap<RuleIdx, u32>,
    blocked: Option<RuleIdx>,
}

impl OutputTally {
    /// Nothing found.
    pub const EMPTY: OutputTally = OutputTally {
        counts: BTreeMap::new(),
        blocked: None,
    };

    /// (rule, count) for every rule that fired, in rule order.
    pub fn findings(&self) -> impl Iterator<Item = (RuleIdx, u32)> + '_ {
        self.counts.iter().map(|(r, n)| (*r, *n))
    }

    /// The rule whose `block` ended the answer.
    pub fn blocked(&self) -> Option<RuleIdx> {
        self.blocked
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty() && self.blocked.is_none()
    }

    /// Adds another tally's counts (two channels, or body and stream, of one answer).
    pub fn merge(&mut self, other: &OutputTally) {
        for (r, n) in other.findings() {
            *self.counts.entry(r).or_insert(0) += n;
        }
        self.blocked = self.blocked.or(other.blocked);
    }

    fn count(&mut self, rule: RuleIdx) {
        let n = self.counts.entry(rule).or_insert(0);
        *n = n.saturating_add(1);
    }

    fn block(&mut self, rule: RuleIdx) {
        self.blocked.get_or_insert(rule);
    }
}

/// Applies the response rules to a complete text. Returns the new text when something changed.
/// After a block the tally says so and the returned text must not be sent.
pub fn filter_complete(
    out_rules: &OutputRules,
    vault: &Vault,
    text: &str,
    tally: &mut OutputTally,
) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    apply(
        out_rules.rules(),
        vault,
        text,
        0,
        text.len(),
        tally,
        &mut out,
    );
    (out != text).then_some(out)
}

/// Scans `s` and writes `s[from..end]` to `out` with the settled matches acted on; returns `end`.
///
/// A match is settled when it starts before `upto` and ends after `from`; `end` is `upto`, or later when a settled
/// match that redacts reaches past it (the whole match is then written redacted). Matches that
/// start before `from` (context already sent) or at `upto` and later (text still held) are left
/// for another call, so each match is acted on and counted once.
pub(crate) fn apply(
    rules: &RuleSet,
    vault: &Vault,
    s: &str,
    from: usize,
    upto: usize,
    tally: &mut OutputTally,
    out: &mut String,
) -> usize {
    if tally.blocked.is_some() {
        return upto;
    }
    let mut found = Vec::new();
    if let Err(hit) = rules.scan(s, Direction::Response, &mut found) {
        // The text could not be fully inspected for this rule: never send it.
        tally.count(hit.rule);
        tally.block(hit.rule);
        return upto;
    }
    let placeholders = placeholder_spans(vault, s);
    let mut pos = from;
    let mut end = upto;
    for TextMatch { rule, mut range } in found {
        if range.end <= from || range.start >= upto {
            continue;
        }
        if range.start < from {
            // Only when a run outgrew the hold: the match began in text already sent, and its
            // continuation goes redacted.
            range.start = from;
        }
        if placeholders
            .iter()
            .any(|p| p.start < range.end && range.start < p.end)
        {
            continue;
        }
        tally.count(rule);
        let r = rules.rule(rule);
        if r.mode == Mode::Monitor {
            continue;
        }
        let replacement = match r.action {
            Action::Block => {
                tally.block(rule);
                return upto;
            }
            Action::Tag => continue,
            Action::Drop => "",
            Action::Redact | Action::Pseudonymize => r.replacement.as_str(),
        };
        if range.start < pos {
            // Overlaps a span another rule already replaced: the replacement covers it, and the
            // part past that span goes too rather than being sent in clear.
            if range.end > pos {
                pos = range.end;
                end = end.max(pos);
            }
            continue;
        }
        out.push_str(&s[pos..range.start]);
        out.push_str(replacement);
        pos = range.end;
        end = end.max(range.end);
    }
    if pos < end {
        out.push_str(&s[pos..end]);
    }
    end.max(pos)
}

/// Members holding token-level copies of the model's text (log probabilities). A match split
/// over several tokens cannot be redacted there, so under response rules they are emptied.
const TOKEN_COPIES: [&str; 2] = ["logprobs", "logprobsResult"];

/// Empties every token-level copy of the text in `value` (an array becomes `[]`, anything else
/// `null`). Returns whether something changed.
pub fn clear_token_copies(value: &mut serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::Object(map) => clear_token_copies_in(map),
        Value::Array(items) => {
            // Every item, not the first that changed: no short-circuit.
            let mut changed = false;
            for v in items {
                changed |= clear_token_copies(v);
            }
            changed
        }
        _ => false,
    }
}

/// [`clear_token_copies`] for the members of one object.
pub fn clear_token_copies_in(map: &mut serde_json::Map<String, serde_json::Value>) -> bool {
    use serde_json::Value;
    let mut changed = false;
    for (k, v) in map.iter_mut() {
        if !TOKEN_COPIES.contains(&k.as_str()) {
            changed |= clear_token_copies(v);
            continue;
        }
        let empty = match v {
            Value::Null => continue,
            Value::Array(a) if a.is_empty() => continue,
            Value::Array(_) => Value::Array(Vec::new()),
            _ => Value::Null,
        };
        *v = empty;
        changed = true;
    }
    changed
}

/// Byte ranges of `s` holding a placeholder of `vault`.
fn placeholder_spans(vault: &Vault, s: &str) -> Vec<std::ops::Range<usize>> {
    let mut spans = Vec::new();
    if vault.is_empty() {
        return spans;
    }
    for (start, _) in s.match_indices(OPEN) {
        let tail = &s[start..];
        let close = tail
            .char_indices()
            .take_while(|(i, _)| *i < MAX_PLACEHOLDER_LEN)
            .find(|(_, c)| *c == CLOSE)
            .map(|(i, c)| i + c.len_utf8());
        if let Some(end) = close.filter(|&end| vault.lookup(&tail[..end]).is_some()) {
            spans.push(start..start + end);
        }
    }
    spans
}
