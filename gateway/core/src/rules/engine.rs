//! The search engine behind [`RuleSet::scan`](super::RuleSet::scan): every literal and regex
//! rule, arranged so that one pass over the text decides where anything can match.
//!
//! | rule shape | where it is searched |
//! |---|---|
//! | literal starting with a word character | anchored, at word starts passing the prefix filter |
//! | regex `\b` + literal prefix (`AKIA`, `ghp_`) | anchored, at word starts passing the filter |
//! | regex without lowercase ASCII letters | inside runs of its alphabet, long enough |
//! | any other regex | whole text, if it holds a byte every match needs (`memchr`: `@`, `:`/`=`) |
//! | fancy regex (look-around, backreferences) | whole text, with a backtrack limit |
//! | literal starting with punctuation | whole text (unanchored Aho-Corasick) |
//!
//! The pass ([`ByteScan`]) reports word starts that pass the first stage of the prefix filter,
//! and runs of non-lowercase bytes. At a word start that also passes the Bloom stage, one
//! anchored Aho-Corasick search finds every literal and every gate prefix beginning there, and
//! each gated regex runs anchored at that position. Runs are split by the exact alphabet of the
//! run-gated regexes and trimmed to bytes that can begin and end a match; a run long enough for
//! several of them gets one multi-pattern `which_overlapping_matches` pass to pick which. See
//! [`gate`](super::gate) for why, and the `rules` benchmark for what it buys. A property test
//! (`engine/tests.rs`) checks that gating never changes what a plain search would find.

use super::gate::{ByteScan, PrefixBloom};
use super::literal::{
    build_automaton, prepare, LiteralBuildError, LiteralCheck, LiteralMatcher, LiteralSpec,
};
use super::pattern::{gate_for, meta_config, syntax_config, Compiled, Fancy, Gate, Plain};
use super::required::required_bytes;
use super::validate::Validator;
use super::{limits, LimitHit, RuleIdx};
use aho_corasick::automaton::OverlappingState;
use aho_corasick::{AhoCorasick, StartKind};
use regex_automata::meta::{self, Regex};
use regex_automata::{Input, MatchKind, PatternSet};
use std::ops::Range;

/// What a hit of the anchored automaton means.
#[derive(Debug)]
enum StartEntry {
    Literal(LiteralCheck),
    /// A prefix of `gated[i]`.
    Regex(usize),
}

#[derive(Debug)]
struct StartIndex {
    ac: AhoCorasick,
    entries: Vec<StartEntry>,
}

/// Why the engine could not be built.
#[derive(Debug)]
pub(crate) enum EngineError {
    Literal(LiteralBuildError),
    /// The combined run-gated regex set failed; `input` is the index in the regex input list.
    RegexSet {
        input: Option<usize>,
        message: String,
    },
}

/// All literal and regex rules, compiled for searching.
#[derive(Debug)]
pub(crate) struct Engine {
    /// No rule matches fewer bytes: shorter texts (keys, roles, model names) are not searched.
    min_len: usize,
    bytes: ByteScan,
    bloom: PrefixBloom,
    starts: Option<StartIndex>,
    gated: Vec<Plain>,
    run_set: Option<Regex>,
    run: Vec<(Plain, usize)>,
    /// Bytes that run-gated regexes can match.
    run_alphabet: Box<[bool; 256]>,
    /// Bytes that can begin / end a match of some run-gated regex (`None`: any).
    run_first: Option<Box<[bool; 256]>>,
    run_last: Option<Box<[bool; 256]>>,
    free: Vec<Plain>,
    fancy: Vec<Fancy>,
    literals: LiteralMatcher,
}

