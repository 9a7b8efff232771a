//! The transparent listener: DNS sends the client to Sovgate; SNI picks the minted certificate.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sni_picks_the_certificate_and_the_pipeline_runs() {
    let t = Icpt::start("").await;
    let port = t.h.gw.transparent.unwrap().port();
    let resolve = format!("api.openai.com:{port}:127.0.0.1");
    let url = format!("https://api.openai.com:{port}/v1/chat/completions");
    let ca = t.ca_file.display().to_string();
    let body = chat("hello by DNS");
    let (code, answer, tail, err) =
        curl_post(&["--resolve", &resolve, "--cacert", &ca], &body, &url).await;
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        tail, "200 2",
        "ALPN h2 offered by curl and accepted: {answer}"
    );
    assert!(answer.contains("[external] hello by DNS"), "{answer}");
    let got = t.h.external.requests();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body, body.as_bytes());
    assert_eq!(
        auth_headers(&got[0]),
        vec![format!("Bearer {PROVIDER_KEY}")]
    );
    let rec =
        t.h.audit_lines()
            .into_iter()
            .find(|l| l["event"] == "decision")
            .unwrap();
    assert_eq!(rec["listener"], "transparent");

    // A privileged one over the same listener stays local.
    let body = privileged_chat();
    let (code, _, tail, err) =
        curl_post(&["--resolve", &resolve, "--cacert", &ca], &body, &url).await;
    assert_eq!((code, tail.as_str()), (Some(0), "200 2"), "{err}");
    assert_eq!(
        t.h.external.calls(),
        1,
        "privileged request reached the provider"
    );
    assert!(!t.h.local.requests()[0].body_str().contains("laches"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_sni_and_pinning_clients_fail_the_handshake_and_are_counted() {
    let t = Icpt::start("").await;
    let port = t.h.gw.transparent.unwrap().port();
    let ca = t.ca_file.display().to_string();
    let resolve = format!("example.com:{port}:127.0.0.1");
    let url = format!("https://example.com:{port}/");
    let (code, _, _, err) = curl(&["--resolve", &resolve, "--cacert", &ca, &url]).await;
    assert_eq!(code, Some(35), "refused in the handshake: {err}");
    let failures = |host: &str, outcome: &str| {
        t.metric(
            sovgate::intercept::HANDSHAKE_FAILURES,
            &[
                ("listener", "transparent"),
                ("client", "127.0.0.1"),
                ("host", host),
                ("outcome", outcome),
            ],
        )
    };
    assert_eq!(failures("example.com", "unknown_sni"), 1.0);
    // A client that does not trust the company CA (or pins the provider's own certificate)
    // rejects the minted leaf: counted per client address and host.
    let other = sovgate::intercept::ca::generate(
        "Some other CA",
        sovgate::intercept::ca::KeyAlgorithm::EcdsaP256,
        1,
    )
    .unwrap();
    let other_file = t.pki.path().join("other.pem");
    std::fs::write(&other_file, &other.cert_pem).unwrap();
    let resolve = format!("api.openai.com:{port}:127.0.0.1");
    let url = format!("https://api.openai.com:{port}/v1/models");
    let other_file = other_file.display().to_string();
    let (code, _, _, err) = curl(&["--resolve", &resolve, "--cacert", &other_file, &url]).await;
    assert_eq!(code, Some(60), "certificate rejected by the client: {err}");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(failures("api.openai.com", "failed"), 1.0);
    assert_eq!(t.h.external.calls() + t.h.local.calls(), 0);
}
