//! Literal rules: fixed strings, from a few privilege legends to 100k-entry dictionaries.
//!
//! Literals are never searched one by one. Each literal goes to one of three Aho-Corasick
//! automata, all searched with overlapping (standard) semantics so that every occurrence of every
//! pattern is seen and a hit for one rule can never hide a hit for another rule on the same words
//! (overlapping hits of one rule are merged later):
//!
//! - literals that start with a word character (nearly all of them) join the **anchored**
//!   automaton of the [engine](super::engine), which runs only at word starts that pass the
//!   prefix Bloom filter ([`gate`](super::gate));
//! - literals that start with punctuation (`@acme.com`) go to an **unanchored** automaton that
//!   reads the whole text;
//! - case-insensitive literals with non-ASCII letters (`privilégié`) go to a third automaton that
//!   runs, on non-ASCII text only, over
//!   [`normalize_lowercase`](crate::normalize::normalize_lowercase) output.
//!
//! **Word boundaries.** A literal that starts with a word character (letter, digit, `_`) only
//! matches where the text does not have a word character right before it; likewise at its end.
//! The matter name `Acme` therefore matches "Acme Corp" and "(Acme)" but not "Acmeister" or
//! "BigAcme". A literal that starts or ends with punctuation is not constrained on that side.
//!
//! **Case.** `case_insensitive` literals fold ASCII case inside the automaton. When rules differ,
//! one case-insensitive automaton serves all of them and case-sensitive hits are confirmed with a
//! byte comparison: one pass instead of two.
//!
//! **Memory.** A DFA (fastest, one transition-table row per state) for small sets, a contiguous
//! NFA (compact) beyond [`DFA_MAX_PATTERN_BYTES`]; sizes are bounded by [`super::limits`]. For a
//! 10k-entry dictionary the DFA needs about 30 MB and the contiguous NFA about 2 MB; scanning a
//! whole text, the DFA was roughly 1.5x faster, but behind the word-start gate the automaton runs
//! for a few bytes at a few percent of word starts, so the compact NFA costs nothing measurable.

use super::limits;
use super::RuleIdx;
use crate::normalize::{normalize, normalize_lowercase};
use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind, StartKind};
use std::collections::HashSet;
use std::ops::Range;

/// Above this many pattern bytes a DFA's transition table grows past a few MiB and stops
/// paying for itself.
pub(crate) const DFA_MAX_PATTERN_BYTES: usize = 16 * 1024;

/// One literal as a rule wrote it.
#[derive(Debug, Clone)]
pub(crate) struct LiteralSpec {
    pub rule: RuleIdx,
    pub text: String,
    pub case_insensitive: bool,
}

/// What a literal hit must satisfy beyond the automaton match.
#[derive(Debug, Clone)]
pub(crate) struct LiteralCheck {
    pub rule: RuleIdx,
    pub word_start: bool,
    pub word_end: bool,
    /// Set for case-sensitive patterns in a case-insensitive automaton: the bytes a hit must equal.
    pub exact: Option<Box<str>>,
}

impl LiteralCheck {
    /// Whether the automaton hit `range` in `hay` is a finding.
    #[inline]
    pub(crate) fn accepts(&self, hay: &str, range: Range<usize>) -> bool {
        let glued = (self.word_start && word_char_before(hay, range.start))
            || (self.word_end && word_char_after(hay, range.end));
        !glued
            && self
                .exact
                .as_deref()
                .is_none_or(|x| hay.get(range) == Some(x))
    }
}

/// A literal after normalization, ready for an automaton.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub rule: RuleIdx,
    pub text: String,
    pub case_insensitive: bool,
}

impl Prepared {
    pub(crate) fn starts_with_word_char(&self) -> bool {
        self.text.chars().next().is_some_and(is_word_char)
    }

