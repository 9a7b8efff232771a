//! The official SDKs and curl against the gateway, exactly as a customer points them at it.
//!
//! Each test starts a [`Harness`], runs one script from `tests/python/` with the `openai` or
//! `anthropic` SDK aimed at the gateway (`SOVGATE_URL`), and reads the JSON the script printed:
//! what the SDK returned or raised, and the exact bytes the SDK put on the wire. The scripts
//! assert SDK-level facts (exception classes, statuses, messages, clean stream ends); this file
//! asserts what the recording stubs behind the gateway received, which no client can see.
//!
//! Python comes from `SOVGATE_PYTHON`, else `.venv/bin/python` in the repository; `.ci/run`
//! creates that virtual environment. Without it these tests fail and say how to create it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::*;
use serde_json::Value;
use sovgate::stub::RecordedRequest;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A script hung on a socket must not hang the test run.
const LIMIT: Duration = Duration::from_secs(60);

const VENV_HINT: &str = "the SDK tests need a Python with the openai and anthropic SDKs \
installed: run `.ci/run` once, or `python3 -m venv .venv && .venv/bin/pip install -r \
tests/python/requirements.txt` in the repository root (or set SOVGATE_PYTHON to such a python)";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("SOVGATE_PYTHON") {
        return p.into();
    }
    let venv = repo().join(".venv/bin/python");
    assert!(venv.exists(), "{} is missing; {VENV_HINT}", venv.display());
    venv
}

/// What a child process left behind.
struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn drain(mut from: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = from.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// Runs `cmd` to completion on a blocking thread (the gateway it talks to lives on this
/// runtime), killing it after [`LIMIT`]. `hint` says what to do when it cannot start.
async fn run(mut cmd: Command, hint: &'static str) -> Ran {
    let what = format!("{:?}", cmd.get_program());
    tokio::task::spawn_blocking(move || {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what}: {e}; {hint}"));
        let out = drain(child.stdout.take().unwrap());
        let err = drain(child.stderr.take().unwrap());
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > LIMIT {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "{what} ran past {LIMIT:?} and was killed\nstderr:\n{}",
                    err.join().unwrap()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Ran {
            code: status.code(),
            stdout: out.join().unwrap(),
            stderr: err.join().unwrap(),
        }
    })
    .await
    .unwrap()
}

/// Runs `tests/python/<script> <args>` against the harness's gateway and returns the JSON object
/// it printed last.
pub(crate) async fn sdk(h: &Harness, script: &str, args: &[&str]) -> Value {
    let dir = repo().join("tests/python");
    let mut cmd = Command::new(python());
    cmd.arg(dir.join(script)).args(args).current_dir(&dir);
    // Nothing from the developer's environment may steer the SDKs: no proxy variables, no
    // OPENAI_*/ANTHROPIC_* base URLs, keys or headers, no profile under a real home.
    cmd.env_clear()
        .env("SOVGATE_URL", h.url())
        .env("HOME", h.dir.path())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONIOENCODING", "utf-8");
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    let ran = run(cmd, VENV_HINT).await;
    if ran.code == Some(3) && ran.stderr.contains("SOVGATE_SDK_MISSING") {
        panic!("{}\n{VENV_HINT}", ran.stderr.trim());
    }
    assert_eq!(
        ran.code,
        Some(0),
        "{script} {args:?} failed\nstderr:\n{}\nstdout:\n{}",
        ran.stderr,
        ran.stdout
    );
    let last = ran.stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("{script} printed no JSON ({e}):\n{}", ran.stdout))
}

/// The request bodies exactly as the SDK sent them (the scripts record them with an httpx hook).
fn sent(out: &Value) -> Vec<Vec<u8>> {
    out["sent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| hex::decode(b.as_str().unwrap()).unwrap())
        .collect()
}

fn text<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string at {pointer} in {v}"))
}

