//! The head's channels: what is scanned, which paths the audit gets, and what each destination
//! receives. Every case has a benign twin that must come out untouched.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::rules::{compile, default_rule_set, RuleSource};

fn rules() -> RuleSet {
    default_rule_set().expect("default packs compile")
}

fn custom(text: &str) -> RuleSet {
    compile(&[RuleSource {
        name: "t.toml".into(),
        text: text.into(),
        base_dir: None,
    }])
    .unwrap()
}

fn head<'a>(path: &'a str, query: Option<&'a str>, headers: &[(&'a str, &'a str)]) -> Head<'a> {
    Head {
        family: Family::OpenAi,
        path,
        query,
        headers: headers.iter().map(|(n, v)| (*n, v.as_bytes())).collect(),
    }
}

fn paths(r: &HeadReport, rules: &RuleSet) -> Vec<(String, String)> {
    r.findings
        .iter()
        .map(|f| (rules.rule(f.rule).id.clone(), f.path.clone()))
        .collect()
}

#[test]
fn header_with_pii_is_removed_and_its_neighbours_kept() {
    let rs = rules();
    let h = head(
        "/v1/chat/completions",
        None,
        &[
            ("x-trace", "abc"),
            (
                "x-crm-note",
                "contact jane.doe@example.com, SSN 123-45-6789",
            ),
            ("user-agent", "OpenAI/Python 1.50.0"),
        ],
    );
    let r = inspect_head(&h, &rs, Direction::Request);
    let got = paths(&r, &rs);
    assert!(
        got.contains(&("pii.email".into(), "$header[\"x-crm-note\"]".into())),
        "{got:?}"
    );
    assert!(
        got.contains(&("pii.us-ssn".into(), "$header[\"x-crm-note\"]".into())),
        "{got:?}"
    );
    assert_eq!(r.class, Class::Confidential);
    assert!(r.block.is_none());
    for dest in [DestinationKind::Local, DestinationKind::External] {
        let e = edits(&h, &r, &rs, dest).unwrap();
        assert_eq!(e.drop_headers, vec![1]);
        assert_eq!(e.query, None);
    }
}

#[test]
fn benign_head_has_no_findings_and_no_edits() {
    let rs = rules();
    let h = head(
        "/openai/deployments/gpt-4o/chat/completions",
        Some("api-version=2024-06-01&note=hello%20world&x=a+b"),
        &[
            ("x-crm-note", "renewal call went well"),
            ("anthropic-version", "2023-06-01"),
            (
                "traceparent",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            ),
            ("x-stainless-package-version", "1.50.0"),
        ],
    );
    let r = inspect_head(&h, &rs, Direction::Request);
    assert!(r.findings.is_empty(), "{:?}", paths(&r, &rs));
    assert_eq!(r.class, Class::Public);
    let e = edits(&h, &r, &rs, DestinationKind::External).unwrap();
    assert!(e.is_empty());
}

#[test]
fn credentials_and_framing_headers_are_not_scanned() {
    let rs = rules();
    let token = "Bearer sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH";
    let h = head(
        "/v1/chat/completions",
        None,
        &[
            ("authorization", token),
            (
                "x-api-key",
                "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH",
            ),
            ("x-goog-api-key", "AIzaSyD3m0K3y-ab_CDEfghIJklmNOpqrSTuvWX"),
            ("proxy-authorization", token),
            ("connection", "keep-alive, x-hop"),
            ("x-hop", "jane.doe@example.com"),
            ("host", "jane.doe@example.com"),
        ],
    );
    let r = inspect_head(&h, &rs, Direction::Request);
    assert!(r.findings.is_empty(), "{:?}", paths(&r, &rs));
    // The same token in an ordinary header is a finding and leaves nowhere.
    let h = head("/v1/chat/completions", None, &[("x-upstream-auth", token)]);
    let r = inspect_head(&h, &rs, Direction::Request);
    assert!(!r.findings.is_empty());
    let e = edits(&h, &r, &rs, DestinationKind::External).unwrap();
    assert_eq!(e.drop_headers, vec![0]);
}

