//! `Label: value` lines: `Legal_Case_Strategy__c: Settle below 2M`, `- **Legal_Case_Strategy__c** = …`,
//! and a name alone on a line heading the lines below it, as reports and copied forms print them.

use super::{json, line_end, line_start, skip_blank, FieldSite, Format};
use std::ops::Range;

/// Bytes that may precede a label on its line: indentation, list bullets, Markdown emphasis,
/// quotes and headings.
fn is_lead(c: u8) -> bool {
    matches!(
        c,
        b' ' | b'\t' | b'-' | b'*' | b'#' | b'>' | b'_' | b'`' | b'"' | b'\''
    ) || c >= 0x80
}

/// A name that starts its line: the rest of the line is its value, or, when the line holds
/// nothing else, the lines below it up to a blank line.
pub(super) fn label(t: &str, name: &Range<usize>) -> Option<Result<FieldSite, ()>> {
    let start = line_start(t, name.start);
    if !t.as_bytes()[start..name.start].iter().all(|&c| is_lead(c)) {
        return None;
    }
    let end = line_end(t, name.end);
    let value_start = after_separator(t, name.end, end);
    let (value, removal_end) = if value_start < end {
        (value_start..end, end)
    } else {
        let block_end = paragraph_end(t, end);
        (skip_newline(t, end)..block_end, block_end)
    };
    let removal = start..skip_newline(t, removal_end);
    Some(Ok(FieldSite {
        format: Format::Line,
        name: name.clone(),
        values: if value.is_empty() {
            vec![]
        } else {
            vec![value]
        },
        removals: vec![removal],
        quote: None,
    }))
}

/// A `name: value` or `name = value` pair in the middle of a line (`… Legal_Case_Strategy__c=…`):
/// the value runs to the end of the line unless it is quoted or bracketed.
// One value range and one removal: these `Vec`s hold one element per record by design (CSV
// sites hold one per row), which this lint cannot tell from a mistyped range collection.
#[allow(clippy::single_range_in_vec_init)]
pub(super) fn pair(t: &str, name: &Range<usize>) -> Option<Result<FieldSite, ()>> {
    let b = t.as_bytes();
    let mut i = name.end;
    while i < b.len() && matches!(b[i], b'"' | b'\'' | b'*' | b'`') {
        i += 1;
    }
    i = skip_blank(t, i);
    if !matches!(b.get(i), Some(b':' | b'=')) {
        return None;
    }
    let end = line_end(t, name.end);
    let value_start = after_separator(t, name.end, end);
    let value_end = match b.get(value_start) {
        Some(b'"' | b'\'' | b'{' | b'[') => json::value_end(t, value_start).unwrap_or(end),
        _ => end,
    };
    Some(Ok(FieldSite {
        format: Format::Line,
        name: name.clone(),
        values: vec![value_start..value_end.max(value_start)],
        removals: vec![name.start..value_end.max(value_start)],
        quote: None,
    }))
}

/// Past closing emphasis or quotes, blanks, one separator (`:`, `=`, `=>`, `->`, `|`, a dash)
/// and blanks again.
fn after_separator(t: &str, from: usize, end: usize) -> usize {
    let b = t.as_bytes();
    let mut i = from;
    while i < end && matches!(b[i], b'*' | b'_' | b'`' | b'"' | b'\'') {
        i += 1;
    }
    i = skip_blank(t, i);
    for sep in ["=>", "->", ":", "=", "|", "-", "\u{2013}", "\u{2014}"] {
        if t[i..end].starts_with(sep) {
            i += sep.len();
            break;
        }
    }
    skip_blank(t, i).min(end)
}

/// The end of the paragraph whose first line break is at `from`: the next blank line.
fn paragraph_end(t: &str, from: usize) -> usize {
    let mut i = from;
    while i < t.len() {
        let next = skip_newline(t, i);
        let line_stop = line_end(t, next);
        if next >= t.len() || t[next..line_stop].trim().is_empty() {
            return i;
        }
        i = line_stop;
    }
    i
}

fn skip_newline(t: &str, i: usize) -> usize {
    match t.as_bytes().get(i) {
        Some(b'\n') => i + 1,
        _ => i,
    }
}
