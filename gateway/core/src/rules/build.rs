//! From rule files to a [`RuleSet`]: check every rule, then compile all of them together.
//!
//! Each rule is checked completely (every key, every pattern) before moving on, and a rule with
//! any error is left out of the matchers; the set is only compiled when no rule had an error, so
//! every problem in every file is reported in one run and a half-valid set is never returned.

use super::error::{line_col, RuleError, RuleErrorKind, RuleErrors, Sink};
use super::examples::Example;
use super::file::{self, ParsedRule, RawRule};
use super::glob::{parse_glob, FieldMatcher};
use super::literal::{LiteralBuildError, LiteralMatcher, LiteralSpec};
use super::pattern::{self, Compiled, RegexMatcher};
use super::validate::Validator;
use super::{limits, Rule, RuleIdx, RuleKind, RuleSet, RuleSource};
use crate::types::{Action, AppliesTo, Class, Mode, Scope};
use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

/// Where a value sits, kept for errors found after the file's [`Sink`] is gone.
#[derive(Debug, Clone)]
struct Loc {
    file: String,
    pos: (usize, usize),
}

/// What a rule matches, once checked.
enum Body {
    Field(Vec<String>),
    Literal(Vec<String>, bool),
    Regex(Compiled, Option<Validator>, Loc),
}

#[derive(Default)]
struct Builder {
    rules: Vec<Rule>,
    ids: HashMap<String, Loc>,
    fields: FieldMatcher,
    literals: Vec<LiteralSpec>,
    first_literal: Option<Loc>,
    regexes: Vec<(RuleIdx, Compiled, Option<Validator>)>,
    /// Location of each plain (non-fancy) regex, in the order the combined set numbers them.
    plain_locs: Vec<(String, Loc)>,
    examples: Vec<Example>,
}

pub(crate) fn compile(sources: &[RuleSource]) -> Result<RuleSet, RuleErrors> {
    let mut errors = Vec::new();
    let mut b = Builder::default();
    for source in sources {
        let first = errors.len();
        let mut sink = Sink::new(&source.name, &source.text, &mut errors);
        for parsed in file::parse(&mut sink) {
            b.add_rule(&mut sink, source.base_dir.as_deref(), parsed);
        }
        // Checks run key by key; people read a file top to bottom.
        errors[first..].sort_by_key(|e| (e.line(), e.column()));
    }
    if let Some(errors) = RuleErrors::from_vec(errors) {
        return Err(errors);
    }
    b.finish().map_err(RuleErrors::one)
}

fn action_of(s: &str) -> Option<Action> {
    Some(match s {
        "drop" => Action::Drop,
        "redact" => Action::Redact,
        "pseudonymize" => Action::Pseudonymize,
        "block" => Action::Block,
        "tag" => Action::Tag,
        _ => return None,
    })
}

fn kind_of(s: &str) -> Option<RuleKind> {
    Some(match s {
        "field" => RuleKind::Field,
        "literal" => RuleKind::Literal,
        "regex" => RuleKind::Regex,
        _ => return None,
    })
}

fn mode_of(s: &str) -> Option<Mode> {
    Some(match s {
        "enforce" => Mode::Enforce,
        "monitor" => Mode::Monitor,
        _ => return None,
    })
}

fn applies_to_of(s: &str) -> Option<AppliesTo> {
    Some(match s {
        "all" => AppliesTo::All,
        "external" => AppliesTo::External,
        _ => return None,
    })
}

fn scope_of(s: &str) -> Option<Scope> {
    Some(match s {
        "request" => Scope::Request,
        "response" => Scope::Response,
        "both" => Scope::Both,
        _ => return None,
    })
}

