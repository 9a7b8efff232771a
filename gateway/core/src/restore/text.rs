//! Streaming restoration of one text channel.
//!
//! A channel is one growing string the model writes piece by piece: the content of one choice,
//! the arguments of one tool call, the text of one content block. A placeholder such as
//! `⟦EMAIL_1⟧` may arrive cut anywhere (`…write to ⟦EMA` then `IL_1⟧ today`), so a restorer must
//! hold back a suffix that could still become a placeholder, and nothing more: every held byte is
//! latency the user sees and a chunk the client did not get.
//!
//! The rule: a suffix is held only if it starts with [`OPEN`], has no [`CLOSE`] yet, and is a
//! prefix of some placeholder of this vault. That makes the held text shorter than
//! [`MAX_PLACEHOLDER_LEN`] and empty in the common case, so a fragment without `⟦` passes through
//! unchanged and unmerged. Deciding on a fragment never depends on text after the hold-back, and the
//! decisions are exactly those of [`Vault::restore`] on the whole text: the concatenated output
//! equals the batch result however the text was cut.
//!
//! Fragments are `&str`, whole characters: [`OPEN`] is one character, so it can never be split
//! across fragments here (byte-level splitting is the SSE parser's job).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::LazyLock;
use std::sync::OnceLock;

use memchr::memmem::Finder;

use crate::output::{OutputRules, OutputTally, StreamFilter};
use crate::vault::{Vault, CLOSE, MAX_PLACEHOLDER_LEN, OPEN};

/// [`OPEN`] as UTF-8.
pub(crate) const OPEN_STR: &str = "\u{27E6}";

/// How a restored original is written into its channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The channel is plain text: the original is inserted as is.
    Text,
    /// The channel is JSON text and placeholders sit inside its string literals (tool-call
    /// arguments): the original is inserted JSON-escaped, so a value with a quote, a backslash or
    /// a newline keeps the arguments valid JSON.
    JsonString,
}

/// The vault's placeholders, sorted so "could this become a placeholder" is a binary search.
/// Built on first need: most streams never hold anything back.
#[derive(Debug, Default)]
pub(crate) struct Prefixes {
    sorted: OnceLock<Vec<Box<str>>>,
}

impl Prefixes {
    /// Whether `text` is the beginning of some placeholder of `vault`.
    fn could_become(&self, vault: &Vault, text: &str) -> bool {
        let sorted = self.sorted.get_or_init(|| {
            let mut all: Vec<Box<str>> = vault.entries().map(|(p, _)| p.into()).collect();
            all.sort_unstable();
            all
        });
        let at = sorted.partition_point(|p| **p < *text);
        sorted.get(at).is_some_and(|p| p.starts_with(text))
    }
}

/// Feeds `fragment` to a channel whose held-back text is `held`: returns what may be emitted now
/// (borrowed when that is `fragment` itself) and leaves the new hold-back in `held`.
pub(crate) fn push_fragment<'a>(
    vault: &Vault,
    prefixes: &Prefixes,
    mode: Mode,
    held: &mut String,
    fragment: &'a str,
    restored: &mut usize,
) -> Cow<'a, str> {
    if held.is_empty() {
        if !contains_open(fragment) {
            return Cow::Borrowed(fragment);
        }
        let mut out = String::with_capacity(fragment.len());
        if let Some(at) = scan(vault, Some(prefixes), mode, fragment, &mut out, restored) {
            held.push_str(&fragment[at..]);
        }
        return Cow::Owned(out);
    }
    let mut text = std::mem::take(held);
    text.push_str(fragment);
    let mut out = String::with_capacity(text.len());
    if let Some(at) = scan(vault, Some(prefixes), mode, &text, &mut out, restored) {
        held.push_str(&text[at..]);
    }
    Cow::Owned(out)
}

/// Restores every placeholder of `vault` in a complete string. In [`Mode::Text`] this is exactly
/// [`Vault::restore`].
pub fn restore_str<'t>(vault: &Vault, text: &'t str, mode: Mode) -> (Cow<'t, str>, usize) {
    if vault.is_empty() || !contains_open(text) {
        return (Cow::Borrowed(text), 0);
    }
    let mut out = String::with_capacity(text.len());
    let mut restored = 0;
    scan(vault, None, mode, text, &mut out, &mut restored);
    if restored == 0 {
        return (Cow::Borrowed(text), 0);
    }
    (Cow::Owned(out), restored)
}

/// Built once: every event and fragment is searched for the bracket.
pub(crate) static OPEN_FINDER: LazyLock<Finder<'static>> =
    LazyLock::new(|| Finder::new(OPEN_STR.as_bytes()));

pub(crate) fn contains_open(text: &str) -> bool {
    OPEN_FINDER.find(text.as_bytes()).is_some()
}

