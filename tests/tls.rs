#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! TLS on both sides: the reverse listener serves TLS (h2 and http/1.1 by ALPN) when given a
//! certificate, and upstream certificates are always verified — a provider whose certificate does
//! not chain to a trusted root is a refusal, never an unverified forward.

use crate::support::*;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::sync::Arc;

pub(crate) struct Pki {
    pub(crate) ca_pem: String,
    pub(crate) leaf_pem: String,
    pub(crate) leaf_key: String,
}

pub(crate) fn pki() -> Pki {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Sovgate test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &ca, &ca_key)
        .unwrap();
    Pki {
        ca_pem: ca.pem(),
        leaf_pem: leaf.pem(),
        leaf_key: leaf_key.serialize_pem(),
    }
}

fn client_trusting(
    ca_pem: &str,
    h2: bool,
) -> Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    Full<Bytes>,
> {
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pemfile::certs(&mut ca_pem.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let b = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_only();
    let conn = if h2 {
        b.enable_http2().build()
    } else {
        b.enable_http1().build()
    };
    Client::builder(TokioExecutor::new())
        .http2_only(h2)
        .build(conn)
}

#[tokio::test]
async fn reverse_listener_serves_tls_over_h1_and_h2() {
    let p = pki();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cert.pem"), &p.leaf_pem).unwrap();
    std::fs::write(dir.path().join("key.pem"), &p.leaf_key).unwrap();
    let config = CONFIG.replace(
        "[policy]",
        &format!(
            "[tls]\nserver_cert = \"{0}/cert.pem\"\nserver_key = \"{0}/key.pem\"\n\n[policy]",
            dir.path().display()
        ),
    );
    let h = Harness::with_config(&config).await;
    let port = h.gw.reverse.unwrap().port();
    for h2 in [false, true] {
        let client = client_trusting(&p.ca_pem, h2);
        let req = http::Request::post(format!("https://localhost:{port}/v1/chat/completions"))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(chat("hello over tls"))))
            .unwrap();
        let resp = client.request(req).await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(
            resp.version(),
            if h2 {
                http::Version::HTTP_2
            } else {
                http::Version::HTTP_11
            }
        );
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        assert!(String::from_utf8_lossy(&body).contains("hello over tls"));
    }
    assert_eq!(h.external.calls(), 2);
}

/// A TLS front for a plain stub: terminates TLS with the given certificate and relays bytes.
pub(crate) async fn tls_front(p: &Pki, backend: std::net::SocketAddr) -> std::net::SocketAddr {
    let chain = rustls_pemfile::certs(&mut p.leaf_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = rustls_pemfile::private_key(&mut p.leaf_key.as_bytes())
        .unwrap()
        .unwrap();
    let mut cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .unwrap();
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(s).await {
                    if let Ok(mut plain) = tokio::net::TcpStream::connect(backend).await {
                        let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                    }
                }
            });
        }
    });
    addr
}

async fn harness_with_tls_provider(trust_ca: bool) -> (Harness, Pki) {
    let p = pki();
    let local = sovgate::stub::start(
        sovgate::stub::StubConfig::default(),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let external = sovgate::stub::start(
        sovgate::stub::StubConfig::default(),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let front = tls_front(&p, external.addr()).await;
    let dir = tempfile::tempdir().unwrap();
    let roots = dir.path().join("roots.pem");
    std::fs::write(&roots, &p.ca_pem).unwrap();
    let mut config = CONFIG.replace(
        "upstream = \"{EXTERNAL}\"\nregion = \"US\"\nkey_env",
        &format!(
            "upstream = \"https://localhost:{}\"\nregion = \"US\"\nkey_env",
            front.port()
        ),
    );
    if trust_ca {
        config = config.replace(
            "[policy]",
            &format!(
                "[tls]\nupstream_roots = \"{}\"\n\n[policy]",
                roots.display()
            ),
        );
    }
    let h = Harness::with_stubs(&config, local, external).await;
    std::mem::forget(dir);
    (h, p)
}

#[tokio::test]
async fn upstream_tls_verified_with_configured_roots() {
    let (h, _p) = harness_with_tls_provider(true).await;
    let (status, _, answer) = h.post("/v1/chat/completions", chat("hello provider")).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    assert_eq!(h.external.calls(), 1);
}

#[tokio::test]
async fn untrusted_upstream_certificate_is_refused_and_audited() {
    let (h, _p) = harness_with_tls_provider(false).await;
    let (status, headers, answer) = h.post("/v1/chat/completions", chat("hello provider")).await;
    assert_eq!(status, 502, "{}", String::from_utf8_lossy(&answer));
    assert_eq!(headers["x-sovgate-error"], "upstream_tls");
    assert_eq!(
        h.external.calls(),
        0,
        "nothing reached the provider over an unverified connection"
    );
    let last = h.audit_lines().into_iter().last().unwrap();
    assert_eq!(last["action"], "refuse");
    assert!(
        last["reason"].as_str().unwrap().starts_with("upstream_tls"),
        "{last}"
    );
}

/// Runs `sovgate serve --config` until it logs its reverse listener, and returns that line.
fn serve_banner(config: &str, dir: &std::path::Path) -> String {
    use std::io::{BufRead, BufReader};
    let path = dir.join("sovgate.toml");
    std::fs::write(&path, config).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sovgate"))
        .args(["serve", "--config", path.to_str().unwrap()])
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = Vec::new();
    let mut banner = None;
    for line in stderr.lines() {
        let line = line.unwrap();
        if line.contains("reverse listener on") {
            banner = Some(line);
            break;
        }
        seen.push(line);
    }
    let _ = child.kill();
    let _ = child.wait();
    banner.unwrap_or_else(|| panic!("no banner:\n{}", seen.join("\n")))
}

#[test]
fn serve_names_the_scheme_the_reverse_listener_serves() {
    let p = pki();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cert.pem"), &p.leaf_pem).unwrap();
    std::fs::write(dir.path().join("key.pem"), &p.leaf_key).unwrap();
    let plain = CONFIG
        .replace("{EXTERNAL}", "http://127.0.0.1:9")
        .replace("{LOCAL}", "http://127.0.0.1:9");
    let banner = serve_banner(&plain, dir.path());
    assert!(
        banner.contains("set base_url to http://127.0.0.1:"),
        "{banner}"
    );
    let tls = plain.replace(
        "[policy]",
        &format!(
            "[tls]\nserver_cert = \"{0}/cert.pem\"\nserver_key = \"{0}/key.pem\"\n\n[policy]",
            dir.path().display()
        ),
    );
    let banner = serve_banner(&tls, dir.path());
    assert!(
        banner.contains("reverse listener on https://127.0.0.1:"),
        "{banner}"
    );
    assert!(
        banner.contains("set base_url to https://127.0.0.1:"),
        "{banner}"
    );
    assert!(!banner.contains("http://"), "{banner}");
}
