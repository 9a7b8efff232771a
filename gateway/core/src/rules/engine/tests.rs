#![allow(clippy::unwrap_used, clippy::panic)]

use super::*;
use crate::rules::pattern::compile;

fn engine(literals: &[(u32, &str, bool)], regexes: &[(u32, &str, Option<Validator>)]) -> Engine {
    let literals: Vec<LiteralSpec> = literals
        .iter()
        .map(|&(rule, text, ci)| LiteralSpec {
            rule: RuleIdx(rule),
            text: text.into(),
            case_insensitive: ci,
        })
        .collect();
    let regexes = regexes
        .iter()
        .map(|&(rule, p, v)| {
            let c = compile(p).unwrap_or_else(|e| panic!("{p}: {}", e.message));
            (RuleIdx(rule), c, v)
        })
        .collect();
    Engine::build(&literals, regexes).unwrap()
}

fn found(e: &Engine, hay: &str) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    e.scan(hay, |_| true, &mut out).unwrap();
    out.sort_by_key(|(r, range)| (range.start, r.0, range.end));
    out.into_iter()
        .map(|(r, range)| (r.0, hay[range].to_owned()))
        .collect()
}

fn pairs(v: &[(u32, &str)]) -> Vec<(u32, String)> {
    v.iter().map(|&(r, s)| (r, s.to_owned())).collect()
}

#[test]
fn literal_word_boundaries() {
    let e = engine(&[(0, "Acme", false), (1, "@acme.com", true)], &[]);
    assert_eq!(
        found(&e, "Acme Corp (Acme)"),
        pairs(&[(0, "Acme"), (0, "Acme")])
    );
    assert!(found(&e, "Acmeister BigAcme Acme_1 Acme2 éAcme").is_empty());
    assert_eq!(
        found(&e, "«Acme» bob@ACME.COM"),
        pairs(&[(0, "Acme"), (1, "@ACME.COM")])
    );
}

#[test]
fn mixed_case_sensitivity_confirms_exact_bytes() {
    let e = engine(&[(0, "Orion", false), (1, "privileged", true)], &[]);
    assert_eq!(
        found(&e, "orion Orion PRIVILEGED"),
        pairs(&[(0, "Orion"), (1, "PRIVILEGED")])
    );
}

#[test]
fn same_text_in_two_rules_and_overlapping_literals_are_all_reported() {
    let e = engine(&[(0, "Orion", true), (1, "orion", true)], &[]);
    assert_eq!(
        found(&e, "Project Orion"),
        pairs(&[(0, "Orion"), (1, "Orion")])
    );
    let e = engine(
        &[
            (0, "Acme Corp", true),
            (0, "Corp Holdings", true),
            (0, "Acme", true),
        ],
        &[],
    );
    assert_eq!(
        found(&e, "Acme Corp Holdings"),
        pairs(&[(0, "Acme"), (0, "Acme Corp"), (0, "Corp Holdings")])
    );
}

#[test]
fn overlapping_regex_rules_all_find_their_matches() {
    // Both run-gated; one run holds both matches.
    let e = engine(
        &[],
        &[
            (0, r"[0-9]{3}-[0-9]{2}-[0-9]{4}", None),
            (1, r"[0-9]{2}-[0-9]{4}", None),
        ],
    );
    assert_eq!(
        found(&e, "id 123-45-6789."),
        pairs(&[(0, "123-45-6789"), (1, "45-6789")])
    );
    // A word-gated and a free rule on the same span.
    let e = engine(
        &[],
        &[
            (0, r"(?-u:\b)tok_[a-z0-9]{8}", None),
            (1, r"[a-z]+_[a-z0-9]+", None),
        ],
    );
    assert_eq!(
        found(&e, "use tok_abcd1234 now"),
        pairs(&[(0, "tok_abcd1234"), (1, "tok_abcd1234")])
    );
}

#[test]
fn word_gated_regexes_match_only_at_their_prefixes() {
    let e = engine(
        &[],
        &[(0, r"(?-u:\b)(?:ghp|gho)_[A-Za-z0-9]{6}(?-u:\b)", None)],
    );
    assert_eq!(
        found(
            &e,
            "ghp_abc123 xghp_abc123 (gho_ZZZ999) GHP_abc123 ghp_abc1234"
        ),
        pairs(&[(0, "ghp_abc123"), (0, "gho_ZZZ999")])
    );
}

