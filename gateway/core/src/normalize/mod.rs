//! Folding text for matching, with a map back to the original bytes.
//!
//! Rules are written in plain ASCII (`privileged`, an email regex), but a client can send
//! `ｐｒｉｖｉｌｅｇｅｄ` (fullwidth), `privi\u{200B}leged` (a zero-width space inside) or
//! `privіleged` (a Cyrillic `і`). All of them read the same to a person and to an LLM, so they
//! must match the same rules. [`normalize`] produces the text the matchers run on:
//!
//! 1. NFKC (compatibility composition): fullwidth and other compatibility forms become their plain
//!    equivalents, `ﬁ` becomes `fi`, `e` + combining acute becomes `é`.
//! 2. Invisible characters are removed: zero-width space/joiners, soft hyphen, bidi controls, tag
//!    characters, variation selectors (see [`fold`] for the list).
//! 3. Look-alike letters from Cyrillic, Greek and Latin extensions fold to ASCII; dash variants
//!    (en dash, minus sign, ...) fold to `-`; space variants (no-break space, ...) fold to ` `.
//!
//! Case is not folded here: the matchers fold ASCII case themselves, and
//! [`normalize_lowercase`] exists for case-insensitive dictionaries with non-ASCII entries.
//!
//! The normalized text is only ever used for matching. Findings are reported on the original
//! text, so every normalized byte keeps the original byte range it came from and
//! [`Normalized::original_range`] maps a match back, widened to whole original characters (a
//! match that covers the `fi` of `ﬁ` covers the whole ligature, and a match that spans a removed
//! zero-width space covers it too).
//!
//! ASCII text is already in NFKC and contains nothing to remove or fold, so it is returned
//! borrowed with an identity map: the common case costs one `is_ascii` pass.
//!
//! ```
//! use sovgate_core::normalize::normalize;
//! let text = "mail ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ now";
//! let n = normalize(text);
//! assert_eq!(n.as_str(), "mail jane@example.com now");
//! let at = n.as_str().find("jane@example.com").unwrap();
//! let orig = n.original_range(at..at + "jane@example.com".len());
//! assert_eq!(&text[orig], "ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ");
//! ```

mod fold;

use std::borrow::Cow;
use std::ops::Range;
use unicode_normalization::char::canonical_combining_class;
use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

pub(crate) use fold::is_invisible;

/// Text folded for matching plus the map back to the text it came from.
#[derive(Debug, Clone)]
pub struct Normalized<'a> {
    original: &'a str,
    text: Cow<'a, str>,
    /// `true` when every byte of `text` is the byte at the same offset of `original`.
    identity: bool,
    /// Sorted by `norm`; piece `i` covers `text[pieces[i].norm..pieces[i + 1].norm]`.
    pieces: Vec<Piece>,
}

/// A stretch of normalized text and the original bytes it came from.
#[derive(Debug, Clone, Copy)]
struct Piece {
    norm: usize,
    orig: usize,
    orig_end: usize,
    /// Byte `k` of the piece came from original byte `orig + k` (same length, same character
    /// boundaries). Otherwise every byte of the piece maps to the whole original range.
    one_to_one: bool,
}

/// Normalizes `text` for matching (see the module docs). Borrowed when nothing changes.
pub fn normalize(text: &str) -> Normalized<'_> {
    Builder::run(text, false)
}

/// Like [`normalize`], then lowercases every character (Unicode simple + special casing), for
/// case-insensitive matching of non-ASCII words (`PRIVILÉGIÉ` against `privilégié`).
pub fn normalize_lowercase(text: &str) -> Normalized<'_> {
    Builder::run(text, true)
}

