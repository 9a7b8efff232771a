//! The official `openai` SDK behind `HTTPS_PROXY` with the company CA in `SSL_CERT_FILE`,
//! streaming and not (`tests/python/openai_proxy.py`).

use super::*;
use crate::sdk::{python, repo, run, VENV_HINT};
use serde_json::Value;

async fn sdk_via_proxy(t: &Icpt, scenario: &str) -> Value {
    let dir = repo().join("tests/python");
    let mut cmd = std::process::Command::new(python());
    cmd.arg(dir.join("openai_proxy.py"))
        .arg(scenario)
        .current_dir(&dir);
    cmd.env_clear()
        .env("SOVGATE_URL", "https://api.openai.com")
        .env("HTTPS_PROXY", t.proxy_url())
        .env("SSL_CERT_FILE", &t.ca_file)
        .env("HOME", t.pki.path())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONIOENCODING", "utf-8");
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    let ran = run(cmd, VENV_HINT).await;
    assert_eq!(
        ran.code,
        Some(0),
        "stderr:\n{}\nstdout:\n{}",
        ran.stderr,
        ran.stdout
    );
    serde_json::from_str(ran.stdout.lines().last().unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_sdk_with_https_proxy_benign_reaches_the_provider_unchanged() {
    let t = Icpt::start("").await;
    let out = sdk_via_proxy(&t, "benign").await;
    assert_eq!(t.h.local.calls(), 0);
    let got = t.h.external.requests();
    let sent: Vec<Vec<u8>> = out["sent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| hex::decode(b.as_str().unwrap()).unwrap())
        .collect();
    assert_eq!((got.len(), sent.len()), (2, 2), "one plain, one streamed");
    for (g, s) in got.iter().zip(&sent) {
        assert_eq!(g.path, "/v1/chat/completions");
        assert!(g.body == s[..], "body changed in transit: {}", g.body_str());
        assert_eq!(auth_headers(g), vec![format!("Bearer {PROVIDER_KEY}")]);
    }
    let echo = format!("[external] {}", out["prompt"].as_str().unwrap());
    assert_eq!(out["plain"]["content"], echo.as_str());
    assert_eq!(
        out["stream"]["content"],
        echo.as_str(),
        "chunks joined by the SDK"
    );
    let forward_ok = t.metric(
        sovgate::intercept::HANDSHAKES,
        &[("listener", "forward"), ("outcome", "ok")],
    );
    assert!(forward_ok >= 1.0, "the SDK went through the proxy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_sdk_with_https_proxy_privileged_stays_local() {
    let t = Icpt::start("").await;
    let out = sdk_via_proxy(&t, "privileged").await;
    assert_eq!(
        t.h.external.calls(),
        0,
        "privileged request reached the provider"
    );
    let got = t.h.local.requests();
    assert_eq!(got.len(), 2);
    for r in &got {
        let body = r.body_str();
        assert!(
            !body.contains("legal_case_strategy__c") && !body.contains("laches"),
            "{body}"
        );
        assert!(body.contains("Supplier dispute"), "{body}");
    }
    for answer in [&out["plain"]["content"], &out["stream"]["content"]] {
        let a = answer.as_str().unwrap();
        assert!(a.starts_with("[local] ") && !a.contains("laches"), "{a}");
    }
}