impl Engine {
    pub(crate) fn build(
        literals: &[LiteralSpec],
        regexes: Vec<(RuleIdx, Compiled, Option<Validator>)>,
    ) -> Result<Self, EngineError> {
        let (plain, unicode) = prepare(literals);
        // Literal hits are exactly as long as the (normalized) literal.
        let mut shortest = plain
            .iter()
            .chain(&unicode)
            .map(|p| p.text.len())
            .min()
            .unwrap_or(usize::MAX);
        let (at_starts, anywhere): (Vec<_>, Vec<_>) =
            plain.into_iter().partition(|p| p.starts_with_word_char());

        let mut gated = Vec::new();
        let mut prefixes: Vec<(usize, Vec<u8>)> = Vec::new();
        let mut run = Vec::new();
        let mut run_hirs = Vec::new();
        let mut run_inputs = Vec::new();
        let mut alphabet = [false; 256];
        let mut run_first = Some(Box::new([false; 256]));
        let mut run_last = Some(Box::new([false; 256]));
        let mut free = Vec::new();
        let mut fancy = Vec::new();
        for (input, (rule, compiled, validator)) in regexes.into_iter().enumerate() {
            let (hir, regex) = match compiled {
                Compiled::Fancy(regex) => {
                    // fancy-regex does not say how short a match can be.
                    shortest = 0;
                    fancy.push(Fancy {
                        rule,
                        regex,
                        validator,
                    });
                    continue;
                }
                Compiled::Plain(hir, regex) => (hir, regex),
            };
            shortest = shortest.min(hir.properties().minimum_len().unwrap_or(0));
            let plain = Plain {
                rule,
                regex,
                validator,
                required: required_bytes(&hir),
            };
            match gate_for(&hir) {
                Gate::WordPrefix(ps) => {
                    prefixes.extend(ps.into_iter().map(|p| (gated.len(), p)));
                    gated.push(plain);
                }
                Gate::Run {
                    alphabet: a,
                    min_len,
                    first,
                    last,
                } => {
                    union(&mut alphabet, Some(&*a));
                    union_edges(&mut run_first, first.as_deref());
                    union_edges(&mut run_last, last.as_deref());
                    run.push((plain, min_len));
                    run_hirs.push(*hir);
                    run_inputs.push(input);
                }
                Gate::Free => free.push(plain),
            }
        }

        let ci = !prefixes.is_empty() || at_starts.iter().any(|p| p.case_insensitive);
        let mut bloom = PrefixBloom::new(at_starts.len() + prefixes.len());
        let starts = if at_starts.is_empty() && prefixes.is_empty() {
            None
        } else {
            let patterns: Vec<&[u8]> = at_starts
                .iter()
                .map(|p| p.text.as_bytes())
                .chain(prefixes.iter().map(|(_, p)| p.as_slice()))
                .collect();
            for p in &patterns {
                bloom.insert(p);
            }
            let ac = build_automaton(patterns.iter().copied(), ci, StartKind::Anchored)
                .map_err(EngineError::Literal)?;
            let entries = at_starts
                .iter()
                .map(|p| StartEntry::Literal(p.check(ci)))
                .chain(prefixes.iter().map(|&(i, _)| StartEntry::Regex(i)))
                .collect();
            Some(StartIndex { ac, entries })
        };

        let run_set = if run_hirs.len() > 1 {
            let set = meta::Builder::new()
                .configure(meta_config(limits::REGEX_SET_SIZE_LIMIT, MatchKind::All))
                .syntax(syntax_config())
                .build_many_from_hir(&run_hirs)
                .map_err(|e| EngineError::RegexSet {
                    input: e
                        .pattern()
                        .and_then(|p| run_inputs.get(p.as_usize()).copied()),
                    message: e.to_string(),
                })?;
            Some(set)
        } else {
            None
        };
        let run_min = run.iter().map(|(_, n)| *n).min().unwrap_or(usize::MAX);
        Ok(Self {
            min_len: shortest,
            bytes: ByteScan::new(starts.is_some(), !bloom.digit_first(), run_min),
            run_alphabet: Box::new(alphabet),
            bloom,
            starts,
            gated,
            run_set,
            run,
            run_first,
            run_last,
            free,
            fancy,
            literals: LiteralMatcher::build(&anywhere, &unicode).map_err(EngineError::Literal)?,
        })
    }

    pub(crate) fn has_unicode_ci(&self) -> bool {
        self.literals.has_unicode_ci()
    }

    /// Bytes held by the literal automata (regex memory is bounded by the size limits).
    pub(crate) fn memory_usage(&self) -> usize {
        self.literals.memory_usage() + self.starts.as_ref().map_or(0, |s| s.ac.memory_usage())
    }

    /// Findings in normalized text `hay` of rules that `keep` accepts, in `hay` offsets.
    pub(crate) fn scan(
        &self,
        hay: &str,
        keep: impl Fn(RuleIdx) -> bool,
        out: &mut Vec<(RuleIdx, Range<usize>)>,
    ) -> Result<(), LimitHit> {
        if hay.len() < self.min_len {
            return Ok(());
        }
        if !self.bytes.is_idle() {
            let mut runs = Vec::new();
            let mut next_allowed = Vec::new();
            self.bytes.scan(
                hay,
                &self.bloom,
                |p| {
                    if let Some(starts) = &self.starts {
                        self.at_start(starts, hay, p, &keep, &mut next_allowed, out);
                    }
                },
                |s, e| runs.push(s..e),
            );
            if !runs.is_empty() {
                self.in_runs(hay, &runs, &keep, out);
            }
        }
        for p in &self.free {
            if keep(p.rule) {
                p.scan(hay, 0..hay.len(), out);
            }
        }
        for f in &self.fancy {
            if keep(f.rule) {
                f.scan(hay, out)?;
            }
        }
        self.literals.scan(hay, &keep, out);
        Ok(())
    }

