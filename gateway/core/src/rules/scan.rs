//! The search path: text in, findings out. Nothing here allocates unless something matched
//! (or the text is not ASCII and has to be normalized).

use super::{LimitHit, RuleIdx, RuleSet, TextMatch};
use crate::normalize::{collapse_whitespace, normalize, normalize_lowercase};
use crate::types::Direction;
use std::ops::Range;

impl RuleSet {
    /// Runs every literal and regex rule that covers direction `dir` over `text` (already
    /// JSON-decoded) and appends the findings to `out`, sorted by start, then rule.
    ///
    /// Matching runs on the [normalized](crate::normalize) text; ranges are byte ranges of `text`
    /// on character boundaries. Overlapping matches of one rule are merged into one finding, so
    /// findings of a rule never overlap; findings of different rules may.
    ///
    /// `Err(LimitHit)` means some rule could not finish matching (fancy-regex backtrack limit):
    /// the caller must block, as the text may contain what that rule looks for.
    pub fn scan(
        &self,
        text: &str,
        dir: Direction,
        out: &mut Vec<TextMatch>,
    ) -> Result<(), LimitHit> {
        let scans = match dir {
            Direction::Request => self.scans[0],
            Direction::Response => self.scans[1],
        };
        if !scans || text.is_empty() {
            return Ok(());
        }
        let keep = |r: RuleIdx| self.covers(r, dir);
        let norm = normalize(text);
        // Line breaks and runs of blanks read as one space (`collapse_whitespace`).
        let collapsed = collapse_whitespace(norm.as_str());
        let hay = collapsed.as_ref().map_or(norm.as_str(), |c| c.as_str());
        let mut found: Vec<(RuleIdx, Range<usize>)> = Vec::new();
        self.engine.scan(hay, keep, &mut found)?;
        if let Some(c) = &collapsed {
            for (_, range) in &mut found {
                *range = c.original_range(range.clone());
            }
        }
        if !norm.is_identity() {
            for (_, range) in &mut found {
                *range = norm.original_range(range.clone());
            }
        }
        if self.engine.has_unicode_ci() && !text.is_ascii() {
            let lower = normalize_lowercase(text);
            let first = found.len();
            self.engine.scan_lowercase(lower.as_str(), keep, &mut found);
            for (_, range) in &mut found[first..] {
                *range = lower.original_range(range.clone());
            }
        }
        if !found.is_empty() {
            merge_per_rule(found, out);
        }
        Ok(())
    }
}

/// Merges overlapping ranges of the same rule and appends them sorted by (start, rule).
fn merge_per_rule(mut found: Vec<(RuleIdx, Range<usize>)>, out: &mut Vec<TextMatch>) {
    found.sort_unstable_by_key(|(rule, r)| (*rule, r.start, r.end));
    let first = out.len();
    for (rule, range) in found {
        match out[first..].last_mut() {
            Some(last) if last.rule == rule && range.start < last.range.end => {
                last.range.end = last.range.end.max(range.end);
            }
            _ => out.push(TextMatch { rule, range }),
        }
    }
    out[first..].sort_unstable_by_key(|m| (m.range.start, m.rule, m.range.end));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_joins_overlaps_of_one_rule_only() {
        let found = vec![
            (RuleIdx(1), 5..9),
            (RuleIdx(0), 0..4),
            (RuleIdx(0), 2..6),
            (RuleIdx(0), 6..8),
            (RuleIdx(1), 0..3),
        ];
        let mut out = vec![TextMatch {
            rule: RuleIdx(9),
            range: 100..101,
        }];
        merge_per_rule(found, &mut out);
        let got: Vec<(u32, Range<usize>)> =
            out.iter().map(|m| (m.rule.0, m.range.clone())).collect();
        assert_eq!(
            got,
            [(9, 100..101), (0, 0..6), (1, 0..3), (1, 5..9), (0, 6..8)]
        );
    }
}
