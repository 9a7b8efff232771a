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
pub(super) fn parse_string(src: &str, quote: usize) -> Result<(Str<'_>, usize), JsonError> {
    let bytes = src.as_bytes();
    let start = quote + 1;
    let found = memchr::memchr2(b'"', b'\\', &bytes[start..]).map(|k| start + k);
    let stop = found.unwrap_or(bytes.len());
    check_controls(bytes, start, stop)?;
    match found {
        None => Err(unterminated(bytes.len())),
        Some(end) if bytes[end] == b'"' => {
            let raw = &src[start..end];
            let s = Str {
                span: start..end,
                text: Cow::Borrowed(raw),
                raw,
            };
            Ok((s, end + 1))
        }
        Some(backslash) => parse_escaped(src, start, backslash),
    }
}

/// The slow path: the string has at least one escape, the first at `backslash`.
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
        let found = memchr::memchr2(b'"', b'\\', &bytes[i..]).map(|k| i + k);
        let stop = found.unwrap_or(bytes.len());
        check_controls(bytes, i, stop)?;
        text.push_str(&src[i..stop]);
        match found {
            None => return Err(unterminated(bytes.len())),
            Some(end) if bytes[end] == b'"' => {
                let s = Str {
                    span: start..end,
                    text: Cow::Owned(text),
                    raw: &src[start..end],
                };
                return Ok((s, end + 1));
            }
            Some(next) => i = next,
        }
    }
}

fn unterminated(len: usize) -> JsonError {
    JsonError::new(JsonErrorKind::Syntax, len, "unterminated string")
}

/// Refuses raw control characters in `bytes[from..to]`. The fold has no early exit so the
/// compiler vectorises it; the exact position is only looked for when there is one.
fn check_controls(bytes: &[u8], from: usize, to: usize) -> Result<(), JsonError> {
    let chunk = &bytes[from..to];
    if chunk.iter().fold(false, |acc, &b| acc | (b < 0x20)) {
        let at = chunk.iter().position(|&b| b < 0x20).unwrap_or(0);
        return Err(JsonError::new(
            JsonErrorKind::ControlCharacter,
            from + at,
            "escape it as \\n, \\t, \\u00XX, ...",
        ));
    }
    Ok(())
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
/// assert_eq!(out, br#"a\"b\n\u0001é"#);
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
