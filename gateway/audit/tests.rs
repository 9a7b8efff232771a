#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use serde_json::Value;
use sovgate_core::types::{Class, DestinationKind};
use std::sync::Arc;

fn record(id: &str) -> AuditRecord {
    let mut rec = AuditRecord::new(AuditEvent::Decision, id);
    rec.tenant = "legal-eu".into();
    rec.client = "10.1.2.3:55012".into();
    rec.listener = "reverse".into();
    rec.api = "openai.chat".into();
    rec.model = Some("gpt-4o".into());
    rec.classification = Class::Privileged;
    rec.action = "transform".into();
    rec.findings = vec![AuditFinding {
        rule: "pii.email".into(),
        path: "$.messages[1].content".into(),
        count: 2,
        action: "pseudonymize".into(),
        mode: "enforce".into(),
    }];
    rec.destination = Some(AuditDestination {
        kind: DestinationKind::Local,
        name: "gpu-fra".into(),
        endpoint: "http://127.0.0.1:8000".into(),
    });
    rec
}

/// A file log with `n` records, returned with its directory guard and path.
fn file_log(n: usize) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/audit.jsonl");
    let log = AuditLog::open(&path).unwrap();
    for i in 0..n {
        log.append(&record(&format!("req-{i}"))).unwrap();
    }
    (dir, path)
}

fn lines_of(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn verify_str(text: &str) -> Result<VerifyReport, VerifyError> {
    verify_reader(text.as_bytes())
}

#[test]
fn first_record_links_to_genesis_and_next_to_its_hash() {
    let log = AuditLog::memory();
    log.append(&record("a")).unwrap();
    log.append(&record("b")).unwrap();
    let lines = log.lines();
    let first: AuditRecord = serde_json::from_str(&lines[0]).unwrap();
    let second: AuditRecord = serde_json::from_str(&lines[1]).unwrap();
    assert_eq!(first.prev, GENESIS);
    assert_eq!(second.prev, line_hash(lines[0].as_bytes()));
    assert_eq!(log.head().unwrap(), line_hash(lines[1].as_bytes()));
}

#[test]
fn chain_continues_across_reopen() {
    let (_dir, path) = file_log(2);
    let log = AuditLog::open(&path).unwrap();
    log.append(&record("after-reopen")).unwrap();
    drop(log);
    let lines = lines_of(&path);
    assert_eq!(lines.len(), 3);
    let third: AuditRecord = serde_json::from_str(&lines[2]).unwrap();
    assert_eq!(third.prev, line_hash(lines[1].as_bytes()));
    let report = verify_file(&path).unwrap();
    assert_eq!(report.records, 3);
    assert_eq!(report.head, line_hash(lines[2].as_bytes()));
}

#[test]
fn reopen_reads_a_last_line_longer_than_one_tail_block() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let log = AuditLog::open(&path).unwrap();
    log.append(&record("short")).unwrap();
    let mut long = record("long");
    long.reason = Some("x".repeat(20_000));
    log.append(&long).unwrap();
    drop(log);
    AuditLog::open(&path)
        .unwrap()
        .append(&record("next"))
        .unwrap();
    assert_eq!(verify_file(&path).unwrap().records, 3);
}

#[test]
fn empty_file_starts_at_genesis() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    std::fs::write(&path, "").unwrap();
    let log = AuditLog::open(&path).unwrap();
    assert_eq!(log.head().unwrap(), GENESIS);
    log.append(&record("a")).unwrap();
    assert_eq!(verify_file(&path).unwrap().records, 1);
}

#[test]
fn open_refuses_a_corrupt_or_torn_last_line() {
    let (_dir, path) = file_log(2);
    let good = std::fs::read_to_string(&path).unwrap();
    for bad_tail in ["{\"time\":\"x\"", "not json\n", "{\"no_prev\":1}\n", "\n"] {
        std::fs::write(&path, format!("{good}{bad_tail}")).unwrap();
        let err = AuditLog::open(&path).unwrap_err();
        assert!(
            matches!(err, AuditError::CorruptTail { .. }),
            "{bad_tail:?}: {err}"
        );
        assert!(err.is_corrupt());
        assert!(err.to_string().contains("audit verify"), "{err}");
    }
}

#[test]
fn tampering_with_any_byte_of_a_middle_line_is_detected() {
    let (_dir, path) = file_log(5);
    let lines = lines_of(&path);
    let target = 2; // third line, 1-based line 3
    for i in 0..lines[target].len() {
        let mut bytes = lines[target].clone().into_bytes();
        bytes[i] = if bytes[i] == b'7' { b'8' } else { b'7' };
        let mut tampered = lines.clone();
        tampered[target] = String::from_utf8(bytes).unwrap();
        let err = verify_str(&(tampered.join("\n") + "\n")).unwrap_err();
        match err.line {
            3 => {}
            4 => assert!(
                matches!(err.kind, VerifyErrorKind::PrevMismatch { .. }),
                "{err}"
            ),
            other => panic!("byte {i}: broken line reported as {other}: {err}"),
        }
    }
}

