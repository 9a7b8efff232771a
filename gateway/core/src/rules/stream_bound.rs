//! What a streaming scanner must hold back so response rules see every match whole.
//!
//! A model's answer arrives in fragments, and a response rule must see a match that spans two of
//! them. Holding back a fixed window would delay every token; instead the rule set's syntax says
//! which text could still be part of a match:
//!
//! - **Alphabet.** Every character a match of any response rule can contain. For a regex it is
//!   the union of its literals and classes (its HIR, after `(?i)` was expanded); for a literal the
//!   pattern's characters, both cases when it is case-insensitive. Non-ASCII characters always
//!   count as matchable, because normalization may fold them onto ASCII (look-alikes, NFKC) or
//!   remove them (invisible characters); ASCII text is left unchanged by normalization, so an
//!   ASCII character outside the alphabet can never be inside a match. A pattern with look-around
//!   or backreferences (the `fancy-regex` fallback) makes every character matchable.
//! - **Length.** The longest match in bytes of normalized text, times four (one normalized byte
//!   may come from a four-byte look-alike), capped at [`MAX_HOLD`]. Unbounded patterns (`+`,
//!   `*`) get the cap. An e-mail address is at most 254 bytes, so the cap covers real values.
//!
//! A scanner therefore holds the trailing run of matchable characters, at most [`StreamBound::hold`]
//! bytes of it: text before an unmatchable ASCII character can never join a later match.

use super::literal::LiteralSpec;
use super::pattern::Compiled;
use super::{Rule, RuleIdx};
use crate::types::Direction;
use regex_syntax::hir::{Class, Hir, HirKind};

/// The most a streaming scanner ever holds back for response rules, in bytes.
pub const MAX_HOLD: usize = 1024;

/// The hold-back profile of the response rules of one rule set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamBound {
    /// `ascii[b]`: ASCII byte `b` can be part of a match.
    ascii: [bool; 128],
    hold: usize,
}

impl Default for StreamBound {
    fn default() -> Self {
        StreamBound {
            ascii: [false; 128],
            hold: 0,
        }
    }
}

impl StreamBound {
    /// Whether `c` could be part of a match of some response rule.
    pub fn matchable(&self, c: char) -> bool {
        match u8::try_from(c) {
            Ok(b) if b < 128 => self.ascii[usize::from(b)],
            _ => true,
        }
    }

    /// The most bytes a scanner holds back; 0 when no response rule scans text.
    pub fn hold(&self) -> usize {
        self.hold
    }

    fn add_len(&mut self, normalized: Option<usize>) {
        let len = normalized.map_or(MAX_HOLD, |n| n.saturating_mul(4).clamp(1, MAX_HOLD));
        self.hold = self.hold.max(len);
    }

    fn add_byte(&mut self, b: u8) {
        if let Some(slot) = self.ascii.get_mut(usize::from(b)) {
            *slot = true;
        }
    }

    fn add_all(&mut self) {
        self.ascii = [true; 128];
    }

    fn add_hir(&mut self, hir: &Hir) {
        match hir.kind() {
            HirKind::Empty | HirKind::Look(_) => {}
            HirKind::Literal(lit) => lit.0.iter().for_each(|&b| self.add_byte(b)),
            HirKind::Class(Class::Unicode(cls)) => {
                for r in cls.iter() {
                    self.add_range(u32::from(r.start()), u32::from(r.end()));
                }
            }
            HirKind::Class(Class::Bytes(cls)) => {
                for r in cls.iter() {
                    self.add_range(u32::from(r.start()), u32::from(r.end()));
                }
            }
            HirKind::Repetition(rep) => self.add_hir(&rep.sub),
            HirKind::Capture(cap) => self.add_hir(&cap.sub),
            HirKind::Concat(subs) | HirKind::Alternation(subs) => {
                subs.iter().for_each(|h| self.add_hir(h))
            }
        }
    }

    fn add_range(&mut self, start: u32, end: u32) {
        for b in start..=end.min(127) {
            if let Ok(b) = u8::try_from(b) {
                self.add_byte(b);
            }
        }
    }
}

/// The profile of every literal and regex rule that covers responses.
pub(crate) fn response_bound(
    rules: &[Rule],
    literals: &[LiteralSpec],
    regexes: &[(RuleIdx, Compiled, Option<super::Validator>)],
) -> StreamBound {
    let covers = |r: RuleIdx| {
        rules
            .get(r.index())
            .is_some_and(|rule| rule.scope.covers(Direction::Response))
    };
    let mut bound = StreamBound::default();
    for lit in literals.iter().filter(|l| covers(l.rule)) {
        for b in lit.text.bytes().filter(u8::is_ascii) {
            bound.add_byte(b);
            if lit.case_insensitive {
                bound.add_byte(b.to_ascii_lowercase());
                bound.add_byte(b.to_ascii_uppercase());
            }
        }
        bound.add_len(Some(lit.text.len()));
    }
    for (_, compiled, _) in regexes.iter().filter(|(r, _, _)| covers(*r)) {
        match compiled {
            Compiled::Plain(hir, _) => {
                bound.add_hir(hir);
                bound.add_len(hir.properties().maximum_len());
            }
            Compiled::Fancy(_) => {
                bound.add_all();
                bound.add_len(None);
            }
        }
    }
    bound
}
