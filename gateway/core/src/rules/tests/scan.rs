//! Behaviour of a compiled rule set: directions, overlaps, ordering, limits, defaults, examples.

use super::super::*;
use super::temp_dir;
use crate::types::Direction;

fn set(text: &str) -> RuleSet {
    compile(&[RuleSource {
        name: "r.toml".into(),
        text: text.into(),
        base_dir: None,
    }])
    .unwrap_or_else(|e| panic!("{e}"))
}

fn ids(set: &RuleSet, text: &str, dir: Direction) -> Vec<(String, String)> {
    let mut out = Vec::new();
    set.scan(text, dir, &mut out).unwrap();
    out.iter()
        .map(|m| {
            (
                set.rule(m.rule).id.clone(),
                text[m.range.clone()].to_owned(),
            )
        })
        .collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

const SCOPED: &str = r#"
[[rule]]
id = "t.req"
kind = "literal"
patterns = ["orion"]
action = "tag"
class = "internal"

[[rule]]
id = "t.resp"
kind = "regex"
pattern = 'secret-[0-9]+'
action = "redact"
class = "confidential"
scope = "response"

[[rule]]
id = "t.both"
kind = "field"
fields = ["ssn"]
action = "drop"
class = "confidential"
scope = "both"
mode = "monitor"
applies_to = "external"
"#;

#[test]
fn scope_decides_the_direction() {
    let s = set(SCOPED);
    let text = "orion secret-42";
    assert_eq!(
        ids(&s, text, Direction::Request),
        pairs(&[("t.req", "orion")])
    );
    assert_eq!(
        ids(&s, text, Direction::Response),
        pairs(&[("t.resp", "secret-42")])
    );
    let mut out = Vec::new();
    s.match_field("SSN", Direction::Response, &mut out);
    assert_eq!(out, [RuleIdx(2)]);
    let both = s.rule(RuleIdx(2));
    assert_eq!(
        (both.mode, both.applies_to),
        (
            crate::types::Mode::Monitor,
            crate::types::AppliesTo::External
        )
    );
    assert!(s.has_field_rules());
    assert_eq!(s.len(), 3);
}

#[test]
fn defaults_for_labels_replacements_and_sources() {
    let s = set(SCOPED);
    let r = s.rule(RuleIdx(1));
    assert_eq!(r.placeholder_label, "RESP");
    assert_eq!(r.replacement, "[REDACTED:t.resp]");
    assert_eq!(r.source, "r.toml:9");
    assert_eq!(r.kind, RuleKind::Regex);
    assert_eq!(r.scope, crate::types::Scope::Response);
    let s = set("[[rule]]\nid = \"t.x\"\nkind = \"literal\"\npatterns = [\"a\"]\naction = \"redact\"\nclass = \"public\"\nplaceholder = \"client\"\nreplacement = \"[gone]\"\n");
    let r = s.rule(RuleIdx(0));
    assert_eq!(
        (r.placeholder_label.as_str(), r.replacement.as_str()),
        ("CLIENT", "[gone]")
    );
    assert_eq!(r.mode, crate::types::Mode::Enforce);
}

#[test]
fn different_rules_on_the_same_span_are_all_reported_in_order() {
    let s = default_rule_set().unwrap();
    let text =
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.dGhpc2lzYXNpZ25hdHVyZQ";
    let got = ids(&s, text, Direction::Request);
    let jwt = &text[text.find("eyJ").unwrap()..];
    let bearer = &text[text.find("Bearer").unwrap()..];
    assert_eq!(
        got,
        pairs(&[("secrets.bearer-token", bearer), ("secrets.jwt", jwt)])
    );
}

#[test]
fn crm_note_finds_each_kind_of_data_once() {
    let s = default_rule_set().unwrap();
    let text = "PRIVILEGED & CONFIDENTIAL. Called Jane (jane.doe@example.com, +1 415 555 0132) \
                re SSN 123-45-6789; refund to card 4111 1111 1111 1111 or IBAN DE89 3704 0044 0532 0130 00. \
                Key AKIAIOSFODNN7EXAMPLE.";
    let found: Vec<String> = ids(&s, text, Direction::Request)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(
        found,
        [
            "legal.privilege-markers",
            "pii.email",
            "pii.phone",
            "pii.us-ssn",
            "pii.payment-card",
            "pii.iban",
            "secrets.aws-access-key-id"
        ]
    );
}

#[test]
fn look_alike_numbers_are_not_findings() {
    let s = default_rule_set().unwrap();
    let text = "Hearing 2024-01-15 in Docket No. 1:23-cv-04567; order ORD-12345678 and invoice \
                INV-2024-000123 shipped; build v10.2.3 (1.84.0); ticket 1234567812345678; \
                host 10.20.30.40; total $1,234,567.89; ref 2023/11/05 12:30:45.";
    assert_eq!(ids(&s, text, Direction::Request), []);
}

#[test]
fn fancy_limit_hit_is_reported_not_swallowed() {
    let s = set("[[rule]]\nid = \"t.slow\"\nkind = \"regex\"\npattern = '(a+)+\\1c'\naction = \"tag\"\nclass = \"public\"\n");
    let mut out = Vec::new();
    let text = format!("{}b", "a".repeat(40));
    assert_eq!(
        s.scan(&text, Direction::Request, &mut out),
        Err(LimitHit { rule: RuleIdx(0) })
    );
    // A failing example that hits the limit is reported as such.
    let s = set(&format!(
        "[[rule]]\nid = \"t.slow\"\nkind = \"regex\"\npattern = '(a+)+\\1c'\naction = \"tag\"\nclass = \"public\"\nexamples.no_match = [\"{text}\"]\n"
    ));
    let failures = s.run_examples();
    assert_eq!(failures.len(), 1);
    assert!(failures[0].limit_hit);
}

#[test]
fn unicode_case_insensitive_literals() {
    let s = set("[[rule]]\nid = \"t.fr\"\nkind = \"literal\"\ncase_insensitive = true\npatterns = [\"privilégié et confidentiel\", \"secret\"]\naction = \"tag\"\nclass = \"privileged\"\n");
    let text = "Note: PRIVILÉGIÉ ET CONFIDENTIEL, SECRET.";
    assert_eq!(
        ids(&s, text, Direction::Request),
        pairs(&[("t.fr", "PRIVILÉGIÉ ET CONFIDENTIEL"), ("t.fr", "SECRET")])
    );
}

#[test]
fn overlapping_literals_of_one_rule_merge() {
    let s = set("[[rule]]\nid = \"t.m\"\nkind = \"literal\"\npatterns = [\"Acme Corp\", \"Corp Holdings\"]\naction = \"redact\"\nclass = \"internal\"\n");
    assert_eq!(
        ids(&s, "see Acme Corp Holdings now", Direction::Request),
        pairs(&[("t.m", "Acme Corp Holdings")])
    );
}

#[test]
fn patterns_and_patterns_file_are_united() {
    let dir = temp_dir("union");
    std::fs::write(dir.join("names.txt"), "Globex\n  # comment\n\nInitech  \n").unwrap();
    std::fs::write(
        dir.join("a.toml"),
        "[[rule]]\nid = \"t.u\"\nkind = \"literal\"\npatterns = [\"Acme\"]\npatterns_file = \"names.txt\"\naction = \"tag\"\nclass = \"internal\"\n",
    )
    .unwrap();
    let s = load_dirs(std::slice::from_ref(&dir)).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(
        ids(&s, "Acme, Globex, Initech, # comment", Direction::Request),
        pairs(&[("t.u", "Acme"), ("t.u", "Globex"), ("t.u", "Initech")])
    );
}

#[test]
fn example_failures_say_where_and_what() {
    let s = set("[[rule]]\nid = \"t.e\"\nkind = \"literal\"\npatterns = [\"acme\"]\naction = \"tag\"\nclass = \"public\"\nexamples.match = [\"an acme deal\", \"nothing\"]\nexamples.no_match = [\"acme!\"]\n");
    assert_eq!(s.example_count(), 3);
    let failures: Vec<String> = s.run_examples().iter().map(ToString::to_string).collect();
    assert_eq!(
        failures,
        [
            "r.toml:7: rule `t.e`: example should match but did not: \"nothing\"",
            "r.toml:8: rule `t.e`: example should not match but did: \"acme!\""
        ]
    );
}

#[test]
fn empty_inputs_and_thread_safety() {
    fn shareable<T: Send + Sync>() {}
    shareable::<RuleSet>();
    let s = default_rule_set().unwrap();
    let mut out = Vec::new();
    s.scan("", Direction::Request, &mut out).unwrap();
    s.match_field("", Direction::Request, &mut Vec::new());
    assert!(out.is_empty());
    let empty = compile(&[]).unwrap();
    assert!(empty.is_empty() && !empty.has_field_rules());
    empty
        .scan("jane@example.com", Direction::Request, &mut out)
        .unwrap();
    assert!(out.is_empty());
}
