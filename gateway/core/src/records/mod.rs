//! Records inside free text: a Salesforce case pasted after prose, a Data Loader CSV export, a SOAP
//! payload, `Legal_Case_Strategy__c: …` lines.
//!
//! Integrations build prompts by pasting records into text, so a field rule that only looked at
//! JSON object keys would miss most of them. This module finds every place in a string where a
//! field rule's name occurs as a field (a JSON or dict key, a CSV/TSV column header, an XML
//! element, a label at the start of a line) and says exactly which bytes carry that field's
//! value and which bytes removing the field would take out, so `drop`, `redact` and
//! `pseudonymize` act on records in text exactly as on JSON members.
//!
//! The search is driven by the field names themselves: a case-insensitive Aho-Corasick automaton
//! over every exact name and the longest literal piece of every glob ([`FieldGate`]) runs over
//! the text; only where it hits is the surrounding syntax read. A string without any field name
//! costs one automaton pass. Each hit becomes a [`Site`]:
//!
//! - [`Site::Field`]: the syntax was followed and the edits are exact;
//! - [`Site::Unparsed`]: the name sits in record-like syntax (quotes, tags, `:`) that could not be
//!   followed (an unclosed element, an escaped key): the caller must redact the whole string,
//!   since nothing of a privileged field may leave;
//! - [`Site::Mention`]: the name appears in prose ("update the Legal_Case_Strategy__c field"),
//!   carrying no value: a finding, no edit.

mod csv;
#[doc(hidden)]
pub mod fuzzing;
mod gate;
mod json;
mod lines;
mod xml;

#[cfg(test)]
mod tests;

pub(crate) use gate::FieldGate;

use crate::normalize::normalize;
use std::ops::Range;

/// The syntax a field was found in, for finding paths (`#csv.Legal_Case_Strategy__c`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Xml,
    Line,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Xml => "xml",
            Format::Line => "line",
        }
    }
}

/// A field found in text, with byte ranges of the original text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSite {
    pub format: Format,
    /// The field name as written.
    pub name: Range<usize>,
    /// What the field carries (one range per CSV data row), replaced by `redact`/`pseudonymize`.
    pub values: Vec<Range<usize>>,
    /// What `drop` removes: the member, the column's cells, the element, the line.
    pub removals: Vec<Range<usize>>,
    /// A replacement for a value must be wrapped in this quote to keep the record valid
    /// (a JSON or dict value).
    pub quote: Option<char>,
}

/// One occurrence of a field name, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Site {
    Field(FieldSite),
    Unparsed(Range<usize>),
    Mention(Range<usize>),
}

impl Site {
    pub fn name(&self) -> &Range<usize> {
        match self {
            Site::Field(f) => &f.name,
            Site::Unparsed(r) | Site::Mention(r) => r,
        }
    }
}

/// Every occurrence in `text` of a name accepted by `is_field` (tried on the whole word around
/// each gate hit), classified. Ranges are in `text`.
pub fn find_sites(
    text: &str,
    gate: &FieldGate,
    mut is_field: impl FnMut(&str) -> bool,
) -> Vec<Site> {
    let norm = normalize(text);
    let t = norm.as_str();
    let mut sites = Vec::new();
    let mut last_end = 0;
    for hit in gate.hits(t) {
        let word = word_around(t, hit);
        if word.start < last_end {
            continue;
        }
        // `__Legal_Case_Strategy__c__` is the field in Markdown bold.
        let Some(name) = [word.clone(), trim_underscores(t, word)]
            .into_iter()
            .find(|w| !w.is_empty() && is_field(&t[w.clone()]))
        else {
            continue;
        };
        last_end = name.end;
        let Some(site) = classify(t, name) else {
            continue;
        };
        sites.push(if norm.is_identity() {
            site
        } else {
            map_site(site, |r| norm.original_range(r))
        });
    }
    sites
}

