//! Egress interception: the forward proxy (CONNECT), the transparent TLS listener (DNS points
//! provider hosts at Sovgate) and mTLS on the reverse listener.
//!
//! The forward and transparent listeners terminate TLS for LLM hosts with leaves minted from the
//! company CA ([`mint`]) and hand the decrypted connection to the same pipeline as the reverse
//! listener ([`crate::proxy`]'s handler), with the addressed host attached ([`hosts::Target`])
//! so the request is identified and routed as a call to that provider. Everything else follows
//! `[egress]`: tunneled when allowlisted, denied otherwise.
//!
//! | listener | decides the host by | then |
//! |---|---|---|
//! | forward (`listen.forward`) | the CONNECT authority, or the absolute-form URL | intercept, tunnel or deny |
//! | transparent (`listen.transparent`) | the TLS SNI | intercept, or refuse the handshake |
//! | reverse with `[tls] client_ca` | the client certificate | tenant from CN/SAN, or refuse the handshake |

pub mod ca;
pub mod connect;
pub mod hosts;
pub mod mint;
pub mod mtls;
mod proxy_auth;
pub mod scope;
pub mod transparent;

use crate::audit::{AuditEvent, AuditRecord};
use crate::config::{Config, Provider, Upstream};
use crate::error::GatewayError;
use crate::metrics::{MetricKind, Metrics};
use crate::proxy::{ConnInfo, State};
use hosts::{HostTable, Target};
use mint::Minter;
use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// The longest a client may take to finish a TLS handshake.
pub const TLS_HANDSHAKE: Duration = Duration::from_secs(10);

pub const HANDSHAKES: &str = "sovgate_tls_handshakes_total";
pub const HANDSHAKE_FAILURES: &str = "sovgate_tls_handshake_failures_total";
pub const EGRESS: &str = "sovgate_egress_decisions_total";

/// What the interception listeners share: the host tables and the certificate minter.
#[derive(Debug)]
pub struct Intercept {
    pub hosts: HostTable,
    pub minter: Minter,
}

impl Intercept {
    /// Built when `[tls] ca_cert` is set; loading fails startup if the CA cannot be used.
    pub fn from_config(config: &Config, metrics: &Arc<Metrics>) -> anyhow::Result<Option<Self>> {
        let (Some(cert), Some(key)) = (&config.tls.ca_cert, &config.tls.ca_key) else {
            return Ok(None);
        };
        let ca = ca::Ca::load(cert, key)?;
        tracing::info!(subject = ca.subject(), "interception CA loaded");
        if ca.scope().unconstrained {
            tracing::warn!("the interception CA has no NameConstraints: a leaked key could sign for any site its clients trust it for; re-create it with `sovgate ca init`");
        }
        for p in &config.providers {
            for h in p.hosts.iter().filter(|h| !ca.scope().covers(h)) {
                tracing::warn!(
                    provider = %p.name,
                    host = %h,
                    "the interception CA's NameConstraints do not cover this provider host: such connections are refused, not intercepted; re-create the CA with `sovgate ca init --permit DOMAIN`"
                );
            }
        }
        describe_metrics(metrics);
        Ok(Some(Intercept {
            hosts: HostTable::new(config),
            minter: Minter::new(ca, config.egress.cert_cache, Arc::clone(metrics)),
        }))
    }
}

fn describe_metrics(m: &Metrics) {
    m.describe(
        HANDSHAKES,
        MetricKind::Counter,
        "TLS handshakes by listener and outcome (ok, failed, timeout, unknown_sni)",
    );
    m.describe(
        HANDSHAKE_FAILURES,
        MetricKind::Counter,
        "Failed TLS handshakes by listener, client address and host (a certificate-pinning client shows here)",
    );
    m.describe(
        mint::CACHE_METRIC,
        MetricKind::Counter,
        "Minted-certificate cache lookups by result (hit, miss)",
    );
    m.describe(
        EGRESS,
        MetricKind::Counter,
        "Forward and transparent listener decisions (intercept, tunnel, deny, auth_required, client_denied)",
    );
}

