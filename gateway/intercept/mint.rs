//! Leaf certificates minted on demand from the CA, one per intercepted host, cached.
//!
//! A leaf names exactly the host the client asked for (DNS name or IP address in the SAN and the
//! CN), is valid from an hour ago (clock skew) for a day, and carries a fresh P-256 key. The
//! cache is bounded and keyed by host; an entry is renewed an hour before it expires. Each
//! cached entry holds a ready rustls `ServerConfig` (ALPN h2 then http/1.1), so a cache hit
//! costs one map lookup and the handshake itself.

use super::ca::Ca;
use crate::metrics::Metrics;
use rcgen::{CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::ServerConfig;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a minted leaf is valid.
pub const LEAF_VALIDITY: Duration = Duration::from_secs(24 * 3600);
/// A cached leaf is replaced this long before it expires.
const RENEW_BEFORE: Duration = Duration::from_secs(3600);

pub const CACHE_METRIC: &str = "sovgate_intercept_cert_cache_total";

/// A minted leaf, ready to serve.
#[derive(Debug)]
pub struct Leaf {
    pub config: Arc<ServerConfig>,
    /// The leaf certificate (the chain sent is this, then the CA).
    pub cert: CertificateDer<'static>,
    renew_at: Instant,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot mint a certificate for {host}: {reason}")]
pub struct MintError {
    host: String,
    reason: String,
}

#[derive(Debug, Default)]
struct Cache {
    map: HashMap<String, Arc<Leaf>>,
    /// Insertion order, for evicting the oldest host when full.
    order: VecDeque<String>,
}

#[derive(Debug)]
pub struct Minter {
    ca: Ca,
    cache: Mutex<Cache>,
    capacity: usize,
    metrics: Arc<Metrics>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl Minter {
    pub fn new(ca: Ca, capacity: usize, metrics: Arc<Metrics>) -> Minter {
        Minter {
            ca,
            cache: Mutex::new(Cache::default()),
            capacity: capacity.max(1),
            metrics,
            provider: Arc::new(rustls::crypto::ring::default_provider()),
        }
    }

    pub fn ca(&self) -> &Ca {
        &self.ca
    }

    /// The leaf for `host` (normalized), from the cache or freshly minted.
    pub fn leaf(&self, host: &str) -> Result<Arc<Leaf>, MintError> {
        let now = Instant::now();
        let cached = self
            .cache
            .lock()
            .ok()
            .and_then(|c| c.map.get(host).cloned())
            .filter(|l| l.renew_at > now);
        if let Some(leaf) = cached {
            self.metrics.inc(CACHE_METRIC, &[("result", "hit")]);
            return Ok(leaf);
        }
        self.metrics.inc(CACHE_METRIC, &[("result", "miss")]);
        // Minted outside the lock: two first requests for one host may both mint; both leaves
        // are valid and the later one stays.
        let leaf = Arc::new(self.mint(host)?);
        if let Ok(mut c) = self.cache.lock() {
            if c.map.insert(host.to_owned(), Arc::clone(&leaf)).is_none() {
                c.order.push_back(host.to_owned());
            }
            while c.map.len() > self.capacity {
                match c.order.pop_front() {
                    Some(old) => {
                        c.map.remove(&old);
                    }
                    None => break,
                }
            }
        }
        Ok(leaf)
    }

    /// Signs a new leaf for `host` without touching the cache.
    pub fn mint(&self, host: &str) -> Result<Leaf, MintError> {
        let fail = |reason: String| MintError {
            host: host.to_owned(),
            reason,
        };
        if !self.ca.permits(host) {
            return Err(fail(
                "outside the interception CA's NameConstraints (re-create the CA with `sovgate ca init --permit`)".into(),
            ));
        }
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .map_err(|e| fail(format!("key: {e}")))?;
        let mut params =
            CertificateParams::new(vec![host.to_owned()]).map_err(|e| fail(e.to_string()))?;
        params.distinguished_name.push(DnType::CommonName, host);
        // No BasicConstraints at all: rcgen's ExplicitNoCa encodes `cA FALSE`, a DEFAULT value
        // that DER forbids and strict parsers (pyca/cryptography) refuse.
        params.is_ca = IsCa::NoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::hours(1);
        params.not_after = now + LEAF_VALIDITY;
        let cert = self
            .ca
            .sign(params, &key)
            .map_err(|e| fail(format!("signing: {e}")))?;
        let cert = cert.der().clone();
        let chain = vec![cert.clone(), self.ca.cert_der.clone()];
        let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let mut config = ServerConfig::builder_with_provider(Arc::clone(&self.provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| fail(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(chain, key_der)
            .map_err(|e| fail(e.to_string()))?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Leaf {
            config: Arc::new(config),
            cert,
            renew_at: Instant::now() + LEAF_VALIDITY - RENEW_BEFORE,
        })
    }

    /// Hosts currently cached.
    pub fn cached(&self) -> usize {
        self.cache.lock().map_or(0, |c| c.map.len())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::intercept::ca::{generate_scoped, KeyAlgorithm, NewScope};

    fn minter(cap: usize) -> Minter {
        let permit: Vec<String> = ["a.example", "b.example", "c.example", "10.1.2.3"]
            .map(String::from)
            .to_vec();
        let scope = NewScope::with(&permit).unwrap();
        let new =
            generate_scoped("Mint test CA", KeyAlgorithm::EcdsaP256, 1, Some(&scope)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (c, k) = crate::intercept::ca::write_new(dir.path(), &new).unwrap();
        Minter::new(Ca::load(&c, &k).unwrap(), cap, Arc::new(Metrics::new()))
    }

    #[test]
    fn cache_hits_and_bounds() {
        let m = minter(2);
        let a = m.leaf("a.example").unwrap();
        let again = m.leaf("a.example").unwrap();
        assert!(Arc::ptr_eq(&a, &again));
        m.leaf("b.example").unwrap();
        m.leaf("c.example").unwrap();
        assert_eq!(m.cached(), 2);
        let a2 = m.leaf("a.example").unwrap();
        assert!(!Arc::ptr_eq(&a, &a2), "the oldest host was evicted");
        let hit = m.metrics.get(CACHE_METRIC, &[("result", "hit")]).unwrap();
        let miss = m.metrics.get(CACHE_METRIC, &[("result", "miss")]).unwrap();
        assert_eq!((hit, miss), (1.0, 4.0));
    }

    #[test]
    fn leaf_names_the_host_and_chains_to_the_ca() {
        let m = minter(4);
        for host in ["api.openai.com", "10.1.2.3"] {
            let leaf = m.leaf(host).unwrap();
            let (_, x) = x509_parser::parse_x509_certificate(&leaf.cert).unwrap();
            let (_, ca) = x509_parser::parse_x509_certificate(&m.ca().cert_der).unwrap();
            assert_eq!(x.issuer(), ca.subject());
            x.verify_signature(Some(ca.public_key())).unwrap();
            let san = x.subject_alternative_name().unwrap().unwrap();
            let names = &san.value.general_names;
            assert_eq!(names.len(), 1);
            match (&names[0], host.parse::<std::net::Ipv4Addr>()) {
                (x509_parser::extensions::GeneralName::IPAddress(b), Ok(ip)) => {
                    assert_eq!(*b, &ip.octets()[..])
                }
                (x509_parser::extensions::GeneralName::DNSName(d), Err(_)) => assert_eq!(*d, host),
                other => panic!("{other:?}"),
            }
            let life = x.validity().not_after.timestamp() - x.validity().not_before.timestamp();
            assert_eq!(life, 25 * 3600);
        }
    }

    #[test]
    fn leaves_are_strict_der_and_only_inside_the_ca_scope() {
        let m = minter(4);
        let leaf = m.leaf("a.example").unwrap();
        // Strict: every extension parsed, none unknown, no BasicConstraints (whose only
        // encoding for a leaf in rcgen was an explicit DEFAULT `cA FALSE`).
        let (rest, x) = x509_parser::parse_x509_certificate(&leaf.cert).unwrap();
        assert!(rest.is_empty());
        assert!(x.basic_constraints().unwrap().is_none());
        for ext in x.extensions() {
            assert!(
                !matches!(
                    ext.parsed_extension(),
                    x509_parser::extensions::ParsedExtension::UnsupportedExtension { .. }
                        | x509_parser::extensions::ParsedExtension::ParseError { .. }
                ),
                "{ext:?}"
            );
        }
        let oids: Vec<String> = x
            .extensions()
            .iter()
            .map(|e| e.oid.to_id_string())
            .collect();
        assert_eq!(
            oids,
            ["2.5.29.35", "2.5.29.17", "2.5.29.15", "2.5.29.37"].map(String::from),
            "AKI, SAN, key usage, EKU"
        );
        // The CA's scope is read back from its certificate and enforced.
        let scope = m.ca().scope();
        assert!(!scope.unconstrained);
        assert!(scope.dns.contains(&"api.openai.com".to_owned()));
        for outside in [
            "example.com",
            "www.google.com",
            "10.1.2.4",
            "evil.a.example.com",
        ] {
            let e = m.leaf(outside).unwrap_err().to_string();
            assert!(e.contains("NameConstraints"), "{e}");
        }
        assert!(m.leaf("sub.a.example").is_ok());
    }
}
