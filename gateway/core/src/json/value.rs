//! The parsed tree: values that remember which bytes of the input they came from.

use std::borrow::Cow;
use std::ops::Range;

/// One JSON value and the raw bytes it was parsed from.
///
/// `span` covers the whole value as written: quotes included for a string, brackets included
/// for an array or object, and nothing of the whitespace around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value<'a> {
    /// Byte range of the value in the input.
    pub span: Range<usize>,
    /// What the value is.
    pub kind: Kind<'a>,
}

/// The kinds of JSON value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind<'a> {
    Null,
    Bool(bool),
    /// The number exactly as written (`0.70`, `1e-5`, `123456789012345678901234567890`): the
    /// gateway never needs its value, and converting would round big ones.
    Number(&'a str),
    String(Str<'a>),
    Array(Vec<Value<'a>>),
    /// Members in document order. Keys are unique (the parser refuses duplicates).
    Object(Vec<Member<'a>>),
}

/// One `"key": value` pair of an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member<'a> {
    pub key: Str<'a>,
    pub value: Value<'a>,
}

/// A JSON string: where its raw content lies and what it decodes to.
///
/// Only the parser builds these, so `span` and `text` always agree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Str<'a> {
    /// Byte range of the raw content *inside* the quotes.
    pub span: Range<usize>,
    /// The decoded text; borrowed from the input when the string has no escapes.
    pub text: Cow<'a, str>,
    /// The raw content inside the quotes, kept so [`Str::raw_range`] can walk the escapes.
    pub(super) raw: &'a str,
}

impl<'a> Str<'a> {
    /// The decoded text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The raw content between the quotes, escapes as written.
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// Whether the raw content contains at least one escape (so `text` differs from it).
    pub fn has_escapes(&self) -> bool {
        matches!(self.text, Cow::Owned(_))
    }

    /// The span including the quotes, i.e. the whole string value as written.
    pub fn quoted_span(&self) -> Range<usize> {
        self.span.start.saturating_sub(1)..self.span.end + 1
    }
}

impl Member<'_> {
    /// The bytes from the key's opening quote to the end of the value: the member as written,
    /// without the comma or whitespace around it.
    pub fn span(&self) -> Range<usize> {
        self.key.quoted_span().start..self.value.span.end
    }
}

impl<'a> Value<'a> {
    /// The members if this is an object.
    pub fn as_object(&self) -> Option<&[Member<'a>]> {
        match &self.kind {
            Kind::Object(members) => Some(members),
            _ => None,
        }
    }

    /// The elements if this is an array.
    pub fn as_array(&self) -> Option<&[Value<'a>]> {
        match &self.kind {
            Kind::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The string if this is one.
    pub fn as_str(&self) -> Option<&Str<'a>> {
        match &self.kind {
            Kind::String(s) => Some(s),
            _ => None,
        }
    }

    /// The value of the member whose decoded key is `key`, if this is an object that has one.
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        self.as_object()?
            .iter()
            .find(|m| m.key.text == key)
            .map(|m| &m.value)
    }

    /// Index of the member whose decoded key is `key`, for [`super::member_removals`].
    pub fn position(&self, key: &str) -> Option<usize> {
        self.as_object()?.iter().position(|m| m.key.text == key)
    }

    /// A short name of the kind (`"object"`, `"string"`, ...) for messages.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            Kind::Null => "null",
            Kind::Bool(_) => "boolean",
            Kind::Number(_) => "number",
            Kind::String(_) => "string",
            Kind::Array(_) => "array",
            Kind::Object(_) => "object",
        }
    }
}
