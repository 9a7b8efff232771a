//! The forward listener: what `HTTPS_PROXY` points at.
//!
//! `CONNECT host:port` to an LLM host is answered `200`, then the client's TLS is terminated with
//! a leaf minted for that host and the requests inside run through the pipeline. Other hosts are
//! tunneled when `[egress] tunnel` allows them and denied (403, audited) otherwise. An
//! absolute-form plain-HTTP request (`POST http://api.openai.com/v1/...`) to an LLM host goes
//! through the pipeline directly; plain HTTP to anything else is denied.

use super::hosts::{normalize, Target};
use super::proxy_auth::{self, ProxyTenant};
use super::{handshake, serve_decrypted, EgressEvent, TLS_HANDSHAKE};
use crate::error::GatewayError;
use crate::proxy::{full, handle, ConnInfo, ProxyBody, Sniffed, State, Wire, MAX_HEAD};
use http::{Method, Request, Response};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use sovgate_core::api::Family;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpStream;

const LISTENER: &str = "forward";

/// Serves one client connection on the forward listener (HTTP/1.1, as proxies are spoken to).
pub async fn serve(
    state: Arc<State>,
    stream: TcpStream,
    remote: SocketAddr,
    local: SocketAddr,
) -> Result<(), hyper::Error> {
    let max_headers = state.config.limits.max_headers;
    let (io, sniff) = Sniffed::new(stream, Wire::Http1, true, max_headers);
    let svc = service_fn(move |req: Request<Incoming>| {
        let state = Arc::clone(&state);
        let framing = sniff.next_request();
        let sniff = sniff.clone();
        async move {
            let is_connect = req.method() == Method::CONNECT;
            let conn = ConnInfo {
                remote,
                local,
                listener: LISTENER,
                framing,
                intercepted: None,
                tenant: None,
            };
            let resp = on_request(state, conn, req).await;
            if is_connect {
                // The guard holds the bytes after a CONNECT head until it knows whether they
                // are a tunnel or the next request.
                sniff.connect_answered(resp.status().is_success());
            }
            Ok::<_, Infallible>(resp)
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.max_headers(max_headers).max_buf_size(MAX_HEAD);
    builder
        .serve_connection(TokioIo::new(io), svc)
        .with_upgrades()
        .await
}

async fn on_request(
    state: Arc<State>,
    mut conn: ConnInfo,
    req: Request<Incoming>,
) -> Response<ProxyBody> {
    let host = req
        .uri()
        .authority()
        .map_or_else(String::new, |a| a.as_str().to_owned());
    let framing = conn.framing.take();
    let refuse = |tenant: &str, e: GatewayError| {
        let ev = EgressEvent {
            client: conn.remote,
            listener: LISTENER,
            tenant,
            action: "refuse",
            status: e.status().as_u16(),
            reason: format!("{}: {}", e.code(), e.message()),
            host: &host,
        };
        ev.record(&state);
        error_response(&e)
    };
    if let Some(r) = &framing {
        return refuse("-", GatewayError::framing(r));
    }
    if !state.config.egress.client_allowed(conn.remote.ip()) {
        let msg = format!(
            "{} is not in [egress] clients; this proxy does not serve it",
            conn.remote.ip()
        );
        return refuse("-", GatewayError::forbidden("client_not_allowed", msg));
    }
    let Some(intercept) = state.intercept.clone() else {
        let msg = "interception is not configured ([tls] ca_cert)".to_owned();
        return refuse("-", GatewayError::unavailable("no_ca", msg));
    };
    let tenant = match proxy_auth::check(&state.config, req.headers(), conn.local) {
        Ok(ProxyTenant::Tenant(i)) => Some(i),
        Ok(ProxyTenant::Open) => None,
        Err(why) => {
            let mut resp = refuse("-", GatewayError::proxy_auth_required(why));
            resp.headers_mut().insert(
                http::header::PROXY_AUTHENTICATE,
                http::HeaderValue::from_static("Basic realm=\"sovgate\", charset=\"UTF-8\""),
            );
            return resp;
        }
    };
    conn.tenant = tenant;
    let tenant_name = tenant
        .and_then(|i| state.config.tenants.get(i))
        .map_or("-", |t| t.name.as_str())
        .to_owned();
    let is_connect = req.method() == Method::CONNECT;
    let default_port = if is_connect { 443 } else { 80 };
    let absolute_http = req.uri().scheme_str() == Some("http");
    if !is_connect && !absolute_http {
        let msg = "this is a forward proxy: send CONNECT host:443, or an absolute http:// URL; base_url clients use the reverse listener".to_owned();
        return refuse(
            &tenant_name,
            GatewayError::bad_request("not_a_proxy_request", msg),
        );
    }
    let Some((h, port)) = normalize(&host, default_port) else {
        let msg = format!("`{host}` is not a host name or IP address");
        return refuse(
            &tenant_name,
            GatewayError::bad_request("bad_authority", msg),
        );
    };
    match intercept.hosts.target(&h, port) {
        Some(target) if is_connect => {
            if let Err(e) = connect_allowed(&state, &intercept, &target) {
                return refuse(&tenant_name, e);
            }
            state.metrics.inc(
                super::EGRESS,
                &[("listener", LISTENER), ("decision", "intercept")],
            );
            let on_upgrade = hyper::upgrade::on(req);
            tokio::spawn(async move {
                match on_upgrade.await {
                    Ok(up) => intercept_tls(state, TokioIo::new(up), conn, target).await,
                    Err(e) => tracing::debug!("CONNECT upgrade failed: {e}"),
                }
            });
            ok_response()
        }
        Some(target) => {
            conn.intercepted = Some(Arc::new(target));
            handle(state, conn, req).await
        }
        None if is_connect && state.config.egress.tunnel_allowed(&h, port) => {
            tunnel(&state, conn, req, &h, port, &tenant_name).await
        }
        None => {
            let msg = format!(
                "{h}:{port} is not an LLM API and not in [egress] tunnel; Sovgate denies egress to it"
            );
            refuse(&tenant_name, GatewayError::forbidden("egress_denied", msg))
        }
    }
}

/// An intercepted host is reached only on its provider's `ports` (443 for a built-in host),
/// and only when the CA may sign for it: refused before the 200, never tunneled instead.
fn connect_allowed(
    state: &State,
    intercept: &super::Intercept,
    target: &Target,
) -> Result<(), GatewayError> {
    let ports = target
        .provider
        .and_then(|i| state.config.providers.get(i))
        .map_or(&[443][..], |p| &p.ports[..]);
    if !ports.contains(&target.port) {
        let msg = format!(
            "{}:{} is an LLM API host; Sovgate intercepts it only on port(s) {ports:?} and never tunnels it",
            target.host, target.port
        );
        return Err(GatewayError::forbidden("egress_port_denied", msg));
    }
    if !intercept.minter.ca().permits(&target.host) {
        let msg = format!(
            "{} is outside the interception CA's NameConstraints; nothing was intercepted or tunneled (re-create the CA with `sovgate ca init --permit DOMAIN`)",
            target.host
        );
        return Err(GatewayError::forbidden("ca_scope", msg));
    }
    Ok(())
}

/// Terminates the client's TLS inside the tunnel with the leaf for `target` and serves it.
async fn intercept_tls<S>(state: Arc<State>, io: S, conn: ConnInfo, target: Target)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let Some(intercept) = state.intercept.clone() else {
        return;
    };
    let leaf = match intercept.minter.leaf(&target.host) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("{e}");
            handshake(&state, LISTENER, "failed", conn.remote, &target.host);
            return;
        }
    };
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::clone(&leaf.config));
    match tokio::time::timeout(TLS_HANDSHAKE, acceptor.accept(io)).await {
        Ok(Ok(tls)) => {
            handshake(&state, LISTENER, "ok", conn.remote, &target.host);
            serve_decrypted(
                state,
                tls,
                conn.remote,
                conn.local,
                LISTENER,
                target,
                conn.tenant,
            )
            .await;
        }
        Ok(Err(e)) => {
            // A client that pins the provider's certificate ends up here, host by host.
            tracing::info!(client = %conn.remote, host = %target.host, "intercepted TLS handshake failed: {e}");
            handshake(&state, LISTENER, "failed", conn.remote, &target.host);
        }
        Err(_) => handshake(&state, LISTENER, "timeout", conn.remote, &target.host),
    }
}

