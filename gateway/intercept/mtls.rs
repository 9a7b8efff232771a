//! mTLS on the reverse listener (`[tls] client_ca`, ext): for systems that call out from their
//! own cloud and cannot use a forward proxy (a Salesforce Named Credential with a client
//! certificate). A client certificate must chain to `client_ca` and name a tenant in its subject
//! CN or a SAN (`client_names` of a `[[tenants]]` entry); anything else — no certificate, another
//! CA, an unknown name — is refused inside the handshake, before any HTTP is read.

use crate::config::Config;
use anyhow::Context;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};
use std::sync::Arc;
use x509_parser::extensions::GeneralName;

/// The client verifier for the reverse listener, when `client_ca` is configured.
pub fn verifier(config: &Config) -> anyhow::Result<Option<Arc<dyn ClientCertVerifier>>> {
    let Some(path) = &config.tls.client_ca else {
        return Ok(None);
    };
    let pem =
        std::fs::read(path).with_context(|| format!("reading client_ca {}", path.display()))?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut &pem[..]) {
        let cert = cert.with_context(|| format!("parsing {}", path.display()))?;
        roots
            .add(cert)
            .with_context(|| format!("adding a client CA from {}", path.display()))?;
    }
    anyhow::ensure!(
        !roots.is_empty(),
        "{} holds no PEM certificate",
        path.display()
    );
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let inner = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .context("building the client certificate verifier")?;
    let names = tenant_names(config);
    anyhow::ensure!(
        !names.is_empty(),
        "[tls] client_ca is set but no [[tenants]] entry has client_names; no client could be admitted"
    );
    Ok(Some(Arc::new(TenantVerifier { inner, names })))
}

fn tenant_names(config: &Config) -> Vec<(String, usize)> {
    config
        .tenants
        .iter()
        .enumerate()
        .flat_map(|(i, t)| t.client_names.iter().map(move |n| (n.clone(), i)))
        .collect()
}

/// The tenant a verified client certificate belongs to: the first of its names (subject CN,
/// then DNS, email and URI SANs) listed in some tenant's `client_names`.
pub fn tenant_of(config: &Config, certs: Option<&[CertificateDer<'_>]>) -> Option<usize> {
    let end_entity = certs?.first()?;
    let names = tenant_names(config);
    lookup(&names, end_entity)
}

fn lookup(names: &[(String, usize)], cert: &CertificateDer<'_>) -> Option<usize> {
    cert_names(cert)
        .iter()
        .find_map(|n| names.iter().find(|(want, _)| want == n).map(|(_, i)| *i))
}

/// Subject CNs and SAN names of a certificate, lowercase.
pub fn cert_names(cert: &CertificateDer<'_>) -> Vec<String> {
    let Ok((_, x)) = x509_parser::parse_x509_certificate(cert) else {
        return Vec::new();
    };
    let mut out: Vec<String> = x
        .subject()
        .iter_common_name()
        .filter_map(|cn| cn.as_str().ok())
        .map(str::to_ascii_lowercase)
        .collect();
    if let Ok(Some(san)) = x.subject_alternative_name() {
        for n in &san.value.general_names {
            match n {
                GeneralName::DNSName(s) | GeneralName::RFC822Name(s) | GeneralName::URI(s) => {
                    out.push(s.to_ascii_lowercase());
                }
                _ => {}
            }
        }
    }
    out
}

/// WebPKI chain verification, then the tenant mapping, both inside the handshake.
#[derive(Debug)]
struct TenantVerifier {
    inner: Arc<dyn ClientCertVerifier>,
    names: Vec<(String, usize)>,
}

impl ClientCertVerifier for TenantVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let ok = self
            .inner
            .verify_client_cert(end_entity, intermediates, now)?;
        match lookup(&self.names, end_entity) {
            Some(_) => Ok(ok),
            None => Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            )),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
