//! The bypass suite: each case is a different way a secret can hide in a request body. Every case
//! asserts on the bytes that would leave for an external provider, not on internal state.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::rules::{compile, default_rule_set, RuleSource};
use crate::transform::transform;
use crate::types::DestinationKind;
use crate::vault::Vault;

pub(super) fn rules() -> RuleSet {
    default_rule_set().expect("default packs compile")
}

/// All strings of a JSON text, recursing into strings that hold JSON, joined and folded for
/// comparison: normalized (NFKC, format characters, confusables), lowercased, alphanumerics only.
pub(super) fn folded_strings(bytes: &[u8]) -> String {
    fn collect(v: &serde_json::Value, out: &mut String) {
        match v {
            serde_json::Value::String(s) => {
                if let Ok(inner) = serde_json::from_str::<serde_json::Value>(s) {
                    if inner.is_object() || inner.is_array() {
                        collect(&inner, out);
                    }
                }
                out.push_str(s);
                out.push('\n');
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| collect(x, out)),
            serde_json::Value::Object(m) => m.iter().for_each(|(k, x)| {
                out.push_str(k);
                out.push('\n');
                collect(x, out);
            }),
            _ => {}
        }
    }
    let v: serde_json::Value = serde_json::from_slice(bytes).expect("output parses");
    let mut s = String::new();
    collect(&v, &mut s);
    fold(&s)
}

