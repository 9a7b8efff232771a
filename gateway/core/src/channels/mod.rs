//! The request's other channels: the URL path, the query string and the headers.
//!
//! A secret does not need the body to leave. Integrations put CRM notes in custom headers
//! (`x-crm-note`), e-mail addresses in query parameters, record ids in paths. These are scanned
//! with the body's rule set; their findings join the body's [`Report`], so they classify, route
//! and block exactly as body findings do. For the chosen destination a header or query parameter
//! with an acting finding is removed whole (a header value cut in the middle would be misread,
//! and its name alone may say what it held), and a path segment with one refuses the request:
//! a URL cannot lose a segment and still address the same API.
//!
//! Audit paths never hold matched text: `$header["x-crm-note"]`, `$query.email`, `$path[3]`,
//! and a header name or query key that itself holds a finding is written `$header[<key#1>]`.

mod parse;

#[cfg(test)]
mod tests;

pub use parse::UNSCANNED_HEADERS;

use crate::api::Family;
use crate::inspect::{Finding, Report};
use crate::records::{self, Site};
use crate::rules::{RuleIdx, RuleSet, TextMatch};
use crate::types::{Action, AppliesTo, Class, DestinationKind, Direction, Mode};
use std::collections::BTreeMap;

/// Where in the head a rule fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// A path segment, numbered from 0 after the leading `/`.
    Path(usize),
    /// A `&`-separated piece of the query string.
    Query(usize),
    /// An entry of [`Head::headers`].
    Header(usize),
}

/// A request's head as received.
#[derive(Debug, Clone)]
pub struct Head<'a> {
    /// The client's API; Gemini clients may send their key as `?key=`, which is a credential.
    pub family: Family,
    /// The path, still percent-encoded.
    pub path: &'a str,
    pub query: Option<&'a str>,
    /// Every header in order, names in lower case, values as received.
    pub headers: Vec<(&'a str, &'a [u8])>,
}

/// What the head's inspection found.
#[derive(Debug, Clone, Default)]
pub struct HeadReport {
    /// Findings with their audit paths.
    pub findings: Vec<Finding>,
    /// Every rule that fired at every place, for [`edits`].
    hits: Vec<(Place, RuleIdx)>,
    /// The highest class among enforcing findings.
    pub class: Class,
    /// The first enforcing `block` rule (or a rule that hit its matching limit).
    pub block: Option<RuleIdx>,
}

impl HeadReport {
    /// Adds the head's findings to the body's report: one classification, one block decision,
    /// one list of findings for the audit record.
    pub fn merge_into(&self, report: &mut Report) {
        report.findings.extend(self.findings.iter().cloned());
        report.class = report.class.max(self.class);
        if report.block.is_none() {
            report.block = self.block;
        }
    }
}

/// What to change in the head for one destination.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeadEdits {
    /// Indexes into [`Head::headers`] of the entries to remove.
    pub drop_headers: Vec<usize>,
    /// The query to forward when pieces were removed (`Some("")`: no query at all).
    pub query: Option<String>,
}

impl HeadEdits {
    pub fn is_empty(&self) -> bool {
        self.drop_headers.is_empty() && self.query.is_none()
    }
}

/// A path segment holds a finding whose action must be applied: the request cannot leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathRefusal {
    pub rule: RuleIdx,
    pub segment: usize,
}

/// Scans the path, the query and every header but [`UNSCANNED_HEADERS`] in direction `dir`.
pub fn inspect_head(head: &Head<'_>, rules: &RuleSet, dir: Direction) -> HeadReport {
    let mut s = Scan::new(rules, dir);
    for (i, raw) in parse::path_segments(head.path) {
        let forms = parse::decoded_forms(raw, false);
        let counts = s.scan_forms(&forms);
        s.add(Place::Path(i), &format!("$path[{i}]"), &counts);
    }
    if let Some(q) = head.query {
        for (i, piece) in parse::query_pieces(q) {
            // Gemini's `key=` is the client's credential: removed before forwarding, like a key
            // header, and not content.
            if head.family == Family::Gemini && piece.starts_with("key=") {
                continue;
            }
            let (name, value) = parse::split_piece(piece);
            let names = parse::decoded_forms(name, true);
            let values = value
                .map(|v| parse::decoded_forms(v, true))
                .unwrap_or_default();
            s.entry(Place::Query(i), "$query", &names, &values, "=", true);
        }
    }
    let named = parse::connection_named(&head.headers);
    for (i, (name, value)) in head.headers.iter().enumerate() {
        if !parse::scanned_header(name, &named) {
            continue;
        }
        let names = vec![(*name).to_owned()];
        let values = vec![String::from_utf8_lossy(value).into_owned()];
        s.entry(Place::Header(i), "$header", &names, &values, ": ", false);
    }
    s.finish()
}

/// The edits of the head for destination `dest`, or the refusal when a path segment holds a
/// finding that must act there. Monitor-mode, `tag` and `block` findings edit nothing (a block
/// was refused already), and `applies_to = "external"` rules leave local destinations alone.
pub fn edits(
    head: &Head<'_>,
    report: &HeadReport,
    rules: &RuleSet,
    dest: DestinationKind,
) -> Result<HeadEdits, PathRefusal> {
    let mut out = HeadEdits::default();
    let mut drop_pieces = Vec::new();
    for &(place, rule) in &report.hits {
        if !acting(rules, rule, dest) {
            continue;
        }
        match place {
            Place::Path(segment) => return Err(PathRefusal { rule, segment }),
            Place::Query(i) => drop_pieces.push(i),
            Place::Header(i) => out.drop_headers.push(i),
        }
    }
    out.drop_headers.sort_unstable();
    out.drop_headers.dedup();
    if let (Some(q), false) = (head.query, drop_pieces.is_empty()) {
        let kept: Vec<&str> = parse::query_pieces(q)
            .filter(|(i, _)| !drop_pieces.contains(i))
            .map(|(_, p)| p)
            .collect();
        out.query = Some(kept.join("&"));
    }
    Ok(out)
}

