//! Strings: scanning and decoding them, mapping decoded ranges back to raw bytes, and writing
//! text as string content.
//!
//! Most strings in an LLM body have no escapes, so the fast path is one `memchr2` for the closing
//! quote or a backslash plus one vectorised check for raw control characters, and the text is
//! borrowed. Only strings with escapes allocate.

use std::borrow::Cow;
use std::ops::Range;

use super::error::{JsonError, JsonErrorKind};
use super::value::Str;

/// Parses the string whose opening quote is at `quote`. Returns it and the offset just past the
/// closing quote. `src` has been validated as UTF-8 already.
#[inline]
pub(super) fn parse_string(src: &str, quote: usize) -> Result<(Str<'_>, usize), JsonError> {
    let bytes = src.as_bytes();
    let start = quote + 1;
    let end = find_special(bytes, start);
    match bytes.get(end) {
        Some(b'"') => {
            let raw = &src[start..end];
            let s = Str {
                span: start..end,
                text: Cow::Borrowed(raw),
                raw,
            };
            Ok((s, end + 1))
        }
        Some(b'\\') => parse_escaped(src, start, end),
        Some(_) => Err(control_character(end)),
        None => Err(unterminated(bytes.len())),
    }
}

/// The slow path: the string has at least one escape, the first at `backslash`.
#[cold]
fn parse_escaped(src: &str, start: usize, backslash: usize) -> Result<(Str<'_>, usize), JsonError> {
    let bytes = src.as_bytes();
    // Escapes only shrink text, so the raw length up to the next quote is a good capacity guess.
    let guess = memchr::memchr(b'"', &bytes[backslash..]).map_or(16, |k| backslash - start + k);
    let mut text = String::with_capacity(guess);
    text.push_str(&src[start..backslash]);
    let mut i = backslash;
    loop {
        // Here bytes[i] is a backslash.
        i = decode_escape(bytes, i, &mut text)?;
        let stop = find_special(bytes, i);
        text.push_str(&src[i..stop]);
        match bytes.get(stop) {
            Some(b'"') => {
                let s = Str {
                    span: start..stop,
                    text: Cow::Owned(text),
                    raw: &src[start..stop],
                };
                return Ok((s, stop + 1));
            }
            Some(b'\\') => i = stop,
            Some(_) => return Err(control_character(stop)),
            None => return Err(unterminated(bytes.len())),
        }
    }
}

fn unterminated(len: usize) -> JsonError {
    JsonError::new(JsonErrorKind::Syntax, len, "unterminated string")
}

fn control_character(at: usize) -> JsonError {
    JsonError::new(
        JsonErrorKind::ControlCharacter,
        at,
        "escape it as \\n, \\t, \\u00XX, ...",
    )
}

/// Strings up to this long are scanned 8 bytes at a time in one pass; longer ones switch to
/// `memchr2` (AVX2 where available), whose setup cost only pays off on long runs.
const SHORT: usize = 64;

