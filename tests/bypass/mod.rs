//! The bypass corpus through a real gateway on loopback: every technique of `corpus.toml` in every
//! placement below (every role and field of every supported API). For each case:
//!
//! - with the default policy (privileged and confidential work stays local), the external
//!   provider stand-in receives no call at all;
//! - with a policy that lets everything go external once transformed (and a legend rule with
//!   `extent = "value"`), the external stand-in receives the request without the marker, checked
//!   on every decoded string of what it received;
//! - the benign twin arrives at the external stand-in byte-identical.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod scalars;

use crate::support::*;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
struct Corpus {
    technique: Vec<Technique>,
}

#[derive(Deserialize)]
struct Technique {
    name: String,
    text: String,
    benign: String,
    marker: String,
}

fn corpus() -> Vec<Technique> {
    let c: Corpus = toml::from_str(include_str!("corpus.toml")).unwrap();
    c.technique
}

/// Where a text goes in a request: (name, API path, body).
type Placement = (&'static str, &'static str, fn(&str) -> Value);

const PLACEMENTS: &[Placement] = &[
    (
        "openai-user",
        "/v1/chat/completions",
        |t| json!({"model": "gpt-4o", "messages": [{"role": "user", "content": t}]}),
    ),
    (
        "openai-system",
        "/v1/chat/completions",
        |t| json!({"model": "gpt-4o", "messages": [{"role": "system", "content": t}, {"role": "user", "content": "hi"}]}),
    ),
    (
        "openai-developer-parts",
        "/v1/chat/completions",
        |t| json!({"model": "gpt-4o", "messages": [{"role": "developer", "content": [{"type": "text", "text": t}]}, {"role": "user", "content": "hi"}]}),
    ),
    (
        "openai-earlier-turn",
        "/v1/chat/completions",
        |t| json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "case?"}, {"role": "assistant", "content": t}, {"role": "user", "content": "go on"}]}),
    ),
    (
        "openai-tool-result",
        "/v1/chat/completions",
        |t| json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "look up"}, {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "crm", "arguments": "{}"}}]}, {"role": "tool", "tool_call_id": "c1", "content": t}]}),
    ),
    (
        "openai-tool-definition",
        "/v1/chat/completions",
        |t| json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "function", "function": {"name": "crm", "description": t, "parameters": {"type": "object"}}}]}),
    ),
    (
        "openai-predicted-output",
        "/v1/chat/completions",
        |t| json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "edit"}], "prediction": {"type": "content", "content": t}}),
    ),
    (
        "responses-input",
        "/v1/responses",
        |t| json!({"model": "gpt-4o", "instructions": "be brief", "input": [{"role": "user", "content": [{"type": "input_text", "text": t}]}]}),
    ),
    (
        "embeddings-input",
        "/v1/embeddings",
        |t| json!({"model": "text-embedding-3-small", "input": ["first", t]}),
    ),
    (
        "anthropic-system-blocks",
        "/v1/messages",
        |t| json!({"model": "claude-3-5-sonnet", "max_tokens": 16, "system": [{"type": "text", "text": t}], "messages": [{"role": "user", "content": "hi"}]}),
    ),
    (
        "anthropic-text-document",
        "/v1/messages",
        |t| json!({"model": "claude-3-5-sonnet", "max_tokens": 16, "messages": [{"role": "user", "content": [{"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": t}}, {"type": "text", "text": "summarize"}]}]}),
    ),
    (
        "gemini-system-instruction",
        "/v1beta/models/gemini-1.5-pro:generateContent",
        |t| json!({"systemInstruction": {"parts": [{"text": t}]}, "contents": [{"role": "user", "parts": [{"text": "hi"}]}]}),
    ),
];

const GEMINI: &str = r#"
[[providers]]
name = "gemini"
api = "gemini"
hosts = ["generativelanguage.googleapis.com"]
upstream = "{EXTERNAL}"
region = "US"
"#;

/// A legend rule for deployments that let privileged work go external once redacted: the
/// legend marks the whole document it heads.
const LEGEND_RULE: &str = r#"
[[rule]]
id = "legal.legend-document"
kind = "literal"
case_insensitive = true
patterns = ["privileged & confidential", "attorney-client privileged", "attorney work product"]
action = "redact"
extent = "value"
class = "privileged"
"#;