#[test]
fn privilege_legend_in_a_header_classifies_only() {
    let rs = rules();
    let h = head(
        "/v1/messages",
        None,
        &[("x-matter", "Attorney-Client Privileged")],
    );
    let r = inspect_head(&h, &rs, Direction::Request);
    assert_eq!(r.class, Class::Privileged);
    assert_eq!(
        paths(&r, &rs),
        vec![(
            "legal.privilege-markers".into(),
            "$header[\"x-matter\"]".into()
        )]
    );
    // `tag` changes nothing: the header goes along to the local pool.
    assert!(edits(&h, &r, &rs, DestinationKind::Local)
        .unwrap()
        .is_empty());
}

#[test]
fn query_parameter_is_decoded_and_removed_keeping_the_rest_exact() {
    let rs = rules();
    let q = "api-version=2024-06-01&note=jane%40example.com&b=%7Ex+y&flag";
    let h = head("/openai/deployments/gpt-4o/chat/completions", Some(q), &[]);
    let r = inspect_head(&h, &rs, Direction::Request);
    assert_eq!(
        paths(&r, &rs),
        vec![("pii.email".into(), "$query.note".into())]
    );
    let e = edits(&h, &r, &rs, DestinationKind::External).unwrap();
    assert_eq!(
        e.query.as_deref(),
        Some("api-version=2024-06-01&b=%7Ex+y&flag")
    );
    assert!(e.drop_headers.is_empty());
}

#[test]
fn query_hiding_tricks_are_seen() {
    let rs = rules();
    for q in [
        "n=jane%2540example.com",   // double-encoded
        "n=jane+crm%40example.com", // `+` read both ways
        "n=123%2D45%2D6789",
        "n=Attorney+Client+Privileged",
    ] {
        let h = head("/v1/chat/completions", Some(q), &[]);
        let r = inspect_head(&h, &rs, Direction::Request);
        assert!(!r.findings.is_empty(), "{q}");
        assert_eq!(r.findings[0].path, "$query.n", "{q}");
    }
    // Only parameter: the query goes away entirely.
    let h = head("/v1/chat/completions", Some("n=123%2D45%2D6789"), &[]);
    let r = inspect_head(&h, &rs, Direction::Request);
    let e = edits(&h, &r, &rs, DestinationKind::Local).unwrap();
    assert_eq!(e.query.as_deref(), Some(""));
}

#[test]
fn names_with_findings_are_masked_in_paths() {
    let rs = rules();
    let h = head(
        "/v1/chat/completions",
        Some("jane%40example.com=1&ok=2"),
        &[("x-123-45-6789", "1")],
    );
    let r = inspect_head(&h, &rs, Direction::Request);
    let got = paths(&r, &rs);
    assert!(
        got.contains(&("pii.email".into(), "$query[<key#1>]".into())),
        "{got:?}"
    );
    assert!(
        got.contains(&("pii.us-ssn".into(), "$header[<key#2>]".into())),
        "{got:?}"
    );
    for f in &r.findings {
        assert!(
            !f.path.contains("jane") && !f.path.contains("6789"),
            "{}",
            f.path
        );
    }
    let e = edits(&h, &r, &rs, DestinationKind::External).unwrap();
    assert_eq!(e.query.as_deref(), Some("ok=2"));
    assert_eq!(e.drop_headers, vec![0]);
}

#[test]
fn field_rules_apply_to_names_and_records_in_values() {
    let rs = rules();
    let h = head(
        "/v1/chat/completions",
        Some("Settlement_Terms__c=below+2M"),
        &[("x-crm-record", "Legal_Case_Strategy__c: settle early")],
    );
    let r = inspect_head(&h, &rs, Direction::Request);
    let got = paths(&r, &rs);
    assert!(
        got.contains(&(
            "legal.privileged-fields".into(),
            "$query.Settlement_Terms__c".into()
        )),
        "{got:?}"
    );
    assert!(
        got.contains(&(
            "legal.privileged-fields".into(),
            "$header[\"x-crm-record\"]".into()
        )),
        "{got:?}"
    );
    assert_eq!(r.class, Class::Privileged);
    let e = edits(&h, &r, &rs, DestinationKind::Local).unwrap();
    assert_eq!(e.query.as_deref(), Some(""));
    assert_eq!(e.drop_headers, vec![0]);
}

