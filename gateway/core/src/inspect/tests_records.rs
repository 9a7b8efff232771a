//! Records inside text, `extent = "value"`, scalars and masked key paths, through inspect and
//! transform as the proxy calls them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::tests::rules;
use super::*;
use crate::rules::{compile, RuleSource};
use crate::transform::transform;
use crate::types::DestinationKind;
use crate::vault::Vault;
use proptest::prelude::*;

fn chat(content: &str) -> String {
    serde_json::json!({"model": "gpt-4o", "messages": [{"role": "user", "content": content}]})
        .to_string()
}

/// The content string that would leave for an external provider.
fn sent(rules: &RuleSet, body: &str) -> String {
    let mut vault = Vault::new();
    let out = transform(
        body.as_bytes(),
        rules,
        Direction::Request,
        DestinationKind::External,
        &mut vault,
    )
    .unwrap();
    let bytes = out.body.unwrap_or_else(|| body.as_bytes().to_vec());
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    v["messages"][0]["content"].as_str().unwrap().to_owned()
}

#[test]
fn records_in_text_lose_their_privileged_fields() {
    let rules = rules();
    let cases = [
        (
            r#"Summarize this case: {"Id":"500xx","legal_case_strategy__c":"Settle below 2M","Status":"Open"}"#,
            r#"Summarize this case: {"Id":"500xx","Status":"Open"}"#,
        ),
        (
            "Export:\nId,Legal_Case_Strategy__c,Name\n001,\"Settle, below\n2M\",Acme\n",
            "Export:\nId,Name\n001,Acme\n",
        ),
        (
            "<sf:Case><sf:Legal_Case_Strategy__c>Settle below 2M</sf:Legal_Case_Strategy__c><sf:Id>1</sf:Id></sf:Case>",
            "<sf:Case><sf:Id>1</sf:Id></sf:Case>",
        ),
        (
            "Case 500xx\nLegal_Case_Strategy__c: Settle below 2M\nStatus: Open",
            "Case 500xx\nStatus: Open",
        ),
    ];
    for (input, expected) in cases {
        let report = inspect(chat(input).as_bytes(), &rules, Direction::Request).unwrap();
        assert_eq!(report.class, crate::types::Class::Privileged, "{input}");
        assert_eq!(sent(&rules, &chat(input)), expected);
    }
}

#[test]
fn unfollowable_record_syntax_redacts_the_whole_string() {
    let rules = rules();
    let input = "note <Legal_Case_Strategy__c>Settle below 2M, never closed";
    assert_eq!(
        sent(&rules, &chat(input)),
        "[REDACTED:legal.privileged-fields]"
    );
}

#[test]
fn finding_paths_name_the_record_format() {
    let rules = rules();
    let body = chat("Id,Legal_Case_Strategy__c\n1,x\n");
    let report = inspect(body.as_bytes(), &rules, Direction::Request).unwrap();
    let paths: Vec<&str> = report.findings.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["$.messages[0].content#csv.Legal_Case_Strategy__c"]);
}

#[test]
fn extent_value_covers_the_whole_document() {
    let rules = compile(&[RuleSource {
        name: "legend.toml".into(),
        text: r#"
            [[rule]]
            id = "legal.legend"
            kind = "literal"
            case_insensitive = true
            patterns = ["privileged & confidential"]
            action = "redact"
            extent = "value"
            class = "privileged"
        "#
        .into(),
        base_dir: None,
    }])
    .unwrap();
    let memo = "PRIVILEGED & CONFIDENTIAL\n\nOur strategy: settle below 2M.";
    assert_eq!(sent(&rules, &chat(memo)), "[REDACTED:legal.legend]");
    let clean = chat("Our strategy: settle below 2M.");
    assert_eq!(sent(&rules, &clean), "Our strategy: settle below 2M.");
}

#[test]
fn numbers_and_booleans_are_scanned_as_text() {
    let rules = rules();
    let body =
        r#"{"model":"gpt-4o","messages":[],"metadata":{"card":4111111111111111,"ok":true,"n":42}}"#;
    let report = inspect(body.as_bytes(), &rules, Direction::Request).unwrap();
    assert!(report.transforms);
    let mut vault = Vault::new();
    let out = transform(
        body.as_bytes(),
        &rules,
        Direction::Request,
        DestinationKind::External,
        &mut vault,
    )
    .unwrap()
    .body
    .unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        r#"{"model":"gpt-4o","messages":[],"metadata":{"card":"[REDACTED:pii.payment-card]","ok":true,"n":42}}"#
    );
}

#[test]
fn keys_holding_findings_are_masked_in_paths() {
    let rules = rules();
    let body =
        r#"{"model":"gpt-4o","metadata":{"jane.doe@example.com":"vip","b":{"123-45-6789":1}}}"#;
    let report = inspect(body.as_bytes(), &rules, Direction::Request).unwrap();
    let paths: Vec<&str> = report.findings.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["$.metadata[<key#1>]", "$.metadata.b[<key#2>]"]);
    for p in paths {
        assert!(!p.contains("jane") && !p.contains("6789"), "{p}");
    }
}

#[test]
fn multi_word_literals_match_across_line_breaks_and_dashes() {
    let rules = rules();
    let body = chat("ATTORNEY\u{2013}CLIENT\n      PRIVILEGED\n\nmemo text");
    let report = inspect(body.as_bytes(), &rules, Direction::Request).unwrap();
    assert_eq!(report.class, crate::types::Class::Privileged);
}

/// A record in one of the formats, carrying `value` in the privileged field.
fn record(format: u8, value: &str) -> String {
    match format % 5 {
        0 => format!(r#"{{"Id":"500x","Legal_Case_Strategy__c":"{value}","Status":"Open"}}"#),
        1 => format!("Id,Legal_Case_Strategy__c,Status\n500x,\"{value}\",Open\n"),
        2 => format!(
            "<sf:Case><sf:Legal_Case_Strategy__c>{value}</sf:Legal_Case_Strategy__c></sf:Case>"
        ),
        3 => format!("\nLegal_Case_Strategy__c: {value}\n"),
        _ => format!("```\n{{'legal_case_strategy__c': '{value}'}}\n```"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A record planted at a random place of random prose, in a random format, is always found
    /// and its privileged value never leaves.
    #[test]
    fn planted_records_are_always_found(
        prose in "[a-zA-Z ,.\n]{0,200}",
        cut in 0usize..200,
        format in 0u8..5,
        value in "[a-z]{6,12} [a-z]{6,12}",
    ) {
        let rules = rules();
        let at = cut.min(prose.len());
        let text = format!("{}{}{}", &prose[..at], record(format, &value), &prose[at..]);
        let body = chat(&text);
        let report = inspect(body.as_bytes(), &rules, Direction::Request).unwrap();
        prop_assert_eq!(report.class, crate::types::Class::Privileged);
        let out = sent(&rules, &body);
        prop_assert!(!out.contains(&value), "{:?} left in {:?}", value, out);
    }
}