/// Reads the syntax around a field name at `name` of normalized text `t`. `None` for a closing
/// XML tag (its element is handled at the opening tag).
fn classify(t: &str, name: Range<usize>) -> Option<Site> {
    if xml::is_closing_tag(t, &name) {
        return None;
    }
    let site = json::key(t, &name)
        .or_else(|| xml::element(t, &name))
        .or_else(|| csv::column(t, &name))
        .or_else(|| lines::label(t, &name))
        .or_else(|| lines::pair(t, &name));
    Some(match site {
        Some(Ok(f)) => Site::Field(f),
        Some(Err(())) => Site::Unparsed(name),
        None if looks_structured(t, &name) => Site::Unparsed(name),
        None => Site::Mention(name),
    })
}

/// A name touching quotes, tag brackets or a separator is part of some record syntax, even when
/// that syntax could not be followed.
fn looks_structured(t: &str, name: &Range<usize>) -> bool {
    let b = t.as_bytes();
    let before = name.start.checked_sub(1).map(|i| b[i]);
    let after = b.get(name.end).copied();
    let after_ws = t[name.end..]
        .bytes()
        .find(|c| !matches!(c, b' ' | b'\t' | b'"' | b'\'' | b'`' | b'*' | b'\\'));
    matches!(before, Some(b'"' | b'\'' | b'<' | b'\\' | b'`'))
        || matches!(after, Some(b'"' | b'\'' | b'>' | b'\\' | b'`'))
        || matches!(after_ws, Some(b':' | b'=' | b'>' | b'|'))
}

/// The word (letters, digits, `_`) around a gate hit, so `xmatter_privileged__c` is read whole.
fn word_around(t: &str, hit: Range<usize>) -> Range<usize> {
    let b = t.as_bytes();
    let is_word = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80;
    let mut s = hit.start;
    while s > 0 && is_word(b[s - 1]) {
        s -= 1;
    }
    let mut e = hit.end;
    while e < b.len() && is_word(b[e]) {
        e += 1;
    }
    // Stay on character boundaries when the word runs into non-ASCII letters.
    while !t.is_char_boundary(s) {
        s += 1;
    }
    while !t.is_char_boundary(e) {
        e -= 1;
    }
    s..e.max(s)
}

fn trim_underscores(t: &str, w: Range<usize>) -> Range<usize> {
    let word = &t[w.clone()];
    let lead = word.len() - word.trim_start_matches('_').len();
    let trail = word.len() - word.trim_end_matches('_').len();
    if lead + trail >= word.len() {
        return w.start..w.start;
    }
    w.start + lead..w.end - trail
}

fn map_site(site: Site, f: impl Fn(Range<usize>) -> Range<usize>) -> Site {
    match site {
        Site::Field(mut fs) => {
            fs.name = f(fs.name);
            fs.values = fs.values.into_iter().map(&f).collect();
            fs.removals = fs.removals.into_iter().map(&f).collect();
            Site::Field(fs)
        }
        Site::Unparsed(r) => Site::Unparsed(f(r)),
        Site::Mention(r) => Site::Mention(f(r)),
    }
}

/// Start of the line holding byte `i`.
pub(crate) fn line_start(t: &str, i: usize) -> usize {
    t[..i].rfind('\n').map_or(0, |p| p + 1)
}

/// End of the line holding byte `i` (the `\n` itself not included).
pub(crate) fn line_end(t: &str, i: usize) -> usize {
    t[i..].find('\n').map_or(t.len(), |p| i + p)
}

/// `i` advanced past spaces and tabs.
pub(crate) fn skip_blank(t: &str, mut i: usize) -> usize {
    let b = t.as_bytes();
    while i < b.len() && matches!(b[i], b' ' | b'\t') {
        i += 1;
    }
    i
}

/// `i` advanced past any whitespace, line breaks included.
pub(crate) fn skip_ws(t: &str, mut i: usize) -> usize {
    let b = t.as_bytes();
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}
