//! `[egress]` policy on the forward listener: deny by default, tunnel on the allowlist, LLM
//! hosts never tunneled, proxy authentication, the client-address allowlist.

use super::*;
use serde_json::Value;

/// A TCP echo server: whatever arrives goes back.
async fn echo_server() -> SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let (mut r, mut w) = s.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    addr
}

fn last_egress(t: &Icpt) -> Value {
    t.h.audit_lines()
        .into_iter()
        .rfind(|l| l["api"] == "egress")
        .expect("an egress audit record")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_hosts_are_denied_and_audited() {
    let t = Icpt::start("").await;
    let (s, head) = connect(t.forward(), "example.com:443", "").await;
    assert!(head.starts_with("HTTP/1.1 403"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("x-sovgate-error: egress_denied"),
        "{head}"
    );
    let body = rest(s).await;
    assert!(body.contains("not an LLM API"), "{body}");
    let rec = last_egress(&t);
    assert_eq!(rec["action"], "refuse");
    assert_eq!(rec["status"], 403);
    assert_eq!(rec["host"], "example.com:443");
    assert!(rec["reason"].as_str().unwrap().starts_with("egress_denied"));
    assert_eq!(t.h.external.calls() + t.h.local.calls(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowlisted_hosts_are_tunneled_byte_for_byte() {
    let echo = echo_server().await;
    let t = Icpt::start(&format!(
        "\n[egress]\ntunnel = [\"127.0.0.1:{}\", \"*.openai.com\"]\n",
        echo.port()
    ))
    .await;
    let (mut s, head) = connect(t.forward(), &format!("127.0.0.1:{}", echo.port()), "").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    s.write_all(b"not even TLS \x00\xff").await.unwrap();
    let mut back = [0u8; 15];
    s.read_exact(&mut back).await.unwrap();
    assert_eq!(&back, b"not even TLS \x00\xff");
    let rec = last_egress(&t);
    assert_eq!(rec["action"], "tunnel");
    assert_eq!(rec["host"], format!("127.0.0.1:{}", echo.port()));
    // Another port of the same address is not on the list.
    let (_, head) = connect(t.forward(), "127.0.0.1:1", "").await;
    assert!(head.starts_with("HTTP/1.1 403"), "{head}");
    // An LLM host on the tunnel list is still intercepted: the gateway's own certificate answers.
    let tls = tunnel_tls(t.forward(), "api.openai.com", client_config(&t.ca_pem, &[]))
        .await
        .expect("intercepted with a minted certificate, not tunneled");
    let (status, _, _) = request(
        tls,
        "POST",
        "api.openai.com",
        "/v1/chat/completions",
        &chat("hi"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(t.h.external.calls(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_hosts_without_a_provider_are_intercepted_and_refused() {
    let t = Icpt::start("").await;
    let tls = tunnel_tls(t.forward(), "api.mistral.ai", client_config(&t.ca_pem, &[]))
        .await
        .unwrap();
    let (status, headers, body) = request(
        tls,
        "POST",
        "api.mistral.ai",
        "/v1/chat/completions",
        &chat("hi"),
    )
    .await;
    assert_eq!(status, 403, "{}", String::from_utf8_lossy(&body));
    assert_eq!(headers["x-sovgate-error"], "provider_not_configured");
    assert_eq!(t.h.external.calls() + t.h.local.calls(), 0);
    let rec = t.h.audit_lines().into_iter().last().unwrap();
    assert_eq!(rec["action"], "refuse");
    assert_eq!(rec["listener"], "forward");
}

const TENANTS: &str = r#"
[[tenants]]
name = "crm"
keys_file = "{PKI}/crm.keys"
"#;

fn pki_with_key(key: &str) -> tempfile::TempDir {
    let pki = tempfile::tempdir().unwrap();
    let hash = hex::encode(sovgate::config::hash_key(key));
    std::fs::write(pki.path().join("crm.keys"), format!("sha256:{hash}\n")).unwrap();
    pki
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_authentication_407_then_accepted() {
    let t = Icpt::start_in(pki_with_key("sk-sovgate-crm"), TENANTS).await;
    for extra in ["", "Proxy-Authorization: Basic Y3JtOndyb25n\r\n"] {
        let (_, head) = connect(t.forward(), "api.openai.com:443", extra).await;
        assert!(head.starts_with("HTTP/1.1 407"), "{extra}: {head}");
        assert!(
            head.to_ascii_lowercase()
                .contains("proxy-authenticate: basic realm=\"sovgate\""),
            "{head}"
        );
    }
    assert_eq!(
        t.metric(
            sovgate::intercept::EGRESS,
            &[("listener", "forward"), ("decision", "auth_required")]
        ),
        2.0
    );
    // curl with the key as the proxy password.
    let proxy = t.proxy_url();
    let ca = t.ca_file.display().to_string();
    let body = chat("hello from the crm");
    let args = [
        "-x",
        &proxy,
        "--proxy-user",
        "crm:sk-sovgate-crm",
        "--cacert",
        &ca,
    ];
    let url = "https://api.openai.com/v1/chat/completions";
    let (code, answer, tail, err) = curl_post(&args, &body, url).await;
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        tail, "200 2",
        "curl negotiates h2 inside the tunnel: {answer}"
    );
    let decision =
        t.h.audit_lines()
            .into_iter()
            .find(|l| l["event"] == "decision" && l["api"] == "openai.chat")
            .unwrap();
    assert_eq!(
        decision["tenant"], "crm",
        "the proxy credential names the tenant"
    );
    // Bearer works too.
    let (_, head) = connect(
        t.forward(),
        "api.openai.com:443",
        "Proxy-Authorization: Bearer sk-sovgate-crm\r\n",
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_outside_the_allowlist_are_refused() {
    let t = Icpt::start("\n[egress]\nclients = [\"10.0.0.0/8\"]\n").await;
    let (_, head) = connect(t.forward(), "api.openai.com:443", "").await;
    assert!(head.starts_with("HTTP/1.1 403"), "{head}");
    assert!(head.contains("client_not_allowed"), "{head}");
    assert_eq!(
        last_egress(&t)["reason"]
            .as_str()
            .unwrap()
            .split(':')
            .next(),
        Some("client_not_allowed")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusted_upstream_certificate_is_refused_and_audited_through_connect() {
    // The provider sits behind TLS with a certificate from a CA the gateway does not trust.
    let p = crate::tls::pki();
    let external = sovgate::stub::start(Default::default(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let front = crate::tls::tls_front(&p, external.addr()).await;
    let base = CONFIG.replacen(
        "upstream = \"{EXTERNAL}\"",
        &format!("upstream = \"https://localhost:{}\"", front.port()),
        1,
    );
    let t = Icpt::start_from(tempfile::tempdir().unwrap(), &base, "").await;
    let tls = tunnel_tls(t.forward(), "api.openai.com", client_config(&t.ca_pem, &[]))
        .await
        .unwrap();
    let (status, headers, body) = request(
        tls,
        "POST",
        "api.openai.com",
        "/v1/chat/completions",
        &chat("hello"),
    )
    .await;
    assert_eq!(status, 502, "{}", String::from_utf8_lossy(&body));
    assert_eq!(headers["x-sovgate-error"], "upstream_tls");
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert!(v["error"]["message"].is_string(), "OpenAI error shape: {v}");
    assert_eq!(
        external.calls(),
        0,
        "nothing crossed an unverified connection"
    );
    let rec = t.h.audit_lines().into_iter().last().unwrap();
    assert_eq!(rec["action"], "refuse");
    assert_eq!(rec["listener"], "forward");
    assert!(
        rec["reason"].as_str().unwrap().starts_with("upstream_tls"),
        "{rec}"
    );
}
