//! `sovgate.toml` as the user writes it.
//!
//! These types mirror the file and nothing more: unknown keys are errors, user values keep their
//! spans so that the build step can point at the exact line and column of a bad value. Only the
//! built types in [`super::build`] reach the data path.

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

type S<T> = Spanned<T>;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub listen: ListenFile,
    #[serde(default)]
    pub limits: LimitsFile,
    #[serde(default)]
    pub rules: RulesFile,
    #[serde(default)]
    pub inspect: super::inspect::InspectFile,
    #[serde(default)]
    pub tls: TlsFile,
    #[serde(default)]
    pub geo: GeoFile,
    #[serde(default)]
    pub policy: PolicyFile,
    #[serde(default)]
    pub zones: BTreeMap<String, S<Vec<String>>>,
    #[serde(default)]
    pub tenants: Vec<TenantFile>,
    #[serde(default)]
    pub providers: Vec<ProviderFile>,
    #[serde(default)]
    pub pools: Vec<PoolFile>,
    #[serde(default)]
    pub models: Vec<ModelFile>,
    #[serde(default)]
    pub audit: AuditFile,
    #[serde(default)]
    pub egress: super::egress::EgressFile,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ListenFile {
    pub reverse: Option<S<String>>,
    pub forward: Option<S<String>>,
    pub admin: Option<S<String>>,
    /// TLS listener for clients sent to Sovgate by DNS (ext); SNI picks the minted certificate.
    pub transparent: Option<S<String>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct LimitsFile {
    /// Bytes after decoding; a number or a string such as "32MiB".
    pub max_body: Option<S<toml::Value>>,
    /// Largest allowed decoded/encoded ratio for compressed bodies.
    pub max_decompression_ratio: Option<S<u32>>,
    pub upstream_timeout_ms: Option<S<u64>>,
    pub connect_timeout_ms: Option<S<u64>>,
    pub max_headers: Option<S<u32>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RulesFile {
    pub dirs: Option<S<Vec<String>>>,
    /// Also load the default packs embedded in the binary (default: true when `dirs` is unset).
    pub embedded: Option<bool>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TlsFile {
    pub ca_cert: Option<S<String>>,
    pub ca_key: Option<S<String>>,
    /// Extra root certificates (PEM) trusted for upstream connections, beside the webpki roots.
    pub upstream_roots: Option<S<String>>,
    /// Certificate chain and key (PEM) for TLS on the reverse listener.
    pub server_cert: Option<S<String>>,
    pub server_key: Option<S<String>>,
    /// CA (PEM) that client certificates on the reverse listener must chain to (mTLS, ext).
    pub client_ca: Option<S<String>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct GeoFile {
    pub database: Option<S<String>>,
    #[serde(default)]
    pub overrides: BTreeMap<String, S<String>>,
    /// Proxies whose `X-Forwarded-For` / `Forwarded` headers are believed (CIDRs).
    #[serde(default)]
    pub trusted_proxies: Vec<S<String>>,
    /// Addresses whose location is remembered between requests (default 65536).
    pub cache_size: Option<S<u64>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    pub privileged: Option<S<String>>,
    pub confidential: Option<S<String>>,
    pub internal: Option<S<String>>,
    pub public: Option<S<String>>,
    pub prefer: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantFile {
    pub name: S<String>,
    pub keys_file: Option<S<String>>,
    #[serde(default)]
    pub residency: Vec<S<String>>,
    #[serde(default)]
    pub allow_anonymous: bool,
    /// Client-certificate names (subject CN or SAN) that identify this tenant over mTLS (ext).
    #[serde(default)]
    pub client_names: Vec<S<String>>,
    /// Narrow `residency` to the zone the client is in (an EU client's data stays in the EU).
    pub residency_from_client: Option<S<bool>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderFile {
    pub name: S<String>,
    pub api: S<String>,
    #[serde(default)]
    pub hosts: Vec<S<String>>,
    pub upstream: Option<S<String>>,
    pub region: Option<S<String>>,
    /// Per-zone upstreams: zone name or country code → base URL.
    #[serde(default)]
    pub upstreams: BTreeMap<String, S<String>>,
    pub key_file: Option<S<String>>,
    /// Name of an environment variable holding the provider key (alternative to `key_file`).
    pub key_env: Option<S<String>>,
    /// Ports a forward-proxy CONNECT to one of `hosts` may name (default 443).
    #[serde(default)]
    pub ports: Vec<S<u16>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolFile {
    pub name: S<String>,
    #[serde(default = "default_api")]
    pub api: S<String>,
    pub region: Option<S<String>>,
    pub balance: Option<S<String>>,
    pub endpoints: S<Vec<String>>,
    #[serde(default)]
    pub models: Vec<String>,
    /// Active health check path (default `/health`, falling back to `/v1/models` on 404).
    pub health_path: Option<S<String>>,
    /// Milliseconds between active checks; 0 turns them off (default 1000).
    pub health_interval_ms: Option<S<u64>>,
    /// Good probes in a row that bring an endpoint back (default 2).
    pub rise: Option<S<u32>>,
    /// Bad probes in a row that take an endpoint out (default 2).
    pub fall: Option<S<u32>>,
    /// Bounded load for `prefix_affinity` (default 1.25, at least 1).
    pub max_load_factor: Option<S<f64>>,
    /// Most requests one endpoint serves at once (default: no cap).
    pub max_inflight: Option<S<u32>>,
    /// Requests that may wait while every endpoint is at `max_inflight` (default 64).
    pub queue_size: Option<S<u32>>,
    /// Longest wait in that queue before a 503 (default 5000).
    pub queue_timeout_ms: Option<S<u64>>,
    /// No retry starts later than this after the first attempt (default 5000).
    pub retry_budget_ms: Option<S<u64>>,
}

fn default_api() -> S<String> {
    Spanned::new(0..0, "openai".to_owned())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelFile {
    pub external: S<String>,
    pub pool: S<String>,
    pub model: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AuditFile {
    pub path: Option<S<String>>,
    #[serde(default)]
    pub sync: bool,
    /// Run without an audit log (tests and `scan` only; `serve` warns loudly).
    #[serde(default)]
    pub disabled: bool,
}
