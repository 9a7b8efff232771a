//! Every kind of rule-file mistake is reported with its exact file:line:column, and all of them
//! at once.

use super::super::*;
use super::temp_dir;

fn errors(files: &[(&str, &str)]) -> Vec<RuleError> {
    let sources: Vec<RuleSource> = files
        .iter()
        .map(|(name, text)| RuleSource {
            name: (*name).into(),
            text: (*text).into(),
            base_dir: None,
        })
        .collect();
    match compile(&sources) {
        Ok(_) => panic!("expected errors"),
        Err(e) => e.errors().to_vec(),
    }
}

fn one(text: &str) -> RuleError {
    let errs = errors(&[("r.toml", text)]);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    errs.into_iter().next().unwrap()
}

fn pos(e: &RuleError) -> (&str, usize, usize) {
    (e.file(), e.line(), e.column())
}

/// A valid literal rule to embed problems in; `extra` lines go at its end.
fn literal(extra: &str) -> String {
    format!(
        "[[rule]]\nid = \"t.lit\"\nkind = \"literal\"\npatterns = [\"acme\"]\naction = \"tag\"\nclass = \"internal\"\n{extra}"
    )
}

#[test]
fn syntax_errors_point_at_the_break() {
    let e = one("[[rule]\nid = \"x\"\n");
    assert_eq!(e.kind(), RuleErrorKind::Syntax);
    assert_eq!(pos(&e), ("r.toml", 1, 8));
    assert!(e.message().starts_with("invalid TOML"), "{}", e.message());
}

#[test]
fn several_syntax_errors_in_one_file_are_all_reported() {
    let errs = errors(&[("r.toml", "[[rule]\nid = \"x\" = 2\n")]);
    let at: Vec<_> = errs
        .iter()
        .map(|e| (e.line(), e.column(), e.kind()))
        .collect();
    assert_eq!(
        at,
        [
            (1, 8, RuleErrorKind::Syntax),
            (2, 10, RuleErrorKind::Syntax)
        ]
    );
}

#[test]
fn unknown_key_lists_the_keys_of_that_kind() {
    let e = one(&literal("pattern_file = \"x.txt\"\n"));
    assert_eq!(e.kind(), RuleErrorKind::UnknownKey);
    assert_eq!(pos(&e), ("r.toml", 7, 1));
    assert_eq!(e.message(), "unknown key `pattern_file` in rule `t.lit`");
    let hint = e.hint().unwrap();
    assert!(
        hint.starts_with("valid keys for kind = \"literal\": id, "),
        "{hint}"
    );
    assert!(
        hint.contains("patterns_file") && !hint.contains("validate"),
        "{hint}"
    );
}

#[test]
fn unknown_example_and_top_level_keys() {
    let text = format!(
        "title = \"x\"\n{}examples.matches = [\"acme\"]\n",
        literal("")
    );
    let errs = errors(&[("r.toml", &text)]);
    let at: Vec<_> = errs
        .iter()
        .map(|e| (e.line(), e.column(), e.kind()))
        .collect();
    assert_eq!(
        at,
        [
            (1, 1, RuleErrorKind::UnknownKey),
            (8, 10, RuleErrorKind::UnknownKey)
        ]
    );
    assert_eq!(
        errs[1].message(),
        "unknown key `examples.matches` in rule `t.lit`"
    );
}

#[test]
fn missing_keys_point_at_the_rule_header() {
    let errs = errors(&[("r.toml", "\n[[rule]]\nid = \"t.x\"\n")]);
    let got: Vec<_> = errs
        .iter()
        .map(|e| (e.line(), e.column(), e.kind(), e.message()))
        .collect();
    assert_eq!(
        got,
        [
            (2, 1, RuleErrorKind::MissingKey, "rule `t.x` has no `kind`"),
            (
                2,
                1,
                RuleErrorKind::MissingKey,
                "rule `t.x` has no `action`"
            ),
            (2, 1, RuleErrorKind::MissingKey, "rule `t.x` has no `class`"),
        ]
    );
    let e = one(
        "[[rule]]\nkind = \"field\"\nfields = [\"a\"]\naction = \"drop\"\nclass = \"public\"\n",
    );
    assert_eq!(
        (e.kind(), e.line(), e.column()),
        (RuleErrorKind::MissingKey, 1, 1)
    );
    assert_eq!(e.message(), "rule has no `id`");
}

