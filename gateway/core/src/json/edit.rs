//! The editor: byte-range edits spliced into the original body.
//!
//! Edits are computed against the *original* input (spans from [`super::parse`]) and applied in
//! one pass, so they never shift each other's offsets. Removals of members and elements come with
//! their commas and the whitespace that belonged to them, which keeps the result valid JSON and
//! keeps pretty-printed bodies indented the way they were.

use std::fmt;
use std::ops::Range;

use super::value::{Kind, Value};

/// Replace the bytes in `range` of the original input with `replacement`.
/// An empty replacement deletes; an empty range inserts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub range: Range<usize>,
    pub replacement: Vec<u8>,
}

impl Edit {
    /// An edit that deletes `range`.
    pub fn delete(range: Range<usize>) -> Self {
        Edit {
            range,
            replacement: Vec::new(),
        }
    }

    /// An edit that replaces `range` with `replacement`.
    pub fn replace(range: Range<usize>, replacement: impl Into<Vec<u8>>) -> Self {
        Edit {
            range,
            replacement: replacement.into(),
        }
    }
}

/// A set of edits [`splice`] cannot apply. This is a bug in the caller that built the edits, never
/// something a client controls, but the gateway still refuses the request instead of panicking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditError {
    kind: EditErrorKind,
    first: Range<usize>,
    second: Range<usize>,
}

/// What was wrong with the edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EditErrorKind {
    /// Two edits overlap without one containing the other.
    PartialOverlap,
    /// An edit's range ends before it starts or lies past the end of the input.
    OutOfBounds,
}

impl EditError {
    pub fn kind(&self) -> EditErrorKind {
        self.kind
    }

    /// The offending ranges: both overlapping edits, or the out-of-bounds edit twice.
    pub fn ranges(&self) -> (Range<usize>, Range<usize>) {
        (self.first.clone(), self.second.clone())
    }
}

impl fmt::Display for EditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            EditErrorKind::PartialOverlap => write!(
                f,
                "edits {:?} and {:?} overlap without one containing the other",
                self.first, self.second
            ),
            EditErrorKind::OutOfBounds => {
                write!(f, "edit {:?} is not a range of the input", self.first)
            }
        }
    }
}

impl std::error::Error for EditError {}

/// Applies `edits` to `input` and returns the new bytes; bytes outside all edits are copied
/// unchanged, so zero edits return `input` as it was.
///
/// Edits may come in any order. An edit lying entirely inside another one is discarded: a member
/// that is dropped takes the redactions inside it along. Of two edits with the same range the one
/// given first wins. Insertions (empty ranges) at the edge of another edit are kept, placed before
/// it at its start and after it at its end; several insertions at one offset keep their order.
/// Edits that overlap only partially cannot be applied meaningfully and are an error.
pub fn splice(input: &[u8], mut edits: Vec<Edit>) -> Result<Vec<u8>, EditError> {
    if let Some(bad) = edits
        .iter()
        .find(|e| e.range.start > e.range.end || e.range.end > input.len())
    {
        return Err(EditError {
            kind: EditErrorKind::OutOfBounds,
            first: bad.range.clone(),
            second: bad.range.clone(),
        });
    }
    // Stable sort: by start, insertions before what replaces bytes there, outer before inner.
    edits.sort_by(|a, b| {
        let a_key = (
            a.range.start,
            !a.range.is_empty(),
            std::cmp::Reverse(a.range.end),
        );
        let b_key = (
            b.range.start,
            !b.range.is_empty(),
            std::cmp::Reverse(b.range.end),
        );
        a_key.cmp(&b_key)
    });
    let added: usize = edits.iter().map(|e| e.replacement.len()).sum();
    let mut out = Vec::with_capacity(input.len() + added);
    let mut copied = 0;
    // The last edit that replaced bytes; accepted edits are disjoint, so nesting and overlap only
    // need checking against it.
    let mut outer: Option<Range<usize>> = None;
    for edit in &edits {
        let r = &edit.range;
        if let Some(o) = &outer {
            let inside = if r.is_empty() {
                o.start < r.start && r.start < o.end
            } else {
                o.start <= r.start && r.end <= o.end
            };
            if inside {
                continue;
            }
            if r.start < o.end {
                return Err(EditError {
                    kind: EditErrorKind::PartialOverlap,
                    first: o.clone(),
                    second: r.clone(),
                });
            }
        }
        out.extend_from_slice(&input[copied..r.start]);
        out.extend_from_slice(&edit.replacement);
        copied = r.end;
        if !r.is_empty() {
            outer = Some(r.clone());
        }
    }
    out.extend_from_slice(&input[copied..]);
    Ok(out)
}

/// Byte ranges that, deleted from `input`, remove the members at `indices` (into the members of
/// object `obj`) together with the commas and whitespace that belonged to them. Removing all
/// members leaves `{}`.
///
/// `obj` must come from parsing `input`. Indices out of range and repeats are ignored; a value
/// that is not an object gives no ranges. The ranges are sorted, disjoint, and never touch a kept
/// member, so they can be spliced together with edits inside the kept members.
pub fn member_removals(input: &[u8], obj: &Value<'_>, indices: &[usize]) -> Vec<Range<usize>> {
    match &obj.kind {
        Kind::Object(members) => {
            let items: Vec<Range<usize>> = members.iter().map(|m| m.span()).collect();
            removals(input, obj, &items, indices)
        }
        _ => Vec::new(),
    }
}

/// Like [`member_removals`], for the elements at `indices` of array `arr`. Removing all elements
/// leaves `[]`.
pub fn element_removals(input: &[u8], arr: &Value<'_>, indices: &[usize]) -> Vec<Range<usize>> {
    match &arr.kind {
        Kind::Array(items) => {
            let items: Vec<Range<usize>> = items.iter().map(|v| v.span.clone()).collect();
            removals(input, arr, &items, indices)
        }
        _ => Vec::new(),
    }
}

/// The shared logic. For each maximal run `a..=b` of removed items:
/// - if an item follows the run, delete from the start of item `a` to the start of item `b + 1`
///   (the run's items and the separators after them), so the whitespace before `a` now leads
///   into `b + 1` and indentation stays right;
/// - else if an item precedes it, delete from the end of item `a - 1` to the end of item `b`
///   (the separator before the run and the run), so what closes the container stays;
/// - else everything goes: delete between the brackets.
fn removals(
    input: &[u8],
    container: &Value<'_>,
    items: &[Range<usize>],
    indices: &[usize],
) -> Vec<Range<usize>> {
    let n = items.len();
    let mut remove = vec![false; n];
    for &i in indices {
        if let Some(flag) = remove.get_mut(i) {
            *flag = true;
        }
    }
    let mut ranges = Vec::new();
    let mut i = 0;
    while i < n {
        if !remove[i] {
            i += 1;
            continue;
        }
        let a = i;
        while i < n && remove[i] {
            i += 1;
        }
        let b = i - 1;
        let range = if b + 1 < n {
            items[a].start..items[b + 1].start
        } else if a > 0 {
            items[a - 1].end..items[b].end
        } else {
            let span = &container.span;
            span.start + 1..span.end.saturating_sub(1).min(input.len())
        };
        ranges.push(range);
    }
    ranges
}
