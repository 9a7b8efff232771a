//! Which tenant a request belongs to.
//!
//! Clients authenticate to Sovgate with a Sovgate key, in whatever header their SDK uses for the
//! provider's key (`Authorization: Bearer`, `x-api-key`, `api-key`, `x-goog-api-key`). Keys are
//! stored hashed. A request with no matching key falls to the anonymous tenant, which only exists
//! if configured (or when no tenants are configured at all) and only serves loopback listeners
//! unless `allow_anonymous` says otherwise. The client's credential never travels upstream.

use crate::config::{hash_key, Config, Tenant};
use crate::error::GatewayError;
use http::HeaderMap;
use std::net::SocketAddr;

/// The tenant of a request; `None` is the implicit tenant of a config with no `[[tenants]]`.
#[derive(Debug, Clone, Copy)]
pub struct TenantRef<'a> {
    pub tenant: Option<&'a Tenant>,
}

impl TenantRef<'_> {
    pub fn name(&self) -> &str {
        self.tenant.map_or("anonymous", |t| t.name.as_str())
    }
}

/// Headers that carry a client credential; all are removed before forwarding.
pub const CREDENTIAL_HEADERS: [&str; 4] =
    ["authorization", "x-api-key", "api-key", "x-goog-api-key"];

fn presented_key(headers: &HeaderMap) -> Option<&str> {
    if let Some(v) = headers.get("authorization").and_then(|v| v.to_str().ok()) {
        let v = v.trim();
        if v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer ") {
            return Some(v[7..].trim());
        }
    }
    ["x-api-key", "api-key", "x-goog-api-key"]
        .iter()
        .find_map(|h| headers.get(*h).and_then(|v| v.to_str().ok()))
        .map(str::trim)
}

/// The tenant a connection already proved (proxy credentials, mTLS), if any.
pub fn proven(config: &Config, index: Option<usize>) -> Option<TenantRef<'_>> {
    let t = config.tenants.get(index?)?;
    Some(TenantRef { tenant: Some(t) })
}

pub fn authenticate<'a>(
    config: &'a Config,
    headers: &HeaderMap,
    local: SocketAddr,
) -> Result<TenantRef<'a>, GatewayError> {
    if config.tenants.is_empty() {
        return if local.ip().is_loopback() {
            Ok(TenantRef { tenant: None })
        } else {
            Err(GatewayError::unauthenticated(
                "this listener is not on loopback and no tenants are configured; configure [[tenants]] with keys",
            ))
        };
    }
    if let Some(key) = presented_key(headers) {
        let h = hash_key(key);
        if let Some(t) = config.tenants.iter().find(|t| t.key_hashes.contains(&h)) {
            return Ok(TenantRef { tenant: Some(t) });
        }
    }
    match config.tenants.iter().find(|t| t.anonymous) {
        Some(t) if local.ip().is_loopback() || t.allow_anonymous => Ok(TenantRef { tenant: Some(t) }),
        _ => Err(GatewayError::unauthenticated(
            "missing or unknown Sovgate key: send your tenant key as the API key (Authorization: Bearer or x-api-key)",
        )),
    }
}
