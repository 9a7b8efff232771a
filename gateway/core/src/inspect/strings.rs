//! Strings, keys and scalars: content rules, records inside text, and the edits they call for.
//!
//! Every edit of a string is first computed on its decoded text (`range → replacement`), then
//! spliced into the raw JSON string through [`Str::raw_range`], so untouched characters keep
//! their exact escapes. When edits cannot be made exactly (two overlap partially, a record's
//! syntax cannot be followed) the whole string is replaced by the rule's redaction: nothing of a
//! privileged field leaves, and the body stays valid JSON.

use super::decoded::Certainty;
use super::path::Seg;
use super::walk::{string_edit, Extra, PathNode, Walker};
use crate::decode::{base64, view};
use crate::json::{self, Edit, Str, Value};
use crate::records::{self, FieldSite, Site};
use crate::rules::{RuleIdx, TextMatch};
use crate::types::{Action, Extent};
use std::ops::Range;

/// The content-rule matches of one text.
pub(super) struct Scanned {
    matches: Vec<TextMatch>,
    limit: Option<RuleIdx>,
}

impl Scanned {
    pub(super) fn is_empty(&self) -> bool {
        self.matches.is_empty() && self.limit.is_none()
    }
}

/// An edit of a string's decoded text.
pub(super) struct TextEdit {
    range: Range<usize>,
    replacement: String,
}

/// What happens to a string.
pub(super) enum Plan {
    /// Replace all of it with this text (a redaction, a pseudonym, or nothing for `drop`).
    Whole(String),
    /// These edits of its text.
    Exact(Vec<TextEdit>),
}

impl<'r, 'v> Walker<'r, 'v> {
    /// Runs the content rules over `text`, or over its decoded view (HTML entities,
    /// percent-encoding, tag characters) with the matches mapped back to `text`.
    pub(super) fn scan_text(&mut self, text: &str) -> Scanned {
        let mut matches = Vec::new();
        let decoded = view::view(text);
        let hay = decoded.as_ref().map_or(text, |v| v.as_str());
        let limit = self
            .rules
            .scan(hay, self.dir, &mut matches)
            .err()
            .map(|hit| hit.rule);
        if let Some(v) = &decoded {
            for m in &mut matches {
                m.range = v.original_range(m.range.clone());
            }
        }
        Scanned { matches, limit }
    }

    pub(super) fn string(
        &mut self,
        s: &Str<'_>,
        path: &PathNode<'_>,
        extra: &[Extra],
        edits: &mut Vec<Edit>,
    ) {
        let text: &str = &s.text;
        if extra.is_empty() && looks_like_json(text) {
            if let Ok(inner) = json::parse(text.as_bytes()) {
                self.embedded(text, &inner, s, path, edits);
                return;
            }
        }
        if extra.is_empty() {
            let keyed = matches!(path.seg, Seg::Key(k) if base64::PAYLOAD_KEYS.contains(&k));
            let payload =
                base64::data_url(text).or_else(|| keyed.then(|| base64::whole(text)).flatten());
            if let Some(p) = payload {
                if let Some(new_text) = self.payload(text, p, path, 0, Certainty::Declared) {
                    if self.edit.is_some() {
                        edits.push(Edit {
                            range: s.span.clone(),
                            replacement: escaped(&new_text),
                        });
                    }
                }
                return;
            }
        }
        let plan = self.text_plan(text, path, extra, true, 0);
        self.apply_to_json(s, plan, edits);
    }

    /// Object keys: content rules only (a key is no place for a record or a payload).
    pub(super) fn act_on_key(
        &mut self,
        s: &Str<'_>,
        path: &PathNode<'_>,
        scanned: Scanned,
        edits: &mut Vec<Edit>,
    ) {
        let plan = self.plan_scanned(&s.text, path, scanned, &[], false, 0);
        self.apply_to_json(s, plan, edits);
    }

