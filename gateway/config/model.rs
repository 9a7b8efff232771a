//! The built config: what the gateway runs on. Produced only by [`super::build`].

use sovgate_core::api::Family;
use sovgate_core::cidr::{Cidr, Overrides};
use sovgate_core::policy::{ModelRoute, PolicyTable};
use sovgate_core::residency::Residency;
use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Config {
    /// Where it came from: a path, or `<embedded>`.
    pub source: String,
    pub listen: Listen,
    pub limits: Limits,
    pub rules: RulesConfig,
    /// `[inspect]`: decoding limits and the opaque class.
    pub inspect: sovgate_core::decode::DecodeOptions,
    pub tls: TlsConfig,
    pub geo: GeoConfig,
    pub policy: PolicyTable,
    pub tenants: Vec<Tenant>,
    pub providers: Vec<Provider>,
    pub pools: Vec<Pool>,
    pub models: Vec<ModelRoute>,
    pub audit: AuditConfig,
    pub egress: super::egress::Egress,
    /// `[zones]`: operator zones (name, country codes), beside the built-in ones.
    pub zones: Vec<(String, Vec<String>)>,
}

#[derive(Debug, Clone, Default)]
pub struct Listen {
    pub reverse: Option<SocketAddr>,
    pub forward: Option<SocketAddr>,
    pub admin: Option<SocketAddr>,
    pub transparent: Option<SocketAddr>,
}

#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest body accepted, measured after decoding.
    pub max_body: usize,
    pub max_decompression_ratio: u32,
    pub upstream_timeout: Duration,
    pub connect_timeout: Duration,
    pub max_headers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body: 32 * 1024 * 1024,
            max_decompression_ratio: 100,
            upstream_timeout: Duration::from_secs(600),
            connect_timeout: Duration::from_secs(5),
            max_headers: 100,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct RulesConfig {
    pub dirs: Vec<PathBuf>,
    pub embedded: bool,
}

#[derive(Debug, Clone, Default)]
pub struct TlsConfig {
    pub ca_cert: Option<PathBuf>,
    pub ca_key: Option<PathBuf>,
    pub upstream_roots: Option<PathBuf>,
    pub server_cert: Option<PathBuf>,
    pub server_key: Option<PathBuf>,
    pub client_ca: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct Tenant {
    pub name: String,
    /// SHA-256 of each accepted Sovgate key. Empty for the anonymous tenant.
    pub key_hashes: HashSet<[u8; 32]>,
    pub residency: Option<Residency>,
    /// Serves clients that present no Sovgate key.
    pub anonymous: bool,
    /// Lets the anonymous tenant serve non-loopback listeners.
    pub allow_anonymous: bool,
    /// mTLS identities (certificate CN or SAN, lowercase) of this tenant.
    pub client_names: Vec<String>,
    /// Each request's residency is narrowed to the tenant's zones that hold the client's country.
    pub residency_from_client: bool,
}

/// An upstream base URL, split once at build time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    pub https: bool,
    pub host: String,
    pub port: u16,
    /// Path prefix without trailing slash ("" for none).
    pub base_path: String,
}

