//! Proxy authentication on the forward listener: `Proxy-Authorization` carries the tenant's
//! Sovgate key, as the password of `Basic` (what `HTTPS_PROXY=http://user:KEY@host:port` sends;
//! the user name is free) or as a `Bearer` token. Keys are checked against the same hashed keys
//! as the reverse listener. A wrong key is refused, never downgraded to the anonymous tenant.

use crate::config::{hash_key, Config};
use base64::Engine;
use http::HeaderMap;
use std::net::SocketAddr;

/// Who the proxy connection belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyTenant {
    /// Authenticated: an index into `config.tenants`.
    Tenant(usize),
    /// No proxy credential, and none needed here: requests inside authenticate as on the
    /// reverse listener (a tenant key as the API key, or the anonymous tenant).
    Open,
}

/// `Err` carries why a 407 is due.
pub fn check(
    config: &Config,
    headers: &HeaderMap,
    local: SocketAddr,
) -> Result<ProxyTenant, &'static str> {
    if let Some(key) = presented(headers) {
        let h = hash_key(&key);
        return config
            .tenants
            .iter()
            .position(|t| t.key_hashes.contains(&h))
            .map(ProxyTenant::Tenant)
            .ok_or("unknown Sovgate key in Proxy-Authorization");
    }
    let anonymous_ok = if config.tenants.is_empty() {
        local.ip().is_loopback()
    } else {
        config
            .tenants
            .iter()
            .any(|t| t.anonymous && (t.allow_anonymous || local.ip().is_loopback()))
    };
    if anonymous_ok {
        Ok(ProxyTenant::Open)
    } else {
        Err("proxy authentication required: send your Sovgate key as the proxy password (HTTPS_PROXY=http://tenant:KEY@host:port)")
    }
}

/// The key in `Proxy-Authorization`, if any.
fn presented(headers: &HeaderMap) -> Option<String> {
    let v = headers.get("proxy-authorization")?.to_str().ok()?.trim();
    let (scheme, rest) = v.split_once(' ')?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.to_owned());
    }
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':').unwrap_or((&text, ""));
    // Some clients can only set a user name: accept the key there when the password is empty.
    Some(if password.is_empty() { user } else { password }.to_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn headers(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("proxy-authorization", v.parse().unwrap());
        h
    }

    #[test]
    fn basic_and_bearer() {
        // "crm:sk-tenant" and "sk-tenant:" in base64.
        assert_eq!(
            presented(&headers("Basic Y3JtOnNrLXRlbmFudA==")).unwrap(),
            "sk-tenant"
        );
        assert_eq!(
            presented(&headers("basic c2stdGVuYW50Og==")).unwrap(),
            "sk-tenant"
        );
        assert_eq!(
            presented(&headers("Bearer sk-tenant")).unwrap(),
            "sk-tenant"
        );
        assert!(presented(&headers("Digest x")).is_none());
        assert!(presented(&HeaderMap::new()).is_none());
    }
}
