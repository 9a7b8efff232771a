//! Regex rules: one multi-pattern regex to find which rules match, then each of those alone.
//!
//! All patterns that `regex-automata` supports are compiled together with
//! [`meta::Regex::new_many`]-style building and `MatchKind::All`, and one
//! [`which_overlapping_matches`](meta::Regex::which_overlapping_matches) pass over the text tells
//! which patterns match anywhere. Most text matches none, so that single pass is the whole cost.
//! Only the patterns that did match are then run on their own (leftmost-first, non-overlapping),
//! which keeps the findings of every rule exact: a finding for rule B is never lost because rule
//! A matched the same span, as it would be with a single leftmost-first search over the set.
//!
//! Patterns that need look-around or backreferences (regex-syntax refuses them, `fancy-regex`
//! accepts them) run through `fancy-regex` with a backtrack limit. Hitting that limit is not a
//! "no match": it is reported as [`LimitHit`], which the caller treats as a block.
//!
//! A match that fails the rule's validator is not a finding. Shorter matches from the same start
//! are tried (a greedy IBAN pattern may have swallowed the next word), then the search resumes
//! one character after its start, so a valid card number right after an invalid digit is found.

use super::limits;
use super::validate::Validator;
use super::{LimitHit, RuleIdx};
use regex_automata::meta::{self, Regex};
use regex_automata::{Anchored, Input, MatchKind, PatternSet};
use regex_syntax::hir::Hir;
use std::ops::Range;

/// A pattern that compiled on its own.
#[derive(Debug)]
pub(crate) enum Compiled {
    Plain(Box<Hir>, Regex),
    Fancy(fancy_regex::Regex),
}

/// Why one pattern was refused, with the byte offset inside the pattern when known.
#[derive(Debug)]
pub(crate) struct PatternProblem {
    pub too_big: bool,
    pub message: String,
    pub offset: Option<usize>,
    pub hint: Option<String>,
}

fn syntax_config() -> regex_automata::util::syntax::Config {
    regex_automata::util::syntax::Config::new().nest_limit(limits::REGEX_NEST_LIMIT)
}

fn meta_config(size_limit: usize, kind: MatchKind) -> meta::Config {
    meta::Config::new()
        .match_kind(kind)
        .nfa_size_limit(Some(size_limit))
        .onepass_size_limit(Some(size_limit))
        .dfa_size_limit(Some(size_limit))
        .hybrid_cache_capacity(limits::REGEX_CACHE_BYTES)
}

/// Compiles one pattern: regex-automata when it can, fancy-regex when the pattern needs it.
pub(crate) fn compile(pattern: &str) -> Result<Compiled, PatternProblem> {
    if pattern.len() > limits::MAX_REGEX_LEN {
        return Err(PatternProblem {
            too_big: true,
            message: format!(
                "regex is {} bytes long, over the limit of {}",
                pattern.len(),
                limits::MAX_REGEX_LEN
            ),
            offset: None,
            hint: Some("split the rule into several rules".into()),
        });
    }
    let parsed = regex_syntax::ParserBuilder::new()
        .nest_limit(limits::REGEX_NEST_LIMIT)
        .build()
        .parse(pattern);
    let hir = match parsed {
        Ok(hir) => hir,
        Err(err) => return compile_fancy(pattern, &err),
    };
    if hir.properties().minimum_len() == Some(0) {
        return Err(PatternProblem {
            too_big: false,
            message: "regex can match the empty string".into(),
            offset: None,
            hint: Some("a finding must cover some text: use `+` instead of `*`, or drop the optional parts that make the whole pattern optional".into()),
        });
    }
    let regex = meta::Builder::new()
        .configure(meta_config(
            limits::REGEX_SIZE_LIMIT,
            MatchKind::LeftmostFirst,
        ))
        .syntax(syntax_config())
        .build_from_hir(&hir)
        .map_err(|e| size_problem(&e))?;
    Ok(Compiled::Plain(Box::new(hir), regex))
}

fn size_problem(e: &meta::BuildError) -> PatternProblem {
    PatternProblem {
        too_big: e.size_limit().is_some(),
        message: format!("regex does not compile: {e}"),
        offset: None,
        hint: Some(
            "large bounded repetitions ({1,1000}) and Unicode classes (\\w, \\d) multiply the size; \
             use ASCII classes such as [0-9] or (?-u:\\w), or smaller bounds"
                .into(),
        ),
    }
}

