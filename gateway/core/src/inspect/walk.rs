//! The walker shared by inspection and transformation.

use super::path::{render_path, Seg};
use super::{acts, Finding, Report};
use crate::decode::DecodeOptions;
use crate::json::{self, Edit, Kind, Value};
use crate::rules::{RuleIdx, RuleSet, TextMatch};
use crate::types::{Action, AppliesTo, Class, DestinationKind, Direction, Mode};
use crate::vault::Vault;
use std::collections::HashMap;
use std::ops::Range;

/// A path as a linked list on the stack: no allocation unless a finding needs it rendered.
pub(crate) struct PathNode<'a> {
    pub(super) parent: Option<&'a PathNode<'a>>,
    pub(super) seg: Seg<'a>,
}

impl PathNode<'_> {
    pub(super) fn render(&self) -> String {
        let mut segs = Vec::new();
        let mut cur = Some(self);
        while let Some(n) = cur {
            segs.push(n.seg);
            cur = n.parent;
        }
        segs.pop(); // the root marker
        segs.reverse();
        render_path(&segs)
    }
}

/// Edit mode: where the body is going, and the vault pseudonyms go into.
pub(crate) struct EditMode<'v> {
    pub dest: DestinationKind,
    pub vault: &'v mut Vault,
}

/// A piece of a match that spans several parts of an array, assigned to one part.
pub(super) type Extra = (Range<usize>, RuleIdx);

pub(crate) struct Walker<'r, 'v> {
    pub(super) rules: &'r RuleSet,
    pub(super) dir: Direction,
    pub(super) edit: Option<EditMode<'v>>,
    findings: Vec<Finding>,
    seen: HashMap<(RuleIdx, String), usize>,
    pub(super) limit: Option<RuleIdx>,
    /// Keys that held a finding, numbered for their masked paths (`$.metadata[<key#1>]`).
    masked: u32,
    pub(super) opts: DecodeOptions,
    /// Bytes decoded so far in this request (bounded by `opts.max_decoded`).
    pub(super) decoded: usize,
    /// Parts that could not be read, with their paths.
    pub(super) opaque: Vec<String>,
    /// Set by a string whose whole content part must go (a PDF a rule acts on); the nearest
    /// enclosing array removes that element.
    pub(super) drop_part: bool,
    /// Tag characters were found: the body must be transformed even without findings.
    pub(super) strip: bool,
    /// An edit could not be applied: the body must not leave as is.
    pub(crate) fault: bool,
    fields: Vec<RuleIdx>,
}

impl<'r, 'v> Walker<'r, 'v> {
    pub(crate) fn new(
        rules: &'r RuleSet,
        dir: Direction,
        edit: Option<EditMode<'v>>,
        opts: DecodeOptions,
    ) -> Self {
        Walker {
            rules,
            dir,
            edit,
            findings: Vec::new(),
            seen: HashMap::new(),
            limit: None,
            masked: 0,
            opts,
            decoded: 0,
            opaque: Vec::new(),
            drop_part: false,
            strip: false,
            fault: false,
            fields: Vec::new(),
        }
    }

    /// Walks a whole document; returns the edits for `input`.
    pub(crate) fn walk_document(&mut self, input: &[u8], doc: &Value<'_>) -> Vec<Edit> {
        let root = PathNode {
            parent: None,
            seg: Seg::Key(""),
        };
        let mut edits = Vec::new();
        self.walk(input, doc, &root, &[], &mut edits);
        edits
    }

    pub(crate) fn into_report(self, rules: &RuleSet) -> Report {
        let mut r = Report::default();
        for f in &self.findings {
            let rule = rules.rule(f.rule);
            if rule.mode != Mode::Enforce {
                continue;
            }
            r.class = r.class.max(rule.class);
            match rule.action {
                Action::Block => {
                    r.block.get_or_insert(f.rule);
                }
                Action::Drop | Action::Redact | Action::Pseudonymize => r.transforms = true,
                Action::Tag => {}
            }
        }
        if !self.opaque.is_empty() {
            r.class = r.class.max(self.opts.opaque);
        }
        if self.strip {
            r.transforms = true;
        }
        if let Some(rule) = self.limit {
            // A limit hit is a block, never a pass: the rule could not prove the text clean.
            r.block = Some(rule);
            r.class = r.class.max(Class::Privileged);
        }
        r.findings = self.findings;
        r.opaque = self.opaque;
        r
    }

