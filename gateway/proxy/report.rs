//! What the response path did to an answer, for its `complete` audit record: how many
//! placeholders were restored and what the response rules found (rule ids, actions and counts,
//! never the matched text), for complete answers and for streams alike.
//!
//! A stream's stage updates the shared report as it goes; the record is written when the stream
//! ends, fails or the client leaves, so a cut or abandoned stream still reports what it did.

use crate::audit::AuditRecord;
use serde_json::{json, Value};
use sovgate_core::output::{OutputRules, OutputTally};
use sovgate_core::types::Mode;
use std::sync::{Arc, Mutex, PoisonError};

#[derive(Debug, Default)]
struct Counts {
    restored: usize,
    output: OutputTally,
}

/// The report of one answer, shared between the body that streams it and the record.
#[derive(Debug, Clone)]
pub struct ReportSink {
    counts: Arc<Mutex<Counts>>,
    rules: Option<OutputRules>,
}

impl ReportSink {
    pub fn new(rules: Option<OutputRules>) -> Self {
        ReportSink {
            counts: Arc::default(),
            rules,
        }
    }

    /// Records the stage's running totals.
    pub fn set(&self, restored: usize, output: &OutputTally) {
        let mut c = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        c.restored = restored;
        if c.output != *output {
            c.output = output.clone();
        }
    }

    /// Adds the report's fields to `rec`.
    pub fn write(&self, rec: &mut AuditRecord) {
        let c = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        write_fields(rec, self.rules.as_ref(), c.restored, &c.output);
    }
}

/// `restored`, and with response rules `output_findings` (`[{rule, action, mode, count}]`) and
/// `output_blocked` (the rule id) when a rule blocked the answer.
pub fn write_fields(
    rec: &mut AuditRecord,
    rules: Option<&OutputRules>,
    restored: usize,
    output: &OutputTally,
) {
    rec.extra.insert("restored".into(), restored.into());
    let Some(rules) = rules else {
        return;
    };
    let findings: Vec<Value> = output
        .findings()
        .map(|(idx, count)| {
            let r = rules.rules().rule(idx);
            let mode = if r.mode == Mode::Monitor {
                "monitor"
            } else {
                "enforce"
            };
            json!({"rule": r.id, "action": r.action.as_str(), "mode": mode, "count": count})
        })
        .collect();
    rec.extra
        .insert("output_findings".into(), Value::Array(findings));
    if let Some(idx) = output.blocked() {
        let id = rules.rules().rule(idx).id.clone();
        if rec.reason.is_none() {
            rec.reason = Some(format!("output_blocked: rule {id}"));
        }
        rec.extra.insert("output_blocked".into(), Value::String(id));
    }
}
