//! Literal rules: every pattern of every literal rule in one Aho-Corasick automaton.
//!
//! Dictionaries of 10k–100k matter names and client code names are normal, so literals are never
//! searched one by one. The automaton runs over the normalized text with overlapping (standard)
//! semantics: every occurrence of every pattern is reported, so a hit for one rule can never hide
//! a hit for another rule on the same words. Overlapping hits of one rule are merged later.
//!
//! **Word boundaries.** A literal that starts with a word character (letter, digit, `_`) only
//! matches where the text does not have a word character right before it; likewise at its end.
//! The matter name `Acme` therefore matches "Acme Corp" and "(Acme)" but not "Acmeister" or
//! "BigAcme". A literal that starts or ends with punctuation (`@acme.com`) is not constrained on
//! that side.
//!
//! **Case.** `case_insensitive` literals fold ASCII case inside the automaton. When rules differ,
//! one case-insensitive automaton serves all of them and case-sensitive hits are confirmed with
//! a byte comparison: one pass over the text instead of two. Case-insensitive literals with
//! non-ASCII letters (`privilégié`) live in a second automaton that runs, only on non-ASCII text,
//! over [`normalize_lowercase`](crate::normalize::normalize_lowercase) output.
//!
//! **Memory.** The automaton kind is chosen by size: a DFA (fastest, but one transition table
//! row per state) for small sets, a contiguous NFA (compact, still fast) beyond
//! [`DFA_MAX_PATTERN_BYTES`]. Input size is bounded by the limits in [`super::limits`].

use super::limits;
use super::RuleIdx;
use crate::normalize::{normalize, normalize_lowercase};
use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use std::collections::HashSet;
use std::ops::Range;

/// Above this many pattern bytes a DFA's transition table grows past a few MiB and stops
/// paying for itself; see the `rules` benchmark.
pub(crate) const DFA_MAX_PATTERN_BYTES: usize = 16 * 1024;

/// One literal as a rule wrote it.
#[derive(Debug, Clone)]
pub(crate) struct LiteralSpec {
    pub rule: RuleIdx,
    pub text: String,
    pub case_insensitive: bool,
}

#[derive(Debug)]
struct Entry {
    rule: RuleIdx,
    word_start: bool,
    word_end: bool,
    /// Set for case-sensitive patterns in a case-insensitive automaton: the bytes a hit must equal.
    exact: Option<Box<str>>,
}

#[derive(Debug)]
struct Automaton {
    ac: AhoCorasick,
    entries: Vec<Entry>,
}

/// All literal rules, compiled.
#[derive(Debug, Default)]
pub(crate) struct LiteralMatcher {
    main: Option<Automaton>,
    unicode_ci: Option<Automaton>,
}

/// Why the literal automaton could not be built.
#[derive(Debug)]
pub(crate) enum LiteralBuildError {
    TooBig(String),
    Automaton(aho_corasick::BuildError),
}

impl LiteralMatcher {
    pub(crate) fn build(specs: &[LiteralSpec]) -> Result<Self, LiteralBuildError> {
        let mut main = Vec::new();
        let mut unicode = Vec::new();
        let mut seen = HashSet::new();
        for spec in specs {
            if spec.case_insensitive && !spec.text.is_ascii() {
                let text = normalize_lowercase(&spec.text).as_str().to_owned();
                if seen.insert((spec.rule, true, text.clone())) {
                    unicode.push((spec.rule, text, true));
                }
            } else {
                let mut text = normalize(&spec.text).as_str().to_owned();
                if spec.case_insensitive {
                    text.make_ascii_lowercase();
                }
                if seen.insert((spec.rule, spec.case_insensitive, text.clone())) {
                    main.push((spec.rule, text, spec.case_insensitive));
                }
            }
        }
        Ok(Self {
            main: Automaton::build(main)?,
            unicode_ci: Automaton::build(unicode)?,
        })
    }

    /// Whether [`scan_lowercase`](Self::scan_lowercase) has anything to do.
    pub(crate) fn has_unicode_ci(&self) -> bool {
        self.unicode_ci.is_some()
    }

    /// Bytes held by the automata.
    pub(crate) fn memory_usage(&self) -> usize {
        [&self.main, &self.unicode_ci]
            .into_iter()
            .flatten()
            .map(|a| a.ac.memory_usage() + a.entries.len() * std::mem::size_of::<Entry>())
            .sum()
    }

    /// Hits in `normalized` text of rules that `keep` accepts, in normalized offsets.
    pub(crate) fn scan(
        &self,
        normalized: &str,
        keep: impl Fn(RuleIdx) -> bool,
        out: &mut Vec<(RuleIdx, Range<usize>)>,
    ) {
        if let Some(a) = &self.main {
            a.scan(normalized, keep, out);
        }
    }

    /// Hits of non-ASCII case-insensitive literals in lowercased normalized text.
    pub(crate) fn scan_lowercase(
        &self,
        lowercased: &str,
        keep: impl Fn(RuleIdx) -> bool,
        out: &mut Vec<(RuleIdx, Range<usize>)>,
    ) {
        if let Some(a) = &self.unicode_ci {
            a.scan(lowercased, keep, out);
        }
    }
}

