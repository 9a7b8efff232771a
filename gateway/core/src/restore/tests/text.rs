//! The text channel: equal to the batch restore however the text is cut, minimal hold-back.

use proptest::prelude::*;

use super::super::text::{restore_str, Mode, TextRestorer};
use super::{vault, EMAIL, NAME, PHONE};
use crate::vault::{Vault, MAX_PLACEHOLDER_LEN};

/// A vault with placeholders sharing prefixes (`EMAIL_1`, `EMAIL_10`, ...) and a longest label.
fn big_vault() -> (Vault, Vec<String>) {
    let mut v = Vault::new();
    let mut placeholders = Vec::new();
    for i in 1..=12 {
        placeholders.push(
            v.placeholder_for("email", &format!("user{i}@example.com"))
                .to_owned(),
        );
    }
    placeholders.push(v.placeholder_for("phone", "+1 555 0100").to_owned());
    placeholders.push(
        v.placeholder_for(&"x".repeat(40), "long label value")
            .to_owned(),
    );
    (v, placeholders)
}

fn piece(placeholders: Vec<String>) -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z é✓⟧\n]{0,6}",
        3 => proptest::sample::select(placeholders),
        2 => proptest::sample::select(vec![
            "⟦EMAIL_99⟧", "⟦PHONE_2⟧", "⟦⟧", "⟦EMAIL_1", "⟦", "⟦⟦", "⟦EMAIL_1 ⟧", "⟦email_1⟧",
            "⟦EMAIL_", "⟦XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX⟧",
        ])
        .prop_map(str::to_owned),
    ]
}

fn text_and_cuts() -> impl Strategy<Value = (String, Vec<usize>)> {
    let (_, placeholders) = big_vault();
    (
        prop::collection::vec(piece(placeholders), 0..16).prop_map(|p| p.concat()),
        prop::collection::vec(0usize..400, 0..12),
    )
}

