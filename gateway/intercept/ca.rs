//! The interception CA: created by `sovgate ca init`, loaded by the gateway to mint leaves.
//!
//! The key stays in this process: it signs leaf certificates and is never serialized, sent or
//! logged ([`Ca`]'s `Debug` prints only the subject). A CA from the company's own PKI works the
//! same as one made here, as long as the key is PKCS#8 (ECDSA P-256/P-384, Ed25519 or RSA).
//! Its NameConstraints, if any, are read back ([`Scope`]) so nothing outside them is minted.

use super::scope::{Net, Scope};
use anyhow::Context;
use rcgen::{
    BasicConstraints, CertificateParams, CidrSubnet, DnType, GeneralSubtree, IsCa, KeyPair,
    KeyUsagePurpose, NameConstraints, SignatureAlgorithm,
};
use rustls::pki_types::CertificateDer;
use std::fmt;
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// A loaded CA: its certificate as issued, and what is needed to sign with it.
pub struct Ca {
    /// The CA certificate exactly as distributed (sent after each leaf).
    pub cert_der: CertificateDer<'static>,
    subject: String,
    /// The CA's subject and key identifier, as rcgen needs them to name the issuer.
    issuer: rcgen::Certificate,
    key: KeyPair,
    scope: Scope,
}

impl fmt::Debug for Ca {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ca")
            .field("subject", &self.subject)
            .field("key", &"***")
            .finish()
    }
}

impl Ca {
    pub fn load(cert: &Path, key: &Path) -> anyhow::Result<Ca> {
        let cert_pem = std::fs::read_to_string(cert)
            .with_context(|| format!("reading ca_cert {}", cert.display()))?;
        let key_pem = std::fs::read_to_string(key)
            .with_context(|| format!("reading ca_key {}", key.display()))?;
        Ca::from_pem(&cert_pem, &key_pem)
            .with_context(|| format!("CA {} / {}", cert.display(), key.display()))
    }

    pub fn from_pem(cert_pem: &str, key_pem: &str) -> anyhow::Result<Ca> {
        let cert_der = rustls_pemfile::certs(&mut cert_pem.as_bytes())
            .next()
            .context("no PEM certificate in ca_cert")?
            .context("parsing ca_cert")?;
        // Errors from the key parser name no key material.
        let key = KeyPair::from_pem(key_pem)
            .map_err(|e| anyhow::anyhow!("ca_key is not a PKCS#8 PEM private key: {e}"))?;
        let (_, parsed) = x509_parser::parse_x509_certificate(&cert_der)
            .map_err(|e| anyhow::anyhow!("ca_cert is not an X.509 certificate: {e}"))?;
        anyhow::ensure!(
            parsed.public_key().raw == key.public_key_der().as_slice(),
            "ca_key does not belong to ca_cert"
        );
        anyhow::ensure!(
            parsed.is_ca(),
            "ca_cert is not a CA certificate (basicConstraints CA:TRUE missing)"
        );
        let subject = parsed.subject().to_string();
        let scope = scope_of(&parsed)?;
        let params = CertificateParams::from_ca_cert_der(&cert_der)
            .map_err(|e| anyhow::anyhow!("reading ca_cert for signing: {e}"))?;
        let issuer = params
            .self_signed(&key)
            .map_err(|e| anyhow::anyhow!("preparing the CA for signing: {e}"))?;
        Ok(Ca {
            cert_der,
            subject,
            issuer,
            key,
            scope,
        })
    }

    /// What the CA's NameConstraints let it sign for.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// Whether a leaf for `host` would be inside the CA's NameConstraints.
    pub fn permits(&self, host: &str) -> bool {
        self.scope.permits(host)
    }

    /// Signs a leaf described by `params` for `public_key`.
    pub(super) fn sign(
        &self,
        params: CertificateParams,
        leaf_key: &KeyPair,
    ) -> Result<rcgen::Certificate, rcgen::Error> {
        params.signed_by(leaf_key, &self.issuer, &self.key)
    }

    pub fn subject(&self) -> &str {
        &self.subject
    }
}

/// The key algorithm of a new CA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KeyAlgorithm {
    EcdsaP256,
    EcdsaP384,
}

impl KeyAlgorithm {
    fn rcgen(self) -> &'static SignatureAlgorithm {
        match self {
            KeyAlgorithm::EcdsaP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            KeyAlgorithm::EcdsaP384 => &rcgen::PKCS_ECDSA_P384_SHA384,
        }
    }
}

/// A freshly generated CA, as PEM text.
pub struct NewCa {
    pub cert_pem: String,
    key_pem: String,
}

/// Reads a CA certificate's NameConstraints (DNS names and IP ranges; other name forms do not
/// name a server).
fn scope_of(cert: &x509_parser::certificate::X509Certificate<'_>) -> anyhow::Result<Scope> {
    use x509_parser::extensions::GeneralName;
    let nc = cert
        .name_constraints()
        .map_err(|e| anyhow::anyhow!("ca_cert has unreadable NameConstraints: {e}"))?;
    let Some(nc) = nc else {
        return Ok(Scope::unconstrained());
    };
    let mut scope = Scope::default();
    let split = |trees: &Option<Vec<x509_parser::extensions::GeneralSubtree<'_>>>| {
        let (mut dns, mut ips) = (Vec::new(), Vec::new());
        for t in trees.iter().flatten() {
            match &t.base {
                GeneralName::DNSName(d) => dns.push(d.to_ascii_lowercase()),
                GeneralName::IPAddress(b) => ips.extend(Net::from_der(b)),
                _ => {}
            }
        }
        (dns, ips)
    };
    (scope.dns, scope.ips) = split(&nc.value.permitted_subtrees);
    (scope.excluded_dns, scope.excluded_ips) = split(&nc.value.excluded_subtrees);
    Ok(scope)
}

