//! Why a body is not JSON the gateway will forward, and where.

use std::fmt;

/// A refused document: what was wrong ([`JsonError::kind`]) and at which byte
/// ([`JsonError::offset`]).
///
/// Opaque on purpose, so the message can grow more precise without breaking callers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    kind: JsonErrorKind,
    offset: usize,
    detail: &'static str,
}

/// The classes of refusal. Callers branch on these (for example to count them in metrics);
/// the [`Display`](fmt::Display) of [`JsonError`] says more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JsonErrorKind {
    /// No value at all: zero bytes, or only whitespace.
    Empty,
    /// Not JSON grammar: a stray byte, a missing `,` or `:`, a trailing comma, a comment, an
    /// unterminated string or container.
    Syntax,
    /// The input is not valid UTF-8.
    InvalidUtf8,
    /// The input starts with a UTF-8 byte order mark.
    ByteOrderMark,
    /// A `\u` escape is half of a UTF-16 surrogate pair without the other half.
    LoneSurrogate,
    /// A backslash not followed by one of `" \ / b f n r t u`, or `\u` without four hex digits.
    InvalidEscape,
    /// A raw byte below 0x20 inside a string (it must be escaped).
    ControlCharacter,
    /// A number outside the JSON grammar: leading zero, `+1`, `.5`, `1.`, `1e`, `NaN`, `Infinity`.
    InvalidNumber,
    /// An object has the same key twice, after decoding escapes.
    DuplicateKey,
    /// Arrays and objects nest deeper than [`super::MAX_DEPTH`].
    TooDeep,
    /// Something other than whitespace follows the document.
    TrailingData,
}

impl JsonError {
    pub(super) fn new(kind: JsonErrorKind, offset: usize, detail: &'static str) -> Self {
        JsonError {
            kind,
            offset,
            detail,
        }
    }

    /// What was wrong.
    pub fn kind(&self) -> JsonErrorKind {
        self.kind
    }

    /// The byte offset in the input where the problem was found: the offending byte, the start
    /// of the offending escape or key, or the input length when the input ended too early.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// 1-based line and column of [`offset`](Self::offset) in `input` (the same input that was
    /// parsed). Columns count characters, so a line with `é` before the error is not off by one.
    pub fn line_col(&self, input: &[u8]) -> (usize, usize) {
        let upto = &input[..self.offset.min(input.len())];
        let line_start = memchr::memrchr(b'\n', upto).map_or(0, |i| i + 1);
        let line = 1 + memchr::memchr_iter(b'\n', upto).count();
        // Counting bytes that do not continue a UTF-8 sequence counts characters.
        let col = 1 + upto[line_start..]
            .iter()
            .filter(|&&b| (b & 0xC0) != 0x80)
            .count();
        (line, col)
    }
}

impl JsonErrorKind {
    fn describe(self) -> &'static str {
        match self {
            JsonErrorKind::Empty => "empty document",
            JsonErrorKind::Syntax => "syntax error",
            JsonErrorKind::InvalidUtf8 => "invalid UTF-8",
            JsonErrorKind::ByteOrderMark => "byte order mark",
            JsonErrorKind::LoneSurrogate => "lone UTF-16 surrogate",
            JsonErrorKind::InvalidEscape => "invalid escape",
            JsonErrorKind::ControlCharacter => "unescaped control character in string",
            JsonErrorKind::InvalidNumber => "invalid number",
            JsonErrorKind::DuplicateKey => "duplicate object key",
            JsonErrorKind::TooDeep => "nesting too deep",
            JsonErrorKind::TrailingData => "trailing data after the document",
        }
    }
}

impl fmt::Display for JsonErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid JSON: {}", self.kind)?;
        if !self.detail.is_empty() {
            write!(f, " ({})", self.detail)?;
        }
        write!(f, " at byte {}", self.offset)
    }
}

impl std::error::Error for JsonError {}
