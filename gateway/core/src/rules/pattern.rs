//! Regex rules: compiling one pattern, and finding where it can match.
//!
//! Each pattern is compiled on its own with `regex-automata`'s meta engine (leftmost-first, so a
//! rule's findings are exactly what its own regex finds, never hidden by another rule's match on
//! the same span), under size limits. Patterns that need look-around or backreferences
//! (regex-syntax refuses them, `fancy-regex` accepts them) run through `fancy-regex` with a
//! backtrack limit; hitting it is reported as [`LimitHit`], which the caller treats as a block.
//!
//! A byte-at-a-time automaton reads text at well under 1 GB/s, so where a pattern can match is
//! decided first, from its syntax ([`Gate`]):
//! - `\b` followed by a literal prefix (`AKIA`, `ghp_`, `eyJ`, `bearer`): only at word starts
//!   whose first bytes pass the prefix filter ([`gate`](super::gate)), with an anchored search;
//! - no lowercase ASCII letter anywhere in the pattern (cards, SSNs, phones, IBANs): only inside
//!   runs of its alphabet at least as long as its shortest match;
//! - otherwise over the whole text, where the meta engine's own literal prefilters apply (the `@`
//!   of an email pattern is found with `memchr`).
//!
//! A match that fails the rule's validator is not a finding. Shorter matches from the same start
//! are tried (a greedy IBAN pattern may have swallowed the next word), then the search resumes
//! one character after its start, so a valid card number right after an invalid digit is found.

use super::limits;
use super::required::Required;
use super::validate::Validator;
use super::{LimitHit, RuleIdx};
use regex_automata::meta::{self, Regex};
use regex_automata::{Anchored, Input, MatchKind};
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Class, Hir, HirKind, Look};
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

pub(crate) fn syntax_config() -> regex_automata::util::syntax::Config {
    regex_automata::util::syntax::Config::new().nest_limit(limits::REGEX_NEST_LIMIT)
}

pub(crate) fn meta_config(size_limit: usize, kind: MatchKind) -> meta::Config {
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

/// Where the engine looks for matches of a plain pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Gate {
    /// Starts with a word boundary and one of these prefixes (ASCII-lowercased, at least three
    /// bytes, starting with an ASCII word byte): searched anchored at matching word starts.
    WordPrefix(Vec<Vec<u8>>),
    /// Never matches a lowercase ASCII letter: searched only inside runs of `alphabet` at least
    /// `min_len` bytes long, once trimmed to bytes that can begin (`first`) and end (`last`) a
    /// match (`None`: any byte of the alphabet).
    Run {
        alphabet: Box<[bool; 256]>,
        min_len: usize,
        first: Option<Box<[bool; 256]>>,
        last: Option<Box<[bool; 256]>>,
    },
    /// Searched over the whole text.
    Free,
}

/// Decides the [`Gate`] of a pattern from its syntax.
pub(crate) fn gate_for(hir: &Hir) -> Gate {
    if starts_with_word_boundary(hir) {
        if let Some(prefixes) = word_prefixes(hir) {
            return Gate::WordPrefix(prefixes);
        }
    }
    let mut alphabet = Box::new([false; 256]);
    add_alphabet(hir, &mut alphabet);
    if !alphabet[usize::from(b'a')..=usize::from(b'z')].contains(&true) {
        if let Some(min_len) = hir.properties().minimum_len().filter(|&n| n > 0) {
            return Gate::Run {
                alphabet,
                min_len,
                first: edge_bytes(hir, ExtractKind::Prefix),
                last: edge_bytes(hir, ExtractKind::Suffix),
            };
        }
    }
    Gate::Free
}

fn starts_with_word_boundary(hir: &Hir) -> bool {
    match hir.kind() {
        HirKind::Look(look) => matches!(
            look,
            Look::WordAscii
                | Look::WordUnicode
                | Look::WordStartAscii
                | Look::WordStartUnicode
                | Look::WordStartHalfAscii
                | Look::WordStartHalfUnicode
        ),
        HirKind::Capture(c) => starts_with_word_boundary(&c.sub),
        HirKind::Concat(parts) => parts.first().is_some_and(starts_with_word_boundary),
        _ => false,
    }
}