#[test]
fn unknown_names_point_at_the_value_with_the_valid_names() {
    let text = "[[rule]]\nid = \"t.r\"\nkind = \"regexp\"\naction = \"mask\"\nclass = \"secret\"\n\
                mode = \"audit\"\napplies_to = \"local\"\nscope = \"all\"\n";
    let errs = errors(&[("r.toml", text)]);
    let got: Vec<_> = errs
        .iter()
        .map(|e| (e.line(), e.column(), e.message(), e.hint().unwrap_or("")))
        .collect();
    assert_eq!(
        got,
        [
            (
                3,
                8,
                "unknown kind `regexp`",
                "kind is one of: field, literal, regex"
            ),
            (
                4,
                10,
                "unknown action `mask`",
                "action is one of: drop, redact, pseudonymize, block, tag"
            ),
            (
                5,
                9,
                "unknown class `secret`",
                "class is one of: public, internal, confidential, privileged"
            ),
            (
                6,
                8,
                "unknown mode `audit`",
                "mode is one of: enforce, monitor"
            ),
            (
                7,
                14,
                "unknown applies_to `local`",
                "applies_to is one of: all, external"
            ),
            (
                8,
                9,
                "unknown scope `all`",
                "scope is one of: request, response, both"
            ),
        ]
    );
    assert!(errs.iter().all(|e| e.kind() == RuleErrorKind::InvalidValue));
}

#[test]
fn unknown_validator() {
    let e = one("[[rule]]\nid = \"t.r\"\nkind = \"regex\"\npattern = 'x+'\nvalidate = \"crc\"\naction = \"tag\"\nclass = \"public\"\n");
    assert_eq!(
        (e.kind(), e.line(), e.column()),
        (RuleErrorKind::InvalidValue, 5, 12)
    );
    assert_eq!(e.hint(), Some("validate is one of: luhn, iban"));
}

#[test]
fn keys_of_another_kind_say_how_to_fix_it() {
    let e = one(&literal("pattern = 'ac+me'\n"));
    assert_eq!(e.kind(), RuleErrorKind::KeyNotForKind);
    assert_eq!(pos(&e), ("r.toml", 7, 11));
    assert_eq!(
        e.message(),
        "`pattern` does not apply to kind = \"literal\""
    );
    assert_eq!(e.hint(), Some("use kind = \"regex\" or drop `pattern`"));

    let e = one("[[rule]]\nid = \"t.r\"\nkind = \"regex\"\npattern = 'x+'\npatterns = [\"x\"]\naction = \"tag\"\nclass = \"public\"\n");
    assert_eq!((e.line(), e.column()), (5, 12));
    assert_eq!(e.hint(), Some("use kind = \"literal\" or drop `patterns`"));

    let e = one(&literal("fields = [\"a__c\"]\n"));
    assert_eq!(e.hint(), Some("use kind = \"field\" or drop `fields`"));
}

#[test]
fn bad_regex_names_the_rule_and_points_into_the_pattern() {
    let text = "[[rule]]\nid = \"t.re\"\nkind = \"regex\"\npattern = '''ab(c'''\naction = \"tag\"\nclass = \"public\"\n";
    let e = one(text);
    assert_eq!(e.kind(), RuleErrorKind::Regex);
    // Column of `(`: `pattern = '''` is 13 characters, then `ab`.
    assert_eq!(pos(&e), ("r.toml", 4, 16));
    assert_eq!(
        e.message(),
        "rule `t.re`: invalid regex: unclosed group in `ab(c`"
    );
    // A basic string with escapes: the position falls back to the start of the value.
    let text = "[[rule]]\nid = \"t.re\"\nkind = \"regex\"\npattern = \"\\\\d(\"\naction = \"tag\"\nclass = \"public\"\n";
    assert_eq!((one(text).line(), one(text).column()), (4, 11));
}

