//! The rule file as written: serde types that mirror the TOML, with spans on every value.
//!
//! Nothing here decides what a rule means; [`build`](super::build) does that. Parsing runs in
//! three steps so that one pass reports every mistake in a file:
//! 1. the TOML is parsed into a spanned document (syntax errors, all of them);
//! 2. every `[[rule]]` table is checked for unknown keys (all of them, each with the list of keys
//!    valid for that rule's kind), which are then removed;
//! 3. each table is deserialized on its own into [`RawRule`], so a type error in one rule does
//!    not hide the errors of the next.

use super::error::{RuleErrorKind, Sink};
use serde::Deserialize;
use std::ops::Range;
use toml::de::{DeTable, DeValue, ValueDeserializer};
use toml::Spanned;

/// Keys every kind of rule accepts.
pub(crate) const COMMON_KEYS: &[&str] = &[
    "id",
    "description",
    "kind",
    "action",
    "class",
    "mode",
    "applies_to",
    "extent",
    "scope",
    "placeholder",
    "replacement",
    "examples",
];
pub(crate) const FIELD_KEYS: &[&str] = &["fields"];
pub(crate) const LITERAL_KEYS: &[&str] = &["patterns", "patterns_file", "case_insensitive"];
pub(crate) const REGEX_KEYS: &[&str] = &["pattern", "validate"];
const EXAMPLE_KEYS: &[&str] = &["match", "no_match"];

/// One `[[rule]]` table, as written. Enumerated values stay strings here so that an unknown
/// name becomes an error with a hint instead of a serde message.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRule {
    pub id: Option<Spanned<String>>,
    pub description: Option<Spanned<String>>,
    pub kind: Option<Spanned<String>>,
    pub fields: Option<Spanned<Vec<Spanned<String>>>>,
    pub patterns: Option<Spanned<Vec<Spanned<String>>>>,
    pub patterns_file: Option<Spanned<String>>,
    pub case_insensitive: Option<Spanned<bool>>,
    pub pattern: Option<Spanned<String>>,
    pub validate: Option<Spanned<String>>,
    pub action: Option<Spanned<String>>,
    pub class: Option<Spanned<String>>,
    pub mode: Option<Spanned<String>>,
    pub applies_to: Option<Spanned<String>>,
    pub extent: Option<Spanned<String>>,
    pub scope: Option<Spanned<String>>,
    pub placeholder: Option<Spanned<String>>,
    pub replacement: Option<Spanned<String>>,
    pub examples: Option<RawExamples>,
}

/// `examples.match` / `examples.no_match`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExamples {
    #[serde(rename = "match", default)]
    pub matches: Vec<Spanned<String>>,
    #[serde(default)]
    pub no_match: Vec<Spanned<String>>,
}

/// A rule table that deserialized, with the span of the whole table.
#[derive(Debug)]
pub(crate) struct ParsedRule {
    pub raw: RawRule,
    pub span: Range<usize>,
}

/// The keys valid for a rule of `kind` (all keys when the kind is unknown).
pub(crate) fn keys_for(kind: Option<&str>) -> Vec<&'static str> {
    let mut keys = COMMON_KEYS.to_vec();
    match kind {
        Some("field") => keys.extend(FIELD_KEYS),
        Some("literal") => keys.extend(LITERAL_KEYS),
        Some("regex") => keys.extend(REGEX_KEYS),
        _ => {
            keys.extend(FIELD_KEYS);
            keys.extend(LITERAL_KEYS);
            keys.extend(REGEX_KEYS);
        }
    }
    keys
}

fn is_known_key(key: &str) -> bool {
    [COMMON_KEYS, FIELD_KEYS, LITERAL_KEYS, REGEX_KEYS]
        .iter()
        .any(|keys| keys.contains(&key))
}

