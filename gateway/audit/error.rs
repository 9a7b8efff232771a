//! Errors of the audit log and of chain verification.

use std::path::PathBuf;

/// Why the log could not be opened or a record could not be written.
///
/// Any of these on a `decision` record means the request must not be forwarded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    #[error("audit log {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The existing file ends in a line the chain cannot continue from.
    #[error(
        "audit log {path}: the last line is not a valid audit record ({reason}); \
         the chain cannot be continued. Run `sovgate audit verify` on it, then move it aside \
         so a new log starts"
    )]
    CorruptTail { path: PathBuf, reason: String },
    #[error("audit record could not be serialized: {0}")]
    Serialize(#[from] serde_json::Error),
    /// A key in `extra` would duplicate a named field (or `prev`) on the line.
    #[error("audit record: extra field `{0}` collides with a reserved field; rename it")]
    ReservedField(String),
    /// A writer panicked while holding the log; what it wrote is unknown.
    #[error("audit log lock poisoned by a panicked writer; restart the gateway")]
    Poisoned,
    /// An earlier write failed part-way, so the file may end in a torn line; appending after it
    /// would hide the damage.
    #[error("audit log {path}: an earlier write failed ({reason}); refusing further records")]
    Broken { path: PathBuf, reason: String },
}

impl AuditError {
    /// Whether the file on disk is damaged (as opposed to a bad record or a transient error).
    pub fn is_corrupt(&self) -> bool {
        matches!(
            self,
            AuditError::CorruptTail { .. } | AuditError::Broken { .. }
        )
    }
}

/// The first place the chain breaks.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: {kind}")]
pub struct VerifyError {
    /// 1-based line number of the first broken record.
    pub line: u64,
    pub kind: VerifyErrorKind,
}

/// How a line breaks the chain.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyErrorKind {
    #[error("not a JSON object: {0}")]
    NotJson(String),
    #[error("no `prev` field (or not a 64-digit hex string)")]
    MissingPrev,
    /// The line's `prev` does not hash the line before: that line was edited, or lines were
    /// inserted or deleted between them.
    #[error("`prev` is {found} but the previous line hashes to {expected}: a record was changed, inserted or deleted")]
    PrevMismatch { expected: String, found: String },
    /// The file ends without a newline: the last write was torn.
    #[error("the last line has no newline: a write was interrupted")]
    MissingNewline,
    #[error("read failed: {0}")]
    Io(#[from] std::io::Error),
}
