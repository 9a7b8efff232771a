//! The transparent TLS listener (`listen.transparent`, ext): DNS (or a routing rule) sends
//! clients that cannot be configured with a proxy straight to Sovgate. The SNI of the client's
//! TLS hello says which host it meant; an LLM host gets its minted leaf and the pipeline, any
//! other name (or none) is refused in the handshake with a `handshake_failure` alert.

use super::{handshake, serve_decrypted, TLS_HANDSHAKE};
use crate::proxy::State;
use rustls::server::{Acceptor, ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use tokio::net::TcpStream;
use tokio_rustls::LazyConfigAcceptor;

const LISTENER: &str = "transparent";

/// Serves one connection on the transparent listener.
pub async fn serve(state: Arc<State>, stream: TcpStream, remote: SocketAddr, local: SocketAddr) {
    let Some(intercept) = state.intercept.clone() else {
        return;
    };
    if !state.config.egress.client_allowed(remote.ip()) {
        handshake(&state, LISTENER, "client_denied", remote, "-");
        return;
    }
    let hello = tokio::time::timeout(
        TLS_HANDSHAKE,
        LazyConfigAcceptor::new(Acceptor::default(), stream),
    )
    .await;
    let start = match hello {
        Ok(Ok(s)) => s,
        Ok(Err(_)) => return handshake(&state, LISTENER, "failed", remote, "-"),
        Err(_) => return handshake(&state, LISTENER, "timeout", remote, "-"),
    };
    let sni = start.client_hello().server_name().map(str::to_owned);
    // The client dialled the provider's port 443; the listener's own port says nothing of it.
    let target = sni
        .as_deref()
        .and_then(super::hosts::normalize_host)
        .and_then(|h| intercept.hosts.target(&h, 443))
        // A host outside the CA's NameConstraints gets no leaf: refused like an unknown name.
        .filter(|t| intercept.minter.ca().permits(&t.host));
    let Some(target) = target else {
        let host = sni.as_deref().unwrap_or("-");
        tracing::info!(client = %remote, sni = host, "transparent listener: not an LLM host, handshake refused");
        handshake(&state, LISTENER, "unknown_sni", remote, host);
        // No certificate resolves: rustls answers with a handshake_failure alert.
        if let Some(config) = refusing_config() {
            let _ = start.into_stream(config).await;
        }
        return;
    };
    let leaf = match intercept.minter.leaf(&target.host) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("{e}");
            return handshake(&state, LISTENER, "failed", remote, &target.host);
        }
    };
    match tokio::time::timeout(TLS_HANDSHAKE, start.into_stream(Arc::clone(&leaf.config))).await {
        Ok(Ok(tls)) => {
            handshake(&state, LISTENER, "ok", remote, &target.host);
            serve_decrypted(state, tls, remote, local, LISTENER, target, None).await;
        }
        Ok(Err(e)) => {
            tracing::info!(client = %remote, host = %target.host, "transparent TLS handshake failed: {e}");
            handshake(&state, LISTENER, "failed", remote, &target.host);
        }
        Err(_) => handshake(&state, LISTENER, "timeout", remote, &target.host),
    }
}

#[derive(Debug)]
struct NoCertificate;

impl ResolvesServerCert for NoCertificate {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        None
    }
}

/// A server config that resolves no certificate, to end a handshake with an alert.
fn refusing_config() -> Option<Arc<rustls::ServerConfig>> {
    static CONFIG: OnceLock<Option<Arc<rustls::ServerConfig>>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .ok()
                .map(|b| {
                    Arc::new(
                        b.with_no_client_auth()
                            .with_cert_resolver(Arc::new(NoCertificate)),
                    )
                })
        })
        .clone()
}
