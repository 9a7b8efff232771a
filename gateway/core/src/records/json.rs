//! JSON objects and Python/JavaScript dicts inside text: `… case: {"Id":"500","Legal_Case_Strategy__c":"…"}`.

use super::{skip_ws, FieldSite, Format};
use std::ops::Range;

/// A quoted key followed by `:`. `Err` when the key is quoted but its value cannot be followed
/// (an escaped key of a record encoded twice, a value that never ends).
// One value range and one removal: these `Vec`s hold one element per record by design (CSV
// sites hold one per row), which this lint cannot tell from a mistyped range collection.
#[allow(clippy::single_range_in_vec_init)]
pub(super) fn key(t: &str, name: &Range<usize>) -> Option<Result<FieldSite, ()>> {
    let b = t.as_bytes();
    let open = name.start.checked_sub(1)?;
    let quote = b[open];
    if !matches!(quote, b'"' | b'\'') || b.get(name.end) != Some(&quote) {
        return None;
    }
    if open > 0 && b[open - 1] == b'\\' {
        // `{\"Legal_Case_Strategy__c\": …}`: a record escaped inside the text.
        return Some(Err(()));
    }
    let colon = skip_ws(t, name.end + 1);
    if b.get(colon) != Some(&b':') {
        return None;
    }
    let value_start = skip_ws(t, colon + 1);
    let Some(value_end) = value_end(t, value_start) else {
        return Some(Err(()));
    };
    Some(Ok(FieldSite {
        format: Format::Json,
        name: name.clone(),
        values: vec![value_start..value_end],
        removals: vec![member_removal(t, open, value_end)],
        quote: Some(char::from(quote)),
    }))
}

/// The member `open..end` with one of its separating commas, so the object stays valid.
fn member_removal(t: &str, open: usize, end: usize) -> Range<usize> {
    let b = t.as_bytes();
    let after = skip_ws(t, end);
    if b.get(after) == Some(&b',') {
        return open..skip_ws(t, after + 1);
    }
    let mut before = open;
    while before > 0 && b[before - 1].is_ascii_whitespace() {
        before -= 1;
    }
    if before > 0 && b[before - 1] == b',' {
        return before - 1..end;
    }
    open..end
}

/// Where the JSON (or dict) value starting at `i` ends: strings in either quote with escapes,
/// nested brackets, and bare numbers and literals.
pub(super) fn value_end(t: &str, i: usize) -> Option<usize> {
    let b = t.as_bytes();
    match *b.get(i)? {
        q @ (b'"' | b'\'') => string_end(b, i, q),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            while j < b.len() {
                match b[j] {
                    q @ (b'"' | b'\'') => {
                        j = string_end(b, j, q)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            None
        }
        _ => {
            let end = b[i..]
                .iter()
                .position(|&c| matches!(c, b',' | b'}' | b']' | b'\n' | b'\r'))
                .map_or(b.len(), |p| i + p);
            let trimmed = t[i..end].trim_end().len();
            (trimmed > 0).then_some(i + trimmed)
        }
    }
}

/// The end (one past the closing quote) of a string opened by `q` at `i`.
fn string_end(b: &[u8], i: usize, q: u8) -> Option<usize> {
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            c if c == q => return Some(j + 1),
            _ => j += 1,
        }
    }
    None
}
