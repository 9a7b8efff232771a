//! Leak tests: what the external provider stand-in received, and that privileged work never
//! reached it at all.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::*;
use serde_json::{json, Value};

#[tokio::test]
async fn privileged_field_goes_local_stripped_and_never_external() {
    let h = Harness::start().await;
    let record = json!({"Id": "500x", "Subject": "Dispute", "legal_case_strategy__c": "Settle below 2M; argue laches."});
    let body =
        json!({"model": "gpt-4o", "messages": [{"role": "user", "content": record.to_string()}]})
            .to_string();
    let (status, _, answer) = h.post("/v1/chat/completions", body).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    assert_eq!(
        h.external.calls(),
        0,
        "privileged request reached the external provider"
    );
    let got = h.local.requests();
    assert_eq!(got.len(), 1);
    let sent = String::from_utf8_lossy(&got[0].body);
    assert!(
        !sent.contains("legal_case_strategy__c") && !sent.contains("laches"),
        "{sent}"
    );
    assert!(
        sent.contains("Dispute"),
        "the rest of the record still arrives: {sent}"
    );
    let v: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(
        v["model"], "llama-3.1-70b-instruct",
        "model mapped to the pool's model"
    );
}

#[tokio::test]
async fn privilege_marker_routes_local_even_without_fields() {
    let h = Harness::start().await;
    let (status, _, _) = h
        .post(
            "/v1/chat/completions",
            chat("PRIVILEGED & CONFIDENTIAL: summarize the deposition"),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(h.external.calls(), 0);
    assert_eq!(h.local.calls(), 1);
}

#[tokio::test]
async fn confidential_pii_stays_local_with_pseudonyms() {
    let h = Harness::start().await;
    let (status, _, _) = h
        .post(
            "/v1/chat/completions",
            chat("Email jane.doe@example.com about SSN 123-45-6789"),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(h.external.calls(), 0);
    let reqs = h.local.requests();
    let sent = reqs[0].body_str();
    assert!(!sent.contains("jane.doe@example.com"), "{sent}");
    assert!(!sent.contains("123-45-6789"), "{sent}");
}

#[tokio::test]
async fn no_local_pool_for_privileged_model_is_refused_not_sent_external() {
    let h = Harness::start().await;
    let body = json!({"model": "o3-pro", "messages": [{"role": "user", "content": "attorney work product: strategy memo"}]}).to_string();
    let (status, _, answer) = h.post("/v1/chat/completions", body).await;
    assert_eq!(status, 503, "{}", String::from_utf8_lossy(&answer));
    let v: Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(v["error"]["code"], "no_local_pool");
    assert_eq!(h.external.calls(), 0);
    assert_eq!(h.local.calls(), 0);
}

#[tokio::test]
async fn blocked_rule_refuses_and_nothing_leaves() {
    let h = Harness::start().await;
    let (status, headers, answer) = h
        .post(
            "/v1/chat/completions",
            chat(
                "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----",
            ),
        )
        .await;
    assert_eq!(status, 403, "{}", String::from_utf8_lossy(&answer));
    assert_eq!(headers["x-sovgate-error"], "policy_blocked");
    assert_eq!(h.external.calls() + h.local.calls(), 0);
    let audit = h.audit_lines();
    let last = audit.last().unwrap();
    assert_eq!(last["action"], "refuse");
    assert!(
        !last.to_string().contains("MIIEpAIBAAKCAQEA7"),
        "audit must not contain the secret"
    );
}

#[tokio::test]
async fn audit_records_decision_and_completion_without_secrets() {
    let h = Harness::start().await;
    let (status, _, _) = h
        .post(
            "/v1/chat/completions",
            chat("call 555-867-5309 or mail jane.doe@example.com"),
        )
        .await;
    assert_eq!(status, 200);
    // Completion is written when the response body ends; give the relay a moment.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let lines = h.audit_lines();
    let decision = lines.iter().find(|l| l["event"] == "decision").unwrap();
    assert_eq!(decision["destination"]["kind"], "local");
    assert_eq!(decision["classification"], "confidential");
    assert!(decision["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["path"] == "$.messages[0].content"));
    let complete = lines.iter().find(|l| l["event"] == "complete").unwrap();
    assert_eq!(complete["status"], 200);
    assert!(complete["bytes_out"].as_u64().unwrap() > 0);
    let all = std::fs::read_to_string(h.dir.path().join("audit.jsonl")).unwrap();
    assert!(
        !all.contains("jane.doe") && !all.contains("867-5309"),
        "{all}"
    );
    let report = sovgate::audit::verify_file(&h.dir.path().join("audit.jsonl")).unwrap();
    assert_eq!(report.records, lines.len() as u64);
}
