//! Test harness: a gateway built from a config text, with recording stubs on ephemeral ports.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod mmdb;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use sovgate::proxy::{self, Running};
use sovgate::stub::{StubConfig, StubHandle};
use std::sync::Arc;

/// The default test config. `{LOCAL}` and `{EXTERNAL}` are replaced with the stubs' URLs.
pub const CONFIG: &str = r#"
[listen]
reverse = "127.0.0.1:0"
admin = "127.0.0.1:0"

[rules]
embedded = true

[policy]
privileged = "local"
confidential = "local"
internal = "residency"
public = "residency"

[[providers]]
name = "openai"
api = "openai"
hosts = ["api.openai.com"]
upstream = "{EXTERNAL}"
region = "US"
key_env = "SOVGATE_TEST_PROVIDER_KEY"

[[providers]]
name = "anthropic"
api = "anthropic"
hosts = ["api.anthropic.com"]
upstream = "{EXTERNAL}"
region = "US"

[[pools]]
name = "gpu"
api = "openai"
endpoints = ["{LOCAL}"]

[[pools]]
name = "gpu-anthropic"
api = "anthropic"
endpoints = ["{LOCAL}"]

[[models]]
external = "claude-*"
pool = "gpu-anthropic"
model = "local-claude"

[[models]]
external = "gpt-4o*"
pool = "gpu"
model = "llama-3.1-70b-instruct"

[audit]
path = "audit.jsonl"
"#;

pub struct Harness {
    pub gw: Running,
    pub local: StubHandle,
    pub external: StubHandle,
    pub dir: tempfile::TempDir,
}

impl Harness {
    pub async fn start() -> Harness {
        Self::with_config(CONFIG).await
    }

    pub async fn with_config(text: &str) -> Harness {
        let local = sovgate::stub::start(
            StubConfig {
                name: "local".into(),
                ..StubConfig::default()
            },
            "127.0.0.1:0".parse().unwrap(),
        )
        .await
        .unwrap();
        let external = sovgate::stub::start(
            StubConfig {
                name: "external".into(),
                ..StubConfig::default()
            },
            "127.0.0.1:0".parse().unwrap(),
        )
        .await
        .unwrap();
        Self::with_stubs(text, local, external).await
    }

    pub async fn with_stubs(text: &str, local: StubHandle, external: StubHandle) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let text = text
            .replace("{LOCAL}", &local.url())
            .replace("{EXTERNAL}", &external.url());
        let config = sovgate::config::build("test.toml", &text, dir.path())
            .unwrap_or_else(|e| panic!("{e}"));
        let state = Arc::new(sovgate::cli::build_state(config).unwrap());
        let gw = proxy::start(state).await.unwrap();
        Harness {
            gw,
            local,
            external,
            dir,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.gw.reverse.unwrap())
    }

    pub fn admin_url(&self) -> String {
        format!("http://{}", self.gw.admin.unwrap())
    }

    pub fn audit_lines(&self) -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(self.dir.path().join("audit.jsonl")).unwrap_or_default();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    pub async fn post(&self, path: &str, body: impl Into<Bytes>) -> (u16, http::HeaderMap, Bytes) {
        post(&format!("{}{path}", self.url()), body.into(), &[], false).await
    }
}

/// Sends one POST with a fresh client (HTTP/1.1, or HTTP/2 with prior knowledge).
pub async fn post(
    url: &str,
    body: Bytes,
    headers: &[(&str, &str)],
    h2: bool,
) -> (u16, http::HeaderMap, Bytes) {
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new())
        .http2_only(h2)
        .build_http();
    let mut req = http::Request::post(url).header("content-type", "application/json");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = client
        .request(req.body(Full::new(body)).unwrap())
        .await
        .unwrap();
    let (parts, body) = resp.into_parts();
    (
        parts.status.as_u16(),
        parts.headers,
        body.collect().await.unwrap().to_bytes(),
    )
}

pub async fn get(url: &str) -> (u16, Bytes) {
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let resp = client
        .request(
            http::Request::get(url)
                .body(Full::new(Bytes::new()))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.into_body().collect().await.unwrap().to_bytes())
}

pub fn chat(content: &str) -> String {
    serde_json::json!({"model": "gpt-4o", "messages": [{"role": "user", "content": content}]})
        .to_string()
}

/// Sends raw bytes on a TCP connection and returns what came back until the server closed or
/// a full response head and body arrived within the timeout.
pub async fn raw_http(addr: std::net::SocketAddr, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(request).await.unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        let mut chunk = [0u8; 4096];
        loop {
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(head_end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
                        if let Some(len) = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                        {
                            if buf.len() >= head_end + 4 + len {
                                break;
                            }
                        }
                    }
                }
            }
        }
    })
    .await;
    String::from_utf8_lossy(&buf).into_owned()
}
