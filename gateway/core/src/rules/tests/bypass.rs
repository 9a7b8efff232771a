//! Disguised content still matches the default rules, and each finding maps back to exactly the
//! original bytes that carried it (so redaction removes the disguise too).

use super::super::*;
use crate::types::Direction;
use std::sync::OnceLock;

fn defaults() -> &'static RuleSet {
    static SET: OnceLock<RuleSet> = OnceLock::new();
    SET.get_or_init(|| default_rule_set().unwrap())
}

/// The original substrings that rule `id` found in `text`.
fn found<'t>(text: &'t str, id: &str) -> Vec<&'t str> {
    let set = defaults();
    let rule = set.find(id).unwrap();
    let mut out = Vec::new();
    set.scan(text, Direction::Request, &mut out).unwrap();
    out.iter()
        .filter(|m| m.rule == rule)
        .map(|m| &text[m.range.clone()])
        .collect()
}

#[test]
fn fullwidth_email() {
    let text = "contact ｊｏｈｎ＠ｅｘａｍｐｌｅ．ｃｏｍ today";
    assert_eq!(
        found(text, "pii.email"),
        ["ｊｏｈｎ＠ｅｘａｍｐｌｅ．ｃｏｍ"]
    );
}

#[test]
fn zero_width_and_bidi_characters_inside_an_email() {
    let text = "mail jane\u{200B}.doe@exa\u{200C}mple\u{202E}.com now";
    assert_eq!(
        found(text, "pii.email"),
        ["jane\u{200B}.doe@exa\u{200C}mple\u{202E}.com"]
    );
}

#[test]
fn cyrillic_look_alikes_in_a_privilege_legend() {
    // Р, е, о, а below are Cyrillic.
    let text = "Рrivilеgеd аnd Cоnfidential: draft";
    assert_eq!(
        found(text, "legal.privilege-markers"),
        ["Рrivilеgеd аnd Cоnfidential"]
    );
    let text = "АTTORNEY WΟRK PRODUCT";
    assert_eq!(found(text, "legal.privilege-markers"), [text]);
}

#[test]
fn soft_hyphens_inside_an_ssn() {
    let text = "SSN 123\u{00AD}-45-67\u{00AD}89.";
    assert_eq!(found(text, "pii.us-ssn"), ["123\u{00AD}-45-67\u{00AD}89"]);
}

#[test]
fn en_dash_separators_in_an_ssn() {
    let text = "ssn 123\u{2013}45\u{2013}6789 ok";
    assert_eq!(found(text, "pii.us-ssn"), ["123\u{2013}45\u{2013}6789"]);
}

#[test]
fn fullwidth_digits_in_an_ssn() {
    let text = "ssn １２３-４５-６７８９";
    assert_eq!(found(text, "pii.us-ssn"), ["１２３-４５-６７８９"]);
}

#[test]
fn no_break_spaces_in_a_card_number() {
    let text = "card 4111\u{00A0}1111\u{00A0}1111\u{00A0}1111 exp";
    assert_eq!(
        found(text, "pii.payment-card"),
        ["4111\u{00A0}1111\u{00A0}1111\u{00A0}1111"]
    );
}

#[test]
fn tag_characters_inside_a_key_and_a_legend() {
    let text = "id AKIA\u{E0041}IOSFODNN7EXAMPLE\u{E007F} end";
    assert_eq!(
        found(text, "secrets.aws-access-key-id"),
        ["AKIA\u{E0041}IOSFODNN7EXAMPLE"]
    );
    let text = "attorney work pro\u{E0064}\u{E0075}duct";
    assert_eq!(found(text, "legal.privilege-markers"), [text]);
}

#[test]
fn disguised_field_names() {
    let set = defaults();
    let rule = set.find("legal.privileged-fields").unwrap();
    for key in [
        "Legal_Case_Strategy__c",
        "legal\u{200B}_case_strategy__c",
        "ｌｅｇａｌ_case_strategy__c",
        "SETTLEMENT_TERMS__C",
        "Matter_Memo_Privileged__c",
    ] {
        let mut out = Vec::new();
        set.match_field(key, Direction::Request, &mut out);
        assert_eq!(out, [rule], "{key:?}");
    }
}

#[test]
fn non_ascii_text_keeps_offsets_of_untouched_parts() {
    // The finding sits after characters that normalization changes; its range must still land on
    // the original bytes.
    let text = "Müller – ｎｏｔｅ: reach jane@example.com";
    assert_eq!(found(text, "pii.email"), ["jane@example.com"]);
}