#[test]
fn validator_failures_resume_inside_the_match_and_shrink() {
    let e = engine(&[], &[(0, r"[0-9]{16}", Some(Validator::Luhn))]);
    // 17 digits: the first 16 fail Luhn, the last 16 pass.
    assert_eq!(
        found(&e, "x 14111111111111111 y"),
        pairs(&[(0, "4111111111111111")])
    );
    assert!(found(&e, "1234567812345678").is_empty());
    let e = engine(
        &[],
        &[(
            0,
            r"(?-u:\b)[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?-u:\b)",
            Some(Validator::Iban),
        )],
    );
    assert_eq!(
        found(&e, "pay BE68 5390 0754 7034 FROM ACME"),
        pairs(&[(0, "BE68 5390 0754 7034")])
    );
}

#[test]
fn fancy_regexes_run_and_their_limit_is_a_hit() {
    let e = engine(&[], &[(0, r"(?<=key=)[a-z]+", None)]);
    assert_eq!(found(&e, "a key=abc"), pairs(&[(0, "abc")]));
    let e = engine(&[], &[(0, r"(a+)+\1c", None)]);
    let mut out = Vec::new();
    let hay = format!("{}b", "a".repeat(40));
    assert_eq!(
        e.scan(&hay, |_| true, &mut out),
        Err(LimitHit { rule: RuleIdx(0) })
    );
}

#[test]
fn keep_filters_every_path() {
    let e = engine(
        &[(0, "acme", true), (1, "@x.com", true)],
        &[
            (2, r"(?-u:\b)tok_[0-9]{4}", None),
            (3, r"[0-9]{3}-[0-9]{4}", None),
            (4, r"[a-z]+=[0-9]+", None),
        ],
    );
    let hay = "acme a@x.com tok_1234 555-1234 k=1";
    let mut out = Vec::new();
    e.scan(hay, |_| true, &mut out).unwrap();
    assert_eq!(out.len(), 5);
    out.clear();
    e.scan(hay, |_| false, &mut out).unwrap();
    assert!(out.is_empty());
}

mod equivalence {
    //! The gates never change what is found: for every rule, the engine reports exactly what a
    //! plain search of the whole text with that rule alone reports.

    use super::*;
    use proptest::prelude::*;
    use regex_automata::meta::Regex;
    use std::sync::OnceLock;