/// Parses an enumerated value, reporting an unknown name with the valid ones.
fn named<T>(
    sink: &mut Sink<'_>,
    value: &Option<Spanned<String>>,
    key: &str,
    names: &[&str],
    parse: fn(&str) -> Option<T>,
) -> Option<T> {
    let v = value.as_ref()?;
    let parsed = parse(v.get_ref());
    if parsed.is_none() {
        sink.error(
            RuleErrorKind::InvalidValue,
            v.span(),
            format!("unknown {key} `{}`", v.get_ref()),
            Some(format!("{key} is one of: {}", names.join(", "))),
        );
    }
    parsed
}

fn valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && id.len() <= 128
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// `pii.email` → `EMAIL`, `secrets.aws-key` → `AWS_KEY`.
fn derive_label(id: &str) -> String {
    let last = id.rsplit('.').next().unwrap_or(id);
    let mut label: String = last
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    label.truncate(crate::vault::MAX_LABEL);
    label
}

impl Builder {
    fn add_rule(&mut self, sink: &mut Sink<'_>, base_dir: Option<&Path>, parsed: ParsedRule) {
        let before = sink.errors.len();
        let ParsedRule { raw, span } = parsed;
        let id = self.check_id(sink, &raw, &span);
        let name = raw
            .id
            .as_ref()
            .map_or_else(|| "<no id>".to_owned(), |id| id.get_ref().clone());
        let kind = named(
            sink,
            &raw.kind,
            "kind",
            &["field", "literal", "regex"],
            kind_of,
        );
        let action = named(
            sink,
            &raw.action,
            "action",
            &["drop", "redact", "pseudonymize", "block", "tag"],
            action_of,
        );
        let class_names: Vec<&str> = Class::ALL.iter().map(|c| c.as_str()).collect();
        let class = named(sink, &raw.class, "class", &class_names, Class::parse);
        let mode = named(sink, &raw.mode, "mode", &["enforce", "monitor"], mode_of);
        let applies_to = named(
            sink,
            &raw.applies_to,
            "applies_to",
            &["all", "external"],
            applies_to_of,
        );
        let scope = named(
            sink,
            &raw.scope,
            "scope",
            &["request", "response", "both"],
            scope_of,
        );
        for (missing, key, hint) in [
            (
                raw.kind.is_none(),
                "kind",
                "add kind = \"field\", \"literal\" or \"regex\"",
            ),
            (
                raw.action.is_none(),
                "action",
                "add action = \"drop\", \"redact\", \"pseudonymize\", \"block\" or \"tag\"",
            ),
            (
                raw.class.is_none(),
                "class",
                "add class = \"public\", \"internal\", \"confidential\" or \"privileged\"",
            ),
        ] {
            if missing {
                sink.error(
                    RuleErrorKind::MissingKey,
                    span.clone(),
                    format!("rule `{name}` has no `{key}`"),
                    Some(hint.into()),
                );
            }
        }
        let label = self.check_placeholder(sink, &raw, id.as_deref());
        let body = kind.and_then(|k| self.check_body(sink, base_dir, &raw, k, &name, &span));

        if sink.errors.len() != before {
            return;
        }
        let (Some(id), Some(kind), Some(action), Some(class), Some(body)) =
            (id, kind, action, class, body)
        else {
            return;
        };
        let idx = RuleIdx(self.rules.len() as u32);
        self.rules.push(Rule {
            replacement: raw
                .replacement
                .as_ref()
                .map_or_else(|| format!("[REDACTED:{id}]"), |r| r.get_ref().clone()),
            id,
            description: raw.description.map(Spanned::into_inner).unwrap_or_default(),
            kind,
            action,
            class,
            mode: mode.unwrap_or_default(),
            applies_to: applies_to.unwrap_or_default(),
            scope: scope.unwrap_or_default(),
            placeholder_label: label,
            source: sink.location(span.start),
        });
        self.add_body(idx, body);
        if let Some(ex) = raw.examples {
            let all = ex
                .matches
                .into_iter()
                .map(|e| (e, true))
                .chain(ex.no_match.into_iter().map(|e| (e, false)));
            for (e, expect_match) in all {
                self.examples.push(Example {
                    rule: idx,
                    source: sink.location(e.span().start),
                    text: e.into_inner(),
                    expect_match,
                });
            }
        }
    }

