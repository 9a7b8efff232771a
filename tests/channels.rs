//! Channels other than the body: headers, the query string and the path carry findings too.
//! Each case asserts what the upstream stand-ins actually received, next to a benign twin that
//! must arrive untouched.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::*;
use bytes::Bytes;
use serde_json::Value;

/// The default config with confidential work allowed out (so removals are seen at the external
/// stand-in, body and all) and an Azure resource, whose `api-version` query must survive.
fn config() -> String {
    CONFIG.replace("confidential = \"local\"", "confidential = \"residency\"")
        + r#"
[[providers]]
name = "azure"
api = "azure_openai"
hosts = ["corp.openai.azure.com"]
upstream = "{EXTERNAL}"
region = "US"
key_env = "SOVGATE_TEST_PROVIDER_KEY"
"#
}

/// Odd but valid JSON formatting that re-serialization would change.
const BODY: &str = "{ \"model\" : \"gpt-4o\",\n \"messages\": [{\"role\":\"user\",\"content\":\"plan Q3 \\u00e9\"}] }";

async fn send(
    h: &Harness,
    path_and_query: &str,
    headers: &[(&str, &str)],
) -> (u16, http::HeaderMap, Bytes) {
    post(
        &format!("{}{path_and_query}", h.url()),
        Bytes::from(BODY),
        headers,
        false,
    )
    .await
}

fn without(headers: &[(String, String)], name: &str) -> Vec<(String, String)> {
    headers.iter().filter(|(n, _)| n != name).cloned().collect()
}

fn audit_text(h: &Harness) -> String {
    std::fs::read_to_string(h.dir.path().join("audit.jsonl")).unwrap()
}