fn compile_fancy(pattern: &str, err: &regex_syntax::Error) -> Result<Compiled, PatternProblem> {
    let fancy = fancy_regex::RegexBuilder::new(pattern)
        .backtrack_limit(limits::FANCY_BACKTRACK_LIMIT)
        .delegate_size_limit(limits::REGEX_SIZE_LIMIT)
        .delegate_dfa_size_limit(limits::REGEX_SIZE_LIMIT)
        .build();
    if let Ok(re) = fancy {
        return Ok(Compiled::Fancy(re));
    }
    // Report regex-syntax's error: it is precise and has a position.
    let (message, offset) = match err {
        regex_syntax::Error::Parse(e) => (e.kind().to_string(), Some(e.span().start.offset)),
        regex_syntax::Error::Translate(e) => (e.kind().to_string(), Some(e.span().start.offset)),
        other => (other.to_string(), None),
    };
    Err(PatternProblem {
        too_big: false,
        message: format!("invalid regex: {message}"),
        offset,
        hint: None,
    })
}

#[derive(Debug)]
struct Plain {
    rule: RuleIdx,
    regex: Regex,
    validator: Option<Validator>,
}

#[derive(Debug)]
struct Fancy {
    rule: RuleIdx,
    regex: fancy_regex::Regex,
    validator: Option<Validator>,
}

/// All regex rules, compiled.
#[derive(Debug, Default)]
pub(crate) struct RegexMatcher {
    set: Option<Regex>,
    plain: Vec<Plain>,
    fancy: Vec<Fancy>,
}

/// The combined set failed to build; `pattern` is the index (in plain order) to blame if known.
#[derive(Debug)]
pub(crate) struct SetError {
    pub pattern: Option<usize>,
    pub message: String,
}

impl RegexMatcher {
    /// Builds the matcher from compiled patterns in rule order.
    pub(crate) fn build(
        compiled: Vec<(RuleIdx, Compiled, Option<Validator>)>,
    ) -> Result<Self, SetError> {
        let mut hirs = Vec::new();
        let mut m = RegexMatcher::default();
        for (rule, c, validator) in compiled {
            match c {
                Compiled::Plain(hir, regex) => {
                    hirs.push(*hir);
                    m.plain.push(Plain {
                        rule,
                        regex,
                        validator,
                    });
                }
                Compiled::Fancy(regex) => m.fancy.push(Fancy {
                    rule,
                    regex,
                    validator,
                }),
            }
        }
        if !hirs.is_empty() {
            let set = meta::Builder::new()
                .configure(meta_config(limits::REGEX_SET_SIZE_LIMIT, MatchKind::All))
                .syntax(syntax_config())
                .build_many_from_hir(&hirs)
                .map_err(|e| SetError {
                    pattern: e.pattern().map(|p| p.as_usize()),
                    message: e.to_string(),
                })?;
            m.set = Some(set);
        }
        Ok(m)
    }

    /// Findings in `hay` (normalized text) of rules that `keep` accepts, in haystack offsets.
    pub(crate) fn scan(
        &self,
        hay: &str,
        keep: impl Fn(RuleIdx) -> bool,
        out: &mut Vec<(RuleIdx, Range<usize>)>,
    ) -> Result<(), LimitHit> {
        if let Some(set) = &self.set {
            let mut which = PatternSet::new(set.pattern_len());
            set.which_overlapping_matches(&Input::new(hay), &mut which);
            for pid in which.iter() {
                let Some(p) = self.plain.get(pid.as_usize()) else {
                    continue;
                };
                if keep(p.rule) {
                    scan_plain(p, hay, out);
                }
            }
        }
        for f in &self.fancy {
            if keep(f.rule) {
                scan_fancy(f, hay, out)?;
            }
        }
        Ok(())
    }
}

fn passes(validator: Option<Validator>, matched: &str) -> bool {
    validator.is_none_or(|v| v.check(matched))
}

/// The next character boundary strictly after `at`.
fn next_boundary(hay: &str, at: usize) -> usize {
    let mut next = at + 1;
    while next < hay.len() && !hay.is_char_boundary(next) {
        next += 1;
    }
    next
}

fn scan_plain(p: &Plain, hay: &str, out: &mut Vec<(RuleIdx, Range<usize>)>) {
    let mut at = 0;
    while at < hay.len() {
        let Some(m) = p.regex.search(&Input::new(hay).span(at..hay.len())) else {
            break;
        };
        if !m.is_empty() && passes(p.validator, &hay[m.range()]) {
            out.push((p.rule, m.range()));
            at = m.end();
        } else if let Some(shorter) = shorter_valid(p, hay, m.range()) {
            at = shorter.end;
            out.push((p.rule, shorter));
        } else {
            at = next_boundary(hay, m.start());
        }
    }
}

/// After a match failed its validator: the longest shorter match from the same start that
/// passes. A greedy pattern can swallow a following word (`BE68 5390 0754 7034 FROM` takes
/// ` FROM` as one more IBAN group); the valid value is a prefix. Bounded so that a long invalid
/// run costs little.
fn shorter_valid(p: &Plain, hay: &str, m: Range<usize>) -> Option<Range<usize>> {
    let validator = p.validator?;
    if m.len() > limits::MAX_SHRINK_LEN {
        return None;
    }
    let mut end = m.end;
    for _ in 0..limits::MAX_SHRINK_TRIES {
        end = prev_boundary(hay, end);
        if end <= m.start {
            return None;
        }
        let input = Input::new(hay).span(m.start..end).anchored(Anchored::Yes);
        let shorter = p.regex.search(&input)?;
        if !shorter.is_empty() && validator.check(&hay[shorter.range()]) {
            return Some(shorter.range());
        }
        end = shorter.end();
    }
    None
}

