//! Transparency: a request no rule fires on reaches the upstream byte-identical.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::*;

#[tokio::test]
async fn benign_request_reaches_external_byte_identical() {
    std::env::set_var("SOVGATE_TEST_PROVIDER_KEY", "sk-provider-from-sovgate");
    let h = Harness::start().await;
    // Odd but valid formatting that a re-serializing proxy would destroy.
    let body = "{ \"model\" : \"gpt-4o\",\n  \"temperature\": 0.70, \"top_p\": 1e-5,\n  \"messages\": [{\"role\":\"user\",\"content\":\"caf\\u00e9 \\\"quoted\\\" \\/ plan Q3\"}] }";
    let (status, _, answer) = post(
        &format!("{}/v1/chat/completions", h.url()),
        bytes::Bytes::from(body),
        &[("authorization", "Bearer client-own-key")],
        false,
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    assert_eq!(h.local.calls(), 0);
    let got = h.external.requests();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body, body.as_bytes(), "body changed in transit");
    let auth: Vec<&str> = got[0]
        .headers
        .iter()
        .filter(|(k, _)| k == "authorization")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(
        auth,
        vec!["Bearer sk-provider-from-sovgate"],
        "client credential replaced by the provider key"
    );
}

#[tokio::test]
async fn answer_is_relayed_unchanged() {
    let h = Harness::start().await;
    let (status, headers, answer) = h.post("/v1/chat/completions", chat("hello there")).await;
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_slice(&answer).unwrap();
    assert!(v["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .contains("hello there"));
    assert!(headers.contains_key("x-sovgate-request-id"));
}