/// Where a placeholder starting at some `OPEN` could end.
enum Window {
    /// A `CLOSE` ends the candidate this many bytes after its start.
    Closed(usize),
    /// The text ends before the window does: later text may still close it.
    Open,
    /// No `CLOSE` within the window: this `OPEN` starts no placeholder, whatever follows.
    Full,
}

/// The same window [`Vault::restore`] looks at: characters starting less than
/// [`MAX_PLACEHOLDER_LEN`] bytes after the `OPEN`.
fn window(tail: &str) -> Window {
    for (i, c) in tail.char_indices() {
        if i >= MAX_PLACEHOLDER_LEN {
            return Window::Full;
        }
        if c == CLOSE {
            return Window::Closed(i + CLOSE.len_utf8());
        }
    }
    Window::Open
}

/// Writes `text` to `out` with placeholders restored. With `prefixes` (streaming), stops at a
/// suffix that may still become a placeholder and returns its offset; without, the text is
/// complete and everything is written.
fn scan(
    vault: &Vault,
    prefixes: Option<&Prefixes>,
    mode: Mode,
    text: &str,
    out: &mut String,
    restored: &mut usize,
) -> Option<usize> {
    let mut pos = 0;
    while let Some(rel) = OPEN_FINDER.find(&text.as_bytes()[pos..]) {
        let start = pos + rel;
        out.push_str(&text[pos..start]);
        let tail = &text[start..];
        match window(tail) {
            Window::Closed(end) => {
                if let Some(original) = vault.lookup(&tail[..end]) {
                    push_original(out, original, mode);
                    *restored += 1;
                    pos = start + end;
                    continue;
                }
            }
            Window::Open => {
                if prefixes.is_some_and(|p| p.could_become(vault, tail)) {
                    return Some(start);
                }
            }
            Window::Full => {}
        }
        // Not a placeholder of this vault: the bracket is ordinary text; look past it.
        out.push(OPEN);
        pos = start + OPEN.len_utf8();
    }
    out.push_str(&text[pos..]);
    None
}

fn push_original(out: &mut String, original: &str, mode: Mode) {
    match mode {
        Mode::Text => out.push_str(original),
        Mode::JsonString => push_json_escaped(out, original),
    }
}

/// The inside of a JSON string literal for `text` (no surrounding quotes).
pub(crate) fn push_json_escaped(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0C}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let b = c as usize;
                out.push_str("\\u00");
                out.push(char::from(HEX[b >> 4]));
                out.push(char::from(HEX[b & 0xF]));
            }
            c => out.push(c),
        }
    }
}

/// The streaming restorer for one text channel.
#[derive(Debug)]
pub struct TextRestorer<'v> {
    vault: &'v Vault,
    prefixes: Prefixes,
    mode: Mode,
    held: String,
    restored: usize,
}

impl<'v> TextRestorer<'v> {
    /// A restorer for a plain-text channel.
    pub fn new(vault: &'v Vault) -> Self {
        Self::with_mode(vault, Mode::Text)
    }

    /// A restorer for a channel in the given [`Mode`].
    pub fn with_mode(vault: &'v Vault, mode: Mode) -> Self {
        Self {
            vault,
            prefixes: Prefixes::default(),
            mode,
            held: String::new(),
            restored: 0,
        }
    }

    /// Feeds the next fragment; returns the text that can be emitted now, with every complete
    /// placeholder of the vault restored. Only a suffix that could still become a placeholder of
    /// this vault is held back.
    pub fn push(&mut self, fragment: &str) -> String {
        push_fragment(
            self.vault,
            &self.prefixes,
            self.mode,
            &mut self.held,
            fragment,
            &mut self.restored,
        )
        .into_owned()
    }

    /// Ends the channel: returns the held-back text as is (it never became a placeholder).
    pub fn finish(&mut self) -> String {
        std::mem::take(&mut self.held)
    }

    /// How many placeholders were restored so far.
    pub fn restored(&self) -> usize {
        self.restored
    }

    /// How many bytes are held back now (always below [`MAX_PLACEHOLDER_LEN`]).
    pub fn held_len(&self) -> usize {
        self.held.len()
    }
}

/// The held-back text of many channels of one stream, keyed by the framing's channel identity.
/// A channel with nothing held has no entry, so "anything held?" is `is_empty`.
///
/// With response rules ([`Channels::set_output`]) each channel's text goes through a
/// [`StreamFilter`] first and only then through the restorer, so restored values are never
/// scanned ([`crate::output`]).
#[derive(Debug)]
pub(crate) struct Channels<K> {
    held: BTreeMap<K, String>,
    prefixes: Prefixes,
    pub(crate) restored: usize,
    output: Option<OutputRules>,
    filters: BTreeMap<K, (Mode, StreamFilter)>,
    pub(crate) tally: OutputTally,
}