impl Automaton {
    fn build(patterns: Vec<(RuleIdx, String, bool)>) -> Result<Option<Self>, LiteralBuildError> {
        if patterns.is_empty() {
            return Ok(None);
        }
        let total: usize = patterns.iter().map(|(_, p, _)| p.len()).sum();
        if total > limits::MAX_LITERAL_BYTES {
            return Err(LiteralBuildError::TooBig(format!(
                "literal patterns total {total} bytes, over the limit of {} bytes",
                limits::MAX_LITERAL_BYTES
            )));
        }
        let any_ci = patterns.iter().any(|(_, _, ci)| *ci);
        let all_ci = patterns.iter().all(|(_, _, ci)| *ci);
        let kind = if total <= DFA_MAX_PATTERN_BYTES {
            AhoCorasickKind::DFA
        } else {
            AhoCorasickKind::ContiguousNFA
        };
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .ascii_case_insensitive(any_ci)
            .kind(Some(kind))
            .build(patterns.iter().map(|(_, p, _)| p))
            .map_err(LiteralBuildError::Automaton)?;
        if ac.memory_usage() > limits::MAX_AUTOMATON_BYTES {
            return Err(LiteralBuildError::TooBig(format!(
                "the literal automaton needs {} MiB, over the limit of {} MiB",
                ac.memory_usage() >> 20,
                limits::MAX_AUTOMATON_BYTES >> 20
            )));
        }
        let entries = patterns
            .into_iter()
            .map(|(rule, text, ci)| Entry {
                rule,
                word_start: text.chars().next().is_some_and(is_word_char),
                word_end: text.chars().next_back().is_some_and(is_word_char),
                exact: (!ci && !all_ci).then(|| text.into_boxed_str()),
            })
            .collect();
        Ok(Some(Self { ac, entries }))
    }

    fn scan(
        &self,
        hay: &str,
        keep: impl Fn(RuleIdx) -> bool,
        out: &mut Vec<(RuleIdx, Range<usize>)>,
    ) {
        for m in self.ac.find_overlapping_iter(hay) {
            let Some(e) = self.entries.get(m.pattern().as_usize()) else {
                continue;
            };
            if !keep(e.rule)
                || (e.word_start && word_char_before(hay, m.start()))
                || (e.word_end && word_char_after(hay, m.end()))
                || e.exact
                    .as_deref()
                    .is_some_and(|x| hay.get(m.range()) != Some(x))
            {
                continue;
            }
            out.push((e.rule, m.range()));
        }
    }
}

pub(crate) fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn word_char_before(hay: &str, at: usize) -> bool {
    match hay.as_bytes().get(at.wrapping_sub(1)) {
        None => false,
        Some(&b) if b.is_ascii() => b.is_ascii_alphanumeric() || b == b'_',
        Some(_) => hay
            .get(..at)
            .and_then(|s| s.chars().next_back())
            .is_some_and(is_word_char),
    }
}

fn word_char_after(hay: &str, at: usize) -> bool {
    match hay.as_bytes().get(at) {
        None => false,
        Some(&b) if b.is_ascii() => b.is_ascii_alphanumeric() || b == b'_',
        Some(_) => hay
            .get(at..)
            .and_then(|s| s.chars().next())
            .is_some_and(is_word_char),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn build(specs: &[(u32, &str, bool)]) -> LiteralMatcher {
        let specs: Vec<LiteralSpec> = specs
            .iter()
            .map(|&(rule, text, ci)| LiteralSpec {
                rule: RuleIdx(rule),
                text: text.into(),
                case_insensitive: ci,
            })
            .collect();
        LiteralMatcher::build(&specs).unwrap()
    }

    fn hits(m: &LiteralMatcher, text: &str) -> Vec<(u32, String)> {
        let mut out = Vec::new();
        m.scan(text, |_| true, &mut out);
        out.sort_by_key(|(r, range)| (range.start, r.0));
        out.into_iter()
            .map(|(r, range)| (r.0, text[range].to_owned()))
            .collect()
    }

    fn pairs(v: &[(u32, &str)]) -> Vec<(u32, String)> {
        v.iter().map(|&(r, s)| (r, s.to_owned())).collect()
    }

    #[test]
    fn word_boundaries() {
        let m = build(&[(0, "Acme", false), (1, "@acme.com", true)]);
        assert_eq!(
            hits(&m, "Acme Corp (Acme)"),
            pairs(&[(0, "Acme"), (0, "Acme")])
        );
        assert!(hits(&m, "Acmeister BigAcme Acme_1 Acme2").is_empty());
        assert_eq!(hits(&m, "bob@ACME.COM"), pairs(&[(1, "@ACME.COM")]));
    }

    #[test]
    fn mixed_case_sensitivity_confirms_exact_bytes() {
        let m = build(&[(0, "Orion", false), (1, "privileged", true)]);
        assert_eq!(
            hits(&m, "orion Orion PRIVILEGED"),
            pairs(&[(0, "Orion"), (1, "PRIVILEGED")])
        );
    }

    #[test]
    fn same_text_in_two_rules_reports_both() {
        let m = build(&[(0, "Orion", true), (1, "orion", true)]);
        assert_eq!(
            hits(&m, "Project Orion"),
            pairs(&[(0, "Orion"), (1, "Orion")])
        );
    }

    #[test]
    fn overlapping_patterns_are_all_reported() {
        let m = build(&[
            (0, "Acme Corp", true),
            (0, "Corp Holdings", true),
            (0, "Acme", true),
        ]);
        assert_eq!(
            hits(&m, "Acme Corp Holdings"),
            pairs(&[(0, "Acme"), (0, "Acme Corp"), (0, "Corp Holdings")])
        );
    }

    #[test]
    fn unicode_case_insensitive_uses_lowercase_view() {
        let m = build(&[(0, "Privilégié", true)]);
        assert!(m.has_unicode_ci());
        let text = normalize_lowercase("DOCUMENT PRIVILÉGIÉ");
        let mut out = Vec::new();
        m.scan_lowercase(text.as_str(), |_| true, &mut out);
        assert_eq!(out.len(), 1);
    }
}