impl<'a> Normalized<'a> {
    /// The text to match on.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The text this was made from.
    pub fn original(&self) -> &'a str {
        self.original
    }

    /// Whether offsets in [`as_str`](Self::as_str) are offsets in the original text.
    pub fn is_identity(&self) -> bool {
        self.identity
    }

    /// Maps a byte range of the normalized text to the original text, widened to whole original
    /// characters. Out-of-range bounds are clamped.
    pub fn original_range(&self, r: Range<usize>) -> Range<usize> {
        let len = self.text.len();
        let start = r.start.min(len);
        let end = r.end.min(len).max(start);
        let (orig_start, orig_end) = if self.identity {
            (start, end)
        } else if start == end {
            let at = self.position(start);
            (at, at)
        } else {
            let first = self.piece_at(start);
            let last = self.piece_at(end - 1);
            let s = match first {
                Some(p) if p.one_to_one => p.orig + (start - p.norm),
                Some(p) => p.orig,
                None => 0,
            };
            let e = match last {
                Some(p) if p.one_to_one => p.orig + (end - p.norm),
                Some(p) => p.orig_end,
                None => self.original.len(),
            };
            (s, e.max(s))
        };
        widen(self.original, orig_start..orig_end)
    }

    fn piece_at(&self, norm: usize) -> Option<&Piece> {
        let idx = self.pieces.partition_point(|p| p.norm <= norm);
        self.pieces.get(idx.checked_sub(1)?)
    }

    /// The original offset of the boundary before normalized byte `norm`.
    fn position(&self, norm: usize) -> usize {
        if norm >= self.text.len() {
            return self.original.len();
        }
        match self.piece_at(norm) {
            Some(p) if p.one_to_one => p.orig + (norm - p.norm),
            Some(p) => p.orig,
            None => 0,
        }
    }
}

fn widen(text: &str, r: Range<usize>) -> Range<usize> {
    let mut start = r.start.min(text.len());
    let mut end = r.end.min(text.len()).max(start);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    while !text.is_char_boundary(end) {
        end += 1;
    }
    start..end
}

/// Whether a new normalization segment starts at `c`: `c` neither combines with what precedes
/// it (canonical combining class 0) nor may compose with it (NFKC quick check "maybe"). Each
/// segment is normalized on its own, which is exact for NFKC at such boundaries.
fn starts_segment(c: char) -> bool {
    c.is_ascii()
        || (canonical_combining_class(c) == 0
            && is_nfkc_quick(std::iter::once(c)) != IsNormalized::Maybe)
}

struct Builder<'a> {
    original: &'a str,
    out: String,
    pieces: Vec<Piece>,
    lowercase: bool,
    scratch: String,
}

impl<'a> Builder<'a> {
    fn run(original: &'a str, lowercase: bool) -> Normalized<'a> {
        if original.is_ascii() {
            if !lowercase || !original.bytes().any(|b| b.is_ascii_uppercase()) {
                return Normalized {
                    original,
                    text: Cow::Borrowed(original),
                    identity: true,
                    pieces: Vec::new(),
                };
            }
            return Normalized {
                original,
                text: Cow::Owned(original.to_ascii_lowercase()),
                identity: true,
                pieces: Vec::new(),
            };
        }
        let mut b = Builder {
            original,
            out: String::with_capacity(original.len()),
            pieces: Vec::new(),
            lowercase,
            scratch: String::new(),
        };
        b.walk();
        Normalized {
            original,
            text: Cow::Owned(b.out),
            identity: false,
            pieces: b.pieces,
        }
    }

    fn walk(&mut self) {
        let text = self.original;
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let run = bytes[i..].iter().position(|&b| !b.is_ascii());
            let Some(run) = run else {
                self.push_one_to_one(i, bytes.len());
                break;
            };
            // The ASCII character right before a non-ASCII one may take combining marks, so it
            // goes through the segment path with them.
            let seg_start = if run > 0 { i + run - 1 } else { i };
            self.push_one_to_one(i, seg_start);
            let mut chars = text[seg_start..].chars();
            let mut end = seg_start + chars.next().map_or(1, char::len_utf8);
            for c in chars {
                if starts_segment(c) {
                    break;
                }
                end += c.len_utf8();
            }
            self.push_segment(seg_start, end);
            i = end;
        }
    }

    fn push_one_to_one(&mut self, start: usize, end: usize) {
        if start == end {
            return;
        }
        let piece = &self.original[start..end];
        let norm = self.out.len();
        match self.pieces.last_mut() {
            Some(last) if last.one_to_one && last.orig_end == start => last.orig_end = end,
            _ => self.pieces.push(Piece {
                norm,
                orig: start,
                orig_end: end,
                one_to_one: true,
            }),
        }
        // Non-ASCII pieces only get here when their folded (and lowercased) form is unchanged.
        if self.lowercase && piece.is_ascii() {
            self.out
                .extend(piece.chars().map(|c| c.to_ascii_lowercase()));
        } else {
            self.out.push_str(piece);
        }
    }

