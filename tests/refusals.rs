//! Bad input: refused in the client API's shape, audited, never forwarded.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::*;
use bytes::Bytes;
use serde_json::Value;
use std::io::Write;

#[tokio::test]
async fn malformed_json_and_strictness_refusals() {
    let h = Harness::start().await;
    for (body, why) in [
        (&b"{\"model\":\"gpt-4o\",\"messages\":["[..], "truncated"),
        (
            b"{\"model\":\"a\",\"model\":\"b\",\"messages\":[]}",
            "duplicate key",
        ),
        (
            b"{\"messages\":[{\"content\":\"\\ud800\"}]}",
            "lone surrogate",
        ),
        (b"{\"messages\":[]} trailing", "trailing data"),
        (b"{\"messages\":[] /* c */}", "comment"),
        (b"{\"messages\":[{\"content\":\"\xff\"}]}", "invalid utf-8"),
    ] {
        let (status, headers, answer) = h
            .post("/v1/chat/completions", Bytes::from_static(body))
            .await;
        assert_eq!(status, 400, "{why}: {}", String::from_utf8_lossy(&answer));
        assert_eq!(headers["x-sovgate-error"], "invalid_json", "{why}");
        let v: Value = serde_json::from_slice(&answer).unwrap();
        assert_eq!(v["error"]["type"], "invalid_request_error", "{why}");
    }
    let deep = format!("{{\"messages\":{}{}}}", "[".repeat(70), "]".repeat(70));
    let (status, _, _) = h.post("/v1/chat/completions", deep).await;
    assert_eq!(status, 400, "depth over 64");
    assert_eq!(h.local.calls() + h.external.calls(), 0);
    let refusals = h
        .audit_lines()
        .iter()
        .filter(|l| l["action"] == "refuse")
        .count();
    assert_eq!(refusals, 7, "every refusal is audited");
}

#[tokio::test]
async fn anthropic_clients_get_anthropic_errors() {
    let h = Harness::start().await;
    let (status, _, answer) = h
        .post("/v1/messages", Bytes::from_static(b"{not json"))
        .await;
    assert_eq!(status, 400);
    let v: Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "invalid_request_error");
}

#[tokio::test]
async fn unknown_endpoints_are_refused() {
    let h = Harness::start().await;
    let (status, _, answer) = h.post("/v1/files", Bytes::from_static(b"{}")).await;
    assert_eq!(status, 404, "{}", String::from_utf8_lossy(&answer));
    let (status, _, _) = h
        .post("/v1/fine_tuning/jobs", Bytes::from_static(b"{}"))
        .await;
    assert_eq!(status, 404);
    assert_eq!(h.local.calls() + h.external.calls(), 0);
}

#[tokio::test]
async fn compressed_bodies_are_inspected_and_bad_encodings_refused() {
    let h = Harness::start().await;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(chat("ssn 123-45-6789 please").as_bytes())
        .unwrap();
    let url = format!("{}/v1/chat/completions", h.url());
    let (status, _, _) = post(
        &url,
        Bytes::from(gz.finish().unwrap()),
        &[("content-encoding", "gzip")],
        false,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        h.external.calls(),
        0,
        "confidential content hidden in gzip still stays local"
    );
    let sent = h.local.requests()[0].clone();
    assert!(!sent.body_str().contains("6789"), "{}", sent.body_str());
    assert!(
        sent.headers.iter().all(|(k, _)| k != "content-encoding"),
        "forwarded decoded"
    );
    let (status, _, _) = post(
        &url,
        Bytes::from_static(b"\x1f\x8b garbage"),
        &[("content-encoding", "gzip")],
        false,
    )
    .await;
    assert_eq!(status, 400);
    let (status, _, _) = post(
        &url,
        Bytes::from_static(b"{}"),
        &[("content-encoding", "compress")],
        false,
    )
    .await;
    assert_eq!(status, 415);
    assert_eq!(h.local.calls(), 1);
}

#[tokio::test]
async fn ambiguous_framing_is_refused() {
    let h = Harness::start().await;
    let addr = h.gw.reverse.unwrap();
    let body = chat("hello");
    let both = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
        body.len(),
        body.len()
    );
    let resp = raw_http(addr, both.as_bytes()).await;
    assert!(resp.starts_with("HTTP/1.1 400"), "{resp}");
    assert!(resp.contains("ambiguous_framing"), "{resp}");
    let dup = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: {0}\r\nContent-Length: {0}\r\n\r\n{body}",
        body.len()
    );
    let resp = raw_http(addr, dup.as_bytes()).await;
    assert!(resp.starts_with("HTTP/1.1 400"), "{resp}");
    let folded = format!("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\nContent-Length: {}\r\n\r\n{body}", body.len());
    let resp = raw_http(addr, folded.as_bytes()).await;
    assert!(resp.starts_with("HTTP/1.1 400"), "{resp}");
    let clean = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let resp = raw_http(addr, clean.as_bytes()).await;
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert_eq!(h.local.calls() + h.external.calls(), 1);
}

#[tokio::test]
async fn tenants_need_their_key_off_loopback_and_keys_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let hash = hex::encode(sovgate::config::hash_key("sk-sovgate-legal"));
    std::fs::write(dir.path().join("legal.keys"), format!("sha256:{hash}\n")).unwrap();
    let config = CONFIG.replace(
        "[audit]",
        &format!(
            "[[tenants]]\nname = \"legal\"\nkeys_file = \"{}\"\n\n[audit]",
            dir.path().join("legal.keys").display()
        ),
    );
    let h = Harness::with_config(&config).await;
    let url = format!("{}/v1/chat/completions", h.url());
    let (status, _, answer) = post(
        &url,
        Bytes::from(chat("hi")),
        &[("authorization", "Bearer wrong")],
        false,
    )
    .await;
    assert_eq!(status, 401, "{}", String::from_utf8_lossy(&answer));
    let (status, _, _) = post(
        &url,
        Bytes::from(chat("hi")),
        &[("authorization", "Bearer sk-sovgate-legal")],
        false,
    )
    .await;
    assert_eq!(status, 200);
    let got = h.external.requests();
    assert!(
        got[0]
            .headers
            .iter()
            .all(|(_, v)| !v.contains("sk-sovgate-legal")),
        "tenant key never forwarded"
    );
    let lines = h.audit_lines();
    assert!(lines.iter().any(|l| l["tenant"] == "legal"));
}

#[tokio::test]
async fn admin_endpoints() {
    let h = Harness::start().await;
    let (s, b) = get(&format!("{}/healthz", h.admin_url())).await;
    assert_eq!((s, &b[..]), (200, &b"ok\n"[..]));
    let (s, _) = get(&format!("{}/readyz", h.admin_url())).await;
    assert_eq!(s, 200);
    h.post("/v1/chat/completions", chat("hello")).await;
    let (s, m) = get(&format!("{}/metrics", h.admin_url())).await;
    assert_eq!(s, 200);
    let m = String::from_utf8_lossy(&m);
    assert!(m.contains("# TYPE sovgate_requests_total counter"), "{m}");
    assert!(m.contains("sovgate_requests_total{"), "{m}");
}
