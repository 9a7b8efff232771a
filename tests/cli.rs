#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The command line, as a user runs it: real binary, real files, exit codes and messages.

use std::path::Path;
use std::process::{Command, Output};

pub(crate) fn sovgate(args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sovgate"));
    cmd.args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
    if stdin.is_some() {
        cmd.stdin(std::process::Stdio::piped());
    }
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    if let Some(s) = stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    child.wait_with_output().unwrap()
}

pub(crate) fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn shipped_rules_check_and_test_pass() {
    let o = sovgate(&["rules", "check", "rules"], None);
    assert!(o.status.success(), "{}", text(&o));
    let o = sovgate(&["rules", "test", "rules"], None);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains(" 0 failed"), "{}", text(&o));
    let o = sovgate(&["rules", "test"], None);
    assert!(o.status.success(), "embedded packs: {}", text(&o));
}

#[test]
fn broken_rules_name_every_error_with_position() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        "[[rule]]\nid = \"a.one\"\nkind = \"regex\"\npattern = \"(unclosed\"\naction = \"redact\"\nclass = \"confidential\"\n\n[[rule]]\nid = \"a.two\"\nkind = \"literal\"\npatterns = [\"x\"]\naction = \"explode\"\nclass = \"public\"\n",
    )
    .unwrap();
    let o = sovgate(&["rules", "check", dir.path().to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(1));
    let t = text(&o);
    assert!(t.contains("bad.toml:4:"), "regex error positioned: {t}");
    assert!(t.contains("bad.toml:12:"), "action error positioned: {t}");
}

#[test]
fn failing_examples_fail_rules_test() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("r.toml"),
        "[[rule]]\nid = \"t.word\"\nkind = \"literal\"\npatterns = [\"nightingale\"]\naction = \"tag\"\nclass = \"internal\"\nexamples.match = [\"no bird here\"]\nexamples.no_match = [\"a nightingale sings\"]\n",
    )
    .unwrap();
    let o = sovgate(&["rules", "test", dir.path().to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("t.word"), "{}", text(&o));
}

#[test]
fn scan_explains_what_would_happen() {
    let payload = r#"{"model":"gpt-4o","messages":[{"role":"user","content":"{\"Subject\":\"x\",\"legal_case_strategy__c\":\"settle\"}"},{"role":"user","content":"mail jane.doe@example.com"}]}"#;
    let o = sovgate(&["scan", "-"], Some(payload));
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["classification"], "privileged");
    assert_eq!(v["route"]["kind"], "local");
    let rules: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(
        rules
            .iter()
            .any(|r| r.contains("privileged") || r.contains("legal")),
        "{rules:?}"
    );
    let body = v["body"].to_string();
    assert!(
        !body.contains("legal_case_strategy__c") && !body.contains("jane.doe"),
        "{body}"
    );
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == "$.messages[0].content#json.legal_case_strategy__c"),
        "{}",
        v["findings"]
    );
}

#[test]
fn scan_shows_records_in_text_and_each_findings_extent() {
    let payload = r#"{"model":"gpt-4o","messages":[{"role":"user","content":"Summarize: Id,Legal_Case_Strategy__c\n1,settle low\n"}]}"#;
    let o = sovgate(&["scan", "-"], Some(payload));
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["classification"], "privileged");
    let f = &v["findings"][0];
    assert_eq!(
        f["path"],
        "$.messages[0].content#csv.Legal_Case_Strategy__c"
    );
    assert_eq!(f["extent"], "match");
    let body = v["body"].to_string();
    assert!(
        !body.contains("settle low") && !body.contains("Legal_Case"),
        "{body}"
    );
}

#[test]
fn audit_verify_detects_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let log = sovgate::audit::AuditLog::open(&path).unwrap();
    for i in 0..3 {
        let mut r = sovgate::audit::AuditRecord::new(
            sovgate::audit::AuditEvent::Decision,
            format!("req-{i}"),
        );
        r.action = "forward".into();
        log.append(&r).unwrap();
    }
    drop(log);
    let o = sovgate(&["audit", "verify", path.to_str().unwrap()], None);
    assert!(o.status.success(), "{}", text(&o));
    let original = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, original.replacen("forward", "refuse", 1)).unwrap();
    let o = sovgate(&["audit", "verify", path.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("line 2") || text(&o).contains("line 1"),
        "{}",
        text(&o)
    );
}

#[test]
fn config_errors_are_positioned() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("sovgate.toml");
    std::fs::write(
        &p,
        "[listen]\nreverse = \"127.0.0.1:8080\"\n\n[policy]\nprivileged = \"anywhere\"\n",
    )
    .unwrap();
    let o = sovgate(&["config", "check", p.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("sovgate.toml:5:14: error: unknown placement"),
        "{}",
        text(&o)
    );
    let o = sovgate(&["config", "default"], None);
    let default = Path::new(env!("CARGO_MANIFEST_DIR")).join("gateway/config/default.toml");
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        std::fs::read_to_string(default).unwrap()
    );
}

#[test]
fn keys_hash_matches_config_hashing() {
    let o = sovgate(&["keys", "hash", "sk-sovgate-legal"], None);
    let line = String::from_utf8_lossy(&o.stdout).trim().to_owned();
    assert_eq!(
        line,
        format!(
            "sha256:{}",
            hex::encode(sovgate::config::hash_key("sk-sovgate-legal"))
        )
    );
}

#[test]
fn demo_shows_the_whole_job() {
    let o = sovgate(&["demo", "--once"], None);
    assert!(o.status.success(), "{}", text(&o));
    let t = String::from_utf8_lossy(&o.stdout);
    assert_eq!(t.matches("transformed by Sovgate").count(), 2, "{t}");
    assert_eq!(t.matches("byte-identical").count(), 1, "{t}");
    // What the backend received never carries the privileged field or the SSN.
    for line in t.lines().filter(|l| l.contains("backend received")) {
        assert!(
            !line.contains("legal_case_strategy__c") && !line.contains("123-45-6789"),
            "{line}"
        );
    }
}
