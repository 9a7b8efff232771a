//! XML elements inside text: Salesforce SOAP and Metadata API payloads, Apex-built XML,
//! `<sf:Legal_Case_Strategy__c>…</sf:Legal_Case_Strategy__c>`, with namespaces and CDATA.

use super::{FieldSite, Format};
use std::ops::Range;

/// The start of the `<` (and `prefix:`) before an element name at `name`, if it is one.
fn tag_open(t: &str, name: &Range<usize>) -> Option<usize> {
    let b = t.as_bytes();
    let mut i = name.start.checked_sub(1)?;
    if b[i] == b':' {
        // A namespace prefix: `<sf:Name`.
        while i > 0 && is_name_byte(b[i - 1]) {
            i -= 1;
        }
        i = i.checked_sub(1)?;
    }
    (b[i] == b'<').then_some(i)
}

fn is_name_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.')
}

/// Whether the name at `name` is inside a closing tag `</sf:Name>`.
pub(super) fn is_closing_tag(t: &str, name: &Range<usize>) -> bool {
    let b = t.as_bytes();
    let mut i = name.start;
    if i > 0 && b[i - 1] == b':' {
        i -= 1;
        while i > 0 && is_name_byte(b[i - 1]) {
            i -= 1;
        }
    }
    i >= 2 && b[i - 1] == b'/' && b[i - 2] == b'<'
}

/// An element whose name is at `name`. `Err` when the start tag is there but the element never
/// closes (the value cannot be bounded, so the caller redacts the whole text).
pub(super) fn element(t: &str, name: &Range<usize>) -> Option<Result<FieldSite, ()>> {
    let b = t.as_bytes();
    let open = tag_open(t, name)?;
    match b.get(name.end) {
        Some(b'>' | b'/') => {}
        Some(c) if c.is_ascii_whitespace() => {}
        _ => return None,
    }
    let Some(gt) = t[name.end..].find('>').map(|p| name.end + p) else {
        return Some(Err(()));
    };
    if b[gt - 1] == b'/' {
        // `<Name/>` or `<Name attr="…"/>`: no content, the attributes go with the element.
        return Some(Ok(site(name, gt + 1..gt + 1, open..gt + 1)));
    }
    let qualified = &t[open + 1..name.end];
    let Some((close_start, close_end)) = find_close(t, gt + 1, qualified) else {
        return Some(Err(()));
    };
    Some(Ok(site(name, gt + 1..close_start, open..close_end)))
}

fn site(name: &Range<usize>, value: Range<usize>, removal: Range<usize>) -> FieldSite {
    FieldSite {
        format: Format::Xml,
        name: name.clone(),
        values: vec![value],
        removals: vec![removal],
        quote: None,
    }
}

/// The first `</qualified>` (ASCII case ignored, spaces before `>` allowed) after `from`, skipping
/// CDATA sections, whose text may contain anything.
fn find_close(t: &str, from: usize, qualified: &str) -> Option<(usize, usize)> {
    let b = t.as_bytes();
    let mut i = from;
    while let Some(p) = t[i..].find('<') {
        let at = i + p;
        if t[at..].starts_with("<![CDATA[") {
            i = at + t[at..].find("]]>")? + 3;
            continue;
        }
        let n = at + 2;
        if b.get(at + 1) == Some(&b'/')
            && t.get(n..n + qualified.len())
                .is_some_and(|s| s.eq_ignore_ascii_case(qualified))
        {
            let gt = super::skip_ws(t, n + qualified.len());
            if b.get(gt) == Some(&b'>') {
                return Some((at, gt + 1));
            }
        }
        i = at + 1;
    }
    None
}