    /// Turns a plan into edits of the raw JSON string `s`: exact edits keep every untouched
    /// character's escapes.
    fn apply_to_json(&mut self, s: &Str<'_>, plan: Plan, edits: &mut Vec<Edit>) {
        match plan {
            Plan::Whole(t) => edits.push(Edit {
                range: s.span.clone(),
                replacement: escaped(&t),
            }),
            Plan::Exact(text_edits) => {
                for e in merge(text_edits) {
                    edits.push(Edit {
                        range: s.raw_range(e.range),
                        replacement: escaped(&e.replacement),
                    });
                }
            }
        }
    }

    /// Everything that happens to a piece of text (a JSON string, a decoded payload, a PDF
    /// page, image metadata): content rules on its decoded view, records inside it (`records`),
    /// base64 runs inside it (`depth` levels down), tag characters; findings recorded at
    /// `path`, and in edit mode the edits.
    pub(super) fn text_plan(
        &mut self,
        text: &str,
        path: &PathNode<'_>,
        extra: &[Extra],
        records: bool,
        depth: u8,
    ) -> Plan {
        let scanned = self.scan_text(text);
        self.plan_scanned(text, path, scanned, extra, records, depth)
    }

    fn plan_scanned(
        &mut self,
        text: &str,
        path: &PathNode<'_>,
        scanned: Scanned,
        extra: &[Extra],
        records: bool,
        depth: u8,
    ) -> Plan {
        if let Some(rule) = scanned.limit {
            self.record(rule, path);
            self.limit.get_or_insert(rule);
            return Plan::Exact(Vec::new());
        }
        for m in &scanned.matches {
            self.record(m.rule, path);
        }
        let sites = if records && self.rules.has_field_rules() {
            self.record_sites(text, path)
        } else {
            Vec::new()
        };
        let mut side = Vec::new();
        if records {
            self.runs_in_text(text, path, depth, &mut side);
        }
        // Tag characters carry nothing a person can see: always removed on the way out.
        if memchr::memchr(0xf3, text.as_bytes()).is_some() {
            let runs = view::tag_runs(text);
            if !runs.is_empty() {
                self.strip = true;
                side.extend(runs.into_iter().map(|range| TextEdit {
                    range,
                    replacement: String::new(),
                }));
            }
        }
        let nothing = scanned.matches.is_empty() && extra.is_empty() && sites.is_empty();
        if self.edit.is_none() || (nothing && side.is_empty()) {
            return Plan::Exact(Vec::new());
        }
        match self.plan(text, &scanned.matches, extra, &sites) {
            Plan::Exact(mut e) => {
                e.extend(side);
                Plan::Exact(e)
            }
            whole => whole,
        }
    }

    /// Base64 runs in free text: a document pasted as base64 is read too. A run whose content
    /// must change is re-encoded or, for a PDF, removed.
    fn runs_in_text(
        &mut self,
        text: &str,
        path: &PathNode<'_>,
        depth: u8,
        out: &mut Vec<TextEdit>,
    ) {
        for p in base64::runs(text) {
            let range = p.range.clone();
            let tail = text.len() - range.end;
            let dropping = self.drop_part;
            if let Some(new_text) = self.payload(text, p, path, depth, Certainty::Guessed) {
                // A run is removed by itself, never the part around it.
                self.drop_part = dropping;
                let replacement = new_text
                    .get(range.start..new_text.len().saturating_sub(tail))
                    .unwrap_or("")
                    .to_owned();
                out.push(TextEdit { range, replacement });
            }
        }
    }

