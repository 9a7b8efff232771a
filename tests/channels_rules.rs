//! The head's channels under a deployment's own rules: `applies_to = "external"` removes a header
//! only on the way out of the company, and a custom `block` rule refuses from a header.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::*;
use bytes::Bytes;

const RULES: &str = r#"
[[rule]]
id = "t.project"
kind = "literal"
patterns = ["Nightingale"]
action = "redact"
class = "internal"
applies_to = "external"
examples.match = ["Project Nightingale"]

[[rule]]
id = "t.halt"
kind = "literal"
patterns = ["HALT-7731"]
action = "block"
class = "internal"
examples.match = ["code HALT-7731"]
"#;

async fn harness(dir: &std::path::Path) -> Harness {
    std::fs::write(dir.join("t.toml"), RULES).unwrap();
    let text = CONFIG.replace(
        "[rules]\nembedded = true",
        &format!("[rules]\nembedded = true\ndirs = [\"{}\"]", dir.display()),
    );
    Harness::with_config(&text).await
}

async fn send(h: &Harness, content: &str, headers: &[(&str, &str)]) -> u16 {
    let url = format!("{}/v1/chat/completions", h.url());
    post(&url, Bytes::from(chat(content)), headers, false)
        .await
        .0
}

#[tokio::test]
async fn external_only_rule_removes_the_header_only_on_external_routes() {
    let rules = tempfile::tempdir().unwrap();
    let h = harness(rules.path()).await;
    let hdr = [("x-project", "Nightingale launch"), ("x-team", "sales")];
    // Internal work goes out: the header does not.
    assert_eq!(send(&h, "plan the launch", &hdr).await, 200);
    let out = h.external.requests();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].header("x-project"), None);
    assert_eq!(out[0].header("x-team"), Some("sales"));
    // Privileged work stays in the company, where the rule does not act: the header arrives.
    assert_eq!(send(&h, "PRIVILEGED & CONFIDENTIAL: plan", &hdr).await, 200);
    let local = h.local.requests();
    assert_eq!(local.len(), 1);
    assert_eq!(local[0].header("x-project"), Some("Nightingale launch"));
    assert_eq!(h.external.calls(), 1);
    let audit = std::fs::read_to_string(h.dir.path().join("audit.jsonl")).unwrap();
    assert!(audit.contains("$header[\\\"x-project\\\"]"), "{audit}");
    assert!(!audit.contains("Nightingale"), "{audit}");
}

#[tokio::test]
async fn custom_block_rule_in_a_header_refuses() {
    let rules = tempfile::tempdir().unwrap();
    let h = harness(rules.path()).await;
    assert_eq!(send(&h, "hello", &[("x-flag", "HALT-7731")]).await, 403);
    assert_eq!(h.external.calls() + h.local.calls(), 0);
    // The same header with another value is forwarded as sent.
    assert_eq!(send(&h, "hello", &[("x-flag", "HALT-0000")]).await, 200);
    assert_eq!(h.external.requests()[0].header("x-flag"), Some("HALT-0000"));
    let audit = std::fs::read_to_string(h.dir.path().join("audit.jsonl")).unwrap();
    assert!(!audit.contains("7731"), "{audit}");
}