/// What a new CA may sign for: `None` for no NameConstraints at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewScope {
    pub dns: Vec<String>,
    pub ips: Vec<Net>,
}

impl NewScope {
    /// The built-in LLM API domains plus `permit` (domains, IP addresses or CIDR ranges).
    pub fn with(permit: &[String]) -> anyhow::Result<NewScope> {
        let mut scope = NewScope {
            dns: super::scope::default_domains(),
            ips: Vec::new(),
        };
        for p in permit {
            if let Some(net) = Net::parse(p.trim()) {
                scope.ips.push(net);
                continue;
            }
            let d = p.trim().trim_start_matches("*.").trim_start_matches('.');
            let host = super::hosts::normalize_host(d)
                .filter(|h| !h.contains(['*', '?']) && h.contains('.'))
                .with_context(|| {
                    format!("--permit `{p}` is not a domain, IP address or CIDR range")
                })?;
            scope.dns.push(host);
        }
        scope.dns.sort();
        scope.dns.dedup();
        Ok(scope)
    }

    fn constraints(&self) -> NameConstraints {
        let subnet = |n: &Net| match n.addr {
            IpAddr::V4(a) => CidrSubnet::from_v4_prefix(a.octets(), n.prefix),
            IpAddr::V6(a) => CidrSubnet::from_v6_prefix(a.octets(), n.prefix),
        };
        let mut permitted: Vec<GeneralSubtree> = self
            .dns
            .iter()
            .cloned()
            .map(GeneralSubtree::DnsName)
            .collect();
        permitted.extend(
            self.ips
                .iter()
                .map(|n| GeneralSubtree::IpAddress(subnet(n))),
        );
        // No iPAddress subtree permitted would leave every address unconstrained (RFC 5280
        // constrains only the name forms it lists): exclude them all instead.
        let excluded = if self.ips.is_empty() {
            vec![
                GeneralSubtree::IpAddress(CidrSubnet::from_v4_prefix([0; 4], 0)),
                GeneralSubtree::IpAddress(CidrSubnet::from_v6_prefix([0; 16], 0)),
            ]
        } else {
            Vec::new()
        };
        NameConstraints {
            permitted_subtrees: permitted,
            excluded_subtrees: excluded,
        }
    }
}

/// Generates a CA constrained to the built-in LLM API domains (see [`generate_scoped`]).
pub fn generate(common_name: &str, alg: KeyAlgorithm, days: u32) -> anyhow::Result<NewCa> {
    generate_scoped(common_name, alg, days, Some(&NewScope::with(&[])?))
}

/// Generates a CA certificate and key: CA:TRUE with path length 0 (it signs leaves only),
/// keyCertSign and cRLSign, valid from an hour ago for `days` days, with NameConstraints for
/// `scope` (critical, as RFC 5280 requires) unless it is `None`.
pub fn generate_scoped(
    common_name: &str,
    alg: KeyAlgorithm,
    days: u32,
    scope: Option<&NewScope>,
) -> anyhow::Result<NewCa> {
    let key = KeyPair::generate_for(alg.rcgen()).map_err(|e| anyhow::anyhow!("key: {e}"))?;
    let mut params = CertificateParams::new(Vec::<String>::new())
        .map_err(|e| anyhow::anyhow!("CA parameters: {e}"))?;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params
        .distinguished_name
        .push(DnType::OrganizationName, "Sovgate interception");
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::hours(1);
    params.not_after = now + time::Duration::days(i64::from(days));
    params.name_constraints = scope.map(NewScope::constraints);
    let cert = params
        .self_signed(&key)
        .map_err(|e| anyhow::anyhow!("signing the CA: {e}"))?;
    Ok(NewCa {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// Writes `ca.pem` and `ca.key` (mode 0600) into `dir`, refusing to replace either file.
pub fn write_new(dir: &Path, ca: &NewCa) -> anyhow::Result<(PathBuf, PathBuf)> {
    let cert = dir.join("ca.pem");
    let key = dir.join("ca.key");
    for p in [&cert, &key] {
        anyhow::ensure!(
            !p.exists(),
            "{} exists; refusing to overwrite it (move it away to make a new CA)",
            p.display()
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    // The key first, created with 0600 from the start: it never exists with wider permissions.
    write_exclusive(&key, ca.key_pem.as_bytes(), 0o600)?;
    write_exclusive(&cert, ca.cert_pem.as_bytes(), 0o644)?;
    Ok((cert, key))
}

fn write_exclusive(path: &Path, bytes: &[u8], mode: u32) -> anyhow::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut f = opts
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn generated_ca_loads_and_refuses_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let ca = generate("Test CA", KeyAlgorithm::EcdsaP256, 30).unwrap();
        let (cert, key) = write_new(dir.path(), &ca).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&key).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let loaded = Ca::load(&cert, &key).unwrap();
        assert!(loaded.subject().contains("Test CA"));
        assert!(!format!("{loaded:?}").contains("PRIVATE"));
        assert!(write_new(dir.path(), &ca).is_err());
    }

    #[test]
    fn mismatched_key_is_refused() {
        let a = generate("A", KeyAlgorithm::EcdsaP256, 1).unwrap();
        let b = generate("B", KeyAlgorithm::EcdsaP384, 1).unwrap();
        assert!(Ca::from_pem(&a.cert_pem, &b.key_pem).is_err());
    }
}
