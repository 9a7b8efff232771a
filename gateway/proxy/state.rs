//! Everything a request needs, built once at startup and shared.

use super::pool::PoolState;
use crate::audit::AuditLog;
use crate::config::Config;
use crate::metrics::Metrics;
use anyhow::Context;
use arc_swap::ArcSwap;
use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use sovgate_core::rules::RuleSet;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

pub type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

pub struct State {
    pub config: Arc<Config>,
    /// Swapped whole on reload; a request keeps the set it started with.
    pub rules: ArcSwap<RuleSet>,
    pub audit: AuditLog,
    pub metrics: Arc<Metrics>,
    pub client: HttpClient,
    pub pools: Vec<Arc<PoolState>>,
    pub ready: AtomicBool,
    /// The rule directories as they were when the serving rule set was read (see
    /// [`crate::reload::spawn_watcher`]); empty when the state was not built from files.
    pub rules_snapshot: crate::reload::Snapshot,
    /// TLS for the reverse listener, when a certificate is configured.
    pub server_tls: Option<tokio_rustls::TlsAcceptor>,
    /// CA, minted certificates and host tables, when `[tls] ca_cert` is configured.
    pub intercept: Option<Arc<crate::intercept::Intercept>>,
    /// Where addresses are (`[geo]`); the database inside is swapped on reload.
    pub geo: Arc<crate::geo::Geo>,
    /// Sends residency-checked requests to exactly the checked address (`super::dial`).
    pub pinned: super::dial::PinnedClient,
}

impl State {
    pub fn new(config: Config, rules: RuleSet, audit: AuditLog) -> anyhow::Result<State> {
        let tls = upstream_tls(&config)?;
        let client = build_client(&config, tls.clone());
        let pinned = super::dial::client(tls, config.limits.connect_timeout);
        let geo = Arc::new(crate::geo::Geo::new(&config.geo));
        let clients = crate::intercept::mtls::verifier(&config)?;
        let server_tls = match (&config.tls.server_cert, &config.tls.server_key) {
            (Some(c), Some(k)) => Some(server_tls(c, k, clients)?),
            _ => None,
        };
        let pools = config.pools.iter().cloned().map(PoolState::new).collect();
        let metrics = Arc::new(Metrics::new());
        super::describe_metrics(&metrics);
        let intercept = crate::intercept::Intercept::from_config(&config, &metrics)?.map(Arc::new);
        Ok(State {
            config: Arc::new(config),
            rules: ArcSwap::from_pointee(rules),
            audit,
            metrics,
            client,
            pools,
            ready: AtomicBool::new(true),
            rules_snapshot: crate::reload::Snapshot::default(),
            server_tls,
            intercept,
            geo,
            pinned,
        })
    }
}

/// Upstream TLS: verification always on (webpki roots, plus the configured extra roots for
/// providers reached through a corporate TLS-inspecting hop or a test CA).
fn upstream_tls(config: &Config) -> anyhow::Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = &config.tls.upstream_roots {
        let pem = std::fs::read(path)
            .with_context(|| format!("reading upstream_roots {}", path.display()))?;
        let mut n = 0;
        for cert in rustls_pemfile::certs(&mut &pem[..]) {
            let cert = cert.with_context(|| format!("parsing {}", path.display()))?;
            roots
                .add(cert)
                .with_context(|| format!("adding a root from {}", path.display()))?;
            n += 1;
        }
        anyhow::ensure!(n > 0, "{} holds no PEM certificate", path.display());
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tls)
}

/// The ordinary upstream client.
fn build_client(config: &Config, tls: rustls::ClientConfig) -> HttpClient {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(config.limits.connect_timeout));
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .wrap_connector(http);
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(std::time::Duration::from_secs(60))
        .build(https)
}

/// The reverse listener's TLS: the configured chain and key, ALPN h2 then http/1.1.
fn server_tls(
    cert: &std::path::Path,
    key: &std::path::Path,
    clients: Option<Arc<dyn rustls::server::danger::ClientCertVerifier>>,
) -> anyhow::Result<tokio_rustls::TlsAcceptor> {
    let pem =
        std::fs::read(cert).with_context(|| format!("reading server_cert {}", cert.display()))?;
    let chain = rustls_pemfile::certs(&mut &pem[..])
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("parsing {}", cert.display()))?;
    anyhow::ensure!(!chain.is_empty(), "{} holds no certificate", cert.display());
    let kpem =
        std::fs::read(key).with_context(|| format!("reading server_key {}", key.display()))?;
    let key_der = rustls_pemfile::private_key(&mut &kpem[..])
        .with_context(|| format!("parsing {}", key.display()))?
        .ok_or_else(|| anyhow::anyhow!("{} holds no private key", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?;
    // With `client_ca`, a client without an admitted certificate fails the handshake.
    let builder = match clients {
        Some(v) => builder.with_client_cert_verifier(v),
        None => builder.with_no_client_auth(),
    };
    let mut cfg = builder
        .with_single_cert(chain, key_der)
        .context("server certificate and key do not match")?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(cfg)))
}