    pub(super) fn record(&mut self, rule: RuleIdx, path: &PathNode<'_>) {
        let p = path.render();
        match self.seen.get(&(rule, p.clone())) {
            Some(&i) => self.findings[i].count += 1,
            None => {
                self.seen.insert((rule, p.clone()), self.findings.len());
                self.findings.push(Finding {
                    rule,
                    path: p,
                    count: 1,
                });
            }
        }
    }

    /// Whether rule `idx` edits the body for the current destination.
    pub(super) fn acting(&self, idx: RuleIdx) -> Option<Action> {
        let edit = self.edit.as_ref()?;
        if !acts(self.rules, idx) {
            return None;
        }
        let r = self.rules.rule(idx);
        match (r.applies_to, edit.dest) {
            (AppliesTo::External, DestinationKind::Local) => None,
            _ => Some(r.action),
        }
    }

    pub(super) fn walk(
        &mut self,
        input: &[u8],
        v: &Value<'_>,
        path: &PathNode<'_>,
        extra: &[Extra],
        edits: &mut Vec<Edit>,
    ) {
        match &v.kind {
            Kind::String(s) => self.string(s, path, extra, edits),
            Kind::Object(members) => self.object(input, v, members, path, extra, edits),
            Kind::Array(items) => self.array(input, v, items, path, edits),
            Kind::Bool(_) | Kind::Number(_) => self.scalar(input, v, path, edits),
            Kind::Null => {}
        }
    }

