//! The audit log: one hash-chained JSON line per gateway decision.
//!
//! Compliance reads this file to answer "who sent what kind of content where, and which rules saw
//! it". Two properties matter more than anything else:
//!
//! - **It never holds a secret.** An [`AuditRecord`] names rule ids, JSON paths and counts; there
//!   is no field that could carry matched text, so no caller can put a secret there by mistake.
//! - **Tampering shows.** Every line carries `prev`, the hex SHA-256 of the previous line's bytes
//!   (without its newline; the first line uses 64 zeros). Editing, inserting or deleting a line
//!   breaks the chain at the next line, and [`verify_file`] names the first broken line. Cutting
//!   records off the *end* cannot be seen from the file alone: compare [`VerifyReport::head`]
//!   with a copy kept elsewhere (a log shipper, a periodic checkpoint) for that.
//!
//! The gateway writes a `decision` record before it forwards anything and refuses to forward when
//! that write fails (fail closed), then a `complete` record when the response has finished.
//!
//! ```
//! use sovgate::audit::{AuditEvent, AuditLog, AuditRecord, verify_reader};
//!
//! let log = AuditLog::memory();
//! let mut rec = AuditRecord::new(AuditEvent::Decision, "req-1");
//! rec.action = "forward".into();
//! log.append(&rec).unwrap();
//! log.append(&rec.complete(200, 512, 2048)).unwrap();
//!
//! let text = log.lines().join("\n") + "\n";
//! assert_eq!(verify_reader(text.as_bytes()).unwrap().records, 2);
//! ```
//!
//! One process owns one log file: the chain head lives in memory, so two gateways appending to the
//! same file would break each other's chain (and `verify` would say so).

mod error;
mod log;
mod record;
mod verify;

#[cfg(test)]
mod tests;

pub use error::{AuditError, VerifyError, VerifyErrorKind};
pub use log::AuditLog;
pub use record::{now_rfc3339, AuditDestination, AuditEvent, AuditFinding, AuditRecord};
pub use verify::{verify_file, verify_reader, VerifyReport};

/// The `prev` of the first record in a log.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The chain hash of one line: hex SHA-256 of its bytes without the trailing newline.
pub fn line_hash(line: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(line))
}
