//! The body-size matrix: bodies around pingora's 64 KiB replay limit and far beyond, over HTTP/1.1
//! and HTTP/2, with and without a rule firing. The upstream must get exactly the transformed
//! bytes, with framing that matches them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::*;
use bytes::Bytes;
use sovgate::stub::{Reply, StubConfig};
use sovgate_core::transform::transform;
use sovgate_core::types::{DestinationKind, Direction};
use sovgate_core::vault::Vault;

const SIZES: [usize; 5] = [1 << 10, 63 << 10, 65 << 10, 4 << 20, 32 << 20];

/// A chat body of exactly `size` bytes; with `secret`, an SSN sits at the very end of the text.
fn body_of(size: usize, secret: bool) -> Vec<u8> {
    let head = r#"{"model":"gpt-4o","messages":[{"role":"user","content":""#;
    let tail_text = if secret {
        " ssn 123-45-6789"
    } else {
        " the end"
    };
    let tail = r#""}]}"#;
    let fill = size - head.len() - tail_text.len() - tail.len();
    let mut s = String::with_capacity(size);
    s.push_str(head);
    let words = "quarterly revenue grew in the northern region while costs held steady ";
    while s.len() < head.len() + fill {
        let left = head.len() + fill - s.len();
        s.push_str(&words[..left.min(words.len())]);
    }
    s.push_str(tail_text);
    s.push_str(tail);
    assert_eq!(s.len(), size);
    s.into_bytes()
}

async fn harness() -> Harness {
    let fixed = |name: &str| StubConfig {
        name: name.into(),
        reply: Reply::Fixed("ok".into()),
        ..StubConfig::default()
    };
    let local = sovgate::stub::start(fixed("local"), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let external = sovgate::stub::start(fixed("external"), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    Harness::with_stubs(CONFIG, local, external).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_size_arrives_exactly_over_h1_and_h2() {
    let h = harness().await;
    let rules = sovgate_core::rules::default_rule_set().unwrap();
    for h2 in [false, true] {
        for size in SIZES {
            for secret in [false, true] {
                let body = body_of(size, secret);
                let before_local = h.local.calls();
                let before_ext = h.external.calls();
                let (status, _, answer) = post(
                    &format!("{}/v1/chat/completions", h.url()),
                    Bytes::from(body.clone()),
                    &[],
                    h2,
                )
                .await;
                let what = format!("size={size} h2={h2} secret={secret}");
                assert_eq!(
                    status,
                    200,
                    "{what}: {}",
                    String::from_utf8_lossy(&answer[..answer.len().min(300)])
                );
                let (got, expected) = if secret {
                    assert_eq!(h.external.calls(), before_ext, "{what}: went external");
                    let mut expected = transform(
                        &body,
                        &rules,
                        Direction::Request,
                        DestinationKind::Local,
                        &mut Vault::new(),
                    )
                    .unwrap()
                    .body
                    .expect("a rule fired");
                    expected = sovgate_core::transform::set_top_level_string(
                        &expected,
                        "model",
                        "llama-3.1-70b-instruct",
                    )
                    .unwrap();
                    (h.local.requests()[before_local].clone(), expected)
                } else {
                    assert_eq!(h.local.calls(), before_local, "{what}: went local");
                    (h.external.requests()[before_ext].clone(), body.clone())
                };
                assert_eq!(got.body.len(), expected.len(), "{what}: length");
                assert!(got.body == expected, "{what}: bytes differ");
                let cl = got
                    .headers
                    .iter()
                    .find(|(k, _)| k == "content-length")
                    .map(|(_, v)| v.clone());
                assert_eq!(cl, Some(expected.len().to_string()), "{what}: framing");
                assert!(
                    !String::from_utf8_lossy(&got.body[got.body.len().saturating_sub(64)..])
                        .contains("6789"),
                    "{what}: secret left"
                );
            }
        }
        h.local.clear();
        h.external.clear();
    }
}

#[tokio::test]
async fn over_the_limit_is_413_in_the_clients_shape() {
    let h = harness().await;
    let body = body_of((32 << 20) + 1, false);
    let (status, headers, answer) = post(
        &format!("{}/v1/messages", h.url()),
        Bytes::from(body),
        &[],
        false,
    )
    .await;
    assert_eq!(status, 413);
    assert_eq!(headers["x-sovgate-error"], "body_too_large");
    let v: serde_json::Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "request_too_large");
    assert_eq!(h.local.calls() + h.external.calls(), 0);
}