fn finding_paths(h: &Harness) -> Vec<(String, String)> {
    let lines = h.audit_lines();
    let rec = lines.iter().find(|l| l["event"] == "decision").unwrap();
    rec["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["path"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn header_with_pii_is_removed_and_the_rest_arrives_byte_identical() {
    std::env::set_var("SOVGATE_TEST_PROVIDER_KEY", "sk-provider-from-sovgate");
    let h = Harness::with_config(&config()).await;
    // The finding first, then its benign twin, through the same gateway to the same stand-in.
    for note in [
        "call jane.doe@example.com re SSN 123-45-6789",
        "renewal call went well",
    ] {
        let headers = [
            ("authorization", "Bearer client-own-key"),
            ("x-trace", "t-1"),
            ("x-crm-note", note),
            ("x-team", "sales"),
        ];
        let (status, _, answer) = send(&h, "/v1/chat/completions", &headers).await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    }
    assert_eq!(h.local.calls(), 0);
    let got = h.external.requests();
    assert_eq!(got.len(), 2);
    for r in &got {
        assert_eq!(r.body, BODY.as_bytes(), "body changed in transit");
        assert_eq!(
            r.header("authorization"),
            Some("Bearer sk-provider-from-sovgate")
        );
    }
    let (finding, benign) = (&got[0], &got[1]);
    assert_eq!(
        finding.header("x-crm-note"),
        None,
        "the header with findings left"
    );
    assert_eq!(benign.header("x-crm-note"), Some("renewal call went well"));
    assert_eq!(
        without(&finding.headers, "x-crm-note"),
        without(&benign.headers, "x-crm-note")
    );
    assert_eq!(finding.path, benign.path);
    let decisions: Vec<Value> = h
        .audit_lines()
        .into_iter()
        .filter(|l| l["event"] == "decision")
        .collect();
    let paths = finding_paths(&h);
    assert!(
        paths.contains(&("pii.email".into(), "$header[\"x-crm-note\"]".into())),
        "{paths:?}"
    );
    assert!(
        paths.contains(&("pii.us-ssn".into(), "$header[\"x-crm-note\"]".into())),
        "{paths:?}"
    );
    assert_eq!(decisions[0]["action"], "transform");
    assert_eq!(decisions[1]["action"], "forward");
    assert_eq!(decisions[1]["findings"].as_array().map_or(0, Vec::len), 0);
    let all = audit_text(&h);
    assert!(!all.contains("jane.doe") && !all.contains("6789"), "{all}");
}

#[tokio::test]
async fn privilege_legend_in_a_header_routes_local() {
    let h = Harness::start().await;
    let (status, headers, _) = send(
        &h,
        "/v1/chat/completions",
        &[("x-matter", "Attorney-Client Privileged")],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers["x-sovgate-classification"], "privileged");
    assert_eq!(
        h.external.calls(),
        0,
        "privileged request reached the external provider"
    );
    assert_eq!(h.local.calls(), 1);
    let paths = finding_paths(&h);
    assert_eq!(
        paths,
        vec![(
            "legal.privilege-markers".into(),
            "$header[\"x-matter\"]".into()
        )]
    );
    assert!(!audit_text(&h).contains("Attorney-Client"));
    // The benign twin goes out as usual.
    let twin = Harness::start().await;
    let (status, headers, _) = send(
        &twin,
        "/v1/chat/completions",
        &[("x-matter", "Quarterly planning")],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers["x-sovgate-classification"], "public");
    assert_eq!(twin.local.calls(), 0);
    assert_eq!(
        twin.external.requests()[0].header("x-matter"),
        Some("Quarterly planning")
    );
}

#[tokio::test]
async fn query_parameter_with_a_finding_is_removed_and_the_others_keep_their_bytes() {
    std::env::set_var("SOVGATE_TEST_PROVIDER_KEY", "sk-provider-from-sovgate");
    let base = "/openai/deployments/gpt-4o/chat/completions";
    let cases = [
        (
            "?api-version=2024-06-01&note=jane%40example.com&tag=a%2Fb+c",
            "?api-version=2024-06-01&tag=a%2Fb+c",
        ),
        (
            "?jane%40example.com=1&api-version=2024-06-01",
            "?api-version=2024-06-01",
        ),
        (
            "?api-version=2024-06-01&note=renewal%20call&tag=a%2Fb+c",
            "?api-version=2024-06-01&note=renewal%20call&tag=a%2Fb+c",
        ),
    ];
    for (query, expected) in cases {
        let h = Harness::with_config(&config()).await;
        let (status, _, answer) = send(
            &h,
            &format!("{base}{query}"),
            &[("api-key", "client-own-key")],
        )
        .await;
        assert_eq!(status, 200, "{query}: {}", String::from_utf8_lossy(&answer));
        let got = h.external.requests();
        assert_eq!(got.len(), 1, "{query}");
        assert_eq!(got[0].path, format!("{base}{expected}"), "{query}");
        assert_eq!(got[0].body, BODY.as_bytes());
        assert_eq!(got[0].header("api-key"), Some("sk-provider-from-sovgate"));
        let all = audit_text(&h);
        assert!(!all.contains("jane"), "{all}");
        let paths = finding_paths(&h);
        match query {
            q if q.contains("note=jane") => {
                assert_eq!(paths, vec![("pii.email".into(), "$query.note".into())])
            }
            q if q.starts_with("?jane") => {
                assert_eq!(paths, vec![("pii.email".into(), "$query[<key#1>]".into())])
            }
            _ => assert!(paths.is_empty(), "{paths:?}"),
        }
    }
}

#[tokio::test]
async fn secret_with_a_block_rule_in_a_header_refuses_and_nothing_leaves() {
    let h = Harness::start().await;
    let (status, headers, answer) = send(
        &h,
        "/v1/chat/completions",
        &[(
            "x-debug",
            "-----BEGIN RSA PRIVATE KEY----- MIIEpAIBAAKCAQEA7",
        )],
    )
    .await;
    assert_eq!(status, 403, "{}", String::from_utf8_lossy(&answer));
    assert_eq!(headers["x-sovgate-error"], "policy_blocked");
    let v: Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(v["error"]["code"], "policy_blocked");
    assert_eq!(h.external.calls() + h.local.calls(), 0);
    let lines = h.audit_lines();
    let last = lines.last().unwrap();
    assert_eq!(last["action"], "refuse");
    assert_eq!(last["findings"][0]["path"], "$header[\"x-debug\"]");
    let all = audit_text(&h);
    assert!(
        !all.contains("MIIEpAIBAAKCAQEA7") && !all.contains("BEGIN RSA"),
        "{all}"
    );
    // Same header, harmless value: forwarded as sent.
    let twin = Harness::start().await;
    let (status, _, _) = send(
        &twin,
        "/v1/chat/completions",
        &[("x-debug", "-----BEGIN CERTIFICATE-----")],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        twin.external.requests()[0].header("x-debug"),
        Some("-----BEGIN CERTIFICATE-----")
    );
}

#[tokio::test]
async fn path_segment_with_a_finding_is_refused() {
    let h = Harness::with_config(&config()).await;
    let (status, headers, answer) = send(
        &h,
        "/openai/deployments/jane%40example.com/chat/completions?api-version=2024-06-01",
        &[],
    )
    .await;
    assert_eq!(status, 403, "{}", String::from_utf8_lossy(&answer));
    assert_eq!(headers["x-sovgate-error"], "policy_blocked");
    let v: Value = serde_json::from_slice(&answer).unwrap();
    assert!(
        v["error"]["message"].as_str().unwrap().contains("path"),
        "{v}"
    );
    assert_eq!(h.external.calls() + h.local.calls(), 0);
    let last = h.audit_lines().pop().unwrap();
    assert_eq!(last["action"], "refuse");
    assert_eq!(last["findings"][0]["path"], "$path[2]");
    assert!(!audit_text(&h).contains("jane"));
    let twin = Harness::with_config(&config()).await;
    let (status, _, _) = send(
        &twin,
        "/openai/deployments/gpt-4o/chat/completions?api-version=2024-06-01",
        &[],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        twin.external.requests()[0].path,
        "/openai/deployments/gpt-4o/chat/completions?api-version=2024-06-01"
    );
}

#[tokio::test]
async fn credential_headers_are_not_scanned_and_the_provider_key_is_injected() {
    std::env::set_var("SOVGATE_TEST_PROVIDER_KEY", "sk-provider-from-sovgate");
    let h = Harness::start().await;
    // Would trip the bearer-token and LLM-key rules in any other header.
    let client_key = "Bearer sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH";
    let (status, headers, _) = send(
        &h,
        "/v1/chat/completions",
        &[("authorization", client_key), ("x-trace", "t-1")],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers["x-sovgate-classification"], "public");
    assert_eq!(h.local.calls(), 0);
    let got = h.external.requests();
    assert_eq!(
        got[0].header("authorization"),
        Some("Bearer sk-provider-from-sovgate")
    );
    assert_eq!(got[0].header("x-trace"), Some("t-1"));
    assert_eq!(got[0].body, BODY.as_bytes());
    assert!(finding_paths(&h).is_empty());
}

#[tokio::test]
async fn header_with_pii_is_removed_on_the_way_to_the_local_pool_too() {
    let h = Harness::start().await;
    let headers = [("x-crm-note", "SSN 123-45-6789"), ("x-team", "sales")];
    let (status, headers, _) = send(&h, "/v1/chat/completions", &headers).await;
    assert_eq!(status, 200);
    assert_eq!(headers["x-sovgate-classification"], "confidential");
    assert_eq!(h.external.calls(), 0);
    let got = h.local.requests();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].header("x-crm-note"), None);
    assert_eq!(got[0].header("x-team"), Some("sales"));
}