    /// Regexes of the default packs without validators (validators are covered above), plus
    /// shapes that exercise each gate.
    const REGEXES: &[&str] = &[
        r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?-u:\b)",
        r"\+[1-9][0-9]{0,2}[ .-]?(?:\([0-9]{1,4}\)[ .-]?)?(?:[0-9][ .-]?){5,13}[0-9](?-u:\b)|(?:\([2-9][0-9]{2}\)[ .-]?|(?-u:\b)[2-9][0-9]{2}[ .-])[2-9][0-9]{2}[ .-][0-9]{4}(?-u:\b)",
        r"(?-u:\b)[0-9]{3}-[0-9]{2}-[0-9]{4}(?-u:\b)",
        r"(?-u:\b)(?:AKIA|ASIA)[A-Z2-7]{4}(?-u:\b)",
        r"-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY-----",
        r"(?-u:\b)(?i:bearer)[ ]+[A-Za-z0-9._~+/-]{4,}=*",
        r"(?-u:\b)(?:gh[pousr]_[A-Za-z0-9]{4}|github_pat_[A-Za-z0-9_]{4,})(?-u:\b)",
        r"\bsk-[a-z0-9]{3,}",
        r"[A-Z]{2}[0-9]{2}",
        r"\b[A-Z][a-z]+ Corp\b",
        r#"(?i:secret_?key)["']?[ ]*[:=][ ]*[A-Za-z0-9/+]{4}"#,
    ];
    const LITERALS: &[(&str, bool)] = &[
        ("acme corp", true),
        ("Acme", false),
        ("legal hold", true),
        ("@acme.com", true),
        ("privilégié", true),
        ("Zoë", false),
        ("42", false),
    ];
    const PIECES: &[&str] = &[
        " ",
        "  ",
        "-",
        ".",
        "(",
        ")",
        "+",
        "_",
        "@",
        ",",
        "\n",
        "a",
        "Acme",
        "ACME",
        "acme",
        "corp",
        "Corp",
        "legal",
        "hold",
        "Legal Hold",
        "acme.com",
        "bob",
        "é",
        "«",
        "»",
        "Zoë",
        "PRIVILÉGIÉ",
        "privilégié",
        "1",
        "2",
        "42",
        "415",
        "555",
        "0132",
        "123",
        "45",
        "6789",
        "+44",
        "20",
        "AKIA",
        "ASIA",
        "ABCD",
        "WXYZ",
        "2345",
        "-----BEGIN ",
        "RSA ",
        "PRIVATE KEY-----",
        "Bearer ",
        "secret_key",
        "SecretKey",
        ":",
        "=",
        "\"",
        "bearer",
        "tok.en/+~",
        "ghp_",
        "gho_",
        "github_pat_",
        "x1y2",
        "sk-",
        "abc123",
        "DE",
        "89",
        "Zq",
    ];

    fn reference(hay: &str) -> Vec<(u32, Range<usize>)> {
        static RE: OnceLock<Vec<Regex>> = OnceLock::new();
        let regexes = RE.get_or_init(|| REGEXES.iter().map(|p| Regex::new(p).unwrap()).collect());
        let mut out = Vec::new();
        for (i, re) in regexes.iter().enumerate() {
            out.extend(re.find_iter(hay).map(|m| (i as u32, m.range())));
        }
        for (j, (lit, ci)) in LITERALS.iter().enumerate() {
            let rule = (REGEXES.len() + j) as u32;
            let (needle, text) = if *ci {
                (lit.to_lowercase(), hay.to_lowercase())
            } else {
                (lit.to_string(), hay.to_string())
            };
            // Lowercasing keeps byte offsets for this alphabet (é/É are both 2 bytes).
            assert_eq!(text.len(), hay.len());
            let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
            for (s, _) in text.match_indices(&needle) {
                let e = s + needle.len();
                let starts_word = word(needle.chars().next());
                let ends_word = word(needle.chars().next_back());
                if (starts_word && word(hay[..s].chars().next_back()))
                    || (ends_word && word(hay[e..].chars().next()))
                {
                    continue;
                }
                out.push((rule, s..e));
            }
        }
        out.sort_by_key(|(r, x)| (*r, x.start, x.end));
        out
    }

    fn engine_under_test() -> &'static Engine {
        static ENGINE: OnceLock<Engine> = OnceLock::new();
        ENGINE.get_or_init(build_under_test)
    }

    fn build_under_test() -> Engine {
        let literals: Vec<(u32, &str, bool)> = LITERALS
            .iter()
            .enumerate()
            .map(|(j, (l, ci))| ((REGEXES.len() + j) as u32, *l, *ci))
            .collect();
        let regexes: Vec<(u32, &str, Option<Validator>)> = REGEXES
            .iter()
            .enumerate()
            .map(|(i, p)| (i as u32, *p, None))
            .collect();
        engine(&literals, &regexes)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        #[test]
        fn gated_search_equals_plain_search(pieces in proptest::collection::vec(0..PIECES.len(), 0..120)) {
            let hay: String = pieces.iter().map(|&i| PIECES[i]).collect();
            let e = engine_under_test();
            let mut got = Vec::new();
            e.scan(&hay, |_| true, &mut got).unwrap();
            // Non-ASCII case-insensitive literals live in the lowercase view.
            let lower = crate::normalize::normalize_lowercase(&hay);
            let mut low = Vec::new();
            e.scan_lowercase(lower.as_str(), |_| true, &mut low);
            got.extend(low.into_iter().map(|(r, x)| (r, lower.original_range(x))));
            got.sort_by_key(|(r, x)| (r.0, x.start, x.end));
            let got: Vec<(u32, Range<usize>)> = got.into_iter().map(|(r, x)| (r.0, x)).collect();
            prop_assert_eq!(got, reference(&hay), "{:?}", hay);
        }
    }
}

#[test]
fn texts_as_short_as_the_shortest_rule_are_still_searched() {
    let e = engine(&[(0, "Acme", false)], &[(1, r"[0-9]{3}", None)]);
    assert_eq!(e.min_len, 3);
    assert_eq!(found(&e, "123"), pairs(&[(1, "123")]));
    assert!(found(&e, "12").is_empty());
    assert_eq!(found(&e, "Acme"), pairs(&[(0, "Acme")]));
    // fancy-regex does not report a minimum length: nothing is skipped.
    let e = engine(&[(0, "Acme", false)], &[(1, r"(?<=k)v", None)]);
    assert_eq!(e.min_len, 0);
    assert_eq!(found(&e, "kv"), pairs(&[(1, "v")]));
}
