//! The parser: one pass over the bytes with an explicit stack of open containers.
//!
//! No recursion: an open array or object is a `Frame` on a `Vec` bounded by
//! [`MAX_DEPTH`], so the native stack stays flat whatever the input. After a value is complete it
//! is attached to the innermost open container, and every container closed by the following
//! bytes is attached in turn to its parent.

use std::borrow::Cow;
use std::mem;

use super::error::{JsonError, JsonErrorKind};
use super::string::parse_string;
use super::value::{Kind, Member, Str, Value};
use super::MAX_DEPTH;

/// Parses a whole JSON document strictly (see the [module docs](super) for what is refused).
///
/// The input must be exactly one value with optional whitespace around it, in UTF-8 without a
/// byte order mark ([`JsonErrorKind::ByteOrderMark`]).
///
/// Spans in the result are byte offsets into `input`; strings without escapes borrow from it.
pub fn parse(input: &[u8]) -> Result<Value<'_>, JsonError> {
    if input.starts_with(b"\xEF\xBB\xBF") {
        return Err(JsonError::new(
            JsonErrorKind::ByteOrderMark,
            0,
            "JSON text must not start with a byte order mark",
        ));
    }
    let src = std::str::from_utf8(input)
        .map_err(|e| JsonError::new(JsonErrorKind::InvalidUtf8, e.valid_up_to(), ""))?;
    let mut parser = Parser {
        src,
        bytes: input,
        pos: 0,
    };
    parser.skip_ws();
    if parser.pos == input.len() {
        return Err(JsonError::new(JsonErrorKind::Empty, input.len(), ""));
    }
    let value = parser.document()?;
    parser.skip_ws();
    if parser.pos != input.len() {
        return Err(JsonError::new(
            JsonErrorKind::TrailingData,
            parser.pos,
            "only whitespace may follow the document",
        ));
    }
    Ok(value)
}

/// An array or object whose closing bracket has not been seen yet.
enum Frame<'a> {
    Array {
        start: usize,
        items: Vec<Value<'a>>,
    },
    Object {
        start: usize,
        members: Vec<Member<'a>>,
        /// The key whose value is being parsed.
        key: Str<'a>,
    },
}

const NO_KEY: Str<'static> = Str {
    span: 0..0,
    text: Cow::Borrowed(""),
    raw: "",
};