#[test]
fn empty_matching_and_oversized_regexes() {
    let e = one("[[rule]]\nid = \"t.e\"\nkind = \"regex\"\npattern = 'a*'\naction = \"tag\"\nclass = \"public\"\n");
    assert_eq!(
        (e.kind(), e.line(), e.column()),
        (RuleErrorKind::Regex, 4, 11)
    );
    assert!(e.message().contains("empty string"), "{}", e.message());

    let e = one("[[rule]]\nid = \"t.big\"\nkind = \"regex\"\npattern = '\\w{1000}\\w{1000}'\naction = \"tag\"\nclass = \"public\"\n");
    assert_eq!(
        (e.kind(), e.line(), e.column()),
        (RuleErrorKind::TooBig, 4, 11)
    );
    assert!(e.message().starts_with("rule `t.big`:"), "{}", e.message());
}

#[test]
fn duplicate_ids_point_at_the_second_and_name_the_first() {
    let errs = errors(&[
        ("a.toml", &literal("")),
        ("b.toml", &format!("\n\n{}", literal(""))),
    ]);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    let e = &errs[0];
    assert_eq!(e.kind(), RuleErrorKind::DuplicateId);
    assert_eq!(pos(e), ("b.toml", 4, 6));
    assert_eq!(e.message(), "duplicate rule id `t.lit`");
    assert_eq!(
        e.hint(),
        Some("first defined at a.toml:2:6; ids must be unique across all rule files")
    );
}