    fn check_id(
        &mut self,
        sink: &mut Sink<'_>,
        raw: &RawRule,
        span: &Range<usize>,
    ) -> Option<String> {
        let Some(id) = &raw.id else {
            sink.error(
                RuleErrorKind::MissingKey,
                span.clone(),
                "rule has no `id`",
                Some("add a unique dotted id such as id = \"pii.email\"".into()),
            );
            return None;
        };
        if !valid_id(id.get_ref()) {
            sink.error(
                RuleErrorKind::InvalidValue,
                id.span(),
                format!("invalid rule id `{}`", id.get_ref()),
                Some("ids are dotted names such as \"pii.email\": letters, digits, `.`, `-`, `_`, at most 128 characters".into()),
            );
            return None;
        }
        let here = Loc {
            file: sink.file().to_owned(),
            pos: line_col(sink.text(), id.span().start),
        };
        if let Some(first) = self.ids.get(id.get_ref()) {
            sink.error(
                RuleErrorKind::DuplicateId,
                id.span(),
                format!("duplicate rule id `{}`", id.get_ref()),
                Some(format!(
                    "first defined at {}:{}:{}; ids must be unique across all rule files",
                    first.file, first.pos.0, first.pos.1
                )),
            );
            return None;
        }
        self.ids.insert(id.get_ref().clone(), here);
        Some(id.get_ref().clone())
    }

    fn check_placeholder(&self, sink: &mut Sink<'_>, raw: &RawRule, id: Option<&str>) -> String {
        let Some(p) = &raw.placeholder else {
            return id.map(derive_label).unwrap_or_default();
        };
        let label = p.get_ref();
        let ok = !label.is_empty()
            && label.len() <= crate::vault::MAX_LABEL
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ok {
            sink.error(
                RuleErrorKind::InvalidValue,
                p.span(),
                format!("invalid placeholder label `{label}`"),
                Some(format!(
                    "use 1 to {} ASCII letters, digits or `_`, e.g. placeholder = \"CLIENT\"",
                    crate::vault::MAX_LABEL
                )),
            );
        }
        label.to_ascii_uppercase()
    }

    fn check_body(
        &mut self,
        sink: &mut Sink<'_>,
        base_dir: Option<&Path>,
        raw: &RawRule,
        kind: RuleKind,
        name: &str,
        span: &Range<usize>,
    ) -> Option<Body> {
        not_for_kind(sink, raw, kind);
        match kind {
            RuleKind::Field => check_fields(sink, raw, name, span).map(Body::Field),
            RuleKind::Literal => {
                let ci = raw.case_insensitive.as_ref().is_some_and(|c| *c.get_ref());
                let patterns = self.check_literals(sink, base_dir, raw, name, span)?;
                Some(Body::Literal(patterns, ci))
            }
            RuleKind::Regex => check_regex(sink, raw, name, span),
        }
    }

    fn check_literals(
        &mut self,
        sink: &mut Sink<'_>,
        base_dir: Option<&Path>,
        raw: &RawRule,
        name: &str,
        span: &Range<usize>,
    ) -> Option<Vec<String>> {
        let mut patterns = Vec::new();
        let mut ok = true;
        if let Some(list) = &raw.patterns {
            for p in list.get_ref() {
                ok &= check_literal(sink, p.get_ref(), p.span(), None);
                patterns.push(p.get_ref().clone());
            }
        }
        if let Some(path) = &raw.patterns_file {
            match read_patterns_file(sink, base_dir, path) {
                Some(from_file) => patterns.extend(from_file),
                None => ok = false,
            }
        }
        if ok && patterns.is_empty() {
            sink.error(
                RuleErrorKind::EmptyPattern,
                raw.patterns.as_ref().map_or(span.clone(), |p| p.span()),
                format!("literal rule `{name}` has no patterns"),
                Some("add `patterns = [\"...\"]` or `patterns_file = \"names.txt\"`".into()),
            );
            return None;
        }
        if self.literals.len() + patterns.len() > limits::MAX_LITERALS {
            sink.error(
                RuleErrorKind::TooBig,
                span.clone(),
                format!(
                    "rule `{name}` brings the literal count over the limit of {}",
                    limits::MAX_LITERALS
                ),
                Some("split the dictionary, or drop duplicate and obsolete entries".into()),
            );
            return None;
        }
        if self.first_literal.is_none() {
            self.first_literal = Some(Loc {
                file: sink.file().to_owned(),
                pos: line_col(sink.text(), span.start),
            });
        }
        ok.then_some(patterns)
    }