/// Every match starts with one of the returned prefixes, if they are usable for gating.
fn word_prefixes(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    let seq = Extractor::new().kind(ExtractKind::Prefix).extract(hir);
    let mut prefixes: Vec<Vec<u8>> = seq
        .literals()?
        .iter()
        .map(|lit| lit.as_bytes().to_ascii_lowercase())
        .collect();
    let usable = !prefixes.is_empty()
        && prefixes
            .iter()
            .all(|p| p.len() >= 3 && (p[0].is_ascii_alphanumeric() || p[0] == b'_'));
    if !usable {
        return None;
    }
    prefixes.sort();
    prefixes.dedup();
    Some(prefixes)
}

/// The bytes every match starts (prefix) or ends (suffix) with, if there are few enough to list.
fn edge_bytes(hir: &Hir, kind: ExtractKind) -> Option<Box<[bool; 256]>> {
    let seq = Extractor::new()
        .kind(kind.clone())
        .limit_literal_len(1)
        .limit_class(256)
        .limit_total(256)
        .extract(hir);
    let mut set = Box::new([false; 256]);
    for lit in seq.literals()? {
        let byte = match kind {
            ExtractKind::Suffix => lit.as_bytes().last(),
            _ => lit.as_bytes().first(),
        };
        set[usize::from(*byte?)] = true;
    }
    Some(set)
}

/// Marks every byte a match of `hir` can contain (non-ASCII characters mark all high bytes).
fn add_alphabet(hir: &Hir, alphabet: &mut [bool; 256]) {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => {}
        HirKind::Literal(lit) => {
            for &b in lit.0.iter() {
                alphabet[usize::from(b)] = true;
            }
        }
        HirKind::Class(Class::Bytes(class)) => {
            for r in class.ranges() {
                for b in r.start()..=r.end() {
                    alphabet[usize::from(b)] = true;
                }
            }
        }
        HirKind::Class(Class::Unicode(class)) => {
            for r in class.ranges() {
                let (start, end) = (u32::from(r.start()), u32::from(r.end()));
                for b in start..=end.min(0x7F) {
                    alphabet[b as usize] = true;
                }
                if end > 0x7F {
                    alphabet[0x80..].fill(true);
                }
            }
        }
        HirKind::Repetition(rep) => add_alphabet(&rep.sub, alphabet),
        HirKind::Capture(cap) => add_alphabet(&cap.sub, alphabet),
        HirKind::Concat(parts) | HirKind::Alternation(parts) => {
            for part in parts {
                add_alphabet(part, alphabet);
            }
        }
    }
}

/// A compiled plain pattern and what its matches must pass.
#[derive(Debug)]
pub(crate) struct Plain {
    pub rule: RuleIdx,
    pub regex: Regex,
    pub validator: Option<Validator>,
    /// Every match contains one of these bytes ([`required_bytes`]): a span without any of
    /// them is skipped with one `memchr` instead of a regex search.
    pub required: Option<Required>,
}

/// A compiled fancy-regex pattern.
#[derive(Debug)]
pub(crate) struct Fancy {
    pub rule: RuleIdx,
    pub regex: fancy_regex::Regex,
    pub validator: Option<Validator>,
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

impl Plain {
    /// All findings inside `span` (look-around still sees the text around it).
    pub(crate) fn scan(
        &self,
        hay: &str,
        span: Range<usize>,
        out: &mut Vec<(RuleIdx, Range<usize>)>,
    ) {
        if let Some(req) = &self.required {
            if !req.occurs_in(&hay.as_bytes()[span.clone()]) {
                return;
            }
        }
        let mut at = span.start;
        while at < span.end {
            let Some(m) = self.regex.search(&Input::new(hay).span(at..span.end)) else {
                break;
            };
            if let Some(found) = self.accept(hay, m.range(), span.end) {
                at = found.end;
                out.push((self.rule, found));
            } else {
                at = next_boundary(hay, m.start());
            }
        }
    }

    /// The finding starting exactly at `at`, if any.
    pub(crate) fn at(&self, hay: &str, at: usize) -> Option<Range<usize>> {
        let input = Input::new(hay).span(at..hay.len()).anchored(Anchored::Yes);
        let m = self.regex.search(&input)?;
        self.accept(hay, m.range(), hay.len())
    }

    /// `m` if it is a finding, else the longest shorter valid match from its start.
    fn accept(&self, hay: &str, m: Range<usize>, limit: usize) -> Option<Range<usize>> {
        if m.is_empty() {
            return None;
        }
        if passes(self.validator, &hay[m.clone()]) {
            return Some(m);
        }
        self.shorter_valid(hay, m, limit)
    }