#[test]
fn deleting_or_inserting_a_line_is_detected() {
    let (_dir, path) = file_log(5);
    let lines = lines_of(&path);

    let mut deleted = lines.clone();
    deleted.remove(1);
    let err = verify_str(&(deleted.join("\n") + "\n")).unwrap_err();
    assert_eq!(err.line, 2);
    assert!(matches!(err.kind, VerifyErrorKind::PrevMismatch { .. }));

    let mut duplicated = lines.clone();
    duplicated.insert(3, lines[2].clone());
    let err = verify_str(&(duplicated.join("\n") + "\n")).unwrap_err();
    assert_eq!(err.line, 4);
}

#[test]
fn verify_reports_a_missing_newline_and_a_missing_prev() {
    let log = AuditLog::memory();
    log.append(&record("a")).unwrap();
    log.append(&record("b")).unwrap();
    let text = log.lines().join("\n");
    let err = verify_str(&text).unwrap_err();
    assert_eq!(err.line, 2);
    assert!(matches!(err.kind, VerifyErrorKind::MissingNewline));

    let err = verify_str("{\"time\":\"t\"}\n").unwrap_err();
    assert_eq!(err.line, 1);
    assert!(matches!(err.kind, VerifyErrorKind::MissingPrev));
    assert_eq!(verify_str("").unwrap().records, 0);
}

#[test]
fn a_finding_serializes_to_rule_path_count_action_mode_only() {
    // The matched text exists only in the caller's hands: there is nowhere to put it.
    let secret = "jane.doe@example.com";
    let rec = record("r");
    let log = AuditLog::memory();
    log.append(&rec).unwrap();
    let line = &log.lines()[0];
    assert!(!line.contains(secret));
    let value: Value = serde_json::from_str(line).unwrap();
    let finding = value["findings"][0].as_object().unwrap();
    let mut keys: Vec<&str> = finding.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["action", "count", "mode", "path", "rule"]);
    assert_eq!(finding["count"], 2);
}

#[test]
fn optional_fields_are_omitted_and_extra_is_flattened() {
    let mut rec = AuditRecord::new(AuditEvent::Decision, "r");
    rec.extra
        .insert("residency".into(), Value::String("EU".into()));
    let log = AuditLog::memory();
    log.append(&rec).unwrap();
    let value: Value = serde_json::from_str(&log.lines()[0]).unwrap();
    let obj = value.as_object().unwrap();
    for absent in [
        "model",
        "destination",
        "status",
        "bytes_in",
        "bytes_out",
        "reason",
    ] {
        assert!(!obj.contains_key(absent), "{absent} should be omitted");
    }
    assert_eq!(obj["residency"], "EU");
    assert_eq!(obj["event"], "decision");
    assert_eq!(obj["classification"], "public");

    let back: AuditRecord = serde_json::from_str(&log.lines()[0]).unwrap();
    assert_eq!(
        back.extra.get("residency"),
        Some(&Value::String("EU".into()))
    );
    assert!(!back.extra.contains_key("prev"));
}

#[test]
fn extra_may_not_shadow_a_named_field() {
    let log = AuditLog::memory();
    for key in ["prev", "status", "findings"] {
        let mut rec = record("r");
        rec.extra.insert(key.into(), Value::Null);
        let err = log.append(&rec).unwrap_err();
        assert!(matches!(err, AuditError::ReservedField(ref k) if k == key));
    }
    assert!(log.lines().is_empty());
}

#[test]
fn complete_record_carries_the_decision_and_the_outcome() {
    let decision = record("req-9");
    let done = decision.complete(200, 100, 2000);
    assert_eq!(done.event, AuditEvent::Complete);
    assert_eq!(done.request_id, "req-9");
    assert_eq!(done.destination, decision.destination);
    assert_eq!(
        (done.status, done.bytes_in, done.bytes_out),
        (Some(200), Some(100), Some(2000))
    );
    let value = serde_json::to_value(&done).unwrap();
    assert_eq!(value["event"], "complete");
}

#[test]
fn time_is_rfc3339_utc_with_milliseconds() {
    let t = time::macros::datetime!(2025-01-31 09:15:02.1234 UTC);
    assert_eq!(record::format_time(t), "2025-01-31T09:15:02.123Z");
    let now = now_rfc3339();
    assert_eq!(now.len(), 24, "{now}");
    assert!(now.ends_with('Z') && now.as_bytes()[10] == b'T', "{now}");
}

#[test]
fn concurrent_appends_from_eight_threads_form_one_chain() {
    let (_dir, path) = file_log(0);
    let log = Arc::new(AuditLog::open(&path).unwrap());
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                for i in 0..50 {
                    log.append(&record(&format!("t{t}-{i}"))).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(verify_file(&path).unwrap().records, 400);
}

#[test]
fn log_is_shareable_across_tasks() {
    fn send_sync<T: Send + Sync + 'static>() {}
    send_sync::<AuditLog>();
    send_sync::<Arc<AuditLog>>();
}

#[test]
fn disabled_log_accepts_and_keeps_nothing() {
    let log = AuditLog::disabled();
    assert!(!log.is_enabled());
    log.append(&record("r")).unwrap();
    assert!(log.lines().is_empty());
    assert_eq!(log.head().unwrap(), GENESIS);
}

#[cfg(unix)]
#[test]
fn new_log_file_is_private_to_its_owner() {
    use std::os::unix::fs::PermissionsExt;
    let (_dir, path) = file_log(1);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}