    fn add_body(&mut self, idx: RuleIdx, body: Body) {
        match body {
            Body::Field(names) => {
                for n in names {
                    self.fields.add(n, idx);
                }
            }
            Body::Literal(patterns, case_insensitive) => {
                self.literals
                    .extend(patterns.into_iter().map(|text| LiteralSpec {
                        rule: idx,
                        text,
                        case_insensitive,
                    }));
            }
            Body::Regex(compiled, validator, loc) => {
                if matches!(compiled, Compiled::Plain(..)) {
                    let id = self.rules.get(idx.index()).map(|r| r.id.clone());
                    self.plain_locs.push((id.unwrap_or_default(), loc));
                }
                self.regexes.push((idx, compiled, validator));
            }
        }
    }

    fn finish(self) -> Result<RuleSet, RuleError> {
        let literals = LiteralMatcher::build(&self.literals).map_err(|e| {
            let loc = self.first_literal.clone().unwrap_or(Loc {
                file: "<rules>".into(),
                pos: (1, 1),
            });
            let message = match e {
                LiteralBuildError::TooBig(m) => m,
                LiteralBuildError::Automaton(e) => format!("literal automaton: {e}"),
            };
            RuleError::new(
                RuleErrorKind::TooBig,
                &loc.file,
                loc.pos,
                message,
                Some("reduce the dictionaries (patterns_file) of the literal rules".into()),
            )
        })?;
        let plain_locs = self.plain_locs;
        let regexes = RegexMatcher::build(self.regexes).map_err(|e| {
            let (id, loc) = e
                .pattern
                .and_then(|p| plain_locs.get(p))
                .or(plain_locs.last())
                .cloned()
                .unwrap_or_else(|| {
                    (
                        String::new(),
                        Loc {
                            file: "<rules>".into(),
                            pos: (1, 1),
                        },
                    )
                });
            RuleError::new(
                RuleErrorKind::TooBig,
                &loc.file,
                loc.pos,
                format!(
                    "regex of rule `{id}` does not fit in the combined regex set: {}",
                    e.message
                ),
                Some(
                    "the regex rules together are too large; simplify the largest patterns".into(),
                ),
            )
        })?;
        let scans = [
            crate::types::Direction::Request,
            crate::types::Direction::Response,
        ]
        .map(|dir| {
            self.rules
                .iter()
                .any(|r| r.kind != RuleKind::Field && r.scope.covers(dir))
        });
        Ok(RuleSet {
            rules: self.rules,
            fields: self.fields,
            literals,
            regexes,
            examples: self.examples,
            scans,
        })
    }
}