/// Connects to an allowlisted host first (so a dead target is a 502, not a 200 and a reset),
/// answers 200, then relays bytes both ways.
async fn tunnel(
    state: &Arc<State>,
    conn: ConnInfo,
    req: Request<Incoming>,
    host: &str,
    port: u16,
    tenant: &str,
) -> Response<ProxyBody> {
    let target = format!("{host}:{port}");
    let connect = TcpStream::connect((host, port));
    let upstream = match tokio::time::timeout(state.config.limits.connect_timeout, connect).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return tunnel_failed(state, &conn, tenant, &target, &e.to_string()),
        Err(_) => return tunnel_failed(state, &conn, tenant, &target, "timed out"),
    };
    let ev = EgressEvent {
        client: conn.remote,
        listener: LISTENER,
        tenant,
        action: "tunnel",
        status: 200,
        reason: "egress_tunnel: allowed by [egress] tunnel".into(),
        host: &target,
    };
    if !ev.record(state) {
        let msg = "the audit log cannot be written; nothing was tunneled";
        return error_response(&GatewayError::internal("audit_unavailable", msg));
    }
    let on_upgrade = hyper::upgrade::on(req);
    tokio::spawn(async move {
        let mut upstream = upstream;
        if let Ok(up) = on_upgrade.await {
            let mut client = TokioIo::new(up);
            let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
        }
    });
    ok_response()
}

fn tunnel_failed(
    state: &State,
    conn: &ConnInfo,
    tenant: &str,
    target: &str,
    why: &str,
) -> Response<ProxyBody> {
    let msg = format!("cannot reach {target}: {why}");
    let ev = EgressEvent {
        client: conn.remote,
        listener: LISTENER,
        tenant,
        action: "refuse",
        status: 502,
        reason: format!("tunnel_unreachable: {msg}"),
        host: target,
    };
    ev.record(state);
    error_response(&GatewayError::bad_gateway("tunnel_unreachable", msg))
}

fn ok_response() -> Response<ProxyBody> {
    Response::new(full(bytes::Bytes::new()))
}

/// A refusal of the proxy request itself, in the OpenAI error shape (the client has not said
/// which API it speaks yet), built where every refusal is built.
fn error_response(e: &GatewayError) -> Response<ProxyBody> {
    e.to_response(Family::OpenAi).map(full)
}