impl Upstream {
    pub fn authority(&self) -> String {
        let default = if self.https { 443 } else { 80 };
        if self.port == default {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    pub fn url(&self) -> String {
        format!(
            "{}://{}{}",
            if self.https { "https" } else { "http" },
            self.authority(),
            self.base_path
        )
    }
}

#[derive(Debug, Clone)]
pub struct Provider {
    pub name: String,
    pub family: Family,
    pub hosts: Vec<String>,
    pub upstream: Upstream,
    /// Declared location (ISO country code).
    pub region: String,
    /// `region` as a set of countries, for checking located addresses against it.
    pub declared: Residency,
    /// Per-zone upstreams (`upstreams = { EU = "https://eu.api.openai.com" }`), in key order.
    pub zone_upstreams: Vec<ZoneUpstream>,
    /// The provider key injected upstream; never logged.
    pub key: Option<Secret>,
    /// No `upstream` was configured: intercepted requests go to the host the client addressed
    /// (a regional or per-resource host), reverse-listener requests to `upstream`.
    pub follow_host: bool,
    /// Ports a forward-proxy CONNECT to one of `hosts` is intercepted on (default 443); any
    /// other port to such a host is denied, never tunneled.
    pub ports: Vec<u16>,
}

/// An upstream declared to be inside a zone.
#[derive(Debug, Clone)]
pub struct ZoneUpstream {
    /// The key as written (`EU`, `DE`, an operator zone).
    pub zone: String,
    pub declared: Residency,
    pub upstream: Upstream,
}

/// A credential that never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Balance {
    RoundRobin,
    LeastOutstanding,
    P2c,
    QueueAware,
    PrefixAffinity,
}

impl Balance {
    pub fn parse(s: &str) -> Option<Balance> {
        Some(match s {
            "round_robin" => Balance::RoundRobin,
            "least_outstanding" => Balance::LeastOutstanding,
            "p2c" => Balance::P2c,
            "queue_aware" => Balance::QueueAware,
            "prefix_affinity" => Balance::PrefixAffinity,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
pub struct Pool {
    pub name: String,
    pub family: Family,
    pub region: Option<String>,
    /// `region` as a set of countries (empty without one), resolved once when the config is
    /// built; endpoints are checked against it for tenants with a residency.
    pub declared: Residency,
    pub balance: Balance,
    pub endpoints: Vec<Upstream>,
    pub models: Vec<String>,
    pub tuning: PoolTuning,
}

/// How a pool checks and weighs its endpoints. Every field has a default, so a pool table
/// names only what it changes.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolTuning {
    /// Probed path; `None` probes `/health`, then `/v1/models` when `/health` answers 404.
    pub health_path: Option<String>,
    /// Time between active checks (and `/metrics` scrapes); zero turns active checks off.
    pub health_interval: Duration,
    /// Consecutive good probes that bring a down endpoint back.
    pub rise: u32,
    /// Consecutive bad probes that take an up endpoint out.
    pub fall: u32,
    /// `prefix_affinity` skips an endpoint busier than this × (average outstanding + 1).
    pub max_load_factor: f64,
    /// Most requests one endpoint serves at once; `None`: no cap (and so no queue).
    pub max_inflight: Option<u32>,
    /// Requests that may wait while every endpoint is at `max_inflight`; more get a 503.
    pub queue_size: u32,
    /// Longest wait in that queue before a 503 with `Retry-After`.
    pub queue_timeout: Duration,
    /// Retries (connect failures, 503) start only this soon after the first attempt.
    pub retry_budget: Duration,
}

impl Default for PoolTuning {
    fn default() -> Self {
        PoolTuning {
            health_path: None,
            health_interval: Duration::from_millis(1000),
            rise: 2,
            fall: 2,
            max_load_factor: 1.25,
            max_inflight: None,
            queue_size: 64,
            queue_timeout: Duration::from_millis(5000),
            retry_budget: Duration::from_millis(5000),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct AuditConfig {
    pub path: Option<PathBuf>,
    pub sync: bool,
}

/// `[geo]`: where addresses are located (see `crate::geo`).
#[derive(Debug, Clone, Default)]
pub struct GeoConfig {
    pub database: Option<PathBuf>,
    /// Where `database` is written (`file:line:column`), for errors found after the build.
    pub database_at: String,
    /// (CIDR, ISO country code), as written; they win over the database.
    pub overrides: Vec<(String, String)>,
    /// The same, parsed.
    pub override_table: Overrides,
    pub trusted_proxies: Vec<Cidr>,
    pub cache_size: usize,
    /// The database as read when the config was built: a config whose database cannot be read
    /// does not build, so the gateway never starts on one.
    pub opened: Option<std::sync::Arc<crate::geo::Database>>,
}
