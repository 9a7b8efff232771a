#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use proptest::prelude::*;

use super::*;
use crate::rules::{compile, RuleSource};

pub(crate) const RULES: &str = r#"
[[rule]]
id = "out.email"
kind = "regex"
pattern = '''[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}'''
action = "redact"
class = "confidential"
scope = "response"

[[rule]]
id = "out.codename"
kind = "literal"
patterns = ["Falcon"]
action = "redact"
class = "internal"
scope = "both"

[[rule]]
id = "out.secret"
kind = "literal"
patterns = ["TOPSECRET"]
action = "block"
class = "privileged"
scope = "response"

[[rule]]
id = "out.watch"
kind = "literal"
patterns = ["Zeppelin"]
action = "redact"
class = "internal"
scope = "response"
mode = "monitor"

[[rule]]
id = "out.label"
kind = "literal"
patterns = ["EMAIL_1"]
action = "redact"
class = "internal"
scope = "response"

[[rule]]
id = "req.only"
kind = "literal"
patterns = ["Requestonly"]
action = "redact"
class = "internal"
"#;

pub(crate) fn output_rules() -> OutputRules {
    let set = compile(&[RuleSource {
        name: "out.toml".into(),
        text: RULES.into(),
        base_dir: None,
    }])
    .unwrap();
    OutputRules::new(Arc::new(set)).unwrap()
}

pub(crate) fn vault() -> Vault {
    let mut v = Vault::new();
    assert_eq!(v.placeholder_for("email", "jane@corp.example"), "⟦EMAIL_1⟧");
    v
}

fn ids(rules: &OutputRules, tally: &OutputTally) -> Vec<(String, u32)> {
    tally
        .findings()
        .map(|(r, n)| (rules.rules().rule(r).id.clone(), n))
        .collect()
}

#[test]
fn complete_text_redacts_counts_and_leaves_request_rules_alone() {
    let rules = output_rules();
    let mut tally = OutputTally::default();
    let out = filter_complete(
        &rules,
        &Vault::new(),
        "Mail bob@x.example about Falcon, Zeppelin and Requestonly.",
        &mut tally,
    )
    .unwrap();
    assert_eq!(
        out,
        "Mail [REDACTED:out.email] about [REDACTED:out.codename], Zeppelin and Requestonly."
    );
    assert_eq!(
        ids(&rules, &tally),
        [
            ("out.email".to_owned(), 1),
            ("out.codename".to_owned(), 1),
            ("out.watch".to_owned(), 1)
        ]
    );
    assert_eq!(tally.blocked(), None);
}

#[test]
fn placeholders_of_the_vault_are_never_matched() {
    // `out.label` matches `EMAIL_1` inside `⟦EMAIL_1⟧` if the placeholder were ordinary text;
    // it stands for the user's own value, is left whole, and is restored later.
    let rules = output_rules();
    let mut tally = OutputTally::default();
    let text = "to ⟦EMAIL_1⟧, twice:⟦EMAIL_1⟧.";
    assert_eq!(filter_complete(&rules, &vault(), text, &mut tally), None);
    assert!(tally.is_empty());
    let mut tally = OutputTally::default();
    let out = filter_complete(&rules, &vault(), "bare EMAIL_1 here", &mut tally).unwrap();
    assert_eq!(out, "bare [REDACTED:out.label] here");
    // A placeholder this request never made is ordinary text.
    let mut tally = OutputTally::default();
    let out = filter_complete(&rules, &vault(), "⟦EMAIL_7⟧ a@b.example", &mut tally).unwrap();
    assert_eq!(out, "⟦EMAIL_7⟧ [REDACTED:out.email]");
}

#[test]
fn block_is_reported_and_nothing_after_the_match_start_is_returned_as_final() {
    let rules = output_rules();
    let mut f = StreamFilter::new();
    let mut tally = OutputTally::default();
    let mut sent = String::new();
    for piece in ["The code is TOP", "SEC", "RET and more"] {
        let out = f.push(&rules, &Vault::new(), piece, &mut tally);
        if tally.blocked().is_some() {
            break;
        }
        sent.push_str(&out);
    }
    let rule = tally.blocked().unwrap();
    assert_eq!(rules.rules().rule(rule).id, "out.secret");
    assert!(!sent.contains("TOP"), "{sent}");
}