    pub(crate) fn check(&self, automaton_ci: bool) -> LiteralCheck {
        LiteralCheck {
            rule: self.rule,
            word_start: self.starts_with_word_char(),
            word_end: self.text.chars().next_back().is_some_and(is_word_char),
            exact: (automaton_ci && !self.case_insensitive)
                .then(|| self.text.clone().into_boxed_str()),
        }
    }
}

/// Normalizes and de-duplicates literals; returns (ASCII-foldable, non-ASCII case-insensitive).
pub(crate) fn prepare(specs: &[LiteralSpec]) -> (Vec<Prepared>, Vec<Prepared>) {
    let mut plain = Vec::new();
    let mut unicode = Vec::new();
    let mut seen = HashSet::new();
    for spec in specs {
        let normalized = normalize(&spec.text);
        let unicode_ci = spec.case_insensitive && !normalized.as_str().is_ascii();
        let mut text = if unicode_ci {
            normalize_lowercase(&spec.text).as_str().to_owned()
        } else {
            normalized.as_str().to_owned()
        };
        if spec.case_insensitive {
            text.make_ascii_lowercase();
        }
        if text.is_empty() || !seen.insert((spec.rule, spec.case_insensitive, text.clone())) {
            continue;
        }
        let p = Prepared {
            rule: spec.rule,
            text,
            case_insensitive: spec.case_insensitive,
        };
        if unicode_ci {
            unicode.push(p);
        } else {
            plain.push(p);
        }
    }
    (plain, unicode)
}

/// Why a literal automaton could not be built.
#[derive(Debug)]
pub(crate) enum LiteralBuildError {
    TooBig(String),
    Automaton(aho_corasick::BuildError),
}

/// Builds an Aho-Corasick automaton over `patterns` (standard match semantics, so overlapping
/// search works), bounded in size.
pub(crate) fn build_automaton<'a>(
    patterns: impl Iterator<Item = &'a [u8]> + Clone,
    case_insensitive: bool,
    start: StartKind,
) -> Result<AhoCorasick, LiteralBuildError> {
    let total: usize = patterns.clone().map(<[u8]>::len).sum();
    if total > limits::MAX_LITERAL_BYTES {
        return Err(LiteralBuildError::TooBig(format!(
            "literal patterns total {total} bytes, over the limit of {} bytes",
            limits::MAX_LITERAL_BYTES
        )));
    }
    let kind = if total <= DFA_MAX_PATTERN_BYTES {
        AhoCorasickKind::DFA
    } else {
        AhoCorasickKind::ContiguousNFA
    };
    let ac = AhoCorasick::builder()
        .match_kind(MatchKind::Standard)
        .start_kind(start)
        .ascii_case_insensitive(case_insensitive)
        .kind(Some(kind))
        .build(patterns)
        .map_err(LiteralBuildError::Automaton)?;
    if ac.memory_usage() > limits::MAX_AUTOMATON_BYTES {
        return Err(LiteralBuildError::TooBig(format!(
            "the literal automaton needs {} MiB, over the limit of {} MiB",
            ac.memory_usage() >> 20,
            limits::MAX_AUTOMATON_BYTES >> 20
        )));
    }
    Ok(ac)
}

/// An unanchored automaton with the checks of its patterns.
#[derive(Debug)]
struct Unanchored {
    ac: AhoCorasick,
    checks: Vec<LiteralCheck>,
}

impl Unanchored {
    fn build(patterns: &[Prepared]) -> Result<Option<Self>, LiteralBuildError> {
        if patterns.is_empty() {
            return Ok(None);
        }
        let ci = patterns.iter().any(|p| p.case_insensitive);
        let ac = build_automaton(
            patterns.iter().map(|p| p.text.as_bytes()),
            ci,
            StartKind::Unanchored,
        )?;
        let checks = patterns.iter().map(|p| p.check(ci)).collect();
        Ok(Some(Self { ac, checks }))
    }

    fn scan(
        &self,
        hay: &str,
        keep: impl Fn(RuleIdx) -> bool,
        out: &mut Vec<(RuleIdx, Range<usize>)>,
    ) {
        for m in self.ac.find_overlapping_iter(hay) {
            if let Some(c) = self.checks.get(m.pattern().as_usize()) {
                if keep(c.rule) && c.accepts(hay, m.range()) {
                    out.push((c.rule, m.range()));
                }
            }
        }
    }
}

