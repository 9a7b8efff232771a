//! Checks of single keys and values of a rule, each reporting into the file's [`Sink`] with the
//! span of the offending value and a hint. [`build`](super::build) calls them for every rule.

use super::error::{line_col, RuleErrorKind, Sink};
use super::file::RawRule;
use super::glob::parse_glob;
use super::pattern::{self, Compiled};
use super::validate::Validator;
use super::{limits, RuleKind};
use crate::types::{Action, AppliesTo, Extent, Mode, Scope};
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

/// Where a value sits, kept for errors found after the file's [`Sink`] is gone.
#[derive(Debug, Clone)]
pub(super) struct Loc {
    pub file: String,
    pub pos: (usize, usize),
}

/// What a rule matches, once checked.
pub(super) enum Body {
    Field(Vec<String>),
    Literal(Vec<String>, bool),
    Regex(Compiled, Option<Validator>, Loc),
}

pub(super) fn action_of(s: &str) -> Option<Action> {
    Some(match s {
        "drop" => Action::Drop,
        "redact" => Action::Redact,
        "pseudonymize" => Action::Pseudonymize,
        "block" => Action::Block,
        "tag" => Action::Tag,
        _ => return None,
    })
}

pub(super) fn kind_of(s: &str) -> Option<RuleKind> {
    Some(match s {
        "field" => RuleKind::Field,
        "literal" => RuleKind::Literal,
        "regex" => RuleKind::Regex,
        _ => return None,
    })
}

pub(super) fn mode_of(s: &str) -> Option<Mode> {
    Some(match s {
        "enforce" => Mode::Enforce,
        "monitor" => Mode::Monitor,
        _ => return None,
    })
}

pub(super) fn applies_to_of(s: &str) -> Option<AppliesTo> {
    Some(match s {
        "all" => AppliesTo::All,
        "external" => AppliesTo::External,
        _ => return None,
    })
}

pub(super) fn extent_of(s: &str) -> Option<Extent> {
    Some(match s {
        "match" => Extent::Match,
        "value" => Extent::Value,
        _ => return None,
    })
}

pub(super) fn scope_of(s: &str) -> Option<Scope> {
    Some(match s {
        "request" => Scope::Request,
        "response" => Scope::Response,
        "both" => Scope::Both,
        _ => return None,
    })
}

/// Parses an enumerated value, reporting an unknown name with the valid ones.
pub(super) fn named<T>(
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

pub(super) fn valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && id.len() <= 128
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// `pii.email` → `EMAIL`, `secrets.aws-key` → `AWS_KEY`.
pub(super) fn derive_label(id: &str) -> String {
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

/// Reports keys that belong to another kind of rule.
pub(super) fn not_for_kind(sink: &mut Sink<'_>, raw: &RawRule, kind: RuleKind) {
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

pub(super) fn check_fields(
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

pub(super) fn check_literal(
    sink: &mut Sink<'_>,
    text: &str,
    span: Range<usize>,
    line: Option<usize>,
) -> bool {
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

pub(super) fn read_patterns_file(
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

pub(super) fn check_regex(
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