/// Reports keys that belong to another kind of rule.
fn not_for_kind(sink: &mut Sink<'_>, raw: &RawRule, kind: RuleKind) {
    let kind_str = kind.as_str();
    let mut report = |span: Option<Range<usize>>, key: &str, right: RuleKind, main_key: &str| {
        if let Some(span) = span {
            if right != kind {
                sink.error(
                    RuleErrorKind::KeyNotForKind,
                    span,
                    format!("`{key}` does not apply to kind = \"{kind_str}\""),
                    Some(format!(
                        "use kind = \"{}\" or drop `{main_key}`",
                        right.as_str()
                    )),
                );
            }
        }
    };
    report(
        raw.fields.as_ref().map(Spanned::span),
        "fields",
        RuleKind::Field,
        "fields",
    );
    report(
        raw.patterns.as_ref().map(Spanned::span),
        "patterns",
        RuleKind::Literal,
        "patterns",
    );
    report(
        raw.patterns_file.as_ref().map(Spanned::span),
        "patterns_file",
        RuleKind::Literal,
        "patterns_file",
    );
    report(
        raw.case_insensitive.as_ref().map(Spanned::span),
        "case_insensitive",
        RuleKind::Literal,
        "case_insensitive",
    );
    report(
        raw.pattern.as_ref().map(Spanned::span),
        "pattern",
        RuleKind::Regex,
        "pattern",
    );
    report(
        raw.validate.as_ref().map(Spanned::span),
        "validate",
        RuleKind::Regex,
        "validate",
    );
}

fn check_fields(
    sink: &mut Sink<'_>,
    raw: &RawRule,
    name: &str,
    span: &Range<usize>,
) -> Option<Vec<String>> {
    let Some(fields) = raw.fields.as_ref().filter(|f| !f.get_ref().is_empty()) else {
        sink.error(
            RuleErrorKind::MissingKey,
            raw.fields.as_ref().map_or(span.clone(), Spanned::span),
            format!("field rule `{name}` has no `fields`"),
            Some("add fields = [\"field_name__c\", \"*_suffix__c\"]".into()),
        );
        return None;
    };
    let mut out = Vec::new();
    let mut ok = true;
    for f in fields.get_ref() {
        match parse_glob(f.get_ref()) {
            Ok(folded) => out.push(folded),
            Err(e) => {
                ok = false;
                sink.error(
                    RuleErrorKind::Glob,
                    f.span(),
                    e.message(f.get_ref()),
                    Some(e.hint().into()),
                );
            }
        }
    }
    ok.then_some(out)
}

fn check_literal(sink: &mut Sink<'_>, text: &str, span: Range<usize>, line: Option<usize>) -> bool {
    let at_line = line.map_or_else(String::new, |l| format!(" (line {l} of patterns_file)"));
    if text.trim().is_empty() {
        sink.error(
            RuleErrorKind::EmptyPattern,
            span,
            format!("empty literal pattern{at_line}"),
            Some("remove it: an empty pattern would match everywhere".into()),
        );
        return false;
    }
    if text.len() > limits::MAX_LITERAL_LEN {
        sink.error(
            RuleErrorKind::TooBig,
            span,
            format!(
                "literal pattern{at_line} is {} bytes long, over the limit of {}",
                text.len(),
                limits::MAX_LITERAL_LEN
            ),
            None,
        );
        return false;
    }
    true
}

fn read_patterns_file(
    sink: &mut Sink<'_>,
    base_dir: Option<&Path>,
    file: &Spanned<String>,
) -> Option<Vec<String>> {
    let Some(base) = base_dir else {
        sink.error(
            RuleErrorKind::PatternsFile,
            file.span(),
            format!(
                "patterns_file `{}` cannot be used in an embedded rule file",
                file.get_ref()
            ),
            Some(
                "list the patterns inline with `patterns`, or load the rules from a directory"
                    .into(),
            ),
        );
        return None;
    };
    let path = base.join(file.get_ref());
    let read = std::fs::metadata(&path).and_then(|meta| {
        if meta.len() > limits::MAX_PATTERNS_FILE_BYTES {
            Ok(Err(meta.len()))
        } else {
            std::fs::read_to_string(&path).map(Ok)
        }
    });
    let text = match read {
        Ok(Ok(text)) => text,
        Ok(Err(len)) => {
            sink.error(
                RuleErrorKind::TooBig,
                file.span(),
                format!(
                    "patterns_file `{}` is {len} bytes, over the limit of {}",
                    file.get_ref(),
                    limits::MAX_PATTERNS_FILE_BYTES
                ),
                Some("split the dictionary over several rules".into()),
            );
            return None;
        }
        Err(e) => {
            sink.error(
                RuleErrorKind::PatternsFile,
                file.span(),
                format!("cannot read patterns_file `{}`: {e}", file.get_ref()),
                Some("the path is relative to the directory of the rule file; the file must be UTF-8, one pattern a line".into()),
            );
            return None;
        }
    };
    let mut out = Vec::new();
    let mut ok = true;
    for (i, line) in text.lines().enumerate() {
        let entry = line.trim();
        if entry.is_empty() || entry.starts_with('#') {
            continue;
        }
        ok &= check_literal(sink, entry, file.span(), Some(i + 1));
        out.push(entry.to_owned());
    }
    if ok && out.is_empty() {
        sink.error(
            RuleErrorKind::PatternsFile,
            file.span(),
            format!("patterns_file `{}` has no patterns", file.get_ref()),
            Some("put one pattern on each line; `#` starts a comment line".into()),
        );
        return None;
    }
    ok.then_some(out)
}

