//! Values that are not plain strings: numbers, booleans and object keys, through the gateway.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::{config, decoded, rules_dir};
use crate::support::*;

#[tokio::test]
async fn a_card_sent_as_a_number_is_replaced_and_its_benign_twin_is_untouched() {
    let rules = rules_dir();
    let h = Harness::with_config(&config(rules.path(), true)).await;
    let dirty = r#"{"model":"gpt-4o","messages":[{"role":"user","content":"bill it"}],"metadata":{"card":4111111111111111,"vip":true}}"#;
    let (status, _, _) = h.post("/v1/chat/completions", dirty).await;
    assert_eq!(status, 200);
    let got = h.external.requests();
    assert_eq!(
        String::from_utf8_lossy(&got[0].body),
        r#"{"model":"gpt-4o","messages":[{"role":"user","content":"bill it"}],"metadata":{"card":"[REDACTED:pii.payment-card]","vip":true}}"#
    );
    let benign = r#"{"model":"gpt-4o","messages":[{"role":"user","content":"bill it"}],"metadata":{"card":1111,"vip":true}}"#;
    h.post("/v1/chat/completions", benign).await;
    assert_eq!(
        String::from_utf8_lossy(&h.external.requests()[1].body),
        benign
    );
}

#[tokio::test]
async fn a_key_holding_a_finding_is_masked_in_the_audit_log() {
    let rules = rules_dir();
    let local = Harness::with_config(&config(rules.path(), false)).await;
    let body = r#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"metadata":{"jane.doe@example.com":"vip"}}"#;
    let (status, _, _) = local.post("/v1/chat/completions", body).await;
    assert_eq!(status, 200);
    assert_eq!(local.external.calls(), 0, "confidential work stayed local");
    let sent = decoded(&local.local.requests()[0].body);
    assert!(!sent.contains("janedoeexamplecom"), "{sent}");
    let audit = local.audit_lines();
    let text = audit
        .iter()
        .map(|l| l.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(text.contains("$.metadata[<key#1>]"), "{text}");
    assert!(
        !text.contains("jane"),
        "the audit log holds matched text: {text}"
    );
}
