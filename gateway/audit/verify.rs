//! Checking a log's hash chain.

use super::error::{VerifyError, VerifyErrorKind};
use super::{line_hash, GENESIS};
use serde_json::Value;
use std::io::BufRead;
use std::path::Path;

/// What a successful verification saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub records: u64,
    /// Hash of the last line (the `prev` the next record will carry); [`GENESIS`] for an empty
    /// log. Keep it elsewhere to detect records cut off the end.
    pub head: String,
}

/// Verifies the chain of the log at `path`. An I/O error opening the file is reported as line 0.
pub fn verify_file(path: &Path) -> Result<VerifyReport, VerifyError> {
    let file = std::fs::File::open(path).map_err(|e| VerifyError {
        line: 0,
        kind: VerifyErrorKind::Io(e),
    })?;
    verify_reader(std::io::BufReader::new(file))
}

/// Verifies a chain read line by line from `reader`, stopping at the first broken line.
pub fn verify_reader(mut reader: impl BufRead) -> Result<VerifyReport, VerifyError> {
    let mut expected = GENESIS.to_string();
    let mut line = Vec::new();
    let mut n: u64 = 0;
    loop {
        line.clear();
        let read = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| VerifyError {
                line: n + 1,
                kind: VerifyErrorKind::Io(e),
            })?;
        if read == 0 {
            return Ok(VerifyReport {
                records: n,
                head: expected,
            });
        }
        n += 1;
        let fail = |kind| VerifyError { line: n, kind };
        let body = match line.strip_suffix(b"\n") {
            Some(body) => body,
            None => {
                // Check the torn line's own content first: a broken chain is the more telling
                // error when both apply.
                check_line(&line, &expected).map_err(fail)?;
                return Err(fail(VerifyErrorKind::MissingNewline));
            }
        };
        check_line(body, &expected).map_err(fail)?;
        expected = line_hash(body);
    }
}

/// Checks that `body` is a record whose `prev` equals `expected`.
fn check_line(body: &[u8], expected: &str) -> Result<(), VerifyErrorKind> {
    let prev = parse_prev(body)?;
    if prev != expected {
        return Err(VerifyErrorKind::PrevMismatch {
            expected: expected.to_string(),
            found: prev,
        });
    }
    Ok(())
}

/// The `prev` of one line, validated as 64 lowercase hex digits.
pub(super) fn parse_prev(body: &[u8]) -> Result<String, VerifyErrorKind> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| VerifyErrorKind::NotJson(e.to_string()))?;
    let Value::Object(map) = value else {
        return Err(VerifyErrorKind::NotJson("not an object".into()));
    };
    match map.get("prev") {
        Some(Value::String(p))
            if p.len() == 64 && p.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) =>
        {
            Ok(p.clone())
        }
        _ => Err(VerifyErrorKind::MissingPrev),
    }
}