#[test]
fn hold_back_is_the_trailing_run_only() {
    let rules = output_rules();
    let v = Vault::new();
    let mut f = StreamFilter::new();
    let mut tally = OutputTally::default();
    // `;` and `!` are outside every response rule's alphabet: nothing before them is held.
    assert_eq!(
        f.push(&rules, &v, "Hello; world!", &mut tally),
        "Hello; world!"
    );
    assert_eq!(f.held_len(), 0);
    // A word may still grow into an address: it waits for the next separator.
    assert_eq!(f.push(&rules, &v, " write bob", &mut tally), " write ");
    assert_eq!(f.held_len(), 3);
    assert_eq!(f.push(&rules, &v, "@x.exa", &mut tally), "");
    assert_eq!(
        f.push(&rules, &v, "mple now", &mut tally),
        "[REDACTED:out.email] "
    );
    assert_eq!(f.finish(&rules, &v, &mut tally), "now");
    assert_eq!(ids(&rules, &tally), [("out.email".to_owned(), 1)]);
}

#[test]
fn a_run_longer_than_the_hold_is_released_and_a_match_across_the_cut_goes_whole() {
    let rules = output_rules();
    let v = Vault::new();
    let hold = rules.rules().response_stream_bound().hold();
    let mut f = StreamFilter::new();
    let mut tally = OutputTally::default();
    let long = "a".repeat(3 * hold);
    let out = f.push(&rules, &v, &long, &mut tally);
    assert_eq!(out.len(), 2 * hold);
    assert_eq!(f.held_len(), hold);
    let out = f.push(&rules, &v, "@x.example", &mut tally);
    assert!(out.ends_with("[REDACTED:out.email]"), "{out}");
    assert!(!out.contains("@x"));
}

fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z .;,!\n]{0,7}",
        2 => proptest::sample::select(vec![
            "bob@x.example", "a.b+c@mail.corp.example", "Falcon", "Falcons", "xFalcon",
            "Zeppelin", "⟦EMAIL_1⟧", "⟦EMAIL_2⟧", "⟦EMA", "@", "é", "TOPSECRET",
        ])
        .prop_map(str::to_owned),
    ]
}

fn cut(text: &str, cuts: &[usize]) -> Vec<String> {
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
    at.push(text.len());
    let mut start = 0;
    at.into_iter()
        .map(|end| {
            let s = text[start..end].to_owned();
            start = end;
            s
        })
        .collect()
}

proptest! {
    /// However the model's text is cut, the stream filter sends exactly what filtering the whole
    /// text sends, counts the same findings, and never holds more than the bound.
    #[test]
    fn stream_filter_equals_batch_at_any_split(
        text in prop::collection::vec(piece(), 0..14).prop_map(|p| p.concat()),
        cuts in prop::collection::vec(0usize..200, 0..10),
    ) {
        let rules = output_rules();
        let v = vault();
        let mut batch_tally = OutputTally::default();
        let batch = filter_complete(&rules, &v, &text, &mut batch_tally)
            .unwrap_or_else(|| text.clone());
        let mut f = StreamFilter::new();
        let mut tally = OutputTally::default();
        let mut streamed = String::new();
        for frag in cut(&text, &cuts) {
            let out = f.push(&rules, &v, &frag, &mut tally);
            if tally.blocked().is_some() {
                break;
            }
            streamed.push_str(&out);
            prop_assert!(f.held_len() <= rules.rules().response_stream_bound().hold());
        }
        if tally.blocked().is_none() {
            streamed.push_str(&f.finish(&rules, &v, &mut tally));
        }
        prop_assert_eq!(tally.blocked().is_some(), batch_tally.blocked().is_some());
        if tally.blocked().is_none() {
            prop_assert_eq!(&streamed, &batch);
            prop_assert_eq!(tally, batch_tally);
        } else {
            // What was sent before the block is what filtering the text up to the blocking
            // match sends: final text only, never the match.
            let mut found = Vec::new();
            rules.rules().scan(&text, crate::types::Direction::Response, &mut found).unwrap();
            let secret = rules.rules().find("out.secret").unwrap();
            let at = found.iter().find(|m| m.rule == secret).unwrap().range.start;
            let before = filter_complete(&rules, &v, &text[..at], &mut OutputTally::default())
                .unwrap_or_else(|| text[..at].to_owned());
            prop_assert!(before.starts_with(&streamed), "{:?} vs {:?}", streamed, before);
        }
    }
}