#[test]
fn block_rules_block_from_any_channel() {
    let rs = rules();
    let pem = "-----BEGIN RSA PRIVATE KEY-----";
    let h = head("/v1/chat/completions", None, &[("x-debug", pem)]);
    let r = inspect_head(&h, &rs, Direction::Request);
    assert_eq!(
        r.block.map(|b| rs.rule(b).id.as_str()),
        Some("secrets.private-key")
    );
    let mut body = Report::default();
    r.merge_into(&mut body);
    assert!(body.block.is_some());
    assert_eq!(body.findings.len(), 1);
    assert_eq!(body.class, Class::Confidential);
    let q = "k=-----BEGIN%20PRIVATE%20KEY-----";
    let h = head("/v1/chat/completions", Some(q), &[]);
    assert!(inspect_head(&h, &rs, Direction::Request).block.is_some());
}

#[test]
fn path_segment_with_acting_finding_refuses() {
    let rs = rules();
    let h = head(
        "/openai/deployments/jane%40example.com/chat/completions",
        None,
        &[],
    );
    let r = inspect_head(&h, &rs, Direction::Request);
    assert_eq!(
        paths(&r, &rs),
        vec![("pii.email".into(), "$path[2]".into())]
    );
    let e = edits(&h, &r, &rs, DestinationKind::External).unwrap_err();
    assert_eq!(e.segment, 2);
    assert_eq!(rs.rule(e.rule).id, "pii.email");
    // Its benign twin passes untouched.
    let h = head("/openai/deployments/gpt-4o/chat/completions", None, &[]);
    let r = inspect_head(&h, &rs, Direction::Request);
    assert!(
        r.findings.is_empty()
            && edits(&h, &r, &rs, DestinationKind::External)
                .unwrap()
                .is_empty()
    );
}

#[test]
fn monitor_tag_and_external_only_rules_follow_the_body_semantics() {
    let rs = custom(concat!(
        "[[rule]]\nid = \"t.ext\"\nkind = \"literal\"\npatterns = [\"Nightingale\"]\n",
        "action = \"redact\"\nclass = \"internal\"\napplies_to = \"external\"\n",
        "[[rule]]\nid = \"t.mon\"\nkind = \"literal\"\npatterns = [\"Heron\"]\n",
        "action = \"redact\"\nclass = \"privileged\"\nmode = \"monitor\"\n",
    ));
    let h = head(
        "/v1/Nightingale/chat",
        Some("p=Nightingale&m=Heron"),
        &[("x-project", "Nightingale"), ("x-bird", "Heron")],
    );
    let r = inspect_head(&h, &rs, Direction::Request);
    assert_eq!(r.findings.len(), 5);
    // Monitor findings never classify.
    assert_eq!(r.class, Class::Internal);
    assert!(edits(&h, &r, &rs, DestinationKind::Local)
        .unwrap()
        .is_empty());
    let e = edits(&h, &r, &rs, DestinationKind::External).unwrap_err();
    assert_eq!(e.segment, 1);
    let h = head(
        "/v1/chat",
        Some("p=Nightingale&m=Heron"),
        &[("x-project", "Nightingale"), ("x-bird", "Heron")],
    );
    let r = inspect_head(&h, &rs, Direction::Request);
    let e = edits(&h, &r, &rs, DestinationKind::External).unwrap();
    assert_eq!(e.query.as_deref(), Some("m=Heron"));
    assert_eq!(e.drop_headers, vec![0]);
}

#[test]
fn gemini_key_parameter_is_a_credential() {
    let rs = rules();
    let mut h = head(
        "/v1beta/models/gemini-pro:generateContent",
        Some("key=AIzaSyD3m0K3y-ab_CDEfghIJklmNOpqrSTuvWX&alt=sse"),
        &[],
    );
    h.family = Family::Gemini;
    let r = inspect_head(&h, &rs, Direction::Request);
    assert!(r.findings.is_empty(), "{:?}", paths(&r, &rs));
    // Elsewhere `key=` is an ordinary parameter, forwarded, so scanned.
    h.family = Family::OpenAi;
    assert!(!inspect_head(&h, &rs, Direction::Request)
        .findings
        .is_empty());
}