/// The character boundary strictly before `at` (0 at the start).
fn prev_boundary(hay: &str, at: usize) -> usize {
    let mut prev = at.saturating_sub(1);
    while prev > 0 && !hay.is_char_boundary(prev) {
        prev -= 1;
    }
    prev
}

fn scan_fancy(
    f: &Fancy,
    hay: &str,
    out: &mut Vec<(RuleIdx, Range<usize>)>,
) -> Result<(), LimitHit> {
    let mut at = 0;
    while at < hay.len() {
        let m = match f.regex.find_from_pos(hay, at) {
            Ok(Some(m)) => m,
            Ok(None) => break,
            // Any runtime error (backtrack limit, stack) means we could not decide: block.
            Err(_) => return Err(LimitHit { rule: f.rule }),
        };
        if m.end() > m.start() && passes(f.validator, m.as_str()) {
            out.push((f.rule, m.range()));
            at = m.end();
        } else {
            at = next_boundary(hay, m.start());
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn matcher(patterns: &[(&str, Option<Validator>)]) -> RegexMatcher {
        let compiled = patterns
            .iter()
            .enumerate()
            .map(|(i, (p, v))| {
                let c = compile(p).unwrap_or_else(|e| panic!("{p}: {}", e.message));
                (RuleIdx(i as u32), c, *v)
            })
            .collect();
        RegexMatcher::build(compiled).unwrap()
    }

    fn found(m: &RegexMatcher, hay: &str) -> Vec<(u32, String)> {
        let mut out = Vec::new();
        m.scan(hay, |_| true, &mut out).unwrap();
        out.sort_by_key(|(r, range)| (range.start, r.0));
        out.into_iter()
            .map(|(r, range)| (r.0, hay[range].to_owned()))
            .collect()
    }

    #[test]
    fn overlapping_rules_all_find_their_matches() {
        let m = matcher(&[
            (r"[0-9]{3}-[0-9]{2}-[0-9]{4}", None),
            (r"[0-9]{2}-[0-9]{4}", None),
        ]);
        let got = found(&m, "id 123-45-6789.");
        assert_eq!(
            got,
            [(0, "123-45-6789".to_owned()), (1, "45-6789".to_owned())]
        );
    }

    #[test]
    fn validator_failures_resume_inside_the_match() {
        let m = matcher(&[(r"[0-9]{16}", Some(Validator::Luhn))]);
        // 17 digits: the first 16 fail Luhn, the last 16 pass.
        let got = found(&m, "x 14111111111111111 y");
        assert_eq!(got, [(0, "4111111111111111".to_owned())]);
        // Greedy over-match: the valid IBAN is a prefix of what the pattern took.
        let m = matcher(&[(
            r"(?-u:\b)[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?-u:\b)",
            Some(Validator::Iban),
        )]);
        let got = found(&m, "pay BE68 5390 0754 7034 FROM ACME");
        assert_eq!(got, [(0, "BE68 5390 0754 7034".to_owned())]);
        assert!(found(&m, "1234567812345678").is_empty());
    }

    #[test]
    fn empty_matching_patterns_are_refused() {
        let e = compile("a*").err().unwrap();
        assert!(e.message.contains("empty string"));
        assert!(compile(r"\b").is_err());
    }

    #[test]
    fn fancy_only_when_needed_and_limit_is_a_hit() {
        assert!(matches!(
            compile(r"[a-z]+@x\.com").unwrap(),
            Compiled::Plain(..)
        ));
        assert!(matches!(
            compile(r"(?<=key=)[a-z]+").unwrap(),
            Compiled::Fancy(_)
        ));
        let m = matcher(&[(r"(?<=key=)[a-z]+", None)]);
        assert_eq!(found(&m, "a key=abc"), [(0, "abc".to_owned())]);
        // Catastrophic backtracking under a lookahead: the limit fires and is reported.
        let m = matcher(&[(r"(a+)+\1c", None)]);
        let mut out = Vec::new();
        let hay = format!("{}b", "a".repeat(40));
        assert_eq!(
            m.scan(&hay, |_| true, &mut out),
            Err(LimitHit { rule: RuleIdx(0) })
        );
    }

    #[test]
    fn invalid_regex_has_an_offset() {
        let e = compile("ab(c").err().unwrap();
        assert!(e.message.starts_with("invalid regex"), "{}", e.message);
        assert_eq!(e.offset, Some(2));
    }

    #[test]
    fn oversized_regex_is_refused() {
        let e = compile(r"\w{1000}\w{1000}").err().unwrap();
        assert!(e.too_big, "{}", e.message);
    }
}