    /// Finds the records' fields in `text` and records a finding for each rule they hit.
    fn record_sites(&mut self, text: &str, path: &PathNode<'_>) -> Vec<(Site, Vec<RuleIdx>)> {
        let rules = self.rules;
        let dir = self.dir;
        let mut fields = Vec::new();
        let sites = records::find_sites(text, rules.field_gate(), |name| {
            fields.clear();
            rules.match_field(name, dir, &mut fields);
            !fields.is_empty()
        });
        let mut out = Vec::with_capacity(sites.len());
        for site in sites {
            let name = text.get(site.name().clone()).unwrap_or("");
            let format = match &site {
                Site::Field(f) => f.format.as_str(),
                Site::Unparsed(_) => "record",
                Site::Mention(_) => "text",
            };
            let node = PathNode {
                parent: Some(path),
                seg: Seg::Record(format, name),
            };
            let mut hit = Vec::new();
            rules.match_field(name, dir, &mut hit);
            for &rule in &hit {
                self.record(rule, &node);
            }
            out.push((site, hit));
        }
        out
    }

    /// The edits a string needs for the current destination: either a whole-string replacement
    /// or exact edits of its text.
    fn plan(
        &mut self,
        text: &str,
        matches: &[TextMatch],
        extra: &[Extra],
        sites: &[(Site, Vec<RuleIdx>)],
    ) -> Plan {
        let mut out = Vec::new();
        for (site, rules) in sites {
            let Some((rule, action)) = rules
                .iter()
                .find_map(|&r| self.acting(r).filter(|a| edits_text(*a)).map(|a| (r, a)))
            else {
                continue;
            };
            match site {
                Site::Field(f) => self.field_edits(text, f, rule, action, &mut out),
                Site::Unparsed(_) => {
                    let redaction = self.rules.rule(rule).replacement.clone();
                    return Plan::Whole(redaction);
                }
                Site::Mention(_) => {}
            }
        }
        let acting = matches
            .iter()
            .map(|m| (m.range.clone(), m.rule))
            .chain(extra.iter().cloned())
            .filter_map(|(r, idx)| self.acting(idx).map(|a| (r, idx, a)))
            .filter(|(_, _, a)| edits_text(*a))
            .collect::<Vec<_>>();
        for (range, idx, action) in acting {
            let rule = self.rules.rule(idx);
            if rule.extent == Extent::Value {
                // The legend marks the whole document it heads.
                return Plan::Whole(self.replacement(idx, action, text));
            }
            let Some(original) = text.get(range.clone()) else {
                self.fault = true;
                continue;
            };
            let replacement = self.replacement(idx, action, original);
            out.push(TextEdit { range, replacement });
        }
        Plan::Exact(out)
    }

    /// What rule `idx` puts in place of `original`.
    fn replacement(&mut self, idx: RuleIdx, action: Action, original: &str) -> String {
        let rule = self.rules.rule(idx);
        match action {
            Action::Drop => String::new(),
            Action::Pseudonymize => match self.edit.as_mut() {
                Some(e) => e
                    .vault
                    .placeholder_for(&rule.placeholder_label, original)
                    .to_owned(),
                None => rule.replacement.clone(),
            },
            _ => rule.replacement.clone(),
        }
    }

    fn field_edits(
        &mut self,
        text: &str,
        f: &FieldSite,
        rule: RuleIdx,
        action: Action,
        out: &mut Vec<TextEdit>,
    ) {
        if action == Action::Drop {
            for r in &f.removals {
                out.push(TextEdit {
                    range: r.clone(),
                    replacement: String::new(),
                });
            }
            return;
        }
        for v in &f.values {
            let raw = text.get(v.clone()).unwrap_or("");
            let unquoted = match f.quote {
                Some(q) if raw.len() >= 2 && raw.starts_with(q) && raw.ends_with(q) => {
                    &raw[1..raw.len() - 1]
                }
                _ => raw,
            };
            let rep = self.replacement(rule, action, unquoted);
            let replacement = match f.quote {
                Some(q) => format!("{q}{rep}{q}"),
                None => rep,
            };
            out.push(TextEdit {
                range: v.clone(),
                replacement,
            });
        }
    }