/// Offset of the first `"`, `\` or control character at or after `from`, or `bytes.len()`.
#[inline]
pub(super) fn find_special(bytes: &[u8], from: usize) -> usize {
    let short_end = bytes.len().min(from + SHORT);
    let mut i = from;
    while let Some(word) = bytes.get(i..i + 8) {
        if i >= short_end {
            return find_special_long(bytes, i);
        }
        let mut le = [0; 8];
        le.copy_from_slice(word);
        let mask = special_mask(u64::from_le_bytes(le));
        if mask != 0 {
            return i + (mask.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    // Fewer than 8 bytes left in the input.
    bytes[i..]
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .map_or(bytes.len(), |k| i + k)
}

/// Marks (high bit of the byte) each byte of `w` that is `"`, `\` or below 0x20. The lowest
/// mark is exact; marks above it may be spurious (borrows), which is all `find_special` needs.
#[inline]
fn special_mask(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let quote = zero_byte(w ^ (ONES * u64::from(b'"')));
    let backslash = zero_byte(w ^ (ONES * u64::from(b'\\')));
    let control = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
    quote | backslash | control
}

fn find_special_long(bytes: &[u8], from: usize) -> usize {
    let stop = memchr::memchr2(b'"', b'\\', &bytes[from..]).map_or(bytes.len(), |k| from + k);
    let chunk = &bytes[from..stop];
    // `min` has no early exit, so it vectorises; the position is only looked for when needed.
    if chunk.iter().copied().min().unwrap_or(0x20) < 0x20 {
        return chunk
            .iter()
            .position(|&b| b < 0x20)
            .map_or(stop, |k| from + k);
    }
    stop
}

/// Decodes the escape starting at the backslash at `i` into `out`; returns the offset after it.
fn decode_escape(bytes: &[u8], i: usize, out: &mut String) -> Result<usize, JsonError> {
    let invalid = |detail| JsonError::new(JsonErrorKind::InvalidEscape, i, detail);
    let c = match bytes.get(i + 1) {
        Some(b'"') => '"',
        Some(b'\\') => '\\',
        Some(b'/') => '/',
        Some(b'b') => '\u{8}',
        Some(b'f') => '\u{c}',
        Some(b'n') => '\n',
        Some(b'r') => '\r',
        Some(b't') => '\t',
        Some(b'u') => {
            let (c, len) = decode_unicode_escape(bytes, i)?;
            out.push(c);
            return Ok(i + len);
        }
        Some(_) => {
            return Err(invalid(
                "allowed: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX",
            ))
        }
        None => return Err(unterminated(bytes.len())),
    };
    out.push(c);
    Ok(i + 2)
}

/// Decodes `\uXXXX` (or a surrogate pair `\uXXXX\uXXXX`) at `i`: the char and the raw length.
fn decode_unicode_escape(bytes: &[u8], i: usize) -> Result<(char, usize), JsonError> {
    let unit = hex4(bytes, i + 2).ok_or_else(|| {
        JsonError::new(JsonErrorKind::InvalidEscape, i, "\\u needs four hex digits")
    })?;
    let lone = || JsonError::new(JsonErrorKind::LoneSurrogate, i, "");
    match unit {
        0xD800..=0xDBFF => {
            if bytes.get(i + 6) != Some(&b'\\') || bytes.get(i + 7) != Some(&b'u') {
                return Err(lone());
            }
            match hex4(bytes, i + 8) {
                Some(low @ 0xDC00..=0xDFFF) => {
                    let code = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                    char::from_u32(code).map(|c| (c, 12)).ok_or_else(lone)
                }
                Some(_) => Err(lone()),
                None => Err(JsonError::new(
                    JsonErrorKind::InvalidEscape,
                    i + 6,
                    "\\u needs four hex digits",
                )),
            }
        }
        0xDC00..=0xDFFF => Err(lone()),
        _ => char::from_u32(unit).map(|c| (c, 6)).ok_or_else(lone),
    }
}

fn hex4(bytes: &[u8], at: usize) -> Option<u32> {
    let digits = bytes.get(at..at + 4)?;
    digits.iter().try_fold(0u32, |acc, &b| {
        let d = (b as char).to_digit(16)?;
        Some(acc << 4 | d)
    })
}

/// Raw and decoded lengths of the (already validated) escape at `raw[at]`.
fn escape_lengths(raw: &[u8], at: usize) -> (usize, usize) {
    if raw.get(at + 1) != Some(&b'u') {
        return (2, 1);
    }
    match hex4(raw, at + 2) {
        Some(0xD800..=0xDBFF) => (12, 4),
        Some(unit) => (6, char::from_u32(unit).map_or(3, char::len_utf8)),
        None => (2, 1),
    }
}

impl Str<'_> {
    /// Maps a byte range of the decoded [`text`](Str::text) to the raw byte range in the input
    /// that produced it, widening to whole escape sequences: decoded `é` from raw `\u00e9` maps
    /// to those 6 raw bytes; one char from a surrogate pair `\ud83d\ude00` maps to 12.
    ///
    /// Offsets are into the whole input, like [`span`](Str::span). A range reaching past the
    /// text is clamped to it. Costs a walk over the raw content when the string has escapes.
    pub fn raw_range(&self, decoded: Range<usize>) -> Range<usize> {
        let len = self.text.len();
        let end = decoded.end.min(len);
        let start = decoded.start.min(end);
        let base = self.span.start;
        if !self.has_escapes() {
            return base + start..base + end;
        }
        let raw_start = self.raw_offset(start, false);
        if start == end {
            return base + raw_start..base + raw_start;
        }
        base + raw_start..base + self.raw_offset(end, true)
    }

    /// Raw offset (relative to `span.start`) of decoded offset `d`. Inside an escape it rounds
    /// down to the escape's start, or up to its end when `up`.
    fn raw_offset(&self, d: usize, up: bool) -> usize {
        let raw = self.raw.as_bytes();
        let (mut r, mut dpos) = (0, 0);
        while dpos < d && r < raw.len() {
            if raw[r] == b'\\' {
                let (rlen, dlen) = escape_lengths(raw, r);
                if d < dpos + dlen {
                    return if up { r + rlen } else { r };
                }
                r += rlen;
                dpos += dlen;
            } else {
                // Plain bytes decode to themselves, one for one.
                let run = memchr::memchr(b'\\', &raw[r..]).unwrap_or(raw.len() - r);
                if d < dpos + run {
                    return r + (d - dpos);
                }
                r += run;
                dpos += run;
            }
        }
        r.min(raw.len())
    }
}

/// Writes `s` as JSON string *content* (no quotes): escapes `"`, `\` and control characters
/// (`\n \r \t \b \f`, others as `\u00XX`) and keeps everything else, non-ASCII included, as UTF-8.
///
/// ```
/// let mut out = Vec::new();
/// sovgate_core::json::escape_into("a\"b\n\u{1}é", &mut out);
/// assert_eq!(out, r#"a\"b\n\u0001é"#.as_bytes());
/// ```
pub fn escape_into(s: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    out.reserve(bytes.len());
    let mut copied = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let short: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0C => b"\\f",
            0x00..=0x1F => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[copied..i]);
        if short.is_empty() {
            let hex = [HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xF)]];
            out.extend_from_slice(b"\\u00");
            out.extend_from_slice(&hex);
        } else {
            out.extend_from_slice(short);
        }
        copied = i + 1;
    }
    out.extend_from_slice(&bytes[copied..]);
}