    fn push_segment(&mut self, start: usize, end: usize) {
        let seg = &self.original[start..end];
        if seg.is_ascii() {
            return self.push_one_to_one(start, end);
        }
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        let visible = seg.chars().filter(|&c| !is_invisible(c));
        for c in visible.nfkc().filter(|&c| !is_invisible(c)) {
            let c = fold::fold(c).unwrap_or(c);
            if self.lowercase {
                scratch.extend(c.to_lowercase());
            } else {
                scratch.push(c);
            }
        }
        if scratch.as_str() == seg {
            self.push_one_to_one(start, end);
        } else if !scratch.is_empty() {
            self.pieces.push(Piece {
                norm: self.out.len(),
                orig: start,
                orig_end: end,
                one_to_one: false,
            });
            self.out.push_str(&scratch);
        }
        self.scratch = scratch;
    }
}

#[cfg(test)]
mod tests;

/// Whitespace runs that hold a line break or a tab, or more than one space, read as one space,
/// so a multi-word literal or a card number broken over a line still matches
/// (`ATTORNEY–CLIENT` + newline + indentation + `PRIVILEGED`). `None` when there is no such run
/// (the common case: found with `memchr`, no copy). Ranges map back like [`normalize`]'s.
pub fn collapse_whitespace(text: &str) -> Option<Normalized<'_>> {
    static DOUBLE_SPACE: std::sync::OnceLock<memchr::memmem::Finder<'static>> =
        std::sync::OnceLock::new();
    let b = text.as_bytes();
    let double = DOUBLE_SPACE.get_or_init(|| memchr::memmem::Finder::new(b"  "));
    let breaks: Vec<usize> = memchr::memchr3_iter(b'\n', b'\t', b'\r', b).collect();
    let doubles: Vec<usize> = double.find_iter(b).collect();
    if breaks.is_empty() && doubles.is_empty() {
        return None;
    }
    // Both lists are sorted: merge them rather than sort their concatenation.
    let mut starts = Vec::with_capacity(breaks.len() + doubles.len());
    let (mut x, mut y) = (0, 0);
    while x < breaks.len() || y < doubles.len() {
        if y >= doubles.len() || (x < breaks.len() && breaks[x] <= doubles[y]) {
            starts.push(breaks[x]);
            x += 1;
        } else {
            starts.push(doubles[y]);
            y += 1;
        }
    }
    let is_ws = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c');
    let mut out = String::with_capacity(text.len());
    let mut pieces = Vec::new();
    let mut stretch = 0;
    for p in starts {
        if p < stretch {
            continue;
        }
        let mut s = p;
        while s > stretch && is_ws(b[s - 1]) {
            s -= 1;
        }
        let mut e = p;
        while e < b.len() && is_ws(b[e]) {
            e += 1;
        }
        if s > stretch {
            pieces.push(Piece {
                norm: out.len(),
                orig: stretch,
                orig_end: s,
                one_to_one: true,
            });
            out.push_str(&text[stretch..s]);
        }
        pieces.push(Piece {
            norm: out.len(),
            orig: s,
            orig_end: e,
            one_to_one: e - s == 1,
        });
        out.push(' ');
        stretch = e;
    }
    if stretch < b.len() {
        pieces.push(Piece {
            norm: out.len(),
            orig: stretch,
            orig_end: b.len(),
            one_to_one: true,
        });
        out.push_str(&text[stretch..]);
    }
    Some(Normalized {
        original: text,
        text: Cow::Owned(out),
        identity: false,
        pieces,
    })
}

/// A view of `original` with the byte ranges `subs` (sorted, not overlapping) replaced by other
/// text, mapped back like [`normalize`]'s output: a decoded entity maps to the whole entity.
pub(crate) fn substituted<'a>(
    original: &'a str,
    subs: &[(Range<usize>, String)],
) -> Normalized<'a> {
    let mut out = String::with_capacity(original.len());
    let mut pieces = Vec::with_capacity(subs.len() * 2 + 1);
    let mut at = 0;
    for (range, text) in subs {
        if range.start > at {
            pieces.push(Piece {
                norm: out.len(),
                orig: at,
                orig_end: range.start,
                one_to_one: true,
            });
            out.push_str(&original[at..range.start]);
        }
        if !text.is_empty() {
            pieces.push(Piece {
                norm: out.len(),
                orig: range.start,
                orig_end: range.end,
                one_to_one: false,
            });
            out.push_str(text);
        }
        at = range.end;
    }
    if at < original.len() {
        pieces.push(Piece {
            norm: out.len(),
            orig: at,
            orig_end: original.len(),
            one_to_one: true,
        });
        out.push_str(&original[at..]);
    }
    Normalized {
        original,
        text: Cow::Owned(out),
        identity: false,
        pieces,
    }
}