    /// After a match failed its validator: the longest shorter match from the same start that
    /// passes. A greedy pattern can swallow a following word (`BE68 5390 0754 7034 FROM` takes
    /// ` FROM` as one more IBAN group); the valid value is a prefix. Bounded so that a long
    /// invalid run costs little.
    fn shorter_valid(&self, hay: &str, m: Range<usize>, limit: usize) -> Option<Range<usize>> {
        let validator = self.validator?;
        if m.len() > limits::MAX_SHRINK_LEN {
            return None;
        }
        let mut end = m.end.min(limit);
        for _ in 0..limits::MAX_SHRINK_TRIES {
            end = prev_boundary(hay, end);
            if end <= m.start {
                return None;
            }
            let input = Input::new(hay).span(m.start..end).anchored(Anchored::Yes);
            let shorter = self.regex.search(&input)?;
            if !shorter.is_empty() && validator.check(&hay[shorter.range()]) {
                return Some(shorter.range());
            }
            end = shorter.end();
        }
        None
    }
}

/// The character boundary strictly before `at` (0 at the start).
fn prev_boundary(hay: &str, at: usize) -> usize {
    let mut prev = at.saturating_sub(1);
    while prev > 0 && !hay.is_char_boundary(prev) {
        prev -= 1;
    }
    prev
}

impl Fancy {
    /// All findings in `hay`; `Err` when the backtrack limit (or another runtime limit) is hit.
    pub(crate) fn scan(
        &self,
        hay: &str,
        out: &mut Vec<(RuleIdx, Range<usize>)>,
    ) -> Result<(), LimitHit> {
        let mut at = 0;
        while at < hay.len() {
            let m = match self.regex.find_from_pos(hay, at) {
                Ok(Some(m)) => m,
                Ok(None) => break,
                // Any runtime error means we could not decide: the caller blocks.
                Err(_) => return Err(LimitHit { rule: self.rule }),
            };
            if m.end() > m.start() && passes(self.validator, m.as_str()) {
                out.push((self.rule, m.range()));
                at = m.end();
            } else {
                at = next_boundary(hay, m.start());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn gate(p: &str) -> Gate {
        match compile(p).unwrap_or_else(|e| panic!("{p}: {}", e.message)) {
            Compiled::Plain(hir, _) => gate_for(&hir),
            Compiled::Fancy(_) => panic!("{p} compiled as fancy"),
        }
    }

    fn prefixes(list: &[&str]) -> Gate {
        Gate::WordPrefix(list.iter().map(|s| s.as_bytes().to_vec()).collect())
    }

    #[test]
    fn gates_follow_the_syntax() {
        assert_eq!(
            gate(r"(?-u:\b)gh[po]_[A-Za-z0-9]{36}"),
            prefixes(&["gho_", "ghp_"])
        );
        assert_eq!(gate(r"\b(?i:bearer) +[a-z]+"), prefixes(&["bearer "]));
        // No leading boundary, or a prefix too short: not word-gated.
        assert_eq!(gate(r"sk-[a-z]{20}"), Gate::Free);
        assert_eq!(gate(r"\bab[a-z]+"), Gate::Free);
        match gate(r"\b[0-9]{3}-[0-9]{2}-[0-9]{4}\b") {
            Gate::Run {
                alphabet,
                min_len,
                first,
                last,
            } => {
                assert_eq!(min_len, 11);
                let digits: Vec<bool> = (0u8..=255).map(|b| b.is_ascii_digit()).collect();
                assert_eq!(first.map(|f| f.to_vec()), Some(digits.clone()));
                assert_eq!(last.map(|f| f.to_vec()), Some(digits));
                let bytes: Vec<u8> = (0u8..=255).filter(|&b| alphabet[usize::from(b)]).collect();
                assert_eq!(bytes, b"-0123456789");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(gate(r"[A-Za-z0-9._%+-]+@[a-z]+\.com"), Gate::Free);
        // Unicode classes reach into high bytes but stay run-gated when they exclude a-z.
        assert!(matches!(gate(r"[0-9Ä]{4}"), Gate::Run { .. }));
    }

    #[test]
    fn empty_matching_patterns_are_refused() {
        let e = compile("a*").err().unwrap();
        assert!(e.message.contains("empty string"));
        assert!(compile(r"\b").is_err());
    }

    #[test]
    fn fancy_only_when_needed() {
        assert!(matches!(
            compile(r"[a-z]+@x\.com").unwrap(),
            Compiled::Plain(..)
        ));
        assert!(matches!(
            compile(r"(?<=key=)[a-z]+").unwrap(),
            Compiled::Fancy(_)
        ));
        assert!(matches!(compile(r"(a+)\1").unwrap(), Compiled::Fancy(_)));
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
