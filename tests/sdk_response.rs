#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The official `openai` and `anthropic` SDKs read streamed answers whose pseudonyms the gateway
//! restored and whose model output response rules redacted or blocked, while the stub behind the
//! gateway sends each answer one byte per network frame (`tests/python/response_path.py`).

use crate::response_rules::{bytewise, harness};
use crate::sdk::sdk;

const CLIENT_TEXT: &str =
    "[local] Reply to jane.doe@example.com about [REDACTED:out.falcon] kindly";

#[tokio::test]
async fn sdks_read_restored_and_redacted_streams_to_their_end() {
    let dir = tempfile::tempdir().unwrap();
    let h = harness(dir.path(), bytewise()).await;
    let out = sdk(&h, "response_path.py", &["restore"]).await;
    for api in ["chat", "responses", "anthropic"] {
        assert_eq!(out[api]["text"], CLIENT_TEXT, "{api}: {out}");
    }
    assert_eq!(out["chat"]["finish"], "stop");
    assert_eq!(out["chat"]["done"], true);
    assert_eq!(out["responses"]["final"], CLIENT_TEXT);
    assert_eq!(out["anthropic"]["stop"], "end_turn");
    assert_eq!(out["anthropic"]["message_stop"], true);
    let seen = h.local.requests();
    assert_eq!(seen.len(), 3);
    for r in &seen {
        let body = r.body_str();
        assert!(
            body.contains("⟦EMAIL_1⟧") && !body.contains("jane.doe"),
            "{body}"
        );
    }
    assert_eq!(h.external.calls(), 0);
}

#[tokio::test]
async fn sdks_surface_a_blocked_stream_as_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let h = harness(dir.path(), bytewise()).await;
    let out = sdk(&h, "response_path.py", &["block"]).await;
    assert_eq!(out["chat"]["error"]["class"], "APIError", "{out}");
    assert_eq!(out["responses"]["error"]["code"], "output_blocked", "{out}");
    assert!(out["anthropic"]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("out.secret"));
    assert!(!out.to_string().contains("TOPSECRET"));
    let blocked = h
        .audit_lines()
        .iter()
        .filter(|l| l["event"] == "complete" && l["output_blocked"] == "out.secret")
        .count();
    assert_eq!(blocked, 3);
    assert_eq!(h.external.calls(), 0);
}
