//! Egress interception with real clients: curl through the forward proxy (`-x`, `--cacert`),
//! the official `openai` SDK with `HTTPS_PROXY` and `SSL_CERT_FILE`, raw CONNECT clients on
//! rustls, the transparent listener by SNI (`curl --resolve`), and mTLS on the reverse listener.
//! The provider's `upstream` points at the recording stubs, so no DNS and no Internet are used:
//! the client asks for `api.openai.com`, the gateway mints a certificate for it and the stubs
//! record what actually left.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod ca_cli;
mod forward;
mod mtls;
mod policy;
mod scope;
mod sdk;
mod transparent;

use crate::support::*;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use rustls::pki_types::{CertificateDer, ServerName};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

pub const PROVIDER_KEY: &str = "sk-provider-from-sovgate";

/// A gateway with the forward and transparent listeners and a fresh CA.
pub struct Icpt {
    pub h: Harness,
    pub ca_pem: String,
    pub ca_file: PathBuf,
    pub pki: tempfile::TempDir,
}

impl Icpt {
    /// `extra` is appended to the test config (an `[egress]` table, tenants...); `{PKI}` in it is
    /// replaced with the directory holding the CA and any file a test put there first.
    pub async fn start(extra: &str) -> Icpt {
        Self::start_in(tempfile::tempdir().unwrap(), extra).await
    }

    pub async fn start_in(pki: tempfile::TempDir, extra: &str) -> Icpt {
        Self::start_from(pki, CONFIG, extra).await
    }

    /// As [`Icpt::start_in`], from another base config than the harness default.
    pub async fn start_from(pki: tempfile::TempDir, base: &str, extra: &str) -> Icpt {
        std::env::set_var("SOVGATE_TEST_PROVIDER_KEY", PROVIDER_KEY);
        let ca = sovgate::intercept::ca::generate(
            "Sovgate test interception CA",
            sovgate::intercept::ca::KeyAlgorithm::EcdsaP256,
            2,
        )
        .unwrap();
        let (ca_file, key_file) = sovgate::intercept::ca::write_new(pki.path(), &ca).unwrap();
        let config =
            base.replace(
                "admin = \"127.0.0.1:0\"",
                "admin = \"127.0.0.1:0\"\nforward = \"127.0.0.1:0\"\ntransparent = \"127.0.0.1:0\"",
            )
            .replace(
                "[policy]",
                &format!(
                    "[tls]\nca_cert = \"{}\"\nca_key = \"{}\"\n\n[policy]",
                    ca_file.display(),
                    key_file.display()
                ),
            ) + &extra.replace("{PKI}", &pki.path().display().to_string());
        let h = Harness::with_config(&config).await;
        Icpt {
            h,
            ca_pem: ca.cert_pem.clone(),
            ca_file,
            pki,
        }
    }

    pub fn forward(&self) -> SocketAddr {
        self.h.gw.forward.unwrap()
    }

    pub fn proxy_url(&self) -> String {
        format!("http://{}", self.forward())
    }

    pub fn metric(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.h.gw.state.metrics.get(name, labels).unwrap_or(0.0)
    }
}

/// Sends `CONNECT authority` (with optional extra header lines) and returns the stream and the
/// proxy's response head.
pub async fn connect(proxy: SocketAddr, authority: &str, extra: &str) -> (TcpStream, String) {
    let mut s = TcpStream::connect(proxy).await.unwrap();
    let head = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n{extra}\r\n");
    s.write_all(head.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    // Byte by byte up to the blank line: nothing after it may be consumed (it is TLS).
    while !buf.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte).await.unwrap() == 0 {
            break;
        }
        buf.push(byte[0]);
    }
    (s, String::from_utf8_lossy(&buf).into_owned())
}

/// Reads the body of a non-2xx CONNECT answer (its head was read by [`connect`]).
pub async fn rest(mut s: TcpStream) -> String {
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), s.read_to_end(&mut buf)).await;
    String::from_utf8_lossy(&buf).into_owned()
}

/// A TLS client config trusting only `ca_pem`, offering the given ALPN protocols.
pub fn client_config(ca_pem: &str, alpn: &[&[u8]]) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pemfile::certs(&mut ca_pem.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let mut cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    cfg.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Arc::new(cfg)
}

/// CONNECT through the proxy and complete a TLS handshake for `host` trusting only the CA.
pub async fn tunnel_tls(
    proxy: SocketAddr,
    host: &str,
    config: Arc<rustls::ClientConfig>,
) -> std::io::Result<TlsStream<TcpStream>> {
    let (s, head) = connect(proxy, &format!("{host}:443"), "").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let name = ServerName::try_from(host.to_owned()).unwrap();
    tokio_rustls::TlsConnector::from(config)
        .connect(name, s)
        .await
}

/// The certificate the server presented.
pub fn peer_cert(tls: &TlsStream<TcpStream>) -> CertificateDer<'static> {
    tls.get_ref().1.peer_certificates().unwrap()[0]
        .clone()
        .into_owned()
}

/// One HTTP/1.1 request over an established stream; returns status, headers and body.
pub async fn request<S>(
    stream: S,
    method: &str,
    host: &str,
    path: &str,
    body: &str,
) -> (u16, http::HeaderMap, Bytes)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    let req = http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", host)
        .header("content-type", "application/json")
        .header("authorization", "Bearer client-own-key")
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    let (parts, body) = resp.into_parts();
    (
        parts.status.as_u16(),
        parts.headers,
        body.collect().await.unwrap().to_bytes(),
    )
}

/// A Salesforce record with a privileged field, as an integration pastes it.
pub fn privileged_chat() -> String {
    serde_json::json!({"model": "gpt-4o", "messages": [{"role": "user",
        "content": "{\"Subject\": \"Supplier dispute\", \"legal_case_strategy__c\": \"Settle below 2M; argue laches.\"}"}]})
    .to_string()
}

/// The `authorization` values a recorded request carried.
pub fn auth_headers(r: &sovgate::stub::RecordedRequest) -> Vec<String> {
    r.headers
        .iter()
        .filter(|(k, _)| k == "authorization")
        .map(|(_, v)| v.clone())
        .collect()
}

/// Runs curl with `args` and nothing from the environment (no proxy variables); returns the
/// exit code, and stdout split at the `-w` trailer `\n<http_code> <http_version>`.
pub async fn curl(args: &[&str]) -> (Option<i32>, String, String, String) {
    let mut cmd = std::process::Command::new("curl");
    cmd.env_clear().args(["-sS", "--max-time", "20"]).args(args);
    cmd.args(["-w", "\n%{http_code} %{http_version}"]);
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    let ran = crate::sdk::run(
        cmd,
        "install curl (`apt-get install -y curl`; `.ci/run` does it)",
    )
    .await;
    let (body, tail) = ran.stdout.rsplit_once('\n').unwrap_or(("", &ran.stdout));
    (ran.code, body.to_owned(), tail.to_owned(), ran.stderr)
}

/// POSTs `body` as JSON to `url` with curl; `args` say how curl gets there (proxy, `--resolve`,
/// CA, client certificate).
pub async fn curl_post(
    args: &[&str],
    body: &str,
    url: &str,
) -> (Option<i32>, String, String, String) {
    let mut all = args.to_vec();
    all.extend([
        "-H",
        "content-type: application/json",
        "--data-binary",
        body,
        url,
    ]);
    curl(&all).await
}
