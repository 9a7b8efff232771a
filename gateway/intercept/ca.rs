//! The interception CA: created by `sovgate ca init`, loaded by the gateway to mint leaves.
//!
//! The key stays in this process: it signs leaf certificates and is never serialized, sent or
//! logged ([`Ca`]'s `Debug` prints only the subject). A CA from the company's own PKI works the
//! same as one made here, as long as the key is PKCS#8 (ECDSA P-256/P-384, Ed25519 or RSA).

use anyhow::Context;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose, SignatureAlgorithm,
};
use rustls::pki_types::CertificateDer;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A loaded CA: its certificate as issued, and what is needed to sign with it.
pub struct Ca {
    /// The CA certificate exactly as distributed (sent after each leaf).
    pub cert_der: CertificateDer<'static>,
    subject: String,
    /// The CA's subject and key identifier, as rcgen needs them to name the issuer.
    issuer: rcgen::Certificate,
    key: KeyPair,
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
        })
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

/// Generates a CA certificate and key: CA:TRUE with path length 0 (it signs leaves only),
/// keyCertSign and cRLSign, valid from an hour ago for `days` days.
pub fn generate(common_name: &str, alg: KeyAlgorithm, days: u32) -> anyhow::Result<NewCa> {
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
