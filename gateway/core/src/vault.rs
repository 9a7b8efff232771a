//! Per-request pseudonym vault.
//!
//! `pseudonymize` replaces a matched value with a placeholder such as `⟦EMAIL_1⟧` and remembers the
//! pair here. The same value gets the same placeholder within one request (so the model can still
//! reason about "the same person"), different values get different numbers, and nothing is shared
//! between requests: a vault lives exactly as long as the request whose answer it restores.
//!
//! The brackets are U+27E6 / U+27E7: rare in real text, one code point each, and never produced by
//! JSON escaping, which keeps the streaming restorer's hold-back small.

use std::borrow::Cow;
use std::collections::HashMap;

/// Opening bracket of every placeholder.
pub const OPEN: char = '\u{27E6}';
/// Closing bracket of every placeholder.
pub const CLOSE: char = '\u{27E7}';
/// The longest placeholder the vault ever produces, in bytes: brackets (3 bytes each) plus a
/// label of at most [`MAX_LABEL`] bytes, `_` and up to 10 digits. A streaming restorer never needs
/// to hold back more than this.
pub const MAX_PLACEHOLDER_LEN: usize = 3 + MAX_LABEL + 1 + 10 + 3;
/// Labels are truncated to this many bytes.
pub const MAX_LABEL: usize = 24;

#[derive(Debug, Default, Clone)]
pub struct Vault {
    /// placeholder -> original, in creation order.
    entries: Vec<(String, String)>,
    by_placeholder: HashMap<String, usize>,
    by_original: HashMap<(String, String), usize>,
    counters: HashMap<String, u32>,
}

impl Vault {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The placeholder for `original` under `label`, creating it on first use.
    pub fn placeholder_for(&mut self, label: &str, original: &str) -> &str {
        let label = sanitize_label(label);
        let key = (label.clone(), original.to_owned());
        let idx = match self.by_original.get(&key) {
            Some(&idx) => idx,
            None => {
                let n = self.counters.entry(label.clone()).or_insert(0);
                *n += 1;
                let placeholder = format!("{OPEN}{label}_{n}{CLOSE}");
                let idx = self.entries.len();
                self.by_placeholder.insert(placeholder.clone(), idx);
                self.entries.push((placeholder, original.to_owned()));
                self.by_original.insert(key, idx);
                idx
            }
        };
        &self.entries[idx].0
    }

    /// The original value behind a placeholder of this vault. A placeholder this request did not
    /// create (invented or mangled by the model) has none, and is left alone by [`restore`].
    ///
    /// [`restore`]: Vault::restore
    pub fn lookup(&self, placeholder: &str) -> Option<&str> {
        self.by_placeholder
            .get(placeholder)
            .map(|&i| self.entries[i].1.as_str())
    }

    /// Every (placeholder, original) pair, in creation order.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(p, o)| (p.as_str(), o.as_str()))
    }

    /// Replaces every placeholder of this vault found in `text` with its original value.
    /// Returns how many were restored alongside the text.
    pub fn restore<'t>(&self, text: &'t str) -> (Cow<'t, str>, usize) {
        if self.entries.is_empty() || !text.contains(OPEN) {
            return (Cow::Borrowed(text), 0);
        }
        let mut out = String::with_capacity(text.len());
        let mut count = 0;
        let mut rest = text;
        while let Some(start) = rest.find(OPEN) {
            out.push_str(&rest[..start]);
            let tail = &rest[start..];
            let close = tail
                .char_indices()
                .take_while(|(i, _)| *i < MAX_PLACEHOLDER_LEN)
                .find(|(_, c)| *c == CLOSE)
                .map(|(i, c)| i + c.len_utf8());
            match close.and_then(|end| self.lookup(&tail[..end]).map(|orig| (end, orig))) {
                Some((end, orig)) => {
                    out.push_str(orig);
                    count += 1;
                    rest = &tail[end..];
                }
                None => {
                    out.push(OPEN);
                    rest = &tail[OPEN.len_utf8()..];
                }
            }
        }
        out.push_str(rest);
        (Cow::Owned(out), count)
    }
}

/// Turns a rule-provided label into `[A-Z0-9_]+`, at most [`MAX_LABEL`] bytes.
fn sanitize_label(label: &str) -> String {
    let mut s: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    s.truncate(MAX_LABEL);
    if s.is_empty() {
        s.push_str("VALUE");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_value_same_placeholder_different_values_numbered() {
        let mut v = Vault::new();
        let a = v.placeholder_for("email", "a@x.com").to_owned();
        let b = v.placeholder_for("email", "b@x.com").to_owned();
        let a2 = v.placeholder_for("email", "a@x.com").to_owned();
        assert_eq!(a, "⟦EMAIL_1⟧");
        assert_eq!(b, "⟦EMAIL_2⟧");
        assert_eq!(a, a2);
        assert_eq!(v.len(), 2);
    }

    #[test]
    fn restore_replaces_known_and_leaves_unknown() {
        let mut v = Vault::new();
        let p = v.placeholder_for("email", "a@x.com").to_owned();
        let text = format!("write to {p} and ⟦EMAIL_9⟧ and ⟦broken");
        let (out, n) = v.restore(&text);
        assert_eq!(out, "write to a@x.com and ⟦EMAIL_9⟧ and ⟦broken");
        assert_eq!(n, 1);
    }

    #[test]
    fn placeholders_fit_the_declared_bound() {
        let mut v = Vault::new();
        let long = "x".repeat(100);
        let p = v.placeholder_for(&long, "v").to_owned();
        assert!(
            p.len() <= MAX_PLACEHOLDER_LEN,
            "{} > {}",
            p.len(),
            MAX_PLACEHOLDER_LEN
        );
    }
}