impl<K: Ord + Clone> Channels<K> {
    pub(crate) fn new() -> Self {
        Self {
            held: BTreeMap::new(),
            prefixes: Prefixes::default(),
            restored: 0,
            output: None,
            filters: BTreeMap::new(),
            tally: OutputTally::default(),
        }
    }

    /// Runs `rules` on every channel's text from now on.
    pub(crate) fn set_output(&mut self, rules: OutputRules) {
        self.output = Some(rules);
    }

    /// Whether events must be parsed even when they hold no placeholder: some channel holds
    /// text, or response rules read every event.
    pub(crate) fn is_holding(&self) -> bool {
        !self.held.is_empty() || self.output.is_some()
    }

    /// Under response rules, empties the token-level copies of the text in `map`
    /// ([`crate::output::clear_token_copies`]). Returns whether something changed.
    pub(crate) fn clear_token_copies(
        &self,
        map: &mut serde_json::Map<String, serde_json::Value>,
    ) -> bool {
        self.output.is_some() && crate::output::clear_token_copies_in(map)
    }

    /// Whether channel `key` holds text now.
    pub(crate) fn is_holding_key(&self, key: &K) -> bool {
        self.held.contains_key(key) || self.filters.get(key).is_some_and(|f| f.1.held_len() > 0)
    }

    /// Restores (and filters) the members of a complete object except `skip`. Returns how many
    /// placeholders were restored and whether anything changed.
    pub(crate) fn walk_members(
        &mut self,
        vault: &Vault,
        map: &mut serde_json::Map<String, serde_json::Value>,
        skip: &[&str],
    ) -> (usize, bool) {
        if vault.is_empty() && self.output.is_none() {
            return (0, false);
        }
        let mut ctx = self.output.as_ref().map(|o| (o, &mut self.tally));
        super::body::members_with(map, vault, skip, &mut ctx)
    }

    /// Restores `text`, a fragment of channel `key`, in place. Returns whether it changed. After
    /// a block every fragment is emptied: nothing more may reach the client.
    pub(crate) fn push_in_place(
        &mut self,
        vault: &Vault,
        key: &K,
        mode: Mode,
        text: &mut String,
    ) -> bool {
        let filtered = match &self.output {
            None => None,
            Some(rules) => {
                let tally = &mut self.tally;
                if tally.blocked().is_none() {
                    let (_, f) = self
                        .filters
                        .entry(key.clone())
                        .or_insert_with(|| (mode, StreamFilter::new()));
                    let out = f.push(rules, vault, text, tally);
                    Some(out).filter(|_| tally.blocked().is_none())
                } else {
                    None
                }
            }
        };
        if self.output.is_some() && filtered.is_none() {
            text.clear();
            return true;
        }
        let mut held = self.held.remove(key).unwrap_or_default();
        let input: &str = filtered.as_deref().unwrap_or(text.as_str());
        let out = push_fragment(
            vault,
            &self.prefixes,
            mode,
            &mut held,
            input,
            &mut self.restored,
        );
        let replacement = match out {
            Cow::Borrowed(_) => None,
            Cow::Owned(out) => Some(out),
        };
        if !held.is_empty() {
            self.held.insert(key.clone(), held);
        }
        match replacement.or(filtered) {
            Some(out) if out != *text => {
                *text = out;
                true
            }
            _ => false,
        }
    }

    /// Ends every channel whose key satisfies `pred`; returns their held text, in key order.
    pub(crate) fn take_where(
        &mut self,
        vault: &Vault,
        mut pred: impl FnMut(&K) -> bool,
    ) -> Vec<(K, String)> {
        let keys: std::collections::BTreeSet<K> = self
            .held
            .keys()
            .chain(self.filters.keys())
            .filter(|k| pred(k))
            .cloned()
            .collect();
        let mut flushed = Vec::new();
        for k in keys {
            let mut held = self.held.remove(&k).unwrap_or_default();
            let mut text = String::new();
            if let (Some((mode, mut f)), Some(rules)) = (self.filters.remove(&k), &self.output) {
                let last = f.finish(rules, vault, &mut self.tally);
                let out = push_fragment(
                    vault,
                    &self.prefixes,
                    mode,
                    &mut held,
                    &last,
                    &mut self.restored,
                );
                text.push_str(&out);
            }
            text.push_str(&held);
            if !text.is_empty() && self.tally.blocked().is_none() {
                flushed.push((k, text));
            }
        }
        flushed
    }

    /// Ends every channel.
    pub(crate) fn take_all(&mut self, vault: &Vault) -> Vec<(K, String)> {
        self.take_where(vault, |_| true)
    }
}