    /// Non-ASCII case-insensitive literals over lowercased normalized text.
    pub(crate) fn scan_lowercase(
        &self,
        hay: &str,
        keep: impl Fn(RuleIdx) -> bool,
        out: &mut Vec<(RuleIdx, Range<usize>)>,
    ) {
        self.literals.scan_lowercase(hay, keep, out);
    }

    /// Everything that starts at word start `p`.
    fn at_start(
        &self,
        starts: &StartIndex,
        hay: &str,
        p: usize,
        keep: &impl Fn(RuleIdx) -> bool,
        next_allowed: &mut Vec<usize>,
        out: &mut Vec<(RuleIdx, Range<usize>)>,
    ) {
        let input = aho_corasick::Input::new(hay)
            .span(p..hay.len())
            .anchored(aho_corasick::Anchored::Yes);
        let mut state = OverlappingState::start();
        loop {
            starts.ac.find_overlapping(input.clone(), &mut state);
            let Some(m) = state.get_match() else {
                break;
            };
            match starts.entries.get(m.pattern().as_usize()) {
                Some(StartEntry::Literal(check))
                    if keep(check.rule) && check.accepts(hay, m.range()) =>
                {
                    out.push((check.rule, m.range()));
                }
                Some(StartEntry::Literal(_)) => {}
                Some(&StartEntry::Regex(i)) => {
                    let Some(plain) = self.gated.get(i) else {
                        continue;
                    };
                    if next_allowed.is_empty() {
                        next_allowed.resize(self.gated.len(), 0);
                    }
                    // Several prefixes of one regex may start here; try it once, and never
                    // inside its previous finding (findings of a rule do not overlap).
                    if !keep(plain.rule) || p < next_allowed[i] {
                        continue;
                    }
                    next_allowed[i] = p + 1;
                    if let Some(found) = plain.at(hay, p) {
                        next_allowed[i] = found.end;
                        out.push((plain.rule, found));
                    }
                }
                None => {}
            }
        }
    }

    fn in_runs(
        &self,
        hay: &str,
        runs: &[Range<usize>],
        keep: &impl Fn(RuleIdx) -> bool,
        out: &mut Vec<(RuleIdx, Range<usize>)>,
    ) {
        let mut which = self
            .run_set
            .as_ref()
            .map(|s| PatternSet::new(s.pattern_len()));
        let bytes = hay.as_bytes();
        let min = self.run.iter().map(|(_, n)| *n).min().unwrap_or(usize::MAX);
        // Split the coarse (non-lowercase) runs by the exact alphabet.
        let exact = runs.iter().flat_map(|r| {
            let alphabet = &self.run_alphabet;
            let mut at = r.start;
            std::iter::from_fn(move || {
                while at < r.end && !alphabet[usize::from(bytes[at])] {
                    at += 1;
                }
                let start = at;
                while at < r.end && alphabet[usize::from(bytes[at])] {
                    at += 1;
                }
                (start < r.end).then_some(start..at)
            })
        });
        for mut r in exact {
            // Trim bytes no match can begin or end with (the spaces around a date).
            if let Some(first) = &self.run_first {
                while r.start < r.end && !first[usize::from(bytes[r.start])] {
                    r.start += 1;
                }
            }
            if let Some(last) = &self.run_last {
                while r.end > r.start && !last[usize::from(bytes[r.end - 1])] {
                    r.end -= 1;
                }
            }
            if r.len() < min {
                continue;
            }
            let mut try_one = |(plain, min_len): &(Plain, usize)| {
                if keep(plain.rule) && r.len() >= *min_len {
                    plain.scan(hay, r.clone(), out);
                }
            };
            // Most runs are long enough for one regex at most: search it directly. The set pass
            // pays off when several could match.
            let fit = self.run.iter().filter(|(_, n)| r.len() >= *n).count();
            match (&self.run_set, which.as_mut()) {
                (Some(set), Some(which)) if fit > 1 => {
                    which.clear();
                    set.which_overlapping_matches(&Input::new(hay).span(r.clone()), which);
                    for pid in which.iter() {
                        if let Some(entry) = self.run.get(pid.as_usize()) {
                            try_one(entry);
                        }
                    }
                }
                _ => self.run.iter().for_each(&mut try_one),
            }
        }
    }
}

fn union(into: &mut [bool; 256], from: Option<&[bool; 256]>) {
    if let Some(from) = from {
        for (u, x) in into.iter_mut().zip(from.iter()) {
            *u |= *x;
        }
    }
}

/// Unions edge sets, where `None` (any byte) absorbs everything.
fn union_edges(into: &mut Option<Box<[bool; 256]>>, from: Option<&[bool; 256]>) {
    match (into.as_deref_mut(), from) {
        (Some(set), Some(from)) => union(set, Some(from)),
        _ => *into = None,
    }
}

#[cfg(test)]
mod tests;
