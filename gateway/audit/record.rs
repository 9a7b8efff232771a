//! What one audit line says.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sovgate_core::types::{Class, DestinationKind};
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::OffsetDateTime;

/// Why a record was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditEvent {
    /// Written before anything is forwarded: what was found, what was decided, where it goes.
    Decision,
    /// Written when the response has finished (or failed): status and byte counts.
    Complete,
}

/// One rule that fired: which rule, where in the body, how often, and what it did.
///
/// Deliberately no field for the matched text: the audit trail must never hold the secret it
/// documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFinding {
    pub rule: String,
    /// JSON path of the value the rule fired on, e.g. `$.messages[2].content`.
    pub path: String,
    pub count: u32,
    /// What the rule did (`drop`, `redact`, `pseudonymize`, `block`, `tag`).
    pub action: String,
    /// `enforce`, or `monitor` when the action was only reported.
    pub mode: String,
}

/// Where the request went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditDestination {
    pub kind: DestinationKind,
    /// Pool or provider name from the config.
    pub name: String,
    /// The endpoint actually used, e.g. `http://10.0.0.7:8000`.
    pub endpoint: String,
}

/// One line of the audit log.
///
/// Callers fill the fields; the log adds `prev` (the chain link) when it appends, so the value
/// of [`AuditRecord::prev`] is ignored on write and filled in when a line is read back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// RFC 3339 UTC with milliseconds, e.g. `2025-01-31T09:15:02.123Z`.
    pub time: String,
    pub request_id: String,
    pub event: AuditEvent,
    #[serde(default)]
    pub tenant: String,
    /// The client's address (`ip:port`).
    #[serde(default)]
    pub client: String,
    /// Which listener accepted the request: `reverse`, `forward`, `transparent`.
    #[serde(default)]
    pub listener: String,
    /// The provider API, e.g. `openai.chat`, `anthropic.messages`.
    #[serde(default)]
    pub api: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default)]
    pub findings: Vec<AuditFinding>,
    #[serde(default)]
    pub classification: Class,
    /// What the gateway did: `forward`, `transform`, `block`, `refuse`.
    #[serde(default)]
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<AuditDestination>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_in: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_out: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Fields added by later features (residency decisions, restoration counts, ...). A key that
    /// collides with a named field or `prev` is refused by [`AuditLog::append`](super::AuditLog::append).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
    /// Hex SHA-256 of the previous line; written by the log, never by callers.
    #[serde(default, skip_serializing)]
    pub prev: String,
}

/// Names `extra` must not use: they would duplicate a key on the line.
pub(super) const RESERVED: &[&str] = &[
    "time",
    "request_id",
    "event",
    "tenant",
    "client",
    "listener",
    "api",
    "model",
    "findings",
    "classification",
    "action",
    "destination",
    "status",
    "bytes_in",
    "bytes_out",
    "reason",
    "prev",
];

impl AuditRecord {
    /// A record stamped with the current time; every other field empty.
    pub fn new(event: AuditEvent, request_id: impl Into<String>) -> AuditRecord {
        AuditRecord {
            time: now_rfc3339(),
            request_id: request_id.into(),
            event,
            tenant: String::new(),
            client: String::new(),
            listener: String::new(),
            api: String::new(),
            model: None,
            findings: Vec::new(),
            classification: Class::default(),
            action: String::new(),
            destination: None,
            status: None,
            bytes_in: None,
            bytes_out: None,
            reason: None,
            extra: Map::new(),
            prev: String::new(),
        }
    }

    /// The `complete` record that closes this decision: same request, tenant, route and findings
    /// (so a reader of either line sees the whole story), a fresh time, the final status and sizes.
    pub fn complete(&self, status: u16, bytes_in: u64, bytes_out: u64) -> AuditRecord {
        AuditRecord {
            time: now_rfc3339(),
            event: AuditEvent::Complete,
            status: Some(status),
            bytes_in: Some(bytes_in),
            bytes_out: Some(bytes_out),
            prev: String::new(),
            ..self.clone()
        }
    }
}

const TIME_FORMAT: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// The current time as the log writes it: RFC 3339, UTC, milliseconds.
pub fn now_rfc3339() -> String {
    format_time(OffsetDateTime::now_utc())
}

pub(super) fn format_time(t: OffsetDateTime) -> String {
    // Formatting only fails for years outside 0..=9999, which a clock does not produce; the
    // fallback keeps the record writable rather than losing it.
    t.format(TIME_FORMAT)
        .unwrap_or_else(|_| format!("@{}", t.unix_timestamp()))
}