fn bodies(reqs: &[RecordedRequest]) -> Vec<String> {
    reqs.iter().map(|r| r.body_str().into_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_chat_benign_reaches_external_byte_identical() {
    let h = Harness::start().await;
    let out = sdk(&h, "openai_chat.py", &["benign"]).await;
    assert_eq!(h.local.calls(), 0, "benign chat went to the local pool");
    let got = h.external.requests();
    let sent = sent(&out);
    assert_eq!((got.len(), sent.len()), (2, 2), "one plain, one streamed");
    for (g, s) in got.iter().zip(&sent) {
        assert_eq!(g.path, "/v1/chat/completions");
        assert!(
            g.body == s[..],
            "body changed in transit:\n{}",
            g.body_str()
        );
    }
    assert_eq!(got[1].json().unwrap()["stream"], true);
    let echo = format!("[external] {}", text(&out, "/prompt"));
    assert_eq!(text(&out, "/plain/content"), echo);
    assert_eq!(
        text(&out, "/stream/content"),
        echo,
        "chunks joined by the SDK"
    );
    assert_eq!(text(&out, "/plain/model"), "gpt-4o");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_chat_privileged_record_goes_local_without_the_field() {
    let h = Harness::start().await;
    let out = sdk(&h, "openai_chat.py", &["privileged"]).await;
    assert_eq!(
        h.external.calls(),
        0,
        "privileged request reached the external provider"
    );
    let got = h.local.requests();
    assert_eq!(got.len(), 2, "one plain, one streamed");
    for (r, body) in got.iter().zip(bodies(&got)) {
        assert_eq!(r.path, "/v1/chat/completions");
        assert!(
            !body.contains("legal_case_strategy__c") && !body.contains("laches"),
            "{body}"
        );
        assert!(
            body.contains("Supplier dispute"),
            "rest of the record: {body}"
        );
        assert_eq!(r.json().unwrap()["model"], "llama-3.1-70b-instruct");
    }
    assert_eq!(got[1].json().unwrap()["stream"], true);
    for answer in [text(&out, "/plain/content"), text(&out, "/stream/content")] {
        assert!(answer.starts_with("[local] "), "{answer}");
        assert!(
            answer.contains("Supplier dispute") && !answer.contains("laches"),
            "{answer}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_chat_email_stays_local_pseudonymized() {
    let h = Harness::start().await;
    let out = sdk(&h, "openai_chat.py", &["email"]).await;
    assert_eq!(h.external.calls(), 0, "confidential request went external");
    let got = h.local.requests();
    assert_eq!(got.len(), 2);
    for body in bodies(&got) {
        assert!(body.contains("⟦EMAIL_1⟧"), "{body}");
        assert!(!body.contains("jane.doe@example.com"), "{body}");
    }
    // The model only saw the placeholder; the SDK user reads the real address, streamed or not.
    for answer in [text(&out, "/plain/content"), text(&out, "/stream/content")] {
        assert_eq!(
            answer,
            "[local] Draft a reply to jane.doe@example.com about the renewal."
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_refusals_raise_the_sdks_typed_errors() {
    let h = Harness::start().await;
    let out = sdk(&h, "openai_refusals.py", &[]).await;
    assert_eq!(out["blocked"]["status"], 403);
    assert!(
        text(&out, "/blocked/message").contains("nothing was sent to any model"),
        "{out}"
    );
    assert_eq!(out["invalid"]["status"], 400);
    assert_eq!(out["too_large"]["status"], 413);
    assert_eq!(
        h.external.calls() + h.local.calls(),
        0,
        "a refused request reached a model"
    );
    let refusals = h
        .audit_lines()
        .iter()
        .filter(|l| l["action"] == "refuse")
        .count();
    assert_eq!(refusals, 3, "every refusal is audited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anthropic_messages_benign_reach_external_byte_identical() {
    let h = Harness::start().await;
    let out = sdk(&h, "anthropic_messages.py", &["benign"]).await;
    assert_eq!(h.local.calls(), 0);
    let got = h.external.requests();
    let sent = sent(&out);
    assert_eq!((got.len(), sent.len()), (2, 2), "one plain, one streamed");
    for (g, s) in got.iter().zip(&sent) {
        assert_eq!(g.path, "/v1/messages");
        assert!(
            g.body == s[..],
            "body changed in transit:\n{}",
            g.body_str()
        );
    }
    let echo = format!("[external] {}", text(&out, "/prompt"));
    assert_eq!(text(&out, "/plain/content"), echo);
    assert_eq!(text(&out, "/stream/content"), echo, "text_stream joined");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anthropic_privileged_goes_to_the_local_anthropic_pool() {
    let h = Harness::start().await;
    let out = sdk(&h, "anthropic_messages.py", &["privileged"]).await;
    assert_eq!(
        h.external.calls(),
        0,
        "privileged request reached the external provider"
    );
    let got = h.local.requests();
    assert_eq!(got.len(), 2, "one plain, one streamed");
    for r in &got {
        assert_eq!(r.path, "/v1/messages", "the pool speaks Anthropic natively");
        assert_eq!(r.json().unwrap()["model"], "local-claude");
    }
    assert_eq!(got[1].json().unwrap()["stream"], true);
    let echo = format!("[local] {}", text(&out, "/prompt"));
    assert_eq!(text(&out, "/plain/content"), echo);
    assert_eq!(text(&out, "/stream/content"), echo);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anthropic_refusal_is_a_permission_error() {
    let h = Harness::start().await;
    let out = sdk(&h, "anthropic_messages.py", &["refusal"]).await;
    assert_eq!(out["refusal"]["status"], 403);
    assert_eq!(sent(&out).len(), 1, "the SDK did not retry a refusal");
    assert_eq!(h.external.calls() + h.local.calls(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_embeddings_and_responses_benign_go_external() {
    let h = Harness::start().await;
    let out = sdk(&h, "openai_apis.py", &["benign"]).await;
    assert_eq!(h.local.calls(), 0);
    let got = h.external.requests();
    let sent = sent(&out);
    assert_eq!((got.len(), sent.len()), (2, 2));
    assert_eq!(got[0].path, "/v1/embeddings");
    assert_eq!(got[1].path, "/v1/responses");
    for (g, s) in got.iter().zip(&sent) {
        assert!(
            g.body == s[..],
            "body changed in transit:\n{}",
            g.body_str()
        );
    }
    assert_eq!(out["embeddings"], 2);
    let echo = format!("[external] {}", text(&out, "/input"));
    assert_eq!(text(&out, "/responses/text"), echo);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_responses_with_an_ssn_go_local_redacted() {
    let h = Harness::start().await;
    let out = sdk(&h, "openai_apis.py", &["ssn"]).await;
    assert_eq!(h.external.calls(), 0, "confidential request went external");
    let got = h.local.requests();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].path, "/v1/responses");
    let body = got[0].body_str();
    assert!(!body.contains("123-45-6789"), "{body}");
    assert!(body.contains("Update the payroll record"), "{body}");
    assert_eq!(got[0].json().unwrap()["model"], "llama-3.1-70b-instruct");
    let answer = text(&out, "/responses/text");
    assert!(
        answer.starts_with("[local] ") && !answer.contains("123-45-6789"),
        "{answer}"
    );
}

/// POSTs the file at `body` with curl and returns (status, HTTP version, response body).
async fn curl(h: &Harness, path: &str, body: &Path, h2: bool) -> (u16, String, String) {
    let curl = Path::new("/usr/bin/curl");
    let curl = if curl.exists() {
        curl
    } else {
        Path::new("curl")
    };
    let mut cmd = Command::new(curl);
    cmd.args(["-sS", "--noproxy", "*", "-X", "POST"])
        .args(["-H", "content-type: application/json"])
        .arg("--data-binary")
        .arg(format!("@{}", body.display()))
        .args(["-w", "\n%{http_code} %{http_version}"]);
    if h2 {
        cmd.arg("--http2-prior-knowledge");
    }
    cmd.arg(format!("{}{path}", h.url()));
    let ran = run(
        cmd,
        "install curl (`apt-get install -y curl`; `.ci/run` does it)",
    )
    .await;
    assert_eq!(ran.code, Some(0), "curl failed: {}", ran.stderr);
    let (answer, tail) = ran.stdout.rsplit_once('\n').unwrap();
    let (status, version) = tail.split_once(' ').unwrap();
    (status.parse().unwrap(), version.into(), answer.into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_over_http1_and_http2() {
    let h = Harness::start().await;
    // Odd spacing and escapes that a re-serializing proxy would not keep.
    let benign = "{\"model\": \"gpt-4o\",  \"messages\": [{\"role\": \"user\", \"content\": \"plan \\u00e9t\\u00e9 Q3\"}]}\n";
    let benign_file = h.dir.path().join("benign.json");
    std::fs::write(&benign_file, benign).unwrap();
    let privileged = serde_json::json!({"model": "gpt-4o", "messages": [{"role": "user",
        "content": "{\"Subject\": \"Dispute\", \"legal_case_strategy__c\": \"argue laches\"}"}]})
    .to_string();
    let privileged_file = h.dir.path().join("privileged.json");
    std::fs::write(&privileged_file, &privileged).unwrap();

    for h2 in [false, true] {
        let (status, version, answer) = curl(&h, "/v1/chat/completions", &benign_file, h2).await;
        assert_eq!(status, 200, "h2={h2}: {answer}");
        assert_eq!(version, if h2 { "2" } else { "1.1" });
        let v: Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(
            v["choices"][0]["message"]["content"],
            "[external] plan été Q3"
        );
    }
    let got = h.external.requests();
    assert_eq!(got.len(), 2);
    for g in &got {
        assert_eq!(g.body, benign.as_bytes(), "body changed in transit");
    }

    let (status, _, answer) = curl(&h, "/v1/chat/completions", &privileged_file, false).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(h.external.calls(), 2, "privileged request went external");
    let local = h.local.requests();
    assert_eq!(local.len(), 1);
    let body = local[0].body_str();
    assert!(
        !body.contains("legal_case_strategy__c") && !body.contains("laches"),
        "{body}"
    );
}
