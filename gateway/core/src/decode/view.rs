//! A decoded view of a string for matching: HTML entities (`&amp;`, `&#64;`, `&#x40;`),
//! percent-encoding (`jane%40example.com`) and Unicode tag characters (U+E0020–U+E007E, invisible,
//! but read by many models as the ASCII they mirror). Rules match on the view; findings map back
//! to the original bytes, where the rule's action applies.

use crate::normalize::{substituted, Normalized};
use std::ops::Range;

/// The first and last tag characters that mirror printable ASCII.
const TAG_FIRST: u32 = 0xE0020;
const TAG_LAST: u32 = 0xE007E;

/// Whether `c` is in the Unicode tag block (U+E0000–U+E007F).
pub fn is_tag(c: char) -> bool {
    ('\u{E0000}'..='\u{E007F}').contains(&c)
}

/// The runs of tag characters in `text`: always removed from what is forwarded.
pub fn tag_runs(text: &str) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = Vec::new();
    if memchr::memchr(0xf3, text.as_bytes()).is_none() {
        return out;
    }
    for (i, c) in text.char_indices() {
        if is_tag(c) {
            let end = i + c.len_utf8();
            match out.last_mut() {
                Some(last) if last.end == i => last.end = end,
                _ => out.push(i..end),
            }
        }
    }
    out
}

/// The decoded view, or `None` when `text` holds nothing to decode (the common case, found
/// with `memchr`).
pub fn view(text: &str) -> Option<Normalized<'_>> {
    let b = text.as_bytes();
    // Tag characters are 4-byte sequences starting F3 A0 (F3 also starts other planes' letters).
    let maybe_tags = memchr::memchr(0xf3, b).is_some();
    if memchr::memchr2(b'&', b'%', b).is_none() && !maybe_tags {
        return None;
    }
    let mut subs: Vec<(Range<usize>, String)> = Vec::new();
    // Jump from candidate to candidate: prose is read at memchr speed, not byte by byte.
    let mut i = 0;
    while let Some(off) = memchr::memchr3(b'&', b'%', 0xf3, &b[i..]) {
        i += off;
        match b[i] {
            b'&' => {
                if let Some((end, decoded)) = entity(text, i) {
                    subs.push((i..end, decoded));
                    i = end;
                    continue;
                }
            }
            b'%' => {
                if let Some((end, decoded)) = percent_run(text, i) {
                    subs.push((i..end, decoded));
                    i = end;
                    continue;
                }
            }
            0xf3 if maybe_tags => {
                if let Some(c) = text[i..].chars().next() {
                    if is_tag(c) {
                        let ascii = (TAG_FIRST..=TAG_LAST)
                            .contains(&u32::from(c))
                            .then(|| char::from_u32(u32::from(c) - 0xE0000))
                            .flatten()
                            .map(String::from)
                            .unwrap_or_default();
                        subs.push((i..i + c.len_utf8(), ascii));
                        i += c.len_utf8();
                        continue;
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    if subs.is_empty() {
        return None;
    }
    Some(substituted(text, &subs))
}

/// An HTML character reference at `at`: its end and what it stands for.
fn entity(text: &str, at: usize) -> Option<(usize, String)> {
    let rest = &text[at..];
    let semi = rest[..rest.len().min(40)].find(';')?;
    let candidate = &rest[..=semi];
    let body = &candidate[1..semi];
    if body.is_empty() || !body.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'#') {
        return None;
    }
    let decoded = htmlize::unescape(candidate);
    (decoded != candidate).then(|| (at + semi + 1, decoded.into_owned()))
}

/// A run of `%XX` escapes at `at` that decodes to UTF-8: its end and the text.
fn percent_run(text: &str, at: usize) -> Option<(usize, String)> {
    let b = text.as_bytes();
    let mut end = at;
    while end + 3 <= b.len()
        && b[end] == b'%'
        && b[end + 1].is_ascii_hexdigit()
        && b[end + 2].is_ascii_hexdigit()
    {
        end += 3;
    }
    if end == at {
        return None;
    }
    let bytes: Vec<u8> = percent_encoding::percent_decode_str(&text[at..end]).collect();
    String::from_utf8(bytes).ok().map(|s| (end, s))
}