/// The literals that are not searched at word starts.
#[derive(Debug, Default)]
pub(crate) struct LiteralMatcher {
    anywhere: Option<Unanchored>,
    unicode_ci: Option<Unanchored>,
}

impl LiteralMatcher {
    /// `anywhere`: literals that start with a non-word character; `unicode`: non-ASCII
    /// case-insensitive literals (matched on lowercased text).
    pub(crate) fn build(
        anywhere: &[Prepared],
        unicode: &[Prepared],
    ) -> Result<Self, LiteralBuildError> {
        Ok(Self {
            anywhere: Unanchored::build(anywhere)?,
            unicode_ci: Unanchored::build(unicode)?,
        })
    }

    /// Whether [`scan_lowercase`](Self::scan_lowercase) has anything to do.
    pub(crate) fn has_unicode_ci(&self) -> bool {
        self.unicode_ci.is_some()
    }

    pub(crate) fn memory_usage(&self) -> usize {
        [&self.anywhere, &self.unicode_ci]
            .into_iter()
            .flatten()
            .map(|a| a.ac.memory_usage())
            .sum()
    }

    /// Hits in `normalized` text of rules that `keep` accepts, in normalized offsets.
    pub(crate) fn scan(
        &self,
        normalized: &str,
        keep: impl Fn(RuleIdx) -> bool,
        out: &mut Vec<(RuleIdx, Range<usize>)>,
    ) {
        if let Some(a) = &self.anywhere {
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

    fn spec(rule: u32, text: &str, ci: bool) -> LiteralSpec {
        LiteralSpec {
            rule: RuleIdx(rule),
            text: text.into(),
            case_insensitive: ci,
        }
    }

    #[test]
    fn prepare_normalizes_folds_and_splits() {
        let (plain, unicode) = prepare(&[
            spec(0, "ＡＣＭＥ", true),
            spec(0, "acme", true),
            spec(1, "Privilégié", true),
            spec(2, "Müller", false),
        ]);
        let texts: Vec<&str> = plain.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(texts, ["acme", "Müller"]);
        assert_eq!(unicode.len(), 1);
        assert_eq!(unicode[0].text, "privilégié");
    }

    #[test]
    fn checks_enforce_word_boundaries_and_exact_case() {
        let p = Prepared {
            rule: RuleIdx(0),
            text: "Acme".into(),
            case_insensitive: false,
        };
        let c = p.check(true);
        let hay = "Acme acme Acmeister xAcme (Acme)";
        let hits: Vec<usize> = [0, 5, 10, 21, 27]
            .into_iter()
            .filter(|&s| c.accepts(hay, s..s + 4))
            .collect();
        assert_eq!(hits, [0, 27]);
        let punct = Prepared {
            rule: RuleIdx(0),
            text: "@acme.com".into(),
            case_insensitive: true,
        };
        assert!(punct.check(true).accepts("bob@acme.com", 3..12));
    }

    #[test]
    fn unanchored_matcher_finds_overlaps_and_unicode_case() {
        let (plain, unicode) = prepare(&[
            spec(0, "@acme.com", true),
            spec(1, "@acme", true),
            spec(2, "privilégié", true),
        ]);
        let m = LiteralMatcher::build(&plain, &unicode).unwrap();
        let mut out = Vec::new();
        m.scan("x@ACME.COM", |_| true, &mut out);
        assert_eq!(out, [(RuleIdx(1), 1..6), (RuleIdx(0), 1..10)]);
        assert!(m.has_unicode_ci());
        out.clear();
        let lower = normalize_lowercase("DOCUMENT PRIVILÉGIÉ");
        m.scan_lowercase(lower.as_str(), |_| true, &mut out);
        assert_eq!(out.len(), 1);
    }
}
