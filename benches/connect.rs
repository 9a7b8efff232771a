//! The added cost of going through the forward proxy: TCP connect + `CONNECT` + the TLS
//! handshake with a minted leaf, against a plain TLS handshake with an equivalent certificate
//! (P-256 leaf from the same CA) measured in the same run.
//!
//! - `tls_handshake_baseline`: TCP + TLS 1.3 straight to a rustls server.
//! - `connect_cached_leaf`: TCP + CONNECT api.openai.com:443 + TLS, leaf from the cache.
//! - `connect_fresh_mint`: the same to a new host every time, so every handshake mints
//!   (key generation + signing) — the cost of the first connection to a host.
//!
//! Each iteration asserts the handshake completed and the proxy answered 200.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{criterion_group, criterion_main, Criterion};
use rustls::pki_types::ServerName;
use sovgate::intercept::ca::{generate, write_new, KeyAlgorithm};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

struct Setup {
    forward: SocketAddr,
    baseline: SocketAddr,
    client: Arc<rustls::ClientConfig>,
    _gw: sovgate::proxy::Running,
    _dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let ca = generate("Bench CA", KeyAlgorithm::EcdsaP256, 2).unwrap();
    let (cert, key) = write_new(dir.path(), &ca).unwrap();
    let config = format!(
        "[listen]\nforward = \"127.0.0.1:0\"\n\n[tls]\nca_cert = \"{}\"\nca_key = \"{}\"\n\n\
         [egress]\ncert_cache = 100000\n\n\
         [[providers]]\nname = \"openai\"\napi = \"openai\"\nhosts = [\"api.openai.com\", \"*.bench.test\"]\n\
         upstream = \"http://127.0.0.1:9\"\n\n[audit]\ndisabled = true\n",
        cert.display(),
        key.display()
    );
    let config = sovgate::config::build("bench.toml", &config, dir.path()).unwrap();
    let state = Arc::new(sovgate::cli::build_state(config).unwrap());
    let gw = sovgate::proxy::start(Arc::clone(&state)).await.unwrap();
    // The baseline server: a leaf minted the same way, served by plain rustls.
    let leaf = state
        .intercept
        .as_ref()
        .unwrap()
        .minter
        .mint("api.openai.com")
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::clone(&leaf.config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let baseline = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(s).await {
                    let mut b = [0u8; 1];
                    let _ = tls.read(&mut b).await;
                }
            });
        }
    });
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pemfile::certs(&mut ca.cert_pem.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let mut client = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    client.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    // Session resumption would hide the handshake cost being measured.
    client.resumption = rustls::client::Resumption::disabled();
    Setup {
        forward: gw.forward.unwrap(),
        baseline,
        client: Arc::new(client),
        _gw: gw,
        _dir: dir,
    }
}

async fn handshake(stream: TcpStream, host: &str, client: &Arc<rustls::ClientConfig>) {
    let name = ServerName::try_from(host.to_owned()).unwrap();
    let mut tls = tokio_rustls::TlsConnector::from(Arc::clone(client))
        .connect(name, stream)
        .await
        .unwrap();
    assert!(tls.get_ref().1.alpn_protocol().is_some());
    let _ = tls.shutdown().await;
}

async fn via_proxy(s: &Setup, host: &str) {
    let mut stream = TcpStream::connect(s.forward).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let head = format!("CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut buf = Vec::with_capacity(64);
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        assert_eq!(stream.read(&mut byte).await.unwrap(), 1);
        buf.push(byte[0]);
    }
    assert!(buf.starts_with(b"HTTP/1.1 200"));
    handshake(stream, host, &s.client).await;
}

fn connect(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let s = rt.block_on(setup());
    let mut g = c.benchmark_group("intercept/connect");
    g.measurement_time(Duration::from_secs(8));
    g.bench_function("tls_handshake_baseline", |b| {
        b.iter(|| {
            rt.block_on(async {
                let stream = TcpStream::connect(s.baseline).await.unwrap();
                stream.set_nodelay(true).unwrap();
                handshake(stream, "api.openai.com", &s.client).await;
            })
        })
    });
    rt.block_on(via_proxy(&s, "api.openai.com"));
    g.bench_function("connect_cached_leaf", |b| {
        b.iter(|| rt.block_on(via_proxy(&s, "api.openai.com")))
    });
    let mut n = 0u64;
    g.bench_function("connect_fresh_mint", |b| {
        b.iter(|| {
            n += 1;
            rt.block_on(via_proxy(&s, &format!("h{n}.bench.test")))
        })
    });
    g.finish();
    let m = &s._gw.state.metrics;
    let hits = m
        .get("sovgate_intercept_cert_cache_total", &[("result", "hit")])
        .unwrap_or(0.0);
    let misses = m
        .get("sovgate_intercept_cert_cache_total", &[("result", "miss")])
        .unwrap_or(0.0);
    // One miss per fresh host plus the first cached-leaf connection.
    assert!(
        misses >= n as f64 && hits > 0.0,
        "{hits} hits, {misses} misses"
    );
}

criterion_group!(benches, connect);
criterion_main!(benches);