#[test]
fn patterns_file_problems() {
    // Embedded rules have no directory to read from.
    let text = "[[rule]]\nid = \"t.f\"\nkind = \"literal\"\npatterns_file = \"m.txt\"\naction = \"tag\"\nclass = \"public\"\n";
    let e = one(text);
    assert_eq!(
        (e.kind(), e.line(), e.column()),
        (RuleErrorKind::PatternsFile, 4, 17)
    );

    let dir = temp_dir("patterns-file");
    std::fs::write(dir.join("empty.txt"), "# only a comment\n\n").unwrap();
    std::fs::write(
        dir.join("r.toml"),
        format!("{text}\n[[rule]]\nid = \"t.g\"\nkind = \"literal\"\npatterns_file = \"empty.txt\"\naction = \"tag\"\nclass = \"public\"\n"),
    )
    .unwrap();
    let errs = load_dirs(std::slice::from_ref(&dir)).unwrap_err();
    let got: Vec<_> = errs
        .errors()
        .iter()
        .map(|e| (e.kind(), e.line(), e.column()))
        .collect();
    assert_eq!(
        got,
        [
            (RuleErrorKind::PatternsFile, 4, 17),
            (RuleErrorKind::PatternsFile, 11, 17)
        ]
    );
    assert!(errs.errors()[0]
        .message()
        .starts_with("cannot read patterns_file `m.txt`"));
    assert_eq!(
        errs.errors()[1].message(),
        "patterns_file `empty.txt` has no patterns"
    );
    assert!(errs.errors()[0].file().ends_with("r.toml"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_globs_are_all_reported() {
    let text = "[[rule]]\nid = \"t.f\"\nkind = \"field\"\nfields = [\"ok__c\", \"a[bc]\", \"*\", \"\"]\naction = \"drop\"\nclass = \"public\"\n";
    let errs = errors(&[("r.toml", text)]);
    let got: Vec<_> = errs
        .iter()
        .map(|e| (e.kind(), e.line(), e.column()))
        .collect();
    assert_eq!(
        got,
        [
            (RuleErrorKind::Glob, 4, 20),
            (RuleErrorKind::Glob, 4, 29),
            (RuleErrorKind::Glob, 4, 34)
        ]
    );
    assert_eq!(errs[0].message(), "unsupported `[` in field glob `a[bc]`");
    assert_eq!(errs[1].message(), "field glob `*` matches every field");
}

#[test]
fn empty_patterns() {
    let e = one("[[rule]]\nid = \"t.l\"\nkind = \"literal\"\npatterns = []\naction = \"tag\"\nclass = \"public\"\n");
    assert_eq!(
        (e.kind(), e.line(), e.column()),
        (RuleErrorKind::EmptyPattern, 4, 12)
    );
    let e = one("[[rule]]\nid = \"t.l\"\nkind = \"literal\"\npatterns = [\"a\", \" \"]\naction = \"tag\"\nclass = \"public\"\n");
    assert_eq!(
        (e.kind(), e.line(), e.column()),
        (RuleErrorKind::EmptyPattern, 4, 18)
    );
}

#[test]
fn wrong_types_and_bad_ids_and_labels() {
    let e = one("[[rule]]\nid = \"t.l\"\nkind = \"literal\"\npatterns = \"acme\"\naction = \"tag\"\nclass = \"public\"\n");
    assert_eq!(
        (e.kind(), e.line(), e.column()),
        (RuleErrorKind::InvalidValue, 4, 12)
    );
    let e = one(&literal("").replace("\"t.lit\"", "\"has space\""));
    assert_eq!(
        (e.kind(), e.line(), e.column()),
        (RuleErrorKind::InvalidValue, 2, 6)
    );
    let e = one(&literal("placeholder = \"client name\"\n"));
    assert_eq!(
        (e.kind(), e.line(), e.column()),
        (RuleErrorKind::InvalidValue, 7, 15)
    );
}

#[test]
fn errors_of_many_rules_and_files_come_together_in_file_order() {
    let bad_a = format!(
        "{}\n[[rule]]\nid = \"t.two\"\nkind = \"regex\"\npattern = '('\naction = \"tag\"\nclass = \"nope\"\n",
        literal("bogus = 1\n")
    );
    let bad_b = "[[rule]\n";
    let errs = errors(&[("a.toml", &bad_a), ("b.toml", bad_b)]);
    let got: Vec<_> = errs
        .iter()
        .map(|e| (e.file(), e.line(), e.kind()))
        .collect();
    assert_eq!(
        got,
        [
            ("a.toml", 7, RuleErrorKind::UnknownKey),
            ("a.toml", 12, RuleErrorKind::Regex),
            ("a.toml", 14, RuleErrorKind::InvalidValue),
            ("b.toml", 1, RuleErrorKind::Syntax),
        ]
    );
    let shown = RuleErrors::from_vec(errs).unwrap().to_string();
    assert!(shown.starts_with(
        "a.toml:7:1: error: unknown key `bogus` in rule `t.lit`\n  = hint: valid keys"
    ));
}

#[test]
fn load_dirs_reports_unreadable_and_empty_directories() {
    let missing = temp_dir("missing");
    std::fs::remove_dir_all(&missing).unwrap();
    let empty = temp_dir("empty");
    let errs = load_dirs(&[missing.clone(), empty.clone()]).unwrap_err();
    let kinds: Vec<_> = errs
        .errors()
        .iter()
        .map(|e| (e.kind(), e.line(), e.column()))
        .collect();
    assert_eq!(
        kinds,
        [(RuleErrorKind::Io, 1, 1), (RuleErrorKind::Io, 1, 1)]
    );
    assert!(errs.errors()[0]
        .message()
        .starts_with("cannot read rule directory"));
    assert_eq!(
        errs.errors()[1].message(),
        "no *.toml rule files in this directory"
    );
    std::fs::remove_dir_all(&empty).unwrap();
}