#[tokio::test]
async fn sdk_extra_headers_and_query_with_findings_never_leave() {
    let h = Harness::start().await;
    crate::sdk::sdk(&h, "openai_channels.py", &["finding"]).await;
    crate::sdk::sdk(&h, "openai_channels.py", &["benign"]).await;
    // The contact makes the request confidential (local by this policy); the twin goes out.
    let (local, external) = (h.local.requests(), h.external.requests());
    assert_eq!((local.len(), external.len()), (1, 1));
    let (finding, benign) = (&local[0], &external[0]);
    assert_eq!(finding.header("x-crm-note"), None);
    assert_eq!(finding.header("x-team"), Some("sales"));
    assert!(!finding.path.contains("note="), "{}", finding.path);
    assert_eq!(benign.header("x-crm-note"), Some("renewal call went well"));
    assert!(benign.path.contains("note=renewal"), "{}", benign.path);
    // The other parameter arrives with the SDK's own encoding on both routes.
    let query = |p: &str| {
        p.split_once('?')
            .map(|(_, q)| q.to_owned())
            .unwrap_or_default()
    };
    let ref_piece = |p: &str| {
        query(p)
            .split('&')
            .find(|kv| kv.starts_with("ref="))
            .map(str::to_owned)
    };
    assert_eq!(ref_piece(&finding.path), ref_piece(&benign.path));
    assert!(ref_piece(&benign.path).is_some(), "{}", benign.path);
    assert!(!audit_text(&h).contains("jane.doe"));
}