/// Cuts `text` into fragments at the given offsets, moved back to character boundaries.
fn fragments(text: &str, cuts: &[usize]) -> Vec<String> {
    let mut at: Vec<usize> = cuts
        .iter()
        .map(|&c| {
            let mut c = c.min(text.len());
            while !text.is_char_boundary(c) {
                c -= 1;
            }
            c
        })
        .collect();
    at.sort_unstable();
    let mut out = Vec::new();
    let mut start = 0;
    for c in at.into_iter().chain(std::iter::once(text.len())) {
        out.push(text[start..c].to_owned());
        start = c;
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn streaming_equals_batch_and_holds_back_minimally((text, cuts) in text_and_cuts()) {
        let (vault, placeholders) = big_vault();
        let mut r = TextRestorer::new(&vault);
        let mut all = String::new();
        for fragment in fragments(&text, &cuts) {
            let held_before = r.held_len();
            let out = r.push(&fragment);
            if held_before == 0 && !fragment.contains('⟦') {
                prop_assert_eq!(&out, &fragment);
            }
            prop_assert!(r.held_len() < MAX_PLACEHOLDER_LEN);
            for p in &placeholders {
                prop_assert!(!out.contains(p.as_str()), "{:?} leaked in {:?}", p, out);
            }
            all.push_str(&out);
        }
        all.push_str(&r.finish());
        let (expected, count) = vault.restore(&text);
        prop_assert_eq!(&all, &*expected);
        prop_assert_eq!(r.restored(), count);
        for p in &placeholders {
            prop_assert!(!all.contains(p.as_str()));
        }
        let (batch, batch_count) = restore_str(&vault, &text, Mode::Text);
        prop_assert_eq!(&*batch, &*expected);
        prop_assert_eq!(batch_count, count);
    }

    #[test]
    fn json_mode_streaming_equals_json_mode_batch((text, cuts) in text_and_cuts()) {
        let vault = vault();
        let text = text.replace("⟦EMAIL_1⟧", "⟦NAME_1⟧");
        let mut r = TextRestorer::with_mode(&vault, Mode::JsonString);
        let mut all = String::new();
        for fragment in fragments(&text, &cuts) {
            all.push_str(&r.push(&fragment));
        }
        all.push_str(&r.finish());
        prop_assert_eq!(&all, &*restore_str(&vault, &text, Mode::JsonString).0);
        prop_assert!(!all.contains("⟦NAME_1⟧"));
    }
}

#[test]
fn a_placeholder_cut_in_two_is_held_then_restored() {
    let vault = vault();
    let mut r = TextRestorer::new(&vault);
    assert_eq!(r.push("Mail ⟦EMA"), "Mail ");
    assert_eq!(r.held_len(), "⟦EMA".len());
    assert_eq!(r.push("IL_1⟧ now"), format!("{EMAIL} now"));
    assert_eq!(r.held_len(), 0);
    assert_eq!(r.push("⟦"), "");
    assert_eq!(r.push("PHONE_1"), "");
    assert_eq!(r.push("⟧"), PHONE);
    assert_eq!(r.restored(), 2);
}

#[test]
fn only_prefixes_of_this_vaults_placeholders_are_held() {
    let vault = vault();
    let mut r = TextRestorer::new(&vault);
    // No placeholder of the vault starts like these: nothing to wait for.
    assert_eq!(r.push("see ⟦X"), "see ⟦X");
    assert_eq!(r.push("⟦EMAIL_9"), "⟦EMAIL_9");
    assert_eq!(r.push("⟦EMAIL_1 "), "⟦EMAIL_1 ");
    assert_eq!(r.held_len(), 0);
    // An invented placeholder passes through; a mangled one is never mapped to another value.
    assert_eq!(r.push("⟦EMAIL_1"), "");
    assert_eq!(r.push("0⟧"), "⟦EMAIL_10⟧");
    assert_eq!(r.restored(), 0);
}

#[test]
fn unfinished_placeholder_is_flushed_as_is() {
    let vault = vault();
    let mut r = TextRestorer::new(&vault);
    assert_eq!(r.push("end ⟦PHO"), "end ");
    assert_eq!(r.finish(), "⟦PHO");
    assert_eq!(r.finish(), "");
    assert_eq!(r.push("again"), "again");
}

#[test]
fn empty_vault_never_holds() {
    let vault = Vault::new();
    let mut r = TextRestorer::new(&vault);
    assert_eq!(r.push("⟦"), "⟦");
    assert_eq!(r.push("⟦EMAIL_1⟧"), "⟦EMAIL_1⟧");
    assert_eq!(r.held_len(), 0);
}

#[test]
fn restored_values_are_not_restored_again() {
    let mut vault = Vault::new();
    vault.placeholder_for("a", "⟦B_1⟧");
    vault.placeholder_for("b", "secret");
    let mut r = TextRestorer::new(&vault);
    assert_eq!(r.push("⟦A_1⟧"), "⟦B_1⟧");
    assert_eq!(r.restored(), 1);
}

#[test]
fn json_mode_escapes_the_original() {
    let vault = vault();
    let mut r = TextRestorer::with_mode(&vault, Mode::JsonString);
    let mut args = r.push(r#"{"name": "⟦NAM"#);
    args.push_str(&r.push(r#"E_1⟧", "mail": "⟦EMAIL_1⟧"}"#));
    args.push_str(&r.finish());
    let parsed: serde_json::Value = serde_json::from_str(&args).unwrap();
    assert_eq!(parsed["name"], NAME);
    assert_eq!(parsed["mail"], EMAIL);
    let (ctl, _) = restore_str(&control_vault(), "⟦C_1⟧", Mode::JsonString);
    assert_eq!(ctl, "a\\u0001\\t\\b\\f\\r");
}

fn control_vault() -> Vault {
    let mut v = Vault::new();
    v.placeholder_for("c", "a\u{1}\t\u{8}\u{c}\r");
    v
}

#[test]
fn open_str_is_the_vaults_open() {
    assert_eq!(super::super::text::OPEN_STR, crate::vault::OPEN.to_string());
}