/// Counts one handshake; failures also by client address and host.
pub fn handshake(state: &State, listener: &str, outcome: &str, client: SocketAddr, host: &str) {
    state
        .metrics
        .inc(HANDSHAKES, &[("listener", listener), ("outcome", outcome)]);
    if outcome != "ok" {
        let ip = crate::config::canonical_ip(client.ip()).to_string();
        state.metrics.inc(
            HANDSHAKE_FAILURES,
            &[
                ("listener", listener),
                ("client", &ip),
                ("host", host),
                ("outcome", outcome),
            ],
        );
    }
}

/// Serves a decrypted intercepted connection through the pipeline, as calls to `target`.
pub(crate) async fn serve_decrypted<S>(
    state: Arc<State>,
    tls: tokio_rustls::server::TlsStream<S>,
    remote: SocketAddr,
    local: SocketAddr,
    listener: &'static str,
    target: Target,
    tenant: Option<usize>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let wire = crate::proxy::negotiated(tls.get_ref().1.alpn_protocol());
    let builder = crate::proxy::http_builder(&state);
    let base = ConnInfo {
        remote,
        local,
        listener,
        framing: None,
        intercepted: Some(Arc::new(target)),
        tenant,
    };
    if let Err(e) = crate::proxy::serve_pipeline(&builder, tls, wire, base, state).await {
        tracing::debug!(%remote, "intercepted connection ended with error: {e}");
    }
}

/// Where a request to provider `p` goes. An intercepted request to a provider without a
/// configured `upstream` goes to the host the client addressed (over TLS, verified), so a
/// regional or per-resource host is kept; otherwise the configured upstream.
pub fn upstream_for<'a>(
    p: &'a Provider,
    target: Option<&Target>,
) -> Result<Cow<'a, Upstream>, GatewayError> {
    match target {
        Some(t) if p.follow_host => Ok(Cow::Owned(Upstream {
            https: true,
            host: t.host.clone(),
            // Absolute-form plain HTTP (port 80) still leaves over TLS.
            port: if t.port == 80 { 443 } else { t.port },
            base_path: String::new(),
        })),
        None if p.follow_host && p.upstream.host.contains("sovgate.invalid") => {
            Err(GatewayError::unavailable(
                "provider_no_upstream",
                format!(
                    "provider `{}` names only host patterns and no upstream; set `upstream` to reach it from the reverse listener",
                    p.name
                ),
            ))
        }
        _ => Ok(Cow::Borrowed(&p.upstream)),
    }
}

/// A decision taken before any HTTP request was read from inside a tunnel: a tunnel, a
/// denial, a refused proxy credential or client address.
pub(crate) struct EgressEvent<'a> {
    pub client: SocketAddr,
    pub listener: &'a str,
    pub tenant: &'a str,
    pub action: &'a str,
    pub status: u16,
    pub reason: String,
    pub host: &'a str,
}

impl EgressEvent<'_> {
    /// Counts and audits the decision. Returns whether the audit record was written.
    pub(crate) fn record(&self, state: &State) -> bool {
        let decision = match self.status {
            407 => "auth_required",
            _ => self.action,
        };
        state.metrics.inc(
            EGRESS,
            &[("listener", self.listener), ("decision", decision)],
        );
        let mut rec = AuditRecord::new(AuditEvent::Decision, crate::proxy::request_id());
        rec.client = self.client.to_string();
        rec.listener = self.listener.to_owned();
        rec.tenant = self.tenant.to_owned();
        rec.api = "egress".into();
        rec.action = self.action.to_owned();
        rec.status = Some(self.status);
        rec.reason = Some(self.reason.clone());
        rec.extra.insert("host".into(), self.host.into());
        match state.audit.append(&rec) {
            Ok(()) => true,
            Err(e) => {
                tracing::error!("audit record for an egress decision failed: {e}");
                false
            }
        }
    }
}