struct Parser<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn document(&mut self) -> Result<Value<'a>, JsonError> {
        let mut stack: Vec<Frame<'a>> = Vec::new();
        'value: loop {
            self.skip_ws();
            let start = self.pos;
            let mut value = match self.peek() {
                Some(open @ (b'[' | b'{')) => {
                    if stack.len() >= MAX_DEPTH {
                        return Err(JsonError::new(
                            JsonErrorKind::TooDeep,
                            start,
                            "more than 64 nested arrays and objects",
                        ));
                    }
                    self.pos += 1;
                    self.skip_ws();
                    let close = if open == b'[' { b']' } else { b'}' };
                    if self.peek() == Some(close) {
                        self.pos += 1;
                        let kind = if open == b'[' {
                            Kind::Array(Vec::new())
                        } else {
                            Kind::Object(Vec::new())
                        };
                        Value {
                            span: start..self.pos,
                            kind,
                        }
                    } else {
                        stack.push(if open == b'[' {
                            Frame::Array {
                                start,
                                items: Vec::new(),
                            }
                        } else {
                            Frame::Object {
                                start,
                                members: Vec::new(),
                                key: self.key()?,
                            }
                        });
                        continue 'value;
                    }
                }
                Some(b'"') => {
                    let (s, end) = parse_string(self.src, start)?;
                    self.pos = end;
                    Value {
                        span: start..end,
                        kind: Kind::String(s),
                    }
                }
                Some(b't') => self.literal(b"true", Kind::Bool(true))?,
                Some(b'f') => self.literal(b"false", Kind::Bool(false))?,
                Some(b'n') => self.literal(b"null", Kind::Null)?,
                Some(b'-' | b'0'..=b'9' | b'+' | b'.' | b'N' | b'I') => self.number()?,
                Some(_) => return Err(self.syntax("expected a value")),
                None => return Err(self.syntax("unexpected end of input, expected a value")),
            };
            // Attach the finished value, then every container the next bytes close.
            loop {
                let Some(frame) = stack.last_mut() else {
                    return Ok(value);
                };
                self.skip_ws();
                let next = self.peek();
                // On a closing bracket the container's parts are taken out here and the emptied
                // frame popped below, so the finished container becomes the next `value`.
                let kind = match frame {
                    Frame::Array { items, .. } => {
                        items.push(value);
                        match next {
                            Some(b',') => {
                                self.pos += 1;
                                continue 'value;
                            }
                            Some(b']') => Kind::Array(mem::take(items)),
                            _ => return Err(self.syntax("expected ',' or ']' in array")),
                        }
                    }
                    Frame::Object { members, key, .. } => {
                        members.push(Member {
                            key: mem::replace(key, NO_KEY),
                            value,
                        });
                        match next {
                            Some(b',') => {
                                self.pos += 1;
                                self.skip_ws();
                                *key = self.key()?;
                                continue 'value;
                            }
                            Some(b'}') => {
                                check_duplicates(members)?;
                                Kind::Object(mem::take(members))
                            }
                            _ => return Err(self.syntax("expected ',' or '}' in object")),
                        }
                    }
                };
                let start = match frame {
                    Frame::Array { start, .. } | Frame::Object { start, .. } => *start,
                };
                stack.pop();
                self.pos += 1;
                value = Value {
                    span: start..self.pos,
                    kind,
                };
            }
        }
    }

    /// Parses `"key"` and the `:` after it; `pos` is at the opening quote.
    fn key(&mut self) -> Result<Str<'a>, JsonError> {
        if self.peek() != Some(b'"') {
            return Err(self.syntax("expected a string key"));
        }
        let (key, end) = parse_string(self.src, self.pos)?;
        self.pos = end;
        self.skip_ws();
        if self.peek() != Some(b':') {
            return Err(self.syntax("expected ':' after object key"));
        }
        self.pos += 1;
        Ok(key)
    }

    fn literal(&mut self, word: &'static [u8], kind: Kind<'a>) -> Result<Value<'a>, JsonError> {
        let start = self.pos;
        if !self.bytes[start..].starts_with(word) {
            return Err(self.syntax("expected true, false or null"));
        }
        self.pos += word.len();
        Ok(Value {
            span: start..self.pos,
            kind,
        })
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, kept as text.
    fn number(&mut self) -> Result<Value<'a>, JsonError> {
        let start = self.pos;
        let invalid = |at, detail| Err(JsonError::new(JsonErrorKind::InvalidNumber, at, detail));
        match self.peek() {
            Some(b'+') => return invalid(start, "a number must not start with '+'"),
            Some(b'.') => return invalid(start, "a number needs a digit before '.'"),
            Some(b'N' | b'I') => {
                let rest = &self.bytes[start..];
                if rest.starts_with(b"NaN") || rest.starts_with(b"Infinity") {
                    return invalid(start, "NaN and Infinity are not JSON numbers");
                }
                return Err(self.syntax("expected a value"));
            }
            Some(b'-') => self.pos += 1,
            _ => {}
        }
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if matches!(self.peek(), Some(b'0'..=b'9')) {
                    return invalid(self.pos, "leading zeros are not allowed");
                }
            }
            Some(b'1'..=b'9') => self.digits(),
            _ => return invalid(self.pos, "expected a digit"),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return invalid(self.pos, "expected a digit after '.'");
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return invalid(self.pos, "expected a digit in the exponent");
            }
            self.digits();
        }
        Ok(Value {
            span: start..self.pos,
            kind: Kind::Number(&self.src[start..self.pos]),
        })
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn syntax(&self, detail: &'static str) -> JsonError {
        let detail = if self.pos >= self.bytes.len() {
            "unexpected end of input"
        } else if self.bytes[self.pos] == b'/' {
            "comments are not allowed"
        } else {
            detail
        };
        JsonError::new(JsonErrorKind::Syntax, self.pos, detail)
    }
}

/// Refuses an object with the same decoded key twice, pointing at the first repeat in document
/// order. Small objects (nearly all of them) compare pairwise; big ones sort, so a hostile object
/// with 100 000 keys costs n log n, not n².
fn check_duplicates(members: &[Member<'_>]) -> Result<(), JsonError> {
    let repeat = if members.len() <= 16 {
        (1..members.len()).find(|&j| {
            members[..j]
                .iter()
                .any(|m| m.key.text == members[j].key.text)
        })
    } else {
        let mut order: Vec<usize> = (0..members.len()).collect();
        order.sort_unstable_by(|&a, &b| {
            members[a]
                .key
                .text
                .cmp(&members[b].key.text)
                .then(a.cmp(&b))
        });
        order
            .windows(2)
            .filter(|w| members[w[0]].key.text == members[w[1]].key.text)
            .map(|w| w[1])
            .min()
    };
    match repeat {
        Some(j) => Err(JsonError::new(
            JsonErrorKind::DuplicateKey,
            members[j].key.quoted_span().start,
            "each key may appear once per object",
        )),
        None => Ok(()),
    }
}
