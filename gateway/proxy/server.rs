//! Listeners: accept loops feeding connections to hyper (HTTP/1.1 and HTTP/2, auto-detected).

use super::admin;
use super::framing::{Sniffed, Wire, MAX_HEAD};
use super::handler::handle;
use super::health;
use super::state::State;
use super::ConnInfo;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// A running gateway: the addresses it actually bound (ports may have been 0) and a stop switch.
pub struct Running {
    pub reverse: Option<SocketAddr>,
    pub admin: Option<SocketAddr>,
    pub forward: Option<SocketAddr>,
    pub transparent: Option<SocketAddr>,
    pub state: Arc<State>,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Stops accepting; connections in flight finish on their own.
    pub fn shutdown(&self) {
        let _ = self.stop.send(true);
    }

    /// Waits until every listener has stopped.
    pub async fn join(self) {
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Reverse,
    Admin,
    Forward,
    Transparent,
}

/// Binds every configured listener and starts serving.
pub async fn start(state: Arc<State>) -> anyhow::Result<Running> {
    let (stop, stop_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    let mut bound = [None, None, None, None];
    let cfg = Arc::clone(&state.config);
    for (i, (addr, kind)) in [
        (cfg.listen.reverse, Kind::Reverse),
        (cfg.listen.admin, Kind::Admin),
        (cfg.listen.forward, Kind::Forward),
        (cfg.listen.transparent, Kind::Transparent),
    ]
    .into_iter()
    .enumerate()
    {
        let Some(addr) = addr else { continue };
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
        bound[i] = Some(listener.local_addr()?);
        tasks.push(tokio::spawn(accept_loop(
            listener,
            kind,
            Arc::clone(&state),
            stop_rx.clone(),
        )));
    }
    for pool in &state.pools {
        let client = state.client.clone();
        if let Some(t) = health::spawn(Arc::clone(pool), client, stop_rx.clone()) {
            tasks.push(t);
        }
    }
    Ok(Running {
        reverse: bound[0],
        admin: bound[1],
        forward: bound[2],
        transparent: bound[3],
        state,
        stop,
        tasks,
    })
}

async fn accept_loop(
    listener: TcpListener,
    kind: Kind,
    state: Arc<State>,
    mut stop: watch::Receiver<bool>,
) {
    let local = listener.local_addr().ok();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.changed() => return,
        };
        let (stream, remote) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let state = Arc::clone(&state);
        let local = local.unwrap_or(remote);
        tokio::spawn(async move {
            let builder = http_builder(&state);
            let result = match kind {
                Kind::Reverse => match state.server_tls.clone() {
                    Some(acceptor) => {
                        let tls =
                            tokio::time::timeout(TLS_HANDSHAKE, acceptor.accept(stream)).await;
                        match tls {
                            Ok(Ok(tls)) => {
                                let certs = tls.get_ref().1.peer_certificates();
                                let tenant =
                                    crate::intercept::mtls::tenant_of(&state.config, certs);
                                let wire = negotiated(tls.get_ref().1.alpn_protocol());
                                let base = ConnInfo::accepted(remote, local, "reverse", tenant);
                                serve_pipeline(&builder, tls, wire, base, state).await
                            }
                            Ok(Err(e)) => {
                                tracing::debug!(%remote, "TLS handshake failed: {e}");
                                crate::intercept::handshake(
                                    &state, "reverse", "failed", remote, "-",
                                );
                                return;
                            }
                            Err(_) => return,
                        }
                    }
                    None => {
                        let base = ConnInfo::accepted(remote, local, "reverse", None);
                        serve_pipeline(&builder, stream, Wire::Auto, base, state).await
                    }
                },
                Kind::Forward => crate::intercept::connect::serve(state, stream, remote, local)
                    .await
                    .map_err(Into::into),
                Kind::Transparent => {
                    crate::intercept::transparent::serve(state, stream, remote, local).await;
                    Ok(())
                }
                Kind::Admin => {
                    let svc = service_fn(move |req| {
                        let state = Arc::clone(&state);
                        async move { Ok::<_, Infallible>(admin::handle(&state, req)) }
                    });
                    builder.serve_connection(TokioIo::new(stream), svc).await
                }
            };
            if let Err(e) = result {
                tracing::debug!(%remote, "connection ended with error: {e}");
            }
        });
    }
}

/// The connection builder every listener uses: hyper's head limits set to the framing guard's,
/// so a head one of them can read the other can too.
pub(crate) fn http_builder(state: &State) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .max_headers(state.config.limits.max_headers)
        .max_buf_size(MAX_HEAD);
    builder
}

/// What a TLS connection speaks by its ALPN: after `h2` only HTTP/2 (an invalid preface then
/// ends in a GOAWAY, never an HTTP/1.1 answer); after `http/1.1` only HTTP/1.1.
pub(crate) fn negotiated(alpn: Option<&[u8]>) -> Wire {
    match alpn {
        Some(b"h2") => Wire::Http2,
        Some(b"http/1.1") => Wire::Http1,
        _ => Wire::Auto,
    }
}

const TLS_HANDSHAKE: std::time::Duration = std::time::Duration::from_secs(10);

type ServeResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// Serves one connection's requests through the pipeline; `base` describes the connection.
pub(crate) async fn serve_pipeline<S>(
    builder: &auto::Builder<TokioExecutor>,
    stream: S,
    wire: Wire,
    base: ConnInfo,
    state: Arc<State>,
) -> ServeResult
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let max_headers = state.config.limits.max_headers;
    let (io, sniff) = Sniffed::new(stream, wire, false, max_headers);
    let svc = service_fn(move |req| {
        let conn = ConnInfo {
            framing: sniff.next_request(),
            ..base.clone()
        };
        let state = Arc::clone(&state);
        async move { Ok::<_, Infallible>(handle(state, conn, req).await) }
    });
    let builder = match wire {
        Wire::Auto => builder.clone(),
        Wire::Http1 => builder.clone().http1_only(),
        Wire::Http2 => builder.clone().http2_only(),
    };
    builder.serve_connection(TokioIo::new(io), svc).await
}