/// Whether rule `idx` changes what goes to `dest`.
fn acting(rules: &RuleSet, idx: RuleIdx, dest: DestinationKind) -> bool {
    let r = rules.rule(idx);
    let edits = matches!(
        r.action,
        Action::Drop | Action::Redact | Action::Pseudonymize
    );
    let here = !(r.applies_to == AppliesTo::External && dest == DestinationKind::Local);
    r.mode == Mode::Enforce && edits && here
}

/// Accumulates findings across channels.
struct Scan<'r> {
    rules: &'r RuleSet,
    dir: Direction,
    report: HeadReport,
    /// Names that held a finding, numbered for their masked paths.
    masked: u32,
    limit: Option<RuleIdx>,
    fields: Vec<RuleIdx>,
}

impl<'r> Scan<'r> {
    fn new(rules: &'r RuleSet, dir: Direction) -> Self {
        Scan {
            rules,
            dir,
            report: HeadReport::default(),
            masked: 0,
            limit: None,
            fields: Vec::new(),
        }
    }

    /// A named entry (query parameter, header): its name, its value, and both joined as written
    /// (`aws_secret_access_key=...` only matches with its label), all attributed to the entry.
    fn entry(
        &mut self,
        place: Place,
        channel: &str,
        names: &[String],
        values: &[String],
        sep: &str,
        ident_keys: bool,
    ) {
        let mut counts = self.scan_forms(names);
        let path = if counts.is_empty() {
            let name = names.first().map_or("", String::as_str);
            key_path(channel, name, ident_keys)
        } else {
            self.masked += 1;
            format!("{channel}[<key#{}>]", self.masked)
        };
        for name in names {
            self.fields.clear();
            self.rules.match_field(name, self.dir, &mut self.fields);
            for &rule in &self.fields {
                counts.entry(rule).or_insert(1);
            }
        }
        let mut texts: Vec<String> = values.to_vec();
        if let (Some(n), Some(v)) = (names.first(), values.first()) {
            texts.push(format!("{n}{sep}{v}"));
        }
        for (rule, n) in self.scan_forms(&texts) {
            let c = counts.entry(rule).or_insert(0);
            *c = (*c).max(n);
        }
        if let Some(v) = values.first() {
            self.record_sites(v, &mut counts);
        }
        self.add(place, &path, &counts);
    }

    /// Field rules inside a value (`Legal_Case_Strategy__c: ...` pasted into a header).
    fn record_sites(&mut self, text: &str, counts: &mut BTreeMap<RuleIdx, u32>) {
        if !self.rules.has_field_rules() {
            return;
        }
        let (rules, dir) = (self.rules, self.dir);
        let mut probe = Vec::new();
        let sites: Vec<Site> = records::find_sites(text, rules.field_gate(), |name| {
            probe.clear();
            rules.match_field(name, dir, &mut probe);
            !probe.is_empty()
        });
        for site in sites {
            let name = text.get(site.name().clone()).unwrap_or("");
            self.fields.clear();
            rules.match_field(name, dir, &mut self.fields);
            for &rule in &self.fields {
                *counts.entry(rule).or_insert(0) += 1;
            }
        }
    }

    /// Per rule, the most matches any one form of the text had.
    fn scan_forms(&mut self, forms: &[String]) -> BTreeMap<RuleIdx, u32> {
        let mut counts = BTreeMap::new();
        let mut matches: Vec<TextMatch> = Vec::new();
        for text in forms {
            matches.clear();
            if let Err(hit) = self.rules.scan(text, self.dir, &mut matches) {
                // A rule that could not finish cannot call the text clean.
                self.limit.get_or_insert(hit.rule);
                counts.entry(hit.rule).or_insert(1);
            }
            let mut here: BTreeMap<RuleIdx, u32> = BTreeMap::new();
            for m in &matches {
                *here.entry(m.rule).or_insert(0) += 1;
            }
            for (rule, n) in here {
                let c = counts.entry(rule).or_insert(0);
                *c = (*c).max(n);
            }
        }
        counts
    }

    fn add(&mut self, place: Place, path: &str, counts: &BTreeMap<RuleIdx, u32>) {
        for (&rule, &count) in counts {
            self.report.hits.push((place, rule));
            match self
                .report
                .findings
                .iter_mut()
                .find(|f| f.rule == rule && f.path == path)
            {
                Some(f) => f.count += count,
                None => self.report.findings.push(Finding {
                    rule,
                    path: path.to_owned(),
                    count,
                }),
            }
        }
    }

    fn finish(mut self) -> HeadReport {
        for f in &self.report.findings {
            let r = self.rules.rule(f.rule);
            if r.mode != Mode::Enforce {
                continue;
            }
            self.report.class = self.report.class.max(r.class);
            if r.action == Action::Block {
                self.report.block.get_or_insert(f.rule);
            }
        }
        if let Some(rule) = self.limit {
            // As in the body: a limit hit is a block, never a pass.
            self.report.block = Some(rule);
            self.report.class = Class::Privileged;
        }
        self.report
    }
}

/// `$query.email`, `$query["odd key"]`, `$header["x-crm-note"]`: header names are always quoted
/// (they hold `-` and read better as one form), query keys only when they are not identifiers.
fn key_path(channel: &str, key: &str, ident_keys: bool) -> String {
    let ident = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ident_keys && ident {
        format!("{channel}.{key}")
    } else {
        format!("{channel}[{}]", serde_json::Value::from(key))
    }
}
