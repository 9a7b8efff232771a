//! A strict JSON parser that keeps byte spans, and a splicing editor.
//!
//! The gateway must look at every key and string of a request body and, when a rule fires, change
//! the body *without touching a byte it does not have to*. A body with no findings is forwarded
//! byte-for-byte; a body with findings is rebuilt by splicing raw bytes, so everything outside
//! the edits keeps its exact spelling: escapes, key order, `0.70`, `1e-5`, pretty-printing.
//! serde_json cannot do that (it forgets where values came from), hence this module.
//!
//! # Reading
//!
//! [`parse`] turns a whole document into a [`Value`] tree. Every value carries its raw byte
//! [`span`](Value::span) in the input; every string ([`Str`]) carries the span *inside* its quotes
//! and its decoded text, borrowed from the input when it has no escapes. [`Str::raw_range`] maps a
//! range of the decoded text (where a rule matched) back to the raw bytes that produced it.
//!
//! ```
//! use sovgate_core::json::{parse, Kind};
//!
//! let body = br#"{"model": "gpt-4o", "temperature": 0.70, "n": "caf\u00e9"}"#;
//! let doc = parse(body).unwrap();
//! let Kind::Object(members) = &doc.kind else { unreachable!() };
//! assert_eq!(members[1].key.text, "temperature");
//! assert_eq!(&body[members[1].value.span.clone()], b"0.70"); // kept as written
//! let Kind::String(n) = &members[2].value.kind else { unreachable!() };
//! assert_eq!(n.text, "café");
//! assert_eq!(&body[n.raw_range(3..5)], br"\u00e9"); // "é" came from six raw bytes
//! ```
//!
//! # What is refused
//!
//! The parser is stricter than RFC 8259 where leniency would let two parties read one body two
//! ways (the gateway one way, the provider another), which is how inspection gets bypassed:
//!
//! - invalid UTF-8 anywhere, and a leading byte order mark (RFC 8259 §8.1 forbids sending one;
//!   parsers disagree on whether to skip it);
//! - lone UTF-16 surrogates in `\u` escapes (they decode to nothing valid);
//! - duplicate keys in one object, compared after decoding (`{"a":1,"\u0061":2}` is a duplicate:
//!   some parsers keep the first, others the last);
//! - nesting deeper than [`MAX_DEPTH`] arrays and objects;
//! - everything RFC 8259 refuses: comments, trailing commas, trailing data, raw control characters
//!   in strings, invalid escapes, `NaN`, leading zeros, `+1`, `.5`, `1.`, empty input.
//!
//! Everything else RFC 8259 accepts is accepted: any top-level value, numbers of any size (kept as
//! text, never rounded). Errors are a [`JsonError`] with a [`JsonErrorKind`] and a byte offset.
//!
//! # Editing
//!
//! An [`Edit`] replaces a byte range; [`splice`] applies many at once and copies every other byte
//! unchanged. [`member_removals`] and [`element_removals`] compute the ranges that delete object
//! members or array elements with their commas, so the result stays valid JSON. [`escape_into`]
//! writes replacement text as JSON string content. When a drop and a redaction nest (a redacted
//! string inside a dropped member), [`splice`] keeps the outer edit.
//!
//! # Cost
//!
//! UTF-8 is validated once for the whole input (SIMD in `std`); string contents are scanned with
//! `memchr`; strings without escapes are not copied. Nesting is handled with an explicit stack,
//! never recursion, so a body of 100 000 `[` fails fast with [`JsonErrorKind::TooDeep`].

mod edit;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod parse;
mod string;
mod value;

pub use edit::{element_removals, member_removals, splice, Edit, EditError, EditErrorKind};
pub use error::{JsonError, JsonErrorKind};
pub use parse::parse;
pub use string::escape_into;
pub use value::{Kind, Member, Str, Value};

/// The deepest nesting of arrays and objects [`parse`] accepts: 64 levels are fine, 65 are
/// refused with [`JsonErrorKind::TooDeep`]. LLM request bodies nest a handful of levels; the bound
/// keeps a hostile body from costing stack or time.
pub const MAX_DEPTH: usize = 64;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_edit;
#[cfg(test)]
mod tests_prop;
#[cfg(test)]
mod tests_suite;