/// Parses one rule file, reporting every problem into `sink`. Returns the rules that could be
/// read (possibly with other problems left for the build step to find).
pub(crate) fn parse(sink: &mut Sink<'_>) -> Vec<ParsedRule> {
    let (root, syntax_errors) = DeTable::parse_recoverable(sink.text());
    if !syntax_errors.is_empty() {
        // A broken document recovers into guesses; reporting on those would mislead.
        for e in syntax_errors {
            let span = e.span().unwrap_or(0..0);
            sink.error(
                RuleErrorKind::Syntax,
                span,
                format!("invalid TOML: {}", e.message().trim()),
                None,
            );
        }
        return Vec::new();
    }
    let mut rules = Vec::new();
    for (key, value) in root.into_inner() {
        if key.get_ref().as_ref() != "rule" {
            sink.error(
                RuleErrorKind::UnknownKey,
                key.span(),
                format!("unknown top-level key `{}`", key.get_ref()),
                Some("a rule file holds only [[rule]] tables".into()),
            );
            continue;
        }
        let span = value.span();
        match value.into_inner() {
            DeValue::Array(items) => {
                for item in items.iter() {
                    if let Some(rule) = parse_rule(sink, item.clone()) {
                        rules.push(rule);
                    }
                }
            }
            _ => sink.error(
                RuleErrorKind::InvalidValue,
                span,
                "`rule` must be an array of tables",
                Some("write each rule as a `[[rule]]` table (double brackets)".into()),
            ),
        }
    }
    rules
}

fn parse_rule(sink: &mut Sink<'_>, mut item: Spanned<DeValue<'_>>) -> Option<ParsedRule> {
    let span = item.span();
    let DeValue::Table(table) = item.get_mut() else {
        sink.error(
            RuleErrorKind::InvalidValue,
            span,
            "each `rule` must be a table",
            Some("write each rule as a `[[rule]]` table (double brackets)".into()),
        );
        return None;
    };
    drop_unknown_keys(sink, table);
    match RawRule::deserialize(ValueDeserializer::from(item)) {
        Ok(raw) => Some(ParsedRule { raw, span }),
        Err(e) => {
            sink.error(
                RuleErrorKind::InvalidValue,
                e.span().unwrap_or(span),
                e.message().trim().to_owned(),
                None,
            );
            None
        }
    }
}

/// Reports and removes unknown keys, so that deserialization goes on to find other problems.
fn drop_unknown_keys(sink: &mut Sink<'_>, table: &mut DeTable<'_>) {
    let str_of = |key: &str, table: &DeTable<'_>| {
        table
            .get(key)
            .and_then(|v| v.get_ref().as_str().map(str::to_owned))
    };
    let kind = str_of("kind", table);
    let id = str_of("id", table);
    let rule_name = id.map_or_else(|| "this rule".to_owned(), |id| format!("rule `{id}`"));
    let unknown: Vec<(String, Range<usize>)> = table
        .iter()
        .filter(|(k, _)| !is_known_key(k.get_ref()))
        .map(|(k, _)| (k.get_ref().to_string(), k.span()))
        .collect();
    for (key, span) in &unknown {
        let valid = keys_for(kind.as_deref());
        let kind_note = kind
            .as_deref()
            .filter(|k| matches!(*k, "field" | "literal" | "regex"))
            .map_or_else(String::new, |k| format!(" for kind = \"{k}\""));
        sink.error(
            RuleErrorKind::UnknownKey,
            span.clone(),
            format!("unknown key `{key}` in {rule_name}"),
            Some(format!("valid keys{kind_note}: {}", valid.join(", "))),
        );
    }
    for (key, _) in &unknown {
        table.remove(key.as_str());
    }

    if let Some(examples) = table.get_mut("examples") {
        if let DeValue::Table(ex) = examples.get_mut() {
            let unknown: Vec<(String, Range<usize>)> = ex
                .iter()
                .filter(|(k, _)| !EXAMPLE_KEYS.contains(&k.get_ref().as_ref()))
                .map(|(k, _)| (k.get_ref().to_string(), k.span()))
                .collect();
            for (key, span) in &unknown {
                sink.error(
                    RuleErrorKind::UnknownKey,
                    span.clone(),
                    format!("unknown key `examples.{key}` in {rule_name}"),
                    Some("examples take `match` and `no_match` (arrays of strings)".into()),
                );
            }
            for (key, _) in &unknown {
                ex.remove(key.as_str());
            }
        }
    }
}