    fn object(
        &mut self,
        input: &[u8],
        v: &Value<'_>,
        members: &[json::Member<'_>],
        path: &PathNode<'_>,
        extra: &[Extra],
        edits: &mut Vec<Edit>,
    ) {
        let mut drops = Vec::new();
        for (i, m) in members.iter().enumerate() {
            // Secrets in key names are found too (a CRM export keyed by e-mail address); such a
            // key is written masked in paths, since paths go to the audit log.
            let key = self.scan_text(&m.key.text);
            let seg = if key.is_empty() {
                Seg::Key(&m.key.text)
            } else {
                self.masked += 1;
                Seg::Masked(self.masked)
            };
            let node = PathNode {
                parent: Some(path),
                seg,
            };
            self.act_on_key(&m.key, &node, key, edits);
            self.fields.clear();
            let mut fields = std::mem::take(&mut self.fields);
            self.rules.match_field(&m.key.text, self.dir, &mut fields);
            let mut handled = false;
            for &rule in &fields {
                self.record(rule, &node);
                if handled {
                    continue;
                }
                match self.acting(rule) {
                    Some(Action::Drop) => {
                        drops.push(i);
                        handled = true;
                    }
                    Some(Action::Redact) => {
                        let text = self.rules.rule(rule).replacement.clone();
                        edits.push(string_edit(m.value.span.clone(), &text));
                        handled = true;
                    }
                    Some(Action::Pseudonymize) => {
                        let raw = String::from_utf8_lossy(&input[m.value.span.clone()]);
                        let original = match &m.value.kind {
                            Kind::String(s) => s.text.to_string(),
                            _ => raw.into_owned(),
                        };
                        if let Some(e) = self.edit.as_mut() {
                            let label = &self.rules.rule(rule).placeholder_label;
                            let p = e.vault.placeholder_for(label, &original).to_owned();
                            edits.push(string_edit(m.value.span.clone(), &p));
                        }
                        handled = true;
                    }
                    Some(Action::Block | Action::Tag) | None => {}
                }
            }
            self.fields = fields;
            if handled {
                // The whole value is replaced or removed: nothing inside it leaves.
                continue;
            }
            let sub: &[Extra] = if &*m.key.text == "text" { extra } else { &[] };
            self.walk(input, &m.value, &node, sub, edits);
        }
        if !drops.is_empty() {
            for range in json::member_removals(input, v, &drops) {
                edits.push(Edit {
                    range,
                    replacement: Vec::new(),
                });
            }
        }
    }

    fn array(
        &mut self,
        input: &[u8],
        v: &Value<'_>,
        items: &[Value<'_>],
        path: &PathNode<'_>,
        edits: &mut Vec<Edit>,
    ) {
        let extras = self.joined_parts(items, path);
        let mut removed = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let node = PathNode {
                parent: Some(path),
                seg: Seg::Index(i),
            };
            let ex = extras.get(&i).map(Vec::as_slice).unwrap_or(&[]);
            let mark = edits.len();
            let outer = std::mem::take(&mut self.drop_part);
            self.walk(input, item, &node, ex, edits);
            if self.drop_part {
                // The element goes whole: edits inside it are moot.
                edits.truncate(mark);
                removed.push(i);
            }
            self.drop_part = outer;
        }
        for range in json::element_removals(input, v, &removed) {
            edits.push(Edit {
                range,
                replacement: Vec::new(),
            });
        }
    }

    /// Scans the text parts of an array joined together, so a secret split across two content
    /// parts of one message is still found. Returns, per element, the pieces of matches that
    /// cross a part boundary (matches inside one part are found by that part's own scan).
    fn joined_parts(
        &mut self,
        items: &[Value<'_>],
        path: &PathNode<'_>,
    ) -> HashMap<usize, Vec<Extra>> {
        let mut out: HashMap<usize, Vec<Extra>> = HashMap::new();
        let parts: Vec<(usize, &str)> = items
            .iter()
            .enumerate()
            .filter_map(|(i, it)| part_text(it).map(|t| (i, t)))
            .collect();
        if parts.len() < 2 {
            return out;
        }
        let mut joined = String::new();
        let mut starts = Vec::with_capacity(parts.len());
        for (_, t) in &parts {
            starts.push(joined.len());
            joined.push_str(t);
        }
        let mut matches: Vec<TextMatch> = Vec::new();
        if let Err(hit) = self.rules.scan(&joined, self.dir, &mut matches) {
            self.limit.get_or_insert(hit.rule);
        }
        let node = PathNode {
            parent: Some(path),
            seg: Seg::Joined,
        };
        for m in matches {
            let first = starts.partition_point(|&s| s <= m.range.start) - 1;
            let last = starts.partition_point(|&s| s < m.range.end) - 1;
            if first == last {
                continue;
            }
            self.record(m.rule, &node);
            for (k, &(item, text)) in parts.iter().enumerate().take(last + 1).skip(first) {
                let s = starts[k];
                let lo = m.range.start.max(s) - s;
                let hi = m.range.end.min(s + text.len()) - s;
                if lo < hi {
                    out.entry(item).or_default().push((lo..hi, m.rule));
                }
            }
        }
        out
    }
}

/// The text of a content part: a bare string, or an object's `"text"` member.
fn part_text<'a>(v: &'a Value<'_>) -> Option<&'a str> {
    match &v.kind {
        Kind::String(s) => Some(&s.text),
        Kind::Object(ms) => ms.iter().find_map(|m| match (&*m.key.text, &m.value.kind) {
            ("text", Kind::String(s)) => Some(&*s.text),
            _ => None,
        }),
        _ => None,
    }
}

/// An edit that replaces a whole JSON value with a JSON string.
pub(super) fn string_edit(range: Range<usize>, text: &str) -> Edit {
    let mut rep = Vec::with_capacity(text.len() + 2);
    rep.push(b'"');
    json::escape_into(text, &mut rep);
    rep.push(b'"');
    Edit {
        range,
        replacement: rep,
    }
}