/// The default test config plus a Gemini provider and the legend rule; `external` lets every
/// class go to the external provider.
pub(crate) fn config(rules_dir: &std::path::Path, external: bool) -> String {
    let mut text = CONFIG.replace(
        "[rules]\nembedded = true",
        &format!(
            "[rules]\nembedded = true\ndirs = [{:?}]",
            rules_dir.display().to_string()
        ),
    );
    assert!(text.contains("dirs = ["), "the rules section moved");
    if external {
        let local = "privileged = \"local\"\nconfidential = \"local\"";
        assert!(text.contains(local), "the policy section moved");
        text = text.replace(
            local,
            "privileged = \"residency\"\nconfidential = \"residency\"",
        );
    }
    text + GEMINI
}

pub(crate) fn rules_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("legend.toml"), LEGEND_RULE).unwrap();
    dir
}

/// Every string and key of a JSON body, recursing into strings that hold JSON, folded to
/// lowercase alphanumerics so that escapes, spacing and case cannot hide the marker.
pub(crate) fn decoded(bytes: &[u8]) -> String {
    fn collect(v: &Value, out: &mut String) {
        match v {
            Value::String(s) => {
                if let Ok(inner) = serde_json::from_str::<Value>(s) {
                    collect(&inner, out);
                }
                out.push_str(s);
            }
            Value::Array(a) => a.iter().for_each(|x| collect(x, out)),
            Value::Object(m) => m.iter().for_each(|(k, x)| {
                out.push_str(k);
                collect(x, out);
            }),
            other => out.push_str(&other.to_string()),
        }
    }
    let mut s = String::from_utf8_lossy(bytes).into_owned();
    if let Ok(v) = serde_json::from_slice::<Value>(bytes) {
        collect(&v, &mut s);
    }
    fold(&s)
}

pub(crate) fn fold(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

#[tokio::test]
async fn every_technique_in_every_placement_never_reaches_the_external_provider() {
    let rules = rules_dir();
    let local = Harness::with_config(&config(rules.path(), false)).await;
    let external = Harness::with_config(&config(rules.path(), true)).await;
    let techniques = corpus();
    let mut cases = 0;
    for t in &techniques {
        let marker = fold(&t.marker);
        for (place, path, build) in PLACEMENTS {
            let case = format!("{} in {place}", t.name);
            let dirty = build(&t.text).to_string();

            // Default policy: privileged and confidential work never goes out at all.
            let before = local.external.calls();
            let (status, _, answer) = local.post(path, dirty.clone()).await;
            assert_eq!(
                local.external.calls(),
                before,
                "{case}: reached the external provider (status {status}: {})",
                String::from_utf8_lossy(&answer)
            );

            // Everything may go external: the marker must have been removed on the way.
            let before = external.external.calls();
            let (status, _, answer) = external.post(path, dirty).await;
            assert_eq!(status, 200, "{case}: {}", String::from_utf8_lossy(&answer));
            let got = external.external.requests();
            assert_eq!(got.len(), before + 1, "{case}: not forwarded once");
            let seen = decoded(&got[before].body);
            assert!(
                !seen.contains(&marker),
                "{case}: the marker reached the external provider: {}",
                String::from_utf8_lossy(&got[before].body)
            );

            // The benign twin leaves untouched.
            let benign = build(&t.benign).to_string();
            let (status, _, answer) = external.post(path, benign.clone()).await;
            assert_eq!(
                status,
                200,
                "{case} (benign): {}",
                String::from_utf8_lossy(&answer)
            );
            let got = external.external.requests();
            assert_eq!(got.len(), before + 2, "{case} (benign): not forwarded once");
            assert_eq!(
                String::from_utf8_lossy(&got[before + 1].body),
                benign,
                "{case}: the benign twin was changed"
            );
            cases += 1;
        }
    }
    assert!(cases >= 100, "the corpus shrank to {cases} cases");
    for line in local
        .audit_lines()
        .iter()
        .chain(external.audit_lines().iter())
    {
        let text = fold(&line.to_string());
        for t in &techniques {
            assert!(
                !text.contains(&fold(&t.marker)),
                "the audit log holds matched text: {line}"
            );
        }
    }
}
