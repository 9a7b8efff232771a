//! Small typed accessors over `serde_json::Value` that fail with a JSON path.
//!
//! The translators read bodies a client or an upstream controls, so every field is read through
//! these helpers: a wrong type becomes a [`TranslateError`] naming the path, never a panic and
//! never a silently skipped field. `null` counts as absent, as both APIs treat it.

use serde_json::{Map, Value};

use super::error::{Side, TranslateError};

/// A JSON object, or an error naming `path`.
pub(super) fn object<'a>(
    v: &'a Value,
    path: &str,
    side: Side,
) -> Result<&'a Map<String, Value>, TranslateError> {
    v.as_object().ok_or_else(|| {
        side.err(format!(
            "{}: expected an object, found {}",
            shown(path),
            kind(v)
        ))
    })
}

/// A JSON array, or an error naming `path`.
pub(super) fn array<'a>(
    v: &'a Value,
    path: &str,
    side: Side,
) -> Result<&'a [Value], TranslateError> {
    v.as_array().map(Vec::as_slice).ok_or_else(|| {
        side.err(format!(
            "{}: expected an array, found {}",
            shown(path),
            kind(v)
        ))
    })
}

/// `obj[key]` if present and not null.
pub(super) fn field<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

/// An optional string field: absent or null is `None`, another type is an error.
pub(super) fn opt_str<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    path: &str,
    side: Side,
) -> Result<Option<&'a str>, TranslateError> {
    match field(obj, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(side.err(format!(
            "{}: expected a string, found {}",
            at(path, key),
            kind(other)
        ))),
    }
}

/// A required string field.
pub(super) fn req_str<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    path: &str,
    side: Side,
) -> Result<&'a str, TranslateError> {
    opt_str(obj, key, path, side)?
        .ok_or_else(|| side.err(format!("{}: required string is missing", at(path, key))))
}

/// An optional number field, returned as the JSON number itself so integers stay integers.
pub(super) fn opt_number(
    obj: &Map<String, Value>,
    key: &str,
    path: &str,
    side: Side,
) -> Result<Option<Value>, TranslateError> {
    match field(obj, key) {
        None => Ok(None),
        Some(v @ Value::Number(_)) => Ok(Some(v.clone())),
        Some(other) => Err(side.err(format!(
            "{}: expected a number, found {}",
            at(path, key),
            kind(other)
        ))),
    }
}

/// An optional boolean field.
pub(super) fn opt_bool(
    obj: &Map<String, Value>,
    key: &str,
    path: &str,
    side: Side,
) -> Result<Option<bool>, TranslateError> {
    match field(obj, key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(side.err(format!(
            "{}: expected true or false, found {}",
            at(path, key),
            kind(other)
        ))),
    }
}

/// A non-negative integer usage counter; anything else (absent, negative, a string) reads as 0,
/// because a token count is informational and must not fail an otherwise good answer.
pub(super) fn count(obj: Option<&Map<String, Value>>, key: &str) -> u64 {
    obj.and_then(|o| o.get(key))
        .and_then(Value::as_u64)
        .unwrap_or(0)
}

/// The path of `key` inside the object at `path` (`""` is the body itself).
pub(super) fn at(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// How a path reads in a message: the empty path is the whole body.
fn shown(path: &str) -> &str {
    if path.is_empty() {
        "body"
    } else {
        path
    }
}

/// The JSON type name of a value, for error messages.
pub(super) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Builds a JSON object from key/value pairs, keeping their order (the crate enables
/// `serde_json/preserve_order`, so what we emit reads like the provider's own bodies).
pub(super) fn obj<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    let mut map = Map::with_capacity(N);
    for (k, v) in pairs {
        map.insert(k.to_owned(), v);
    }
    Value::Object(map)
}