fn check_regex(
    sink: &mut Sink<'_>,
    raw: &RawRule,
    name: &str,
    span: &Range<usize>,
) -> Option<Body> {
    let validator = raw.validate.as_ref().and_then(|v| {
        let parsed = Validator::parse(v.get_ref());
        if parsed.is_none() {
            sink.error(
                RuleErrorKind::InvalidValue,
                v.span(),
                format!("unknown validator `{}`", v.get_ref()),
                Some(format!(
                    "validate is one of: {}",
                    Validator::NAMES.join(", ")
                )),
            );
        }
        parsed
    });
    let Some(pattern) = &raw.pattern else {
        sink.error(
            RuleErrorKind::MissingKey,
            span.clone(),
            format!("regex rule `{name}` has no `pattern`"),
            Some("add pattern = '''...''' (literal strings need no escaping)".into()),
        );
        return None;
    };
    match pattern::compile(pattern.get_ref()) {
        Ok(compiled) => Some(Body::Regex(
            compiled,
            validator,
            Loc {
                file: sink.file().to_owned(),
                pos: line_col(sink.text(), pattern.span().start),
            },
        )),
        Err(problem) => {
            let at = pattern_position(sink.text(), pattern, problem.offset);
            sink.error(
                if problem.too_big {
                    RuleErrorKind::TooBig
                } else {
                    RuleErrorKind::Regex
                },
                at..at,
                format!(
                    "rule `{name}`: {} in `{}`",
                    problem.message,
                    pattern.get_ref()
                ),
                problem.hint,
            );
            None
        }
    }
}

/// The file offset of byte `offset` of a pattern, when the pattern is written as a string whose
/// source text is the pattern itself (literal strings, or basic strings without escapes);
/// otherwise the start of the value.
fn pattern_position(text: &str, pattern: &Spanned<String>, offset: Option<usize>) -> usize {
    let span = pattern.span();
    let Some(offset) = offset else {
        return span.start;
    };
    let raw = text.get(span.clone()).unwrap_or("");
    for quote in ["'''", "\"\"\"", "'", "\""] {
        let inner = raw.strip_prefix(quote).and_then(|r| r.strip_suffix(quote));
        if inner == Some(pattern.get_ref().as_str()) {
            return span.start + quote.len() + offset;
        }
    }
    span.start
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_derive_from_the_last_segment() {
        assert_eq!(derive_label("pii.email"), "EMAIL");
        assert_eq!(derive_label("secrets.aws-access-key"), "AWS_ACCESS_KEY");
        assert_eq!(derive_label("plain"), "PLAIN");
    }

    #[test]
    fn ids() {
        assert!(valid_id("pii.email"));
        assert!(valid_id("legal.privileged-fields_2"));
        assert!(!valid_id(".pii"));
        assert!(!valid_id("pii email"));
        assert!(!valid_id(""));
    }
}