    /// A string holding JSON: walk it as a document, and if it changes, re-encode the whole
    /// string (its escaping necessarily changes with its content).
    pub(super) fn embedded(
        &mut self,
        text: &str,
        inner: &Value<'_>,
        s: &Str<'_>,
        path: &PathNode<'_>,
        edits: &mut Vec<Edit>,
    ) {
        let node = PathNode {
            parent: Some(path),
            seg: Seg::Embedded,
        };
        let mut inner_edits = Vec::new();
        self.walk(text.as_bytes(), inner, &node, &[], &mut inner_edits);
        if inner_edits.is_empty() {
            return;
        }
        match json::splice(text.as_bytes(), inner_edits)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
        {
            Some(new_text) => {
                let mut rep = Vec::with_capacity(new_text.len() + 8);
                json::escape_into(&new_text, &mut rep);
                edits.push(Edit {
                    range: s.span.clone(),
                    replacement: rep,
                });
            }
            None => self.fault = true,
        }
    }

    /// Numbers and booleans are scanned as text: a card or SSN sent as a number is still found,
    /// and replaced by a string.
    pub(super) fn scalar(
        &mut self,
        input: &[u8],
        v: &Value<'_>,
        path: &PathNode<'_>,
        edits: &mut Vec<Edit>,
    ) {
        let Some(text) = input
            .get(v.span.clone())
            .and_then(|b| std::str::from_utf8(b).ok())
        else {
            return;
        };
        let scanned = self.scan_text(text);
        if scanned.is_empty() {
            return;
        }
        if let Some(rule) = scanned.limit {
            self.record(rule, path);
            self.limit.get_or_insert(rule);
            return;
        }
        let mut act = None;
        for m in &scanned.matches {
            self.record(m.rule, path);
            if act.is_none() {
                act = self
                    .acting(m.rule)
                    .filter(|a| edits_text(*a))
                    .map(|a| (m.rule, a));
            }
        }
        if let Some((rule, action)) = act {
            let rep = match action {
                // A dropped number leaves an empty string: the member's type changes, its
                // value does not leave.
                Action::Drop => String::new(),
                _ => self.replacement(rule, action, text),
            };
            edits.push(string_edit(v.span.clone(), &rep));
        }
    }
}

fn edits_text(a: Action) -> bool {
    matches!(a, Action::Redact | Action::Pseudonymize | Action::Drop)
}

fn escaped(t: &str) -> Vec<u8> {
    let mut rep = Vec::with_capacity(t.len());
    json::escape_into(t, &mut rep);
    rep
}

impl Plan {
    /// `text` with the plan applied; `None` when nothing changes.
    pub(super) fn apply(self, text: &str) -> Option<String> {
        match self {
            Plan::Whole(t) => Some(t),
            Plan::Exact(e) if e.is_empty() => None,
            Plan::Exact(e) => {
                let mut out = String::with_capacity(text.len());
                let mut at = 0;
                for edit in merge(e) {
                    out.push_str(text.get(at..edit.range.start)?);
                    out.push_str(&edit.replacement);
                    at = edit.range.end;
                }
                out.push_str(text.get(at..)?);
                Some(out)
            }
        }
    }
}

/// Sorts edits and merges those that overlap into one edit over their union, with the first
/// one's replacement: every byte either edit covers is replaced, so nothing either rule caught
/// leaves.
fn merge(mut edits: Vec<TextEdit>) -> Vec<TextEdit> {
    edits.sort_by_key(|e| (e.range.start, std::cmp::Reverse(e.range.end)));
    let mut out: Vec<TextEdit> = Vec::with_capacity(edits.len());
    for e in edits {
        match out.last_mut() {
            Some(last) if e.range.start < last.range.end => {
                last.range.end = last.range.end.max(e.range.end);
            }
            _ => out.push(e),
        }
    }
    out
}

/// Cheap test before trying to parse a string as JSON.
fn looks_like_json(t: &str) -> bool {
    let t = t.trim_ascii();
    t.len() >= 2
        && matches!(
            (t.as_bytes()[0], t.as_bytes()[t.len() - 1]),
            (b'{', b'}') | (b'[', b']')
        )
}
