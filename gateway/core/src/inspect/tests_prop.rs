//! Property test: random provider-shaped bodies with secrets planted at random depths in random
//! encodings. None survives; transforming twice equals transforming once; output always parses.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::tests::{fold, folded_strings, rules};
use super::*;
use crate::transform::transform;
use crate::types::DestinationKind;
use crate::vault::Vault;
use proptest::prelude::*;
use std::sync::OnceLock;

const SECRETS: [&str; 5] = [
    "jane.doe@example.com",
    "123-45-6789",
    "4111 1111 1111 1111",
    "AKIAIOSFODNN7EXAMPLE",
    "DE89 3704 0044 0532 0130 00",
];

/// Ways to write a string's characters inside a JSON string literal.
#[derive(Debug, Clone, Copy)]
enum Enc {
    Plain,
    UnicodeEscapes,
    Fullwidth,
    ZeroWidth,
}

fn encode(s: &str, enc: Enc) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match enc {
            Enc::Plain => out.push(c),
            Enc::UnicodeEscapes => out.push_str(&format!("\\u{:04x}", c as u32)),
            Enc::Fullwidth => match c {
                '!'..='~' => out.push(char::from_u32(c as u32 - 0x21 + 0xFF01).unwrap()),
                _ => out.push(c),
            },
            Enc::ZeroWidth => {
                out.push(c);
                out.push('\u{200B}');
            }
        }
    }
    out
}

fn enc() -> impl Strategy<Value = Enc> {
    prop_oneof![
        Just(Enc::Plain),
        Just(Enc::UnicodeEscapes),
        Just(Enc::Fullwidth),
        Just(Enc::ZeroWidth)
    ]
}

fn filler() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("status"),
            Just("of the"),
            Just("renewal"),
            Just("Q3"),
            Just("café"),
            Just("notes:"),
            Just("2024-01-15")
        ],
        0..6,
    )
    .prop_map(|w| w.join(" "))
}

/// Wraps a JSON string literal (already encoded, with quotes) at a random place of a chat body.
fn place(lit: String, shape: u8, depth: u8) -> String {
    let mut inner = match shape % 5 {
        0 => format!(r#"{{"role":"user","content":{lit}}}"#),
        1 => format!(
            r#"{{"role":"user","content":[{{"type":"text","text":"intro"}},{{"type":"text","text":{lit}}}]}}"#
        ),
        2 => {
            // Inside tool-call arguments: JSON in a string, escaped once more.
            let args = format!(r#"{{"note":{lit}}}"#);
            let escaped = serde_json::to_string(&args).unwrap();
            format!(
                r#"{{"role":"assistant","tool_calls":[{{"id":"c1","type":"function","function":{{"name":"f","arguments":{escaped}}}}}]}}"#
            )
        }
        3 => format!(r#"{{"role":"user","content":"hi","metadata":{{"nested":[{{"v":{lit}}}]}}}}"#),
        _ => format!(r#"{{"role":"tool","tool_call_id":"c1","content":{lit}}}"#),
    };
    for _ in 0..depth {
        inner = format!(r#"{{"role":"user","content":"x","extra":[{inner}]}}"#);
    }
    format!(
        r#"{{"model":"gpt-4o","temperature":0.70,"messages":[{{"role":"system","content":"be brief"}},{inner}]}}"#
    )
}

fn shared_rules() -> &'static RuleSet {
    static R: OnceLock<RuleSet> = OnceLock::new();
    R.get_or_init(rules)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn planted_secrets_never_survive(
        which in 0..SECRETS.len(),
        e in enc(),
        before in filler(),
        after in filler(),
        shape in 0u8..5,
        depth in 0u8..12,
    ) {
        let secret = SECRETS[which];
        let lit = format!("\"{before} {} {after}\"", encode(secret, e));
        let body = place(lit, shape, depth);
        let rules = shared_rules();
        let report = inspect(body.as_bytes(), rules, Direction::Request).unwrap();
        prop_assert!(!report.findings.is_empty(), "nothing found in {}", body);
        let mut vault = Vault::new();
        let once = transform(body.as_bytes(), rules, Direction::Request, DestinationKind::External, &mut vault).unwrap();
        let out = once.body.clone().unwrap_or_else(|| body.clone().into_bytes());
        // Output always parses, with our strict parser and with serde_json.
        prop_assert!(crate::json::parse(&out).is_ok());
        let folded = folded_strings(&out);
        prop_assert!(!folded.contains(&fold(secret)), "survived in {}", String::from_utf8_lossy(&out));
        // Transforming twice equals transforming once.
        let twice = transform(&out, rules, Direction::Request, DestinationKind::External, &mut Vault::new()).unwrap();
        prop_assert_eq!(twice.body, None, "second pass changed {}", String::from_utf8_lossy(&out));
    }
}
