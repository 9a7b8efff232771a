//! From rule files to a [`RuleSet`]: check every rule, then compile all of them together.
//!
//! Each rule is checked completely (every key, every pattern; see [`check`](super::check))
//! before moving on, and a rule with any error is left out of the matchers; the set is only
//! compiled when no rule had an error, so every problem in every file is reported in one run and
//! a half-valid set is never returned.

use super::check::{
    action_of, applies_to_of, check_fields, check_literal, check_regex, derive_label, extent_of,
    kind_of, mode_of, named, not_for_kind, read_patterns_file, scope_of, valid_id, Body, Loc,
};
use super::engine::{Engine, EngineError};
use super::error::{line_col, RuleError, RuleErrorKind, RuleErrors, Sink};
use super::examples::Example;
use super::file::{self, ParsedRule, RawRule};
use super::glob::FieldMatcher;
use super::literal::{LiteralBuildError, LiteralSpec};
use super::pattern::Compiled;
use super::validate::Validator;
use super::{limits, Rule, RuleIdx, RuleKind, RuleSet, RuleSource};
use crate::types::Class;
use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

#[derive(Default)]
struct Builder {
    rules: Vec<Rule>,
    ids: HashMap<String, Loc>,
    fields: FieldMatcher,
    literals: Vec<LiteralSpec>,
    first_literal: Option<Loc>,
    regexes: Vec<(RuleIdx, Compiled, Option<Validator>)>,
    /// Rule id and pattern location of each entry of `regexes`.
    regex_locs: Vec<(String, Loc)>,
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
        let extent = named(sink, &raw.extent, "extent", &["match", "value"], extent_of);
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
            extent: extent.unwrap_or_default(),
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
                let id = self.rules.get(idx.index()).map(|r| r.id.clone());
                self.regex_locs.push((id.unwrap_or_default(), loc));
                self.regexes.push((idx, compiled, validator));
            }
        }
    }

    fn finish(self) -> Result<RuleSet, RuleError> {
        let unknown = || Loc {
            file: "<rules>".into(),
            pos: (1, 1),
        };
        let stream_bound =
            super::stream_bound::response_bound(&self.rules, &self.literals, &self.regexes);
        let engine = Engine::build(&self.literals, self.regexes).map_err(|e| match e {
            EngineError::Literal(e) => {
                let loc = self.first_literal.clone().unwrap_or_else(unknown);
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
            }
            EngineError::RegexSet { input, message } => {
                let (id, loc) = input
                    .and_then(|i| self.regex_locs.get(i))
                    .or(self.regex_locs.last())
                    .cloned()
                    .unwrap_or_else(|| (String::new(), unknown()));
                RuleError::new(
                    RuleErrorKind::TooBig,
                    &loc.file,
                    loc.pos,
                    format!(
                        "regex of rule `{id}` does not fit in the combined regex set: {message}"
                    ),
                    Some(
                        "the regex rules together are too large; simplify the largest patterns"
                            .into(),
                    ),
                )
            }
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
        let field_gate = self.fields.gate();
        Ok(RuleSet {
            rules: self.rules,
            fields: self.fields,
            field_gate,
            engine,
            examples: self.examples,
            scans,
            stream_bound,
        })
    }
}
