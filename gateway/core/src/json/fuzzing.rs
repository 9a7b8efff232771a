//! Checks shared by the fuzz targets (in `fuzz/`) and the test that replays their corpus, so a
//! crash the fuzzer finds becomes a plain `cargo test` failure once its input is saved.
//!
//! These functions assert: a failed assertion here is a bug in this module, found by an input.

use super::{element_removals, member_removals, parse, splice, Edit, Kind, Value};

/// At most this many single-member removals are tried per document, to keep each run fast.
const SINGLE_REMOVALS: usize = 64;

/// Parses `data`; if it is accepted, checks that spans point at the bytes they claim, that
/// splicing nothing returns the input, and that removing top-level members or elements (all of
/// them, each alone, every other one) leaves valid JSON with exactly the rest.
pub fn fuzz_check_parse(data: &[u8]) {
    let Ok(doc) = parse(data) else {
        return;
    };
    check_spans(data, &doc);
    assert_eq!(splice(data, Vec::new()).ok().as_deref(), Some(data));
    let n = match &doc.kind {
        Kind::Object(members) => members.len(),
        Kind::Array(items) => items.len(),
        _ => return,
    };
    let all: Vec<usize> = (0..n).collect();
    check_removal(data, &doc, &all);
    for i in 0..n.min(SINGLE_REMOVALS) {
        check_removal(data, &doc, &[i]);
    }
    let every_other: Vec<usize> = (0..n).step_by(2).collect();
    check_removal(data, &doc, &every_other);
}

fn check_removal(data: &[u8], doc: &Value<'_>, remove: &[usize]) {
    let (ranges, kept) = match &doc.kind {
        Kind::Object(members) => (
            member_removals(data, doc, remove),
            kept_bytes(data, members.iter().map(|m| m.span()), remove),
        ),
        Kind::Array(items) => (
            element_removals(data, doc, remove),
            kept_bytes(data, items.iter().map(|v| v.span.clone()), remove),
        ),
        _ => return,
    };
    let edits = ranges.into_iter().map(Edit::delete).collect();
    let out = splice(data, edits);
    assert!(out.is_ok(), "removal ranges must not overlap");
    let out = out.unwrap_or_default();
    let reparsed = parse(&out);
    assert!(
        reparsed.is_ok(),
        "removal produced invalid JSON: {reparsed:?}"
    );
    let Ok(reparsed) = reparsed else { return };
    let left: Vec<&[u8]> = match &reparsed.kind {
        Kind::Object(members) => members.iter().map(|m| &out[m.span()]).collect(),
        Kind::Array(items) => items.iter().map(|v| &out[v.span.clone()]).collect(),
        _ => Vec::new(),
    };
    assert_eq!(
        left, kept,
        "removal must keep exactly the other items, byte for byte"
    );
}

fn kept_bytes<'d>(
    data: &'d [u8],
    spans: impl Iterator<Item = std::ops::Range<usize>>,
    remove: &[usize],
) -> Vec<&'d [u8]> {
    spans
        .enumerate()
        .filter(|(i, _)| !remove.contains(i))
        .map(|(_, span)| &data[span])
        .collect()
}

/// Every value's span re-parses on its own to an equal value (shifted), and every string's span
/// sits between quotes.
fn check_spans(data: &[u8], value: &Value<'_>) {
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        let alone = parse(&data[v.span.clone()]);
        assert!(alone.is_ok(), "span {:?} does not hold a value", v.span);
        if let Ok(alone) = alone {
            assert_eq!(alone.span.len(), v.span.len());
            assert_eq!(alone.kind_name(), v.kind_name());
        }
        match &v.kind {
            Kind::String(s) => check_str_span(data, s),
            Kind::Array(items) => stack.extend(items),
            Kind::Object(members) => {
                for m in members {
                    check_str_span(data, &m.key);
                    stack.push(&m.value);
                }
            }
            _ => {}
        }
    }
}

fn check_str_span(data: &[u8], s: &super::Str<'_>) {
    assert_eq!(data.get(s.span.start.wrapping_sub(1)), Some(&b'"'));
    assert_eq!(data.get(s.span.end), Some(&b'"'));
    assert_eq!(s.raw().as_bytes(), &data[s.span.clone()]);
    assert_eq!(s.raw_range(0..s.text.len()), s.span);
}