pub(super) fn fold(s: &str) -> String {
    crate::normalize::normalize(s)
        .as_str()
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Transforms `body` for an external destination and asserts `secret` no longer appears in it.
fn assert_scrubbed(name: &str, body: &str, secret: &str) {
    let rules = rules();
    let report = inspect(body.as_bytes(), &rules, Direction::Request)
        .unwrap_or_else(|e| panic!("{name}: inspect failed: {e}"));
    assert!(
        !report.findings.is_empty(),
        "{name}: nothing found in {body}"
    );
    if report.block.is_some() {
        return; // refused outright: nothing leaves at all
    }
    let mut vault = Vault::new();
    let out = transform(
        body.as_bytes(),
        &rules,
        Direction::Request,
        DestinationKind::External,
        &mut vault,
    )
    .unwrap_or_else(|e| panic!("{name}: transform failed: {e}"));
    let bytes = out.body.unwrap_or_else(|| body.as_bytes().to_vec());
    let folded = folded_strings(&bytes);
    let needle = fold(secret);
    assert!(
        !folded.contains(&needle),
        "{name}: `{secret}` survived:\n{}",
        String::from_utf8_lossy(&bytes)
    );
    // Idempotence: what leaves has nothing left to transform.
    let again = inspect(&bytes, &rules, Direction::Request).unwrap();
    assert!(
        !again.transforms
            || again
                .findings
                .iter()
                .all(|f| rules.rule(f.rule).action == crate::types::Action::Tag),
        "{name}: output still has transforming findings: {:?}",
        again.findings
    );
}

/// Asserts the body classifies as privileged (routed local) without necessarily editing it.
fn assert_privileged(name: &str, body: &str) {
    let report = inspect(body.as_bytes(), &rules(), Direction::Request)
        .unwrap_or_else(|e| panic!("{name}: inspect failed: {e}"));
    assert_eq!(
        report.class,
        Class::Privileged,
        "{name}: {:?}",
        report.findings
    );
}

fn chat(content: &str) -> String {
    format!(r#"{{"model":"gpt-4o","messages":[{{"role":"user","content":"{content}"}}]}}"#)
}

const SSN: &str = "123-45-6789";
const EMAIL: &str = "jane.doe@example.com";
const CARD: &str = "4111111111111111";
const IBAN: &str = "DE89370400440532013000";
const AWS: &str = "AKIAIOSFODNN7EXAMPLE";

#[test]
fn b01_plain_ssn() {
    assert_scrubbed("b01", &chat("my ssn is 123-45-6789"), SSN);
}
#[test]
fn b02_ssn_unicode_escaped_digits() {
    assert_scrubbed("b02", &chat(r"ssn \u0031\u0032\u0033-45-6789"), SSN);
}
#[test]
fn b03_ssn_escaped_dash() {
    assert_scrubbed("b03", &chat(r"ssn 123\u002d45\u002d6789"), SSN);
}
#[test]
fn b04_ssn_en_dash() {
    assert_scrubbed("b04", &chat("ssn 123\u{2013}45\u{2013}6789"), SSN);
}
#[test]
fn b05_ssn_spaces() {
    assert_scrubbed("b05", &chat("ssn 123 45 6789"), SSN);
}
#[test]
fn b06_ssn_soft_hyphen() {
    assert_scrubbed("b06", &chat("ssn 123-4\u{00AD}5-6789"), SSN);
}
#[test]
fn b07_ssn_zero_width() {
    assert_scrubbed("b07", &chat("ssn 123-45-67\u{200B}89"), SSN);
}
#[test]
fn b08_ssn_fullwidth() {
    assert_scrubbed("b08", &chat("ssn １２３-４５-６７８９"), SSN);
}
#[test]
fn b09_plain_email() {
    assert_scrubbed("b09", &chat("mail jane.doe@example.com"), EMAIL);
}
#[test]
fn b10_fullwidth_email() {
    assert_scrubbed(
        "b10",
        &chat("mail ｊａｎｅ.ｄｏｅ＠ｅｘａｍｐｌｅ.ｃｏｍ"),
        EMAIL,
    );
}
#[test]
fn b11_email_zero_width_joiner() {
    assert_scrubbed(
        "b11",
        &chat("mail jane.d\u{200D}oe@exam\u{200C}ple.com"),
        EMAIL,
    );
}
#[test]
fn b12_email_in_tool_arguments() {
    let body = r#"{"model":"gpt-4o","messages":[{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"send","arguments":"{\"to\":\"jane.doe@example.com\"}"}}]}]}"#;
    assert_scrubbed("b12", body, EMAIL);
}
#[test]
fn b13_email_escaped_at_in_embedded_json() {
    let body = r#"{"model":"gpt-4o","messages":[{"role":"user","content":"{\"to\":\"jane.doe\\u0040example.com\"}"}]}"#;
    assert_scrubbed("b13", body, EMAIL);
}
#[test]
fn b14_card_spaces() {
    assert_scrubbed("b14", &chat("card 4111 1111 1111 1111"), CARD);
}
#[test]
fn b15_card_dashes() {
    assert_scrubbed("b15", &chat("card 4111-1111-1111-1111"), CARD);
}
#[test]
fn b16_card_nbsp() {
    assert_scrubbed(
        "b16",
        &chat("card 4111\u{00A0}1111\u{00A0}1111\u{00A0}1111"),
        CARD,
    );
}
#[test]
fn b17_iban_spaces() {
    assert_scrubbed("b17", &chat("iban DE89 3704 0044 0532 0130 00"), IBAN);
}
#[test]
fn b18_iban_compact() {
    assert_scrubbed("b18", &chat("iban DE89370400440532013000"), IBAN);
}
#[test]
fn b19_aws_key_anthropic_system_string() {
    let body = r#"{"model":"claude-3-5-sonnet","max_tokens":10,"system":"key AKIAIOSFODNN7EXAMPLE","messages":[{"role":"user","content":"hi"}]}"#;
    assert_scrubbed("b19", body, AWS);
}
#[test]
fn b20_aws_key_anthropic_system_blocks() {
    let body = r#"{"model":"claude-3-5-sonnet","max_tokens":10,"system":[{"type":"text","text":"key AKIAIOSFODNN7EXAMPLE","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":"hi"}]}"#;
    assert_scrubbed("b20", body, AWS);
}
#[test]
fn b21_privileged_field_in_embedded_crm_record() {
    let body = r#"{"model":"gpt-4o","messages":[{"role":"user","content":"{\"Id\":\"500x\",\"legal_case_strategy__c\":\"settle below 2M, argue laches\"}"}]}"#;
    assert_scrubbed("b21", body, "settle below 2M, argue laches");
    assert_privileged("b21", body);
}
#[test]
fn b22_privileged_field_escaped_name() {
    let body = r#"{"record":{"legal_case_strategy\u005f_c":"argue laches firmly"}}"#;
    assert_scrubbed("b22", body, "argue laches firmly");
}
#[test]
fn b23_privileged_field_case_variant() {
    let body = r#"{"record":{"Legal_Case_Strategy__C":"argue laches firmly"}}"#;
    assert_scrubbed("b23", body, "argue laches firmly");
}
#[test]
fn b24_privileged_field_zero_width_name() {
    let body = "{\"record\":{\"legal_case\u{200B}_strategy__c\":\"argue laches firmly\"}}";
    assert_scrubbed("b24", body, "argue laches firmly");
}
#[test]
fn b25_field_inside_anthropic_tool_result() {
    let body = r#"{"model":"claude-3-5-sonnet","max_tokens":5,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"{\"settlement_terms__c\":\"pay 1.2M quietly\"}"}]}]}"#;
    assert_scrubbed("b25", body, "pay 1.2M quietly");
}
#[test]
fn b26_field_deep_nesting() {
    let mut body = String::from(r#"{"legal_case_strategy__c":"deep secret plan"}"#);
    for _ in 0..30 {
        body = format!(r#"{{"x":[{body}]}}"#);
    }
    assert_scrubbed("b26", &body, "deep secret plan");
}
#[test]
fn b27_privilege_marker_case() {
    assert_privileged("b27", &chat("ATTORNEY-CLIENT PRIVILEGED: draft"));
}
#[test]
fn b28_privilege_marker_cyrillic() {
    assert_privileged(
        "b28",
        &chat("Attorn\u{0435}y-Cli\u{0435}nt Pr\u{0456}vileged memo"),
    );
}
#[test]
fn b29_privilege_marker_nbsp() {
    assert_privileged("b29", &chat("attorney\u{00A0}work\u{00A0}product"));
}
#[test]
fn b30_privilege_marker_split_across_parts() {
    let body = r#"{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"this memo is attorney-cli"},{"type":"text","text":"ent privileged, see below"}]}]}"#;
    assert_privileged("b30", body);
}
#[test]
fn b31_ssn_split_across_parts() {
    let body = r#"{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"ssn 123-45-"},{"type":"text","text":"6789 thanks"}]}]}"#;
    assert_scrubbed("b31", body, SSN);
}
#[test]
fn b32_email_responses_input_string() {
    assert_scrubbed(
        "b32",
        r#"{"model":"gpt-4o","input":"write to jane.doe@example.com"}"#,
        EMAIL,
    );
}
#[test]
fn b33_email_responses_function_call_output() {
    let body = r#"{"model":"gpt-4o","input":[{"type":"function_call_output","call_id":"c1","output":"{\"email\":\"jane.doe@example.com\"}"}]}"#;
    assert_scrubbed("b33", body, EMAIL);
}
#[test]
fn b34_email_embeddings_input_array() {
    assert_scrubbed(
        "b34",
        r#"{"model":"text-embedding-3-small","input":["a","jane.doe@example.com"]}"#,
        EMAIL,
    );
}
#[test]
fn b35_email_gemini_parts() {
    assert_scrubbed(
        "b35",
        r#"{"contents":[{"role":"user","parts":[{"text":"mail jane.doe@example.com"}]}]}"#,
        EMAIL,
    );
}
#[test]
fn b36_email_gemini_system_instruction() {
    assert_scrubbed(
        "b36",
        r#"{"systemInstruction":{"parts":[{"text":"owner jane.doe@example.com"}]},"contents":[]}"#,
        EMAIL,
    );
}
#[test]
fn b37_email_in_response_format_schema() {
    let body = r#"{"model":"gpt-4o","messages":[],"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object","description":"default owner jane.doe@example.com"}}}}"#;
    assert_scrubbed("b37", body, EMAIL);
}
#[test]
fn b38_email_in_tool_description() {
    let body = r#"{"model":"gpt-4o","messages":[],"tools":[{"type":"function","function":{"name":"f","description":"escalate to jane.doe@example.com","parameters":{}}}]}"#;
    assert_scrubbed("b38", body, EMAIL);
}
#[test]
fn b39_email_as_object_key() {
    assert_scrubbed(
        "b39",
        r#"{"model":"gpt-4o","metadata":{"jane.doe@example.com":"vip"}}"#,
        EMAIL,
    );
}
#[test]
fn b40_ssn_in_prediction() {
    let body = r#"{"model":"gpt-4o","messages":[],"prediction":{"type":"content","content":"ssn 123-45-6789"}}"#;
    assert_scrubbed("b40", body, SSN);
}
#[test]
fn b41_developer_role() {
    assert_scrubbed(
        "b41",
        r#"{"model":"o3","messages":[{"role":"developer","content":"card 4111 1111 1111 1111"}]}"#,
        CARD,
    );
}
#[test]
fn b42_double_embedded_json() {
    let body = r#"{"messages":[{"role":"user","content":"{\"payload\":\"{\\\"ssn\\\":\\\"123-45-6789\\\"}\"}"}]}"#;
    assert_scrubbed("b42", body, SSN);
}
#[test]
fn b43_anthropic_document_block() {
    let body = r#"{"model":"claude-3-5-sonnet","max_tokens":5,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"text","media_type":"text/plain","data":"contact jane.doe@example.com"}}]}]}"#;
    assert_scrubbed("b43", body, EMAIL);
}
#[test]
fn b44_private_key_block_refused() {
    let body =
        chat(r"-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----");
    let report = inspect(body.as_bytes(), &rules(), Direction::Request).unwrap();
    assert!(
        report.block.is_some() || report.transforms,
        "{:?}",
        report.findings
    );
    assert_scrubbed("b44", &body, "MIIEpAIBAAKCAQEA7");
}
#[test]
fn b45_email_tag_characters() {
    assert_scrubbed("b45", &chat("mail jane.doe\u{E0041}@example.com"), EMAIL);
}
#[test]
fn b46_card_in_anthropic_tool_use_input() {
    let body = r#"{"model":"claude-3-5-sonnet","max_tokens":5,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"pay","input":{"card":"4111 1111 1111 1111"}}]}]}"#;
    assert_scrubbed("b46", body, CARD);
}

#[test]
fn benign_bodies_come_out_byte_identical() {
    let rules = rules();
    for body in [
        r#"{"model":"gpt-4o","temperature":0.70,"top_p":1e-5,"messages":[{"role":"user","content":"Summarize Q3 \u00e9t\u00e9 results, order ORD-12345678, filed 2024-01-15."}]}"#,
        "{\n  \"b\": [1, 2.50, -0.0],\n  \"a\": \"docket 1:23-cv-04567\"\n}",
    ] {
        let report = inspect(body.as_bytes(), &rules, Direction::Request).unwrap();
        assert!(report.findings.is_empty(), "{:?}", report.findings);
        let out = transform(
            body.as_bytes(),
            &rules,
            Direction::Request,
            DestinationKind::External,
            &mut Vault::new(),
        )
        .unwrap();
        assert_eq!(out.body, None);
    }
}

#[test]
fn splicing_keeps_untouched_bytes() {
    let body = "{\"temperature\":0.70,  \"messages\":[{\"role\":\"user\",\"content\":\"caf\\u00e9 mail jane.doe@example.com now\"}],\"top_p\":1e-5}";
    let mut vault = Vault::new();
    let out = transform(
        body.as_bytes(),
        &rules(),
        Direction::Request,
        DestinationKind::External,
        &mut vault,
    )
    .unwrap();
    let out = String::from_utf8(out.body.unwrap()).unwrap();
    assert!(out.starts_with("{\"temperature\":0.70,  \"messages\":[{\"role\":\"user\",\"content\":\"caf\\u00e9 mail "), "{out}");
    assert!(out.ends_with(" now\"}],\"top_p\":1e-5}"), "{out}");
    assert!(!out.contains("jane.doe"));
    assert_eq!(vault.len(), 1);
    let (restored, n) = vault.restore(&out);
    assert_eq!(n, 1);
    assert!(restored.contains("jane.doe@example.com"));
}

#[test]
fn applies_to_external_leaves_local_in_clear() {
    let src = RuleSource {
        name: "t.toml".into(),
        text: "[[rule]]\nid = \"t.code\"\nkind = \"literal\"\npatterns = [\"Project Nightingale\"]\naction = \"redact\"\nclass = \"internal\"\napplies_to = \"external\"\n".into(),
        base_dir: None,
    };
    let rules = compile(&[src]).unwrap();
    let body = chat("status of Project Nightingale?");
    let local = transform(
        body.as_bytes(),
        &rules,
        Direction::Request,
        DestinationKind::Local,
        &mut Vault::new(),
    )
    .unwrap();
    assert_eq!(local.body, None);
    let ext = transform(
        body.as_bytes(),
        &rules,
        Direction::Request,
        DestinationKind::External,
        &mut Vault::new(),
    )
    .unwrap();
    let ext = String::from_utf8(ext.body.unwrap()).unwrap();
    assert!(
        ext.contains("[REDACTED:t.code]") && !ext.contains("Nightingale"),
        "{ext}"
    );
}

#[test]
fn monitor_mode_reports_but_changes_and_routes_nothing() {
    let src = RuleSource {
        name: "t.toml".into(),
        text: "[[rule]]\nid = \"t.watch\"\nkind = \"literal\"\npatterns = [\"Nightingale\"]\naction = \"block\"\nclass = \"privileged\"\nmode = \"monitor\"\n".into(),
        base_dir: None,
    };
    let rules = compile(&[src]).unwrap();
    let body = chat("Nightingale status");
    let r = inspect(body.as_bytes(), &rules, Direction::Request).unwrap();
    assert_eq!(r.findings.len(), 1);
    assert_eq!(r.findings[0].path, "$.messages[0].content");
    assert_eq!(
        (r.class, r.block, r.transforms),
        (Class::Public, None, false)
    );
}

#[test]
fn findings_carry_paths_and_counts() {
    let body = r#"{"messages":[{"role":"user","content":"a@example.com b@example.com"},{"role":"user","content":[{"type":"text","text":"c@example.com"}]}],"model":"m","stream":true}"#;
    let r = inspect(body.as_bytes(), &rules(), Direction::Request).unwrap();
    let paths: Vec<(&str, u32)> = r
        .findings
        .iter()
        .map(|f| (f.path.as_str(), f.count))
        .collect();
    assert!(paths.contains(&("$.messages[0].content", 2)), "{paths:?}");
    assert!(
        paths.contains(&("$.messages[1].content[0].text", 1)),
        "{paths:?}"
    );
    assert_eq!(r.model.as_deref(), Some("m"));
    assert!(r.stream);
}

#[test]
fn dropped_fields_leave_valid_json_without_them() {
    let body = r#"{"Id":"500x","legal_case_strategy__c":"plan A","Subject":"Renewal","privileged_communication__c":"memo"}"#;
    let out = transform(
        body.as_bytes(),
        &rules(),
        Direction::Request,
        DestinationKind::Local,
        &mut Vault::new(),
    )
    .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.body.unwrap()).unwrap();
    assert_eq!(v, serde_json::json!({"Id":"500x","Subject":"Renewal"}));
}

#[test]
fn strict_json_refusals() {
    let rules = rules();
    for bad in [
        &b"{\"a\":1,\"a\":2}"[..],
        b"{\"a\":1} x",
        b"{\"a\":\"\\ud800\"}",
        b"{/*c*/}",
        b"\xff",
        b"",
    ] {
        assert!(
            inspect(bad, &rules, Direction::Request).is_err(),
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
}
