//! Bytes a regex cannot match without: the cheapest gate for patterns searched over the whole
//! text.
//!
//! An e-mail pattern cannot match without an `@`, an AWS secret assignment not without `:` or
//! `=`. When every match must contain one of at most three bytes, `memchr` (SIMD, many GB/s)
//! decides whether a string can hold a match at all before the regex engine is called. Most
//! strings of a chat body (keys, roles, short values, prose) have none, and for them the
//! per-call cost of the regex engine is saved. The engine's own prefilters still run when the
//! bytes are present.

use regex_syntax::hir::{Class, Hir, HirKind};

/// One to three bytes of which every match holds at least one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Required {
    One(u8),
    Two(u8, u8),
    Three(u8, u8, u8),
}

impl Required {
    /// Whether `hay` contains one of the bytes (if not, no match lies inside `hay`).
    #[inline]
    pub(crate) fn occurs_in(&self, hay: &[u8]) -> bool {
        match *self {
            Required::One(a) => memchr::memchr(a, hay).is_some(),
            Required::Two(a, b) => memchr::memchr2(a, b, hay).is_some(),
            Required::Three(a, b, c) => memchr::memchr3(a, b, c, hay).is_some(),
        }
    }
}

/// The rarest set of at most three bytes that every match of `hir` contains, if there is one.
pub(crate) fn required_bytes(hir: &Hir) -> Option<Required> {
    match required(hir)?.as_slice() {
        [a] => Some(Required::One(*a)),
        [a, b] => Some(Required::Two(*a, *b)),
        [a, b, c] => Some(Required::Three(*a, *b, *c)),
        _ => None,
    }
}

/// How often a byte turns up in chat text, roughly: the lower, the better a gate.
fn frequency(b: u8) -> u32 {
    match b {
        b'a'..=b'z' | b' ' => 100,
        b'A'..=b'Z' | b'0'..=b'9' | b'.' | b',' | b'-' | b'\n' | b'"' | b'\'' => 10,
        _ => 1,
    }
}

fn cost(set: &[u8]) -> u32 {
    set.iter().map(|&b| frequency(b)).sum()
}

/// A sorted set of at most three bytes; `None` when no such set is required.
fn required(hir: &Hir) -> Option<Vec<u8>> {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => None,
        // Every byte of a literal is in every match: take the rarest.
        HirKind::Literal(lit) => lit
            .0
            .iter()
            .min_by_key(|&&b| frequency(b))
            .map(|&b| vec![b]),
        HirKind::Class(Class::Bytes(class)) => small_set(
            class
                .ranges()
                .iter()
                .map(|r| (u32::from(r.start()), u32::from(r.end()))),
        ),
        HirKind::Class(Class::Unicode(class)) => small_set(
            class
                .ranges()
                .iter()
                .map(|r| (u32::from(r.start()), u32::from(r.end()))),
        ),
        HirKind::Repetition(rep) if rep.min > 0 => required(&rep.sub),
        HirKind::Repetition(_) => None,
        HirKind::Capture(cap) => required(&cap.sub),
        // Any one part's set will do: the rarest.
        HirKind::Concat(parts) => parts.iter().filter_map(required).min_by_key(|s| cost(s)),
        // Each alternative needs its own: the union, if it stays small.
        HirKind::Alternation(alts) => {
            let mut set = Vec::new();
            for alt in alts {
                set.extend(required(alt)?);
            }
            set.sort_unstable();
            set.dedup();
            (set.len() <= 3).then_some(set)
        }
    }
}

/// The bytes of a class of at most three ASCII characters or bytes (a non-ASCII character is
/// several bytes, none of which alone is required by the class).
fn small_set(ranges: impl Iterator<Item = (u32, u32)>) -> Option<Vec<u8>> {
    let mut set = Vec::new();
    for (start, end) in ranges {
        if end > 0x7F || end - start >= 3 {
            return None;
        }
        set.extend((start..=end).filter_map(|c| u8::try_from(c).ok()));
        if set.len() > 3 {
            return None;
        }
    }
    (!set.is_empty()).then_some(set)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn req(pattern: &str) -> Option<Required> {
        required_bytes(&regex_syntax::parse(pattern).unwrap())
    }

    #[test]
    fn finds_the_rarest_required_bytes() {
        let email = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?-u:\b)";
        assert_eq!(req(email), Some(Required::One(b'@')));
        let aws = r#"(?i:aws_?secret_?access_?key|secret_?key)["']?[ \t]*[:=][ \t]*["']?[A-Za-z0-9/+]{40}"#;
        assert_eq!(req(aws), Some(Required::Two(b':', b'=')));
        assert_eq!(req(r"a|b|c"), Some(Required::Three(b'a', b'b', b'c')));
        assert_eq!(req(r"\b[A-Z][a-z]+ Corp\b"), Some(Required::One(b'C')));
        // Optional parts, wide classes and too many alternatives require nothing.
        assert_eq!(req(r"x?[0-9]+"), None);
        assert_eq!(req(r"a|b|c|d"), None);
        assert_eq!(req(r"(?:@)*[a-z]+"), None);
        assert_eq!(req(r"é+"), Some(Required::One(0xC3)));
        assert_eq!(req(r"[aé]"), None);
    }

    #[test]
    fn occurs_in_checks_every_byte() {
        assert!(Required::Three(b'x', b'y', b'z').occurs_in(b"..z"));
        assert!(!Required::Two(b':', b'=').occurs_in(b"no colon here"));
        assert!(Required::One(b'@').occurs_in(b"a@b"));
    }
}
