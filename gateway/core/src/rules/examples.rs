//! Rules carry their own tests: `examples.match` must produce a finding of the rule,
//! `examples.no_match` must not. [`RuleSet::run_examples`] runs them for `sovgate rules test`
//! and for `cargo test` over the shipped packs.
//!
//! For literal and regex rules an example is text, scanned like a request (or a response, for
//! rules with `scope = "response"`). For field rules an example is a field name, or text holding
//! records (JSON after prose, CSV, XML, `Label: value` lines) that the field must be found in.

use super::{RuleIdx, RuleKind, RuleSet};
use crate::types::{Direction, Scope};
use std::fmt;

#[derive(Debug, Clone)]
pub(crate) struct Example {
    pub rule: RuleIdx,
    pub text: String,
    pub expect_match: bool,
    /// `file:line` of the example.
    pub source: String,
}

/// An example that did not behave as its rule says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExampleFailure {
    pub rule_id: String,
    pub example: String,
    /// `true` for `examples.match` (it should have matched and did not).
    pub expected_match: bool,
    /// `file:line` of the example.
    pub source: String,
    /// The scan hit a matching limit instead of deciding.
    pub limit_hit: bool,
}

impl fmt::Display for ExampleFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match (self.limit_hit, self.expected_match) {
            (true, _) => "hit the matching limit",
            (false, true) => "should match but did not",
            (false, false) => "should not match but did",
        };
        write!(
            f,
            "{}: rule `{}`: example {what}: {:?}",
            self.source, self.rule_id, self.example
        )
    }
}

/// A field-rule example without spaces or record syntax is a field name; any other is text with
/// records in it (a CSV export, a pasted JSON record, `Label: value` lines).
fn is_name(text: &str) -> bool {
    !text.contains(|c: char| c.is_whitespace() || "{}<>:=,|\"'".contains(c))
}

impl RuleSet {
    /// Whether rule `rule` finds a field in `text` the way the body walker does.
    fn field_in_text(&self, text: &str, dir: Direction, rule: RuleIdx) -> bool {
        let mut fields = Vec::new();
        !crate::records::find_sites(text, self.field_gate(), |name| {
            fields.clear();
            self.match_field(name, dir, &mut fields);
            fields.contains(&rule)
        })
        .is_empty()
    }

    /// Runs every rule's examples; an empty result means all passed.
    pub fn run_examples(&self) -> Vec<ExampleFailure> {
        let mut failures = Vec::new();
        let mut hits = Vec::new();
        let mut fields = Vec::new();
        for ex in &self.examples {
            let rule = self.rule(ex.rule);
            let dir = if rule.scope == Scope::Response {
                Direction::Response
            } else {
                Direction::Request
            };
            let (matched, limit_hit) = if rule.kind == RuleKind::Field && is_name(&ex.text) {
                fields.clear();
                self.match_field(&ex.text, dir, &mut fields);
                (fields.contains(&ex.rule), false)
            } else if rule.kind == RuleKind::Field {
                (self.field_in_text(&ex.text, dir, ex.rule), false)
            } else {
                hits.clear();
                match self.scan(&ex.text, dir, &mut hits) {
                    Ok(()) => (hits.iter().any(|m| m.rule == ex.rule), false),
                    Err(_) => (false, true),
                }
            };
            if limit_hit || matched != ex.expect_match {
                failures.push(ExampleFailure {
                    rule_id: rule.id.clone(),
                    example: ex.text.clone(),
                    expected_match: ex.expect_match,
                    source: ex.source.clone(),
                    limit_hit,
                });
            }
        }
        failures
    }

    /// How many examples the rules carry.
    pub fn example_count(&self) -> usize {
        self.examples.len()
    }
}
