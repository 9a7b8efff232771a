//! Deterministic corpora shared by the benches and the `rules_compile` example: CRM-style prose
//! with planted findings, matter-name dictionaries, and chat request bodies built from them.
//!
//! Everything is generated from fixed seeds, so two runs (and two machines) measure the same
//! bytes. The 2 KB chat bodies are checked in under `benches/corpus/` because the load test
//! (`benches/load/run.sh`) sends them too.
// Not every bench uses every helper.
#![allow(dead_code)]

use sovgate_core::rules::{compile, embedded_sources, RuleErrors, RuleSet, RuleSource};

/// A 2 KB OpenAI chat request with look-alikes (dates, docket numbers, order ids) and no finding.
pub const CHAT_CLEAN_2K: &[u8] = include_bytes!("../corpus/chat-clean-2k.json");

/// A 2 KB OpenAI chat request carrying a Salesforce case record as JSON in a content part: two
/// privileged fields (`legal_case_strategy__c`, `settlement_terms__c`), an SSN and an email.
pub const CHAT_DIRTY_2K: &[u8] = include_bytes!("../corpus/chat-dirty-2k.json");

/// The dirty record pasted after a line of prose in the same text part, so the JSON is not the
/// whole string: found by the records-in-text path, not by the embedded-JSON walk.
pub const CHAT_RECORD_IN_TEXT_2K: &[u8] = include_bytes!("../corpus/chat-record-in-text-2k.json");

/// Findings (sum of counts) the default rules report on [`CHAT_DIRTY_2K`]: two dropped fields,
/// one SSN, one email.
pub const CHAT_DIRTY_2K_FINDINGS: u32 = 4;

/// Sentences that must produce no finding.
pub const CLEAN: &[&str] = &[
    "Customer called on 2024-01-15 about order ORD-12345678, which shipped two days late.",
    "Account manager noted the renewal is due in Q3 and pricing should stay flat at $1,234,567.89.",
    "Per Docket No. 1:23-cv-04567 the hearing moved to 2024-03-02; no action needed from sales.",
    "The client upgraded to v10.2.3 (build 1.84.0) and reports the dashboard loads faster.",
    "Follow up next Tuesday with procurement about invoice INV-2024-000123 and the PO.",
    "Opportunity stage changed from Negotiation to Closed Won; forecast category is Commit.",
    "Support ticket 1234567812345678 was merged into the parent case by the on-call agent.",
    "They asked for a summary of open issues, contract terms and the delivery schedule.",
    "Meeting notes: onboarding, training sessions at 10:30 and the integration timeline.",
    "Please draft a polite reply thanking them for the feedback on the new release.",
    "Usage grew 12.5% quarter over quarter; churn risk is low according to the health score.",
    "The legal team reviewed the MSA redlines and sent comments back on 2023/11/05.",
];

/// Sentences with planted findings of the default rules, and how many each has.
pub const PLANTED: &[(&str, usize)] = &[
    (
        "Please email jane.doe@example.com with the summary before Friday.",
        1,
    ),
    (
        "Her direct line is (415) 555-0132 until the end of the month.",
        1,
    ),
    (
        "PRIVILEGED & CONFIDENTIAL: memo prepared at the direction of counsel.",
        2,
    ),
    (
        "The refund to card 4111 1111 1111 1111 was approved by finance.",
        1,
    ),
];

#[path = "../../gateway/core/src/rules/tests/matter_names.rs"]
mod names;
// Each bench uses only part of this module.
#[allow(unused_imports)]
pub use names::matter_names;

/// Prose of at least `len` bytes, as sentences: clean ones with one planted sentence every
/// twelve (about 1 KB) and, every fourth planting, a matter name. Returns the sentences, the
/// findings the default rules must report, and the extra findings of the dictionary rule.
pub fn sentences(len: usize, names: &[String]) -> (Vec<String>, usize, usize) {
    let mut out = Vec::new();
    let (mut total, mut defaults, mut matters) = (0, 0, 0);
    let mut i = 0usize;
    while total < len {
        let s = if i % 12 == 11 {
            let k = i / 12;
            let (sentence, n) = PLANTED[k % PLANTED.len()];
            defaults += n;
            if k % 4 == 3 {
                matters += 1;
                let name = &names[(k * 7919) % names.len()];
                format!("{sentence} Update on matter {name}: discovery closes soon.")
            } else {
                sentence.to_string()
            }
        } else {
            CLEAN[(i * 7) % CLEAN.len()].to_string()
        };
        total += s.len() + 1;
        out.push(s);
        i += 1;
    }
    (out, defaults, matters)
}

/// [`sentences`] joined into one text.
pub fn corpus(len: usize, names: &[String]) -> (String, usize, usize) {
    let (s, d, m) = sentences(len, names);
    let mut text = s.join(" ");
    text.push(' ');
    (text, d, m)
}

/// An OpenAI chat request of about `len` bytes: a system prompt, then user and assistant turns
/// of about 1 KB of [`sentences`] each (a long CRM conversation). Returns the body and the
/// findings of the default rules and of the dictionary rule, as for [`sentences`].
pub fn chat_body(len: usize, names: &[String]) -> (Vec<u8>, usize, usize) {
    // The JSON framing adds a little to the prose; aim the prose slightly short of `len`.
    let (sents, d, m) = sentences(len - len / 32, names);
    let mut messages = vec![serde_json::json!({
        "role": "system",
        "content": "You are the account team's assistant. Answer from the conversation only."
    })];
    let mut turn = String::new();
    for s in sents {
        turn.push_str(&s);
        turn.push(' ');
        if turn.len() >= 1024 {
            let role = if messages.len() % 2 == 1 {
                "user"
            } else {
                "assistant"
            };
            messages.push(serde_json::json!({"role": role, "content": std::mem::take(&mut turn)}));
        }
    }
    if !turn.is_empty() {
        messages.push(serde_json::json!({"role": "user", "content": turn}));
    }
    let body = serde_json::json!({"model": "gpt-4o", "messages": messages, "temperature": 0.2});
    (body.to_string().into_bytes(), d, m)
}

/// A rule file with one case-insensitive literal rule over `names` (pseudonymized matters).
pub fn dictionary_source(names: &[String]) -> RuleSource {
    let mut toml = String::with_capacity(names.len() * 32 + 256);
    toml.push_str(
        "[[rule]]\nid = \"matters.names\"\nkind = \"literal\"\ncase_insensitive = true\n\
         action = \"pseudonymize\"\nclass = \"privileged\"\nplaceholder = \"MATTER\"\npatterns = [\n",
    );
    for name in names {
        toml.push_str("  \"");
        toml.push_str(name);
        toml.push_str("\",\n");
    }
    toml.push_str("]\n");
    RuleSource {
        name: "matters.toml".into(),
        text: toml,
        base_dir: None,
    }
}

/// The default rule packs plus a dictionary rule over `names`.
pub fn with_dictionary(names: &[String]) -> Result<RuleSet, RuleErrors> {
    let mut sources = embedded_sources();
    sources.push(dictionary_source(names));
    compile(&sources)
}
