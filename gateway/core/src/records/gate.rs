//! The field-name gate: where in a text could a field rule's name be?

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use std::ops::Range;

/// A case-insensitive automaton over every exact field name and the longest literal piece of
/// every glob. Globs that match everything are refused when rules are built, so every glob has a
/// piece; a hit only says "look here", [`super::find_sites`] confirms the whole word.
#[derive(Debug, Clone, Default)]
pub struct FieldGate {
    ac: Option<AhoCorasick>,
}

impl FieldGate {
    /// Builds the gate from folded names and globs (`*` and `?` wildcards).
    pub(crate) fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> FieldGate {
        let mut pieces: Vec<String> = names
            .into_iter()
            .filter_map(|n| {
                n.split(['*', '?'])
                    .max_by_key(|p| p.len())
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned)
            })
            .collect();
        pieces.sort();
        pieces.dedup();
        if pieces.is_empty() {
            return FieldGate { ac: None };
        }
        let ac = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&pieces)
            .or_else(|_| {
                AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .build(&pieces)
            })
            .ok();
        FieldGate { ac }
    }

    pub fn is_empty(&self) -> bool {
        self.ac.is_none()
    }

    /// Every hit in `text`, in order of start.
    pub(crate) fn hits(&self, text: &str) -> Vec<Range<usize>> {
        let Some(ac) = &self.ac else {
            return Vec::new();
        };
        let mut out: Vec<Range<usize>> = ac
            .find_overlapping_iter(text)
            .map(|m| m.start()..m.end())
            .collect();
        out.sort_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
        out
    }
}
